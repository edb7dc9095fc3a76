//! The repository: opened the way a pre-receive hook must, and the object
//! reads everything above this layer is built on.
//!
//! During pre-receive git keeps the pushed objects in a quarantine directory
//! (`GIT_QUARANTINE_PATH`, announced through `GIT_OBJECT_DIRECTORY` and
//! `GIT_ALTERNATE_OBJECT_DIRECTORIES`). libgit2 does not look there when a
//! repository is opened by path, so a hook that forgets it cannot see a single
//! new commit. [`Repo::open_with`] adds those directories (as the hook's
//! environment announces them) to the object database
//! explicitly.
//!
//! libgit2 is an implementation detail of this module (and of the rest of
//! [`crate::git`]): callers see [`Repo`], [`Objects`], [`Object`],
//! [`ObjectKind`] and [`ObjectId`], so that another object reader can take
//! its place behind the same calls.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use git2::{ObjectType, Repository, RepositoryOpenFlags};
use thiserror::Error;

pub use crate::git::format::{config_string, Format};
use crate::git::odb::NativeOdb;
use crate::git::oid::{HashKind, ObjectId};
use crate::git::pack::{PackReader, Packs};
use crate::git::refs::{FilesRefs, GitRefs, RefStore};

/// What went wrong below trailgate: libgit2's error, or git's (or
/// trailgate's own reader's) words.
#[derive(Debug, Error)]
pub enum GitError {
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Libgit2(#[from] git2::Error),
    #[error("{0}")]
    Git(String),
}

impl GitError {
    /// Whether this means "no such object" (or ref).
    pub fn is_not_found(&self) -> bool {
        match self {
            GitError::NotFound => true,
            GitError::Libgit2(e) => is_not_found(e),
            GitError::Git(_) => false,
        }
    }
}

/// Why the repository or one of its objects could not be read.
#[derive(Debug, Error)]
pub enum RepoError {
    #[error("cannot open the git repository at {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: GitError,
    },
    #[error(
        "the repository at {path} names its objects with `{format}` (extensions.objectFormat), which this trailgate cannot read (it reads sha1 and sha256)"
    )]
    ObjectFormat { path: PathBuf, format: String },
    #[error(
        "the repository at {path} stores its refs as `{format}` (extensions.refStorage), which this trailgate cannot read (it reads files and reftable)"
    )]
    RefFormat { path: PathBuf, format: String },
    #[error("cannot open a git repository from the current directory or $GIT_DIR: {source}")]
    Discover {
        #[source]
        source: GitError,
    },
    #[error("cannot add the quarantine object directory {path}: {source}")]
    Quarantine {
        path: PathBuf,
        #[source]
        source: GitError,
    },
    #[error("object {oid} is not in the repository (nor in the push's quarantine)")]
    MissingObject { oid: ObjectId },
    #[error("cannot read object {oid}: {source}")]
    Read {
        oid: ObjectId,
        #[source]
        source: GitError,
    },
    #[error("cannot list the repository's refs: {source}")]
    Refs {
        #[source]
        source: GitError,
    },
    #[error("object {oid} is a {kind}, not a commit")]
    NotACommit { oid: ObjectId, kind: String },
    #[error("commit {oid} cannot be parsed: {reason}")]
    BadCommit { oid: ObjectId, reason: String },
    #[error("{kind} {oid} is malformed: {problem}\n  help: write it again with plain git (`git tag -f`, `git commit --amend`), which writes well-formed objects, and push again")]
    Malformed {
        oid: ObjectId,
        kind: &'static str,
        problem: Box<crate::git::object::fsck::Malformed>,
    },
    #[error(
        "the push brings more than {limit} new commits (settings.max_commits): push the history in smaller parts, or ask an administrator to raise settings.max_commits"
    )]
    TooMany { limit: usize },
    #[error("`{spec}` does not name a revision in this repository")]
    UnknownRevision { spec: String },
    #[error("`{spec}` does not name a revision in this repository: {source}")]
    Revision {
        spec: String,
        #[source]
        source: GitError,
    },
    #[error("cannot read HEAD ({source}); pass --ref REFNAME")]
    Head {
        #[source]
        source: GitError,
    },
}

/// The kind of a git object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Commit,
    Tree,
    Blob,
    Tag,
    /// Anything else an object database may answer.
    Unknown,
}

