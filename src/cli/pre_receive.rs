//! `trailgate pre-receive`: hook mode. Reads the ref updates on stdin,
//! judges the push, writes the audit log and the report.

use std::path::Path;

use super::*;
use crate::push::{Identified, Pusher};
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
    let policy = crate::rules::load_for_judging(&path)?;
    warn_stale_directory(&policy, prefix);
    let only = policy.settings.host.as_deref();
    let mut notes: Vec<String> = Vec::new();
    let ignored = host::ignored_variables(env, only);
    if let (Some(host), false) = (only, ignored.is_empty()) {
        notes.push(format!(
            "settings.host = \"{host}\": ignored {}, which another host sets",
            ignored.join(", ")
        ));
    }
    let updates = match parsed {
        Ok(updates) => updates,
        Err(error) => {
            let message = error.to_string();
            // No updates to check a push certificate against: the pusher is
            // as the host says.
            let info = audit_info(env, &git_dir, &policy, host::pusher(env, only), notes);
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
    // The repository git runs the hook in (`GIT_DIR`, else the working
    // directory git set), with the push's quarantined objects.
    let repo_dir = env
        .get_os("GIT_DIR")
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    let repo = Repo::open_with(&repo_dir, &env.object_dirs()).map_err(Error::from);
    let mut pusher = host::pusher(env, only);
    if let Ok(repo) = &repo {
        pusher = certified(repo, &policy, &updates, pusher, &mut notes);
    }
    for note in &notes {
        let _ = writeln!(std::io::stderr(), "{prefix}trailgate: note: {note}");
    }
    let pusher_variables = host::pusher_variables(only);
    let repository_variables = host::repository_variables(only);
    let repository =
        host::repository_name(env, &git_dir, policy.settings.repos_root.as_deref(), only);
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
        namespace: env.value("GIT_NAMESPACE").map(str::to_owned),
    };
    let judged = repo
        .and_then(|repo| Ok(engine::judge(&repo, &policy, &updates, &ctx)?))
        .map(|mut judgement| {
            let pushed = PushedBy::new(&policy, pusher.as_ref(), &pusher_variables);
            crate::rules::apply_override(&mut judgement, &policy, &pushed, &env.push_options());
            judgement
        });
    // Every ref update judged goes to the audit log, rejected or not, and so
    // does a push that could not be judged once a policy was loaded.
    let info = audit_info(env, &git_dir, &policy, pusher.clone(), notes);
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

/// The pusher a signed push certificate names, once trailgate has verified
/// it itself against the people's keys and the updates pushed
/// ([`crate::facts::push_cert`]); any other pusher as it is. A certificate
/// that does not verify names nobody, and a note says why.
fn certified(
    repo: &Repo,
    policy: &crate::rules::Policy,
    updates: &[RefUpdate],
    pusher: Option<Pusher>,
    notes: &mut Vec<String>,
) -> Option<Pusher> {
    let p = pusher?;
    if p.by != Identified::Certificate {
        return Some(p);
    }
    let blob = crate::git::oid::ObjectId::from_hex(p.login.as_bytes()).and_then(|oid| {
        repo.objects()
            .ok()?
            .read(oid)
            .ok()
            .map(|o| o.data().to_vec())
    });
    let Some(blob) = blob else {
        notes.push(format!(
            "GIT_PUSH_CERT names {}, which is no object of this repository: the push names no pusher",
            p.login
        ));
        return Some(p);
    };
    match crate::facts::push_cert::verify(&policy.keys, &blob, updates) {
        Ok((_, fingerprint)) => Some(Pusher {
            login: fingerprint,
            by: Identified::SigningKey,
            ..p
        }),
        Err(problem) => {
            notes.push(format!("{problem}: the push names no pusher"));
            Some(p)
        }
    }
}

/// Who pushed where, for the audit log: as the host says (`pusher`, after
/// a push certificate is verified), except that a signed push names the
/// person whose key signed it (the policy's id, with the fingerprint
/// beside it as `pusher_key`), and nobody when the key is no one's: never
/// the fingerprint alone; a certificate that did not verify names nobody.
fn audit_info(
    env: &HookEnv,
    git_dir: &Path,
    policy: &crate::rules::Policy,
    pusher: Option<Pusher>,
    notes: Vec<String>,
) -> push::PushInfo {
    let only = policy.settings.host.as_deref();
    let mut info = host::push_info(env, git_dir, policy.settings.repos_root.as_deref(), only);
    info.notes = notes;
    info.pusher = match pusher {
        Some(p) if p.by == Identified::SigningKey => {
            let person = match crate::rules::identify_pusher(policy, &p) {
                crate::facts::identity::Who::Person(i) => {
                    policy.directory.person(i).map(|person| person.id.clone())
                }
                _ => None,
            };
            info.pusher_key = Some(p.login.clone());
            person.map(|login| Pusher { login, ..p })
        }
        // A certificate trailgate did not verify names nobody (a note says
        // why): not its blob's id as if it were a login.
        Some(p) if p.by == Identified::Certificate => None,
        other => other,
    };
    info
}
