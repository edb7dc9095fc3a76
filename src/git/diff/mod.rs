//! What a commit changes: paths added, modified, deleted, renamed and
//! type-changed, and lines added and deleted per file, exactly as
//! `git diff-tree -r --numstat [--no-renames | -M]` reports them.
//!
//! This module owns the *facts* of a diff, not their judgement: the rules
//! engine decides which commits need them (and caches them); this module only
//! answers "what does this commit (or this pair of trees) change".
//!
//! How it agrees with git:
//! - The tree walk is git's `tree-diff.c`: entries compared in tree order
//!   (a directory sorts as `name/`), modes canonicalised (`100664` is
//!   `100644`), identical subtrees skipped by object id, a file replaced by
//!   a directory reported as a deletion plus additions, a file replaced by a
//!   symlink or a gitlink (or back) reported as one type change (`T`).
//! - Line counts come from libgit2's copy of git's xdiff (Myers), on the same
//!   bytes git diffs: blob content, a symlink's target, and
//!   `Subproject commit <hex>\n` for a gitlink. Additions and deletions of
//!   whole files are counted directly (git's count of lines: newlines plus an
//!   unterminated last line).
//! - A side is binary when its first 8,000 bytes contain a NUL (or it is
//!   larger than 512 MiB, git's `core.bigFileThreshold`); then the file has no
//!   line counts (`-` in numstat), even when only its mode changed. Where
//!   this differs from numstat on purpose: when the other side is text, its
//!   lines are kept in [`FileChange::binary_lines`] and the size limits count
//!   them (a text file turned binary deletes its lines; binary turned text
//!   adds them), so that a NUL byte cannot hide a rewrite.
//! - Rename detection is a re-implementation of git 2.47's `diffcore-rename.c`
//!   for plain `-M` (50%): exact renames first (a same-named source wins among
//!   identical blobs), then files whose basename is unique on both sides at a
//!   similarity of at least 75%, then the best-first similarity matrix with
//!   git's `diffcore-delta.c` span hashing and its limit of 1,000 x 1,000
//!   candidates. Copies are not detected (git does not by default).
//!
//! A merge's own changes (against a clean merge of its parents, as
//! `git show --remerge-diff` shows them) are computed by [`merge_diffs`].
//!
//! Not modelled (git would read them from the repository's configuration or
//! attributes, which a hook should not let change its answer): `.gitattributes`
//! `diff`/`binary` attributes, `diff.renameLimit`, `core.bigFileThreshold`,
//! textconv drivers. Commit ids, not worktrees or the index, are diffed.

// Reviewed exception to the crate's `indexing_slicing` lint: every index in
// this module is into a vector or matrix this module sized itself (the
// rename-detection score matrix, per-file hash tables) within the bounds of
// its own loops; no offset read from an object is used as an index.
#![allow(clippy::indexing_slicing)]

use std::collections::HashMap;

use std::rc::Rc;

use crate::git::oid::ObjectId;
use crate::git::repo::{GitError, ObjectKind, Objects, Repo};

use crate::git::pack::PackReader;
use thiserror::Error;

mod lines;
mod merges;
mod renames;
mod tree;

pub use merges::{merge_diffs, Merge};

use lines::*;
use renames::*;
pub use tree::TreeCache;
use tree::*;

/// How a path changed, as git's `--name-status` letter says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// `A`: the path is new.
    Added,
    /// `D`: the path is gone.
    Deleted,
    /// `M`: content or permission bits (`100644` <-> `100755`) changed.
    Modified,
    /// `R<similarity>`: a deleted path reappears under a new name (only with
    /// rename detection). `similarity` is git's percentage (100 for an exact
    /// rename).
    Renamed { similarity: u8 },
    /// `T`: the kind of object changed (file, symlink, gitlink).
    TypeChanged,
}

impl ChangeKind {
    /// The status as `git diff-tree --name-status` prints it (`R096`, `M`).
    pub fn git_status(&self) -> String {
        match self {
            ChangeKind::Added => "A".to_owned(),
            ChangeKind::Deleted => "D".to_owned(),
            ChangeKind::Modified => "M".to_owned(),
            ChangeKind::Renamed { similarity } => format!("R{similarity:03}"),
            ChangeKind::TypeChanged => "T".to_owned(),
        }
    }
}

