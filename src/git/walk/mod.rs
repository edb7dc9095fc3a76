//! Walking commits: which commits a ref update brings in, that is, those
//! reachable from the new tip and not from a set of hidden tips.
//!
//! This is git's own `rev-list NEW --not HIDDEN...` algorithm (`limit_list` in
//! git's revision.c): a walk in commit-date order from both sides at once that
//! stops when only hidden ("uninteresting") commits are left to look at, plus
//! a few more for clock skew. libgit2's revision walk is not used because it
//! slows down badly with thousands of hidden tips; this one costs a heap push
//! per tip. Clock skew can only make it report a commit that is in fact
//! hidden, which means judging one commit too many: it fails safe.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::path::PathBuf;

use thiserror::Error;

use crate::git::commitgraph::CommitGraph;
use crate::git::oid::ObjectId;
use crate::git::repo::{Objects, Repo};

mod ancestry;
mod map;
mod new_only;
mod prefetch;
mod read;

pub use ancestry::is_ancestor;

use map::IdTable;
pub use map::{IdList, OidHasher, OidMap, OidSet, RawCommits};

/// How many extra hidden commits git's walk looks at after the last
/// interesting one, to survive commit dates that go backwards.
const SLOP: u32 = 5;

#[derive(Debug, Error)]
pub enum WalkError {
    #[error("commit {oid} is not in the repository (nor in the push's quarantine)")]
    Missing { oid: ObjectId },
    #[error("cannot read object {oid}: {source}")]
    Read {
        oid: ObjectId,
        #[source]
        source: crate::git::repo::GitError,
    },
    #[error("object {oid} should be a commit but is a {kind}")]
    NotACommit { oid: ObjectId, kind: String },
    #[error("commit {oid} cannot be parsed: {reason}")]
    BadCommit { oid: ObjectId, reason: String },
    #[error("commit {oid} is malformed: {problem}\n  help: write the commit again with plain git (`git commit --amend --no-edit`, or `git rebase` for older ones), which writes well-formed objects, and push again")]
    Malformed {
        oid: ObjectId,
        problem: Box<crate::git::object::fsck::Malformed>,
    },
    #[error("the push brings more than {limit} new commits (settings.max_commits)")]
    TooMany { limit: usize },
    #[error("the walk ran past its deadline after {commits} commits")]
    Deadline { commits: usize },
    #[error(
        "the walk met more commits (or parent links) than trailgate can number (4,294,967,295)"
    )]
    TooLarge,
}

/// What [`Walker::walk_with`] hands each commit's id and raw bytes to.
pub type OnRead<'a> = dyn FnMut(ObjectId, &[u8]) + 'a;

/// A commit the walker knows of, by number (its index in `Walker::nodes`):
/// numbers instead of ids keep the per-commit memory at about a third of
/// what a map of ids to parent ids took (a 1,000,000-commit push walks a
/// million of these).
struct Node {
    time: i64,
    /// Where the parents' numbers start in `Walker::parents`.
    parents_at: u32,
    /// How many parents; [`NOT_LOADED`] until the commit is read.
    parent_count: u32,
}

/// `Node::parent_count` of a commit known only as somebody's parent.
const NOT_LOADED: u32 = u32::MAX;

const SEEN: u32 = 1;
const HIDDEN: u32 = 2;
const DONE: u32 = 4;
/// The walk handed the commit's bytes to its caller.
const HANDED: u32 = 8;
/// The low bits of a mark hold the flags above, the rest the number of the
/// walk that set them, so that a new walk starts with every flag clear
/// without touching every node.
const FLAG_BITS: u32 = 4;
const FLAG_MASK: u32 = (1 << FLAG_BITS) - 1;

/// What [`Walker::walk_with`] found.
#[derive(Debug, Default)]
pub struct Walked {
    /// Commits reachable from the tips and not from the hidden ones, newest
    /// first.
    pub commits: IdList,
    /// Those of `commits` whose bytes this walk did not hand to its caller:
    /// read by an earlier walk, or known from the commit-graph.
    pub not_handed: IdList,
}

