//! Refs: the names a repository has before the push, read through one
//! interface ([`RefStore`]): libgit2 for loose refs and `packed-refs` in a
//! SHA-1 repository, git itself (`git for-each-ref`, `git symbolic-ref`)
//! for reftable and SHA-256 repositories, which libgit2 cannot open; and the
//! ref-name rules git applies to a push.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use git2::Repository;

use crate::git::oid::{HashKind, ObjectId};
use crate::git::reftable::{self, RefValue};
use crate::git::repo::{GitError, RepoError};

/// A ref that exists in the repository before the push, with the object it
/// points at (peeled only where `packed-refs` recorded it). The walk peels
/// annotated tags and ignores trees and blobs, so listing costs no object reads.
#[derive(Debug, Clone)]
pub struct ExistingRef {
    pub name: String,
    pub target: ObjectId,
}

/// How refs are read.
pub trait RefStore {
    /// The direct refs that exist (symbolic refs are left out: what they
    /// point at is listed under its own name).
    fn existing(&self) -> Result<Vec<ExistingRef>, RepoError>;

    /// The ref a symbolic ref points at (`HEAD` -> `refs/heads/main`), one
    /// level; `None` for a direct ref or one that does not exist.
    fn symbolic_target(&self, name: &str) -> Result<Option<String>, RepoError>;

    /// The branch `HEAD` is on; `None` when it is detached.
    fn current_branch(&self) -> Result<Option<String>, RepoError>;

    /// What the direct ref `name` points at (peeled where the store
    /// recorded it); `None` when there is no such ref or it is symbolic.
    /// By default from [`RefStore::existing`].
    fn direct_target(&self, name: &str) -> Result<Option<ObjectId>, RepoError> {
        Ok(self
            .existing()?
            .into_iter()
            .find(|r| r.name == name)
            .map(|r| r.target))
    }
}

/// Loose refs and `packed-refs`, read through libgit2.
pub struct FilesRefs<'r> {
    repo: &'r Repository,
    /// For the names libgit2 cannot look up (below).
    fallback: RefCache,
}

impl<'r> FilesRefs<'r> {
    pub(in crate::git) fn new(repo: &'r Repository) -> Self {
        FilesRefs {
            repo,
            fallback: RefCache::default(),
        }
    }

    /// git takes ref names of any length (each component within the file
    /// system's limit), but libgit2 refuses to look up a name of
    /// [`LIBGIT2_REFNAME_MAX`] bytes or more ("the provided buffer is too
    /// short"); such a name is asked of git itself, so that a push to it is
    /// judged like any other instead of failing to be judged.
    fn ask_git(&self, name: &str) -> Option<GitRefs<'_>> {
        (name.len() >= LIBGIT2_REFNAME_MAX)
            .then(|| GitRefs::new(self.repo.path(), HashKind::Sha1, false, &self.fallback))
    }
}

/// libgit2's `GIT_REFNAME_MAX`: the buffer it normalises a ref name into.
const LIBGIT2_REFNAME_MAX: usize = 1024;

impl RefStore for FilesRefs<'_> {
    fn existing(&self) -> Result<Vec<ExistingRef>, RepoError> {
        let mut out = Vec::new();
        let refs = self.repo.references().map_err(|source| RepoError::Refs {
            source: source.into(),
        })?;
        for reference in refs {
            let reference = reference.map_err(|source| RepoError::Refs {
                source: source.into(),
            })?;
            if reference.kind() != Some(git2::ReferenceType::Direct) {
                continue;
            }
            let (Ok(name), Some(target)) = (reference.name(), reference.target()) else {
                continue;
            };
            out.push(ExistingRef {
                name: name.to_owned(),
                target: ObjectId::from(reference.target_peel().unwrap_or(target)),
            });
        }
        Ok(out)
    }

    fn symbolic_target(&self, name: &str) -> Result<Option<String>, RepoError> {
        if let Some(git) = self.ask_git(name) {
            return git.symbolic_target(name);
        }
        match self.repo.find_reference(name) {
            Ok(r) if r.kind() == Some(git2::ReferenceType::Symbolic) => {
                Ok(r.symbolic_target().ok().flatten().map(str::to_owned))
            }
            Ok(_) => Ok(None),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(source) => Err(RepoError::Refs {
                source: source.into(),
            }),
        }
    }

    /// One lookup, not a listing of every ref: a server with many refs
    /// pays nothing per ref for a baseline ref.
    fn direct_target(&self, name: &str) -> Result<Option<ObjectId>, RepoError> {
        if let Some(git) = self.ask_git(name) {
            return git.direct_target(name);
        }
        match self.repo.find_reference(name) {
            Ok(r) if r.kind() == Some(git2::ReferenceType::Direct) => Ok(r
                .target()
                .map(|target| ObjectId::from(r.target_peel().unwrap_or(target)))),
            Ok(_) => Ok(None),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(source) => Err(RepoError::Refs {
                source: source.into(),
            }),
        }
    }

    fn current_branch(&self) -> Result<Option<String>, RepoError> {
        let head = self.repo.head().map_err(|source| RepoError::Head {
            source: source.into(),
        })?;
        Ok(match head.name() {
            Ok(name) if head.is_branch() => Some(name.to_owned()),
            _ => None,
        })
    }
}

