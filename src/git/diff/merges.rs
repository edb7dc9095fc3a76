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

use super::{DiffError, DiffOptions, DiffStats, Differ, FileChange};

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
    if let Some(m) = merges.iter().find(|m| m.parents.len() > MAX_PARENTS) {
        return Err(DiffError::Remerge {
            reason: format!(
                "merge {} has {} parents; trailgate measures merges of up to {MAX_PARENTS}",
                m.commit,
                m.parents.len()
            ),
        });
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
        let mut stats = Differ::new(&with_scratch, context, lines).run(
            Some(clean.tree),
            Some(merge.tree),
            opts,
        )?;
        unmarked_conflicts(repo, merge, &clean, lines, opts, &mut stats)?;
        out.push((merge.commit, stats));
    }
    Ok(out)
}

/// Parents a merge may have: each further parent of an octopus is one more
/// round of `git merge-tree`.
const MAX_PARENTS: usize = 64;

/// A conflict git cannot mark in the file (a binary file both sides
/// changed, a file one side deleted and the other modified) leaves one
/// side's version in the clean tree; a merge that keeps it would measure
/// nothing there, though it dropped the other side's change. Such a path,
/// when the merge's diff does not already show it, is measured against the
/// parents instead: the largest of its changes from each parent's version.
fn unmarked_conflicts(
    repo: &Repo,
    merge: &Merge,
    clean: &Clean,
    lines: bool,
    opts: &DiffOptions,
    stats: &mut DiffStats,
) -> Result<(), DiffError> {
    let mut missing: Vec<&[u8]> = clean
        .conflicted
        .iter()
        .map(Vec::as_slice)
        .filter(|p| !stats.paths().any(|q| q == *p))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    let weight = |c: &FileChange| c.added.unwrap_or(0) + c.deleted.unwrap_or(0) + 1;
    let mut best: Vec<Option<FileChange>> = vec![None; missing.len()];
    for parent in &merge.parents {
        let tree = tree_of(repo, *parent)?;
        let context = format!("merge {} against its parent {parent}", merge.commit);
        let from_parent =
            Differ::new(repo, context, lines).run(Some(tree), Some(merge.tree), opts)?;
        for change in from_parent.files {
            for (k, path) in missing.iter().enumerate() {
                let touches = change.old_path.as_deref() == Some(*path)
                    || change.new_path.as_deref() == Some(*path);
                let Some(slot) = best.get_mut(k) else {
                    continue;
                };
                if touches && slot.as_ref().is_none_or(|b| weight(&change) > weight(b)) {
                    *slot = Some(change.clone());
                }
            }
        }
    }
    stats.files.extend(best.into_iter().flatten());
    Ok(())
}

