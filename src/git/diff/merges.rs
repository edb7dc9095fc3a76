//! What a merge commit itself changed: its tree against the tree of a clean
//! merge of its parents, which is what `git show --remerge-diff` shows.
//!
//! Git is the merge engine: `git merge-tree --write-tree --stdin` merges the
//! parents of every merge of a batch in one process (recursive merge bases,
//! rename detection and content merges exactly as `git merge` does them).
//! A conflicted path is left in that tree with its conflict markers, as
//! remerge-diff shows it; a merge of unrelated histories is merged against the
//! empty tree (`--allow-unrelated-histories`), so a merge that replaces the
//! tree measures every file it dropped.
//!
//! **An octopus merge** (which remerge-diff skips) is measured against the
//! sequential merge of its parents, as git's octopus strategy builds it: the
//! second parent merged into the first, the third into that result (whose
//! merge bases are those of a commit with the parents merged so far), and so
//! on. A conflict on the way is left in with its markers, so the measure only
//! grows.
//!
//! **Where the objects go.** `merge-tree` writes the merged trees and blobs
//! (and, for octopus merges, the intermediate commits that `git hash-object`
//! writes) into a private object directory in the system's temporary folder,
//! set as `GIT_OBJECT_DIRECTORY`, with the repository's own directories and
//! the push's quarantine as `GIT_ALTERNATE_OBJECT_DIRECTORIES`. Nothing is
//! written into the repository or the quarantine (whose objects git moves into
//! the repository when the push is accepted), and the folder is removed when
//! the batch has been diffed.
//!
//! **What the pusher cannot steer.** Attributes are read from the empty tree
//! (`GIT_ATTR_SOURCE`), not from a `.gitattributes` the pusher committed (a
//! `merge=binary` or `merge=union` there would change what "clean" means);
//! replace refs (`GIT_NO_REPLACE_OBJECTS`) and grafts are ignored, as
//! trailgate's own reader ignores them. The server's configuration (for
//! example `merge.conflictStyle`, `merge.renames`) is the administrator's
//! and applies as it does to remerge-diff.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::git::oid::{HashKind, ObjectId};
use crate::git::repo::Repo;

use super::{DiffError, DiffOptions, DiffStats, Differ};

/// A merge commit to measure.
#[derive(Debug, Clone)]
pub struct Merge {
    pub commit: ObjectId,
    /// Its parents, in order (two or more).
    pub parents: Vec<ObjectId>,
    /// Its tree.
    pub tree: ObjectId,
}

/// Each merge's own changes: the diff from the clean merge of its parents
/// to its tree, with line counts when `lines`. One `git merge-tree`
/// process for the batch (and one more round for each further parent of an
/// octopus merge).
pub fn merge_diffs(
    repo: &Repo,
    merges: &[Merge],
    lines: bool,
    opts: &DiffOptions,
) -> Result<Vec<(ObjectId, DiffStats)>, DiffError> {
    if merges.is_empty() {
        return Ok(Vec::new());
    }
    let kind = merges.first().map_or(HashKind::Sha1, |m| m.commit.kind());
    let scratch = Scratch::new(repo, kind)?;
    let clean = scratch.clean_merges(merges, opts.deadline)?;
    // The clean merges' trees are read from the scratch folder.
    let mut dirs = repo.object_dirs();
    dirs.push(scratch.objects.clone());
    let with_scratch = Repo::open_with(repo.path(), &dirs).map_err(|e| DiffError::Remerge {
        reason: format!("cannot read the merged trees back: {e}"),
    })?;
    let mut out = Vec::with_capacity(merges.len());
    for (merge, clean) in merges.iter().zip(clean) {
        let context = format!(
            "merge {} against the clean merge of its parents",
            merge.commit
        );
        let stats =
            Differ::new(&with_scratch, context, lines).run(Some(clean), Some(merge.tree), opts)?;
        out.push((merge.commit, stats));
    }
    Ok(out)
}

/// The private object directory `git merge-tree` writes to.
struct Scratch<'r> {
    repo: &'r Repo,
    kind: HashKind,
    _dir: tempfile::TempDir,
    objects: PathBuf,
    alternates: String,
}

impl<'r> Scratch<'r> {
    fn new(repo: &'r Repo, kind: HashKind) -> Result<Self, DiffError> {
        let dir = tempfile::Builder::new()
            .prefix("trailgate-remerge-")
            .tempdir()
            .map_err(|e| DiffError::Remerge {
                reason: format!("cannot create a temporary object directory: {e}"),
            })?;
        let objects = dir.path().join("objects");
        for sub in ["info", "pack"] {
            std::fs::create_dir_all(objects.join(sub)).map_err(|e| DiffError::Remerge {
                reason: format!("cannot create {}: {e}", objects.display()),
            })?;
        }
        let alternates = repo
            .object_dirs()
            .iter()
            .map(|d| alternate_entry(d))
            .collect::<Vec<_>>()
            .join(":");
        Ok(Scratch {
            repo,
            kind,
            _dir: dir,
            objects,
            alternates,
        })
    }

