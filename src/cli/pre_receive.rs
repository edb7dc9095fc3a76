//! `trailgate pre-receive`: hook mode. Reads the ref updates on stdin,
//! judges the push, writes the audit log and the report.

use std::path::Path;

use super::*;
use crate::rules::PushedBy;

pub(super) fn pre_receive(
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
    let git_dir = git_dir_from_env();
    let path = policy::discover(
        config,
        std::env::var_os("TRAILGATE_CONFIG").map(PathBuf::from),
        &git_dir,
    )?;
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    let policy = crate::rules::load(&path)?;
    let pusher = identity::pusher_from_env(|k| std::env::var(k).ok());
    let ctx = Context {
        pusher: pusher.as_ref(),
        pusher_variables: identity::PUSHER_VARIABLES,
        baseline: Baseline::ExistingRefs,
        deadline: Deadline::from_budget(started, policy.settings.time_budget_ms),
        quarantined: std::env::var_os("GIT_QUARANTINE_PATH").is_some(),
    };
    let judged = Repo::open_for_hook()
        .map_err(Error::from)
        .and_then(|repo| Ok(engine::judge(&repo, &policy, &updates, &ctx)?))
        .map(|mut judgement| {
            let pushed = PushedBy::new(&policy, pusher.as_ref(), identity::PUSHER_VARIABLES);
            crate::rules::apply_override(&mut judgement, &policy, &pushed, &push_options());
            judgement
        });
    // Every ref update judged goes to the audit log, rejected or not, and so
    // does a push that could not be judged once a policy was loaded.
    let info = crate::report::audit::PushInfo::from_env(&git_dir, |k| std::env::var(k).ok());
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

/// The push options git passes to the hook (`git push -o ...`, which needs
/// `receive.advertisePushOptions` on the server).
fn push_options() -> Vec<String> {
    let count = std::env::var("GIT_PUSH_OPTION_COUNT")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .unwrap_or(0);
    // git caps push options far below this; a larger count is not git's.
    (0..count.min(1000))
        .filter_map(|i| std::env::var(format!("GIT_PUSH_OPTION_{i}")).ok())
        .collect()
}
