//! Revisions as a user names them on the command line (`HEAD~2`,
//! `origin/main`), and the ranges `trailgate verify` judges (`A..B`, `B ^C`).

use thiserror::Error;

use crate::git::oid::ObjectId;
use crate::git::repo::{GitError, Repo, RepoError};

/// Why a revision or range names nothing to judge.
#[derive(Debug, Error)]
pub enum RevisionError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error("`{0}` does not name a commit")]
    NotACommit(String),
    #[error("`{0}`: symmetric ranges (A...B) are not supported; use A..B")]
    Symmetric(String),
    #[error("no commit to judge: give a range such as origin/main..HEAD")]
    Empty,
}

/// The commit a revision names (a tag is peeled to its commit).
pub fn resolve_commit(repo: &Repo, spec: &str) -> Result<ObjectId, RevisionError> {
    let revision = |source: GitError| {
        if source.is_not_found() {
            RepoError::UnknownRevision {
                spec: spec.to_owned(),
            }
        } else {
            RepoError::Revision {
                spec: spec.to_owned(),
                source,
            }
        }
    };
    let oid = match repo.git2() {
        Some(git2) => ObjectId::from(
            git2.revparse_single(spec)
                .map_err(|e| revision(e.into()))?
                .id(),
        ),
        // libgit2 cannot read the repository: git names the revision.
        None => {
            let out = crate::git::refs::git_output(
                Some(repo.path()),
                &["rev-parse", "--verify", "-q", "--end-of-options", spec],
            )
            .map_err(revision)?;
            let hex = String::from_utf8_lossy(&out);
            let oid = repo
                .hash_kind()
                .parse_hex(hex.trim().as_bytes())
                .ok_or_else(|| {
                    revision(GitError::Git(format!(
                        "git rev-parse answered `{}`",
                        hex.trim()
                    )))
                })?;
            // A full hex id is taken as it is, even when no such object
            // exists (as libgit2 does not).
            if !repo.objects()?.exists(oid) {
                return Err(revision(GitError::NotFound).into());
            }
            oid
        }
    };
    repo.peel_to_commit(oid)?
        .ok_or_else(|| RevisionError::NotACommit(spec.to_owned()))
}

/// The commits of a list of ranges, as `git rev-list` reads them.
#[derive(Debug, Default)]
pub struct Ranges {
    /// Tips whose history is judged.
    pub positive: Vec<ObjectId>,
    /// Tips whose history is left out.
    pub negative: Vec<ObjectId>,
    /// The left side of the first `A..B`: the ref's old value. Without one,
    /// the ref is being created.
    pub old: Option<ObjectId>,
}

/// Reads `A..B` (B's commits not in A, an update of the ref from A), `^C`
/// (leave C's out) and `B` (all of B's history).
pub fn ranges(repo: &Repo, ranges: &[String]) -> Result<Ranges, RevisionError> {
    let mut out = Ranges::default();
    for range in ranges {
        if range.contains("...") {
            return Err(RevisionError::Symmetric(range.clone()));
        }
        if let Some((from, to)) = range.split_once("..") {
            let from = resolve_commit(repo, if from.is_empty() { "HEAD" } else { from })?;
            out.old = out.old.or(Some(from));
            out.negative.push(from);
            out.positive.push(resolve_commit(
                repo,
                if to.is_empty() { "HEAD" } else { to },
            )?);
        } else if let Some(rev) = range.strip_prefix('^') {
            out.negative.push(resolve_commit(repo, rev)?);
        } else {
            out.positive.push(resolve_commit(repo, range)?);
        }
    }
    if out.positive.is_empty() {
        return Err(RevisionError::Empty);
    }
    Ok(out)
}
