//! Computing many commits' diffs on several cores.
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
