//! Reading trees for a diff: their raw entries as git's `tree-walk.c` reads
//! them, the cache of recently read trees, tree order, and the walk of two
//! trees that pairs up what changed (git's `tree-diff.c`).

use std::collections::HashMap;
use std::rc::Rc;

use crate::git::oid::{HashKind, ObjectId};
use crate::git::repo::{Object, ObjectKind};

use super::*;

/// Trees read by recent diffs, for the next ones. A commit's diff reads its
/// first parent's trees, which the parent's own diff reads again as its new
/// side; and a directory's tree as a commit leaves it is, more often than
/// not, the one an earlier diff (of a newer commit that also changed the
/// directory) read as its old side. With libgit2's object cache off (see
/// [`crate::git::repo`]) a history diffed newest to oldest would otherwise read
/// and inflate most trees twice. Holds two generations of at most
/// [`TREES_PER_GENERATION`] trees: what the older one still has when the
/// newer fills up is forgotten.
/// A few hundred trees of a few kilobytes each: enough to span the diffs
/// between two changes of the same directory in a busy history.
pub(super) const TREES_PER_GENERATION: usize = 512;

#[derive(Default)]
pub struct TreeCache {
    current: HashMap<ObjectId, RawTree>,
    last: HashMap<ObjectId, RawTree>,
}

impl TreeCache {
    pub(super) fn get(&mut self, oid: ObjectId) -> Option<RawTree> {
        if let Some(tree) = self.current.get(&oid) {
            return Some(tree.clone());
        }
        let tree = self.last.remove(&oid)?;
        self.current.insert(oid, tree.clone());
        Some(tree)
    }

    pub(super) fn put(&mut self, oid: ObjectId, tree: &RawTree) {
        self.current.insert(oid, tree.clone());
    }

    /// Called after each diff: starts a new generation when this one is full.
    pub(super) fn rotate(&mut self) {
        if self.current.len() >= TREES_PER_GENERATION {
            self.last = std::mem::take(&mut self.current);
        }
    }
}

/// A tree object's bytes, read entry by entry as git's `tree-walk.c` reads
/// them. Parsing the bytes in place instead of through libgit2's tree
/// objects (which parse every entry's mode with `strtol` and allocate an
/// entry array) halved the cost of a path-only diff.
#[derive(Clone)]
pub(super) struct RawTree {
    oid: ObjectId,
    data: Rc<[u8]>,
}

/// One entry of a [`RawTree`].
pub(super) struct Entry<'t> {
    name: &'t [u8],
    /// Canonical mode (see [`canon_mode`]).
    mode: u32,
    /// The entry's object id, as the tree stores it.
    id: &'t [u8],
    kind: HashKind,
}

impl Entry<'_> {
    pub(super) fn oid(&self) -> ObjectId {
        // The reader took exactly `byte_len()` bytes.
        self.kind.from_bytes(self.id).unwrap_or(self.kind.null())
    }
}

/// The entries of a [`RawTree`], in order; an error ends them.
pub(super) struct Entries<'t> {
    rest: &'t [u8],
    /// The hash of the ids the entries hold (20 or 32 raw bytes each).
    kind: HashKind,
}

