//! Reading trees and blobs straight from pack files, for the diffs of a
//! large push.
//!
//! libgit2 reads a packed object through several layers (a backend search,
//! a window cache behind a process-wide lock, a zlib stream set up per
//! object, and a delta base cache that keeps only the bottom of each delta
//! chain); diffing 100,000 commits made about 400,000 such reads, at about
//! twice the cost of git's. This module does what git does instead: the
//! `.idx` file's fanout and a binary search to find an object, `pread` to
//! read it, and a cache of every object a delta chain produces, so that
//! reading a history's trees newest to oldest applies about one delta per
//! tree.
//!
//! It only ever answers for objects it finds in the pack files it indexed
//! (a version-2 `.idx` next to each `.pack`, with the ids of the
//! repository's hash: 20 bytes for SHA-1, 32 for SHA-256), and returns
//! `None` for anything it does not understand or that looks damaged; the
//! caller then reads the object another way (libgit2 for SHA-1, git itself
//! for the other formats, see [`crate::git::odb`]), whose answer and errors
//! stand. Object ids are not re-hashed (neither does libgit2 here, see
//! [`crate::cli`]).

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::OnceLock;

use crate::git::oid::{HashKind, ObjectId};
use crate::git::repo::ObjectKind;

mod scan;
pub use scan::{scan_commits, CommitBatch};
/// Objects larger than this are left to libgit2 (and to git's own
/// big-file rules in the diff).
const MAX_OBJECT_BYTES: usize = 64 << 20;
/// Bytes of decoded objects the delta base cache keeps.
const CACHE_BYTES: usize = 32 << 20;
/// What it keeps for a reader told that it reads sparsely
/// ([`PackReader::set_sparse`]): the diffs of commits far apart in a
/// history share few delta bases. On the example policy's 100,000-commit
/// push (1% of commits diffed) each diff thread's 32 MiB cache filled up,
/// a quarter of the peak memory; 4 MiB measured no more CPU time there,
/// whereas a push that diffs every commit took 7% more with 8 MiB.
const SPARSE_CACHE_BYTES: usize = 4 << 20;
/// Deeper delta chains than this are left to libgit2 (git writes at most 50
/// by default; a loop in a damaged pack must not spin).
const MAX_CHAIN: usize = 10_000;
/// How much of an entry is read with its header: all of a typical tree or
/// delta.
const FIRST_READ: usize = 2 << 10;
/// How much more is read at once when that was not enough.
const READ_AHEAD: usize = 8 << 10;

const OBJ_COMMIT: u8 = 1;
const OBJ_TREE: u8 = 2;
const OBJ_BLOB: u8 = 3;
const OBJ_TAG: u8 = 4;
const OBJ_OFS_DELTA: u8 = 6;
const OBJ_REF_DELTA: u8 = 7;

/// Lookups a pack answers by searching its index piece by piece before it
/// reads the index's sample of names ([`SAMPLE`]): a small push looks up a
/// handful of objects, and reading a 100,000-commit history's index costs
/// it more than everything else.
const LOOKUPS_BEFORE_LOADING: usize = 256;
/// One object name in this many is kept in memory once a pack is used
/// enough: a lookup then narrows the search to this many names with the
/// sample and reads them with one `pread`. The whole index in memory was
/// 24 MB for a 100,000-commit push (a tenth of its peak memory, issue 15);
/// the sample is a thirty-second of the names alone.
const SAMPLE: usize = 32;

/// One pack: its index (read piece by piece, then whole once it is used
/// enough) and its data file.
struct Pack {
    /// The fanout table: objects whose first byte is at most `i`.
    fanout: Vec<u32>,
    idx_file: File,
    /// Every [`SAMPLE`]-th object name, once loaded.
    samples: OnceLock<Option<Vec<u8>>>,
    lookups: AtomicUsize,
    count: usize,
    /// Bytes in an object id of this pack's hash.
    hash_len: usize,
    file: File,
    len: u64,
}