/// A commit's tree, from its raw object.
fn tree_of(repo: &Repo, commit: ObjectId) -> Result<ObjectId, DiffError> {
    let bad = |reason: String| DiffError::Remerge {
        reason: format!("cannot read the tree of parent {commit}: {reason}"),
    };
    let objects = repo.objects().map_err(|e| bad(e.to_string()))?;
    let object = objects.read(commit).map_err(|e| bad(e.to_string()))?;
    crate::git::object::parse(object.data(), commit.kind())
        .map_err(bad)?
        .tree
        .ok_or_else(|| bad("it has no tree line".into()))
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

    /// The clean merge of each merge's parents (sequential for octopus
    /// merges): its tree and the paths git left conflicted on the way.
    fn clean_merges(
        &self,
        merges: &[Merge],
        deadline: Option<Instant>,
    ) -> Result<Vec<Clean>, DiffError> {
        // What is merged so far: a commit (the first parent, then for an
        // octopus a stand-in commit with the tree so far and the parents
        // merged so far), and that tree once merged.
        let mut acc: Vec<ObjectId> = merges
            .iter()
            .map(|m| m.parents.first().copied().unwrap_or(m.commit))
            .collect();
        let mut clean: Vec<Option<Clean>> = vec![None; merges.len()];
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
            let results = parse_batch(&out, self.kind, todo.len())?;
            // The octopus merges that go on: their stand-ins, in one batch.
            let mut next: Vec<(usize, ObjectId)> = Vec::new();
            for (&i, Clean { tree, conflicted }) in todo.iter().zip(results) {
                let Some(m) = merges.get(i) else { continue };
                if let Some(slot) = clean.get_mut(i) {
                    let mut all = slot.take().map(|c| c.conflicted).unwrap_or_default();
                    all.extend(conflicted);
                    *slot = Some(Clean {
                        tree,
                        conflicted: all,
                    });
                }
                if m.parents.len() > k + 1 {
                    next.push((i, tree));
                }
            }
            let bodies: Vec<Vec<u8>> = next
                .iter()
                .map(|&(i, tree)| {
                    let parents = merges
                        .get(i)
                        .and_then(|m| m.parents.get(..=k))
                        .unwrap_or_default();
                    stand_in(tree, parents)
                })
                .collect();
            let written = self.write_commits(&bodies, deadline)?;
            for ((i, _), oid) in next.into_iter().zip(written) {
                if let Some(slot) = acc.get_mut(i) {
                    *slot = oid;
                }
            }
        }
        merges
            .iter()
            .zip(clean)
            .map(|(m, c)| {
                c.ok_or_else(|| DiffError::Remerge {
                    reason: format!("merge {} has fewer than two parents", m.commit),
                })
            })
            .collect()
    }

    /// Writes commit objects to the scratch folder (`git hash-object
    /// --stdin-paths`, one process for all) and returns their ids.
    fn write_commits(
        &self,
        bodies: &[Vec<u8>],
        deadline: Option<Instant>,
    ) -> Result<Vec<ObjectId>, DiffError> {
        if bodies.is_empty() {
            return Ok(Vec::new());
        }
        let mut paths = String::new();
        for (n, body) in bodies.iter().enumerate() {
            let path = self.objects.join("info").join(format!("stand-in-{n}"));
            std::fs::write(&path, body).map_err(|e| DiffError::Remerge {
                reason: format!("cannot write {}: {e}", path.display()),
            })?;
            paths.push_str(&path.to_string_lossy());
            paths.push('\n');
        }
        let out = self.run(
            &["hash-object", "-t", "commit", "-w", "--stdin-paths"],
            paths.as_bytes(),
            deadline,
        )?;
        let text = String::from_utf8_lossy(&out);
        let ids: Vec<ObjectId> = text
            .lines()
            .filter_map(|l| self.kind.parse_hex(l.trim().as_bytes()))
            .collect();
        if ids.len() != bodies.len() {
            return Err(DiffError::Remerge {
                reason: format!("git hash-object printed `{}`", text.trim()),
            });
        }
        Ok(ids)
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

/// A clean merge of a merge's parents.
#[derive(Debug, Clone)]
struct Clean {
    tree: ObjectId,
    /// The paths git could not merge (on any step of an octopus).
    conflicted: Vec<Vec<u8>>,
}

/// A commit with `tree` and `parents`: what the next step of an octopus
/// merge merges into (its merge bases are those of the parents so far).
fn stand_in(tree: ObjectId, parents: &[ObjectId]) -> Vec<u8> {
    let mut body = format!("tree {tree}\n");
    for p in parents {
        body.push_str(&format!("parent {p}\n"));
    }
    body.push_str("author trailgate <trailgate> 0 +0000\n");
    body.push_str("committer trailgate <trailgate> 0 +0000\n\noctopus step\n");
    body.into_bytes()
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
fn parse_batch(out: &[u8], kind: HashKind, expected: usize) -> Result<Vec<Clean>, DiffError> {
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
        let tree = kind.parse_hex(tree).ok_or_else(|| bad("a tree id"))?;
        // The conflicted paths, up to the empty field that ends the merge.
        let mut conflicted = Vec::new();
        loop {
            match fields.next() {
                Some([]) => break,
                Some(path) => conflicted.push(path.to_vec()),
                None => return Err(bad("an unterminated result")),
            }
        }
        trees.push(Clean { tree, conflicted });
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
        assert_eq!(trees[0].tree.to_hex(), a);
        assert_eq!(trees[0].conflicted, vec![b"f".to_vec(), b"g".to_vec()]);
        assert_eq!(trees[1].tree.to_hex(), b);
        assert!(trees[1].conflicted.is_empty());
        assert!(parse_batch(out.as_bytes(), HashKind::Sha1, 3).is_err());
        assert!(parse_batch(b"-1\0", HashKind::Sha1, 1).is_err());
    }

    #[test]
    fn alternates_with_a_colon_are_quoted() {
        assert_eq!(alternate_entry(Path::new("/a/b")), "/a/b");
        assert_eq!(alternate_entry(Path::new("/a:b")), "\"/a:b\"");
    }
}