impl ObjectKind {
    /// The name git gives the kind (`commit`, `tree`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Commit => "commit",
            ObjectKind::Tree => "tree",
            ObjectKind::Blob => "blob",
            ObjectKind::Tag => "tag",
            ObjectKind::Unknown => "unknown object",
        }
    }

    fn of(kind: ObjectType) -> ObjectKind {
        match kind {
            ObjectType::Commit => ObjectKind::Commit,
            ObjectType::Tree => ObjectKind::Tree,
            ObjectType::Blob => ObjectKind::Blob,
            ObjectType::Tag => ObjectKind::Tag,
            ObjectType::Any => ObjectKind::Unknown,
        }
    }
}

/// Who reads the repository: libgit2 where it can (SHA-1 objects and files
/// refs, where its object reads were measured and tuned), trailgate's own
/// reader and git for the rest (see [`crate::git::odb`]).
enum Backend {
    Libgit2(Repository),
    /// The object database (shared with the handles of other threads) and
    /// this handle's delta base cache.
    Native(
        Arc<NativeOdb>,
        Box<RefCell<crate::git::pack::Cache>>,
        Box<crate::git::refs::RefCache>,
    ),
}

/// A repository opened for reading, with the object directories it was
/// given besides its own (the push's quarantine).
pub struct Repo {
    backend: Backend,
    path: PathBuf,
    format: Format,
    alternates: Vec<PathBuf>,
    /// With libgit2: the packs, read with trailgate's own reader first.
    packed: Packed,
}

/// The packs of a repository libgit2 reads, read first with trailgate's own
/// reader ([`crate::git::pack`], `pread`, as the walk and the diffs read
/// them); libgit2 reads whatever it does not find there (loose objects,
/// objects too large for it, a pack index it left out). libgit2 maps whole
/// packs: the few hundred commits a large push's policy reads again after
/// its walk lie all over the pack, and each read through a map made (with
/// the kernel's fault-around) tens of kilobytes of it resident, some 60 MB
/// of a 100,000-commit push's peak (issue 15). Opened on the first read.
#[derive(Default)]
struct Packed {
    packs: std::cell::OnceCell<Packs>,
    cache: RefCell<crate::git::pack::Cache>,
}

impl Repo {
    /// Opens a repository by path without searching parent directories and
    /// without reading `GIT_*` variables (the hook decides which it trusts).
    pub fn open(path: &Path) -> Result<Repo, RepoError> {
        Repo::open_with(path, &[])
    }

    /// [`Repo::open`], with `dirs` read as object directories too (each once;
    /// the repository's own is skipped). Relative paths are relative to the
    /// working directory, which git sets to the repository for a hook.
    pub fn open_with(path: &Path, dirs: &[PathBuf]) -> Result<Repo, RepoError> {
        let git_dir = git_dir_of(path);
        let format = Format::of(&git_dir)?;
        let alternates = extra_dirs(&git_dir, dirs);
        if !format.libgit2_reads() {
            let odb = NativeOdb::open(&git_dir, format.objects, &alternates);
            return Ok(Repo {
                backend: Backend::Native(Arc::new(odb), Box::default(), Box::default()),
                path: git_dir,
                format,
                alternates,
                packed: Packed::default(),
            });
        }
        tune_libgit2();
        let inner = Repository::open_ext(
            path,
            RepositoryOpenFlags::NO_SEARCH,
            std::iter::empty::<&std::ffi::OsStr>(),
        )
        .map_err(|source| RepoError::Open {
            path: path.to_owned(),
            source: source.into(),
        })?;
        let mut repo = Repo {
            path: inner.path().to_owned(),
            backend: Backend::Libgit2(inner),
            format,
            alternates: Vec::new(),
            packed: Packed::default(),
        };
        repo.add_alternates(&alternates)?;
        Ok(repo)
    }

    /// Opens the repository for `trailgate verify`: a normal clone or a bare
    /// repository found from the current directory, honouring `$GIT_DIR` as git does.
    pub fn discover() -> Result<Repo, RepoError> {
        tune_libgit2();
        match Repository::open_from_env() {
            Ok(inner) => {
                let path = inner.path().to_owned();
                let format = Format::of(&path)?;
                if format.libgit2_reads() {
                    return Ok(Repo {
                        backend: Backend::Libgit2(inner),
                        path,
                        format,
                        alternates: Vec::new(),
                        packed: Packed::default(),
                    });
                }
                Repo::open(&path)
            }
            // libgit2 refuses the formats it cannot read; git finds them.
            Err(source) => {
                match crate::git::refs::git_output(None, &["rev-parse", "--absolute-git-dir"]) {
                    Ok(out) => {
                        let path = PathBuf::from(String::from_utf8_lossy(&out).trim_end());
                        let format = Format::of(&path)?;
                        if format.libgit2_reads() {
                            return Err(RepoError::Discover {
                                source: source.into(),
                            });
                        }
                        Repo::open(&path)
                    }
                    Err(_) => Err(RepoError::Discover {
                        source: source.into(),
                    }),
                }
            }
        }
    }

