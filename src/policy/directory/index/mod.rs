//! The directory index: a binary file beside the directory file
//! (`directory.toml.index`), written once the file has been validated in
//! full (`trailgate directory sync` after it installs the file,
//! `trailgate check` when it can write there), so that the hook can judge
//! a push without reading, checking or hashing megabytes of TOML.
//!
//! It holds what the hook needs and nothing it could not check again: the
//! file's identity (device, inode, size, modification and change times),
//! its SHA-256 (the audit line's) and where its `generated` line and its
//! `[groups]` table are; for each person, where their `[people.ID]` table
//! is; which person each group entry names; and hash tables from each
//! e-mail (trimmed, lower-cased), login, user id, person id and SSH key
//! blob to the people who have it. A hash only narrows: every answer is
//! confirmed in the person's own table, read from the file itself
//! ([`super::indexed`]).
//!
//! Trust: the hook uses an index only when the file it opens has exactly
//! the identity the index records, and when that file's last change is
//! strictly older than a time stamp the file system gave the index before
//! the file was read (git's rule for racily clean index entries): any
//! later change to the file, even in place and of the same size, then
//! gives it a newer change time, which no one can set back. The index must
//! also be its owner's or root's, and no more writable by others than the
//! file. Anything else (no index, another file's, an older format, a
//! truncated or damaged one) is not an error: the hook reads the file as
//! it would without an index, which is slower and gives the same answer.

use std::ffi::OsString;
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;

mod write;

pub use write::write;

/// The format's name and version: another version is not read.
const MAGIC: &[u8; 8] = b"TGDIX\0\0\x01";

/// What the index's name adds to the directory file's.
pub const SUFFIX: &str = ".index";

/// The tables after the header, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Table {
    /// Per person: where their table starts and ends, and its line.
    Persons,
    /// Per group entry that is not an e-mail, in the order of the file:
    /// the person it names, or `u32::MAX`.
    GroupPeople,
    Emails,
    Logins,
    UserIds,
    Ids,
    Blobs,
}

const TABLES: usize = 7;
const PERSON_RECORD: usize = 12;
const HEADER: usize = 8 + 7 * 8 + 2 * 8 + 32 + 8 + 6 * 8 + TABLES * 16;
/// Larger buckets than this are a damaged index (they would only be slow).
const MAX_BUCKET: usize = 4096;
/// How long a writer waits for the file system's clock to pass the
/// directory file's last change (a file system with 2 s time stamps).
const CLOCK_WAIT: Duration = Duration::from_secs(3);

/// The index of the directory file at `directory`.
pub fn path_for(directory: &Path) -> PathBuf {
    let mut name = directory
        .file_name()
        .map(OsString::from)
        .unwrap_or_default();
    name.push(SUFFIX);
    directory.with_file_name(name)
}

/// A file's identity: what changes whenever its content may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Identity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Identity {
    fn of(m: &std::fs::Metadata) -> Self {
        Identity {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }

    /// The later of its modification and change times.
    fn changed(&self) -> (i64, i64) {
        self.mtime.max(self.ctime)
    }
}

/// A byte range of the directory file that starts a line, and that line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Place {
    pub start: usize,
    pub end: usize,
    /// 1-based.
    pub line: usize,
}

/// The index's fixed header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Header {
    identity: Identity,
    /// A time stamp of the file system's taken before the file was read.
    written: (i64, i64),
    pub sha256: [u8; 32],
    pub people: usize,
    pub generated: Place,
    pub groups: Place,
    tables: [(u64, u64); TABLES],
}

/// Why no index was written (`check` says so and goes on; `sync` warns).
#[derive(Debug, Error)]
pub enum IndexError {
    #[error("cannot write the directory index {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "no directory index written: {path} changed while it was read; run `trailgate check` again"
    )]
    Changed { path: PathBuf },
    #[error("no directory index written: {path} is not in the plain layout that `trailgate directory sync` writes (one `key = value` per line, one-line arrays), which the index needs")]
    Layout { path: PathBuf },
    #[error("no directory index written: the time stamps of {path} are not behind this file system's clock (set in the future?)")]
    Clock { path: PathBuf },
    #[error("no directory index written: {path} is on another file system than the folder its index goes in (a symlink or a mount?); name the file itself in `settings.directory`")]
    OtherFileSystem { path: PathBuf },
}

/// The `[groups]` entries that name a person by id rather than by address,
/// in the file's order: one slot each in the index's group table. The
/// writer fills the slots and the hook reads them back by position, so
/// both must list the entries through this one function.
pub(super) fn id_entries(
    groups: &std::collections::BTreeMap<toml::Spanned<String>, Vec<toml::Spanned<String>>>,
) -> Vec<&toml::Spanned<String>> {
    let mut entries: Vec<_> = groups
        .values()
        .flatten()
        .filter(|e| !e.get_ref().contains('@'))
        .collect();
    entries.sort_by_key(|e| e.span().start);
    entries
}