/// Refs as git itself lists them, whatever their storage (reftable,
/// files): one `git for-each-ref` for all of them, kept for the rest of the
/// push in the repository's [`RefCache`]; symbolic refs read from the
/// storage itself where trailgate can (loose files, the reftable stack), so
/// that a push of thousands of refs does not start a git for each.
pub struct GitRefs<'r> {
    git_dir: PathBuf,
    kind: HashKind,
    reftable: bool,
    cache: &'r RefCache,
}

/// What [`GitRefs`] has read once and keeps for the life of the repository
/// handle (one push: refs do not move under a pre-receive hook's feet in
/// any way that listing them again would make safe).
#[derive(Default)]
pub struct RefCache {
    listing: OnceCell<Vec<ExistingRef>>,
    direct: OnceCell<HashMap<String, ObjectId>>,
    /// The symbolic refs of a reftable stack, by name; `None` when the
    /// stack could not be read, so that git is asked name by name.
    reftable_symbolic: OnceCell<Option<HashMap<String, String>>>,
}

impl<'r> GitRefs<'r> {
    pub(in crate::git) fn new(
        git_dir: &Path,
        kind: HashKind,
        reftable: bool,
        cache: &'r RefCache,
    ) -> Self {
        GitRefs {
            git_dir: git_dir.to_owned(),
            kind,
            reftable,
            cache,
        }
    }

    fn oid(&self, hex: &str) -> Result<ObjectId, RepoError> {
        self.kind
            .parse_hex(hex.as_bytes())
            .ok_or_else(|| RepoError::Refs {
                source: GitError::Git(format!(
                    "git listed `{hex}`, which is not a {} object id",
                    self.kind
                )),
            })
    }

    /// The direct refs `git for-each-ref ARGS` lists.
    fn list(&self, patterns: &[&str]) -> Result<Vec<ExistingRef>, RepoError> {
        // Ref names cannot hold a tab or a newline; `%(symref)` is empty for
        // a direct ref. Targets are left unpeeled (the walk peels annotated
        // tags, as for loose refs): `%(*objectname)` makes git read every
        // ref's object, which on 10,000 refs of a 100,000-commit history is
        // ~0.1 s of CPU and ~150 MB of the pack mapped in, for a push that
        // reads a handful of objects.
        let mut args = vec![
            "for-each-ref",
            "--format=%(objectname)\t%(symref)\t%(refname)",
        ];
        args.extend_from_slice(patterns);
        let out =
            git_output(Some(&self.git_dir), &args).map_err(|source| RepoError::Refs { source })?;
        let text = String::from_utf8_lossy(&out);
        let mut refs = Vec::new();
        for line in text.lines() {
            let mut fields = line.splitn(3, '\t');
            let (Some(target), Some(symref), Some(name)) =
                (fields.next(), fields.next(), fields.next())
            else {
                return Err(RepoError::Refs {
                    source: GitError::Git(format!(
                        "unexpected line from git for-each-ref: {line:?}"
                    )),
                });
            };
            if !symref.is_empty() {
                continue;
            }
            refs.push(ExistingRef {
                name: name.to_owned(),
                target: self.oid(target)?,
            });
        }
        Ok(refs)
    }

    fn listing(&self) -> Result<&Vec<ExistingRef>, RepoError> {
        if let Some(listing) = self.cache.listing.get() {
            return Ok(listing);
        }
        let listing = self.list(&[])?;
        Ok(self.cache.listing.get_or_init(|| listing))
    }

