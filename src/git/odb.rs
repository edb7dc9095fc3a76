//! trailgate's own object database, for the repositories libgit2 cannot
//! open: SHA-256 object names (`extensions.objectFormat = sha256`) and
//! reftable refs (`extensions.refStorage = reftable`).
//!
//! It reads what git writes: loose objects (`objects/xx/yyyy…`, zlib), packs
//! through their version-2 `.idx` ([`crate::git::pack`], with ids of the
//! repository's hash), the object directories `objects/info/alternates`
//! names (recursively, as git does), and the directories the hook's
//! environment announces (the push's quarantine). Where this fast path
//! cannot answer (a pack index it left out, an object too large for the
//! pack reader, an alternate written in git's quoted form, an object it did
//! not find at all) it asks git itself, `git cat-file --batch`, with the same
//! object directories: git is always present when a hook runs, and its
//! answer stands. So "not found" always means git did not find it either.

use std::cell::RefCell;
use std::io::{Read as _, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::OnceLock;

use crate::git::oid::{HashKind, ObjectId};
use crate::git::pack::{Cache, PackReader, Packs};
use crate::git::repo::{GitError, ObjectKind};

/// An object as read: its kind and bytes.
pub type Read = (ObjectKind, Rc<[u8]>);

/// Alternates deeper than this are not followed (git's limit is 5).
const MAX_ALTERNATE_DEPTH: usize = 5;
/// Loose objects larger than this (compressed) are left to git.
const MAX_LOOSE_BYTES: u64 = 256 << 20;

/// The object directories of one repository, and their packs (indexed on
/// first use, then shared by every thread that reads).
pub struct NativeOdb {
    git_dir: PathBuf,
    kind: HashKind,
    /// The repository's own directory first, then its alternates, then the
    /// extra ones; each once.
    dirs: Vec<PathBuf>,
    /// Extra directories the caller gave (the quarantine), for git.
    extra: Vec<PathBuf>,
    packs: OnceLock<Packs>,
    /// True when an alternate could not be followed: git must be asked
    /// before an object is called missing.
    incomplete: bool,
}

impl NativeOdb {
    /// The object database of `git_dir`, with `extra` object directories.
    pub fn open(git_dir: &Path, kind: HashKind, extra: &[PathBuf]) -> NativeOdb {
        let mut odb = NativeOdb {
            git_dir: git_dir.to_owned(),
            kind,
            dirs: Vec::new(),
            extra: extra.to_vec(),
            packs: OnceLock::new(),
            incomplete: false,
        };
        odb.add(&git_dir.join("objects"), 0);
        for dir in extra {
            odb.add(dir, 0);
        }
        odb
    }

    fn add(&mut self, dir: &Path, depth: usize) {
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
        if self.dirs.contains(&dir) {
            return;
        }
        self.dirs.push(dir.clone());
        let Ok(text) = std::fs::read_to_string(dir.join("info").join("alternates")) else {
            return;
        };
        for line in text.lines() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if depth >= MAX_ALTERNATE_DEPTH || line.starts_with('"') {
                // Too deep, or C-quoted: git reads those.
                self.incomplete = true;
                continue;
            }
            let path = Path::new(line);
            let path = if path.is_absolute() {
                path.to_owned()
            } else {
                dir.join(path)
            };
            self.add(&path, depth + 1);
        }
    }

    /// The hash of the object names.
    pub fn kind(&self) -> HashKind {
        self.kind
    }

    /// Every object directory read, the repository's own first.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    fn packs(&self) -> &Packs {
        self.packs
            .get_or_init(|| Packs::open(&self.dirs, self.kind))
    }

    /// A reader for one thread, whose delta base cache is `cache` (kept by
    /// the caller from one reader to the next: a diff opens a reader per
    /// commit, and each would otherwise read every delta chain afresh).
    pub fn reader<'o>(&'o self, cache: &'o RefCell<Cache>) -> Reader<'o> {
        Reader {
            odb: self,
            packs: PackReader::with_cache(self.packs(), cache),
        }
    }

    fn loose_path(&self, dir: &Path, oid: ObjectId) -> PathBuf {
        let hex = oid.to_hex();
        let (fan, rest) = hex.split_at(2);
        dir.join(fan).join(rest)
    }

    /// Reads a loose object: `None` when there is no such file.
    fn loose(&self, oid: ObjectId) -> Option<Result<Read, GitError>> {
        for dir in &self.dirs {
            let path = self.loose_path(dir, oid);
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.len() > MAX_LOOSE_BYTES {
                return None;
            }
            return Some(read_loose(&path).map_err(|reason| {
                GitError::Git(format!("loose object {}: {reason}", path.display()))
            }));
        }
        None
    }

    /// Asks `git cat-file --batch` for one object.
    fn ask_git(&self, oid: ObjectId) -> Result<Read, GitError> {
        let mut cmd = Command::new("git");
        cmd.arg("--git-dir")
            .arg(&self.git_dir)
            .args(["cat-file", "--batch"])
            .env_remove("GIT_OBJECT_DIRECTORY")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if self.extra.is_empty() {
            cmd.env_remove("GIT_ALTERNATE_OBJECT_DIRECTORIES");
        } else {
            let joined = std::env::join_paths(&self.extra)
                .map_err(|e| GitError::Git(format!("cannot pass the quarantine to git: {e}")))?;
            cmd.env("GIT_ALTERNATE_OBJECT_DIRECTORIES", joined);
        }
        let failed = |e: std::io::Error| GitError::Git(format!("cannot run git cat-file: {e}"));
        let mut child = cmd.spawn().map_err(failed)?;
        if let Some(mut stdin) = child.stdin.take() {
            writeln!(stdin, "{oid}").map_err(failed)?;
        }
        let mut out = Vec::new();
        if let Some(mut stdout) = child.stdout.take() {
            stdout.read_to_end(&mut out).map_err(failed)?;
        }
        let status = child.wait_with_output().map_err(failed)?;
        parse_batch(&out, oid).ok_or_else(|| {
            GitError::Git(format!(
                "git cat-file gave no answer for {oid}: {}",
                String::from_utf8_lossy(&status.stderr).trim()
            ))
        })?
    }
}