impl Pack {
    fn open(idx_path: &Path, kind: HashKind) -> Option<Pack> {
        let hash_len = kind.byte_len();
        let pack_path = idx_path.with_extension("pack");
        let idx_file = File::open(idx_path).ok()?;
        let idx_len = idx_file.metadata().ok()?.len();
        let mut head = vec![0u8; 8 + 1024];
        idx_file.read_exact_at(&mut head, 0).ok()?;
        // Version 2: magic, version, 256 fanout words.
        if head.get(..8)? != b"\xfftOc\x00\x00\x00\x02" {
            return None;
        }
        let mut fanout = Vec::with_capacity(256);
        for i in 0..256 {
            let count = be32(&head, 8 + i * 4)?;
            // The fanout must never decrease, or the search could miss.
            if fanout.last().is_some_and(|&last| count < last) {
                return None;
            }
            fanout.push(count);
        }
        let count = *fanout.last()? as usize;
        // Names, CRCs, offsets, and the trailer's two hashes at least.
        let least = 8 + 1024 + count.checked_mul(hash_len + 8)? + 2 * hash_len;
        if idx_len < u64::try_from(least).ok()? {
            return None;
        }
        let file = File::open(&pack_path).ok()?;
        let len = file.metadata().ok()?.len();
        // git's own check before it uses a pack (`open_packed_git_1`): the
        // pack's trailing checksum is the one its index records. A pack
        // cut short or swapped is left out, and the caller's slower reader
        // (libgit2, or git itself) gives the error.
        let mut recorded = [0u8; 32];
        let recorded = recorded.get_mut(..hash_len)?;
        idx_file
            .read_exact_at(recorded, idx_len.checked_sub(2 * hash_len as u64)?)
            .ok()?;
        let mut trailer = [0u8; 32];
        let trailer = trailer.get_mut(..hash_len)?;
        file.read_exact_at(trailer, len.checked_sub(hash_len as u64)?)
            .ok()?;
        if recorded != trailer {
            return None;
        }
        Some(Pack {
            fanout,
            idx_file,
            samples: OnceLock::new(),
            lookups: AtomicUsize::new(0),
            count,
            hash_len,
            file,
            len,
        })
    }

    /// Fills `out` from the index at `at`, with one `pread`.
    fn idx_read(&self, at: usize, out: &mut [u8]) -> Option<()> {
        self.idx_file
            .read_exact_at(out, u64::try_from(at).ok()?)
            .ok()
    }

    /// Every [`SAMPLE`]-th name of the index, read in pieces of about a
    /// megabyte.
    fn load_samples(&self) -> Option<Vec<u8>> {
        let names = 8 + 1024;
        let hl = self.hash_len;
        let per_read = ((1 << 20) / hl / SAMPLE).max(1) * SAMPLE;
        let mut samples = Vec::with_capacity(self.count.div_ceil(SAMPLE) * hl);
        let mut buf = vec![0u8; per_read * hl];
        let mut i = 0;
        while i < self.count {
            // `i` stays a multiple of SAMPLE, so the sample's k-th name is
            // the index's (k * SAMPLE)-th.
            let n = per_read.min(self.count - i);
            let part = buf.get_mut(..n * hl)?;
            self.idx_read(names + i * hl, part)?;
            for name in part.chunks_exact(hl).step_by(SAMPLE) {
                samples.extend_from_slice(name);
            }
            i += n;
        }
        Some(samples)
    }

