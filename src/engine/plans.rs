//! The plans that judge a rule's commits for one ref update. Each asks
//! [`rules::evaluate`] (and, to decide which diffs to compute early,
//! [`rules::wants_diff`]) and gives it what it asks for; none restates what
//! a rule selects or requires.
//!
//! - As read: a rule that needs neither diffs nor signatures, when nothing
//!   else will ask for the commits' facts, judges each commit as the walk
//!   reads it and keeps only the verdicts of failing commits (a push of a
//!   million commits then holds none of them).
//! - Walked: the commits are walked first (their bytes kept, their diffs
//!   computed ahead on other threads), then judged one by one.
//! - Net change (`per = "push"`): whether the rule holds for the update
//!   (any commit it selects), then its limits on the diff from the old tip
//!   to the new one.

use crate::facts::{self, CommitFacts};
use crate::git::diff;
use crate::git::object;
use crate::git::oid::ObjectId;
use crate::git::walk::{IdList, OidMap, OidSet, WalkError, Walked};
use crate::policy::Per;
use crate::rules::{self, Evidence, Input, Known, Outcome, Policy, Rule, Selects, Subject};
use crate::verdict::{AiMark, CommitRef, Finding, Violation};

use super::parallel::{self, Ahead, Links};
use super::stores::{self, with_object};
use super::update::Flow;
use super::{Engine, JudgeError};

/// Whether a rule diffs the commits it judges one by one (so that their
/// diffs are worth computing while the walk reads them).
pub(super) fn diffs_commits(rule: &Rule) -> bool {
    rules::judges_commits(rule) && rule.per == Per::Commit && rules::needs(rule).diff.is_some()
}

/// What [`Ahead`] needs of a commit: its tree and first parent, and whether
/// one of `rules` (those that diff commits one by one) will ask for its
/// diff. Facts are computed only when some rule's conditions read them:
/// this runs for every commit of a large push.
pub(super) fn classify(
    policy: &Policy,
    rules: &[&Rule],
    oid: ObjectId,
    data: &[u8],
) -> Option<Links> {
    let raw = object::parse(data, oid.kind()).ok()?;
    let merge = raw.parents.len() > 1;
    let mut facts: Option<CommitFacts> = None;
    let mut wanted = false;
    for rule in rules {
        let none = Evidence::default();
        let wants = match rules::wants_diff(rule, policy, Known::Shape { merge }, none) {
            Some(wants) => wants,
            None => {
                let c = match &facts {
                    Some(c) => c,
                    None => facts.insert(facts::of_commit(oid, data, &policy.facts()).ok()?),
                };
                rules::wants_diff(rule, policy, Known::Facts(c), none).unwrap_or(true)
            }
        };
        if wants {
            wanted = true;
            break;
        }
    }
    Some(Links {
        tree: raw.tree?,
        first_parent: raw.parents.first().copied(),
        // A merge is measured against the clean merge of its parents, in
        // one batch after the walk, never against its first parent here.
        wanted: wanted && !merge,
    })
}

/// A failing commit's verdict, kept from the walk that judged it until the
/// walk's result says the commit is really new.
pub(super) struct Verdict {
    pub(super) subject: String,
    pub(super) findings: Vec<Finding>,
    pub(super) detected: Option<AiMark>,
}

/// What judging a commit as the walk read it gave.
pub(super) enum Streamed {
    /// Boxed: a push holds one of these (or of the variants below) for
    /// every commit a rule did not pass, most of them unkept.
    Failed(Box<Verdict>),
    /// Failed past the first `verdict::KEPT_PER_RULE` failures read: only
    /// counted (judged again should the judgement still keep it), so that
    /// a rule failing on every commit of a large push keeps no verdicts.
    FailedUnkept,
    /// The rule asked for more than the commit: judged after the walk.
    Later,
}

