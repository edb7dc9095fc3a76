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
    repo_name: Option<&str>,
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
    let pusher = host::pusher(env);
    let pusher_variables = host::pusher_variables();
    let repository_variables = host::repository_variables();
    // `--repo` names the repository the commits would be pushed to; a
    // clone's own path says nothing about the server's name for it.
    let repository = repo_name
        .map(str::to_owned)
        .or_else(|| host::repository_name(env, repo.path(), policy.settings.repos_root.as_deref()));
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
