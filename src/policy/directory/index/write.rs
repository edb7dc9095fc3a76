//! Writing the directory index (see the parent module): the file read
//! again after a time stamp of the file system's, checked to be the one
//! validated, and indexed.

use std::fs::File;
use std::io::Read as _;
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::super::{fast, sha256_hex, MAX_DIRECTORY_BYTES};
use super::{
    email_key, hash, path_for, Header, Identity, IndexError, Place, CLOCK_WAIT, HEADER, MAGIC,
    PERSON_RECORD, TABLES,
};

/// Writes the index of the directory file at `directory`, whose content
/// was validated in full and has SHA-256 `sha256` (hex): the file is read
/// again, and indexed only if it still has that content. Atomic (a
/// temporary file renamed over the old index). The index's path on
/// success.
pub fn write(directory: &Path, sha256: &str) -> Result<PathBuf, IndexError> {
    let index_path = path_for(directory);
    let io = |source| IndexError::Io {
        path: index_path.clone(),
        source,
    };
    let changed = || IndexError::Changed {
        path: directory.to_owned(),
    };
    let folder = index_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = File::open(directory).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    let before = Identity::of(&meta);
    if before.size > MAX_DIRECTORY_BYTES {
        return Err(IndexError::Layout {
            path: directory.to_owned(),
        });
    }
    let tmp = tempfile::Builder::new()
        .prefix(".trailgate-index.")
        .suffix(".tmp")
        .tempfile_in(folder)
        .map_err(io)?;
    // The stamp must come from the clock of the file system that stamps
    // the file: one with finer time stamps (the file a symlink or a bind
    // mount onto a file system with whole seconds) would be ahead of the
    // file's change time at once, and an edit later in the same second
    // would leave the file's identity, and a stale index, unchanged (the
    // red team's test). The hook also refuses such an index.
    if tmp.as_file().metadata().map_err(io)?.dev() != meta.dev() {
        return Err(IndexError::OtherFileSystem {
            path: directory.to_owned(),
        });
    }
    let written = stamp_after(tmp.as_file(), before.changed()).map_err(|e| match e {
        Some(e) => io(e),
        None => IndexError::Clock {
            path: directory.to_owned(),
        },
    })?;
    // Read after the stamp: a change made from now on gives the file a
    // change time at or after `written`, which the hook tells apart.
    let mut bytes = Vec::with_capacity(usize::try_from(before.size).unwrap_or(0));
    file.read_to_end(&mut bytes).map_err(io)?;
    let after = Identity::of(&file.metadata().map_err(io)?);
    if after != before || bytes.len() as u64 != before.size {
        return Err(changed());
    }
    let text = String::from_utf8(bytes).map_err(|_| changed())?;
    if sha256_hex(text.as_bytes()) != sha256 {
        return Err(changed());
    }
    let body = build(&text, before, written, sha256).ok_or_else(|| IndexError::Layout {
        path: directory.to_owned(),
    })?;
    tmp.as_file().write_all_at(&body, 0).map_err(io)?;
    tmp.as_file().set_len(body.len() as u64).map_err(io)?;
    // Readable by whoever may read the file; writable by its owner only.
    let mode = (meta.permissions().mode() & 0o444) | 0o200;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(&index_path).map_err(|e| io(e.error))?;
    File::open(folder).and_then(|d| d.sync_all()).map_err(io)?;
    Ok(index_path)
}

