//! Maps keyed by object id, and the raw commits a walk hands over, kept in
//! one buffer.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::git::oid::{HashKind, ObjectId};

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
pub type OidMap<V> = HashMap<ObjectId, V, BuildHasherDefault<OidHasher>>;

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
    pub fn insert(&mut self, oid: ObjectId, data: &[u8]) {
        if self.at.contains_key(&oid) {
            return;
        }
        self.at.insert(oid, (self.bytes.len(), data.len()));
        self.bytes.extend_from_slice(data);
    }

    /// The bytes kept for a commit.
    pub fn get(&self, oid: ObjectId) -> Option<&[u8]> {
        let &(start, len) = self.at.get(&oid)?;
        self.bytes.get(start..start + len)
    }
}

/// Node numbers by object id and ids by node number, for the walk: the
/// ids' bytes in one buffer (20 per commit in a SHA-1 repository) and a map
/// from each id's first eight bytes to its number, about half the memory of
/// a map of whole ids to numbers plus an id per node (a 1,000,000-commit
/// push numbers a million of these). Ids whose first eight bytes another id
/// already has (such prefixes are cheap to make on purpose) and ids of
/// another hash kind than the first are kept in a plain map instead.
#[derive(Default)]
pub(super) struct IdTable {
    kind: Option<HashKind>,
    bytes: Vec<u8>,
    by_prefix: HashMap<u64, u32, BuildHasherDefault<KeyHasher>>,
    others: HashMap<ObjectId, u32>,
    foreign: HashMap<u32, ObjectId>,
    len: u32,
}

impl IdTable {
    /// The number of an id, if it has one.
    pub(super) fn get(&self, id: ObjectId) -> Option<u32> {
        if Some(id.kind()) == self.kind {
            if let Some(&n) = self.by_prefix.get(&id.prefix_u64()) {
                if self.bytes_of(n) == Some(id.as_bytes()) {
                    return Some(n);
                }
            }
        }
        self.others.get(&id).copied()
    }

    /// Gives `id` the next number, which the caller has checked fits in a
    /// `u32`; the caller has also checked that it has none yet.
    pub(super) fn push(&mut self, id: ObjectId) -> u32 {
        let n = self.len;
        self.len += 1;
        let kind = *self.kind.get_or_insert(id.kind());
        if id.kind() == kind {
            self.bytes.extend_from_slice(id.as_bytes());
            let prefix = id.prefix_u64();
            match self.by_prefix.entry(prefix) {
                std::collections::hash_map::Entry::Occupied(_) => {
                    self.others.insert(id, n);
                }
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(n);
                }
            }
        } else {
            self.bytes.resize(self.bytes.len() + kind.byte_len(), 0);
            self.others.insert(id, n);
            self.foreign.insert(n, id);
        }
        n
    }

    /// The id numbered `n`.
    pub(super) fn id(&self, n: u32) -> Option<ObjectId> {
        if let Some(&id) = self.foreign.get(&n) {
            return Some(id);
        }
        self.kind?.from_bytes(self.bytes_of(n)?)
    }

    fn bytes_of(&self, n: u32) -> Option<&[u8]> {
        let width = self.kind?.byte_len();
        let at = n as usize * width;
        self.bytes.get(at..at + width)
    }
}

/// Passes an id's first eight bytes through, mixed so that both the low bits (the
/// bucket) and the high bits (hashbrown's tag) vary.
#[derive(Default)]
pub(super) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = word.wrapping_mul(0x9e_37_79_b9_7f_4a_7c_15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
