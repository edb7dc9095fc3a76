//! Opening the repository the way a pre-receive hook must, and reading refs
//! and objects from it.
//!
//! During pre-receive git keeps the pushed objects in a quarantine directory
//! (`GIT_QUARANTINE_PATH`, announced through `GIT_OBJECT_DIRECTORY` and
//! `GIT_ALTERNATE_OBJECT_DIRECTORIES`). libgit2 does not look there when a
//! repository is opened by path, so a hook that forgets it cannot see a single
//! new commit. [`open_for_hook`] adds those directories to the object database
//! explicitly.

use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository, RepositoryOpenFlags};
use thiserror::Error;

/// Why the repository or one of its objects could not be read.
#[derive(Debug, Error)]
pub enum RepoError {
    #[error("cannot open the git repository at {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },
    #[error("cannot open a git repository from the current directory or $GIT_DIR: {source}")]
    Discover {
        #[source]
        source: git2::Error,
    },
    #[error("cannot add the quarantine object directory {path}: {source}")]
    Quarantine {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },
    #[error("object {oid} is not in the repository (nor in the push's quarantine)")]
    MissingObject { oid: Oid },
    #[error("cannot read object {oid}: {source}")]
    Read {
        oid: Oid,
        #[source]
        source: git2::Error,
    },
    #[error("cannot list the repository's refs: {source}")]
    Refs {
        #[source]
        source: git2::Error,
    },
    #[error("object {oid} is a {kind}, not a commit")]
    NotACommit { oid: Oid, kind: String },
    #[error("commit {oid} cannot be parsed: {reason}")]
    BadCommit { oid: Oid, reason: String },
    #[error(
        "the push brings more than {limit} new commits (settings.max_commits): push the history in smaller parts, or ask an administrator to raise settings.max_commits"
    )]
    TooMany { limit: usize },
    #[error("`{spec}` does not name a revision in this repository: {source}")]
    Revision {
        spec: String,
        #[source]
        source: git2::Error,
    },
}

/// Opens the repository a pre-receive hook runs in (`$GIT_DIR`, or the
/// current directory, which git sets to the repository) and makes the push's
/// quarantined objects visible.
pub fn open_for_hook() -> Result<Repository, RepoError> {
    let git_dir = std::env::var_os("GIT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let repo = open_at(&git_dir)?;
    add_quarantine(&repo)?;
    Ok(repo)
}

/// Opens a repository by path without searching parent directories and
/// without reading `GIT_*` variables (the hook decides which it trusts).
pub fn open_at(path: &Path) -> Result<Repository, RepoError> {
    tune_libgit2();
    Repository::open_ext(
        path,
        RepositoryOpenFlags::NO_SEARCH,
        std::iter::empty::<&std::ffi::OsStr>(),
    )
    .map_err(|source| RepoError::Open {
        path: path.to_owned(),
        source,
    })
}

/// Opens the repository for `trailgate verify`: a normal clone or a bare
/// repository found from the current directory, honouring `$GIT_DIR` as git does.
pub fn open_for_verify() -> Result<Repository, RepoError> {
    tune_libgit2();
    Repository::open_from_env().map_err(|source| RepoError::Discover { source })
}

/// Process-wide libgit2 settings for reading a push's history once.
///
/// libgit2 keeps every commit and tree it reads in an object cache of up to
/// 256 MiB. trailgate reads each commit once in the walk and keeps what it
/// needs itself, so the cache only cost memory and time: on a
/// 100,000-commit push it held 256 MB of RSS and its bookkeeping (hashing,
/// evicting, freeing) took a fifth of the run.
fn tune_libgit2() {
    git2::opts::enable_caching(false);
}

/// The object directories git announces to a hook (the quarantine, the
/// repository's own), as the environment names them.
fn announced_object_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for var in ["GIT_QUARANTINE_PATH", "GIT_OBJECT_DIRECTORY"] {
        if let Some(dir) = std::env::var_os(var) {
            dirs.push(PathBuf::from(dir));
        }
    }
    if let Some(list) = std::env::var_os("GIT_ALTERNATE_OBJECT_DIRECTORIES") {
        dirs.extend(std::env::split_paths(&list));
    }
    dirs
}

/// Every object directory a hook reads from: the repository's own and
/// those git announced, each once (canonical paths).
pub fn object_dirs(git_dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let own = git_dir.join("objects");
    for dir in std::iter::once(own).chain(announced_object_dirs()) {
        if dir.as_os_str().is_empty() {
            continue;
        }
        let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
        if !out.contains(&dir) {
            out.push(dir);
        }
    }
    out
}