/// One changed path (or, for a rename, one pair of paths).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileChange {
    pub status: ChangeKind,
    /// The path before the change (`None` when added).
    pub old_path: Option<Vec<u8>>,
    /// The path after the change (`None` when deleted).
    pub new_path: Option<Vec<u8>>,
    /// Git's canonical mode before the change (`0o100644`, `0o100755`,
    /// `0o120000` symlink, `0o160000` gitlink); `None` when added.
    pub old_mode: Option<u32>,
    /// Git's canonical mode after the change; `None` when deleted.
    pub new_mode: Option<u32>,
    /// Lines added; `None` for a binary file (numstat's `-`) and when only
    /// paths were asked for.
    pub added: Option<u64>,
    /// Lines deleted; `None` like [`FileChange::added`].
    pub deleted: Option<u64>,
    /// Where numstat shows `-` because one side is binary and the other is
    /// text: the text side's lines, as (added, deleted). A text file turned
    /// binary deletes all its lines, binary turned text adds them; the size
    /// limits count these (git's numstat does not). `None` otherwise.
    pub binary_lines: Option<(u64, u64)>,
}

impl FileChange {
    /// The path a reader should see: the new name, or the old one when the
    /// path was deleted.
    pub fn path(&self) -> &[u8] {
        self.new_path
            .as_deref()
            .or(self.old_path.as_deref())
            .unwrap_or_default()
    }
}

/// Everything one diff changes, in git's output order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiffStats {
    pub files: Vec<FileChange>,
}

impl DiffStats {
    /// Changed files (a rename counts once).
    pub fn files_changed(&self) -> usize {
        self.files.len()
    }

    /// Deleted files (a renamed file is not deleted).
    pub fn files_deleted(&self) -> usize {
        self.files
            .iter()
            .filter(|f| f.status == ChangeKind::Deleted)
            .count()
    }

    /// Lines added over all files: numstat's count for text files, and the
    /// new text of a binary file turned text ([`FileChange::binary_lines`]).
    pub fn lines_added(&self) -> u64 {
        self.files
            .iter()
            .filter_map(|f| f.added.or(f.binary_lines.map(|(a, _)| a)))
            .sum()
    }

    /// Lines deleted over all files: numstat's count for text files, and the
    /// old text of a text file turned binary.
    pub fn lines_deleted(&self) -> u64 {
        self.files
            .iter()
            .filter_map(|f| f.deleted.or(f.binary_lines.map(|(_, d)| d)))
            .sum()
    }

    /// Every path the diff touches: old and new name of each change (a
    /// modified path once).
    pub fn paths(&self) -> impl Iterator<Item = &[u8]> {
        self.files.iter().flat_map(|f| {
            let old = f.old_path.as_deref();
            let new = f.new_path.as_deref().filter(|n| Some(*n) != old);
            old.into_iter().chain(new)
        })
    }
}

/// How to diff.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiffOptions {
    /// Detect renames like `git diff -M` (50% similarity); otherwise a rename
    /// is a deletion and an addition, like `--no-renames`.
    pub renames: bool,
    /// Stop with [`DiffError::OutOfTime`] past this instant: checked while
    /// walking trees, between files' line counts and while scoring rename
    /// candidates, so that one diff cannot outlast a time budget by much.
    pub deadline: Option<std::time::Instant>,
}

impl DiffOptions {
    /// Rename detection on, no deadline.
    pub fn renames() -> Self {
        DiffOptions {
            renames: true,
            deadline: None,
        }
    }

    /// These options with `deadline`.
    pub fn until(self, deadline: Option<std::time::Instant>) -> Self {
        DiffOptions { deadline, ..self }
    }
}

/// Why a diff could not be computed.
#[derive(Debug, Error)]
pub enum DiffError {
    #[error("commit {commit} is not in the repository (nor in the push's quarantine)")]
    MissingCommit { commit: ObjectId },
    #[error("cannot read commit {commit}: {source}")]
    ReadCommit {
        commit: ObjectId,
        #[source]
        source: GitError,
    },
    #[error("cannot diff commit {commit}: {reason}")]
    BadCommit { commit: ObjectId, reason: String },
    #[error("cannot diff {context}: {kind} {oid} is not in the repository (nor in the push's quarantine)")]
    MissingObject {
        context: String,
        kind: &'static str,
        oid: ObjectId,
    },
    #[error("cannot diff {context}: cannot read {kind} {oid}: {source}")]
    ReadObject {
        context: String,
        kind: &'static str,
        oid: ObjectId,
        #[source]
        source: GitError,
    },
    #[error("cannot diff {context}: tree {oid} is malformed: {reason}")]
    BadTree {
        context: String,
        oid: ObjectId,
        reason: &'static str,
    },
    #[error("the diff ran past its deadline (the time budget)")]
    OutOfTime,
    #[error("cannot measure a merge against the clean merge of its parents: {reason}")]
    Remerge { reason: String },
    #[error("cannot diff {context}: cannot count the lines changed in `{path}`: {source}")]
    Lines {
        context: String,
        path: String,
        #[source]
        source: git2::Error,
    },
}

/// Diff of a commit against its first parent (or the empty tree for a root
/// commit), like `git diff-tree -r --numstat [--no-renames|-M] COMMIT` (for a
/// merge, like `--diff-merges=first-parent`).
pub fn commit_stats(
    repo: &Repo,
    commit: ObjectId,
    opts: &DiffOptions,
) -> Result<DiffStats, DiffError> {
    commit_diff(repo, commit, true, opts)
}

