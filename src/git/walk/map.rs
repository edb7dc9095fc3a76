//! Maps keyed by object id, and the raw commits a walk hands over, kept in
//! one buffer.

use std::collections::{HashMap, HashSet};
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

/// A set of object ids with [`OidHasher`].
pub type OidSet = HashSet<ObjectId, BuildHasherDefault<OidHasher>>;

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

/// Object ids in order, kept as their bytes (20 per id in a SHA-1
/// repository, where a list of [`ObjectId`]s takes 33): a walk's answer can
/// be a million commits. Ids of another hash kind than the first (which one
/// repository never has) are kept aside, whole.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdList {
    kind: Option<HashKind>,
    bytes: Vec<u8>,
    len: usize,
    /// Positions and ids of another kind, in order.
    others: Vec<(usize, ObjectId)>,
}

impl IdList {
    pub fn push(&mut self, id: ObjectId) {
        let kind = *self.kind.get_or_insert(id.kind());
        if id.kind() == kind {
            self.bytes.extend_from_slice(id.as_bytes());
        } else {
            self.bytes.resize(self.bytes.len() + kind.byte_len(), 0);
            self.others.push((self.len, id));
        }
        self.len += 1;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `i`-th id.
    pub fn get(&self, i: usize) -> Option<ObjectId> {
        if i >= self.len {
            return None;
        }
        if let Ok(k) = self.others.binary_search_by_key(&i, |&(at, _)| at) {
            return self.others.get(k).map(|&(_, id)| id);
        }
        let kind = self.kind?;
        let width = kind.byte_len();
        kind.from_bytes(self.bytes.get(i * width..(i + 1) * width)?)
    }

    pub fn iter(&self) -> impl Iterator<Item = ObjectId> + '_ {
        (0..self.len).filter_map(|i| self.get(i))
    }

    pub fn to_vec(&self) -> Vec<ObjectId> {
        self.iter().collect()
    }
}

impl FromIterator<ObjectId> for IdList {
    fn from_iter<I: IntoIterator<Item = ObjectId>>(ids: I) -> Self {
        let mut list = IdList::default();
        for id in ids {
            list.push(id);
        }
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_list_gives_back_what_it_was_given_in_order() {
        let a = ObjectId::from_hex(b"0123456789abcdef0123456789abcdef01234567").unwrap();
        let b = ObjectId::from_hex(&[b'f'; 40]).unwrap();
        let other = ObjectId::from_hex(&[b'a'; 64]).unwrap();
        let list: IdList = [a, b, other, a].into_iter().collect();
        assert_eq!(list.len(), 4);
        assert_eq!(list.to_vec(), vec![a, b, other, a]);
        assert_eq!(list.get(4), None);
        assert!(IdList::default().is_empty());
    }

    #[test]
    fn the_id_table_numbers_ids_and_tells_apart_equal_prefixes() {
        let mut table = IdTable::default();
        let a = ObjectId::from_hex(b"0123456789abcdef0000000000000000000000aa").unwrap();
        // Same first eight bytes, another id.
        let b = ObjectId::from_hex(b"0123456789abcdef0000000000000000000000bb").unwrap();
        assert_eq!(table.push(a), 0);
        assert_eq!(table.get(b), None);
        assert_eq!(table.push(b), 1);
        assert_eq!((table.get(a), table.get(b)), (Some(0), Some(1)));
        assert_eq!((table.id(0), table.id(1)), (Some(a), Some(b)));
        let other = ObjectId::from_hex(&[b'c'; 64]).unwrap();
        assert_eq!(table.push(other), 2);
        assert_eq!((table.get(other), table.id(2)), (Some(2), Some(other)));
    }
}