/// Adds every object directory git announced for this push as an alternate of
/// the repository's object database.
pub fn add_quarantine(repo: &Repository) -> Result<(), RepoError> {
    let dirs = announced_object_dirs();
    if dirs.is_empty() {
        return Ok(());
    }
    let odb = repo.odb().map_err(|source| RepoError::Quarantine {
        path: PathBuf::new(),
        source,
    })?;
    let own = repo.path().join("objects");
    let mut added: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        if dir.as_os_str().is_empty() {
            continue;
        }
        // Relative paths are relative to the hook's working directory, which
        // git sets to the repository.
        let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
        let is_own = std::fs::canonicalize(&own).is_ok_and(|o| o == dir);
        if is_own || added.contains(&dir) {
            continue;
        }
        odb.add_disk_alternate(&dir.to_string_lossy())
            .map_err(|source| RepoError::Quarantine {
                path: dir.clone(),
                source,
            })?;
        added.push(dir);
    }
    Ok(())
}

/// The commit an object id stands for: itself if it is a commit, the commit an
/// annotated tag (or chain of tags) points at, or `None` for trees and blobs.
pub fn peel_to_commit(repo: &Repository, oid: Oid) -> Result<Option<Oid>, RepoError> {
    // Raw object reads, not libgit2's object parser: a commit whose author
    // line libgit2 refuses must still be judged (as an unknown author), the
    // same at the tip as further down, and a tag is followed by its own
    // `object` line.
    let odb = repo
        .odb()
        .map_err(|source| RepoError::Read { oid, source })?;
    let mut current = oid;
    // A chain of tags longer than this is an attack, not a release process.
    for _ in 0..64 {
        let (_, kind) = odb.read_header(current).map_err(|e| missing(current, e))?;
        match kind {
            ObjectType::Commit => return Ok(Some(current)),
            ObjectType::Tag => {
                let object = odb.read(current).map_err(|e| missing(current, e))?;
                current = tag_target(object.data()).ok_or(RepoError::NotACommit {
                    oid: current,
                    kind: "damaged tag".into(),
                })?;
            }
            _ => return Ok(None),
        }
    }
    Err(RepoError::NotACommit {
        oid,
        kind: "tag chain deeper than 64 levels".into(),
    })
}

/// The object a tag object names on its first line (`object <hex>`).
fn tag_target(data: &[u8]) -> Option<Oid> {
    let hex = data.strip_prefix(b"object ")?.get(..40)?;
    Oid::from_str(std::str::from_utf8(hex).ok()?).ok()
}

/// Describes what kind of object `oid` is ("tree", "blob", ...), for messages.
pub fn kind_of(repo: &Repository, oid: Oid) -> Result<String, RepoError> {
    let odb = repo
        .odb()
        .map_err(|source| RepoError::Read { oid, source })?;
    let (_, kind) = odb.read_header(oid).map_err(|e| missing(oid, e))?;
    Ok(kind.str().to_owned())
}

/// Maps libgit2's "not found" to [`RepoError::MissingObject`] and everything
/// else to [`RepoError::Read`].
pub fn missing(oid: Oid, source: git2::Error) -> RepoError {
    if source.code() == git2::ErrorCode::NotFound {
        RepoError::MissingObject { oid }
    } else {
        RepoError::Read { oid, source }
    }
}

/// A ref that exists in the repository before the push, with the object it
/// points at (already peeled where packed-refs recorded it). The walk peels
/// annotated tags and ignores trees and blobs, so listing costs no object reads.
#[derive(Debug, Clone)]
pub struct ExistingRef {
    pub name: String,
    pub target: Oid,
}

/// Lists the direct refs that exist before the push.
pub fn existing_refs(repo: &Repository) -> Result<Vec<ExistingRef>, RepoError> {
    let mut out = Vec::new();
    let refs = repo
        .references()
        .map_err(|source| RepoError::Refs { source })?;
    for reference in refs {
        let reference = reference.map_err(|source| RepoError::Refs { source })?;
        if reference.kind() != Some(git2::ReferenceType::Direct) {
            continue;
        }
        let (Ok(name), Some(target)) = (reference.name(), reference.target()) else {
            continue;
        };
        out.push(ExistingRef {
            name: name.to_owned(),
            target: reference.target_peel().unwrap_or(target),
        });
    }
    Ok(out)
}
