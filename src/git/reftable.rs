//! A reader of git's reftable ref storage (`$GIT_DIR/reftable/`), so that
//! the hook can ask "is this name a symbolic ref, and to what?" for every
//! pushed ref without starting a `git symbolic-ref` for each: a push of
//! 5,000 new tags would otherwise start 5,000 processes. It reads the ref
//! records of every table in `tables.list` (the format is git's
//! `Documentation/technical/reftable.txt`) and merges them as git does,
//! newer tables overriding older ones. Logs, object and index blocks are
//! skipped: nothing here needs them.
//!
//! Any file that does not read exactly as the format says is an error; the
//! caller then asks git itself, name by name, which is slow but never wrong.

use std::collections::HashMap;
use std::io;
use std::path::Path;

/// What a ref record holds, after the stack's tables are merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefValue {
    /// An object name (the raw bytes; the peeled value, if any, is dropped).
    Object(Vec<u8>),
    /// A symbolic ref: the name it points at, which need not exist.
    Symbolic(String),
}

/// Why a reftable stack could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReftableError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("the reftable stack changed while it was read, five times over")]
    Unstable,
    #[error("{table} is not a reftable file git writes: {why}")]
    Format { table: String, why: String },
}

/// The refs of the stack in `reftable_dir` (a repository's `reftable/`),
/// by name, as git sees them: a name deleted in a newer table is absent.
/// `hash_len` is the repository's object-name length in bytes (20, 32).
pub fn read_stack(
    reftable_dir: &Path,
    hash_len: usize,
) -> Result<HashMap<String, RefValue>, ReftableError> {
    // A writer that compacts the stack renames a new `tables.list` into
    // place and then removes the tables it replaced; a table that vanished
    // between reading the list and opening it means the list is stale.
    for _ in 0..5 {
        let list_path = reftable_dir.join("tables.list");
        let list = std::fs::read_to_string(&list_path).map_err(|source| ReftableError::Io {
            path: list_path.display().to_string(),
            source,
        })?;
        let mut refs = HashMap::new();
        let mut stale = false;
        for name in list.lines().filter(|l| !l.is_empty()) {
            if name.contains('/') || name.starts_with('.') {
                return Err(ReftableError::Format {
                    table: list_path.display().to_string(),
                    why: format!("it lists `{name}`, which is no table name"),
                });
            }
            let path = reftable_dir.join(name);
            let data = match std::fs::read(&path) {
                Ok(data) => data,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    stale = true;
                    break;
                }
                Err(source) => {
                    return Err(ReftableError::Io {
                        path: path.display().to_string(),
                        source,
                    })
                }
            };
            read_table(&data, hash_len, &mut refs).map_err(|why| ReftableError::Format {
                table: path.display().to_string(),
                why,
            })?;
        }
        if !stale {
            return Ok(refs
                .into_iter()
                .filter_map(|(name, value)| value.map(|v| (name, v)))
                .collect());
        }
    }
    Err(ReftableError::Unstable)
}

/// Sizes of the version 1 header (`REFT`, version, block size, two update
/// indices) and footer (header again, five positions, CRC-32); version 2
/// adds a 4-byte hash id to both.
const HEADER_V1: usize = 24;
const FOOTER_V1: usize = 68;

/// Applies the ref records of one table to `refs` (`None`: deleted).
fn read_table(
    data: &[u8],
    hash_len: usize,
    refs: &mut HashMap<String, Option<RefValue>>,
) -> Result<(), String> {
    if data.get(..4) != Some(b"REFT") {
        return Err("it does not start with `REFT`".into());
    }
    let version = part(data, 4, 1)?.first().copied().unwrap_or_default();
    let (header_len, footer_len) = match version {
        1 => (HEADER_V1, FOOTER_V1),
        2 => (HEADER_V1 + 4, FOOTER_V1 + 4),
        v => {
            return Err(format!(
                "it is of version {v} (this trailgate reads 1 and 2)"
            ))
        }
    };
    let footer_at = data
        .len()
        .checked_sub(footer_len)
        .filter(|&at| at >= header_len)
        .ok_or_else(|| format!("it is {} bytes long, too short", data.len()))?;
    let table_hash = match version {
        1 => 20,
        _ => match part(data, 24, 4)? {
            b"sha1" => 20,
            b"s256" => 32,
            id => return Err(format!("its hash id is {id:?}")),
        },
    };
    if table_hash != hash_len {
        return Err(format!(
            "it holds {table_hash}-byte object names, the repository {hash_len}-byte ones"
        ));
    }
    let block_size = be(part(data, 5, 3)?) as usize;
    let footer = part(data, footer_at, footer_len)?;
    // The footer starts with a copy of the header and ends with the CRC-32
    // of everything before it: a table cut short fails here.
    if part(footer, 0, header_len)? != part(data, 0, header_len)? {
        return Err("its footer does not repeat its header (is it truncated?)".into());
    }
    let mut crc = flate2::Crc::new();
    crc.update(part(footer, 0, footer_len - 4)?);
    if u64::from(crc.sum()) != be(part(footer, footer_len - 4, 4)?) {
        return Err("its footer's checksum does not match (is it truncated?)".into());
    }
    let field = |i: usize| part(footer, header_len + 8 * i, 8).map(be);
    let (ref_index, obj, log) = (field(0)?, field(1)? >> 5, field(3)?);
    // Ref blocks come first and end where the first other section begins.
    let ref_end = [ref_index, obj, log]
        .into_iter()
        .filter(|&p| p != 0)
        .min()
        .map_or(footer_at, |p| usize::try_from(p).unwrap_or(usize::MAX))
        .min(footer_at);

    let mut block_start = 0usize;
    let mut pos = header_len;
    while pos + 4 <= ref_end && part(data, pos, 1)? == b"r" {
        let block_end = block_start + be(part(data, pos + 1, 3)?) as usize;
        if block_end > ref_end || block_end < pos + 4 + 2 {
            return Err(format!("a ref block at {pos} ends outside the ref section"));
        }
        let restarts = be(part(data, block_end - 2, 2)?) as usize;
        let records_end = block_end
            .checked_sub(2 + 3 * restarts)
            .filter(|&e| e >= pos + 4)
            .ok_or_else(|| format!("the ref block at {pos} has too many restart points"))?;
        let block = data.get(..records_end).unwrap_or_default();
        read_records(block, pos + 4, hash_len, refs)
            .map_err(|why| format!("in the ref block at {pos}: {why}"))?;
        // Aligned tables pad every block to the block size (the first
        // block includes the header); unaligned ones pack them.
        block_start = if block_size > 0 {
            block_start + block_size
        } else {
            block_end
        };
        pos = block_start;
    }
    Ok(())
}

