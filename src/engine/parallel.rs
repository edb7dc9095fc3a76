//! Using more cores: computing many commits' diffs on several threads, and
//! judging or diffing commits on other threads while the walk reads them.
//!
//! A push of 100,000 commits under a path or size rule spends almost all of
//! its time diffing trees (and blobs, for line counts), one commit at a time;
//! git's own `log --numstat` uses one core. The commits' diffs are
//! independent, so they are split over a few threads. libgit2's
//! `Repository` cannot be shared between threads, so each thread opens its
//! own ([`Reopen`]), with the same object directories (the push's
//! quarantine) as the caller's.
//!
//! This is only a prefetch: a diff that fails here is left out, and the
//! caller computes it again on its own path, which reports the error with
//! its context.

use crate::git::oid::ObjectId;

use crate::git::diff::{self, DiffOptions, DiffStats};
use std::sync::OnceLock;

use crate::git::pack::{PackReader, Packs};
use crate::git::repo::{Reopen, Repo};
use crate::git::walk::OnRead;

/// Fewer commits than this are diffed on the caller's thread: opening a
/// second repository costs more than it saves.
const MIN_PARALLEL: usize = 64;

/// A commit to diff, with its first parent's tree and its own tree when the
/// caller knows them.
pub type Job = (ObjectId, Option<(Option<ObjectId>, ObjectId)>);