impl<'t> Entries<'t> {
    /// Git's `decode_tree_entry`: `<octal mode> <name>\0<raw id>` (20 bytes
    /// for SHA-1, 32 for SHA-256).
    pub(super) fn next_entry(&mut self) -> Result<Option<Entry<'t>>, &'static str> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let (mode, digits, end, len) = self.scan()?;
        let entry = self.rest.get(..len).unwrap_or(&[]);
        self.rest = self.rest.get(len..).unwrap_or(&[]);
        Ok(Some(Entry {
            name: entry.get(digits + 1..end).unwrap_or(&[]),
            mode: canon_mode(mode),
            id: entry.get(end + 1..).unwrap_or(&[]),
            kind: self.kind,
        }))
    }

    /// Reads the next entry's layout, with every check git's
    /// `decode_tree_entry` makes: its raw mode, the digits of the mode, where
    /// its name ends (the NUL) and its whole length, all from the start of
    /// `rest` (which must not be empty).
    fn scan(&self) -> Result<(u32, usize, usize, usize), &'static str> {
        // The mode is read as it is scanned: a tree is read entry by entry
        // for every commit diffed, so this loop is hot.
        let mut mode: u32 = 0;
        let mut digits = 0;
        loop {
            match self.rest.get(digits) {
                Some(b' ') => break,
                Some(&c @ b'0'..=b'7') => mode = mode.wrapping_shl(3) | u32::from(c - b'0'),
                Some(_) => return Err("an entry's mode is not octal"),
                None => return Err("an entry has no space after its mode"),
            }
            digits += 1;
        }
        if digits == 0 {
            return Err("an entry has an empty mode");
        }
        let after = self.rest.get(digits + 1..).unwrap_or(&[]);
        // Names are short: a plain scan beats a vectorised search here.
        let name_len = after
            .iter()
            .position(|&b| b == 0)
            .ok_or("an entry's name is not terminated")?;
        if name_len == 0 {
            return Err("an entry has an empty name");
        }
        let end = digits + 1 + name_len;
        let len = end + 1 + self.kind.byte_len();
        if self.rest.len() < len {
            return Err("the last entry is cut short");
        }
        Ok((mode, digits, end, len))
    }

    /// Skips the entries at the head of both `old` and `new` that are the
    /// same bytes (mode, name and id) in both: most of a tree a commit
    /// changed is what it was, and such an entry is one the walk would pair
    /// up and drop as unchanged. Each skipped entry is checked as
    /// [`Entries::next_entry`] checks it (on the old side, which is byte for
    /// byte the new side too), so a malformed tree fails as it would
    /// without the skip; only the parse of the new side and the comparison
    /// of the two are saved. Returns how many it skipped.
    pub(super) fn skip_same(
        old: &mut Entries<'t>,
        new: &mut Entries<'t>,
    ) -> Result<u32, &'static str> {
        let mut skipped = 0;
        while !old.rest.is_empty() && !new.rest.is_empty() {
            let (_, _, _, len) = old.scan()?;
            match (old.rest.get(..len), new.rest.get(..len)) {
                (Some(a), Some(b)) if a == b => {
                    old.rest = old.rest.get(len..).unwrap_or(&[]);
                    new.rest = new.rest.get(len..).unwrap_or(&[]);
                    skipped += 1;
                }
                _ => break,
            }
        }
        Ok(skipped)
    }
}

pub(super) const S_IFMT: u32 = 0o170000;
pub(super) const S_IFREG: u32 = 0o100000;
pub(super) const S_IFDIR: u32 = 0o040000;
pub(super) const S_IFLNK: u32 = 0o120000;
pub(super) const S_IFGITLINK: u32 = 0o160000;

/// Git's `canon_mode`: what a tree entry's mode means.
pub(super) fn canon_mode(mode: u32) -> u32 {
    match mode & S_IFMT {
        S_IFREG => S_IFREG | if mode & 0o100 != 0 { 0o755 } else { 0o644 },
        S_IFLNK => S_IFLNK,
        S_IFDIR => S_IFDIR,
        _ => S_IFGITLINK,
    }
}

pub(super) fn is_dir(mode: u32) -> bool {
    mode & S_IFMT == S_IFDIR
}

pub(super) fn is_reg(mode: u32) -> bool {
    mode & S_IFMT == S_IFREG
}

/// Git's `base_name_compare`: tree order, where a directory sorts as if its
/// name ended in `/`.
pub(super) fn base_name_compare(
    a: &[u8],
    a_mode: u32,
    b: &[u8],
    b_mode: u32,
) -> std::cmp::Ordering {
    let len = a.len().min(b.len());
    match a[..len].cmp(&b[..len]) {
        std::cmp::Ordering::Equal => {}
        other => return other,
    }
    let next = |name: &[u8], mode: u32| match name.get(len) {
        Some(c) => *c,
        None if is_dir(mode) => b'/',
        None => 0,
    };
    next(a, a_mode).cmp(&next(b, b_mode))
}

