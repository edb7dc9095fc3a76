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
//!   line counts (`-` in numstat), even when only its mode changed.
//! - Rename detection is a re-implementation of git 2.47's `diffcore-rename.c`
//!   for plain `-M` (50%): exact renames first (a same-named source wins among
//!   identical blobs), then files whose basename is unique on both sides at a
//!   similarity of at least 75%, then the best-first similarity matrix with
//!   git's `diffcore-delta.c` span hashing and its limit of 1,000 x 1,000
//!   candidates. Copies are not detected (git does not by default).
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

use git2::{Blob, ObjectType, Odb, Oid, Repository};

use crate::git::pack::PackReader;
use thiserror::Error;

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

    /// Lines added over all text files.
    pub fn lines_added(&self) -> u64 {
        self.files.iter().filter_map(|f| f.added).sum()
    }

    /// Lines deleted over all text files.
    pub fn lines_deleted(&self) -> u64 {
        self.files.iter().filter_map(|f| f.deleted).sum()
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
}

/// Why a diff could not be computed.
#[derive(Debug, Error)]
pub enum DiffError {
    #[error("commit {commit} is not in the repository (nor in the push's quarantine)")]
    MissingCommit { commit: Oid },
    #[error("cannot read commit {commit}: {source}")]
    ReadCommit {
        commit: Oid,
        #[source]
        source: git2::Error,
    },
    #[error("cannot diff {context}: {kind} {oid} is not in the repository (nor in the push's quarantine)")]
    MissingObject {
        context: String,
        kind: &'static str,
        oid: Oid,
    },
    #[error("cannot diff {context}: cannot read {kind} {oid}: {source}")]
    ReadObject {
        context: String,
        kind: &'static str,
        oid: Oid,
        #[source]
        source: git2::Error,
    },
    #[error("cannot diff {context}: tree {oid} is malformed: {reason}")]
    BadTree {
        context: String,
        oid: Oid,
        reason: &'static str,
    },
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
    repo: &Repository,
    commit: Oid,
    opts: &DiffOptions,
) -> Result<DiffStats, DiffError> {
    let (old, new) = commit_trees(repo, commit)?;
    Differ::new(repo, format!("commit {commit}"), true).run(old, new, opts)
}

/// Trees read by recent diffs, for the next ones. A commit's diff reads its
/// first parent's trees, which the parent's own diff reads again as its new
/// side; and a directory's tree as a commit leaves it is, more often than
/// not, the one an earlier diff (of a newer commit that also changed the
/// directory) read as its old side. With libgit2's object cache off (see
/// [`crate::git::repo`]) a history diffed newest to oldest would otherwise read
/// and inflate most trees twice. Holds two generations of at most
/// [`TREES_PER_GENERATION`] trees: what the older one still has when the
/// newer fills up is forgotten.
/// A few hundred trees of a few kilobytes each: enough to span the diffs
/// between two changes of the same directory in a busy history.
const TREES_PER_GENERATION: usize = 512;

#[derive(Default)]
pub struct TreeCache {
    current: HashMap<Oid, RawTree>,
    last: HashMap<Oid, RawTree>,
}

impl TreeCache {
    fn get(&mut self, oid: Oid) -> Option<RawTree> {
        if let Some(tree) = self.current.get(&oid) {
            return Some(tree.clone());
        }
        let tree = self.last.remove(&oid)?;
        self.current.insert(oid, tree.clone());
        Some(tree)
    }

    fn put(&mut self, oid: Oid, tree: &RawTree) {
        self.current.insert(oid, tree.clone());
    }

    /// Called after each diff: starts a new generation when this one is full.
    fn rotate(&mut self) {
        if self.current.len() >= TREES_PER_GENERATION {
            self.last = std::mem::take(&mut self.current);
        }
    }
}

/// A tree object's bytes, read entry by entry as git's `tree-walk.c` reads
/// them. Parsing the bytes in place instead of through libgit2's tree
/// objects (which parse every entry's mode with `strtol` and allocate an
/// entry array) halved the cost of a path-only diff.
#[derive(Clone)]
struct RawTree {
    oid: Oid,
    data: Rc<[u8]>,
}

/// One entry of a [`RawTree`].
struct Entry<'t> {
    name: &'t [u8],
    /// Canonical mode (see [`canon_mode`]).
    mode: u32,
    /// The entry's object id, as the tree stores it.
    id: &'t [u8],
}

impl Entry<'_> {
    fn oid(&self) -> Oid {
        Oid::from_bytes(self.id).unwrap_or(Oid::ZERO_SHA1)
    }
}

/// The entries of a [`RawTree`], in order; an error ends them.
struct Entries<'t> {
    rest: &'t [u8],
}

