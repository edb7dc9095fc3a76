//! A repository's formats, as its own `config` declares them: the hash of
//! its object names (`extensions.objectFormat`) and its ref storage
//! (`extensions.refStorage`). Read from the file, never from the
//! environment, the way git reads them when it opens a repository.

use std::path::Path;

use crate::git::oid::HashKind;
use crate::git::repo::RepoError;

/// How a repository stores what trailgate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    /// `extensions.objectFormat` (SHA-1 when unset).
    pub objects: HashKind,
    /// `extensions.refStorage = reftable` (else loose refs and `packed-refs`).
    pub reftable: bool,
}

impl Format {
    /// Reads the repository's own `config` the way git does when it opens
    /// a repository: the extensions count only in format version 1.
    pub fn of(git_dir: &Path) -> Result<Format, RepoError> {
        let version = config_string(git_dir, "core.repositoryformatversion");
        let v1 = version.as_deref().map(str::trim) == Some("1");
        let objects = match config_string(git_dir, "extensions.objectformat").filter(|_| v1) {
            None => HashKind::Sha1,
            Some(name) => HashKind::from_name(name.trim()).ok_or(RepoError::ObjectFormat {
                path: git_dir.to_owned(),
                format: name,
            })?,
        };
        let reftable = match config_string(git_dir, "extensions.refstorage").filter(|_| v1) {
            None => false,
            Some(name) if name.trim().eq_ignore_ascii_case("files") => false,
            Some(name) if name.trim().eq_ignore_ascii_case("reftable") => true,
            Some(name) => {
                return Err(RepoError::RefFormat {
                    path: git_dir.to_owned(),
                    format: name,
                })
            }
        };
        Ok(Format { objects, reftable })
    }

    /// True for the format libgit2 reads (SHA-1 objects, files refs).
    pub(in crate::git) fn libgit2_reads(self) -> bool {
        self.objects == HashKind::Sha1 && !self.reftable
    }
}

/// A configuration value from a repository's own `config` file (not the
/// user's or the system's).
pub fn config_string(git_dir: &Path, key: &str) -> Option<String> {
    let config = git2::Config::open(&git_dir.join("config")).ok()?;
    config.get_string(key).ok().filter(|s| !s.is_empty())
}
