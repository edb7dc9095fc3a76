//! Maps keyed by object id, and the raw commits a walk hands over, kept in
//! one buffer.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use git2::Oid;

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

/// An object id as a map key: its bytes, compared inline (`Oid`'s equality
/// is a call into libgit2, a measurable part of a large walk).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Key([u8; 20]);

impl Key {
    pub(super) fn of(oid: Oid) -> Key {
        let mut key = [0u8; 20];
        for (k, b) in key.iter_mut().zip(oid.as_bytes()) {
            *k = *b;
        }
        Key(key)
    }
}

impl std::hash::Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // An id is already a cryptographic hash: eight of its bytes are as
        // good a hash as any.
        let mut word = [0u8; 8];
        for (w, b) in word.iter_mut().zip(&self.0) {
            *w = *b;
        }
        state.write_u64(u64::from_le_bytes(word));
    }
}

/// Passes [`Key`]'s word through, mixed so that both the low bits (the
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