/// A time stamp of the file system's (`tmp`'s modification time, set by a
/// write) strictly after `after`, waiting for its clock to pass it. `None`
/// when it does not within [`CLOCK_WAIT`].
fn stamp_after(tmp: &File, after: (i64, i64)) -> Result<(i64, i64), Option<std::io::Error>> {
    let start = Instant::now();
    loop {
        tmp.write_all_at(b"\0", 0).map_err(Some)?;
        let m = tmp.metadata().map_err(Some)?;
        let stamp = (m.mtime(), m.mtime_nsec());
        if stamp > after {
            return Ok(stamp);
        }
        if start.elapsed() > CLOCK_WAIT {
            return Err(None);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The index's bytes for a directory file's `text`; `None` when the file
/// is not in the plain layout (or has a person twice, which the hook
/// leaves to the TOML parser).
fn build(text: &str, identity: Identity, written: (i64, i64), sha256: &str) -> Option<Vec<u8>> {
    let scan = fast::scan(text)?;
    let starts: Vec<usize> = std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
        .collect();
    // The start of the line `offset` is on, and that line (1-based).
    let line_of = |offset: usize| {
        let line = starts.partition_point(|&s| s <= offset).max(1);
        (starts.get(line - 1).copied().unwrap_or(0), line)
    };
    let u32_of = |n: usize| u32::try_from(n).ok();
    let mut ids = std::collections::HashMap::new();
    let mut persons = Vec::with_capacity(scan.sections.len() * PERSON_RECORD);
    let mut tables: [Vec<(u64, u32)>; 5] = Default::default();
    for (i, section) in scan.sections.iter().enumerate() {
        let id = text.get(section.id.clone())?;
        let person = u32_of(i)?;
        if ids.insert(id, person).is_some() {
            return None;
        }
        let (start, line) = line_of(section.header.start);
        for n in [start, section.body.end, line] {
            persons.extend_from_slice(&u32_of(n)?.to_le_bytes());
        }
        let list = |name| fast::list(text, section.body.clone(), name);
        let [emails, logins, user_ids, person_ids, blobs] = &mut tables;
        for v in list("emails") {
            emails.push((hash(email_key(v.get_ref()).as_bytes()), person));
        }
        for v in list("logins") {
            logins.push((hash(v.get_ref().as_bytes()), person));
        }
        for v in list("user_ids") {
            user_ids.push((hash(v.get_ref().as_bytes()), person));
        }
        person_ids.push((hash(id.as_bytes()), person));
        for v in list("ssh_keys") {
            if let Some(blob) = crate::facts::signature::blob(v.get_ref()) {
                blobs.push((hash(blob.as_bytes()), person));
            }
        }
    }
    let entries = super::id_entries(&scan.groups);
    let mut group_people = Vec::with_capacity(entries.len() * 4);
    for e in entries {
        let person = ids.get(e.get_ref().as_str()).copied().unwrap_or(u32::MAX);
        group_people.extend_from_slice(&person.to_le_bytes());
    }
    let generated = {
        let span = scan.generated.span();
        let (start, line) = line_of(span.start);
        let end = memchr::memchr(b'\n', text.as_bytes().get(span.start..)?)
            .map_or(text.len(), |n| span.start + n);
        Place { start, end, line }
    };
    let groups = Place {
        start: scan.groups_at.start,
        end: scan.groups_at.end,
        line: line_of(scan.groups_at.start).1,
    };
    if groups.end > text.len() || generated.end > text.len() {
        return None;
    }
    let mut sha = [0u8; 32];
    for (n, byte) in sha.iter_mut().enumerate() {
        *byte = u8::from_str_radix(sha256.get(2 * n..2 * n + 2)?, 16).ok()?;
    }
    let mut bodies = vec![persons, group_people];
    bodies.extend(tables.into_iter().map(table));
    let mut header = Header {
        identity,
        written,
        sha256: sha,
        people: scan.sections.len(),
        generated,
        groups,
        tables: [(0, 0); TABLES],
    };
    let mut at = HEADER as u64;
    for (slot, body) in header.tables.iter_mut().zip(&bodies) {
        *slot = (at, body.len() as u64);
        at += body.len() as u64;
    }
    let mut out = encode(&header);
    for body in bodies {
        out.extend_from_slice(&body);
    }
    Some(out)
}

/// A hash table: `nb` buckets (a power of two) by the hash's low bits;
/// `u32 nb, u32 m`, `nb + 1` entry indexes where each bucket starts, then
/// `m` entries `(u32 high bits of the hash, u32 person)`, each bucket's in
/// the order of the file.
fn table(mut entries: Vec<(u64, u32)>) -> Vec<u8> {
    entries.sort_unstable();
    entries.dedup();
    let nb = (entries.len() / 2).next_power_of_two().max(1);
    let mask = nb as u64 - 1;
    entries.sort_by_key(|&(h, p)| (h & mask, p));
    let mut out = Vec::with_capacity(8 + (nb + 1) * 4 + entries.len() * 8);
    let push = |out: &mut Vec<u8>, n: usize| {
        out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
    };
    push(&mut out, nb);
    push(&mut out, entries.len());
    let mut at = 0;
    for bucket in 0..=nb as u64 {
        while entries.get(at).is_some_and(|&(h, _)| h & mask < bucket) {
            at += 1;
        }
        push(&mut out, at);
    }
    for (h, p) in entries {
        out.extend_from_slice(&((h >> 32) as u32).to_le_bytes());
        out.extend_from_slice(&p.to_le_bytes());
    }
    out
}

fn encode(h: &Header) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER);
    out.extend_from_slice(MAGIC);
    let id = &h.identity;
    let mut numbers = vec![id.dev, id.ino, id.size];
    for (s, ns) in [id.mtime, id.ctime, h.written] {
        numbers.extend([s as u64, ns as u64]);
    }
    for n in numbers {
        out.extend_from_slice(&n.to_le_bytes());
    }
    out.extend_from_slice(&h.sha256);
    let mut numbers = vec![h.people as u64];
    for p in [h.generated, h.groups] {
        numbers.extend([p.start as u64, p.end as u64, p.line as u64]);
    }
    for (off, len) in h.tables {
        numbers.extend([off, len]);
    }
    for n in numbers {
        out.extend_from_slice(&n.to_le_bytes());
    }
    out
}
