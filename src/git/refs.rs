//! Refs: the names a repository has before the push, read through one
//! interface ([`RefStore`]) so that another ref storage (reftable) can sit
//! behind it, and the ref-name rules git applies to a push.

use git2::Repository;

use crate::git::oid::ObjectId;
use crate::git::repo::RepoError;

/// A ref that exists in the repository before the push, with the object it
/// points at (already peeled where the store recorded it). The walk peels
/// annotated tags and ignores trees and blobs, so listing costs no object reads.
#[derive(Debug, Clone)]
pub struct ExistingRef {
    pub name: String,
    pub target: ObjectId,
}

/// How refs are read.
pub trait RefStore {
    /// The direct refs that exist (symbolic refs are left out: what they
    /// point at is listed under its own name).
    fn existing(&self) -> Result<Vec<ExistingRef>, RepoError>;

    /// The ref a symbolic ref points at (`HEAD` -> `refs/heads/main`), one
    /// level; `None` for a direct ref or one that does not exist.
    fn symbolic_target(&self, name: &str) -> Result<Option<String>, RepoError>;

    /// The branch `HEAD` is on; `None` when it is detached.
    fn current_branch(&self) -> Result<Option<String>, RepoError>;
}

/// Loose refs and `packed-refs`, read through libgit2.
pub struct FilesRefs<'r> {
    repo: &'r Repository,
}

impl<'r> FilesRefs<'r> {
    pub(in crate::git) fn new(repo: &'r Repository) -> Self {
        FilesRefs { repo }
    }
}

impl RefStore for FilesRefs<'_> {
    fn existing(&self) -> Result<Vec<ExistingRef>, RepoError> {
        let mut out = Vec::new();
        let refs = self
            .repo
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
                target: ObjectId::from(reference.target_peel().unwrap_or(target)),
            });
        }
        Ok(out)
    }

    fn symbolic_target(&self, name: &str) -> Result<Option<String>, RepoError> {
        match self.repo.find_reference(name) {
            Ok(r) if r.kind() == Some(git2::ReferenceType::Symbolic) => {
                Ok(r.symbolic_target().ok().flatten().map(str::to_owned))
            }
            Ok(_) => Ok(None),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(source) => Err(RepoError::Refs { source }),
        }
    }

    fn current_branch(&self) -> Result<Option<String>, RepoError> {
        let head = self
            .repo
            .head()
            .map_err(|source| RepoError::Head { source })?;
        Ok(match head.name() {
            Ok(name) if head.is_branch() => Some(name.to_owned()),
            _ => None,
        })
    }
}

/// A full ref name as git would accept it in a push: starts with `refs/`,
/// and passes git's `check-ref-format` rules (libgit2 implements them).
pub fn valid_push_name(name: &str) -> bool {
    name.starts_with("refs/")
        && !name.bytes().any(|b| b.is_ascii_control())
        && git2::Reference::is_valid_name(name)
}