impl<'t> Entries<'t> {
    /// Git's `decode_tree_entry`: `<octal mode> <name>\0<20-byte id>`.
    fn next_entry(&mut self) -> Result<Option<Entry<'t>>, &'static str> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        // The mode is read as it is scanned: a tree is read entry by entry
        // for every commit diffed, so this loop is hot.
        let mut mode: u32 = 0;
        let mut digits = 0;
        loop {
            match self.rest.get(digits) {
                Some(b' ') => break,
                Some(&c @ b'0'..=b'7') => mode = mode.wrapping_shl(3) | u32::from(c - b'0'),
                Some(_) => return Err("an entry's mode is not octal"),
                None => return Err("an entry has no space after its mode"),
            }
            digits += 1;
        }
        if digits == 0 {
            return Err("an entry has an empty mode");
        }
        let after = self.rest.get(digits + 1..).unwrap_or(&[]);
        // Names are short: a plain scan beats a vectorised search here.
        let end = after
            .iter()
            .position(|&b| b == 0)
            .ok_or("an entry's name is not terminated")?;
        let name = after.get(..end).unwrap_or(&[]);
        if name.is_empty() {
            return Err("an entry has an empty name");
        }
        let id = after
            .get(end + 1..end + 21)
            .ok_or("the last entry is cut short")?;
        self.rest = after.get(end + 21..).unwrap_or(&[]);
        Ok(Some(Entry {
            name,
            mode: canon_mode(mode),
            id,
        }))
    }
}