#[derive(PartialEq, Eq)]
struct Entry {
    time: i64,
    seq: u64,
    node: u32,
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        // Newest first; among equal dates, first inserted first (git's order).
        self.time
            .cmp(&other.time)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// How many found commits a walk checks for being new before it assumes
/// some may be old (each check is an index lookup in the repository).
const MAX_NEW_CHECKS: usize = 64;

/// Walks commits of one repository. Parsed commits are kept between walks, so
/// judging several rules or refs of one push reads each commit once.
pub struct Walker<'r> {
    odb: Objects<'r>,
    /// Commit ids and node numbers, both ways.
    ids: IdTable,
    nodes: Vec<Node>,
    /// Parents of loaded nodes, by number; each node owns a run of these.
    parents: Vec<u32>,
    /// Per node, this walk's flags (see [`FLAG_BITS`]).
    marks: Vec<u32>,
    /// The number of the current walk, for `marks`.
    walk_number: u32,
    /// The repository's `objects` directory, whose commit-graph is opened on
    /// first need.
    objects: Option<std::path::PathBuf>,
    graph: Option<Option<CommitGraph>>,
    /// Number of commit objects read and parsed (for tests and benchmarks).
    pub commits_read: usize,
    /// When set, a walk still running at this instant stops with
    /// [`WalkError::Deadline`] (`settings.time_budget_ms`).
    pub deadline: Option<std::time::Instant>,
    /// Number of commits taken from the commit-graph instead.
    pub commits_from_graph: usize,
    /// How many commit objects to read before opening the commit-graph.
    graph_after_reads: usize,
    /// The repository without the push's quarantine: a commit it does not
    /// have is new, and no existing ref can reach it.
    store: Option<Repo>,
    /// Scratch space for a commit's parents while it is read.
    scratch: Vec<ObjectId>,
    /// The push's new commits, read ahead on another thread.
    prefetch: Option<prefetch::Prefetch>,
}

impl<'r> Walker<'r> {
    pub fn new(odb: Objects<'r>) -> Self {
        Walker {
            odb,
            ids: IdTable::default(),
            nodes: Vec::new(),
            parents: Vec::new(),
            marks: Vec::new(),
            walk_number: 0,
            objects: None,
            graph: None,
            commits_read: 0,
            deadline: None,
            commits_from_graph: 0,
            graph_after_reads: 0,
            store: None,
            scratch: Vec::new(),
            prefetch: None,
        }
    }

    /// Also takes dates and parents from the commit-graph in `objects/info`
    /// for the commits it lists (see [`crate::git::commitgraph`]): on a server
    /// with 10,000 refs the hidden tips then cost no object reads.
    pub fn with_commit_graph(mut self, objects: std::path::PathBuf) -> Self {
        self.objects = Some(objects);
        self
    }

    /// Opens the commit-graph only once this many commit objects have been
    /// read: reading the graph costs a read of the whole file (megabytes on
    /// a large repository), which pays off for walks that touch many commits
    /// (ten thousand hidden tips) but not for the common push of a few,
    /// whose memory should not grow with the history.
    pub fn graph_after_reads(mut self, reads: usize) -> Self {
        self.graph_after_reads = reads;
        self
    }

    /// Gives the walker the repository as it was before the push (without
    /// the quarantine). When every commit a walk has found is new (not in
    /// it), none can be reachable from an existing ref, so the walk stops as
    /// soon as the new side is exhausted instead of reading git's few extra
    /// "slop" commits on the hidden side. Stopping early can only ever judge
    /// more commits, never fewer.
    pub fn with_store(mut self, store: Option<Repo>) -> Self {
        self.store = store;
        self
    }

    /// Reads the push's new commits ahead of the walk, on another thread
    /// (see `prefetch.rs`): those in the packs of `dirs` (the repository's
    /// object directories) that the store given to [`Walker::with_store`]
    /// does not read, that is, the push's quarantine. Without a store,
    /// nothing is read ahead.
    pub fn read_ahead(mut self, dirs: Vec<PathBuf>) -> Self {
        let Some(store) = &self.store else {
            return self;
        };
        let old = store.object_dirs();
        let new: Vec<PathBuf> = dirs
            .into_iter()
            .map(|dir| std::fs::canonicalize(&dir).unwrap_or(dir))
            .filter(|dir| !old.contains(dir))
            .collect();
        if !new.is_empty() {
            self.prefetch = prefetch::Prefetch::start(new, store.hash_kind());
        }
        self
    }

