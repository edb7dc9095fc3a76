//! `trailgate verify`: judges a revision range as if it were pushed.
//!
//! Off the server nothing authenticates the pusher, so rules about who
//! pushes are judged for an assumed one ([`assumed_pusher`]) and the report
//! says that the server decides them.

use std::path::Path;

use super::*;
use crate::push::{Identified, Pusher};

/// What `verify` was asked.
pub(super) struct Args<'a> {
    pub config: Option<&'a Path>,
    pub refname: Option<String>,
    /// `--pusher LOGIN`.
    pub pusher: Option<String>,
    pub format: Format,
    pub verbose: bool,
    pub ranges: &'a [String],
    /// `--repo NAME`: the server's name for the repository.
    pub repo: Option<&'a str>,
}

pub(super) fn verify(env: &HookEnv, args: &Args<'_>) -> Result<u8, Error> {
    let repo = Repo::discover()?;
    let path = policy_path_for_tools(env, args.config)?;
    let policy = crate::rules::load_for_judging(&path)?;
    warn_stale_directory(&policy, "");
    let refname = match &args.refname {
        Some(name) if name.starts_with("refs/") => name.clone(),
        Some(name) => format!("refs/heads/{name}"),
        None => repo
            .refs()
            .current_branch()?
            .ok_or_else(|| Error::Usage("HEAD is not on a branch; pass --ref REFNAME".into()))?,
    };
    let Ranges {
        positive,
        negative,
        old,
    } = revision::ranges(&repo, args.ranges)?;
    let updates: Vec<RefUpdate> = positive
        .iter()
        .map(|&new| RefUpdate {
            old,
            new: Some(new),
            name: refname.clone(),
        })
        .collect();
    let only = policy.settings.host.as_deref();
    let pusher = assumed_pusher(env, args.pusher.as_deref(), only, |key| {
        repo.config_value(key)
    });
    let pusher_variables = host::pusher_variables(only);
    let repository_variables = host::repository_variables(only);
    // `--repo` names the repository the commits would be pushed to; a
    // clone's own path says nothing about the server's name for it.
    let repository = args.repo.map(str::to_owned).or_else(|| {
        host::repository_name(
            env,
            repo.path(),
            policy.settings.repos_root.as_deref(),
            only,
        )
    });
    let ctx = Context {
        pusher: pusher.as_ref(),
        pusher_variables: &pusher_variables,
        repository: crate::rules::Where {
            name: repository.as_deref(),
            looked_at: &repository_variables,
        },
        baseline: Baseline::Explicit(negative),
        deadline: None,
        quarantined: false,
        namespace: None,
    };
    let judgement = engine::judge(&repo, &policy, &updates, &ctx)?;
    emit(
        &judgement,
        args.format,
        &TextOptions {
            prefix: String::new(),
            policy: path.display().to_string(),
            verify: true,
            verbose: args.verbose,
            recorded: None,
            contact: policy.settings.contact.clone(),
        },
    );
    if args.format == Format::Text {
        let about_pusher: Vec<&str> = policy
            .rules
            .iter()
            .filter(|r| r.mode != Mode::Off && r.applies_to(&refname))
            .filter(|r| crate::rules::depends_on_pusher(r))
            .map(|r| r.name.as_str())
            .collect();
        if let Some(note) = pusher_note(&about_pusher, pusher.as_ref()) {
            let _ = std::io::stderr().write_all(note.as_bytes());
        }
    }
    Ok(if judgement.rejects() {
        EXIT_REJECT
    } else {
        EXIT_ACCEPT
    })
}