/// [`commit_stats`] (with `lines`) or [`commit_paths`], reusing the trees of
/// the previous call through `cache`: for diffing many commits in a row,
/// newest first.
/// `trees` are the first parent's and the commit's tree ids when the caller
/// already knows them (saving two commit reads); `None` reads them.
/// `packs` reads trees and blobs from the pack files directly where it can
/// (see [`crate::git::pack`]); libgit2 reads the rest.
pub fn commit_diff_cached(
    repo: &Repository,
    commit: Oid,
    trees: Option<(Option<Oid>, Oid)>,
    lines: bool,
    opts: &DiffOptions,
    cache: &mut TreeCache,
    packs: Option<&PackReader<'_>>,
) -> Result<DiffStats, DiffError> {
    let (old, new) = match trees {
        Some((old, new)) => (old, Some(new)),
        None => commit_trees(repo, commit)?,
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
    repo: &Repository,
    old_tree: Option<Oid>,
    new_tree: Oid,
    opts: &DiffOptions,
) -> Result<DiffStats, DiffError> {
    Differ::new(repo, trees_context(old_tree, new_tree), true).run(old_tree, Some(new_tree), opts)
}

/// The paths [`commit_stats`] reports, without line counts (`added` and
/// `deleted` are `None`). Reads no blob unless inexact rename detection
/// needs to compare contents.
pub fn commit_paths(
    repo: &Repository,
    commit: Oid,
    opts: &DiffOptions,
) -> Result<DiffStats, DiffError> {
    let (old, new) = commit_trees(repo, commit)?;
    Differ::new(repo, format!("commit {commit}"), false).run(old, new, opts)
}

/// The paths [`tree_stats`] reports, without line counts.
pub fn tree_paths(
    repo: &Repository,
    old_tree: Option<Oid>,
    new_tree: Oid,
    opts: &DiffOptions,
) -> Result<DiffStats, DiffError> {
    Differ::new(repo, trees_context(old_tree, new_tree), false).run(old_tree, Some(new_tree), opts)
}

fn trees_context(old: Option<Oid>, new: Oid) -> String {
    match old {
        Some(old) => format!("tree {old} -> tree {new}"),
        None => format!("the empty tree -> tree {new}"),
    }
}

/// The first parent's tree (if any) and the commit's tree.
fn commit_trees(repo: &Repository, commit: Oid) -> Result<(Option<Oid>, Option<Oid>), DiffError> {
    let read = |oid: Oid| {
        repo.find_commit(oid).map_err(|e| {
            if e.code() == git2::ErrorCode::NotFound {
                DiffError::MissingCommit { commit: oid }
            } else {
                DiffError::ReadCommit {
                    commit: oid,
                    source: e,
                }
            }
        })
    };
    let c = read(commit)?;
    let new = c.tree_id();
    let old = match c.parent_ids().next() {
        Some(parent) => Some(read(parent)?.tree_id()),
        None => None,
    };
    Ok((old, Some(new)))
}

const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;
const S_IFGITLINK: u32 = 0o160000;

/// Git's `canon_mode`: what a tree entry's mode means.
fn canon_mode(mode: u32) -> u32 {
    match mode & S_IFMT {
        S_IFREG => S_IFREG | if mode & 0o100 != 0 { 0o755 } else { 0o644 },
        S_IFLNK => S_IFLNK,
        S_IFDIR => S_IFDIR,
        _ => S_IFGITLINK,
    }
}

fn is_dir(mode: u32) -> bool {
    mode & S_IFMT == S_IFDIR
}

fn is_reg(mode: u32) -> bool {
    mode & S_IFMT == S_IFREG
}

/// Git's `base_name_compare`: tree order, where a directory sorts as if its
/// name ended in `/`.
fn base_name_compare(a: &[u8], a_mode: u32, b: &[u8], b_mode: u32) -> std::cmp::Ordering {
    let len = a.len().min(b.len());
    match a[..len].cmp(&b[..len]) {
        std::cmp::Ordering::Equal => {}
        other => return other,
    }
    let next = |name: &[u8], mode: u32| match name.get(len) {
        Some(c) => *c,
        None if is_dir(mode) => b'/',
        None => 0,
    };
    next(a, a_mode).cmp(&next(b, b_mode))
}

/// One side of a changed path.
#[derive(Clone, Debug)]
struct Side {
    path: Vec<u8>,
    mode: u32,
    oid: Oid,
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
    repo: &'r Repository,
    /// The repository's object database, for trees (see [`RawTree`]).
    /// Opened on first need: with a pack reader most diffs never need it.
    odb: std::cell::OnceCell<Option<Odb<'r>>>,
    context: String,
    lines: bool,
    spans: HashMap<Oid, Option<std::rc::Rc<Spans>>>,
    trees: std::cell::RefCell<TreeCache>,
    /// Pack files read directly, when the caller has them open.
    packs: Option<&'r PackReader<'r>>,
}

impl<'r> Differ<'r> {
    fn new(repo: &'r Repository, context: String, lines: bool) -> Self {
        Differ {
            repo,
            odb: std::cell::OnceCell::new(),
            context,
            lines,
            spans: HashMap::new(),
            trees: std::cell::RefCell::new(TreeCache::default()),
            packs: None,
        }
    }

    fn run(
        &mut self,
        old: Option<Oid>,
        new: Option<Oid>,
        opts: &DiffOptions,
    ) -> Result<DiffStats, DiffError> {
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
        for pair in pairs {
            files.push(self.change(pair)?);
        }
        Ok(DiffStats { files })
    }

    fn missing_or_read(&self, kind: &'static str, oid: Oid, e: git2::Error) -> DiffError {
        if e.code() == git2::ErrorCode::NotFound {
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

    fn tree(&self, oid: Oid) -> Result<RawTree, DiffError> {
        if let Some(tree) = self.trees.borrow_mut().get(oid) {
            return Ok(tree);
        }
        if let Some((ObjectType::Tree, data)) = self.packs.and_then(|p| p.read(oid)) {
            let tree = RawTree { oid, data };
            self.trees.borrow_mut().put(oid, &tree);
            return Ok(tree);
        }
        let odb = match self.odb.get_or_init(|| self.repo.odb().ok()) {
            Some(odb) => odb,
            None => {
                return Err(self.missing_or_read(
                    "tree",
                    oid,
                    git2::Error::from_str("the object database cannot be opened"),
                ))
            }
        };
        let object = odb
            .read(oid)
            .map_err(|e| self.missing_or_read("tree", oid, e))?;
        if object.kind() != ObjectType::Tree {
            return Err(self.missing_or_read(
                "tree",
                oid,
                git2::Error::from_str(&format!("it is a {}", object.kind().str())),
            ));
        }
        let tree = RawTree {
            oid,
            data: Rc::from(object.data()),
        };
        self.trees.borrow_mut().put(oid, &tree);
        Ok(tree)
    }

    fn bad_tree(&self, tree: &RawTree, reason: &'static str) -> DiffError {
        DiffError::BadTree {
            context: self.context.clone(),
            oid: tree.oid,
            reason,
        }
    }

    /// The next entry of a tree being walked, or `None` at its end.
    fn next_entry<'t>(
        &self,
        tree: Option<&RawTree>,
        entries: &mut Entries<'t>,
    ) -> Result<Option<Entry<'t>>, DiffError> {
        match tree {
            Some(t) => entries
                .next_entry()
                .map_err(|reason| self.bad_tree(t, reason)),
            None => Ok(None),
        }
    }

    fn blob(&self, oid: Oid) -> Result<Blob<'r>, DiffError> {
        self.repo
            .find_blob(oid)
            .map_err(|e| self.missing_or_read("blob", oid, e))
    }

    /// Git's `ll_diff_tree_paths` for two (optional) trees under `prefix`.
    fn walk(
        &self,
        prefix: &mut Vec<u8>,
        old: Option<&RawTree>,
        new: Option<&RawTree>,
        out: &mut Vec<Pair>,
    ) -> Result<(), DiffError> {
        let mut old_entries = Entries {
            rest: old.map_or(&[][..], |t| &t.data),
        };
        let mut new_entries = Entries {
            rest: new.map_or(&[][..], |t| &t.data),
        };
        let mut a = self.next_entry(old, &mut old_entries)?;
        let mut b = self.next_entry(new, &mut new_entries)?;
        loop {
            let order = match (&a, &b) {
                (Some(a), Some(b)) => base_name_compare(a.name, a.mode, b.name, b.mode),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => return Ok(()),
            };
            match order {
                std::cmp::Ordering::Equal => {
                    // Same name and both trees or both non-trees.
                    if let (Some(a), Some(b)) = (&a, &b) {
                        if a.id != b.id || a.mode != b.mode {
                            let len = prefix.len();
                            prefix.extend_from_slice(a.name);
                            if is_dir(a.mode) {
                                let ta = self.tree(a.oid())?;
                                let tb = self.tree(b.oid())?;
                                prefix.push(b'/');
                                self.walk(prefix, Some(&ta), Some(&tb), out)?;
                            } else {
                                out.push(Pair {
                                    old: Some(Side {
                                        path: prefix.clone(),
                                        mode: a.mode,
                                        oid: a.oid(),
                                    }),
                                    new: Some(Side {
                                        path: prefix.clone(),
                                        mode: b.mode,
                                        oid: b.oid(),
                                    }),
                                    rename_score: None,
                                });
                            }
                            prefix.truncate(len);
                        }
                    }
                    a = self.next_entry(old, &mut old_entries)?;
                    b = self.next_entry(new, &mut new_entries)?;
                }
                std::cmp::Ordering::Less => {
                    if let Some(a) = &a {
                        self.one_side(prefix, a.name, a.mode, a.oid(), true, out)?;
                    }
                    a = self.next_entry(old, &mut old_entries)?;
                }
                std::cmp::Ordering::Greater => {
                    if let Some(b) = &b {
                        self.one_side(prefix, b.name, b.mode, b.oid(), false, out)?;
                    }
                    b = self.next_entry(new, &mut new_entries)?;
                }
            }
        }
    }

    /// An entry only on one side: deleted (`old`) or added, recursively for
    /// a tree.
    fn one_side(
        &self,
        prefix: &mut Vec<u8>,
        name: &[u8],
        mode: u32,
        oid: Oid,
        old: bool,
        out: &mut Vec<Pair>,
    ) -> Result<(), DiffError> {
        let len = prefix.len();
        prefix.extend_from_slice(name);
        if is_dir(mode) {
            let tree = self.tree(oid)?;
            prefix.push(b'/');
            if old {
                self.walk(prefix, Some(&tree), None, out)?;
            } else {
                self.walk(prefix, None, Some(&tree), out)?;
            }
        } else {
            let side = Side {
                path: prefix.clone(),
                mode,
                oid,
            };
            out.push(if old {
                Pair {
                    old: Some(side),
                    new: None,
                    rename_score: None,
                }
            } else {
                Pair {
                    old: None,
                    new: Some(side),
                    rename_score: None,
                }
            });
        }
        prefix.truncate(len);
        Ok(())
    }

    /// The public record of one pair, with line counts when asked for.
    fn change(&mut self, pair: Pair) -> Result<FileChange, DiffError> {
        let status = match (&pair.old, &pair.new, pair.rename_score) {
            (_, _, Some(score)) => ChangeKind::Renamed {
                similarity: (score * 100 / MAX_SCORE as u32).min(100) as u8,
            },
            (None, _, _) => ChangeKind::Added,
            (_, None, _) => ChangeKind::Deleted,
            (Some(o), Some(n), _) if o.mode & S_IFMT != n.mode & S_IFMT => ChangeKind::TypeChanged,
            _ => ChangeKind::Modified,
        };
        let (added, deleted) = if self.lines {
            match self.line_counts(pair.old.as_ref(), pair.new.as_ref())? {
                Some((a, d)) => (Some(a), Some(d)),
                None => (None, None),
            }
        } else {
            (None, None)
        };
        Ok(FileChange {
            status,
            old_mode: pair.old.as_ref().map(|s| s.mode),
            new_mode: pair.new.as_ref().map(|s| s.mode),
            old_path: pair.old.map(|s| s.path),
            new_path: pair.new.map(|s| s.path),
            added,
            deleted,
        })
    }

    /// Numstat's numbers for one pair; `None` when either side is binary.
    fn line_counts(
        &self,
        old: Option<&Side>,
        new: Option<&Side>,
    ) -> Result<Option<(u64, u64)>, DiffError> {
        let old_data = old.map(|s| self.content(s)).transpose()?;
        let new_data = new.map(|s| self.content(s)).transpose()?;
        let old_bytes = old_data.as_ref().map(|c| c.bytes());
        let new_bytes = new_data.as_ref().map(|c| c.bytes());
        if old_bytes.is_some_and(is_binary) || new_bytes.is_some_and(is_binary) {
            return Ok(None);
        }
        match (old_bytes, new_bytes) {
            (None, None) => Ok(Some((0, 0))),
            (Some(o), None) => Ok(Some((0, count_lines(o)))),
            (None, Some(n)) => Ok(Some((count_lines(n), 0))),
            (Some(o), Some(n)) => {
                if old.map(|s| s.oid) == new.map(|s| s.oid)
                    && old.map(|s| s.mode & S_IFMT) == new.map(|s| s.mode & S_IFMT)
                {
                    return Ok(Some((0, 0)));
                }
                if o.is_empty() || n.is_empty() {
                    return Ok(Some((count_lines(n), count_lines(o))));
                }
                let path = new.or(old).map(|s| s.path.as_slice()).unwrap_or_default();
                self.xdiff(o, n, path).map(Some)
            }
        }
    }

    /// Lines added and deleted between two texts, by libgit2's xdiff.
    fn xdiff(&self, old: &[u8], new: &[u8], path: &[u8]) -> Result<(u64, u64), DiffError> {
        let mut opts = git2::DiffOptions::new();
        opts.force_text(true).context_lines(0).interhunk_lines(0);
        let patch = git2::Patch::from_buffers(old, None, new, None, Some(&mut opts))
            .and_then(|p| p.line_stats());
        match patch {
            Ok((_, added, deleted)) => Ok((added as u64, deleted as u64)),
            Err(source) => Err(DiffError::Lines {
                context: self.context.clone(),
                path: String::from_utf8_lossy(path).into_owned(),
                source,
            }),
        }
    }

    /// The bytes git diffs for one side: blob content, or
    /// `Subproject commit <hex>\n` for a gitlink.
    fn content(&self, side: &Side) -> Result<Content<'r>, DiffError> {
        if side.mode & S_IFMT == S_IFGITLINK {
            Ok(Content::Owned(
                format!("Subproject commit {}\n", side.oid).into_bytes(),
            ))
        } else {
            self.blob_content(side.oid)
        }
    }

    /// A blob's bytes, from the pack files directly where possible.
    fn blob_content(&self, oid: Oid) -> Result<Content<'r>, DiffError> {
        match self.packs.and_then(|p| p.read(oid)) {
            Some((ObjectType::Blob, data)) => Ok(Content::Shared(data)),
            _ => Ok(Content::Blob(self.blob(oid)?)),
        }
    }

    /// Git's `diffcore_rename` for `-M` without copies or breaks.
    fn detect_renames(&mut self, mut pairs: Vec<Pair>) -> Result<Vec<Pair>, DiffError> {
        // Destinations (additions) and sources (deletions), in queue order.
        let dsts: Vec<usize> = (0..pairs.len())
            .filter(|&i| pairs[i].old.is_none() && pairs[i].new.is_some())
            .collect();
        let srcs: Vec<usize> = (0..pairs.len())
            .filter(|&i| pairs[i].old.is_some() && pairs[i].new.is_none())
            .collect();
        if dsts.is_empty() || srcs.is_empty() {
            return Ok(pairs);
        }
        let side = |pairs: &[Pair], i: usize, old: bool| -> Option<Side> {
            if old {
                pairs[i].old.clone()
            } else {
                pairs[i].new.clone()
            }
        };
        let src_sides: Vec<Side> = srcs.iter().filter_map(|&i| side(&pairs, i, true)).collect();
        let dst_sides: Vec<Side> = dsts
            .iter()
            .filter_map(|&i| side(&pairs, i, false))
            .collect();
        let mut src_used = vec![false; src_sides.len()];
        // For each destination, the source it was renamed from and the score.
        let mut dst_match: Vec<Option<(usize, u32)>> = vec![None; dst_sides.len()];

        // 1. Exact renames: identical blobs; among several, the first unused
        //    source with the same basename, else the first unused one.
        let mut by_oid: HashMap<Oid, Vec<usize>> = HashMap::new();
        for (s, side) in src_sides.iter().enumerate() {
            by_oid.entry(side.oid).or_default().push(s);
        }
        for (d, target) in dst_sides.iter().enumerate() {
            let Some(candidates) = by_oid.get(&target.oid) else {
                continue;
            };
            let mut best: Option<usize> = None;
            let mut best_score = -1;
            let mut budget = 100;
            for &s in candidates {
                let source = &src_sides[s];
                if (!is_reg(source.mode) || !is_reg(target.mode)) && source.mode != target.mode {
                    continue;
                }
                if src_used[s] {
                    continue;
                }
                let score = 1 + i32::from(basename_same(&source.path, &target.path));
                if score > best_score {
                    best = Some(s);
                    best_score = score;
                    if score == 2 {
                        break;
                    }
                }
                budget -= 1;
                if budget == 0 {
                    break;
                }
            }
            if let Some(s) = best {
                src_used[s] = true;
                dst_match[d] = Some((s, MAX_SCORE as u32));
            }
        }

        // 2. Basename matches: a basename unique among the remaining sources
        //    and among the remaining destinations, at >= 75% similarity.
        let min_basename_score = DEFAULT_RENAME_SCORE + (MAX_SCORE - DEFAULT_RENAME_SCORE) / 2;
        let mut src_base: HashMap<&[u8], Option<usize>> = HashMap::new();
        for (s, side) in src_sides.iter().enumerate() {
            if !src_used[s] {
                src_base
                    .entry(basename(&side.path))
                    .and_modify(|v| *v = None)
                    .or_insert(Some(s));
            }
        }
        let mut dst_base: HashMap<&[u8], Option<usize>> = HashMap::new();
        for (d, side) in dst_sides.iter().enumerate() {
            if dst_match[d].is_none() {
                dst_base
                    .entry(basename(&side.path))
                    .and_modify(|v| *v = None)
                    .or_insert(Some(d));
            }
        }
        for s in 0..src_sides.len() {
            if src_used[s] {
                continue;
            }
            let base = basename(&src_sides[s].path);
            let (Some(Some(si)), Some(Some(d))) = (src_base.get(base), dst_base.get(base)) else {
                continue;
            };
            let (si, d) = (*si, *d);
            if dst_match[d].is_some() {
                continue;
            }
            let score = self.similarity(&src_sides[si], &dst_sides[d], min_basename_score)?;
            if score < min_basename_score {
                continue;
            }
            src_used[si] = true;
            dst_match[d] = Some((si, score as u32));
        }

        // 3. The similarity matrix over what is left, best pairs first.
        let rest_src: Vec<usize> = (0..src_sides.len()).filter(|&s| !src_used[s]).collect();
        let rest_dst: Vec<usize> = (0..dst_sides.len())
            .filter(|&d| dst_match[d].is_none())
            .collect();
        let (nd, ns) = (rest_dst.len() as u64, rest_src.len() as u64);
        if nd > 0 && ns > 0 && nd * ns <= RENAME_LIMIT * RENAME_LIMIT {
            let mut mx: Vec<Score> = Vec::with_capacity(rest_dst.len() * CANDIDATES_PER_DST);
            for &d in &rest_dst {
                let mut m = [Score::EMPTY; CANDIDATES_PER_DST];
                for &s in &rest_src {
                    let score =
                        self.similarity(&src_sides[s], &dst_sides[d], DEFAULT_RENAME_SCORE)?;
                    let this = Score {
                        src: s as i64,
                        dst: d as i64,
                        score: score as u32,
                        name_score: i32::from(basename_same(
                            &src_sides[s].path,
                            &dst_sides[d].path,
                        )),
                    };
                    record_if_better(&mut m, this);
                }
                mx.extend_from_slice(&m);
            }
            mx.sort_by(|a, b| score_compare(a, b).cmp(&0));
            for m in &mx {
                if m.dst < 0 || u64::from(m.score) < DEFAULT_RENAME_SCORE {
                    break;
                }
                let (s, d) = (m.src as usize, m.dst as usize);
                if dst_match[d].is_some() || src_used[s] {
                    continue;
                }
                src_used[s] = true;
                dst_match[d] = Some((s, m.score));
            }
        }

        // Write back: renames take the destination's place, their sources go.
        for (d, matched) in dst_match.iter().enumerate() {
            if let Some((s, score)) = *matched {
                let pair = &mut pairs[dsts[d]];
                pair.old = Some(src_sides[s].clone());
                pair.rename_score = Some(score);
            }
        }
        let mut drop = vec![false; pairs.len()];
        for (s, used) in src_used.iter().enumerate() {
            if *used {
                drop[srcs[s]] = true;
            }
        }
        let mut k = 0;
        pairs.retain(|_| {
            let keep = !drop[k];
            k += 1;
            keep
        });
        Ok(pairs)
    }

    /// Git's `estimate_similarity`: 0..=60000, how much of the larger file
    /// the destination copied from the source.
    fn similarity(&mut self, src: &Side, dst: &Side, minimum_score: u64) -> Result<u64, DiffError> {
        if !is_reg(src.mode) || !is_reg(dst.mode) {
            return Ok(0);
        }
        let (Some(a), Some(b)) = (self.spans(src.oid)?, self.spans(dst.oid)?) else {
            return Ok(0);
        };
        let max_size = a.size.max(b.size);
        let base_size = a.size.min(b.size);
        let delta_size = max_size - base_size;
        if max_size * (MAX_SCORE - minimum_score) < delta_size * MAX_SCORE {
            return Ok(0);
        }
        if b.size == 0 {
            return Ok(0);
        }
        Ok(a.copied_into(&b) * MAX_SCORE / max_size)
    }

    /// The span hashes of a blob, computed once per diff.
    fn spans(&mut self, oid: Oid) -> Result<Option<std::rc::Rc<Spans>>, DiffError> {
        if let Some(s) = self.spans.get(&oid) {
            return Ok(s.clone());
        }
        let content = self.blob_content(oid)?;
        let spans = Some(std::rc::Rc::new(Spans::of(content.bytes())));
        self.spans.insert(oid, spans.clone());
        Ok(spans)
    }
}