    /// Whether an object is certainly old: the repository as it was before
    /// the push has it. `false` when that repository is not known (no
    /// quarantine), so that every commit read counts as new.
    pub fn known_old(&self, oid: ObjectId) -> bool {
        self.store
            .as_ref()
            .is_some_and(|store| store.objects().is_ok_and(|objects| objects.exists(oid)))
    }

    /// Whether a found commit may be old: in the store, or unknown.
    fn maybe_old(&self, oid: ObjectId) -> bool {
        match &self.store {
            Some(store) => store.objects().map_or(true, |objects| objects.exists(oid)),
            None => true,
        }
    }

    /// The number of a commit, given one if it has none yet. Numbers are
    /// 32 bits; a walk that would need more fails rather than wrap.
    fn number(&mut self, oid: ObjectId) -> Result<u32, WalkError> {
        if let Some(n) = self.ids.get(oid) {
            return Ok(n);
        }
        let n = u32::try_from(self.nodes.len()).map_err(|_| WalkError::TooLarge)?;
        self.ids.push(oid);
        self.nodes.push(Node {
            time: 0,
            parents_at: 0,
            parent_count: NOT_LOADED,
        });
        self.marks.push(0);
        Ok(n)
    }

    fn node(&self, n: u32) -> Option<&Node> {
        self.nodes.get(n as usize)
    }

    fn loaded(&self, n: u32) -> bool {
        self.node(n)
            .is_some_and(|node| node.parent_count != NOT_LOADED)
    }

    fn time(&self, n: u32) -> i64 {
        self.node(n).map_or(0, |node| node.time)
    }

    fn oid(&self, n: u32) -> ObjectId {
        self.ids
            .id(n)
            .unwrap_or(crate::git::oid::HashKind::Sha1.null())
    }

    /// The parents of a loaded node, by number (none for one not loaded).
    fn parents_of(&self, n: u32) -> &[u32] {
        self.node(n)
            .filter(|node| node.parent_count != NOT_LOADED)
            .and_then(|node| {
                let at = node.parents_at as usize;
                self.parents.get(at..at + node.parent_count as usize)
            })
            .unwrap_or(&[])
    }

    /// The first parent of a commit some walk has read (`Some(None)` for a
    /// root), from what the walk kept; `None` for a commit not read, which
    /// the caller reads itself.
    pub fn first_parent_read(&self, oid: ObjectId) -> Option<Option<ObjectId>> {
        let n = self.ids.get(oid).filter(|&n| self.loaded(n))?;
        Some(self.parents_of(n).first().map(|&p| self.oid(p)))
    }

    /// Fills in a node from its date and parent ids (taken from `scratch`).
    fn fill(&mut self, n: u32, time: i64) -> Result<(), WalkError> {
        let at = u32::try_from(self.parents.len()).map_err(|_| WalkError::TooLarge)?;
        // NOT_LOADED is u32::MAX: no commit object has that many parents.
        let count = u32::try_from(self.scratch.len())
            .ok()
            .filter(|&c| c != NOT_LOADED)
            .ok_or(WalkError::TooLarge)?;
        let parents = std::mem::take(&mut self.scratch);
        let mut numbered = Ok(());
        for &parent in &parents {
            match self.number(parent) {
                Ok(p) => self.parents.push(p),
                Err(e) => {
                    numbered = Err(e);
                    break;
                }
            }
        }
        self.scratch = parents;
        self.scratch.clear();
        numbered?;
        if let Some(node) = self.nodes.get_mut(n as usize) {
            node.time = time;
            node.parents_at = at;
            node.parent_count = count;
        }
        Ok(())
    }

    /// This walk's flags of a node.
    fn flags(&self, n: u32) -> u32 {
        match self.marks.get(n as usize) {
            Some(&mark) if mark >> FLAG_BITS == self.walk_number => mark & FLAG_MASK,
            _ => 0,
        }
    }

    fn set_flags(&mut self, n: u32, flags: u32) {
        let walk = self.walk_number;
        if let Some(mark) = self.marks.get_mut(n as usize) {
            *mark = (walk << FLAG_BITS) | flags;
        }
    }