/// FNV-1a, 64 bits: the tables' hash (it only narrows; see the module).
pub(super) fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// An e-mail address's normal form, as `people::check_person` keeps it.
pub(super) fn email_key(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

fn decode(bytes: &[u8]) -> Option<Header> {
    if bytes.get(..8)? != MAGIC {
        return None;
    }
    let mut at = 8;
    let mut next = || {
        let n = u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?);
        at += 8;
        Some(n)
    };
    let (dev, ino, size) = (next()?, next()?, next()?);
    let mut time = || Some((next()? as i64, next()? as i64));
    let (mtime, ctime, written) = (time()?, time()?, time()?);
    let sha256: [u8; 32] = bytes.get(at..at + 32)?.try_into().ok()?;
    at += 32;
    let mut next = || {
        let n = u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?);
        at += 8;
        Some(n)
    };
    let people = usize::try_from(next()?).ok()?;
    let mut place = || {
        Some(Place {
            start: usize::try_from(next()?).ok()?,
            end: usize::try_from(next()?).ok()?,
            line: usize::try_from(next()?).ok()?,
        })
    };
    let (generated, groups) = (place()?, place()?);
    let mut tables = [(0, 0); TABLES];
    for slot in &mut tables {
        *slot = (next()?, next()?);
    }
    Some(Header {
        identity: Identity {
            dev,
            ino,
            size,
            mtime,
            ctime,
        },
        written,
        sha256,
        people,
        generated,
        groups,
        tables,
    })
}

/// An index the hook may trust, and the directory file it is of.
pub(super) struct Index {
    index: File,
    toml: File,
    pub header: Header,
    /// The directory file's path, for messages.
    path: PathBuf,
    index_path: PathBuf,
}

/// What the hook reads of a trusted index at start-up.
pub(super) struct Opened {
    pub index: Index,
    /// The `generated` line, a newline, and the `[groups]` table.
    pub top: String,
    /// The file's lines that `top`'s are (see `Validator::for_excerpt`).
    pub top_lines: Vec<(usize, usize)>,
    pub group_people: Vec<u32>,
}

/// The index of the directory file at `directory`, if there is one the
/// hook may trust (see the module); `None` sends the hook to the file.
pub(super) fn open(directory: &Path) -> Option<Opened> {
    let index_path = path_for(directory);
    let index = File::open(&index_path).ok()?;
    let im = index.metadata().ok()?;
    let toml = File::open(directory).ok()?;
    let tm = toml.metadata().ok()?;
    // On another file system the index's time stamp says nothing about
    // the file's (see `write`).
    if !im.is_file() || !tm.is_file() || im.dev() != tm.dev() {
        return None;
    }
    // Whoever may change the index but not the file must not decide
    // what the hook reads in it.
    if (im.uid() != tm.uid() && im.uid() != 0) || im.mode() & 0o022 & !tm.mode() != 0 {
        return None;
    }
    let mut bytes = [0u8; HEADER];
    index.read_exact_at(&mut bytes, 0).ok()?;
    let header = decode(&bytes)?;
    let identity = Identity::of(&tm);
    if header.identity != identity || identity.changed() >= header.written {
        return None;
    }
    let size = usize::try_from(identity.size).ok()?;
    for &(off, len) in &header.tables {
        if off < HEADER as u64 || off.checked_add(len)? > im.size() {
            return None;
        }
    }
    let len = |t: Table| header.tables.get(t as usize).map_or(0, |&(_, len)| len);
    // The two tables read whole are bounded by the file they describe, not
    // only by the index's size (a sparse index file costs nothing to make
    // huge): a `[people.X]` header takes at least 10 bytes of the file, a
    // group entry `"x"` at least 3 of the `[groups]` table.
    if header.people > size / 10
        || len(Table::Persons) != (header.people.checked_mul(PERSON_RECORD)?) as u64
        || len(Table::GroupPeople) % 4 != 0
    {
        return None;
    }
    for p in [header.generated, header.groups] {
        if p.start > p.end || p.end > size {
            return None;
        }
    }
    let group_bytes = (header.groups.end - header.groups.start) as u64;
    if len(Table::GroupPeople) / 4 > group_bytes / 3 + 1 {
        return None;
    }
    let index = Index {
        index,
        toml,
        header,
        path: directory.to_owned(),
        index_path,
    };
    let generated = index.toml_text(index.header.generated).ok()?;
    let groups = index.toml_text(index.header.groups).ok()?;
    let top = format!("{generated}\n{groups}");
    let top_lines = vec![
        (0, index.header.generated.line),
        (1, index.header.groups.line),
    ];
    let group_people = index
        .table_bytes(Table::GroupPeople)
        .ok()?
        .chunks_exact(4)
        .filter_map(|c| c.try_into().ok().map(u32::from_le_bytes))
        .collect();
    Some(Opened {
        index,
        top,
        top_lines,
        group_people,
    })
}