/// Bytes to diff: a blob's, or made up (gitlinks).
enum Content<'r> {
    Blob(Blob<'r>),
    Shared(Rc<[u8]>),
    Owned(Vec<u8>),
}

impl Content<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Content::Blob(b) => b.content(),
            Content::Shared(v) => v,
            Content::Owned(v) => v,
        }
    }
}

/// Git's `buffer_is_binary` (plus the big-file rule).
fn is_binary(data: &[u8]) -> bool {
    data.len() > BIG_FILE_THRESHOLD || data[..data.len().min(FIRST_FEW_BYTES)].contains(&0)
}

/// Git's `count_lines`: newlines, plus an unterminated last line.
fn count_lines(data: &[u8]) -> u64 {
    let newlines = data.iter().filter(|&&c| c == b'\n').count() as u64;
    newlines + u64::from(data.last().is_some_and(|&c| c != b'\n'))
}

/// The part of a path after its last `/`.
fn basename(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&c| c == b'/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// Git's `basename_same`.
fn basename_same(a: &[u8], b: &[u8]) -> bool {
    basename(a) == basename(b)
}

const CANDIDATES_PER_DST: usize = 4;

/// Git's `struct diff_score`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Score {
    src: i64,
    dst: i64,
    score: u32,
    name_score: i32,
}

