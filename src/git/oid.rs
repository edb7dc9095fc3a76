//! Object ids of either hash function git supports: SHA-1 (20 bytes, 40 hex
//! digits) and SHA-256 (32 bytes, 64 hex digits).
//!
//! This module owns the id type every layer of trailgate passes around, so
//! that nothing above the object reader assumes 20 bytes. It knows nothing of
//! repositories: which hash a repository uses is read from its configuration
//! (`extensions.objectFormat`) by the git layer, which then parses ids with
//! [`HashKind::parse_hex`] so that an id of the other length is refused.
//!
//! An id is compared, hashed and ordered by its hash kind and then its bytes;
//! a SHA-1 id never equals a SHA-256 id.

use std::fmt;

/// The hash function of a repository's object names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashKind {
    Sha1,
    Sha256,
}

impl HashKind {
    /// Bytes in an id.
    pub const fn byte_len(self) -> usize {
        match self {
            HashKind::Sha1 => 20,
            HashKind::Sha256 => 32,
        }
    }

    /// Hex digits in an id.
    pub const fn hex_len(self) -> usize {
        self.byte_len() * 2
    }

    /// The name git uses in `extensions.objectFormat` and
    /// `git rev-parse --show-object-format`.
    pub const fn name(self) -> &'static str {
        match self {
            HashKind::Sha1 => "sha1",
            HashKind::Sha256 => "sha256",
        }
    }

    /// The name people write (`SHA-1`, `SHA-256`), for messages.
    pub const fn title(self) -> &'static str {
        match self {
            HashKind::Sha1 => "SHA-1",
            HashKind::Sha256 => "SHA-256",
        }
    }

    /// The kind named by `extensions.objectFormat` (case-insensitive, as git
    /// compares it); `None` for a name git does not know either.
    pub fn from_name(name: &str) -> Option<HashKind> {
        if name.eq_ignore_ascii_case("sha1") {
            Some(HashKind::Sha1)
        } else if name.eq_ignore_ascii_case("sha256") {
            Some(HashKind::Sha256)
        } else {
            None
        }
    }

    /// The kind whose hex ids have this many digits.
    pub const fn from_hex_len(len: usize) -> Option<HashKind> {
        match len {
            40 => Some(HashKind::Sha1),
            64 => Some(HashKind::Sha256),
            _ => None,
        }
    }

    /// The all-zero id git uses for "no object" (a created or deleted ref).
    pub const fn null(self) -> ObjectId {
        ObjectId {
            kind: self,
            bytes: [0; 32],
        }
    }

    /// The id of the empty tree.
    pub fn empty_tree(self) -> ObjectId {
        let hex: &[u8] = match self {
            HashKind::Sha1 => b"4b825dc642cb6eb9a060e54bf8d69288fbee4904",
            HashKind::Sha256 => b"6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321",
        };
        // Both constants are valid hex of the right length.
        self.parse_hex(hex).unwrap_or(self.null())
    }

    /// Parses exactly `hex_len()` hex digits (either case, as git's
    /// `get_oid_hex` accepts them).
    pub fn parse_hex(self, hex: &[u8]) -> Option<ObjectId> {
        if hex.len() != self.hex_len() {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (out, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
            let [hi, lo] = pair else { return None };
            *out = (nibble(*hi)? << 4) | nibble(*lo)?;
        }
        Some(ObjectId { kind: self, bytes })
    }

    /// Takes exactly `byte_len()` raw bytes (as stored in trees, pack indexes and
    /// the commit-graph).
    pub fn from_bytes(self, raw: &[u8]) -> Option<ObjectId> {
        if raw.len() != self.byte_len() {
            return None;
        }
        let mut bytes = [0u8; 32];
        bytes.get_mut(..raw.len())?.copy_from_slice(raw);
        Some(ObjectId { kind: self, bytes })
    }
}

impl fmt::Display for HashKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn nibble(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A git object id. Copy, 33 bytes; unused tail bytes of a SHA-1 id are zero.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    kind: HashKind,
    bytes: [u8; 32],
}

impl ObjectId {
    /// Parses a full hex id of either length (40 or 64 digits).
    pub fn from_hex(hex: &[u8]) -> Option<ObjectId> {
        HashKind::from_hex_len(hex.len())?.parse_hex(hex)
    }

    pub fn kind(&self) -> HashKind {
        self.kind
    }

