//! `trailgate verify`: judges a revision range as if it were pushed.

use std::path::Path;

use super::*;

pub(super) fn verify(
    config: Option<&Path>,
    refname: Option<String>,
    format: Format,
    verbose: bool,
    ranges: &[String],
) -> Result<u8, Error> {
    let repo = repo::open_for_verify()?;
    let path = policy_path_for_tools(config)?;
    let policy = policy::load(&path)?;
    let refname = match refname {
        Some(name) if name.starts_with("refs/") => name,
        Some(name) => format!("refs/heads/{name}"),
        None => {
            let head = repo
                .head()
                .map_err(|e| Error::Usage(format!("cannot read HEAD ({e}); pass --ref REFNAME")))?;
            match head.name() {
                Ok(name) if head.is_branch() => name.to_owned(),
                _ => {
                    return Err(Error::Usage(
                        "HEAD is not on a branch; pass --ref REFNAME".into(),
                    ))
                }
            }
        }
    };
    let resolve = |spec: &str| -> Result<Oid, Error> {
        let object = repo
            .revparse_single(spec)
            .map_err(|source| RepoError::Revision {
                spec: spec.to_owned(),
                source,
            })?;
        let oid = object.id();
        repo::peel_to_commit(&repo, oid)?
            .ok_or_else(|| Error::Usage(format!("`{spec}` does not name a commit")))
    };
    let mut positive = Vec::new();
    let mut negative = Vec::new();
    // The ref's old value: the left side of the first `A..B`. Without one,
    // the ref is being created.
    let mut old = None;
    for range in ranges {
        if range.contains("...") {
            return Err(Error::Usage(format!(
                "`{range}`: symmetric ranges (A...B) are not supported; use A..B"
            )));
        }
        if let Some((from, to)) = range.split_once("..") {
            let from = resolve(if from.is_empty() { "HEAD" } else { from })?;
            old = old.or(Some(from));
            negative.push(from);
            positive.push(resolve(if to.is_empty() { "HEAD" } else { to })?);
        } else if let Some(rev) = range.strip_prefix('^') {
            negative.push(resolve(rev)?);
        } else {
            positive.push(resolve(range)?);
        }
    }
    if positive.is_empty() {
        return Err(Error::Usage(
            "no commit to judge: give a range such as origin/main..HEAD".into(),
        ));
    }
    let updates: Vec<RefUpdate> = positive
        .iter()
        .map(|&new| RefUpdate {
            old,
            new: Some(new),
            name: refname.clone(),
        })
        .collect();
    let pusher = identity::pusher_from_env(|k| std::env::var(k).ok());
    let ctx = Context {
        pusher: pusher.as_ref(),
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
        },
    );
    Ok(if judgement.rejects() {
        EXIT_REJECT
    } else {
        EXIT_ACCEPT
    })
}
