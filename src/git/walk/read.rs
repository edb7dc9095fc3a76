//! Reading a commit for the walk: its object (or its commit-graph entry),
//! parsed only for its parents and date, once.

use crate::git::object;
use crate::git::oid::ObjectId;
use crate::git::repo::ObjectKind;

use super::{OnRead, WalkError, Walker};

impl Walker<'_> {
    /// Reads and parses a commit once; later calls are free. True when this
    /// call read the commit and handed its bytes to `on_read`.
    pub(super) fn load(&mut self, n: u32, on_read: &mut OnRead<'_>) -> Result<bool, WalkError> {
        if self.loaded(n) || self.load_from_graph(n) {
            return Ok(false);
        }
        let oid = self.oid(n);
        let object = self.odb.read_raw(oid).map_err(|source| {
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
        self.scratch.clear();
        let time = object::parse_links(object.data(), &mut self.scratch)
            .map_err(|reason| WalkError::BadCommit { oid, reason })?;
        self.commits_read += 1;
        on_read(oid, object.data());
        drop(object);
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
                    let time = object::parse_links(object.data(), &mut self.scratch).ok()?;
                    drop(object);
                    self.commits_read += 1;
                    self.fill(n, time).ok()?;
                    return Some(n);
                }
                ObjectKind::Tag => {
                    // A tag object starts with `object <hex>`.
                    oid = object::tag_target(object.data())?;
                }
                _ => return None,
            }
        }
        None
    }
}