    /// The raw bytes: 20 or 32 of them.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes
            .get(..self.kind.byte_len())
            .unwrap_or(&self.bytes)
    }

    /// All zeros: git's "no object".
    pub fn is_null(&self) -> bool {
        self.as_bytes().iter().all(|&b| b == 0)
    }

    /// The full lower-case hex form.
    pub fn to_hex(&self) -> String {
        self.to_string()
    }

    /// The first `n` hex digits (all of them if `n` is larger).
    pub fn to_hex_prefix(&self, n: usize) -> String {
        let mut hex = self.to_string();
        hex.truncate(n);
        hex
    }

    /// The 7-digit abbreviation the reports show.
    pub fn short(&self) -> String {
        self.to_hex_prefix(7)
    }

    /// The first eight bytes as a number, for hash tables keyed by ids (the
    /// bytes of a hash are already uniformly distributed).
    pub fn prefix_u64(&self) -> u64 {
        let mut word = [0u8; 8];
        word.copy_from_slice(self.bytes.get(..8).unwrap_or(&[0; 8]));
        u64::from_le_bytes(word)
    }

    /// The libgit2 id of a SHA-1 object; `None` for SHA-256, which the
    /// vendored libgit2 cannot name.
    pub fn to_git2(&self) -> Option<git2::Oid> {
        match self.kind {
            HashKind::Sha1 => git2::Oid::from_bytes(self.as_bytes()).ok(),
            HashKind::Sha256 => None,
        }
    }
}

impl From<git2::Oid> for ObjectId {
    fn from(oid: git2::Oid) -> ObjectId {
        // libgit2 (without its unstable SHA-256 support) only makes SHA-1 ids.
        HashKind::Sha1
            .from_bytes(oid.as_bytes())
            .unwrap_or(HashKind::Sha1.null())
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 64];
        for (pair, &b) in out.chunks_exact_mut(2).zip(self.as_bytes()) {
            if let [hi, lo] = pair {
                *hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
                *lo = HEX.get(usize::from(b & 15)).copied().unwrap_or(b'0');
            }
        }
        let hex = out.get(..self.kind.hex_len()).unwrap_or(&out);
        f.write_str(std::str::from_utf8(hex).unwrap_or(""))
    }
}

impl serde::Serialize for ObjectId {
    /// The full hex form, as git prints it.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({self})", self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_for_both_kinds() {
        let sha1 = b"0123456789abcdef0123456789abcdef01234567";
        let id = ObjectId::from_hex(sha1).unwrap();
        assert_eq!(id.kind(), HashKind::Sha1);
        assert_eq!(id.to_hex().as_bytes(), sha1);
        assert_eq!(id.as_bytes().len(), 20);
        let sha256 = [b'a'; 64];
        let id = ObjectId::from_hex(&sha256).unwrap();
        assert_eq!(id.kind(), HashKind::Sha256);
        assert_eq!(id.to_hex().as_bytes(), &sha256[..]);
        assert_eq!(id.short(), "aaaaaaa");
    }

    #[test]
    fn upper_case_is_read_and_printed_lower() {
        let id = ObjectId::from_hex(b"ABCDEF0123456789ABCDEF0123456789ABCDEF01").unwrap();
        assert_eq!(id.to_hex(), "abcdef0123456789abcdef0123456789abcdef01");
    }

    #[test]
    fn wrong_lengths_and_digits_are_refused() {
        assert!(ObjectId::from_hex(b"abc").is_none());
        assert!(ObjectId::from_hex(&[b'a'; 41]).is_none());
        assert!(ObjectId::from_hex(b"g123456789abcdef0123456789abcdef01234567").is_none());
        assert!(HashKind::Sha256
            .parse_hex(b"0123456789abcdef0123456789abcdef01234567")
            .is_none());
        assert!(HashKind::Sha1.from_bytes(&[0; 32]).is_none());
    }

    #[test]
    fn kinds_never_compare_equal() {
        assert_ne!(HashKind::Sha1.null(), HashKind::Sha256.null());
        assert!(HashKind::Sha1.null().is_null());
        assert_eq!(HashKind::Sha256.null().to_hex(), "0".repeat(64));
    }

    #[test]
    fn empty_trees_are_gits() {
        assert_eq!(
            HashKind::Sha1.empty_tree().to_hex(),
            git2::Oid::hash_object(git2::ObjectType::Tree, b"")
                .unwrap()
                .to_string()
        );
        assert!(!HashKind::Sha256.empty_tree().is_null());
    }

    #[test]
    fn git2_ids_convert_both_ways() {
        let oid = git2::Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap();
        let id = ObjectId::from(oid);
        assert_eq!(id.to_git2(), Some(oid));
        assert_eq!(id.to_string(), oid.to_string());
        assert_eq!(HashKind::Sha256.null().to_git2(), None);
    }
}