impl Engine<'_, '_> {
    /// Walks and judges the commits `rule` judges for one update.
    pub(super) fn judge_commits(
        &mut self,
        rule: &Rule,
        refname: &str,
        new: ObjectId,
        old: Option<ObjectId>,
        ahead: &mut Ahead<'_, '_>,
    ) -> Result<Flow, JudgeError> {
        let needs = rules::needs(rule);
        let as_read =
            self.once && rule.per == Per::Commit && needs.diff.is_none() && !needs.signature;
        let limit = self.policy.settings.max_commits;
        let remember = !self.once;
        let (walked, streamed) = if as_read {
            let policy = self.policy;
            let pushed = &self.pushed;
            let config = policy.facts();
            let failed = std::sync::atomic::AtomicUsize::new(0);
            let judge = |oid: ObjectId, data: &[u8]| -> Option<Result<Streamed, String>> {
                let c = match facts::of_commit(oid, data, &config) {
                    Ok(c) => c,
                    Err(reason) => return Some(Err(reason)),
                };
                let input = Input {
                    policy,
                    subject: Subject::Commit(&c),
                    diff: None,
                    signature: None,
                    merge_signers: None,
                    pushed,
                };
                match rules::evaluate(rule, &input) {
                    Outcome::Pass => None,
                    Outcome::Fail { .. }
                        if failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                            >= crate::verdict::KEPT_PER_RULE =>
                    {
                        Some(Ok(Streamed::FailedUnkept))
                    }
                    Outcome::Fail { findings, detected } => {
                        Some(Ok(Streamed::Failed(Box::new(Verdict {
                            subject: c.subject,
                            findings,
                            detected,
                        }))))
                    }
                    Outcome::Needs(_) => Some(Ok(Streamed::Later)),
                }
            };
            let (repo, ctx, commits) = (self.repo, self.ctx, &mut self.commits);
            let (walked, judged) = parallel::judge_while_reading(
                |sink| commits.for_rule(repo, ctx, rule, refname, new, old, limit, remember, sink),
                judge,
            );
            let judged: Option<OidMap<_>> = judged.map(|j| j.into_iter().collect());
            (walked, judged)
        } else {
            let (repo, ctx, commits) = (self.repo, self.ctx, &mut self.commits);
            let raw = &mut self.facts.raw;
            // A per-push rule reads its commits' facts only to know whether
            // it holds (at most until one commit says it does): not worth
            // keeping every commit for.
            let per_push = rule.per == Per::Push;
            let mut keep = |oid, data: &[u8]| {
                if !per_push {
                    raw.insert(oid, data);
                }
                ahead.offer(oid, data);
            };
            let walked = commits.for_rule(
                repo, ctx, rule, refname, new, old, limit, remember, &mut keep,
            );
            (walked, None)
        };
        let Walked {
            commits,
            not_handed,
        } = match walked {
            Ok(walked) => walked,
            Err(JudgeError::Walk {
                source: WalkError::TooMany { limit },
                ..
            }) => {
                self.out.add(Violation::too_many_commits(refname, limit));
                return Ok(Flow::Stop);
            }
            Err(e) => return Err(e),
        };
        if self.once {
            self.counted = Some(commits.len());
        } else {
            self.checked.extend(commits.iter());
            self.ref_commits.extend(commits.iter());
        }
        if rule.per == Per::Push {
            self.net_change(rule, refname, new, old, &commits)?;
            return Ok(Flow::Continue);
        }
        if let Some(mut streamed) = streamed {
            let not_handed: OidSet = not_handed.iter().collect();
            for oid in commits.iter() {
                if not_handed.contains(&oid) {
                    self.judge_one(rule, refname, oid)?;
                    continue;
                }
                match streamed.remove(&oid) {
                    None => {}
                    Some(Ok(Streamed::Failed(v))) => self.record_ref(
                        rule,
                        refname,
                        Some(CommitRef {
                            oid,
                            subject: v.subject,
                            tip: false,
                        }),
                        v.findings,
                        v.detected,
                    ),
                    Some(Ok(Streamed::Later)) => self.judge_one(rule, refname, oid)?,
                    // Judged again only when the judgement still keeps it.
                    Some(Ok(Streamed::FailedUnkept))
                        if !self.out.count_unkept(&rule.name, refname) =>
                    {
                        self.judge_one(rule, refname, oid)?
                    }
                    Some(Ok(Streamed::FailedUnkept)) => {}
                    Some(Err(reason)) => {
                        return Err(JudgeError::BadCommit {
                            refname: refname.to_owned(),
                            oid,
                            reason,
                        })
                    }
                }
            }
            return Ok(Flow::Continue);
        }
        if needs.merge_signers {
            self.cover_merges(refname, &commits)?;
        }
        self.prefetch_diffs(rule, refname, &commits, commits.len(), ahead)?;
        for oid in commits.iter() {
            self.check_deadline(refname)?;
            self.judge_one(rule, refname, oid)?;
        }
        Ok(Flow::Continue)
    }