    /// The names `lo..hi` of the index may hold `oid`; with the sample,
    /// at most [`SAMPLE`] of them.
    fn narrow(&self, oid: &[u8], lo: usize, hi: usize) -> Option<(usize, usize)> {
        let Some(Some(samples)) = self.samples.get() else {
            return Some((lo, hi));
        };
        let hl = self.hash_len;
        let sample = |k: usize| samples.get(k * hl..(k + 1) * hl);
        // The first sampled name in `lo..hi` greater than `oid`.
        let (first, mut a, mut b) = (
            lo.div_ceil(SAMPLE),
            lo.div_ceil(SAMPLE),
            hi.div_ceil(SAMPLE),
        );
        while a < b {
            let mid = a + (b - a) / 2;
            if sample(mid)? <= oid {
                a = mid + 1;
            } else {
                b = mid;
            }
        }
        let from = if a > first { (a - 1) * SAMPLE } else { lo };
        Some((from.max(lo), (a * SAMPLE).min(hi)))
    }

    fn idx_u32(&self, at: usize) -> Option<u32> {
        let mut word = [0u8; 4];
        self.idx_read(at, &mut word)?;
        Some(u32::from_be_bytes(word))
    }

    /// The offset of an object in this pack.
    fn find(&self, oid: &[u8]) -> Option<u64> {
        if self.lookups.fetch_add(1, AtomicOrdering::Relaxed) == LOOKUPS_BEFORE_LOADING {
            self.samples.get_or_init(|| self.load_samples());
        }
        let first = *oid.first()? as usize;
        let lo = if first == 0 {
            0
        } else {
            *self.fanout.get(first - 1)? as usize
        };
        let hi = *self.fanout.get(first)? as usize;
        let names = 8 + 1024;
        let hl = self.hash_len;
        let (lo, hi) = self.narrow(oid, lo, hi.min(self.count))?;
        let len = hi.saturating_sub(lo);
        if len <= SAMPLE {
            // Narrowed by the sample: its names in one read.
            let mut run = [0u8; SAMPLE * 32];
            let run = run.get_mut(..len * hl)?;
            self.idx_read(names + lo * hl, run)?;
            let (mut a, mut b) = (0, len);
            while a < b {
                let mid = a + (b - a) / 2;
                match run.get(mid * hl..(mid + 1) * hl)?.cmp(oid) {
                    std::cmp::Ordering::Equal => return self.offset_at(lo + mid),
                    std::cmp::Ordering::Less => a = mid + 1,
                    std::cmp::Ordering::Greater => b = mid,
                }
            }
            return None;
        }
        let (mut lo, mut hi) = (lo, hi);
        let mut name = [0u8; 32];
        let name = name.get_mut(..hl)?;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            self.idx_read(names + mid * hl, name)?;
            match (*name).cmp(oid) {
                std::cmp::Ordering::Equal => return self.offset_at(mid),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        None
    }

    fn offset_at(&self, i: usize) -> Option<u64> {
        let offsets = 8 + 1024 + self.count * (self.hash_len + 4);
        let small = self.idx_u32(offsets + i * 4)?;
        if small & 0x8000_0000 == 0 {
            return Some(u64::from(small));
        }
        let large =
            8 + 1024 + self.count * (self.hash_len + 8) + (small & 0x7fff_ffff) as usize * 8;
        let mut bytes = [0u8; 8];
        self.idx_read(large, &mut bytes)?;
        Some(u64::from_be_bytes(bytes))
    }

    /// Reads `len` bytes at `at` (fewer at the end of the file) into
    /// `buf`, which is reused from read to read: zeroing a fresh buffer for
    /// every entry cost more than the read itself.
    fn read_at<'b>(&self, at: u64, len: usize, buf: &'b mut Vec<u8>) -> Option<&'b [u8]> {
        if at >= self.len {
            return None;
        }
        let len = len.min(usize::try_from(self.len - at).ok()?);
        if buf.len() < len {
            buf.resize(len, 0);
        }
        let out = buf.get_mut(..len)?;
        self.file.read_exact_at(out, at).ok()?;
        Some(out)
    }
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

/// The packs of some object directories, shared by the threads that diff.
pub struct Packs {
    packs: Vec<Pack>,
    kind: HashKind,
    /// True when some `.idx` file could not be used: an object not found
    /// in the others may still be there.
    skipped: bool,
}

