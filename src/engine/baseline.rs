//! `settings.baseline` in a repository (README "Adopting trailgate on
//! existing history"): the commits its points stand for, hidden from every
//! rule's walk like the refs the rule covers; and the refusal of any push
//! that would move a baseline ref.
//!
//! Fail closed: a point that names nothing (a ref that does not exist, a
//! commit the repository did not have before the push, a ref to a tree) is
//! an error that rejects the push, not a baseline of nothing and not one of
//! everything.

use crate::policy::BaselinePoint;
use crate::verdict::BaselineUsed;

use super::{Engine, JudgeError};

impl Engine<'_, '_> {
    /// The commits the baseline of this repository stands for, each with
    /// the point it came from; empty when no baseline applies.
    pub(super) fn resolve_baseline(&self) -> Result<Vec<BaselineUsed>, JudgeError> {
        let points = self
            .policy
            .settings
            .baseline
            .for_repository(self.ctx.repository.name);
        let mut out = Vec::new();
        if points.is_empty() {
            return Ok(out);
        }
        let repository = self.ctx.repository.name.unwrap_or("this repository");
        let missing = |point: &BaselinePoint, why: String| JudgeError::Baseline {
            point: point.to_string(),
            repository: repository.to_owned(),
            why,
        };
        for point in points {
            let (refname, oid) = match point {
                BaselinePoint::Commit(oid) => (None, *oid),
                BaselinePoint::Ref(name) => {
                    let refs = self.repo.refs();
                    let repo_err = |source| JudgeError::Repo {
                        refname: name.clone(),
                        source,
                    };
                    let Some(target) = refs.direct_target(name).map_err(repo_err)? else {
                        // A symbolic ref is not taken: it would move with
                        // the ref it points at.
                        let why = match refs.symbolic_target(name) {
                            Ok(Some(to)) => format!("a symbolic ref (to {to}), which moves whenever that ref is pushed; make it a plain ref"),
                            _ => "no such ref".to_owned(),
                        };
                        return Err(missing(point, why));
                    };
                    (Some(name.clone()), target)
                }
            };
            let old = self.repo.objects().is_ok_and(|o| o.exists(oid))
                && (!self.ctx.quarantined || self.commits.walker.known_old(oid));
            if !old {
                return Err(missing(
                    point,
                    format!("object {oid} is not in the repository (a baseline names history the repository already has)"),
                ));
            }
            let commit = self
                .repo
                .peel_to_commit(oid)
                .map_err(|e| missing(point, e.to_string()))?
                .ok_or_else(|| missing(point, format!("{oid} is no commit, nor a tag of one")))?;
            out.push(BaselineUsed { refname, commit });
        }
        Ok(out)
    }

    /// Refuses an update that would move a baseline ref under any of the
    /// names it is judged under (a symbolic ref pointing at it, another
    /// case on a case-insensitive file system).
    pub(super) fn check_guarded(&self, pushed: &str, names: &[String]) -> Result<(), JudgeError> {
        let baseline = &self.policy.settings.baseline;
        match names.iter().find_map(|n| baseline.guarded_ref(n)) {
            Some(guarded) => Err(JudgeError::BaselineRefPushed {
                refname: pushed.to_owned(),
                baseline: guarded.to_owned(),
            }),
            None => Ok(()),
        }
    }
}