    /// `git symbolic-ref NAME`, one process for one name.
    fn ask_git_symbolic(&self, name: &str) -> Result<Option<String>, RepoError> {
        match git_output(
            Some(&self.git_dir),
            &[
                "symbolic-ref",
                "-q",
                "--no-recurse",
                "--end-of-options",
                name,
            ],
        ) {
            Ok(out) => Ok(Some(String::from_utf8_lossy(&out).trim_end().to_owned())),
            // Exit 1: not a symbolic ref (or no such ref).
            Err(GitError::NotFound) => Ok(None),
            Err(source) => Err(RepoError::Refs { source }),
        }
    }

    /// A loose ref file as git's files backend reads it (`ref: TARGET`);
    /// `None` when trailgate cannot be sure to read it as git would
    /// (links, linked worktrees, odd names), so that git is asked.
    fn loose_symbolic(&self, name: &str) -> Option<Option<String>> {
        let plain_name = name == "HEAD" || valid_push_name(name);
        if !plain_name || self.git_dir.join("commondir").exists() {
            return None;
        }
        let path = self.git_dir.join(name);
        match std::fs::symlink_metadata(&path) {
            // No file: not a symbolic ref (`packed-refs` holds none).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(None),
            Ok(meta) if meta.is_dir() => return Some(None),
            Ok(meta) if meta.is_file() => {}
            _ => return None,
        }
        let text = std::fs::read(&path).ok()?;
        // git: the file's content right-trimmed; `ref:`, then any spaces.
        let text = String::from_utf8(text).ok()?;
        Some(
            text.trim_end()
                .strip_prefix("ref:")
                .map(|rest| rest.trim_start().to_owned()),
        )
    }

    fn reftable_symbolic(&self) -> Option<&HashMap<String, String>> {
        self.cache
            .reftable_symbolic
            .get_or_init(|| {
                if self.git_dir.join("commondir").exists() {
                    return None;
                }
                let stack =
                    reftable::read_stack(&self.git_dir.join("reftable"), self.kind.byte_len())
                        .ok()?;
                Some(
                    stack
                        .into_iter()
                        .filter_map(|(name, value)| match value {
                            RefValue::Symbolic(target) => Some((name, target)),
                            RefValue::Object(_) => None,
                        })
                        .collect(),
                )
            })
            .as_ref()
    }
}

impl RefStore for GitRefs<'_> {
    fn existing(&self) -> Result<Vec<ExistingRef>, RepoError> {
        self.listing().cloned()
    }

    fn direct_target(&self, name: &str) -> Result<Option<ObjectId>, RepoError> {
        if let Some(direct) = self.cache.direct.get() {
            return Ok(direct.get(name).copied());
        }
        let direct = self
            .listing()?
            .iter()
            .map(|r| (r.name.clone(), r.target))
            .collect();
        Ok(self.cache.direct.get_or_init(|| direct).get(name).copied())
    }

    fn symbolic_target(&self, name: &str) -> Result<Option<String>, RepoError> {
        let known = if self.reftable {
            self.reftable_symbolic().map(|s| s.get(name).cloned())
        } else {
            self.loose_symbolic(name)
        };
        match known {
            Some(target) => Ok(target),
            None => self.ask_git_symbolic(name),
        }
    }

    fn current_branch(&self) -> Result<Option<String>, RepoError> {
        let name = self.symbolic_target("HEAD")?;
        Ok(name.filter(|n| n.starts_with("refs/heads/")))
    }
}

/// Runs git (in `git_dir` when given, else as the environment says) and
/// returns its standard output; exit code 1 is [`GitError::NotFound`], as
/// git's query commands use it for "no such thing".
pub(in crate::git) fn git_output(
    git_dir: Option<&Path>,
    args: &[&str],
) -> Result<Vec<u8>, GitError> {
    let mut cmd = Command::new("git");
    if let Some(dir) = git_dir {
        cmd.arg("--git-dir").arg(dir);
    }
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = cmd
        .output()
        .map_err(|e| GitError::Git(format!("cannot run git: {e}")))?;
    match out.status.code() {
        Some(0) => Ok(out.stdout),
        Some(1) => Err(GitError::NotFound),
        _ => Err(GitError::Git(format!(
            "git {} failed: {}",
            args.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
    }
}

/// A full ref name as git would accept it in a push: starts with `refs/`,
/// and passes git's `check-ref-format` rules (libgit2 implements them).
pub fn valid_push_name(name: &str) -> bool {
    name.starts_with("refs/")
        && !name.bytes().any(|b| b.is_ascii_control())
        && git2::Reference::is_valid_name(name)
}