impl Packs {
    /// Indexes the packs of `objects` directories (each `DIR/pack/*.idx`),
    /// whose object ids are of `kind`. Packs it cannot use are skipped.
    pub fn open(objects: &[PathBuf], kind: HashKind) -> Packs {
        let mut packs = Vec::new();
        let mut skipped = false;
        for dir in objects {
            let Ok(entries) = std::fs::read_dir(dir.join("pack")) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "idx") {
                    match Pack::open(&path, kind) {
                        Some(pack) => packs.push(pack),
                        None => skipped = true,
                    }
                }
            }
        }
        Packs {
            packs,
            kind,
            skipped,
        }
    }

    /// True when a pack index was left out (too large, another version,
    /// damaged): a search that finds nothing is not the last word.
    pub fn skipped_some(&self) -> bool {
        self.skipped
    }

    /// Whether an object is listed in one of the indexed packs.
    pub fn contains(&self, oid: ObjectId) -> bool {
        self.find(oid).is_some()
    }

    /// True when there is no pack to read from.
    pub fn is_empty(&self) -> bool {
        self.packs.is_empty()
    }

    fn find(&self, oid: ObjectId) -> Option<(usize, u64)> {
        if oid.kind() != self.kind {
            return None;
        }
        self.packs
            .iter()
            .enumerate()
            .find_map(|(i, p)| p.find(oid.as_bytes()).map(|at| (i, at)))
    }
}

/// A decoded object.
pub type Object = (ObjectKind, Rc<[u8]>);

/// Reads objects from [`Packs`] for one thread, with its own cache of
/// decoded objects (delta bases).
pub struct PackReader<'p> {
    packs: &'p Packs,
    cache: CacheRef<'p>,
}

/// A reader's delta base cache: its own, or one that outlives it (a
/// repository's, shared by the readers it hands out one after another).
enum CacheRef<'p> {
    /// Boxed: readers are kept in enums beside much smaller variants.
    Own(Box<RefCell<Cache>>),
    Shared(&'p RefCell<Cache>),
}

/// Decoded objects by pack and offset, up to [`CACHE_BYTES`], and the
/// zlib stream that inflates them.
#[derive(Default)]
pub struct Cache {
    objects: HashMap<(usize, u64), Object>,
    order: VecDeque<(usize, u64)>,
    bytes: usize,
    /// One zlib stream, reset for each entry (setting one up allocates
    /// tens of kilobytes), made on the first inflate: a reader that only
    /// asks whether objects exist never needs one. Kept here rather than
    /// in the reader so that the short-lived readers of a shared cache (one
    /// per commit a diff reads) do not each set one up.
    zlib: Option<flate2::Decompress>,
    /// Read buffers, reused: an entry's first bytes, and what follows.
    head: Vec<u8>,
    more: Vec<u8>,
    /// Keep [`SPARSE_CACHE_BYTES`] rather than [`CACHE_BYTES`].
    sparse: bool,
}

impl Cache {
    fn get(&self, key: (usize, u64)) -> Option<Object> {
        self.objects.get(&key).cloned()
    }

    fn put(&mut self, key: (usize, u64), object: Object) {
        if self.objects.contains_key(&key) {
            return;
        }
        self.bytes += object.1.len();
        self.objects.insert(key, object);
        self.order.push_back(key);
        let limit = if self.sparse {
            SPARSE_CACHE_BYTES
        } else {
            CACHE_BYTES
        };
        while self.bytes > limit {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some((_, data)) = self.objects.remove(&old) {
                self.bytes -= data.len();
            }
        }
    }
}

/// An object's header in a pack.
enum Entry {
    Whole { kind: u8, size: usize },
    OfsDelta { base: u64, size: usize },
    RefDelta { base: ObjectId, size: usize },
}