    /// Starts a walk: every node's flags read as clear from now on.
    fn next_walk(&mut self) {
        self.walk_number += 1;
        if self.walk_number >= 1 << (32 - FLAG_BITS) {
            self.marks.fill(0);
            self.walk_number = 1;
        }
    }

    /// Loads a node from the commit-graph; false when there is no graph or
    /// it does not list the commit.
    fn load_from_graph(&mut self, n: u32) -> bool {
        if self.graph.is_none() && self.commits_read < self.graph_after_reads {
            return false;
        }
        let oid = self.oid(n);
        let objects = &self.objects;
        let graph = self
            .graph
            .get_or_insert_with(|| objects.as_deref().and_then(CommitGraph::open));
        let Some(commit) = graph.as_ref().and_then(|g| g.get(oid)) else {
            return false;
        };
        self.commits_from_graph += 1;
        self.scratch.clear();
        self.scratch.extend_from_slice(&commit.parents);
        // On failure the node stays unloaded; reading the object fails the
        // same way and says so.
        self.fill(n, commit.time).is_ok()
    }

    /// Commits reachable from `tips` and not from `hidden`, newest first.
    /// Fails with [`WalkError::TooMany`] once more than `limit` are found
    /// (`0` means no limit).
    pub fn walk(
        &mut self,
        tips: &[ObjectId],
        hidden: &[ObjectId],
        limit: usize,
    ) -> Result<Vec<ObjectId>, WalkError> {
        self.walk_with(tips, hidden, limit, false, &mut |_, _| {})
            .map(|walked| walked.commits.to_vec())
    }

    /// [`Walker::walk`], also handing `on_read` the raw bytes of every commit
    /// this walk reads from the interesting side, so that the caller can
    /// derive what it needs without reading and inflating the object a
    /// second time (or judge each commit as it goes, keeping nothing). A few
    /// handed over may still turn out hidden and not be in the result;
    /// commits of the result that were not handed over (read by an earlier
    /// walk, or taken from the commit-graph) are listed in
    /// [`Walked::not_handed`].
    ///
    /// `hidden_in_store`: the caller knows every hidden tip is in the
    /// repository as it was before the push (existing refs and the ref's old
    /// value are), which lets the walk stop early when it has found only new
    /// commits (see [`Walker::with_store`]).
    pub fn walk_with(
        &mut self,
        tips: &[ObjectId],
        hidden: &[ObjectId],
        limit: usize,
        hidden_in_store: bool,
        on_read: &mut OnRead<'_>,
    ) -> Result<Walked, WalkError> {
        self.next_walk();
        let mut state = WalkState {
            heap: BinaryHeap::new(),
            seq: 0,
            interesting_queued: 0,
        };
        for &oid in hidden {
            // A hidden tip that cannot be read, or that is a tree or blob,
            // hides nothing: judging more commits is the safe direction.
            if let Some(commit) = self.peel_hidden(oid) {
                self.insert(&mut state, commit, true);
            }
        }
        for &oid in tips {
            let n = self.number(oid)?;
            let handed = self.load(n, on_read)?;
            self.insert(&mut state, n, false);
            self.handed(n, handed);
        }

        let mut found: Vec<u32> = Vec::new();
        // Whether some found commit may already be in the repository (and so
        // could still turn out hidden); checked for the first few only.
        let mut found_maybe_old = !hidden_in_store || self.store.is_none();
        let mut date = i64::MAX;
        let mut slop = SLOP;
        let mut steps: u32 = 0;
        let mut parents: Vec<u32> = Vec::new();
        while let Some(entry) = state.heap.pop() {
            steps = steps.wrapping_add(1);
            if steps & 31 == 0 {
                if let Some(deadline) = self.deadline {
                    if std::time::Instant::now() >= deadline {
                        return Err(WalkError::Deadline {
                            commits: found.len(),
                        });
                    }
                }
            }
            let n = entry.node;
            let flags = self.flags(n);
            self.set_flags(n, flags | DONE);
            let hidden = flags & HIDDEN != 0;
            if !hidden {
                state.interesting_queued = state.interesting_queued.saturating_sub(1);
            }
            parents.clear();
            parents.extend_from_slice(self.parents_of(n));
            if hidden {
                if state.interesting_queued == 0 && !found_maybe_old {
                    // Only new commits were found: nothing hidden can reach them.
                    break;
                }
                for &parent in &parents {
                    // The hidden side may end at a missing object (a shallow
                    // repository); that only hides less.
                    if self.load_hidden(parent).is_ok() {
                        self.insert(&mut state, parent, true);
                    }
                }
                slop = state.still_interesting(date, slop);
                if slop == 0 {
                    break;
                }
                continue;
            }
            for &parent in &parents {
                let handed = self.load(parent, on_read)?;
                self.insert(&mut state, parent, false);
                self.handed(parent, handed);
            }
            date = entry.time;
            found.push(n);
            if !found_maybe_old && (found.len() > MAX_NEW_CHECKS || self.maybe_old(self.oid(n))) {
                found_maybe_old = true;
            }
            if limit != 0 && found.len() > limit {
                // Some of these may still turn out hidden, but a push this
                // large is rejected for its size whatever the exact count.
                return Err(WalkError::TooMany { limit });
            }
        }
        found.retain(|&n| self.flags(n) & HIDDEN == 0);
        let not_handed = found
            .iter()
            .filter(|&&n| self.flags(n) & HANDED == 0)
            .map(|&n| self.oid(n))
            .collect();
        Ok(Walked {
            commits: found.iter().map(|&n| self.oid(n)).collect(),
            not_handed,
        })
    }

