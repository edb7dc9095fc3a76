//! Compiled glob lists for `refs`, `repos` and `when.touches`.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// A list of globs (`refs`, `when.touches`): `*` stays inside one path
/// segment, `**` crosses segments.
#[derive(Debug)]
pub struct Globs {
    pub patterns: Vec<String>,
    pub(super) set: GlobSet,
    /// The directories on the way to a match: for each pattern, its leading
    /// segments (`infra` and `infra/x` for `infra/x/**`). A symbolic link or
    /// a submodule at such a path is, for whatever reads the checkout, a
    /// directory whose contents the pattern matches (see
    /// [`Globs::matches_entry`]). `None` when a prefix does not compile on
    /// its own (a `/` inside braces or a class): then every link and
    /// submodule may stand for such a directory.
    dirs: Option<GlobSet>,
}

impl Globs {
    /// Compiles the list; `set` holds `patterns` compiled with the options
    /// `build` gives.
    pub(super) fn new(
        patterns: Vec<String>,
        set: GlobSet,
        build: impl Fn(&str) -> Result<globset::Glob, globset::Error>,
    ) -> Globs {
        let dirs = prefixes(&patterns, build);
        Globs {
            patterns,
            set,
            dirs,
        }
    }

    /// Whether a full ref name matches.
    pub fn matches(&self, refname: &str) -> bool {
        self.set.is_match(refname)
    }

    /// Whether a repository path (bytes, as git stores it) matches.
    pub fn matches_path(&self, path: &[u8]) -> bool {
        self.set.is_match(String::from_utf8_lossy(path).as_ref())
    }

    /// Whether a tree entry a diff changed, with git's canonical `mode`,
    /// touches these globs: its path matches, or it is a symbolic link or a
    /// submodule (gitlink) at a path that the globs would enter as a
    /// directory. `deploy -> src` makes every change under `src/` one under
    /// `deploy/`, and bumping a submodule at `infra` changes `infra/**`
    /// wholesale, though neither path is itself under the directory.
    pub fn matches_entry(&self, path: &[u8], mode: u32) -> bool {
        if self.matches_path(path) {
            return true;
        }
        if !stands_for_a_directory(mode) {
            return false;
        }
        match &self.dirs {
            Some(dirs) => dirs.is_match(String::from_utf8_lossy(path).as_ref()),
            None => true,
        }
    }
}

/// A symbolic link (`0o120000`) or a gitlink (`0o160000`): what a checkout
/// (or a submodule update) can turn into a directory.
fn stands_for_a_directory(mode: u32) -> bool {
    matches!(mode & 0o170000, 0o120000 | 0o160000)
}

/// The leading segments of every pattern, compiled as one set (see
/// [`Globs::dirs`]).
fn prefixes(
    patterns: &[String],
    build: impl Fn(&str) -> Result<globset::Glob, globset::Error>,
) -> Option<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        // Every `/` but a last one ends a prefix.
        let ends = pattern
            .char_indices()
            .filter(|&(_, c)| c == '/')
            .map(|(i, _)| i);
        for end in ends {
            match pattern.get(..end) {
                Some(prefix) if !prefix.is_empty() => {
                    builder.add(build(prefix).ok()?);
                }
                _ => {}
            }
        }
    }
    builder.build().ok()
}

/// How `refs`, `repos` and `touches` patterns are compiled.
pub(super) fn build(pattern: &str) -> Result<globset::Glob, globset::Error> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

pub type RefPatterns = Globs;
pub type PathPatterns = Globs;
pub type RepoPatterns = Globs;

#[cfg(test)]
mod tests {
    use super::*;

    fn globs(patterns: &[&str]) -> Globs {
        let mut set = GlobSetBuilder::new();
        for p in patterns {
            set.add(build(p).unwrap());
        }
        let patterns = patterns.iter().map(|p| (*p).to_owned()).collect();
        Globs::new(patterns, set.build().unwrap(), build)
    }

    const LINK: u32 = 0o120000;
    const GITLINK: u32 = 0o160000;
    const FILE: u32 = 0o100644;

    #[test]
    fn a_link_or_submodule_on_the_way_to_a_match_touches() {
        let g = globs(&["infra/**", "db/migrations/**", "deploy/*.yml"]);
        for path in ["infra", "db", "db/migrations", "deploy"] {
            assert!(g.matches_entry(path.as_bytes(), LINK), "{path}");
            assert!(g.matches_entry(path.as_bytes(), GITLINK), "{path}");
            assert!(!g.matches_entry(path.as_bytes(), FILE), "{path}");
        }
        for path in ["src", "infrastructure", "db/schema", "deployment"] {
            assert!(!g.matches_entry(path.as_bytes(), LINK), "{path}");
            assert!(!g.matches_entry(path.as_bytes(), GITLINK), "{path}");
        }
        assert!(g.matches_entry(b"infra/main.tf", FILE));
        assert!(g.matches_entry(b"deploy/x.yml", LINK));
    }

    #[test]
    fn a_pattern_of_one_segment_has_no_directory_on_the_way() {
        let g = globs(&["*.tf"]);
        assert!(!g.matches_entry(b"infra", LINK));
        assert!(g.matches_entry(b"main.tf", LINK));
    }

    #[test]
    fn a_prefix_that_does_not_compile_makes_every_link_touch() {
        let g = globs(&["{infra/a,b}/**"]);
        assert!(g.matches_entry(b"anything", LINK));
        assert!(!g.matches_entry(b"anything", FILE));
    }
}