impl<'p> PackReader<'p> {
    pub fn new(packs: &'p Packs) -> Self {
        PackReader {
            packs,
            cache: CacheRef::Own(Box::new(RefCell::new(Cache::default()))),
        }
    }

    /// A reader whose cache is `cache`, which other readers of the same
    /// [`Packs`] use before and after it.
    pub fn with_cache(packs: &'p Packs, cache: &'p RefCell<Cache>) -> Self {
        PackReader {
            packs,
            cache: CacheRef::Shared(cache),
        }
    }

    fn cache(&self) -> &RefCell<Cache> {
        match &self.cache {
            CacheRef::Own(cache) => cache,
            CacheRef::Shared(cache) => cache,
        }
    }

    /// Whether this reader reads objects far apart (a few commits' diffs
    /// here and there), so that its cache keeps less; it shrinks from the
    /// next object it caches on.
    pub fn set_sparse(&self, sparse: bool) {
        self.cache().borrow_mut().sparse = sparse;
    }

    /// The object, if it is in one of the packs and reads cleanly.
    pub fn read(&self, oid: ObjectId) -> Option<Object> {
        let (pack, at) = self.packs.find(oid)?;
        self.read_at(pack, at)
    }

    /// The packs read from.
    pub fn packs(&self) -> &'p Packs {
        self.packs
    }

    /// Resolves the object at `at` in pack `pack`: follows its delta chain
    /// down to a whole object or a cached one, then applies the deltas back
    /// up, caching every object on the way (git's delta base cache).
    fn read_at(&self, pack: usize, at: u64) -> Option<Object> {
        let mut chain: Vec<((usize, u64), Vec<u8>)> = Vec::new();
        let (mut pack, mut at) = (pack, at);
        let mut object = loop {
            if let Some(found) = self.cache().borrow().get((pack, at)) {
                break found;
            }
            if chain.len() > MAX_CHAIN {
                return None;
            }
            let p = self.packs.packs.get(pack)?;
            let mut head = std::mem::take(&mut self.cache().borrow_mut().head);
            let found = header(p, at, self.packs.kind, &mut head);
            let Some((entry, data_at, used)) = found else {
                self.cache().borrow_mut().head = head;
                return None;
            };
            let first = head.get(used..).unwrap_or_default();
            match entry {
                Entry::Whole { kind, size } => {
                    let kind = match kind {
                        OBJ_COMMIT => ObjectKind::Commit,
                        OBJ_TREE => ObjectKind::Tree,
                        OBJ_BLOB => ObjectKind::Blob,
                        OBJ_TAG => ObjectKind::Tag,
                        _ => return None,
                    };
                    let data = self.inflate(p, data_at, first, size);
                    self.cache().borrow_mut().head = head;
                    let data: Rc<[u8]> = Rc::from(data?);
                    self.cache()
                        .borrow_mut()
                        .put((pack, at), (kind, Rc::clone(&data)));
                    break (kind, data);
                }
                Entry::OfsDelta { base, size } => {
                    let delta = self.inflate(p, data_at, first, size);
                    self.cache().borrow_mut().head = head;
                    chain.push(((pack, at), delta?));
                    at = base;
                }
                Entry::RefDelta { base, size } => {
                    let delta = self.inflate(p, data_at, first, size);
                    self.cache().borrow_mut().head = head;
                    chain.push(((pack, at), delta?));
                    (pack, at) = self.packs.find(base)?;
                }
            }
        };
        while let Some((key, delta)) = chain.pop() {
            let data: Rc<[u8]> = Rc::from(apply_delta(&object.1, &delta)?);
            object = (object.0, data);
            self.cache().borrow_mut().put(key, object.clone());
        }
        Some(object)
    }
}