/// [`commit_stats`] when `lines`, else [`commit_paths`].
pub fn commit_diff(
    repo: &Repo,
    commit: ObjectId,
    lines: bool,
    opts: &DiffOptions,
) -> Result<DiffStats, DiffError> {
    let (old, new) = commit_trees(repo, commit, None)?;
    Differ::new(repo, format!("commit {commit}"), lines).run(old, new, opts)
}

/// [`commit_stats`] (with `lines`) or [`commit_paths`], reusing the trees of
/// the previous call through `cache`: for diffing many commits in a row,
/// newest first.
/// `trees` are the first parent's and the commit's tree ids when the caller
/// already knows them (saving two commit reads); `None` reads them.
/// `packs` reads trees and blobs from the pack files directly where it can
/// (see [`crate::git::pack`]); libgit2 reads the rest.
pub fn commit_diff_cached(
    repo: &Repo,
    commit: ObjectId,
    trees: Option<(Option<ObjectId>, ObjectId)>,
    lines: bool,
    opts: &DiffOptions,
    cache: &mut TreeCache,
    packs: Option<&PackReader<'_>>,
) -> Result<DiffStats, DiffError> {
    let (old, new) = match trees {
        Some((old, new)) => (old, Some(new)),
        None => commit_trees(repo, commit, packs)?,
    };
    let mut differ = Differ::new(repo, format!("commit {commit}"), lines);
    differ.packs = packs;
    differ.trees = std::cell::RefCell::new(std::mem::take(cache));
    let result = differ.run(old, new, opts);
    *cache = differ.trees.into_inner();
    cache.rotate();
    result
}

/// Diff between two trees (for per-push net diffs: old tip -> new tip;
/// `None` = the empty tree).
pub fn tree_stats(
    repo: &Repo,
    old_tree: Option<ObjectId>,
    new_tree: ObjectId,
    opts: &DiffOptions,
) -> Result<DiffStats, DiffError> {
    tree_diff(repo, old_tree, new_tree, true, opts)
}

/// [`tree_stats`] when `lines`, else [`tree_paths`].
pub fn tree_diff(
    repo: &Repo,
    old_tree: Option<ObjectId>,
    new_tree: ObjectId,
    lines: bool,
    opts: &DiffOptions,
) -> Result<DiffStats, DiffError> {
    Differ::new(repo, trees_context(old_tree, new_tree), lines).run(old_tree, Some(new_tree), opts)
}

/// The paths [`commit_stats`] reports, without line counts (`added` and
/// `deleted` are `None`). Reads no blob unless inexact rename detection
/// needs to compare contents.
pub fn commit_paths(
    repo: &Repo,
    commit: ObjectId,
    opts: &DiffOptions,
) -> Result<DiffStats, DiffError> {
    commit_diff(repo, commit, false, opts)
}

/// The paths [`tree_stats`] reports, without line counts.
pub fn tree_paths(
    repo: &Repo,
    old_tree: Option<ObjectId>,
    new_tree: ObjectId,
    opts: &DiffOptions,
) -> Result<DiffStats, DiffError> {
    tree_diff(repo, old_tree, new_tree, false, opts)
}

fn trees_context(old: Option<ObjectId>, new: ObjectId) -> String {
    match old {
        Some(old) => format!("tree {old} -> tree {new}"),
        None => format!("the empty tree -> tree {new}"),
    }
}

/// The first parent's tree (if any) and the commit's tree.
/// The trees of `commit` and of its first parent, the commits read through
/// `packs` where they can be: the few commits a policy diffs lie all over
/// a large push's pack, and libgit2 maps whole packs, so that reading them
/// through it (with the kernel's fault-around) made most of the pack's
/// commit pages resident.
fn commit_trees(
    repo: &Repo,
    commit: ObjectId,
    packs: Option<&PackReader<'_>>,
) -> Result<(Option<ObjectId>, Option<ObjectId>), DiffError> {
    // trailgate's own commit parser, as the walk reads commits: the same
    // answer for every object format.
    let objects = repo.objects().map_err(|e| DiffError::ReadCommit {
        commit,
        source: GitError::Git(e.to_string()),
    })?;
    let read = |oid: ObjectId| -> Result<(ObjectId, Option<ObjectId>), DiffError> {
        if let Some((ObjectKind::Commit, data)) = packs.and_then(|p| p.read(oid)) {
            return tree_and_parent(oid, &data);
        }
        let object = objects.read_raw(oid).map_err(|e| {
            if e.is_not_found() {
                DiffError::MissingCommit { commit: oid }
            } else {
                DiffError::ReadCommit {
                    commit: oid,
                    source: e,
                }
            }
        })?;
        if object.kind() != crate::git::repo::ObjectKind::Commit {
            return Err(DiffError::BadCommit {
                commit: oid,
                reason: format!("it is a {}, not a commit", object.kind().name()),
            });
        }
        tree_and_parent(oid, object.data())
    };
    let (new, parent) = read(commit)?;
    let old = match parent {
        Some(parent) => Some(read(parent)?.0),
        None => None,
    };
    Ok((old, Some(new)))
}