    /// Records that the walk handed a commit's bytes over.
    fn handed(&mut self, n: u32, handed: bool) {
        if handed {
            let flags = self.flags(n);
            self.set_flags(n, flags | HANDED);
        }
    }

    /// Queues a loaded commit, or marks an already-seen one hidden.
    fn insert(&mut self, state: &mut WalkState, n: u32, hidden: bool) {
        let flags = self.flags(n);
        if flags & SEEN != 0 {
            if hidden && flags & HIDDEN == 0 {
                self.mark_hidden(state, n);
            }
            return;
        }
        // A commit may have been pre-marked hidden by propagation before it
        // was ever queued.
        let hidden = hidden || flags & HIDDEN != 0;
        self.set_flags(n, flags | SEEN | if hidden { HIDDEN } else { 0 });
        if !hidden {
            state.interesting_queued += 1;
        }
        state.seq += 1;
        state.heap.push(Entry {
            time: self.time(n),
            seq: state.seq,
            node: n,
        });
    }

    /// Marks a commit hidden and, where it was already walked, everything
    /// below it that the walk has seen (git's `mark_parents_uninteresting`).
    fn mark_hidden(&mut self, state: &mut WalkState, n: u32) {
        let mut stack = vec![n];
        while let Some(current) = stack.pop() {
            let flags = self.flags(current);
            if flags & HIDDEN != 0 {
                continue;
            }
            self.set_flags(current, flags | HIDDEN);
            if flags & SEEN != 0 && flags & DONE == 0 {
                // Still queued: it now counts as hidden.
                state.interesting_queued = state.interesting_queued.saturating_sub(1);
            }
            if flags & DONE != 0 {
                stack.extend_from_slice(self.parents_of(current));
            }
        }
    }
}

struct WalkState {
    heap: BinaryHeap<Entry>,
    seq: u64,
    /// Entries in the heap that are not hidden, so that "is everybody
    /// uninteresting?" is a counter check rather than a scan of the heap.
    interesting_queued: usize,
}

impl WalkState {
    /// git's `still_interesting`: keep walking while an interesting commit is
    /// queued or the queue has not yet gone below the last interesting date.
    fn still_interesting(&self, date: i64, slop: u32) -> u32 {
        let Some(head) = self.heap.peek() else {
            return 0;
        };
        if date <= head.time || self.interesting_queued > 0 {
            return SLOP;
        }
        slop - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_pop_newest_first_then_in_insertion_order() {
        let node = 0;
        let mut heap = BinaryHeap::new();
        heap.push(Entry {
            time: 1,
            seq: 1,
            node,
        });
        heap.push(Entry {
            time: 5,
            seq: 2,
            node,
        });
        heap.push(Entry {
            time: 5,
            seq: 3,
            node,
        });
        let order: Vec<(i64, u64)> =
            std::iter::from_fn(|| heap.pop().map(|e| (e.time, e.seq))).collect();
        assert_eq!(order, vec![(5, 2), (5, 3), (1, 1)]);
    }
}