/// An entry's type, inflated size and how many bytes of `head` say them:
/// git's variable-length size encoding, refused past [`MAX_OBJECT_BYTES`]
/// or when it runs past `head`. The one reading of it, for the random-access
/// reader here and the sequential scan (`scan.rs`).
pub(super) fn type_and_size(head: &[u8]) -> Option<(u8, usize, usize)> {
    let mut bytes = head.iter().copied();
    let mut byte = bytes.next()?;
    let kind = (byte >> 4) & 7;
    let mut size = usize::from(byte & 0x0f);
    let mut shift = 4u32;
    let mut used = 1usize;
    while byte & 0x80 != 0 {
        byte = bytes.next()?;
        used += 1;
        if shift > 56 {
            return None;
        }
        size |= usize::from(byte & 0x7f).checked_shl(shift)?;
        shift += 7;
    }
    if size > MAX_OBJECT_BYTES {
        return None;
    }
    Some((kind, size, used))
}

/// Parses the entry header at `at`, read into `buf`: the type and size,
/// and for a delta where its base is. Returns where the compressed data
/// starts, and how many bytes of `buf` the header took (one read serves the
/// header and, for most objects, all of their data). `buf` is cut to what
/// was read.
fn header(pack: &Pack, at: u64, hash: HashKind, buf: &mut Vec<u8>) -> Option<(Entry, u64, usize)> {
    let read = pack.read_at(at, FIRST_READ, buf)?.len();
    buf.truncate(read);
    let head = &buf[..];
    let (kind, size, used) = type_and_size(head)?;
    let mut bytes = head.get(used..)?.iter().copied();
    let mut used = used as u64;
    let mut byte: u8;
    let entry = match kind {
        OBJ_OFS_DELTA => {
            // git's offset encoding: big-endian base-128, each continued
            // byte adding one before the shift.
            byte = bytes.next()?;
            used += 1;
            let mut back = u64::from(byte & 0x7f);
            while byte & 0x80 != 0 {
                byte = bytes.next()?;
                used += 1;
                back = back.checked_add(1)?.checked_shl(7)? | u64::from(byte & 0x7f);
            }
            Entry::OfsDelta {
                base: at.checked_sub(back).filter(|_| back > 0)?,
                size,
            }
        }
        OBJ_REF_DELTA => {
            let len = hash.byte_len();
            let base = hash.from_bytes(head.get(used as usize..used as usize + len)?)?;
            used += len as u64;
            Entry::RefDelta { base, size }
        }
        OBJ_COMMIT | OBJ_TREE | OBJ_BLOB | OBJ_TAG => Entry::Whole { kind, size },
        _ => return None,
    };
    let taken = usize::try_from(used).ok()?.min(head.len());
    Some((entry, at + used, taken))
}

impl PackReader<'_> {
    /// Inflates the zlib stream at `at`, of which `first` holds the first
    /// bytes, that must decode to exactly `size` bytes.
    fn inflate(&self, pack: &Pack, at: u64, first: &[u8], size: usize) -> Option<Vec<u8>> {
        // No other borrow of the cache is held while an entry inflates.
        let mut cache = self.cache().borrow_mut();
        let cache = &mut *cache;
        let z = cache
            .zlib
            .get_or_insert_with(|| flate2::Decompress::new(true));
        z.reset(true);
        inflate_with(z, pack, at, first, size, &mut cache.more)
    }
}

fn inflate_with(
    z: &mut flate2::Decompress,
    pack: &Pack,
    at: u64,
    first: &[u8],
    size: usize,
    more: &mut Vec<u8>,
) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(size);
    let mut pos = at;
    // Compressed data is rarely larger than the object plus a little.
    let mut chunk = (size + 64).clamp(READ_AHEAD, 1 << 20);
    let mut input = first;
    let mut stalled = 0;
    loop {
        if input.is_empty() {
            input = pack.read_at(pos, chunk, more)?;
            if input.is_empty() {
                return None;
            }
        }
        let before = z.total_in();
        let status = z
            .decompress_vec(input, &mut out, flate2::FlushDecompress::None)
            .ok()?;
        let consumed = z.total_in() - before;
        pos += consumed;
        let used = usize::try_from(consumed).ok()?.min(input.len());
        input = input.get(used..).unwrap_or_default();
        match status {
            flate2::Status::StreamEnd => break,
            _ if out.len() > size => return None,
            _ if out.len() == out.capacity() => {
                // More output than declared is a damaged object; give the
                // stream room to say whether it has ended.
                out.reserve(1);
            }
            _ => {}
        }
        if consumed == 0 {
            // No progress: a damaged stream must not spin.
            stalled += 1;
            if stalled > 2 {
                return None;
            }
            input = &[];
            chunk = chunk.saturating_mul(2).min(MAX_OBJECT_BYTES);
        } else {
            stalled = 0;
        }
    }
    (out.len() == size).then_some(out)
}