/// Who `verify` judges the commits as pushed by, first found: `--pusher`,
/// a git host's pusher variable (when `verify` runs where a host set one),
/// `git config trailgate.pusher` (read through `config`), the local account
/// (`$USER`, `$LOGNAME`). A login, as a host would report it.
pub(super) fn assumed_pusher(
    env: &HookEnv,
    given: Option<&str>,
    only: Option<&str>,
    config: impl Fn(&str) -> Option<String>,
) -> Option<Pusher> {
    let login = |login: &str, source: &'static str| {
        let login = login.trim();
        (!login.is_empty()).then(|| Pusher {
            login: login.to_owned(),
            email: None,
            source,
            by: Identified::Login,
            user_id: None,
            // Assumed on the client, not named by a host.
            host: "client",
        })
    };
    if let Some(given) = given {
        return login(given, "--pusher");
    }
    host::pusher(env, only)
        .or_else(|| {
            config("trailgate.pusher").and_then(|l| login(&l, "git config trailgate.pusher"))
        })
        .or_else(|| env.value("USER").and_then(|l| login(l, "$USER")))
        .or_else(|| env.value("LOGNAME").and_then(|l| login(l, "$LOGNAME")))
}

/// The line that says how rules about the pusher were judged, when some
/// rule for the ref depends on who pushes.
fn pusher_note(rules: &[&str], pusher: Option<&Pusher>) -> Option<String> {
    if rules.is_empty() {
        return None;
    }
    let names = rules
        .iter()
        .map(|r| format!("`{r}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let how = match pusher {
        Some(p) => format!("were judged as if {} pushed ({})", p.login, p.source),
        None => "could not be judged: no pusher is known here (pass --pusher LOGIN, or git config trailgate.pusher LOGIN)".to_owned(),
    };
    Some(format!(
        "trailgate: note: rules that depend on who pushes ({names}) {how}; the server decides them by who really pushes\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> HookEnv {
        HookEnv::from_pairs(vars.iter().copied())
    }

    fn who(p: Option<Pusher>) -> Option<(String, &'static str)> {
        p.map(|p| (p.login, p.source))
    }

    #[test]
    fn the_pusher_is_the_option_then_a_host_then_git_config_then_the_account() {
        let config = |key: &str| (key == "trailgate.pusher").then(|| "alice".to_owned());
        let none = |_: &str| None;
        let all = env(&[("USER", "pat"), ("LOGNAME", "pat2"), ("GL_USER", "gl")]);
        assert_eq!(
            who(assumed_pusher(&all, Some(" bob "), None, config)),
            Some(("bob".into(), "--pusher"))
        );
        assert_eq!(
            who(assumed_pusher(&all, None, None, config)),
            Some(("gl".into(), "GL_USER"))
        );
        let local = env(&[("USER", "pat"), ("LOGNAME", "pat2")]);
        assert_eq!(
            who(assumed_pusher(&local, None, None, config)),
            Some(("alice".into(), "git config trailgate.pusher"))
        );
        assert_eq!(
            who(assumed_pusher(&local, None, None, none)),
            Some(("pat".into(), "$USER"))
        );
        assert_eq!(
            who(assumed_pusher(
                &env(&[("LOGNAME", "pat2")]),
                None,
                None,
                none
            )),
            Some(("pat2".into(), "$LOGNAME"))
        );
        assert_eq!(who(assumed_pusher(&env(&[]), None, None, none)), None);
        // An empty --pusher names nobody rather than falling back.
        assert_eq!(who(assumed_pusher(&local, Some(""), None, config)), None);
    }

    #[test]
    fn the_note_names_the_rules_and_the_assumed_pusher_only_when_a_rule_needs_one() {
        assert_eq!(pusher_note(&[], None), None);
        let p = Pusher {
            login: "alice".into(),
            email: None,
            source: "--pusher",
            by: Identified::Login,
            user_id: None,
            host: "client",
        };
        let note = pusher_note(&["senior-pushes"], Some(&p)).unwrap();
        assert!(
            note.contains("(`senior-pushes`) were judged as if alice pushed (--pusher)"),
            "{note}"
        );
        assert!(note.contains("the server decides them"), "{note}");
        let none = pusher_note(&["senior-pushes"], None).unwrap();
        assert!(none.contains("pass --pusher LOGIN"), "{none}");
    }
}
