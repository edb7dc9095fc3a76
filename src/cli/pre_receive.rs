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
    // What stdin says is read before the policy, but a push refused for it
    // is refused after the policy is loaded, so that it gets its audit line.
    let parsed = read_stdin().and_then(|input| Ok(push::parse(&input)?));
    if parsed.as_ref().is_ok_and(Vec::is_empty) {
        // Nothing to judge; a machine asking for JSON still gets its object.
        if format == Format::Json {
            emit(
                &crate::verdict::Judgement::default(),
                format,
                &TextOptions::default(),
            );
        }
        return Ok(EXIT_ACCEPT);
    }
    let git_dir = env.git_dir();
    let path = policy::discover(
        config,
        env.get_os("TRAILGATE_CONFIG").map(PathBuf::from),
        &git_dir,
    )?;
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    let policy = crate::rules::load(&path)?;
    let info = audit_info(env, &git_dir, &policy);
    let updates = match parsed {
        Ok(updates) => updates,
        Err(error) => {
            let message = error.to_string();
            // The push is refused either way; a log that cannot be written
            // does not hide why.
            let _ = crate::report::audit::record_push(
                &policy.settings,
                &info,
                &[],
                crate::report::audit::Outcome::Failed(&message),
                wall,
                started.elapsed(),
                prefix,
            );
            return Err(error);
        }
    };
    let pusher = host::pusher(env);
    let pusher_variables = host::pusher_variables();
    let repository_variables = host::repository_variables();
    let repository = host::repository_name(env, &git_dir, policy.settings.repos_root.as_deref());
    let ctx = Context {
        pusher: pusher.as_ref(),
        pusher_variables: &pusher_variables,
        repository: crate::rules::Where {
            name: repository.as_deref(),
            looked_at: &repository_variables,
        },
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
    let contact = policy.settings.contact.clone();
    let judgement = match judged {
        Ok(j) => j,
        // Whom to ask ends this rejection too.
        Err(error) => {
            return Err(match contact {
                Some(contact) => Error::WithContact {
                    error: Box::new(error),
                    contact,
                },
                None => error,
            })
        }
    };
    let (recorded, audit_error) = match audited {
        Ok(recorded) => (recorded, None),
        // Exactly one JSON object: the error, not the judgement and then the error.
        Err(e) if format == Format::Json => return Err(e.into()),
        Err(e) => (crate::report::audit::Recorded::Failed, Some(e)),
    };
    emit(
        &judgement,
        format,
        &TextOptions {
            prefix: prefix.to_owned(),
            policy: path.display().to_string(),
            verify: false,
            verbose,
            recorded: Some(recorded),
            contact,
        },
    );
    if let Some(e) = audit_error {
        return Err(e.into());
    }
    Ok(if judgement.rejects() {
        EXIT_REJECT
    } else {
        EXIT_ACCEPT
    })
}

/// Who pushed where, for the audit log: as the host says, except that a
/// signed push names the person whose key signed it (the policy's id, with
/// the fingerprint beside it as `pusher_key`), and nobody when the key is
/// no one's: never the fingerprint alone.
fn audit_info(env: &HookEnv, git_dir: &Path, policy: &crate::rules::Policy) -> push::PushInfo {
    let mut info = host::push_info(env, git_dir, policy.settings.repos_root.as_deref());
    if let Some(p) = info.pusher.take() {
        if p.by == push::Identified::SigningKey {
            let person = match crate::rules::identify_pusher(policy, &p) {
                crate::facts::identity::Who::Person(i) => policy
                    .directory
                    .people
                    .get(i)
                    .map(|person| person.id.clone()),
                _ => None,
            };
            info.pusher_key = Some(p.login.clone());
            info.pusher = person.map(|login| push::Pusher { login, ..p });
        } else {
            info.pusher = Some(p);
        }
    }
    info
}
