//! `trailgate verify`: judges a revision range as if it were pushed.

use std::path::Path;

use super::*;

pub(super) fn verify(
    env: &HookEnv,
    config: Option<&Path>,
    refname: Option<String>,
    format: Format,
    verbose: bool,
    ranges: &[String],
) -> Result<u8, Error> {
    let repo = Repo::discover()?;
    let path = policy_path_for_tools(env, config)?;
    let policy = crate::rules::load(&path)?;
    let refname = match refname {
        Some(name) if name.starts_with("refs/") => name,
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
    } = revision::ranges(&repo, ranges)?;
    let updates: Vec<RefUpdate> = positive
        .iter()
        .map(|&new| RefUpdate {
            old,
            new: Some(new),
            name: refname.clone(),
        })
        .collect();
    let only = policy.settings.host.as_deref();
    let pusher = host::pusher(env, only);
    let pusher_variables = host::pusher_variables(only);
    let ctx = Context {
        pusher: pusher.as_ref(),
        pusher_variables: &pusher_variables,
        baseline: Baseline::Explicit(negative),
        deadline: None,
        quarantined: false,
        namespace: None,
    };
    let judgement = engine::judge(&repo, &policy, &updates, &ctx)?;
    emit(
        &judgement,
        format,
        &TextOptions {
            prefix: String::new(),
            policy: path.display().to_string(),
            verify: true,
            verbose,
            recorded: None,
            contact: policy.settings.contact.clone(),
        },
    );
    Ok(if judgement.rejects() {
        EXIT_REJECT
    } else {
        EXIT_ACCEPT
    })
}
