//! Which commits a rule judges for one ref update (README "Which commits
//! are judged"): those reachable from the new tip and not from the old one
//! nor from any existing ref the same rule covers, walked once per set of
//! hidden tips.

use std::collections::HashMap;

use crate::git::oid::ObjectId;
use crate::git::refs::ExistingRef;
use crate::git::repo::Repo;
use crate::git::walk::{IdList, OnRead, WalkError, Walked, Walker};

use super::{Baseline, Context, JudgeError, Rule};

/// The walker and what the walks of one push share.
pub(super) struct Commits<'r> {
    pub(super) walker: Walker<'r>,
    /// The refs that exist before the push, listed on first need.
    existing: Option<Vec<ExistingRef>>,
    /// Walks already done, by tip and hidden tips.
    walks: HashMap<(ObjectId, Vec<ObjectId>), IdList>,
    /// Hook mode: the commits of `settings.baseline`, hidden from every
    /// walk like the refs a rule covers.
    pub(super) accepted: Vec<ObjectId>,
    /// Whether the last walk hid the existing refs its rule covers (rather
    /// than only the old value, or the range's own ends).
    hid_existing: bool,
}

impl<'r> Commits<'r> {
    pub(super) fn new(walker: Walker<'r>) -> Self {
        Commits {
            walker,
            existing: None,
            walks: HashMap::new(),
            accepted: Vec::new(),
            hid_existing: false,
        }
    }

    /// The commits `rule` judges for the update of `refname` to `new`,
    /// newest first; each commit the walk reads is handed to `on_read`.
    /// `remember` keeps the answer for a later rule with the same hidden
    /// tips.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn for_rule(
        &mut self,
        repo: &Repo,
        ctx: &Context<'_>,
        rule: &Rule,
        refname: &str,
        new: ObjectId,
        old: Option<ObjectId>,
        limit: usize,
        remember: bool,
        on_read: &mut OnRead<'_>,
    ) -> Result<Walked, JudgeError> {
        let covers = |name: &str| rule.applies_to(name);
        self.for_refs(
            repo, ctx, &covers, refname, new, old, limit, remember, on_read,
        )
    }

    /// The existing refs, when the last walk hid those its rule covers: a
    /// rule that covers other ones would have walked other commits.
    pub(super) fn hid_existing(&self) -> Option<&[ExistingRef]> {
        self.hid_existing
            .then_some(self.existing.as_deref())
            .flatten()
    }

    /// [`Commits::for_rule`] for a rule that covers the refs `covers` says.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn for_refs(
        &mut self,
        repo: &Repo,
        ctx: &Context<'_>,
        covers: &dyn Fn(&str) -> bool,
        refname: &str,
        new: ObjectId,
        old: Option<ObjectId>,
        limit: usize,
        remember: bool,
        on_read: &mut OnRead<'_>,
    ) -> Result<Walked, JudgeError> {
        let walk_err = |source| match (source, ctx.deadline) {
            (WalkError::Deadline { commits }, Some(d)) => d.out_of_time(refname, commits),
            (source, _) => JudgeError::Walk {
                refname: refname.to_owned(),
                source,
            },
        };
        // Hook mode: a push of a few new commits on top of the ref's old
        // value is answered without listing the repository's refs (see
        // `Walker::walk_new_only`); the old value is hidden for every rule.
        let hook = ctx.quarantined && matches!(ctx.baseline, Baseline::ExistingRefs);
        self.hid_existing = false;
        if let (true, Some(old)) = (hook, old) {
            let mut hidden = self.accepted.clone();
            hidden.push(old);
            if let Some(walked) = self
                .walker
                .walk_new_only(&[new], &hidden, limit, on_read)
                .map_err(walk_err)?
            {
                return Ok(walked);
            }
        }
        let mut hidden: Vec<ObjectId> = match &ctx.baseline {
            Baseline::Explicit(list) => list.clone(),
            Baseline::ExistingRefs => {
                if self.existing.is_none() {
                    let refs = repo.refs().existing().map_err(|source| JudgeError::Repo {
                        refname: refname.to_owned(),
                        source,
                    })?;
                    self.existing = Some(refs);
                }
                self.hid_existing = true;
                let mut hidden: Vec<ObjectId> = self
                    .existing
                    .iter()
                    .flatten()
                    .filter(|r| covers(&r.name))
                    .map(|r| r.target)
                    .collect();
                hidden.extend(old);
                hidden.extend_from_slice(&self.accepted);
                hidden
            }
        };
        hidden.sort();
        hidden.dedup();
        let key = (new, hidden);
        if let Some(found) = self.walks.get(&key) {
            return Ok(Walked {
                commits: found.clone(),
                not_handed: found.clone(),
            });
        }
        if hook {
            if let Some(walked) = self
                .walker
                .walk_new_only(&[new], &key.1, limit, on_read)
                .map_err(walk_err)?
            {
                return Ok(walked);
            }
        }
        // The walk hands over the bytes it read, so that the facts are not
        // computed from a second read and inflation of each commit.
        let found = self
            .walker
            .walk_with(
                &[new],
                &key.1,
                limit,
                // Hook mode hides existing refs and the old value, all of
                // them in the repository before the push.
                matches!(ctx.baseline, Baseline::ExistingRefs),
                on_read,
            )
            .map_err(walk_err)?;
        if remember {
            self.walks.insert(key, found.commits.clone());
        }
        Ok(found)
    }
}