/// `len` bytes of `data` from `at`, or an error naming where it ended.
fn part(data: &[u8], at: usize, len: usize) -> Result<&[u8], String> {
    at.checked_add(len)
        .and_then(|end| data.get(at..end))
        .ok_or_else(|| format!("it ends at byte {} where more was due", data.len()))
}

/// The ref records of one block, `data[at..]` (prefix-compressed names).
fn read_records(
    data: &[u8],
    mut at: usize,
    hash_len: usize,
    refs: &mut HashMap<String, Option<RefValue>>,
) -> Result<(), String> {
    let mut name: Vec<u8> = Vec::new();
    let take = |at: &mut usize, n: usize| -> Result<&[u8], String> {
        let bytes = part(data, *at, n).map_err(|_| "a record runs past the block")?;
        *at += n;
        Ok(bytes)
    };
    while at < data.len() {
        let prefix = varint(data, &mut at)? as usize;
        let word = varint(data, &mut at)?;
        let (suffix, kind) = ((word >> 3) as usize, word & 7);
        if prefix > name.len() {
            return Err("a record's name reuses more than the previous name".into());
        }
        name.truncate(prefix);
        name.extend_from_slice(take(&mut at, suffix)?);
        varint(data, &mut at)?; // update_index_delta
        let value = match kind {
            0 => None,
            1 | 2 => {
                let id = take(&mut at, hash_len)?.to_vec();
                if kind == 2 {
                    take(&mut at, hash_len)?;
                }
                Some(RefValue::Object(id))
            }
            3 => {
                let len = varint(data, &mut at)? as usize;
                let target = String::from_utf8(take(&mut at, len)?.to_vec())
                    .map_err(|_| "a symbolic ref's target is not UTF-8")?;
                Some(RefValue::Symbolic(target))
            }
            k => return Err(format!("a record has value type {k}")),
        };
        let key = String::from_utf8(name.clone()).map_err(|_| "a ref name is not UTF-8")?;
        refs.insert(key, value);
    }
    Ok(())
}

/// A big-endian unsigned integer of up to 8 bytes.
fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |n, &b| (n << 8) | u64::from(b))
}

/// The varint of reftable (the offset encoding of packs' `OFS_DELTA`).
fn varint(data: &[u8], at: &mut usize) -> Result<u64, String> {
    let mut next = || {
        let b = *data.get(*at).ok_or("a record runs past the block")?;
        *at += 1;
        Ok::<u8, String>(b)
    };
    let mut b = next()?;
    let mut value = u64::from(b & 0x7f);
    while b & 0x80 != 0 {
        b = next()?;
        value = value
            .checked_add(1)
            .and_then(|v| v.checked_mul(128))
            .ok_or("a varint overflows")?
            | u64::from(b & 0x7f);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_decode_as_git_encodes_them() {
        // git's encode_varint: 127 -> 7f, 128 -> 80 00, 16511 -> ff 7f.
        for (bytes, want) in [
            (&[0x7f][..], 127),
            (&[0x80, 0x00], 128),
            (&[0xff, 0x7f], 16511),
        ] {
            let mut at = 0;
            assert_eq!(varint(bytes, &mut at), Ok(want));
            assert_eq!(at, bytes.len());
        }
        assert!(varint(&[0x80], &mut 0).is_err());
        assert!(varint(&[0xff; 12], &mut 0).is_err());
    }

    #[test]
    fn a_table_that_is_not_one_is_an_error() {
        let mut refs = HashMap::new();
        assert!(read_table(b"", 20, &mut refs).is_err());
        assert!(read_table(&[0u8; 200], 20, &mut refs).is_err());
        let mut v9 = b"REFT".to_vec();
        v9.push(9);
        v9.resize(200, 0);
        let err = read_table(&v9, 20, &mut refs).unwrap_err();
        assert!(err.contains("version 9"), "{err}");
    }
}