    /// Judges one commit under one rule, computing what the rule asks for,
    /// and records a violation.
    pub(super) fn judge_one(
        &mut self,
        rule: &Rule,
        refname: &str,
        oid: ObjectId,
    ) -> Result<(), JudgeError> {
        let policy = self.policy;
        let facts = self.facts.get(self.repo, &policy.facts(), refname, oid)?;
        let (mut diff, mut sig, mut signers) = (None, None, false);
        // Each round computes at least one thing the rule asked for; there
        // are three.
        for _ in 0..4 {
            let outcome = rules::evaluate(
                rule,
                &Input {
                    policy,
                    subject: Subject::Commit(&facts),
                    diff: diff.as_deref(),
                    signature: sig.as_deref(),
                    merge_signers: signers.then(|| self.sigs.merge_signers(oid)),
                    pushed: &self.pushed,
                },
            );
            let needs = match outcome {
                Outcome::Pass => return Ok(()),
                Outcome::Fail { findings, detected } => {
                    self.record(rule, refname, Some(&facts), findings, detected);
                    return Ok(());
                }
                Outcome::Needs(needs) => needs,
            };
            let mut progress = false;
            if needs.diff.is_some() && diff.is_none() {
                diff = Some(self.diffs.get(self.repo, refname, oid, &facts.parent_ids)?);
                progress = true;
            }
            if needs.signature && sig.is_none() {
                sig = Some(self.sigs.get(self.repo, &policy.keys, refname, oid)?);
                progress = true;
            }
            if needs.merge_signers && !signers {
                signers = true;
                progress = true;
            }
            if !progress {
                break;
            }
        }
        Err(JudgeError::Unjudgeable {
            refname: refname.to_owned(),
            rule: rule.name.clone(),
            oid,
        })
    }

    /// Computes, on several threads, the diffs `judge_one` is about to ask
    /// for one by one (those [`rules::wants_diff`] says the rule wants), so
    /// that exactly the same diffs are computed as without it. `among`: how
    /// many commits the walk read, of which `commits` are some; the diffs
    /// of a few commits far apart keep a small delta base cache.
    pub(super) fn prefetch_diffs(
        &mut self,
        rule: &Rule,
        refname: &str,
        commits: &IdList,
        among: usize,
        ahead: &mut Ahead<'_, '_>,
    ) -> Result<(), JudgeError> {
        if rules::needs(rule).diff.is_none() {
            return Ok(());
        }
        let policy = self.policy;
        let mut wanted = Vec::new();
        let mut merges = Vec::new();
        for oid in commits.iter() {
            if self.diffs.has(oid) {
                continue;
            }
            let c = self.facts.get(self.repo, &policy.facts(), refname, oid)?;
            let evidence = Evidence {
                pushed: Some(&self.pushed),
                signature: None,
            };
            if rules::wants_diff(rule, policy, Known::Facts(&c), evidence) == Some(true) {
                if c.is_merge() {
                    merges.push(stores::merge_of(self.repo, refname, oid)?);
                    continue;
                }
                // Tree ids from the bytes the walk kept, where it kept both
                // the commit and its first parent.
                let tree_and_parent = |oid: ObjectId| {
                    let raw = object::parse(self.facts.raw.get(oid)?, oid.kind()).ok()?;
                    Some((raw.tree?, raw.parents.first().copied()))
                };
                let known = tree_and_parent(oid).and_then(|(tree, parent)| match parent {
                    None => Some((None, tree)),
                    Some(p) => tree_and_parent(p).map(|(old, _)| (Some(old), tree)),
                });
                wanted.push((oid, known));
            }
        }
        // What the threads of `ahead` diffed while the walk was reading.
        self.diffs.offer(ahead.take());
        wanted.retain(|&(oid, _)| !self.diffs.take_ready(oid));
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let opts = self.diffs.options();
        let computed = parallel::commit_diffs(
            &self.repo.reopener(),
            &wanted,
            self.diffs.lines,
            &opts,
            threads,
            wanted.len().saturating_mul(parallel::SPARSE) < among.max(commits.len()),
        );
        for (oid, stats) in computed {
            self.diffs.add(oid, stats);
        }
        // Every merge the rule measures, in one `git merge-tree` batch.
        self.diffs.merges(self.repo, refname, &merges)?;
        Ok(())
    }