impl<'r> Differ<'r> {
    pub(super) fn tree(&self, oid: ObjectId) -> Result<RawTree, DiffError> {
        if let Some(tree) = self.trees.borrow_mut().get(oid) {
            return Ok(tree);
        }
        if let Some((ObjectKind::Tree, data)) = self.packs.and_then(|p| p.read(oid)) {
            let tree = RawTree { oid, data };
            self.trees.borrow_mut().put(oid, &tree);
            return Ok(tree);
        }
        let object = self.object_of_kind(ObjectKind::Tree, oid)?;
        let tree = RawTree {
            oid,
            data: Rc::from(object.data()),
        };
        self.trees.borrow_mut().put(oid, &tree);
        Ok(tree)
    }

    pub(super) fn bad_tree(&self, tree: &RawTree, reason: &'static str) -> DiffError {
        DiffError::BadTree {
            context: self.context.clone(),
            oid: tree.oid,
            reason,
        }
    }

    /// The next entry of a tree being walked, or `None` at its end.
    pub(super) fn next_entry<'t>(
        &self,
        tree: Option<&RawTree>,
        entries: &mut Entries<'t>,
    ) -> Result<Option<Entry<'t>>, DiffError> {
        match tree {
            Some(t) => entries
                .next_entry()
                .map_err(|reason| self.bad_tree(t, reason)),
            None => Ok(None),
        }
    }

    pub(super) fn blob(&self, oid: ObjectId) -> Result<Object<'_>, DiffError> {
        self.object_of_kind(ObjectKind::Blob, oid)
    }

    /// Reads an object that must be of `kind`.
    fn object_of_kind(&self, kind: ObjectKind, oid: ObjectId) -> Result<Object<'_>, DiffError> {
        let name = kind.name();
        let object = self
            .objects(name, oid)?
            .read_raw(oid)
            .map_err(|e| self.missing_or_read(name, oid, e))?;
        if object.kind() != kind {
            return Err(self.missing_or_read(
                name,
                oid,
                GitError::Git(format!("it is a {}", object.kind().name())),
            ));
        }
        Ok(object)
    }

    /// The object database, opened on first need.
    fn objects(
        &self,
        kind: &'static str,
        oid: ObjectId,
    ) -> Result<&crate::git::repo::Objects<'r>, DiffError> {
        match self.odb.get_or_init(|| self.repo.objects().ok()) {
            Some(objects) => Ok(objects),
            None => Err(self.missing_or_read(
                kind,
                oid,
                GitError::Git("the object database cannot be opened".into()),
            )),
        }
    }

    /// Git's `ll_diff_tree_paths` for two (optional) trees under `prefix`.
    pub(super) fn walk(
        &self,
        prefix: &mut Vec<u8>,
        old: Option<&RawTree>,
        new: Option<&RawTree>,
        out: &mut Vec<Pair>,
    ) -> Result<(), DiffError> {
        self.in_time()?;
        let kind = self.repo.hash_kind();
        let mut old_entries = Entries {
            rest: old.map_or(&[][..], |t| &t.data),
            kind,
        };
        let mut new_entries = Entries {
            rest: new.map_or(&[][..], |t| &t.data),
            kind,
        };
        let mut entries = self.skip_same(old, new, &mut old_entries, &mut new_entries)?;
        let mut a = self.next_entry(old, &mut old_entries)?;
        let mut b = self.next_entry(new, &mut new_entries)?;
        loop {
            // A tree of a million entries is one call: the budget is checked
            // inside it too.
            entries = entries.wrapping_add(1);
            if entries >= 4096 {
                entries = 0;
                self.in_time()?;
            }
            let order = match (&a, &b) {
                (Some(a), Some(b)) => base_name_compare(a.name, a.mode, b.name, b.mode),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => return Ok(()),
            };
            match order {
                std::cmp::Ordering::Equal => {
                    // Same name and both trees or both non-trees.
                    if let (Some(a), Some(b)) = (&a, &b) {
                        if a.id != b.id || a.mode != b.mode {
                            let len = prefix.len();
                            prefix.extend_from_slice(a.name);
                            if is_dir(a.mode) {
                                let ta = self.tree(a.oid())?;
                                let tb = self.tree(b.oid())?;
                                prefix.push(b'/');
                                self.walk(prefix, Some(&ta), Some(&tb), out)?;
                            } else {
                                out.push(Pair {
                                    old: Some(Side {
                                        path: prefix.clone(),
                                        mode: a.mode,
                                        oid: a.oid(),
                                    }),
                                    new: Some(Side {
                                        path: prefix.clone(),
                                        mode: b.mode,
                                        oid: b.oid(),
                                    }),
                                    rename_score: None,
                                });
                            }
                            prefix.truncate(len);
                        }
                    }
                    entries = entries.saturating_add(self.skip_same(
                        old,
                        new,
                        &mut old_entries,
                        &mut new_entries,
                    )?);
                    a = self.next_entry(old, &mut old_entries)?;
                    b = self.next_entry(new, &mut new_entries)?;
                }
                std::cmp::Ordering::Less => {
                    if let Some(a) = &a {
                        self.one_side(prefix, a.name, a.mode, a.oid(), true, out)?;
                    }
                    a = self.next_entry(old, &mut old_entries)?;
                }
                std::cmp::Ordering::Greater => {
                    if let Some(b) = &b {
                        self.one_side(prefix, b.name, b.mode, b.oid(), false, out)?;
                    }
                    b = self.next_entry(new, &mut new_entries)?;
                }
            }
        }
    }

    /// [`Entries::skip_same`] for two trees being walked; errors name the
    /// old tree, whose entry was read.
    fn skip_same<'t>(
        &self,
        old: Option<&RawTree>,
        new: Option<&RawTree>,
        old_entries: &mut Entries<'t>,
        new_entries: &mut Entries<'t>,
    ) -> Result<u32, DiffError> {
        match (old, new) {
            (Some(t), Some(_)) => Entries::skip_same(old_entries, new_entries)
                .map_err(|reason| self.bad_tree(t, reason)),
            _ => Ok(0),
        }
    }

    /// An entry only on one side: deleted (`old`) or added, recursively for
    /// a tree.
    pub(super) fn one_side(
        &self,
        prefix: &mut Vec<u8>,
        name: &[u8],
        mode: u32,
        oid: ObjectId,
        old: bool,
        out: &mut Vec<Pair>,
    ) -> Result<(), DiffError> {
        let len = prefix.len();
        prefix.extend_from_slice(name);
        if is_dir(mode) {
            let tree = self.tree(oid)?;
            prefix.push(b'/');
            if old {
                self.walk(prefix, Some(&tree), None, out)?;
            } else {
                self.walk(prefix, None, Some(&tree), out)?;
            }
        } else {
            let side = Side {
                path: prefix.clone(),
                mode,
                oid,
            };
            out.push(if old {
                Pair {
                    old: Some(side),
                    new: None,
                    rename_score: None,
                }
            } else {
                Pair {
                    old: None,
                    new: Some(side),
                    rename_score: None,
                }
            });
        }
        prefix.truncate(len);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use std::cmp::Ordering;

    /// Name, canonical mode and id of one entry.
    type Read = (Vec<u8>, u32, Vec<u8>);

    fn entries_of(data: &[u8]) -> Result<Vec<Read>, &'static str> {
        let mut entries = Entries {
            rest: data,
            kind: HashKind::Sha1,
        };
        let mut out = Vec::new();
        while let Some(e) = entries.next_entry()? {
            out.push((e.name.to_vec(), e.mode, e.id.to_vec()));
        }
        Ok(out)
    }

    #[test]
    fn tree_entries_are_read_as_git_writes_them() {
        let id = [7u8; 20];
        let mut data = b"100644 a.txt\0".to_vec();
        data.extend_from_slice(&id);
        data.extend_from_slice(b"40000 dir\0");
        data.extend_from_slice(&[0u8; 20]);
        data.extend_from_slice(b"100664 odd\0");
        data.extend_from_slice(&id);
        let entries = entries_of(&data).unwrap();
        assert_eq!(
            entries,
            vec![
                (b"a.txt".to_vec(), 0o100644, id.to_vec()),
                (b"dir".to_vec(), 0o040000, vec![0u8; 20]),
                // Canonicalised as git does.
                (b"odd".to_vec(), 0o100644, id.to_vec()),
            ]
        );
        assert_eq!(entries_of(b""), Ok(vec![]));
    }

    #[test]
    fn malformed_tree_entries_are_errors_not_panics() {
        let id = [1u8; 20];
        let with_id = |head: &[u8]| {
            let mut d = head.to_vec();
            d.extend_from_slice(&id);
            d
        };
        assert!(entries_of(&with_id(b"100844 a\0")).is_err());
        assert!(entries_of(&with_id(b" a\0")).is_err());
        assert!(entries_of(&with_id(b"100644 \0")).is_err());
        assert!(entries_of(b"100644 a").is_err());
        assert!(entries_of(b"100644").is_err());
        assert!(entries_of(b"100644 a\0short").is_err());
    }

    #[test]
    fn identical_leading_entries_are_skipped_on_both_sides_and_still_checked() {
        let entry = |mode: &[u8], name: &[u8], id: u8| {
            let mut d = mode.to_vec();
            d.push(b' ');
            d.extend_from_slice(name);
            d.push(0);
            d.extend_from_slice(&[id; 20]);
            d
        };
        let kind = HashKind::Sha1;
        let old = [
            entry(b"100644", b"a", 1),
            entry(b"100644", b"b", 2),
            entry(b"100644", b"c", 3),
        ]
        .concat();
        let new = [
            entry(b"100644", b"a", 1),
            entry(b"100644", b"b", 9),
            entry(b"100644", b"c", 3),
        ]
        .concat();
        let mut o = Entries { rest: &old, kind };
        let mut n = Entries { rest: &new, kind };
        // Only `a` is the same bytes; `b` differs in its id.
        assert_eq!(Entries::skip_same(&mut o, &mut n), Ok(1));
        assert_eq!(o.next_entry().unwrap().unwrap().name, b"b");
        assert_eq!(n.next_entry().unwrap().unwrap().name, b"b");
        assert_eq!(Entries::skip_same(&mut o, &mut n), Ok(1));
        assert!(o.rest.is_empty() && n.rest.is_empty());
        // A malformed entry is an error even where both trees hold it.
        let bad = entry(b"100844", b"a", 1);
        let (mut o, mut n) = (Entries { rest: &bad, kind }, Entries { rest: &bad, kind });
        assert_eq!(
            Entries::skip_same(&mut o, &mut n),
            Err("an entry's mode is not octal")
        );
        let cut = &old[..old.len() - 1];
        let (mut o, mut n) = (Entries { rest: cut, kind }, Entries { rest: cut, kind });
        // Two entries are fine, the third is cut short: an error, not a skip.
        assert_eq!(
            Entries::skip_same(&mut o, &mut n),
            Err("the last entry is cut short")
        );
    }

    #[test]
    fn a_directory_sorts_as_if_its_name_ended_in_a_slash() {
        let dir = S_IFDIR;
        let file = 0o100644;
        assert_eq!(base_name_compare(b"a", file, b"a", dir), Ordering::Less);
        assert_eq!(base_name_compare(b"a.c", file, b"a", dir), Ordering::Less);
        assert_eq!(base_name_compare(b"a0", file, b"a", dir), Ordering::Greater);
        assert_eq!(base_name_compare(b"a", file, b"a.c", file), Ordering::Less);
        assert_eq!(base_name_compare(b"a", dir, b"a", dir), Ordering::Equal);
    }

    #[test]
    fn modes_are_canonicalised_like_git() {
        assert_eq!(canon_mode(0o100664), 0o100644);
        assert_eq!(canon_mode(0o100775), 0o100755);
        assert_eq!(canon_mode(0o120777), 0o120000);
        assert_eq!(canon_mode(0o040755), 0o040000);
        assert_eq!(canon_mode(0o160000), 0o160000);
    }
}
