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
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use git2::{ObjectType, Odb, Oid};
use thiserror::Error;

use crate::commit;
use crate::commitgraph::CommitGraph;

/// How many extra hidden commits git's walk looks at after the last
/// interesting one, to survive commit dates that go backwards.
const SLOP: u32 = 5;

#[derive(Debug, Error)]
pub enum WalkError {
    #[error("commit {oid} is not in the repository (nor in the push's quarantine)")]
    Missing { oid: Oid },
    #[error("cannot read object {oid}: {source}")]
    Read {
        oid: Oid,
        #[source]
        source: git2::Error,
    },
    #[error("object {oid} should be a commit but is a {kind}")]
    NotACommit { oid: Oid, kind: String },
    #[error("commit {oid} cannot be parsed: {reason}")]
    BadCommit { oid: Oid, reason: String },
    #[error("the push brings more than {limit} new commits (settings.max_commits)")]
    TooMany { limit: usize },
    #[error("the walk ran past its deadline after {commits} commits")]
    Deadline { commits: usize },
}

/// Hashes object ids by folding their bytes. An id is already a
/// cryptographic hash, so SipHash's protection against chosen keys buys
/// nothing here, and the walk does a few map operations per commit.
#[derive(Default)]
pub struct OidHasher(u64);

impl Hasher for OidHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            for (w, &b) in word.iter_mut().zip(chunk) {
                *w = b;
            }
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn write_usize(&mut self, _length: usize) {
        // The length prefix of the id's byte array is always the same.
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map keyed by object id with [`OidHasher`].
pub type OidMap<V> = HashMap<Oid, V, BuildHasherDefault<OidHasher>>;

/// What [`Walker::walk_with`] hands each commit's id and raw bytes to.
pub type OnRead<'a> = dyn FnMut(Oid, &[u8]) + 'a;

/// Raw commit objects kept between the walk that read them and the facts
/// computed from them, in one growing buffer: one allocation instead of one
/// per commit, freed at once, and about the size of the commits themselves.
#[derive(Default)]
pub struct RawCommits {
    bytes: Vec<u8>,
    at: OidMap<(usize, usize)>,
}

impl RawCommits {
    /// Keeps a commit's bytes (the first copy wins).
    pub fn insert(&mut self, oid: Oid, data: &[u8]) {
        if self.at.contains_key(&oid) {
            return;
        }
        self.at.insert(oid, (self.bytes.len(), data.len()));
        self.bytes.extend_from_slice(data);
    }

    /// The bytes kept for a commit.
    pub fn get(&self, oid: Oid) -> Option<&[u8]> {
        let &(start, len) = self.at.get(&oid)?;
        self.bytes.get(start..start + len)
    }
}

/// What the walk needs to know of a commit.
struct Node {
    time: i64,
    parents: Parents,
}

/// A commit's parents without a heap allocation for the usual zero or one.
/// On a 1,000,000-commit push that is a million allocations fewer, and the
/// walk copies a node's parents each time it visits it.
#[derive(Clone)]
enum Parents {
    None,
    One(Oid),
    Many(Box<[Oid]>),
}

impl Parents {
    fn from_vec(parents: Vec<Oid>) -> Self {
        match parents.as_slice() {
            [] => Parents::None,
            [one] => Parents::One(*one),
            _ => Parents::Many(parents.into_boxed_slice()),
        }
    }

    fn as_slice(&self) -> &[Oid] {
        match self {
            Parents::None => &[],
            Parents::One(one) => std::slice::from_ref(one),
            Parents::Many(many) => many,
        }
    }
}

const SEEN: u8 = 1;
const HIDDEN: u8 = 2;
const DONE: u8 = 4;
/// The walk handed the commit's bytes to its caller.
const HANDED: u8 = 8;

/// What [`Walker::walk_with`] found.
#[derive(Debug, Default)]
pub struct Walked {
    /// Commits reachable from the tips and not from the hidden ones, newest
    /// first.
    pub commits: Vec<Oid>,
    /// Those of `commits` whose bytes this walk did not hand to its caller:
    /// read by an earlier walk, or known from the commit-graph.
    pub not_handed: Vec<Oid>,
}

#[derive(PartialEq, Eq)]
struct Entry {
    time: i64,
    seq: u64,
    oid: Oid,
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
    odb: Odb<'r>,
    nodes: OidMap<Node>,
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
    store: Option<git2::Repository>,
}

impl<'r> Walker<'r> {
    pub fn new(odb: Odb<'r>) -> Self {
        Walker {
            odb,
            nodes: OidMap::default(),
            objects: None,
            graph: None,
            commits_read: 0,
            deadline: None,
            commits_from_graph: 0,
            graph_after_reads: 0,
            store: None,
        }
    }

    /// Also takes dates and parents from the commit-graph in `objects/info`
    /// for the commits it lists (see [`crate::commitgraph`]): on a server
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
    pub fn with_store(mut self, store: Option<git2::Repository>) -> Self {
        self.store = store;
        self
    }

    /// Whether a found commit may be old: in the store, or unknown.
    fn maybe_old(&self, oid: Oid) -> bool {
        match &self.store {
            Some(store) => store.odb().map_or(true, |odb| odb.exists(oid)),
            None => true,
        }
    }

    /// The node of a commit the commit-graph lists, inserted; false when
    /// there is no graph or it does not list the commit.
    fn load_from_graph(&mut self, oid: Oid) -> bool {
        if self.graph.is_none() && self.commits_read < self.graph_after_reads {
            return false;
        }
        let objects = &self.objects;
        let graph = self
            .graph
            .get_or_insert_with(|| objects.as_deref().and_then(CommitGraph::open));
        let Some(commit) = graph.as_ref().and_then(|g| g.get(oid)) else {
            return false;
        };
        self.commits_from_graph += 1;
        self.nodes.insert(
            oid,
            Node {
                time: commit.time,
                parents: Parents::from_vec(commit.parents),
            },
        );
        true
    }

    /// Commits reachable from `tips` and not from `hidden`, newest first.
    /// Fails with [`WalkError::TooMany`] once more than `limit` are found
    /// (`0` means no limit).
    pub fn walk(
        &mut self,
        tips: &[Oid],
        hidden: &[Oid],
        limit: usize,
    ) -> Result<Vec<Oid>, WalkError> {
        self.walk_with(tips, hidden, limit, false, &mut |_, _| {})
            .map(|walked| walked.commits)
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
        tips: &[Oid],
        hidden: &[Oid],
        limit: usize,
        hidden_in_store: bool,
        on_read: &mut dyn FnMut(Oid, &[u8]),
    ) -> Result<Walked, WalkError> {
        let mut state = WalkState {
            flags: OidMap::default(),
            heap: BinaryHeap::new(),
            seq: 0,
            interesting_queued: 0,
        };
        for &oid in hidden {
            // A hidden tip that cannot be read, or that is a tree or blob,
            // hides nothing: judging more commits is the safe direction.
            if let Some(commit) = self.peel_hidden(oid) {
                state.insert(self, commit, true);
            }
        }
        for &oid in tips {
            let handed = self.load(oid, on_read)?;
            state.insert(self, oid, false);
            state.handed(oid, handed);
        }

        let mut found: Vec<Oid> = Vec::new();
        // Whether some found commit may already be in the repository (and so
        // could still turn out hidden); checked for the first few only.
        let mut found_maybe_old = !hidden_in_store || self.store.is_none();
        let mut date = i64::MAX;
        let mut slop = SLOP;
        let mut steps: u32 = 0;
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
            let oid = entry.oid;
            let flags = state.flags.get(&oid).copied().unwrap_or(0);
            state.flags.insert(oid, flags | DONE);
            let hidden = flags & HIDDEN != 0;
            if !hidden {
                state.interesting_queued = state.interesting_queued.saturating_sub(1);
            }
            let parents = self
                .nodes
                .get(&oid)
                .map(|n| n.parents.clone())
                .unwrap_or(Parents::None);
            if hidden {
                if state.interesting_queued == 0 && !found_maybe_old {
                    // Only new commits were found: nothing hidden can reach them.
                    break;
                }
                for &parent in parents.as_slice() {
                    // The hidden side may end at a missing object (a shallow
                    // repository); that only hides less.
                    if self.load(parent, &mut |_, _| {}).is_ok() {
                        state.insert(self, parent, true);
                    }
                }
                slop = state.still_interesting(date, slop);
                if slop == 0 {
                    break;
                }
                continue;
            }
            for &parent in parents.as_slice() {
                let handed = self.load(parent, on_read)?;
                state.insert(self, parent, false);
                state.handed(parent, handed);
            }
            date = entry.time;
            found.push(oid);
            if !found_maybe_old && (found.len() > MAX_NEW_CHECKS || self.maybe_old(oid)) {
                found_maybe_old = true;
            }
            if limit != 0 && found.len() > limit {
                // Some of these may still turn out hidden, but a push this
                // large is rejected for its size whatever the exact count.
                return Err(WalkError::TooMany { limit });
            }
        }
        found.retain(|oid| state.flags.get(oid).is_some_and(|f| f & HIDDEN == 0));
        let not_handed = found
            .iter()
            .copied()
            .filter(|oid| state.flags.get(oid).is_some_and(|f| f & HANDED == 0))
            .collect();
        Ok(Walked {
            commits: found,
            not_handed,
        })
    }

    /// Reads and parses a commit once; later calls are free. True when this
    /// call read the commit and handed its bytes to `on_read`.
    fn load(&mut self, oid: Oid, on_read: &mut dyn FnMut(Oid, &[u8])) -> Result<bool, WalkError> {
        if self.nodes.contains_key(&oid) || self.load_from_graph(oid) {
            return Ok(false);
        }
        let object = self.odb.read(oid).map_err(|source| {
            if source.code() == git2::ErrorCode::NotFound {
                WalkError::Missing { oid }
            } else {
                WalkError::Read { oid, source }
            }
        })?;
        if object.kind() != ObjectType::Commit {
            return Err(WalkError::NotACommit {
                oid,
                kind: object.kind().str().to_owned(),
            });
        }
        let parsed =
            commit::parse(object.data()).map_err(|reason| WalkError::BadCommit { oid, reason })?;
        self.commits_read += 1;
        self.nodes.insert(
            oid,
            Node {
                time: parsed.committer.time,
                parents: Parents::from_vec(parsed.parents),
            },
        );
        on_read(oid, object.data());
        Ok(true)
    }

    /// Loads a hidden tip, following annotated tags to their target.
    fn peel_hidden(&mut self, mut oid: Oid) -> Option<Oid> {
        // Tag chains longer than this are not worth following for hiding.
        for _ in 0..16 {
            if self.nodes.contains_key(&oid) || self.load_from_graph(oid) {
                return Some(oid);
            }
            let object = self.odb.read(oid).ok()?;
            match object.kind() {
                ObjectType::Commit => {
                    let parsed = commit::parse(object.data()).ok()?;
                    self.commits_read += 1;
                    self.nodes.insert(
                        oid,
                        Node {
                            time: parsed.committer.time,
                            parents: Parents::from_vec(parsed.parents),
                        },
                    );
                    return Some(oid);
                }
                ObjectType::Tag => {
                    // A tag object starts with `object <hex>`.
                    let hex = object.data().get(7..47)?;
                    oid = Oid::from_str(std::str::from_utf8(hex).ok()?).ok()?;
                }
                _ => return None,
            }
        }
        None
    }

    fn time(&self, oid: Oid) -> i64 {
        self.nodes.get(&oid).map_or(0, |n| n.time)
    }
}