/// A commit's tree and first parent, parsed from its bytes.
fn tree_and_parent(oid: ObjectId, data: &[u8]) -> Result<(ObjectId, Option<ObjectId>), DiffError> {
    let parsed =
        crate::git::object::parse(data, oid.kind()).map_err(|reason| DiffError::BadCommit {
            commit: oid,
            reason,
        })?;
    let tree = parsed.tree.ok_or_else(|| DiffError::BadCommit {
        commit: oid,
        reason: "its tree line is not an object id".into(),
    })?;
    Ok((tree, parsed.parents.first().copied()))
}

/// One side of a changed path.
#[derive(Clone, Debug)]
struct Side {
    path: Vec<u8>,
    mode: u32,
    oid: ObjectId,
}

/// A changed path before rename detection (one side may be missing), or a
/// rename after it.
#[derive(Debug)]
struct Pair {
    old: Option<Side>,
    new: Option<Side>,
    /// Rename score (0..=60000), when this pair is a rename.
    rename_score: Option<u32>,
}

/// Git's `MAX_SCORE` and default `-M` threshold.
const MAX_SCORE: u64 = 60000;
const DEFAULT_RENAME_SCORE: u64 = 30000;
/// Git's default `diff.renameLimit`.
const RENAME_LIMIT: u64 = 1000;
/// Bytes git inspects for a NUL (`FIRST_FEW_BYTES`).
const FIRST_FEW_BYTES: usize = 8000;
/// Git's default `core.bigFileThreshold`: larger blobs are binary.
const BIG_FILE_THRESHOLD: usize = 512 * 1024 * 1024;

/// One diff computation: the repository, what to name in errors, and the
/// blob facts rename detection caches.
struct Differ<'r> {
    repo: &'r Repo,
    /// The repository's object database, for trees (see [`RawTree`]).
    /// Opened on first need: with a pack reader most diffs never need it.
    odb: std::cell::OnceCell<Option<Objects<'r>>>,
    context: String,
    lines: bool,
    spans: HashMap<ObjectId, Option<std::rc::Rc<Spans>>>,
    trees: std::cell::RefCell<TreeCache>,
    /// Pack files read directly, when the caller has them open.
    packs: Option<&'r PackReader<'r>>,
    /// See [`DiffOptions::deadline`]; set by [`Differ::run`].
    deadline: Option<std::time::Instant>,
}

impl<'r> Differ<'r> {
    fn new(repo: &'r Repo, context: String, lines: bool) -> Self {
        Differ {
            repo,
            odb: std::cell::OnceCell::new(),
            context,
            lines,
            spans: HashMap::new(),
            trees: std::cell::RefCell::new(TreeCache::default()),
            packs: None,
            deadline: None,
        }
    }

    /// Fails with [`DiffError::OutOfTime`] once the deadline has passed.
    fn in_time(&self) -> Result<(), DiffError> {
        match self.deadline {
            Some(d) if std::time::Instant::now() >= d => Err(DiffError::OutOfTime),
            _ => Ok(()),
        }
    }

    fn run(
        &mut self,
        old: Option<ObjectId>,
        new: Option<ObjectId>,
        opts: &DiffOptions,
    ) -> Result<DiffStats, DiffError> {
        self.deadline = opts.deadline;
        self.in_time()?;
        let mut pairs = Vec::new();
        if old != new {
            let old = old.map(|oid| self.tree(oid)).transpose()?;
            let new = new.map(|oid| self.tree(oid)).transpose()?;
            let mut prefix = Vec::new();
            self.walk(&mut prefix, old.as_ref(), new.as_ref(), &mut pairs)?;
        }
        if opts.renames {
            pairs = self.detect_renames(pairs)?;
        }
        let mut files = Vec::with_capacity(pairs.len());
        for (i, pair) in pairs.into_iter().enumerate() {
            if self.lines && i % 64 == 63 {
                self.in_time()?;
            }
            files.push(self.change(pair)?);
        }
        Ok(DiffStats { files })
    }

    fn missing_or_read(&self, kind: &'static str, oid: ObjectId, e: GitError) -> DiffError {
        if e.is_not_found() {
            DiffError::MissingObject {
                context: self.context.clone(),
                kind,
                oid,
            }
        } else {
            DiffError::ReadObject {
                context: self.context.clone(),
                kind,
                oid,
                source: e,
            }
        }
    }
}