    /// Records, for every commit that a validly signed merge of this push
    /// brings in (reachable from its other parents, not from its first), who
    /// signed that merge.
    pub(super) fn cover_merges(
        &mut self,
        refname: &str,
        commits: &IdList,
    ) -> Result<(), JudgeError> {
        for oid in commits.iter() {
            self.cover_merge(refname, oid)?;
        }
        Ok(())
    }

    /// [`Engine::cover_merges`] for one commit, read from the repository.
    pub(super) fn cover_merge(&mut self, refname: &str, oid: ObjectId) -> Result<(), JudgeError> {
        if self.sigs.merges_seen.contains(&oid) {
            return Ok(());
        }
        let policy = self.policy;
        self.check_deadline(refname)?;
        let facts = self.facts.get(self.repo, &policy.facts(), refname, oid)?;
        if !facts.is_merge() {
            return Ok(());
        }
        let parents = facts.parent_ids.clone();
        let signer = self
            .sigs
            .get(self.repo, &policy.keys, refname, oid)?
            .signer();
        self.cover_signed_merge(refname, oid, signer, &parents)
    }

    /// Records `signer` (who validly signed the merge `oid`, if anyone did)
    /// for every commit the merge brings in: reachable from its other
    /// parents, not from its first. The one place a merge's signer is
    /// handed to the commits, whether the merge was read here or by a
    /// judging thread.
    pub(super) fn cover_signed_merge(
        &mut self,
        refname: &str,
        oid: ObjectId,
        signer: Option<usize>,
        parents: &[ObjectId],
    ) -> Result<(), JudgeError> {
        if !self.sigs.merges_seen.insert(oid) {
            return Ok(());
        }
        let [first, others @ ..] = parents else {
            return Ok(());
        };
        let Some(signer) = signer.filter(|_| !others.is_empty()) else {
            return Ok(());
        };
        // A walk per signed merge: within the budget too.
        self.check_deadline(refname)?;
        let brought = self
            .commits
            .walker
            .walk(others, &[*first], self.policy.settings.max_commits)
            .map_err(|source| JudgeError::Walk {
                refname: refname.to_owned(),
                source,
            })?;
        for c in brought {
            self.sigs.add_merge_signer(c, signer);
        }
        Ok(())
    }