impl Score {
    const EMPTY: Score = Score {
        src: -1,
        dst: -1,
        score: 0,
        name_score: 0,
    };
}

/// Git's `score_compare`: negative when `a` is the better candidate.
fn score_compare(a: &Score, b: &Score) -> i64 {
    if a.dst < 0 {
        return i64::from(b.dst >= 0);
    } else if b.dst < 0 {
        return -1;
    }
    if a.score == b.score {
        return i64::from(b.name_score) - i64::from(a.name_score);
    }
    i64::from(b.score) - i64::from(a.score)
}

/// Git's `record_if_better`: keep the four best candidates of one
/// destination.
fn record_if_better(m: &mut [Score; CANDIDATES_PER_DST], o: Score) {
    let mut worst = 0;
    for i in 1..CANDIDATES_PER_DST {
        if score_compare(&m[i], &m[worst]) > 0 {
            worst = i;
        }
    }
    if score_compare(&m[worst], &o) > 0 {
        m[worst] = o;
    }
}

/// Git's `diffcore-delta.c` fingerprint of a blob: the multiset of hashes of
/// its lines (or 64-byte pieces), each weighted by its length.
#[derive(Debug, PartialEq, Eq)]
struct Spans {
    size: u64,
    /// (hash, bytes), sorted by hash, one entry per hash.
    counts: Vec<(u32, u64)>,
}

