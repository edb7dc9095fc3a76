//! Using a second core: computing many commits' diffs on several threads,
//! and judging commits on one thread while the walk reads them on another.
//!
//! A push of 100,000 commits under a path or size rule spends almost all of
//! its time diffing trees (and blobs, for line counts), one commit at a time;
//! git's own `log --numstat` uses one core. The commits' diffs are
//! independent, so they are split over a few threads. libgit2's
//! `Repository` cannot be shared between threads, so each thread opens its
//! own, with the same quarantine directories as the caller's (the hook
//! environment's `GIT_*` variables, which every thread sees).
//!
//! This is only a prefetch: a diff that fails here is left out, and the
//! caller computes it again on its own path, which reports the error with
//! its context.

use std::path::Path;

use git2::Oid;

use crate::diff::{self, DiffOptions, DiffStats};
use crate::repo;
use crate::walk::OnRead;

/// Fewer commits than this are diffed on the caller's thread: opening a
/// second repository costs more than it saves.
const MIN_PARALLEL: usize = 64;

/// A commit to diff, with its first parent's tree and its own tree when the
/// caller knows them.
pub type Job = (Oid, Option<(Option<Oid>, Oid)>);

/// The diffs of `commits` (against their first parents), with line counts
/// when `lines`, computed on up to `threads` threads. Commits whose diff
/// fails are missing from the result.
pub fn commit_diffs(
    git_dir: &Path,
    commits: &[Job],
    lines: bool,
    opts: &DiffOptions,
    threads: usize,
) -> Vec<(Oid, DiffStats)> {
    let threads = threads.clamp(1, 8);
    if threads == 1 || commits.len() < MIN_PARALLEL {
        return diff_all(git_dir, commits.iter().copied(), lines, opts);
    }
    std::thread::scope(|scope| {
        // Contiguous shares, not interleaved ones: neighbouring commits'
        // trees are stored as deltas of each other, and libgit2's delta
        // base cache (one per repository, so per thread) only helps a thread
        // that reads them in order. Interleaving cost 40% more CPU.
        let share = commits.len().div_ceil(threads);
        let handles: Vec<_> = commits
            .chunks(share)
            .map(|chunk| scope.spawn(move || diff_all(git_dir, chunk.iter().copied(), lines, opts)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

fn diff_all(
    git_dir: &Path,
    commits: impl Iterator<Item = Job>,
    lines: bool,
    opts: &DiffOptions,
) -> Vec<(Oid, DiffStats)> {
    let Ok(repo) = repo::open_at(git_dir).and_then(|r| {
        repo::add_quarantine(&r)?;
        Ok(r)
    }) else {
        return Vec::new();
    };
    // Each share is in walk order, newest first, so each commit's parent
    // trees are the ones the previous diff read.
    let mut trees = diff::TreeCache::default();
    commits
        .filter_map(|(oid, known)| {
            diff::commit_diff_cached(&repo, oid, known, lines, opts, &mut trees)
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

/// Raw commits, one buffer for a batch.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    items: Vec<(Oid, usize, usize)>,
}

impl Batch {
    fn push(&mut self, oid: Oid, data: &[u8]) {
        self.items.push((oid, self.bytes.len(), data.len()));
        self.bytes.extend_from_slice(data);
    }

    fn iter(&self) -> impl Iterator<Item = (Oid, &[u8])> {
        self.items
            .iter()
            .filter_map(|&(oid, at, len)| Some((oid, self.bytes.get(at..at + len)?)))
    }
}

/// Runs `read`, which hands commits (id and raw bytes) to the sink it is
/// given, and applies `judge` to every commit handed over: the first
/// [`INLINE_FIRST`] on the calling thread, the rest on a second thread while
/// `read` goes on, so that reading (inflating) and judging a large push
/// overlap. Returns what `read` returned and the commits `judge` returned
/// something for, in no particular order; `None` instead of the latter when
/// the judging thread failed, in which case the caller must judge again.
pub fn judge_while_reading<R, T, P, J>(read: P, judge: J) -> (R, Option<Vec<(Oid, T)>>)
where
    P: FnOnce(&mut OnRead<'_>) -> R,
    J: Fn(Oid, &[u8]) -> Option<T> + Sync,
    T: Send,
{
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let judge = &judge;
    std::thread::scope(|scope| {
        let mut judged: Vec<(Oid, T)> = Vec::new();
        let mut inline_left = if cores > 1 { INLINE_FIRST } else { usize::MAX };
        let mut batch = Batch::default();
        let mut worker = None;
        let mut failed = false;
        let result = {
            let mut sink = |oid: Oid, data: &[u8]| {
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
                    let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(QUEUE);
                    let spawned = std::thread::Builder::new()
                        .name("trailgate-judge".into())
                        .spawn_scoped(scope, move || {
                            let mut judged = Vec::new();
                            for batch in rx {
                                for (oid, data) in batch.iter() {
                                    judged.extend(judge(oid, data).map(|t| (oid, t)));
                                }
                            }
                            judged
                        });
                    match spawned {
                        Ok(handle) => worker = Some((tx, handle)),
                        // No second thread to be had: judge everything here.
                        Err(_) => inline_left = usize::MAX,
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