/// The diffs of `commits` (against their first parents: never merges, which
/// are measured against the clean merge of their parents), with line counts
/// when `lines`, computed on up to `threads` threads. Commits whose diff
/// fails are missing from the result. `sparse`: the commits are few and far
/// apart in the history (each thread then keeps a small delta base cache).
///
/// Trees and blobs are read through [`crate::git::pack`], as the diff-ahead
/// threads read them, not through the repository's object database: with
/// libgit2, whose pack windows are maps of the whole pack, reading the ~1%
/// of a 100,000-commit push that the example policy diffs touched every
/// page of its 110 MB pack (file-backed RSS: half of the hook's peak).
pub fn commit_diffs(
    repo: &Reopen,
    commits: &[Job],
    lines: bool,
    opts: &DiffOptions,
    threads: usize,
    sparse: bool,
) -> Vec<(ObjectId, DiffStats)> {
    if commits.is_empty() {
        return Vec::new();
    }
    let packs = Packs::open(&repo.object_dirs(), repo.hash_kind());
    let packs = &packs;
    let threads = threads.clamp(1, 8);
    if threads == 1 || commits.len() < MIN_PARALLEL {
        return diff_all(repo, packs, sparse, commits.iter().copied(), lines, opts);
    }
    std::thread::scope(|scope| {
        // Contiguous shares, not interleaved ones: neighbouring commits'
        // trees are stored as deltas of each other, and libgit2's delta
        // base cache (one per repository, so per thread) only helps a thread
        // that reads them in order. Interleaving cost 40% more CPU.
        let share = commits.len().div_ceil(threads);
        let handles: Vec<_> = commits
            .chunks(share)
            .map(|chunk| {
                scope.spawn(move || {
                    diff_all(repo, packs, sparse, chunk.iter().copied(), lines, opts)
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

fn diff_all(
    repo: &Reopen,
    packs: &Packs,
    sparse: bool,
    commits: impl Iterator<Item = Job>,
    lines: bool,
    opts: &DiffOptions,
) -> Vec<(ObjectId, DiffStats)> {
    let Some(repo) = open_worker_repo(repo) else {
        return Vec::new();
    };
    let reader = (!packs.is_empty()).then(|| PackReader::new(packs));
    if let Some(reader) = &reader {
        reader.set_sparse(sparse);
    }
    // Each share is in walk order, newest first, so each commit's parent
    // trees are the ones the previous diff read.
    let mut trees = diff::TreeCache::default();
    commits
        // Past the deadline the caller reports it; the rest are not worth starting.
        .take_while(|_| opts.deadline.is_none_or(|d| std::time::Instant::now() < d))
        .filter_map(|(oid, known)| {
            diff::commit_diff_cached(&repo, oid, known, lines, opts, &mut trees, reader.as_ref())
                .ok()
                .map(|s| (oid, s))
        })
        .collect()
}

/// Commits a walk reads before the rest are judged on a second thread:
/// below this a thread costs more than it saves (a push of a few commits
/// stays on one thread).
const INLINE_FIRST: usize = 1024;
/// Commits handed to the judging thread at a time.
const BATCH: usize = 512;
/// Batches queued for the judging thread before the walk waits for it, so
/// that memory stays bounded when judging is the slower side.
const QUEUE: usize = 4;
/// Batches queued for each diff-ahead thread: deep, since the walk should
/// run ahead of the diffs (a full push's raw commits are a few hundred
/// bytes each).
const AHEAD_QUEUE: usize = 256;

/// Raw commits, one buffer for a batch.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    items: Vec<(ObjectId, usize, usize)>,
}

impl Batch {
    fn push(&mut self, oid: ObjectId, data: &[u8]) {
        self.items.push((oid, self.bytes.len(), data.len()));
        self.bytes.extend_from_slice(data);
    }

    fn iter(&self) -> impl Iterator<Item = (ObjectId, &[u8])> {
        self.items
            .iter()
            .filter_map(|&(oid, at, len)| Some((oid, self.bytes.get(at..at + len)?)))
    }
}

/// A thread of `scope` that runs `work` on the batches sent over a queue of
/// `queue` batches; `None` when no thread can be started (the caller then
/// does the work itself).
fn spawn_batch_worker<'s, 'e, T: Send + 's>(
    scope: &'s std::thread::Scope<'s, 'e>,
    name: &str,
    queue: usize,
    work: impl FnOnce(std::sync::mpsc::Receiver<Batch>) -> T + Send + 's,
) -> Option<(
    std::sync::mpsc::SyncSender<Batch>,
    std::thread::ScopedJoinHandle<'s, T>,
)> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(queue);
    let handle = std::thread::Builder::new()
        .name(name.into())
        .spawn_scoped(scope, move || work(rx))
        .ok()?;
    Some((tx, handle))
}

/// Runs `read`, which hands commits (id and raw bytes) to the sink it is
/// given, and applies `judge` to every commit handed over: the first
/// [`INLINE_FIRST`] on the calling thread, the rest on a second thread while
/// `read` goes on, so that reading (inflating) and judging a large push
/// overlap. Returns what `read` returned and the commits `judge` returned
/// something for, in no particular order; `None` instead of the latter when
/// the judging thread failed, in which case the caller must judge again.
pub fn judge_while_reading<R, T, P, J>(read: P, judge: J) -> (R, Option<Vec<(ObjectId, T)>>)
where
    P: FnOnce(&mut OnRead<'_>) -> R,
    J: Fn(ObjectId, &[u8]) -> Option<T> + Sync,
    T: Send,
{
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let judge = &judge;
    std::thread::scope(|scope| {
        let mut judged: Vec<(ObjectId, T)> = Vec::new();
        let mut inline_left = if cores > 1 { INLINE_FIRST } else { usize::MAX };
        let mut batch = Batch::default();
        let mut worker = None;
        let mut failed = false;
        let result = {
            let mut sink = |oid: ObjectId, data: &[u8]| {
                if inline_left > 0 {
                    inline_left -= 1;
                    judged.extend(judge(oid, data).map(|t| (oid, t)));
                    return;
                }
                batch.push(oid, data);
                if batch.items.len() < BATCH {
                    return;
                }
                if worker.is_none() {
                    worker = spawn_batch_worker(scope, "trailgate-judge", QUEUE, move |rx| {
                        let mut judged = Vec::new();
                        for batch in rx {
                            for (oid, data) in batch.iter() {
                                judged.extend(judge(oid, data).map(|t| (oid, t)));
                            }
                        }
                        judged
                    });
                    if worker.is_none() {
                        // No second thread to be had: judge everything here.
                        inline_left = usize::MAX;
                    }
                }
                let full = std::mem::take(&mut batch);
                match &worker {
                    Some((tx, _)) => {
                        if tx.send(full).is_err() {
                            failed = true;
                        }
                    }
                    None => {
                        for (oid, data) in full.iter() {
                            judged.extend(judge(oid, data).map(|t| (oid, t)));
                        }
                    }
                }
            };
            read(&mut sink)
        };
        // The last, partial batch, here while the other thread finishes.
        for (oid, data) in batch.iter() {
            judged.extend(judge(oid, data).map(|t| (oid, t)));
        }
        if let Some((tx, handle)) = worker {
            drop(tx);
            match handle.join() {
                Ok(more) => judged.extend(more),
                Err(_) => failed = true,
            }
        }
        (result, (!failed).then_some(judged))
    })
}

/// What [`Ahead`] needs to know of a commit: its tree, its first parent,
/// and whether some rule will want its diff.
pub struct Links {
    pub tree: ObjectId,
    pub first_parent: Option<ObjectId>,
    pub wanted: bool,
}

/// Tells [`Ahead`] what it needs of a commit from its raw bytes; `None`
/// for a commit it cannot read (the caller reports that on its own path).
pub type Classify<'e> = dyn Fn(ObjectId, &[u8]) -> Option<Links> + Sync + 'e;

/// Diffs computed ahead, with their commits.
type Computed = Vec<(ObjectId, DiffStats)>;

/// A diff-ahead thread that diffs fewer than one commit in this many
/// keeps a small delta base cache (see [`PackReader::set_sparse`]).
pub(super) const SPARSE: usize = 8;

/// How many commits' trees a diff-ahead thread remembers for children that
/// arrive after their parent (the walk normally hands a child over first).
const REMEMBERED: usize = 4096;

/// Diffs computed on other threads while the walk is still reading
/// commits. The walk hands every commit it reads to [`Ahead::offer`]; past
/// the first [`INLINE_FIRST`] (a small push starts no thread), batches go
/// round-robin to a thread per core (up to four). The threads read trees
/// and blobs through [`crate::git::pack`] rather than libgit2, whose object
/// reads are serialised across threads behind its own locks (two threads
/// diffing through libgit2 were slower than one). Each thread diffs the
/// commits `classify` says some rule wants, as soon as it has seen the
/// first parent's tree, and the caller collects the diffs with
/// [`Ahead::take`]. The queue to each thread is deep ([`AHEAD_QUEUE`]
/// batches) so that the walk is not held back by slower diffing. Anything not computed here (a failure, a parent
/// handed to another thread, a deadline) is simply missing, and the caller
/// computes it on its own path.
pub struct Ahead<'s, 'e> {
    scope: Option<&'s std::thread::Scope<'s, 'e>>,
    classify: &'e Classify<'e>,
    repo: &'e Reopen,
    /// The pack files the threads read trees and blobs from, opened by the
    /// first thread that needs them.
    packs: &'e OnceLock<Packs>,
    lines: bool,
    deadline: Option<std::time::Instant>,
    seen: usize,
    batch: Batch,
    workers: Vec<Worker<'s>>,
    next: usize,
    max_workers: usize,
}

struct Worker<'s> {
    tx: Option<std::sync::mpsc::SyncSender<Batch>>,
    handle: std::thread::ScopedJoinHandle<'s, Computed>,
}

impl<'s, 'e> Ahead<'s, 'e> {
    /// `scope` is `None` when no rule needs diffs: then nothing is offered
    /// and nothing computed.
    pub fn new(
        scope: Option<&'s std::thread::Scope<'s, 'e>>,
        classify: &'e Classify<'e>,
        repo: &'e Reopen,
        packs: &'e OnceLock<Packs>,
        lines: bool,
        deadline: Option<std::time::Instant>,
    ) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ahead {
            scope: scope.filter(|_| cores > 1),
            classify,
            repo,
            packs,
            lines,
            deadline,
            seen: 0,
            batch: Batch::default(),
            workers: Vec::new(),
            next: 0,
            max_workers: cores.clamp(1, 4),
        }
    }

    /// A commit the walk has just read.
    pub fn offer(&mut self, oid: ObjectId, data: &[u8]) {
        if self.scope.is_none() {
            return;
        }
        self.seen += 1;
        if self.seen <= INLINE_FIRST {
            return;
        }
        self.batch.push(oid, data);
        if self.batch.items.len() >= BATCH {
            self.send();
        }
    }

    fn send(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        if batch.items.is_empty() {
            return;
        }
        if self.workers.len() < self.max_workers {
            if let Some(scope) = self.scope {
                let (classify, repo, packs, lines, deadline) = (
                    self.classify,
                    self.repo,
                    self.packs,
                    self.lines,
                    self.deadline,
                );
                let spawned = spawn_batch_worker(scope, "trailgate-diff", AHEAD_QUEUE, move |rx| {
                    let packs =
                        packs.get_or_init(|| Packs::open(&repo.object_dirs(), repo.hash_kind()));
                    diff_ahead(rx, classify, repo, packs, lines, deadline)
                });
                match spawned {
                    Some((tx, handle)) => self.workers.push(Worker {
                        tx: Some(tx),
                        handle,
                    }),
                    // No more threads to be had: the caller computes the rest.
                    None => self.max_workers = self.workers.len(),
                }
            }
        }
        if self.workers.is_empty() {
            self.scope = None;
            return;
        }
        let k = self.next % self.workers.len();
        self.next += 1;
        if let Some(tx) = self.workers.get(k).and_then(|w| w.tx.as_ref()) {
            // A thread that has stopped just computes less.
            let _ = tx.send(batch);
        }
    }

    /// Waits for the threads and returns what they computed; later calls
    /// return nothing.
    pub fn take(&mut self) -> Computed {
        self.send();
        self.scope = None;
        let mut computed = Vec::new();
        for worker in &mut self.workers {
            worker.tx = None;
        }
        for worker in self.workers.drain(..) {
            if let Ok(more) = worker.handle.join() {
                computed.extend(more);
            }
        }
        computed
    }
}

/// One diff-ahead thread: diffs the wanted commits of the batches it gets,
/// each once its first parent's tree is known.
fn diff_ahead(
    rx: std::sync::mpsc::Receiver<Batch>,
    classify: &Classify<'_>,
    reopen: &Reopen,
    packs: &Packs,
    lines: bool,
    deadline: Option<std::time::Instant>,
) -> Computed {
    let reader = (!packs.is_empty()).then(|| PackReader::new(packs));
    let mut repo = None;
    let mut trees = diff::TreeCache::default();
    let opts = DiffOptions::renames().until(deadline);
    let mut known: crate::git::walk::OidMap<ObjectId> = crate::git::walk::OidMap::default();
    let mut order: std::collections::VecDeque<ObjectId> = std::collections::VecDeque::new();
    let mut waiting: crate::git::walk::OidMap<Vec<(ObjectId, ObjectId)>> =
        crate::git::walk::OidMap::default();
    let mut computed = Vec::new();
    // Commits classified and commits wanted so far: a thread that diffs
    // fewer than one commit in SPARSE of those it sees reads trees and
    // blobs far apart, and keeps a small delta base cache.
    let (mut seen, mut wanted) = (0usize, 0usize);
    for batch in rx {
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            break;
        }
        if let Some(reader) = &reader {
            reader.set_sparse(seen > 0 && wanted.saturating_mul(SPARSE) < seen);
        }
        let repo = match &repo {
            Some(repo) => repo,
            None => match open_worker_repo(reopen) {
                Some(opened) => repo.insert(opened),
                None => break,
            },
        };
        let mut diff = |commit: ObjectId, parent_tree: Option<ObjectId>, tree: ObjectId| {
            let found = diff::commit_diff_cached(
                repo,
                commit,
                Some((parent_tree, tree)),
                lines,
                &opts,
                &mut trees,
                reader.as_ref(),
            );
            if let Ok(stats) = found {
                computed.push((commit, stats));
            }
        };
        for (oid, data) in batch.iter() {
            let Some(links) = classify(oid, data) else {
                continue;
            };
            seen += 1;
            wanted += usize::from(links.wanted);
            if let Some(children) = waiting.remove(&oid) {
                for (child, child_tree) in children {
                    diff(child, Some(links.tree), child_tree);
                }
            }
            if links.wanted {
                match links.first_parent {
                    None => diff(oid, None, links.tree),
                    Some(parent) => match known.get(&parent) {
                        Some(&parent_tree) => diff(oid, Some(parent_tree), links.tree),
                        None => waiting.entry(parent).or_default().push((oid, links.tree)),
                    },
                }
            }
            known.insert(oid, links.tree);
            order.push_back(oid);
            if order.len() > REMEMBERED {
                if let Some(old) = order.pop_front() {
                    known.remove(&old);
                }
            }
        }
    }
    computed
}

/// The repository as the caller sees it (with the push's quarantine), for
/// a thread of its own.
fn open_worker_repo(repo: &Reopen) -> Option<Repo> {
    repo.open().ok()
}