const HASHBASE: u32 = 107927;

impl Spans {
    fn of(data: &[u8]) -> Spans {
        let is_text = !is_binary(data);
        let mut counts: HashMap<u32, u64> = HashMap::new();
        let (mut accum1, mut accum2, mut n) = (0u32, 0u32, 0u64);
        let mut i = 0;
        while i < data.len() {
            let c = data[i];
            i += 1;
            if is_text && c == b'\r' && data.get(i) == Some(&b'\n') {
                continue;
            }
            let old_1 = accum1;
            accum1 = (accum1 << 7) ^ (accum2 >> 25);
            accum2 = (accum2 << 7) ^ (old_1 >> 25);
            accum1 = accum1.wrapping_add(u32::from(c));
            n += 1;
            if n < 64 && c != b'\n' {
                continue;
            }
            let hash = accum1.wrapping_add(accum2.wrapping_mul(0x61)) % HASHBASE;
            *counts.entry(hash).or_default() += n;
            n = 0;
            accum1 = 0;
            accum2 = 0;
        }
        if n > 0 {
            let hash = accum1.wrapping_add(accum2.wrapping_mul(0x61)) % HASHBASE;
            *counts.entry(hash).or_default() += n;
        }
        let mut counts: Vec<(u32, u64)> = counts.into_iter().collect();
        counts.sort_unstable();
        Spans {
            size: data.len() as u64,
            counts,
        }
    }

