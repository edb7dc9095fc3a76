//! Reading a pack's commits in the order the pack stores them, for the walk
//! of a large push (see `src/git/walk/prefetch.rs`).
//!
//! The pack a push brings is written by the client's `pack-objects`, which
//! puts every commit first, in the order `rev-list` walks them (git's
//! `compute_write_order`: recency order, annotated tags after their tips,
//! then trees and blobs). So the commits of an initial push are one run at
//! the start of the pack, and in nearly the order the walk asks for them.
//! Reading that run front to back is sequential IO in large reads, with no
//! index search per object; the entries' names come from the pack's reverse
//! index (the `.rev` file git writes beside the `.idx`: index positions in
//! pack order).
//!
//! Only whole commit entries are handed out; a commit stored as a delta is
//! skipped (the walk reads it the usual way), and the scan stops at the
//! first tree or blob. Every entry's name is checked against the index (the
//! offset the index records for it is the one the scan is at), so a
//! damaged or foreign `.rev` can only stop the scan, never label bytes with
//! another commit's name. Anything unexpected stops it the same way: the
//! scan is only ever a faster source of bytes the usual reader would give.

use std::ops::ControlFlow;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::READ_AHEAD;
use super::{Pack, OBJ_COMMIT, OBJ_OFS_DELTA, OBJ_REF_DELTA, OBJ_TAG};
use crate::git::oid::{HashKind, ObjectId};

/// Bytes of the pack read at once.
const WINDOW: usize = 1 << 20;
/// Reverse-index entries read at once.
const REV_CHUNK: usize = 4096;
/// Entries that are neither whole commits nor the trees and blobs that end
/// the run (commit deltas, tags) skipped in a row before the scan gives up:
/// a pack of nothing but deltas must not be inflated whole for nothing.
const MAX_SKIPPED: usize = 4096;

/// Commits read from a pack: their names and bytes, in one buffer.
#[derive(Default)]
pub struct CommitBatch {
    ids: Vec<ObjectId>,
    /// Where each commit's bytes end in `bytes`.
    ends: Vec<usize>,
    bytes: Vec<u8>,
}

impl CommitBatch {
    /// How many commits the batch holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The name of commit `i`.
    pub fn id(&self, i: usize) -> Option<ObjectId> {
        self.ids.get(i).copied()
    }

    /// The bytes of commit `i`.
    pub fn data(&self, i: usize) -> Option<&[u8]> {
        let start = match i.checked_sub(1) {
            Some(before) => *self.ends.get(before)?,
            None => 0,
        };
        self.bytes.get(start..*self.ends.get(i)?)
    }
}

/// Hands out, in batches of up to `per_batch`, the whole commit entries at
/// the start of each pack in `dirs` (`DIR/pack/*.idx` with its `.rev`),
/// until `send` returns false or `stop` is set. Packs it cannot read this
/// way are skipped: their commits are read the usual way.
pub fn scan_commits(
    dirs: &[PathBuf],
    kind: HashKind,
    per_batch: usize,
    stop: &AtomicBool,
    send: &mut dyn FnMut(CommitBatch) -> bool,
) {
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir.join("pack")) else {
            continue;
        };
        let mut idx: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "idx"))
            .collect();
        idx.sort();
        for path in idx {
            let Some(pack) = Pack::open(&path, kind) else {
                continue;
            };
            let mut scan = Scan {
                pack: &pack,
                kind,
                window: Vec::new(),
                window_at: 0,
                z: flate2::Decompress::new(true),
                skipped: Vec::new(),
            };
            if scan
                .run(&path.with_extension("rev"), per_batch, stop, send)
                .is_break()
            {
                return;
            }
        }
    }
}

struct Scan<'p> {
    pack: &'p Pack,
    kind: HashKind,
    /// The pack's bytes from `window_at`.
    window: Vec<u8>,
    window_at: u64,
    z: flate2::Decompress,
    /// Where skipped entries inflate to.
    skipped: Vec<u8>,
}