    /// How to open this repository again, with the same object
    /// directories, on another thread (libgit2's handles cannot be shared
    /// between threads).
    pub fn reopener(&self) -> Reopen {
        Reopen {
            path: self.path.clone(),
            alternates: self.alternates.clone(),
            format: self.format,
            native: match &self.backend {
                Backend::Native(odb, ..) => Some(Arc::clone(odb)),
                Backend::Libgit2(_) => None,
            },
        }
    }

    /// The git directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How the repository stores its objects and refs.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The hash the repository names its objects with.
    pub fn hash_kind(&self) -> HashKind {
        self.format.objects
    }

    /// Every object directory read from: the repository's own and those
    /// added, each once (canonical paths).
    pub fn object_dirs(&self) -> Vec<PathBuf> {
        self.reopener().object_dirs()
    }

    /// The object database.
    pub fn objects(&self) -> Result<Objects<'_>, RepoError> {
        match &self.backend {
            Backend::Libgit2(inner) => {
                let odb = inner.odb().map_err(|source| RepoError::Read {
                    oid: self.hash_kind().null(),
                    source: source.into(),
                })?;
                Ok(Objects {
                    inner: ObjectsInner::Libgit2(odb, self),
                })
            }
            Backend::Native(odb, cache, _) => Ok(Objects {
                inner: ObjectsInner::Native(odb.reader(cache)),
            }),
        }
    }

    /// The object, if trailgate's own reader finds it in the packs (see
    /// [`Packed`]).
    fn read_packed(&self, oid: ObjectId) -> Option<crate::git::pack::Object> {
        let packs = self
            .packed
            .packs
            .get_or_init(|| Packs::open(&self.object_dirs(), self.hash_kind()));
        if packs.is_empty() {
            return None;
        }
        let reader = PackReader::with_cache(packs, &self.packed.cache);
        // Reads here and there: a small delta base cache.
        reader.set_sparse(true);
        reader.read(oid)
    }

    /// The refs, as the repository stores them.
    pub fn refs(&self) -> Box<dyn RefStore + '_> {
        match &self.backend {
            Backend::Libgit2(inner) => Box::new(FilesRefs::new(inner)),
            Backend::Native(_, _, refs) => Box::new(GitRefs::new(
                &self.path,
                self.hash_kind(),
                self.format.reftable,
                refs,
            )),
        }
    }

    /// A configuration value as git reads it in this repository: its own
    /// `config`, then the user's (`~/.gitconfig`, XDG) and the system's. For
    /// the client side only (`verify`); the hook reads none of the user's.
    pub fn config_value(&self, key: &str) -> Option<String> {
        let value = match &self.backend {
            Backend::Libgit2(inner) => inner.config().ok()?.get_string(key).ok()?,
            // libgit2 cannot open the repository: ask git, which can.
            Backend::Native(..) => {
                let out = std::process::Command::new("git")
                    .arg("--git-dir")
                    .arg(&self.path)
                    .args(["config", "--get", key])
                    .stdin(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .output()
                    .ok()?;
                String::from_utf8(out.stdout).ok()?
            }
        };
        Some(value.trim().to_owned()).filter(|s| !s.is_empty())
    }

    /// The libgit2 handle, for the rest of the git layer; `None` for a
    /// repository libgit2 cannot read.
    pub(in crate::git) fn git2(&self) -> Option<&Repository> {
        match &self.backend {
            Backend::Libgit2(inner) => Some(inner),
            Backend::Native(..) => None,
        }
    }

    /// The commit an object id stands for: itself if it is a commit, the
    /// commit an annotated tag (or chain of tags) points at, or `None` for
    /// trees and blobs.
    pub fn peel_to_commit(&self, oid: ObjectId) -> Result<Option<ObjectId>, RepoError> {
        self.peel_to_commit_checked(oid, &|_| true)
    }

    /// [`Repo::peel_to_commit`], refusing every tag of the chain that is new
    /// (`is_old` says it is not) and malformed: one git's fsck reports, or
    /// one that names an object of another type than it says (git refuses
    /// to peel it).
    pub fn peel_to_commit_checked(
        &self,
        oid: ObjectId,
        is_old: &dyn Fn(ObjectId) -> bool,
    ) -> Result<Option<ObjectId>, RepoError> {
        // Raw object reads, not libgit2's object parser: a commit whose author
        // line libgit2 refuses must still be judged (as an unknown author), the
        // same at the tip as further down, and a tag is followed by its own
        // `object` line.
        let objects = self.objects()?;
        let mut current = oid;
        // A chain of tags longer than this is an attack, not a release process.
        for _ in 0..64 {
            match objects.header(current)? {
                ObjectKind::Commit => return Ok(Some(current)),
                ObjectKind::Tag => {
                    let object = objects.read(current)?;
                    let data = object.data();
                    let new = !is_old(current);
                    let malformed = |problem| RepoError::Malformed {
                        oid: current,
                        kind: "tag",
                        problem: Box::new(problem),
                    };
                    if new {
                        crate::git::object::fsck::check_tag(data, current.kind())
                            .map_err(malformed)?;
                    }
                    let tag = crate::git::object::parse_tag(data, current.kind()).ok_or(
                        RepoError::NotACommit {
                            oid: current,
                            kind: "damaged tag".into(),
                        },
                    )?;
                    if new {
                        let actual = objects.header(tag.target)?;
                        if actual.name().as_bytes() != tag.kind {
                            return Err(malformed(
                                crate::git::object::fsck::Malformed::TypeMismatch {
                                    declared: String::from_utf8_lossy(tag.kind).into_owned(),
                                    actual: actual.name().to_owned(),
                                },
                            ));
                        }
                    }
                    current = tag.target;
                }
                _ => return Ok(None),
            }
        }
        Err(RepoError::NotACommit {
            oid,
            kind: "tag chain deeper than 64 levels".into(),
        })
    }

    /// Describes what kind of object `oid` is ("tree", "blob", ...), for messages.
    pub fn kind_of(&self, oid: ObjectId) -> Result<String, RepoError> {
        Ok(self.objects()?.header(oid)?.name().to_owned())
    }

    fn add_alternates(&mut self, dirs: &[PathBuf]) -> Result<(), RepoError> {
        let Backend::Libgit2(inner) = &self.backend else {
            return Ok(());
        };
        if dirs.is_empty() {
            return Ok(());
        }
        let odb = inner.odb().map_err(|source| RepoError::Quarantine {
            path: PathBuf::new(),
            source: source.into(),
        })?;
        for dir in dirs {
            odb.add_disk_alternate(&dir.to_string_lossy())
                .map_err(|source| RepoError::Quarantine {
                    path: dir.clone(),
                    source: source.into(),
                })?;
            self.alternates.push(dir.clone());
        }
        Ok(())
    }
}