impl Index {
    pub(super) fn damaged(&self) -> String {
        format!(
            "the directory index {} is damaged; run `trailgate check` to write it again",
            self.index_path.display()
        )
    }

    fn read_index(&self, off: u64, len: usize) -> Result<Vec<u8>, String> {
        let mut buf = vec![0u8; len];
        self.index
            .read_exact_at(&mut buf, off)
            .map_err(|e| format!("{}: {e}", self.damaged()))?;
        Ok(buf)
    }

    /// Where a table is in the index, and its length.
    fn table(&self, table: Table) -> (u64, u64) {
        self.header
            .tables
            .get(table as usize)
            .copied()
            .unwrap_or((0, 0))
    }

    fn table_bytes(&self, table: Table) -> Result<Vec<u8>, String> {
        let (off, len) = self.table(table);
        self.read_index(off, usize::try_from(len).map_err(|_| self.damaged())?)
    }

    /// Every person's place, in one read.
    pub(super) fn persons(&self) -> Result<Vec<Place>, String> {
        let bytes = self.table_bytes(Table::Persons)?;
        Ok(bytes.chunks_exact(PERSON_RECORD).map(place).collect())
    }

    /// Where person `i`'s table is.
    pub(super) fn person(&self, i: usize) -> Result<Place, String> {
        if i >= self.header.people {
            return Err(self.damaged());
        }
        let (off, _) = self.table(Table::Persons);
        let bytes = self.read_index(off + (i * PERSON_RECORD) as u64, PERSON_RECORD)?;
        let p = place(&bytes);
        if p.start >= p.end || p.end as u64 > self.header.identity.size {
            return Err(self.damaged());
        }
        Ok(p)
    }

    /// The people a table lists under `hash`, in the order of the file.
    pub(super) fn candidates(&self, table: Table, hash: u64) -> Result<Vec<usize>, String> {
        let (off, len) = self.table(table);
        if len < 8 {
            return Err(self.damaged());
        }
        let head = self.read_index(off, 8)?;
        let (nb, m) = (u32_at(&head, 0), u32_at(&head, 4));
        if !nb.is_power_of_two() || 8 + (nb as u64 + 1) * 4 + m as u64 * 8 != len {
            return Err(self.damaged());
        }
        let bucket = hash & (u64::from(nb) - 1);
        let bounds = self.read_index(off + 8 + bucket * 4, 8)?;
        let (from, to) = (u32_at(&bounds, 0) as usize, u32_at(&bounds, 4) as usize);
        if from > to || to > m as usize || to - from > MAX_BUCKET {
            return Err(self.damaged());
        }
        let entries_at = off + 8 + (u64::from(nb) + 1) * 4;
        let bytes = self.read_index(entries_at + from as u64 * 8, (to - from) * 8)?;
        let tag = (hash >> 32) as u32;
        let mut out: Vec<usize> = bytes
            .chunks_exact(8)
            .filter(|e| u32_at(e, 0) == tag)
            .map(|e| u32_at(e, 4) as usize)
            .filter(|&p| p < self.header.people)
            .collect();
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// The directory file's text at `place`, read now, if the file is still
    /// the one indexed.
    pub(super) fn toml_text(&self, place: Place) -> Result<String, String> {
        let mut buf = vec![0u8; place.end.saturating_sub(place.start)];
        let read = self.toml.read_exact_at(&mut buf, place.start as u64);
        // After the read: a change starts by updating the change time.
        let same = self
            .toml
            .metadata()
            .is_ok_and(|m| Identity::of(&m) == self.header.identity);
        if !same {
            return Err(format!(
                "the directory file {} changed while the push was judged; push again",
                self.path.display()
            ));
        }
        read.map_err(|e| {
            format!(
                "cannot read the directory file {}: {e}",
                self.path.display()
            )
        })?;
        String::from_utf8(buf).map_err(|_| self.damaged())
    }

    /// The whole directory file, if it is still the one indexed.
    pub(super) fn whole(&self) -> Result<String, String> {
        let size = usize::try_from(self.header.identity.size).map_err(|_| self.damaged())?;
        self.toml_text(Place {
            start: 0,
            end: size,
            line: 1,
        })
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    bytes
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map_or(u32::MAX, u32::from_le_bytes)
}

fn place(record: &[u8]) -> Place {
    Place {
        start: u32_at(record, 0) as usize,
        end: u32_at(record, 4) as usize,
        line: u32_at(record, 8) as usize,
    }
}

/// Where table `table` is in an index's bytes (for tests that damage it).
#[cfg(test)]
pub(super) fn table_at(bytes: &[u8], table: Table) -> Option<(u64, u64)> {
    decode(bytes)?.tables.get(table as usize).copied()
}