impl Scan<'_> {
    /// Scans one pack; `Break` when the receiver wants no more.
    fn run(
        &mut self,
        rev_path: &Path,
        per_batch: usize,
        stop: &AtomicBool,
        send: &mut dyn FnMut(CommitBatch) -> bool,
    ) -> ControlFlow<()> {
        let Some(mut rev) = Rev::open(rev_path, self.pack, self.kind) else {
            return ControlFlow::Continue(());
        };
        let mut batch = CommitBatch::default();
        let end = self.pack.len.saturating_sub(self.kind.byte_len() as u64);
        // After the 12-byte pack header.
        let mut at = 12u64;
        let mut skipped_in_a_row = 0;
        for k in 0..self.pack.count {
            if at >= end || stop.load(Ordering::Relaxed) {
                break;
            }
            let Some(next) = self.entry(at, k, &mut rev, &mut batch, &mut skipped_in_a_row) else {
                break;
            };
            if skipped_in_a_row > MAX_SKIPPED {
                break;
            }
            at = next;
            if batch.len() >= per_batch && !send(std::mem::take(&mut batch)) {
                return ControlFlow::Break(());
            }
        }
        if !batch.is_empty() && !send(batch) {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    /// Reads the `k`-th entry, at `at`: a whole commit goes into `batch`,
    /// a delta or tag is skipped. Returns where the next entry starts;
    /// `None` ends the scan (a tree or blob, or anything unexpected).
    fn entry(
        &mut self,
        at: u64,
        k: usize,
        rev: &mut Rev,
        batch: &mut CommitBatch,
        skipped_in_a_row: &mut usize,
    ) -> Option<u64> {
        let head = self.bytes(at, 64)?;
        let (kind, size, used) = super::type_and_size(head)?;
        match kind {
            OBJ_COMMIT => {
                *skipped_in_a_row = 0;
                let oid = self.name_checked(rev, k, at)?;
                let start = batch.bytes.len();
                let next = self.inflate(at + used as u64, size, &mut batch.bytes, start);
                let Some(next) = next else {
                    batch.bytes.truncate(start);
                    return None;
                };
                batch.ids.push(oid);
                batch.ends.push(batch.bytes.len());
                Some(next)
            }
            OBJ_TAG | OBJ_OFS_DELTA | OBJ_REF_DELTA => {
                *skipped_in_a_row += 1;
                let base_len = match kind {
                    OBJ_OFS_DELTA => {
                        // The base offset: big-endian base-128 bytes.
                        let mut n = 1;
                        for &b in head.get(used..)? {
                            if b & 0x80 == 0 {
                                break;
                            }
                            n += 1;
                        }
                        n
                    }
                    OBJ_REF_DELTA => self.kind.byte_len(),
                    _ => 0,
                };
                let mut skipped = std::mem::take(&mut self.skipped);
                skipped.clear();
                let next = self.inflate(at + (used + base_len) as u64, size, &mut skipped, 0);
                self.skipped = skipped;
                next
            }
            // Trees and blobs: the commits are behind. Anything else is
            // not a pack entry.
            _ => None,
        }
    }

    /// The name of the `k`-th entry of the pack, which the scan found at
    /// `at`: read through the reverse index, and only if the index agrees
    /// that the object of that name is at `at`.
    fn name_checked(&self, rev: &mut Rev, k: usize, at: u64) -> Option<ObjectId> {
        let pos = rev.position(k)?;
        if pos >= self.pack.count || self.pack.offset_at(pos)? != at {
            return None;
        }
        let len = self.kind.byte_len();
        let mut name = [0u8; 32];
        let name = name.get_mut(..len)?;
        self.pack.idx_read(8 + 1024 + pos * len, name)?;
        self.kind.from_bytes(name)
    }

    /// Makes the window hold at least `want` bytes of the pack from `at`
    /// (fewer at its end), moving it forward when they are not all in it;
    /// returns where they start in the window.
    fn fill(&mut self, at: u64, want: usize) -> Option<usize> {
        if at >= self.window_at {
            let start = usize::try_from(at - self.window_at).ok()?;
            let in_window = start.checked_add(want)? <= self.window.len();
            // Near the end of the file, fewer than `want` are all there is.
            let at_end = self.window_at + self.window.len() as u64 == self.pack.len;
            if start <= self.window.len() && (in_window || at_end) {
                return Some(start);
            }
        }
        let len = usize::try_from(self.pack.len.checked_sub(at)?)
            .ok()?
            .min(WINDOW.max(want));
        self.window.resize(len, 0);
        self.pack.file.read_exact_at(&mut self.window, at).ok()?;
        self.window_at = at;
        Some(0)
    }

    /// [`Scan::fill`], and the bytes.
    fn bytes(&mut self, at: u64, want: usize) -> Option<&[u8]> {
        let start = self.fill(at, want)?;
        self.window.get(start..)
    }

    /// Inflates the zlib stream at `at` onto `out` (whose first `start`
    /// bytes are not this entry's), which must give exactly `size` bytes.
    /// Returns where the stream ends.
    fn inflate(&mut self, at: u64, size: usize, out: &mut Vec<u8>, start: usize) -> Option<u64> {
        self.z.reset(true);
        out.reserve(size + 1);
        let mut pos = at;
        let mut stalled = 0;
        loop {
            let before_in = self.z.total_in();
            let before_out = out.len();
            let start_in = self.fill(pos, 1)?;
            let input = self.window.get(start_in..)?;
            if input.is_empty() {
                return None;
            }
            let status = self
                .z
                .decompress_vec(input, out, flate2::FlushDecompress::None)
                .ok()?;
            let consumed = self.z.total_in() - before_in;
            pos += consumed;
            if out.len() - start > size {
                return None;
            }
            if status == flate2::Status::StreamEnd {
                break;
            }
            if out.len() == out.capacity() {
                // Room to say whether the stream has ended.
                out.reserve(1);
            }
            if consumed == 0 && out.len() == before_out {
                // No progress: more input than the window holds is needed,
                // or the stream is damaged; it must not spin.
                stalled += 1;
                if stalled > 2 || pos >= self.pack.len {
                    return None;
                }
                // Read a whole window from here on the next turn.
                self.fill(pos, WINDOW.min(READ_AHEAD * 8))?;
            } else {
                stalled = 0;
            }
        }
        (out.len() - start == size).then_some(pos)
    }
}

/// A pack's reverse index (`.rev`, version 1): the index positions of its
/// objects in pack order, read a chunk at a time.
struct Rev {
    file: std::fs::File,
    count: usize,
    chunk: Vec<usize>,
    chunk_at: usize,
}

impl Rev {
    /// Opens the `.rev` of `pack`, if it is one git wrote for this very
    /// pack: the magic, version 1, the pack's hash, the right size, and the
    /// pack's checksum in its trailer.
    fn open(path: &Path, pack: &Pack, kind: HashKind) -> Option<Rev> {
        let file = std::fs::File::open(path).ok()?;
        let len = file.metadata().ok()?.len();
        let hash_len = kind.byte_len();
        let expected = 12 + 4 * pack.count as u64 + 2 * hash_len as u64;
        if len != expected {
            return None;
        }
        let mut head = [0u8; 12];
        file.read_exact_at(&mut head, 0).ok()?;
        let hash_id: u32 = match kind {
            HashKind::Sha1 => 1,
            HashKind::Sha256 => 2,
        };
        if head.get(..8)? != b"RIDX\x00\x00\x00\x01" || super::be32(&head, 8)? != hash_id {
            return None;
        }
        let mut recorded = [0u8; 32];
        let recorded = recorded.get_mut(..hash_len)?;
        file.read_exact_at(recorded, 12 + 4 * pack.count as u64)
            .ok()?;
        let mut trailer = [0u8; 32];
        let trailer = trailer.get_mut(..hash_len)?;
        pack.file
            .read_exact_at(trailer, pack.len.checked_sub(hash_len as u64)?)
            .ok()?;
        if recorded != trailer {
            return None;
        }
        Some(Rev {
            file,
            count: pack.count,
            chunk: Vec::new(),
            chunk_at: 0,
        })
    }

    /// The index position of the `k`-th object in pack order.
    fn position(&mut self, k: usize) -> Option<usize> {
        if k < self.chunk_at || k >= self.chunk_at + self.chunk.len() {
            let n = REV_CHUNK.min(self.count.checked_sub(k)?);
            let mut raw = vec![0u8; n * 4];
            self.file.read_exact_at(&mut raw, 12 + 4 * k as u64).ok()?;
            self.chunk.clear();
            self.chunk.extend(
                raw.chunks_exact(4)
                    .filter_map(|w| <[u8; 4]>::try_from(w).ok())
                    .map(|w| u32::from_be_bytes(w) as usize),
            );
            self.chunk_at = k;
        }
        self.chunk.get(k - self.chunk_at).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_AUTHOR_DATE", "2020-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2020-01-01T00:00:00Z")
            .output();
        out.map(|o| o.stdout).unwrap_or_default()
    }

    /// A repository of `n` commits, packed with its reverse index (git
    /// stores most of these alike commits as deltas).
    fn packed(n: usize) -> Option<tempfile::TempDir> {
        let dir = tempfile::tempdir().ok()?;
        git(
            dir.path(),
            &["init", "-q", "--bare", "--initial-branch=main"],
        );
        let mut parent = String::new();
        let tree = String::from_utf8(git(
            dir.path(),
            &["hash-object", "-t", "tree", "-w", "/dev/null"],
        ))
        .ok()?;
        let tree = tree.trim().to_owned();
        for i in 0..n {
            let mut args = vec!["commit-tree", tree.as_str(), "-m"];
            let message = format!("commit {i}\n\nAI-Assisted: no\n");
            args.push(&message);
            if !parent.is_empty() {
                args.push("-p");
                args.push(&parent);
            }
            parent = String::from_utf8(git(dir.path(), &args))
                .ok()?
                .trim()
                .to_owned();
        }
        git(dir.path(), &["update-ref", "refs/heads/main", &parent]);
        git(
            dir.path(),
            &["-c", "pack.writeReverseIndex=true", "repack", "-adq"],
        );
        Some(dir)
    }

    fn scanned(dir: &Path) -> Vec<(ObjectId, Vec<u8>)> {
        let mut got = Vec::new();
        let stop = AtomicBool::new(false);
        scan_commits(
            &[dir.join("objects")],
            HashKind::Sha1,
            7,
            &stop,
            &mut |batch| {
                for i in 0..batch.len() {
                    if let (Some(id), Some(data)) = (batch.id(i), batch.data(i)) {
                        got.push((id, data.to_vec()));
                    }
                }
                true
            },
        );
        got
    }

    /// The commits git stored whole (not as deltas) in the repository's
    /// packs.
    fn whole_commits(dir: &Path) -> Vec<String> {
        let listed = git(
            dir,
            &[
                "cat-file",
                "--batch-all-objects",
                "--batch-check=%(objectname) %(objecttype) %(deltabase)",
            ],
        );
        let null = "0".repeat(40);
        String::from_utf8_lossy(&listed)
            .lines()
            .filter_map(|l| {
                let mut f = l.split(' ');
                let (id, kind, base) = (f.next()?, f.next()?, f.next()?);
                (kind == "commit" && base == null).then(|| id.to_owned())
            })
            .collect()
    }

    #[test]
    fn every_whole_commit_is_read_with_its_name_and_bytes_and_deltas_are_left_out() {
        {
            let Some(dir) = packed(40) else {
                return;
            };
            let got = scanned(dir.path());
            let mut whole = whole_commits(dir.path());
            assert!(!whole.is_empty());
            assert!(whole.len() < 40, "git stored some commits as deltas");
            for (id, data) in &got {
                let want = git(dir.path(), &["cat-file", "commit", &id.to_hex()]);
                assert_eq!(data, &want, "{id}");
            }
            let mut ids: Vec<String> = got.iter().map(|(id, _)| id.to_hex()).collect();
            // In pack order, which is the walk's: the tip first.
            let tip = git(dir.path(), &["rev-parse", "main"]);
            assert_eq!(
                ids.first(),
                Some(&String::from_utf8_lossy(&tip).trim().to_owned())
            );
            ids.sort();
            whole.sort();
            assert_eq!(ids, whole, "every whole commit, and only those");
        }
    }

    #[test]
    fn a_damaged_or_missing_reverse_index_reads_nothing() {
        let Some(dir) = packed(5) else {
            return;
        };
        let pack_dir = dir.path().join("objects").join("pack");
        let rev = std::fs::read_dir(&pack_dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "rev"));
        assert!(rev.is_some(), "git wrote a .rev");
        let Some(rev) = rev else {
            return;
        };
        let mut bytes = std::fs::read(&rev).unwrap_or_default();
        // Swap the first two positions: names no longer match offsets.
        if let Some(chunk) = bytes.get_mut(12..20) {
            chunk.rotate_left(4);
        }
        let _ = std::fs::remove_file(&rev);
        assert!(
            scanned(dir.path()).is_empty(),
            "no .rev: nothing read ahead"
        );
        std::fs::write(&rev, &bytes).unwrap_or_default();
        let got = scanned(dir.path());
        for (id, data) in &got {
            assert_eq!(
                data,
                &git(dir.path(), &["cat-file", "commit", &id.to_hex()])
            );
        }
        assert!(
            got.len() < 5,
            "the scan stops where the reverse index is wrong"
        );
    }
}
