//! Compiled glob lists for `refs`, `repos` and `when.touches`.

use globset::GlobSet;

/// A list of globs (`refs`, `when.touches`): `*` stays inside one path
/// segment, `**` crosses segments.
#[derive(Debug)]
pub struct Globs {
    pub patterns: Vec<String>,
    pub(super) set: GlobSet,
}

impl Globs {
    /// Whether a full ref name matches.
    pub fn matches(&self, refname: &str) -> bool {
        self.set.is_match(refname)
    }

    /// Whether a repository path (bytes, as git stores it) matches.
    pub fn matches_path(&self, path: &[u8]) -> bool {
        self.set.is_match(String::from_utf8_lossy(path).as_ref())
    }
}

pub type RefPatterns = Globs;
pub type PathPatterns = Globs;
pub type RepoPatterns = Globs;
