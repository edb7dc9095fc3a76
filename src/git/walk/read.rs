//! Reading a commit for the walk: its object (or its commit-graph entry),
//! parsed only for its parents and date, once. A commit read on the
//! interesting side that is new in this push (not in the repository as it
//! was before) must first pass [`object::fsck::check_commit`]: every commit
//! a ref update brings is read here before anything judges it.

use crate::git::object;
use crate::git::oid::ObjectId;
use crate::git::repo::ObjectKind;

use super::{OnRead, WalkError, Walker};

impl Walker<'_> {
    /// Reads and parses a commit of the interesting side once (later calls
    /// are free), refusing it if it is new and malformed. True when this
    /// call read the commit and handed its bytes to `on_read`.
    pub(super) fn load(&mut self, n: u32, on_read: &mut OnRead<'_>) -> Result<bool, WalkError> {
        self.load_checked(n, on_read, true)
    }

    /// [`Walker::load`] for the hidden side, whose commits are already in
    /// the repository (reachable from its refs) and never checked again.
    pub(super) fn load_hidden(&mut self, n: u32) -> Result<bool, WalkError> {
        self.load_checked(n, &mut |_, _| {}, false)
    }

    fn load_checked(
        &mut self,
        n: u32,
        on_read: &mut OnRead<'_>,
        check: bool,
    ) -> Result<bool, WalkError> {
        if self.loaded(n) || self.load_from_graph(n) {
            return Ok(false);
        }
        let oid = self.oid(n);
        // The interesting side's new commits may have been read ahead
        // (see `prefetch.rs`); the hidden side's are old, never there.
        // The bytes (and the reader they may borrow) end before `fill`.
        let time = {
            let ready = match &mut self.prefetch {
                Some(prefetch) if check => prefetch.take(oid),
                _ => None,
            };
            let object;
            let data = match &ready {
                Some(ready) => ready.data(),
                None => {
                    object = self.odb.read_raw(oid).map_err(|source| {
                        if source.is_not_found() {
                            WalkError::Missing { oid }
                        } else {
                            WalkError::Read { oid, source }
                        }
                    })?;
                    if object.kind() != ObjectKind::Commit {
                        return Err(WalkError::NotACommit {
                            oid,
                            kind: object.kind().name().to_owned(),
                        });
                    }
                    object.data()
                }
            };
            self.scratch.clear();
            // A commit of the interesting side is checked and parsed in one
            // pass; only one that fails the check and is old is parsed again,
            // the way git reads it whatever its shape.
            let checked = if check {
                match object::fsck::check_commit_links(data, oid.kind(), &mut self.scratch) {
                    Ok(time) => Some(time),
                    Err(_) if self.known_old(oid) => None,
                    Err(problem) => {
                        return Err(WalkError::Malformed {
                            oid,
                            problem: Box::new(problem),
                        })
                    }
                }
            } else {
                None
            };
            let time = match checked {
                Some(time) => time,
                None => {
                    self.scratch.clear();
                    object::parse_links(data, oid.kind(), &mut self.scratch)
                        .map_err(|reason| WalkError::BadCommit { oid, reason })?
                }
            };
            self.commits_read += 1;
            on_read(oid, data);
            time
        };
        self.fill(n, time)?;
        Ok(true)
    }

    /// Loads a hidden tip, following annotated tags to their target.
    pub(super) fn peel_hidden(&mut self, mut oid: ObjectId) -> Option<u32> {
        // Tag chains longer than this are not worth following for hiding.
        for _ in 0..16 {
            let n = self.number(oid).ok()?;
            if self.loaded(n) || self.load_from_graph(n) {
                return Some(n);
            }
            let object = self.odb.read_raw(oid).ok()?;
            match object.kind() {
                ObjectKind::Commit => {
                    self.scratch.clear();
                    let time =
                        object::parse_links(object.data(), oid.kind(), &mut self.scratch).ok()?;
                    drop(object);
                    self.commits_read += 1;
                    self.fill(n, time).ok()?;
                    return Some(n);
                }
                ObjectKind::Tag => {
                    oid = object::tag_target(object.data(), oid.kind())?;
                }
                _ => return None,
            }
        }
        None
    }
}
