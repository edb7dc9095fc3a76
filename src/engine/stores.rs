//! What the engine computes once and keeps for every rule that asks: the
//! raw commits the walks read, each commit's facts, diffs (including those
//! computed ahead on other threads), and signatures with the signers of the
//! push's merges.

use std::collections::HashMap;
use std::rc::Rc;

use crate::facts::signature::{KeyRing, SigStatus};
use crate::facts::{self, CommitFacts};
use crate::git::diff::{self, DiffError, DiffOptions, DiffStats};
use crate::git::object;
use crate::git::oid::ObjectId;
use crate::git::repo::Repo;
use crate::git::walk::{OidMap, OidSet, RawCommits};

use super::{Deadline, JudgeError};

/// Reads an object's bytes and hands them to `f`.
pub(super) fn with_object<T>(
    repo: &Repo,
    refname: &str,
    oid: ObjectId,
    f: impl FnOnce(&[u8]) -> Result<T, JudgeError>,
) -> Result<T, JudgeError> {
    let read_err = |source| JudgeError::Repo {
        refname: refname.to_owned(),
        source,
    };
    let objects = repo.objects().map_err(read_err)?;
    let object = objects.read(oid).map_err(read_err)?;
    f(object.data())
}

/// Commits' facts, computed from the bytes the walk read where it kept them.
pub(super) struct FactStore {
    /// Commits as the walks read them.
    pub(super) raw: RawCommits,
    cache: HashMap<ObjectId, Rc<CommitFacts>>,
    /// False when each commit's facts are asked for once: then the cache,
    /// whose million small allocations cost a fifth of a large push to free,
    /// is skipped.
    keep: bool,
}

impl FactStore {
    pub(super) fn new(keep: bool) -> Self {
        FactStore {
            raw: RawCommits::default(),
            cache: HashMap::new(),
            keep,
        }
    }

    /// Facts kept so far (for the time budget's message).
    pub(super) fn len(&self) -> usize {
        self.cache.len()
    }

    pub(super) fn get(
        &mut self,
        repo: &Repo,
        config: &facts::Config<'_>,
        refname: &str,
        oid: ObjectId,
    ) -> Result<Rc<CommitFacts>, JudgeError> {
        if let Some(facts) = self.cache.get(&oid) {
            return Ok(Rc::clone(facts));
        }
        let of_commit = |data: &[u8]| {
            facts::of_commit(oid, data, config).map_err(|reason| JudgeError::BadCommit {
                refname: refname.to_owned(),
                oid,
                reason,
            })
        };
        let facts = Rc::new(match self.raw.get(oid) {
            Some(data) => of_commit(data)?,
            None => with_object(repo, refname, oid, of_commit)?,
        });
        if self.keep {
            self.cache.insert(oid, Rc::clone(&facts));
        }
        Ok(facts)
    }
}

/// Each commit's own diff, computed once at the detail the most demanding
/// rule needs: against its first parent (or the empty tree), and for a
/// merge against the clean merge of its parents ([`diff::merge_diffs`]).
pub(super) struct DiffStore {
    done: HashMap<ObjectId, Rc<DiffStats>>,
    /// Diffs computed ahead on other threads and not yet asked for.
    ready: OidMap<DiffStats>,
    /// Line counts too, not only paths.
    pub(super) lines: bool,
    /// Diffs computed (commits and net changes).
    pub(super) computed: usize,
    /// The time budget every diff is computed within.
    pub(super) deadline: Option<Deadline>,
}

impl DiffStore {
    pub(super) fn new(lines: bool, deadline: Option<Deadline>) -> Self {
        DiffStore {
            done: HashMap::new(),
            ready: OidMap::default(),
            lines,
            computed: 0,
            deadline,
        }
    }

    /// How every diff is computed: renames detected, within the budget.
    pub(super) fn options(&self) -> DiffOptions {
        DiffOptions::renames().until(self.deadline.map(|d| d.at()))
    }

    /// The error for a diff that failed: the budget's message when it ran
    /// out of time.
    pub(super) fn error(&self, refname: &str, source: DiffError) -> JudgeError {
        match (source, self.deadline) {
            (DiffError::OutOfTime, Some(d)) => d.out_of_time(refname, self.computed),
            (source, _) => JudgeError::Diff {
                refname: refname.to_owned(),
                source: Box::new(source),
            },
        }
    }

    pub(super) fn has(&self, oid: ObjectId) -> bool {
        self.done.contains_key(&oid)
    }

