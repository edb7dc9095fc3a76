//! git as the oracle for diffs (on the shared [`crate::oracle::GitRepo`]):
//! one parse of `git diff-tree -z --raw --numstat` output for a whole batch
//! of commits.

use std::collections::HashMap;
use trailgate::git::ObjectId;

/// One changed path as git reports it (or as trailgate's answer is rendered
/// for comparison).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitFile {
    /// `A`, `D`, `M`, `T`, `R096`.
    pub status: String,
    pub old_path: Option<Vec<u8>>,
    pub new_path: Option<Vec<u8>>,
    pub old_mode: Option<u32>,
    pub new_mode: Option<u32>,
    /// `None` for numstat's `-` (binary), or when not compared.
    pub added: Option<u64>,
    pub deleted: Option<u64>,
}

impl std::fmt::Display for GitFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = |p: &Option<Vec<u8>>| {
            p.as_deref()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_else(|| "-".to_owned())
        };
        let n = |n: Option<u64>| n.map_or_else(|| "-".to_owned(), |n| n.to_string());
        write!(
            f,
            "{:<5} {:o} -> {:o}  +{} -{}  {} -> {}",
            self.status,
            self.old_mode.unwrap_or(0),
            self.new_mode.unwrap_or(0),
            n(self.added),
            n(self.deleted),
            p(&self.old_path),
            p(&self.new_path)
        )
    }
}

pub use crate::oracle::GitRepo as Repo;

impl Repo {
    /// `git diff-tree -r -z --raw --numstat --root --diff-merges=first-parent
    /// <rename flag> --stdin` over all `commits`, parsed once.
    pub fn diff_tree_commits(
        &self,
        commits: &[ObjectId],
        renames: bool,
    ) -> HashMap<ObjectId, Vec<GitFile>> {
        let mut input = String::new();
        for c in commits {
            input.push_str(&c.to_string());
            input.push('\n');
        }
        let out = self.run_with_input(
            &[
                "diff-tree",
                "-r",
                "-z",
                "--raw",
                "--numstat",
                "--root",
                "--diff-merges=first-parent",
                if renames { "-M" } else { "--no-renames" },
                "--stdin",
            ],
            input.as_bytes(),
        );
        parse(&out)
            .into_iter()
            .map(|(c, files)| (c.expect("diff-tree --stdin names each commit"), files))
            .collect()
    }

    /// `git diff-tree -r -z --raw --numstat OLD NEW` for two trees.
    pub fn diff_tree_trees(&self, old: ObjectId, new: ObjectId, renames: bool) -> Vec<GitFile> {
        let (old, new) = (old.to_string(), new.to_string());
        let out = self.run(&[
            "diff-tree",
            "-r",
            "-z",
            "--raw",
            "--numstat",
            if renames { "-M" } else { "--no-renames" },
            &old,
            &new,
        ]);
        parse(&out).into_iter().flat_map(|(_, f)| f).collect()
    }
}

/// Parses `-z --raw --numstat` output: optional commit-id headers, then per
/// commit the raw records followed by the numstat records in the same order.
fn parse(out: &[u8]) -> Vec<(Option<ObjectId>, Vec<GitFile>)> {
    let mut tokens = out.split(|&c| c == 0).peekable();
    let mut result: Vec<(Option<ObjectId>, Vec<GitFile>)> = Vec::new();
    let mut numstat_at = 0;
    while let Some(tok) = tokens.next() {
        if tok.is_empty() && tokens.peek().is_none() {
            break;
        }
        if let Some(raw) = tok.strip_prefix(b":") {
            if result.is_empty() {
                result.push((None, Vec::new()));
            }
            let raw = std::str::from_utf8(raw).unwrap();
            let f: Vec<&str> = raw.split(' ').collect();
            let old_mode = u32::from_str_radix(f[0], 8).unwrap();
            let new_mode = u32::from_str_radix(f[1], 8).unwrap();
            let status = f[4].to_owned();
            let first = tokens.next().unwrap().to_vec();
            let (old_path, new_path) = match status.as_bytes()[0] {
                b'R' | b'C' => (Some(first), Some(tokens.next().unwrap().to_vec())),
                b'A' => (None, Some(first)),
                b'D' => (Some(first), None),
                _ => (Some(first.clone()), Some(first)),
            };
            let files = &mut result.last_mut().unwrap().1;
            files.push(GitFile {
                status,
                old_path,
                new_path,
                old_mode: (old_mode != 0).then_some(old_mode),
                new_mode: (new_mode != 0).then_some(new_mode),
                added: None,
                deleted: None,
            });
        } else if tok.contains(&b'\t') {
            let text = std::str::from_utf8(tok).unwrap_or_default();
            let mut parts = tok.splitn(3, |&c| c == b'\t');
            let added = parts.next().unwrap();
            let deleted = parts.next().unwrap();
            let path = parts.next().unwrap_or_default();
            if path.is_empty() {
                // A rename: the two names follow.
                tokens.next();
                tokens.next();
            }
            let files = &mut result.last_mut().unwrap().1;
            let num = |s: &[u8]| {
                (s != b"-").then(|| std::str::from_utf8(s).unwrap().parse::<u64>().unwrap())
            };
            let file = files
                .get_mut(numstat_at)
                .unwrap_or_else(|| panic!("numstat record without raw record: {text}"));
            file.added = num(added);
            file.deleted = num(deleted);
            numstat_at += 1;
        } else {
            let id = std::str::from_utf8(tok).unwrap();
            result.push((Some(ObjectId::from_hex(id.as_bytes()).unwrap()), Vec::new()));
            numstat_at = 0;
        }
    }
    result
}