struct WalkState {
    flags: OidMap<u8>,
    heap: BinaryHeap<Entry>,
    seq: u64,
    /// Entries in the heap that are not hidden, so that "is everybody
    /// uninteresting?" is a counter check rather than a scan of the heap.
    interesting_queued: usize,
}

impl WalkState {
    /// Records that the walk handed a commit's bytes over.
    fn handed(&mut self, oid: Oid, handed: bool) {
        if handed {
            if let Some(flags) = self.flags.get_mut(&oid) {
                *flags |= HANDED;
            }
        }
    }

    /// Queues a loaded commit, or marks an already-seen one hidden.
    fn insert(&mut self, walker: &Walker<'_>, oid: Oid, hidden: bool) {
        let flags = self.flags.get(&oid).copied().unwrap_or(0);
        if flags & SEEN != 0 {
            if hidden && flags & HIDDEN == 0 {
                self.mark_hidden(walker, oid);
            }
            return;
        }
        // A commit may have been pre-marked hidden by propagation before it
        // was ever queued.
        let hidden = hidden || flags & HIDDEN != 0;
        self.flags
            .insert(oid, flags | SEEN | if hidden { HIDDEN } else { 0 });
        if !hidden {
            self.interesting_queued += 1;
        }
        self.seq += 1;
        self.heap.push(Entry {
            time: walker.time(oid),
            seq: self.seq,
            oid,
        });
    }