    /// Diffs computed elsewhere, for later.
    pub(super) fn offer(&mut self, computed: impl IntoIterator<Item = (ObjectId, DiffStats)>) {
        self.ready.extend(computed);
    }

    /// Takes a diff computed ahead, if there is one.
    pub(super) fn take_ready(&mut self, oid: ObjectId) -> bool {
        match self.ready.remove(&oid) {
            Some(stats) => {
                self.add(oid, stats);
                true
            }
            None => false,
        }
    }

    /// A diff just computed.
    pub(super) fn add(&mut self, oid: ObjectId, stats: DiffStats) -> Rc<DiffStats> {
        self.computed += 1;
        let stats = Rc::new(stats);
        self.done.insert(oid, Rc::clone(&stats));
        stats
    }

    /// The diff of commit `oid`, whose parents are `parents`.
    pub(super) fn get(
        &mut self,
        repo: &Repo,
        refname: &str,
        oid: ObjectId,
        parents: &[ObjectId],
    ) -> Result<Rc<DiffStats>, JudgeError> {
        if let Some(stats) = self.done.get(&oid) {
            return Ok(Rc::clone(stats));
        }
        if parents.len() > 1 {
            let merge = merge_of(repo, refname, oid)?;
            self.merges(repo, refname, &[merge])?;
            if let Some(stats) = self.done.get(&oid) {
                return Ok(Rc::clone(stats));
            }
        }
        if let Some(stats) = self.ready.remove(&oid) {
            return Ok(self.add(oid, stats));
        }
        let stats = diff::commit_diff(repo, oid, self.lines, &self.options())
            .map_err(|source| self.error(refname, source))?;
        Ok(self.add(oid, stats))
    }

    /// Measures `merges` against the clean merges of their parents, in one
    /// batch.
    pub(super) fn merges(
        &mut self,
        repo: &Repo,
        refname: &str,
        merges: &[diff::Merge],
    ) -> Result<(), JudgeError> {
        let computed = diff::merge_diffs(repo, merges, self.lines, &self.options())
            .map_err(|source| self.error(refname, source))?;
        for (oid, stats) in computed {
            self.add(oid, stats);
        }
        Ok(())
    }
}

/// A merge commit's parents and tree, from its raw object (as the walk
/// reads it, without grafts or replacements).
pub(super) fn merge_of(
    repo: &Repo,
    refname: &str,
    oid: ObjectId,
) -> Result<diff::Merge, JudgeError> {
    with_object(repo, refname, oid, |data| {
        let bad = |reason: String| JudgeError::BadCommit {
            refname: refname.to_owned(),
            oid,
            reason,
        };
        let raw = object::parse(data, oid.kind()).map_err(bad)?;
        let tree = raw
            .tree
            .ok_or_else(|| bad("it has no readable tree line".into()))?;
        Ok(diff::Merge {
            commit: oid,
            parents: raw.parents,
            tree,
        })
    })
}

/// Commits' signatures, verified once, and for each commit the people whose
/// signed merge in this push brings it in.
#[derive(Default)]
pub(super) struct SigStore {
    sigs: HashMap<ObjectId, Rc<SigStatus>>,
    merge_signers: HashMap<ObjectId, Vec<usize>>,
    /// Merges already looked at for their signers.
    pub(super) merges_seen: OidSet,
}

impl SigStore {
    pub(super) fn get(
        &mut self,
        repo: &Repo,
        keys: &KeyRing,
        refname: &str,
        oid: ObjectId,
    ) -> Result<Rc<SigStatus>, JudgeError> {
        if let Some(sig) = self.sigs.get(&oid) {
            return Ok(Rc::clone(sig));
        }
        let sig = Rc::new(with_object(repo, refname, oid, |data| {
            Ok(keys.verify_commit(data, oid.kind()))
        })?);
        self.sigs.insert(oid, Rc::clone(&sig));
        Ok(sig)
    }

    /// The people whose signed merge of this push brings the commit in.
    pub(super) fn merge_signers(&self, oid: ObjectId) -> &[usize] {
        self.merge_signers.get(&oid).map_or(&[], Vec::as_slice)
    }

    /// Records that `signer` signed a merge that brings `commit` in.
    pub(super) fn add_merge_signer(&mut self, commit: ObjectId, signer: usize) {
        let signers = self.merge_signers.entry(commit).or_default();
        if !signers.contains(&signer) {
            signers.push(signer);
        }
    }
}