    /// A git command on the repository that writes only to the scratch
    /// folder and reads no attributes, replacements or grafts of the
    /// pusher's.
    fn git(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.arg("--git-dir")
            .arg(self.repo.path())
            .args(args)
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_COMMON_DIR")
            .env_remove("GIT_NAMESPACE")
            .env("GIT_OBJECT_DIRECTORY", &self.objects)
            .env("GIT_ALTERNATE_OBJECT_DIRECTORIES", &self.alternates)
            .env("GIT_ATTR_SOURCE", self.kind.empty_tree().to_hex())
            .env("GIT_NO_REPLACE_OBJECTS", "1")
            .env(
                "GIT_GRAFT_FILE",
                self.objects.join("info").join("no-grafts"),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// The tree of the clean merge of each merge's parents (sequential for
    /// octopus merges).
    fn clean_merges(
        &self,
        merges: &[Merge],
        deadline: Option<Instant>,
    ) -> Result<Vec<ObjectId>, DiffError> {
        // What is merged so far: a commit (the first parent, then for an
        // octopus a stand-in commit with the tree so far and the parents
        // merged so far), and that tree once merged.
        let mut acc: Vec<ObjectId> = merges
            .iter()
            .map(|m| m.parents.first().copied().unwrap_or(m.commit))
            .collect();
        let mut tree: Vec<Option<ObjectId>> = vec![None; merges.len()];
        let rounds = merges.iter().map(|m| m.parents.len()).max().unwrap_or(0);
        for k in 1..rounds {
            let todo: Vec<usize> = (0..merges.len())
                .filter(|&i| merges.get(i).is_some_and(|m| m.parents.len() > k))
                .collect();
            let mut input = String::new();
            for &i in &todo {
                if let (Some(a), Some(p)) =
                    (acc.get(i), merges.get(i).and_then(|m| m.parents.get(k)))
                {
                    input.push_str(&format!("{a} {p}\n"));
                }
            }
            let out = self.run(
                &[
                    "merge-tree",
                    "--write-tree",
                    "--stdin",
                    "-z",
                    "--name-only",
                    "--no-messages",
                    "--allow-unrelated-histories",
                ],
                input.as_bytes(),
                deadline,
            )?;
            let trees = parse_batch(&out, self.kind, todo.len())?;
            for (&i, merged) in todo.iter().zip(trees) {
                let Some(m) = merges.get(i) else { continue };
                if let Some(slot) = tree.get_mut(i) {
                    *slot = Some(merged);
                }
                if m.parents.len() > k + 1 {
                    let parents = m.parents.get(..=k).unwrap_or_default();
                    let stand_in = self.stand_in(merged, parents, deadline)?;
                    if let Some(slot) = acc.get_mut(i) {
                        *slot = stand_in;
                    }
                }
            }
        }
        merges
            .iter()
            .zip(tree)
            .map(|(m, t)| {
                t.ok_or_else(|| DiffError::Remerge {
                    reason: format!("merge {} has fewer than two parents", m.commit),
                })
            })
            .collect()
    }

    /// A commit with `tree` and `parents`, written to the scratch folder:
    /// what the next step of an octopus merge merges into.
    fn stand_in(
        &self,
        tree: ObjectId,
        parents: &[ObjectId],
        deadline: Option<Instant>,
    ) -> Result<ObjectId, DiffError> {
        let mut body = format!("tree {tree}\n");
        for p in parents {
            body.push_str(&format!("parent {p}\n"));
        }
        body.push_str("author trailgate <trailgate> 0 +0000\n");
        body.push_str("committer trailgate <trailgate> 0 +0000\n\noctopus step\n");
        let out = self.run(
            &["hash-object", "-t", "commit", "-w", "--stdin"],
            body.as_bytes(),
            deadline,
        )?;
        let hex = String::from_utf8_lossy(&out);
        self.kind
            .parse_hex(hex.trim().as_bytes())
            .ok_or_else(|| DiffError::Remerge {
                reason: format!("git hash-object printed `{}`", hex.trim()),
            })
    }

    /// Runs git with `input`, killing it at the deadline.
    fn run(
        &self,
        args: &[&str],
        input: &[u8],
        deadline: Option<Instant>,
    ) -> Result<Vec<u8>, DiffError> {
        let what = format!("git {}", args.first().copied().unwrap_or_default());
        let mut child = self.git(args).spawn().map_err(|e| DiffError::Remerge {
            reason: format!("cannot run {what}: {e}"),
        })?;
        let (stdin, stdout, stderr) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let (out, err, status) = std::thread::scope(|scope| {
            let writer = scope.spawn(move || {
                if let Some(mut stdin) = stdin {
                    // A git that stopped reading reports why on stderr.
                    let _ = stdin.write_all(input);
                }
            });
            let reader = scope.spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut s) = stdout {
                    let _ = s.read_to_end(&mut buf);
                }
                buf
            });
            let errs = scope.spawn(move || {
                let mut buf = Vec::new();
                if let Some(s) = stderr {
                    let _ = s.take(64 * 1024).read_to_end(&mut buf);
                }
                buf
            });
            let status = wait_until(&mut child, deadline);
            let _ = writer.join();
            let out = reader.join().unwrap_or_default();
            let err = errs.join().unwrap_or_default();
            (out, err, status)
        });
        match status {
            Waited::OutOfTime => Err(DiffError::OutOfTime),
            Waited::Failed(e) => Err(DiffError::Remerge {
                reason: format!("{what}: {e}"),
            }),
            Waited::Exited(status) if status.success() => Ok(out),
            Waited::Exited(status) => Err(DiffError::Remerge {
                reason: format!(
                    "{what} failed ({status}): {}",
                    String::from_utf8_lossy(&err).trim()
                ),
            }),
        }
    }
}

