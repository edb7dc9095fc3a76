//! `trailgate pre-receive`: hook mode. Reads the ref updates on stdin,
//! judges the push, writes the audit log and the report.

use std::path::Path;

use super::*;
use crate::rules::PushedBy;

pub(super) fn pre_receive(
    env: &HookEnv,
    config: Option<&Path>,
    format: Format,
    verbose: bool,
    prefix: &str,
) -> Result<u8, Error> {
    let started = std::time::Instant::now();
    let wall = std::time::SystemTime::now();
    let input = read_stdin()?;
    let updates = push::parse(&input)?;
    if updates.is_empty() {
        return Ok(EXIT_ACCEPT);
    }
    let git_dir = env.git_dir();
    let path = policy::discover(
        config,
        env.get_os("TRAILGATE_CONFIG").map(PathBuf::from),
        &git_dir,
    )?;
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    let policy = crate::rules::load_for_judging(&path)?;
    warn_stale_directory(&policy, prefix);
    let pusher = host::pusher(env);
    let pusher_variables = host::pusher_variables();
    let ctx = Context {
        pusher: pusher.as_ref(),
        pusher_variables: &pusher_variables,
        baseline: Baseline::ExistingRefs,
        deadline: Deadline::from_budget(started, policy.settings.time_budget_ms),
        quarantined: env.quarantined(),
    };
    // The repository git runs the hook in (`GIT_DIR`, else the working
    // directory git set), with the push's quarantined objects.
    let repo_dir = env
        .get_os("GIT_DIR")
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    let judged = Repo::open_with(&repo_dir, &env.object_dirs())
        .map_err(Error::from)
        .and_then(|repo| Ok(engine::judge(&repo, &policy, &updates, &ctx)?))
        .map(|mut judgement| {
            let pushed = PushedBy::new(&policy, pusher.as_ref(), &pusher_variables);
            crate::rules::apply_override(&mut judgement, &policy, &pushed, &env.push_options());
            judgement
        });
    // Every ref update judged goes to the audit log, rejected or not, and so
    // does a push that could not be judged once a policy was loaded.
    let info = host::push_info(env, &git_dir);
    let failure = judged.as_ref().err().map(ToString::to_string);
    let outcome = match (&judged, &failure) {
        (Ok(j), _) => crate::report::audit::Outcome::Judged(j),
        (Err(_), f) => crate::report::audit::Outcome::Failed(f.as_deref().unwrap_or_default()),
    };
    let audited = crate::report::audit::record_push(
        &policy.settings,
        &info,
        &updates,
        outcome,
        wall,
        started.elapsed(),
        prefix,
    );
    let judgement = judged?;
    emit(
        &judgement,
        format,
        &TextOptions {
            prefix: prefix.to_owned(),
            policy: path.display().to_string(),
            verify: false,
            verbose,
        },
    );
    audited?;
    Ok(if judgement.rejects() {
        EXIT_REJECT
    } else {
        EXIT_ACCEPT
    })
}