    /// Git's `src_copied`: bytes of `dst` found in `self`.
    fn copied_into(&self, dst: &Spans) -> u64 {
        let (mut i, mut j, mut copied) = (0, 0, 0);
        while i < self.counts.len() && j < dst.counts.len() {
            let (sh, sc) = self.counts[i];
            let (dh, dc) = dst.counts[j];
            match sh.cmp(&dh) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    copied += sc.min(dc);
                    i += 1;
                    j += 1;
                }
            }
        }
        copied
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use std::cmp::Ordering;

    /// Name, canonical mode and id of one entry.
    type Read = (Vec<u8>, u32, Vec<u8>);

    fn entries_of(data: &[u8]) -> Result<Vec<Read>, &'static str> {
        let mut entries = Entries { rest: data };
        let mut out = Vec::new();
        while let Some(e) = entries.next_entry()? {
            out.push((e.name.to_vec(), e.mode, e.id.to_vec()));
        }
        Ok(out)
    }

    #[test]
    fn tree_entries_are_read_as_git_writes_them() {
        let id = [7u8; 20];
        let mut data = b"100644 a.txt\0".to_vec();
        data.extend_from_slice(&id);
        data.extend_from_slice(b"40000 dir\0");
        data.extend_from_slice(&[0u8; 20]);
        data.extend_from_slice(b"100664 odd\0");
        data.extend_from_slice(&id);
        let entries = entries_of(&data).unwrap();
        assert_eq!(
            entries,
            vec![
                (b"a.txt".to_vec(), 0o100644, id.to_vec()),
                (b"dir".to_vec(), 0o040000, vec![0u8; 20]),
                // Canonicalised as git does.
                (b"odd".to_vec(), 0o100644, id.to_vec()),
            ]
        );
        assert_eq!(entries_of(b""), Ok(vec![]));
    }

    #[test]
    fn malformed_tree_entries_are_errors_not_panics() {
        let id = [1u8; 20];
        let with_id = |head: &[u8]| {
            let mut d = head.to_vec();
            d.extend_from_slice(&id);
            d
        };
        assert!(entries_of(&with_id(b"100844 a\0")).is_err());
        assert!(entries_of(&with_id(b" a\0")).is_err());
        assert!(entries_of(&with_id(b"100644 \0")).is_err());
        assert!(entries_of(b"100644 a").is_err());
        assert!(entries_of(b"100644").is_err());
        assert!(entries_of(b"100644 a\0short").is_err());
    }

    #[test]
    fn a_directory_sorts_as_if_its_name_ended_in_a_slash() {
        let dir = S_IFDIR;
        let file = 0o100644;
        assert_eq!(base_name_compare(b"a", file, b"a", dir), Ordering::Less);
        assert_eq!(base_name_compare(b"a.c", file, b"a", dir), Ordering::Less);
        assert_eq!(base_name_compare(b"a0", file, b"a", dir), Ordering::Greater);
        assert_eq!(base_name_compare(b"a", file, b"a.c", file), Ordering::Less);
        assert_eq!(base_name_compare(b"a", dir, b"a", dir), Ordering::Equal);
    }

    #[test]
    fn modes_are_canonicalised_like_git() {
        assert_eq!(canon_mode(0o100664), 0o100644);
        assert_eq!(canon_mode(0o100775), 0o100755);
        assert_eq!(canon_mode(0o120777), 0o120000);
        assert_eq!(canon_mode(0o040755), 0o040000);
        assert_eq!(canon_mode(0o160000), 0o160000);
    }

    #[test]
    fn lines_are_newlines_plus_an_unterminated_last_line() {
        assert_eq!(count_lines(b""), 0);
        assert_eq!(count_lines(b"a"), 1);
        assert_eq!(count_lines(b"a\n"), 1);
        assert_eq!(count_lines(b"a\r\nb"), 2);
        assert_eq!(count_lines(b"\n\n"), 2);
    }

    #[test]
    fn a_nul_in_the_first_8000_bytes_makes_a_file_binary() {
        assert!(is_binary(b"a\0b"));
        let mut late = vec![b'a'; 8000];
        late.push(0);
        assert!(!is_binary(&late));
        late[7999] = 0;
        assert!(is_binary(&late));
    }

    #[test]
    fn basenames_are_compared_after_the_last_slash() {
        assert!(basename_same(b"a/b/c.txt", b"c.txt"));
        assert!(basename_same(b"x/c.txt", b"y/z/c.txt"));
        assert!(!basename_same(b"x/c.txt", b"x/d.txt"));
        assert!(!basename_same(b"xc.txt", b"c.txt"));
    }

    #[test]
    fn span_hashes_ignore_cr_before_lf_in_text_but_not_in_binary() {
        assert_eq!(Spans::of(b"a\r\nb\r\n").counts, Spans::of(b"a\nb\n").counts);
        assert_ne!(Spans::of(b"\0\r\n").counts, Spans::of(b"\0\n").counts);
    }

    #[test]
    fn span_hashes_cut_long_lines_every_64_bytes_and_keep_the_tail() {
        let spans = Spans::of(&[b'x'; 130]);
        let total: u64 = spans.counts.iter().map(|c| c.1).sum();
        assert_eq!(total, 130);
        // Two identical 64-byte pieces share one hash.
        assert_eq!(spans.counts.len(), 2);
    }

    #[test]
    fn copied_bytes_are_the_multiset_intersection() {
        let a = Spans::of(b"one\ntwo\ntwo\nthree\n");
        let b = Spans::of(b"two\nthree\nfour\n");
        assert_eq!(a.copied_into(&b), 4 + 6);
    }

    #[test]
    fn better_scores_sort_first_and_empty_slots_last() {
        let s = |score, name_score| Score {
            src: 0,
            dst: 0,
            score,
            name_score,
        };
        assert!(score_compare(&s(40000, 0), &s(30000, 1)) < 0);
        assert!(score_compare(&s(30000, 1), &s(30000, 0)) < 0);
        assert!(score_compare(&Score::EMPTY, &s(0, 0)) > 0);
        assert_eq!(score_compare(&Score::EMPTY, &Score::EMPTY), 0);
        let mut m = [Score::EMPTY; CANDIDATES_PER_DST];
        for score in [10, 50, 20, 40, 30] {
            record_if_better(&mut m, s(score, 0));
        }
        let mut kept: Vec<u32> = m.iter().map(|x| x.score).collect();
        kept.sort_unstable();
        assert_eq!(kept, vec![20, 30, 40, 50]);
    }
}