    /// Marks a commit hidden and, where it was already walked, everything
    /// below it that the walk has seen (git's `mark_parents_uninteresting`).
    fn mark_hidden(&mut self, walker: &Walker<'_>, oid: Oid) {
        let mut stack = vec![oid];
        while let Some(current) = stack.pop() {
            let flags = self.flags.get(&current).copied().unwrap_or(0);
            if flags & HIDDEN != 0 {
                continue;
            }
            self.flags.insert(current, flags | HIDDEN);
            if flags & SEEN != 0 && flags & DONE == 0 {
                // Still queued: it now counts as hidden.
                self.interesting_queued = self.interesting_queued.saturating_sub(1);
            }
            if flags & DONE != 0 {
                if let Some(node) = walker.nodes.get(&current) {
                    stack.extend(node.parents.as_slice().iter().copied());
                }
            }
        }
    }

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
        let oid = Oid::ZERO_SHA1;
        let mut heap = BinaryHeap::new();
        heap.push(Entry {
            time: 1,
            seq: 1,
            oid,
        });
        heap.push(Entry {
            time: 5,
            seq: 2,
            oid,
        });
        heap.push(Entry {
            time: 5,
            seq: 3,
            oid,
        });
        let order: Vec<(i64, u64)> =
            std::iter::from_fn(|| heap.pop().map(|e| (e.time, e.seq))).collect();
        assert_eq!(order, vec![(5, 2), (5, 3), (1, 1)]);
    }
}
