//! Whether one commit is an ancestor of another, read from the raw objects
//! (git's `paint_down_to_common`): the fast-forward test behind `deny`.

use std::collections::{BinaryHeap, HashMap};

use crate::git::oid::ObjectId;
use crate::git::repo::{ObjectKind, Repo, RepoError};

/// True when `ancestor` is reachable from `descendant` (or equal to it).
///
/// Read from the raw objects, like everything the policy sees: libgit2's
/// `graph_descendant_of` parses commits with libgit2, which honours
/// `info/grafts`, so a graft could make a force-push look like a
/// fast-forward (and a commit libgit2 cannot parse made the push
/// unjudgeable). This is git's `paint_down_to_common`: both histories are
/// painted in commit-date order until `ancestor` is reached from
/// `descendant`, or only commits reachable from both are left. Dates only
/// order the walk, so commits dated before the old tip (clock skew, old
/// imports) are still a fast-forward. Where the history cannot be read to
/// the end (a shallow repository), it is not an ancestor: a fast-forward is
/// then treated as a force-push, the safe direction.
///
/// `limit` (`settings.max_commits`, 0 = none) bounds the work: once more than
/// `limit` commits reachable only from `descendant` (what the push brings)
/// have been walked, the answer is [`RepoError::TooMany`].
pub fn is_ancestor(
    repo: &Repo,
    ancestor: ObjectId,
    descendant: ObjectId,
    limit: usize,
) -> Result<bool, RepoError> {
    const FROM_ANCESTOR: u8 = 1;
    const FROM_DESCENDANT: u8 = 2;
    const BOTH: u8 = FROM_ANCESTOR | FROM_DESCENDANT;
    if ancestor == descendant {
        return Ok(true);
    }
    let objects = repo.objects()?;
    // (time, parents) of a commit; `None` when it cannot be read.
    let read = |oid: ObjectId| -> Result<Option<(i64, Vec<ObjectId>)>, RepoError> {
        let object = match objects.read(oid) {
            Ok(object) => object,
            Err(RepoError::MissingObject { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        if object.kind() != ObjectKind::Commit {
            return Err(RepoError::NotACommit {
                oid,
                kind: object.kind().name().to_owned(),
            });
        }
        let parsed = crate::git::object::parse(object.data(), oid.kind())
            .map_err(|reason| RepoError::BadCommit { oid, reason })?;
        Ok(Some((parsed.committer.time, parsed.parents)))
    };
    let mut flags: HashMap<ObjectId, u8> = HashMap::new();
    // (time, parents) of every commit read.
    let mut nodes: HashMap<ObjectId, (i64, Vec<ObjectId>)> = HashMap::new();
    let mut queue: BinaryHeap<(i64, u64, ObjectId)> = BinaryHeap::new();
    let mut seq = 0u64;
    // Commits walked that only the descendant reaches.
    let mut brought = 0usize;
    for (oid, side) in [(ancestor, FROM_ANCESTOR), (descendant, FROM_DESCENDANT)] {
        let Some(node) = read(oid)? else {
            return Ok(false);
        };
        seq += 1;
        queue.push((node.0, u64::MAX - seq, oid));
        nodes.insert(oid, node);
        flags.insert(oid, side);
    }
    // git's `queue_has_nonstale`: stop once every queued commit is reachable
    // from both sides. The queue is the walk's frontier, so the scan is short.
    while queue
        .iter()
        .any(|&(_, _, oid)| flags.get(&oid).copied().unwrap_or(0) != BOTH)
    {
        let Some((_, _, oid)) = queue.pop() else {
            break;
        };
        let side = flags.get(&oid).copied().unwrap_or(0);
        if side == FROM_DESCENDANT {
            brought += 1;
            if limit != 0 && brought > limit {
                return Err(RepoError::TooMany { limit });
            }
        }
        let Some(ps) = nodes.get(&oid).map(|n| n.1.clone()) else {
            continue;
        };
        for parent in ps {
            let old = flags.get(&parent).copied().unwrap_or(0);
            let new = old | side;
            if new == old {
                continue;
            }
            if parent == ancestor && new & FROM_DESCENDANT != 0 {
                return Ok(true);
            }
            let time = match nodes.get(&parent) {
                Some(node) => node.0,
                None => match read(parent)? {
                    Some(node) => {
                        let time = node.0;
                        nodes.insert(parent, node);
                        time
                    }
                    // History ends here (shallow or damaged): it hides less.
                    None => continue,
                },
            };
            flags.insert(parent, new);
            seq += 1;
            queue.push((time, u64::MAX - seq, parent));
        }
    }
    Ok(false)
}