/// `<oid> <type> <size>\n<data>\n`, or `<oid> missing\n`.
fn parse_batch(out: &[u8], oid: ObjectId) -> Option<Result<Read, GitError>> {
    let end = out.iter().position(|&b| b == b'\n')?;
    let line = std::str::from_utf8(out.get(..end)?).ok()?;
    let mut fields = line.split(' ');
    let (Some(id), Some(kind)) = (fields.next(), fields.next()) else {
        return None;
    };
    if id != oid.to_hex() {
        return None;
    }
    if kind == "missing" {
        return Some(Err(GitError::NotFound));
    }
    let size: usize = fields.next()?.parse().ok()?;
    let data = out.get(end + 1..end.checked_add(1)?.checked_add(size)?)?;
    Some(Ok((kind_named(kind.as_bytes()), Rc::from(data))))
}

fn kind_named(name: &[u8]) -> ObjectKind {
    match name {
        b"commit" => ObjectKind::Commit,
        b"tree" => ObjectKind::Tree,
        b"blob" => ObjectKind::Blob,
        b"tag" => ObjectKind::Tag,
        _ => ObjectKind::Unknown,
    }
}

/// Inflates a loose object file and checks its `<type> <size>\0` header.
fn read_loose(path: &Path) -> Result<Read, String> {
    let compressed = std::fs::read(path).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&compressed[..])
        .read_to_end(&mut raw)
        .map_err(|e| format!("cannot inflate it: {e}"))?;
    let nul = raw
        .iter()
        .position(|&b| b == 0)
        .ok_or("its header is not terminated")?;
    let header = raw.get(..nul).unwrap_or_default();
    let (kind, size) = header
        .iter()
        .position(|&b| b == b' ')
        .map(|sp| (header.get(..sp), header.get(sp + 1..)))
        .ok_or("its header has no size")?;
    let size: usize = std::str::from_utf8(size.unwrap_or_default())
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or("its size is not a number")?;
    let data = raw.get(nul + 1..).unwrap_or_default();
    if data.len() != size {
        return Err(format!("it holds {} bytes, not {size}", data.len()));
    }
    Ok((kind_named(kind.unwrap_or_default()), Rc::from(data)))
}

/// Reads objects for one thread (with its own delta base cache).
pub struct Reader<'o> {
    odb: &'o NativeOdb,
    packs: PackReader<'o>,
}

impl Reader<'_> {
    /// An object, from a pack, a loose file, or git.
    pub fn read(&self, oid: ObjectId) -> Result<Read, GitError> {
        if oid.kind() != self.odb.kind {
            return Err(GitError::Git(format!(
                "{oid} is a {} id, but this repository names its objects with {}",
                oid.kind(),
                self.odb.kind
            )));
        }
        if let Some(object) = self.packs.read(oid) {
            return Ok(object);
        }
        if !self.packs.packs().contains(oid) {
            if let Some(loose) = self.odb.loose(oid) {
                return loose;
            }
        }
        self.odb.ask_git(oid)
    }

    /// Whether the object is there: in an indexed pack or a loose file,
    /// else as git answers (only asked when something was left out).
    pub fn exists(&self, oid: ObjectId) -> bool {
        if oid.kind() != self.odb.kind {
            return false;
        }
        let packs = self.packs.packs();
        if packs.contains(oid)
            || self
                .odb
                .dirs
                .iter()
                .any(|dir| self.odb.loose_path(dir, oid).is_file())
        {
            return true;
        }
        if packs.skipped_some() || self.odb.incomplete {
            return self.odb.ask_git(oid).is_ok();
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_answers_are_read_as_git_writes_them() {
        let oid = HashKind::Sha256
            .parse_hex(&[b'a'; 64])
            .unwrap_or(HashKind::Sha256.null());
        let hex = oid.to_hex();
        let found = parse_batch(format!("{hex} blob 3\nabc\n").as_bytes(), oid);
        assert!(matches!(found, Some(Ok((ObjectKind::Blob, ref d))) if &d[..] == b"abc"));
        let missing = parse_batch(format!("{hex} missing\n").as_bytes(), oid);
        assert!(matches!(missing, Some(Err(GitError::NotFound))));
        // Another id, a short body: no answer, never a wrong one.
        assert!(parse_batch(format!("{} blob 3\nabc\n", "b".repeat(64)).as_bytes(), oid).is_none());
        assert!(parse_batch(format!("{hex} blob 9\nabc\n").as_bytes(), oid).is_none());
    }
}