/// The git directory at `path`: itself for a bare repository (or a git
/// directory), `path/.git` for a working tree.
fn git_dir_of(path: &Path) -> PathBuf {
    let dot_git = path.join(".git");
    let dir = if dot_git.is_dir() {
        dot_git
    } else {
        path.to_owned()
    };
    std::fs::canonicalize(&dir).unwrap_or(dir)
}

/// `dirs` as canonical paths, each once, without the repository's own.
fn extra_dirs(git_dir: &Path, dirs: &[PathBuf]) -> Vec<PathBuf> {
    let own = std::fs::canonicalize(git_dir.join("objects")).ok();
    let mut out: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        if dir.as_os_str().is_empty() {
            continue;
        }
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
        if own.as_ref() == Some(&dir) || out.contains(&dir) {
            continue;
        }
        out.push(dir);
    }
    out
}

/// A repository's path and extra object directories: what another thread
/// needs to open its own handle on the same objects.
#[derive(Clone)]
pub struct Reopen {
    path: PathBuf,
    alternates: Vec<PathBuf>,
    format: Format,
    /// trailgate's own object database is shared, not opened again.
    native: Option<Arc<NativeOdb>>,
}

impl std::fmt::Debug for Reopen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reopen")
            .field("path", &self.path)
            .field("alternates", &self.alternates)
            .field("format", &self.format)
            .finish()
    }
}

impl Reopen {
    /// Opens another handle.
    pub fn open(&self) -> Result<Repo, RepoError> {
        match &self.native {
            Some(odb) => Ok(Repo {
                backend: Backend::Native(Arc::clone(odb), Box::default(), Box::default()),
                path: self.path.clone(),
                format: self.format,
                alternates: self.alternates.clone(),
                packed: Packed::default(),
            }),
            None => Repo::open_with(&self.path, &self.alternates),
        }
    }

    /// The git directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The hash the repository names its objects with.
    pub fn hash_kind(&self) -> HashKind {
        self.format.objects
    }

    /// The repository's own object directory and the extra ones, each once
    /// (canonical paths).
    pub fn object_dirs(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        let own = self.path.join("objects");
        for dir in std::iter::once(&own).chain(&self.alternates) {
            let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
            if !out.contains(&dir) {
                out.push(dir);
            }
        }
        out
    }
}