/// Applies a git delta to `base`.
fn apply_delta(base: &[u8], delta: &[u8]) -> Option<Vec<u8>> {
    let mut d = delta.iter().copied();
    let varint = |d: &mut dyn Iterator<Item = u8>| -> Option<usize> {
        let mut value = 0usize;
        let mut shift = 0u32;
        loop {
            let byte = d.next()?;
            value |= usize::from(byte & 0x7f).checked_shl(shift)?;
            if byte & 0x80 == 0 {
                return Some(value);
            }
            shift += 7;
            if shift > 56 {
                return None;
            }
        }
    };
    let base_size = varint(&mut d)?;
    let result_size = varint(&mut d)?;
    if base_size != base.len() || result_size > MAX_OBJECT_BYTES {
        return None;
    }
    let mut out = Vec::with_capacity(result_size);
    while let Some(op) = d.next() {
        if op & 0x80 != 0 {
            let mut offset = 0usize;
            let mut size = 0usize;
            for bit in 0..4 {
                if op & (1 << bit) != 0 {
                    offset |= usize::from(d.next()?) << (8 * bit);
                }
            }
            for bit in 0..3 {
                if op & (0x10 << bit) != 0 {
                    size |= usize::from(d.next()?) << (8 * bit);
                }
            }
            if size == 0 {
                size = 0x10000;
            }
            out.extend_from_slice(base.get(offset..offset.checked_add(size)?)?);
        } else if op != 0 {
            let n = usize::from(op);
            for _ in 0..n {
                out.push(d.next()?);
            }
        } else {
            // Reserved.
            return None;
        }
        if out.len() > result_size {
            return None;
        }
    }
    (out.len() == result_size).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_copy_and_insert_as_git_encodes_them() {
        let base = b"hello, world\n";
        // base size 13, result size 18: copy 7 bytes from 0, insert "there,",
        // copy 6 bytes from 7... ("hello, there, world\n" is 20).
        let mut delta = vec![13, 20];
        delta.extend_from_slice(&[0x80 | 0x10, 7]); // copy offset 0, size 7
        delta.push(7);
        delta.extend_from_slice(b"there, ");
        delta.extend_from_slice(&[0x80 | 0x01 | 0x10, 7, 6]); // offset 7, size 6
        assert_eq!(
            apply_delta(base, &delta).as_deref(),
            Some(&b"hello, there, world\n"[..])
        );
        // Wrong base size, a copy past the end, a reserved op, a short
        // result: all refused.
        assert_eq!(apply_delta(b"x", &delta), None);
        assert_eq!(apply_delta(base, &[13, 5, 0x80 | 0x01 | 0x10, 12, 5]), None);
        assert_eq!(apply_delta(base, &[13, 1, 0]), None);
        assert_eq!(apply_delta(base, &[13, 2, 1, b'a']), None);
    }

    #[test]
    fn a_copy_of_size_zero_means_64_kib() {
        let base = vec![7u8; 0x10000];
        let delta = [0x80, 0x80, 0x04, 0x80, 0x80, 0x04, 0x80];
        assert_eq!(apply_delta(&base, &delta), Some(base.clone()));
    }
}
