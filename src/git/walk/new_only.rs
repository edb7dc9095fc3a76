//! The walk of the common push: only the commits the repository did not have
//! before it.

use std::collections::BinaryHeap;

use crate::git::oid::ObjectId;

use super::*;

impl Walker<'_> {
    /// The answer of [`Walker::walk_with`] for the common push, found without
    /// looking at the hidden tips at all: when the commits reachable from
    /// `tips` that the repository did not have before the push (see
    /// [`Walker::with_store`]) are few, and every commit the repository did
    /// have that they lead to is itself one of `hidden`, then those new
    /// commits are exactly the answer (no hidden tip can reach a new commit,
    /// and everything below the boundary is hidden). On a server with ten
    /// thousand refs this skips reading the ref list's targets, the
    /// commit-graph and a node per ref. `None` when that is not provably the
    /// answer (no store, more than [`MAX_NEW_CHECKS`] new commits, a tip or
    /// boundary commit that is old but not among `hidden`); the caller then
    /// walks the usual way, which reuses what was read here.
    pub fn walk_new_only(
        &mut self,
        tips: &[ObjectId],
        hidden: &[ObjectId],
        limit: usize,
        on_read: &mut OnRead<'_>,
    ) -> Result<Option<Walked>, WalkError> {
        if self.store.is_none() {
            return Ok(None);
        }
        let hidden: std::collections::HashSet<ObjectId> = hidden.iter().copied().collect();
        self.next_walk();
        let mut state = WalkState {
            heap: BinaryHeap::new(),
            seq: 0,
            interesting_queued: 0,
        };
        for &oid in tips {
            if self.maybe_old(oid) {
                return Ok(None);
            }
            let n = self.number(oid)?;
            let handed = self.load(n, on_read)?;
            self.insert(&mut state, n, false);
            self.handed(n, handed);
        }
        let mut found: Vec<u32> = Vec::new();
        let mut parents: Vec<u32> = Vec::new();
        while let Some(entry) = state.heap.pop() {
            let n = entry.node;
            found.push(n);
            if found.len() > MAX_NEW_CHECKS {
                return Ok(None);
            }
            if limit != 0 && found.len() > limit {
                return Err(WalkError::TooMany { limit });
            }
            parents.clear();
            parents.extend_from_slice(self.parents_of(n));
            for &parent in &parents {
                if self.flags(parent) & SEEN != 0 {
                    continue;
                }
                let oid = self.oid(parent);
                if self.maybe_old(oid) {
                    if hidden.contains(&oid) {
                        continue;
                    }
                    return Ok(None);
                }
                let handed = self.load(parent, on_read)?;
                self.insert(&mut state, parent, false);
                self.handed(parent, handed);
            }
        }
        let not_handed = found
            .iter()
            .filter(|&&n| self.flags(n) & HANDED == 0)
            .map(|&n| self.oid(n))
            .collect();
        Ok(Some(Walked {
            commits: found.iter().map(|&n| self.oid(n)).collect(),
            not_handed,
        }))
    }
}