/// Process-wide libgit2 settings for reading a push's history once.
///
/// libgit2 keeps every commit and tree it reads in an object cache of up to
/// 256 MiB. trailgate reads each commit once in the walk and keeps what it
/// needs itself, so the cache only cost memory and time: on a
/// 100,000-commit push it held 256 MB of RSS and its bookkeeping (hashing,
/// evicting, freeing) took a fifth of the run. And objects already in the
/// repository were hashed by git when they arrived; checking each one again
/// on read doubles the cost of the walk.
fn tune_libgit2() {
    git2::opts::enable_caching(false);
    git2::opts::strict_hash_verification(false);
}

/// A repository's object database, open for reads.
pub struct Objects<'r> {
    inner: ObjectsInner<'r>,
}

enum ObjectsInner<'r> {
    /// libgit2's object database, and the repository whose packs are read
    /// first (see [`Packed`]).
    Libgit2(git2::Odb<'r>, &'r Repo),
    Native(crate::git::odb::Reader<'r>),
}

/// One object as read: its kind and its bytes.
pub struct Object<'o> {
    inner: ObjectInner<'o>,
}

enum ObjectInner<'o> {
    Libgit2(git2::OdbObject<'o>),
    Native(ObjectKind, Rc<[u8]>),
}

impl Object<'_> {
    pub fn kind(&self) -> ObjectKind {
        match &self.inner {
            ObjectInner::Libgit2(o) => ObjectKind::of(o.kind()),
            ObjectInner::Native(kind, _) => *kind,
        }
    }

    pub fn data(&self) -> &[u8] {
        match &self.inner {
            ObjectInner::Libgit2(o) => o.data(),
            ObjectInner::Native(_, data) => data,
        }
    }
}

impl<'r> Objects<'r> {
    /// Reads an object; a missing one is [`RepoError::MissingObject`].
    pub fn read(&self, oid: ObjectId) -> Result<Object<'_>, RepoError> {
        self.read_raw(oid).map_err(|e| missing(oid, e))
    }

    /// The kind of an object, without reading its bytes where the storage
    /// allows.
    pub fn header(&self, oid: ObjectId) -> Result<ObjectKind, RepoError> {
        match &self.inner {
            ObjectsInner::Libgit2(odb, _) => {
                let id = git2_id(oid).map_err(|e| missing(oid, e.into()))?;
                let (_, kind) = odb.read_header(id).map_err(|e| missing(oid, e.into()))?;
                Ok(ObjectKind::of(kind))
            }
            ObjectsInner::Native(_) => Ok(self.read(oid)?.kind()),
        }
    }

    /// Whether the object is there.
    pub fn exists(&self, oid: ObjectId) -> bool {
        match &self.inner {
            ObjectsInner::Libgit2(odb, _) => git2_id(oid).is_ok_and(|id| odb.exists(id)),
            ObjectsInner::Native(reader) => reader.exists(oid),
        }
    }

    /// [`Objects::read`] with the reader's own error, for the git layer's
    /// readers that report "not found" in their own words.
    pub(in crate::git) fn read_raw(&self, oid: ObjectId) -> Result<Object<'_>, GitError> {
        match &self.inner {
            ObjectsInner::Libgit2(odb, repo) => {
                if let Some((kind, data)) = repo.read_packed(oid) {
                    return Ok(Object {
                        inner: ObjectInner::Native(kind, data),
                    });
                }
                let id = git2_id(oid)?;
                Ok(Object {
                    inner: ObjectInner::Libgit2(odb.read(id)?),
                })
            }
            ObjectsInner::Native(reader) => {
                let (kind, data) = reader.read(oid)?;
                Ok(Object {
                    inner: ObjectInner::Native(kind, data),
                })
            }
        }
    }
}

/// The libgit2 name of an id; the vendored libgit2 names SHA-1 objects only.
pub(in crate::git) fn git2_id(oid: ObjectId) -> Result<git2::Oid, git2::Error> {
    oid.to_git2().ok_or_else(|| {
        git2::Error::from_str(&format!(
            "{oid} is a {} id, but this repository names its objects with sha1",
            oid.kind()
        ))
    })
}

/// Whether a libgit2 error means "no such object".
pub(in crate::git) fn is_not_found(e: &git2::Error) -> bool {
    e.code() == git2::ErrorCode::NotFound
}

/// Maps "not found" to [`RepoError::MissingObject`] and everything else to
/// [`RepoError::Read`].
fn missing(oid: ObjectId, source: GitError) -> RepoError {
    if source.is_not_found() {
        RepoError::MissingObject { oid }
    } else {
        RepoError::Read { oid, source }
    }
}