enum Waited {
    Exited(std::process::ExitStatus),
    Failed(std::io::Error),
    OutOfTime,
}

/// Waits for `child`; kills it at `deadline`.
fn wait_until(child: &mut std::process::Child, deadline: Option<Instant>) -> Waited {
    let Some(deadline) = deadline else {
        return match child.wait() {
            Ok(s) => Waited::Exited(s),
            Err(e) => Waited::Failed(e),
        };
    };
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Waited::Exited(s),
            Ok(None) => {}
            Err(e) => return Waited::Failed(e),
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Waited::OutOfTime;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// `merge-tree --stdin -z --name-only --no-messages` output: per merge,
/// `<status> NUL <tree> NUL [<conflicted path> NUL]... NUL`.
fn parse_batch(out: &[u8], kind: HashKind, expected: usize) -> Result<Vec<ObjectId>, DiffError> {
    let bad = |why: &str| DiffError::Remerge {
        reason: format!("git merge-tree printed what trailgate cannot read: {why}"),
    };
    let mut fields = out.split(|&b| b == 0);
    let mut trees = Vec::with_capacity(expected);
    for _ in 0..expected {
        let status = fields.next().ok_or_else(|| bad("too few results"))?;
        if status != b"0" && status != b"1" {
            return Err(bad(&format!(
                "merge status `{}`",
                String::from_utf8_lossy(status)
            )));
        }
        let tree = fields.next().ok_or_else(|| bad("no tree"))?;
        trees.push(kind.parse_hex(tree).ok_or_else(|| bad("a tree id"))?);
        // The conflicted paths, up to the empty field that ends the merge.
        loop {
            match fields.next() {
                Some([]) => break,
                Some(_) => {}
                None => return Err(bad("an unterminated result")),
            }
        }
    }
    Ok(trees)
}

/// One entry of `GIT_ALTERNATE_OBJECT_DIRECTORIES`, quoted as git reads it
/// when the path holds a `:` or starts with a quote.
fn alternate_entry(dir: &Path) -> String {
    let s = dir.to_string_lossy();
    if !s.contains(':') && !s.starts_with('"') {
        return s.into_owned();
    }
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn a_batch_of_clean_and_conflicted_merges_reads_one_tree_each() {
        let a = "b79d32e36dcbae877da2ba89df14511ead35b9ca";
        let b = "ea6c118ad3a2e90e241e9ec1faeeab0259f1828b";
        let out = format!("0\0{a}\0f\0g\0\01\0{b}\0\0");
        let trees = parse_batch(out.as_bytes(), HashKind::Sha1, 2).unwrap();
        assert_eq!(trees[0].to_hex(), a);
        assert_eq!(trees[1].to_hex(), b);
        assert!(parse_batch(out.as_bytes(), HashKind::Sha1, 3).is_err());
        assert!(parse_batch(b"-1\0", HashKind::Sha1, 1).is_err());
    }

    #[test]
    fn alternates_with_a_colon_are_quoted() {
        assert_eq!(alternate_entry(Path::new("/a/b")), "/a/b");
        assert_eq!(alternate_entry(Path::new("/a:b")), "\"/a:b\"");
    }
}