    /// `per = "push"`: the rule holds for the update when it selects any
    /// commit the update brings (or always, without commit conditions), and
    /// its limits apply to the net change of the update.
    fn net_change(
        &mut self,
        rule: &Rule,
        refname: &str,
        new: ObjectId,
        old: Option<ObjectId>,
        commits: &IdList,
    ) -> Result<(), JudgeError> {
        let policy = self.policy;
        let mut holds = !rules::when::on_commits(rule);
        let mut merges_batched = false;
        for oid in commits.iter() {
            if holds {
                break;
            }
            self.check_deadline(refname)?;
            let facts = self.facts.get(self.repo, &policy.facts(), refname, oid)?;
            let (mut diff, mut sig) = (None, None);
            holds = loop {
                let evidence = Evidence {
                    pushed: Some(&self.pushed),
                    signature: sig.as_deref(),
                };
                match rules::selects(
                    rule,
                    policy,
                    Known::Facts(&facts),
                    diff.as_deref(),
                    evidence,
                ) {
                    Selects::Yes => break true,
                    Selects::No => break false,
                    Selects::NeedsDiff(_) if diff.is_none() => {
                        if facts.is_merge() && !merges_batched && !self.diffs.has(oid) {
                            // The first merge that needs measuring: every
                            // merge of the update in one `git merge-tree`.
                            merges_batched = true;
                            self.measure_merges(refname, commits)?;
                        }
                        diff = Some(self.diffs.get(self.repo, refname, oid, &facts.parent_ids)?);
                    }
                    Selects::NeedsProof if sig.is_none() => {
                        sig = Some(self.sigs.get(self.repo, &policy.keys, refname, oid)?);
                    }
                    // None can be asked for twice: judging more is the
                    // safe side.
                    Selects::NeedsDiff(_) | Selects::NeedsFacts | Selects::NeedsProof => {
                        break true
                    }
                }
            };
        }
        if !holds {
            return Ok(());
        }
        let base = match old {
            Some(old) => Some(old),
            None => self.fork_point(new, commits),
        };
        let tree_of = |oid: ObjectId| -> Result<ObjectId, JudgeError> {
            self.raw_commit(refname, oid)?
                .0
                .ok_or_else(|| JudgeError::BadCommit {
                    refname: refname.to_owned(),
                    oid,
                    reason: "it has no readable tree line".into(),
                })
        };
        let new_tree = tree_of(new)?;
        let old_tree = base.map(tree_of).transpose()?;
        let opts = self.diffs.options();
        let lines = rules::needs(rule).diff == Some(rules::DiffNeed::Lines);
        let stats = diff::tree_diff(self.repo, old_tree, new_tree, lines, &opts)
            .map_err(|source| self.diffs.error(refname, source))?;
        self.diffs.computed += 1;
        let outcome = rules::evaluate(
            rule,
            &Input {
                policy,
                subject: Subject::NetChange { base, new },
                diff: Some(&stats),
                signature: None,
                merge_signers: None,
                pushed: &self.pushed,
            },
        );
        match outcome {
            Outcome::Pass => Ok(()),
            Outcome::Fail { findings, detected } => {
                self.record(rule, refname, None, findings, detected);
                Ok(())
            }
            Outcome::Needs(_) => Err(JudgeError::Unjudgeable {
                refname: refname.to_owned(),
                rule: rule.name.clone(),
                oid: new,
            }),
        }
    }

    /// Measures every merge among `commits` not measured yet, in one batch.
    fn measure_merges(&mut self, refname: &str, commits: &IdList) -> Result<(), JudgeError> {
        let policy = self.policy;
        let mut merges = Vec::new();
        for oid in commits.iter() {
            if self.diffs.has(oid) {
                continue;
            }
            if self
                .facts
                .get(self.repo, &policy.facts(), refname, oid)?
                .is_merge()
            {
                merges.push(stores::merge_of(self.repo, refname, oid)?);
            }
        }
        self.diffs.merges(self.repo, refname, &merges)
    }

    /// Where a newly created ref forked off the history a rule already
    /// covers: the first commit on the new tip's first-parent line that the
    /// push does not bring in. `None` when the whole history is new.
    fn fork_point(&mut self, new: ObjectId, commits: &IdList) -> Option<ObjectId> {
        let brought: OidSet = commits.iter().collect();
        let mut current = new;
        // Bounded by the number of commits brought in, plus one step out.
        for _ in 0..=commits.len() {
            if !brought.contains(&current) {
                return Some(current);
            }
            // The walk that brought the commits kept their parents: the
            // first-parent line of a large new branch is not read again.
            current = match self.commits.walker.first_parent_read(current) {
                Some(parent) => parent?,
                None => *self.raw_commit("", current).ok()?.1.first()?,
            };
        }
        None
    }

    /// A commit's tree and parents, from the raw object (no grafts, and no
    /// libgit2 commit parser that could refuse what git accepts).
    fn raw_commit(
        &self,
        refname: &str,
        oid: ObjectId,
    ) -> Result<(Option<ObjectId>, Vec<ObjectId>), JudgeError> {
        with_object(self.repo, refname, oid, |data| {
            let parsed =
                object::parse(data, oid.kind()).map_err(|reason| JudgeError::BadCommit {
                    refname: refname.to_owned(),
                    oid,
                    reason,
                })?;
            Ok((parsed.tree, parsed.parents))
        })
    }
}
