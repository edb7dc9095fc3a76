//! Several rules judged as one walk reads the commits (issue 15): a policy
//! of many rules (the example policy has nine) reads each new commit once,
//! computes its facts once, and asks every rule [`rules::evaluate`] about it
//! there and then. Only what a rule fails on, or asks more of (a diff, a
//! signature), is kept: not every raw commit and every commit's facts, as
//! the walked plan keeps them. A rule that asks for more of a commit is
//! judged after the walk by [`Engine::judge_one`], the one path every plan
//! ends on, and the verdicts are recorded rule by rule in policy order, as
//! the other plans record them.
//!
//! Rules that diff every commit they judge (a `touches` condition alone)
//! are left to the walked plan, which keeps the bytes for the diffs it
//! computes on other threads; so are rules that walk other commits than
//! the first (they hide other existing refs).

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::facts;
use crate::git::oid::ObjectId;
use crate::git::walk::{IdList, OidMap, OidSet, WalkError, Walked};
use crate::policy::Per;
use crate::rules::{self, Applies, Evidence, Input, Known, Outcome, Rule, Subject};
use crate::verdict::{CommitRef, Violation, KEPT_PER_RULE};

use super::parallel::{self, Ahead};
use super::plans::{diffs_commits, Streamed, Verdict};
use super::{Engine, JudgeError};

/// What one walk judged for several rules.
pub(super) struct Together {
    /// Indices (into the update's rules) of the rules judged.
    pub(super) rules: Vec<usize>,
    /// Per rule judged, in the walk's order: each commit it did not pass,
    /// and each commit the walk did not hand to the judging thread.
    work: Vec<(usize, Vec<(ObjectId, Work)>)>,
    /// What a rule that needs the signers of merges looks at, in the walk's
    /// order: each merge the judging thread found validly signed, with its
    /// signer and parents (an unsigned merge covers nothing), and each
    /// commit the walk did not hand over (`None`: read again).
    merges: Vec<(ObjectId, Option<SignedMerge>)>,
    /// Commits each rule asked more of, for diffs computed ahead.
    later: Vec<(usize, IdList)>,
    /// How many commits the walk read.
    walked: usize,
}

/// A merge validly signed: by whom (a person's index), and its parents.
type SignedMerge = (usize, Vec<ObjectId>);

/// What the judging thread gave for one commit.
#[derive(Default)]
struct Judged {
    signed_merge: Option<SignedMerge>,
    /// Each rule that did not pass the commit, by index.
    list: Vec<(usize, Streamed)>,
}

/// What is left to do for one rule and one commit after the walk.
enum Work {
    /// The walk did not hand the commit over: judged from scratch.
    NotHanded,
    /// What the judging thread gave.
    Got(Streamed),
}

/// What [`Engine::read_together`] did.
pub(super) enum Joint {
    /// Fewer than two rules can be judged together: each its own way.
    No,
    /// The update brings more commits than `settings.max_commits`.
    Stop,
    Read(Together),
}

/// Whether `rule` is judged together with others: a per-commit rule that
/// does not diff every commit it judges.
fn joins(rule: &Rule, policy: &rules::Policy) -> bool {
    if !rules::judges_commits(rule) || rule.per != Per::Commit {
        return false;
    }
    if !diffs_commits(rule) {
        return true;
    }
    let none = Evidence::default();
    rules::wants_diff(rule, policy, Known::Shape { merge: false }, none) != Some(true)
}

impl Engine<'_, '_> {
    /// Walks the update's commits once for every rule from `first` on that
    /// [`joins`], judging each commit as it is read.
    pub(super) fn read_together(
        &mut self,
        applying: &[(&Rule, Applies)],
        first: usize,
        refname: &str,
        new: ObjectId,
        old: Option<ObjectId>,
    ) -> Result<Joint, JudgeError> {
        let policy = self.policy;
        let mut members: Vec<usize> = (first..applying.len())
            .filter(|&i| {
                applying
                    .get(i)
                    .is_some_and(|(r, a)| *a == Applies::Yes && joins(r, policy))
            })
            .collect();
        if self.once || members.len() < 2 {
            return Ok(Joint::No);
        }
        let rule_at = |i: usize| applying.get(i).map(|(r, _)| *r);
        let Some(lead) = members.first().and_then(|&i| rule_at(i)) else {
            return Ok(Joint::No);
        };
        let judged: Vec<(usize, &Rule)> = members
            .iter()
            .filter_map(|&i| rule_at(i).map(|r| (i, r)))
            .collect();
        let pushed = &self.pushed;
        let config = policy.facts();
        let failed: Vec<AtomicUsize> = judged.iter().map(|_| AtomicUsize::new(0)).collect();
        // Only when some rule asks who signed the merges: verifying costs
        // a signature check per signed merge.
        let signers = judged.iter().any(|(_, r)| rules::needs(r).merge_signers);
        let judge = |oid: ObjectId, data: &[u8]| -> Option<Result<Judged, String>> {
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
            let mut out = Judged::default();
            if signers && c.is_merge() {
                // The same check `SigStore::get` makes, on the same bytes.
                if let Some(signer) = policy.keys.verify_commit(data, oid.kind()).signer() {
                    out.signed_merge = Some((signer, c.parent_ids.clone()));
                }
            }
            for (k, (i, rule)) in judged.iter().enumerate() {
                let got = match rules::evaluate(rule, &input) {
                    Outcome::Pass => continue,
                    Outcome::Fail { .. }
                        if failed.get(k).is_some_and(|n| {
                            n.fetch_add(1, Ordering::Relaxed) >= KEPT_PER_RULE
                        }) =>
                    {
                        Streamed::FailedUnkept
                    }
                    Outcome::Fail { findings, detected } => Streamed::Failed(Box::new(Verdict {
                        subject: c.subject.clone(),
                        findings,
                        detected,
                    })),
                    Outcome::Needs(_) => Streamed::Later,
                };
                out.list.push((*i, got));
            }
            (out.signed_merge.is_some() || !out.list.is_empty()).then_some(Ok(out))
        };
        let limit = policy.settings.max_commits;
        let (repo, ctx, commits) = (self.repo, self.ctx, &mut self.commits);
        // Nothing is offered to `ahead`: its threads would compute every
        // commit's facts a second time to learn which diffs some rule
        // wants, where the judging thread already learns it (`Later`) for
        // the few commits that need one; those are diffed on several
        // threads after the walk (`prefetch_diffs`).
        let (walked, streamed) = parallel::judge_while_reading(
            |sink| commits.for_rule(repo, ctx, lead, refname, new, old, limit, true, sink),
            judge,
        );
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
                return Ok(Joint::Stop);
            }
            Err(e) => return Err(e),
        };
        // The judging thread failed: every rule its own way.
        let Some(streamed) = streamed else {
            return Ok(Joint::No);
        };
        // The walk hid the existing refs the lead rule covers: a rule that
        // covers other ones judges other commits, its own way.
        if let Some(existing) = self.commits.hid_existing() {
            members.retain(|&i| {
                rule_at(i).is_some_and(|r| {
                    existing
                        .iter()
                        .all(|e| r.applies_to(&e.name) == lead.applies_to(&e.name))
                })
            });
        }
        let mut by_commit: OidMap<Judged> = OidMap::default();
        for (oid, got) in streamed {
            match got {
                Ok(list) => {
                    by_commit.insert(oid, list);
                }
                Err(reason) => {
                    return Err(JudgeError::BadCommit {
                        refname: refname.to_owned(),
                        oid,
                        reason,
                    })
                }
            }
        }
        // One pass in the walk's order sorts what was streamed by rule, so
        // that recording a rule visits only its own commits (nine rules
        // each looking up every commit of a large push was a serial cost
        // after the walk).
        let not_handed: OidSet = not_handed.iter().collect();
        let mut work: Vec<(usize, Vec<(ObjectId, Work)>)> =
            members.iter().map(|&i| (i, Vec::new())).collect();
        let mut merges = Vec::new();
        let mut later: Vec<(usize, IdList)> = Vec::new();
        for oid in commits.iter() {
            if not_handed.contains(&oid) {
                merges.push((oid, None));
                for (_, list) in work.iter_mut() {
                    list.push((oid, Work::NotHanded));
                }
                continue;
            }
            let Some(judged) = by_commit.remove(&oid) else {
                continue;
            };
            if let Some(signed) = judged.signed_merge {
                merges.push((oid, Some(signed)));
            }
            for (i, s) in judged.list {
                if matches!(s, Streamed::Later) {
                    match later.iter_mut().find(|(r, _)| *r == i) {
                        Some((_, ids)) => ids.push(oid),
                        None => {
                            let mut ids = IdList::default();
                            ids.push(oid);
                            later.push((i, ids));
                        }
                    }
                }
                if let Some((_, list)) = work.iter_mut().find(|(r, _)| *r == i) {
                    list.push((oid, Work::Got(s)));
                }
            }
        }
        self.checked.extend(commits.iter());
        self.ref_commits.extend(commits.iter());
        Ok(Joint::Read(Together {
            rules: members,
            work,
            merges,
            later,
            walked: commits.len(),
        }))
    }

    /// Records what [`Engine::read_together`] found for the rule at `index`
    /// of the update's rules, judging after the walk what it asked more of.
    pub(super) fn record_together(
        &mut self,
        t: &mut Together,
        index: usize,
        rule: &Rule,
        refname: &str,
        ahead: &mut Ahead<'_, '_>,
    ) -> Result<(), JudgeError> {
        let needs = rules::needs(rule);
        if needs.merge_signers {
            for (oid, signed) in &t.merges {
                match signed {
                    Some((signer, parents)) => {
                        self.cover_signed_merge(refname, *oid, Some(*signer), parents)?
                    }
                    None => self.cover_merge(refname, *oid)?,
                }
            }
        }
        if let Some((_, ids)) = t.later.iter().find(|(i, _)| *i == index) {
            // Sparse or not by the whole walk: `ids` are only the commits
            // that asked (a ~1% of the push in the example policy, whose
            // diffs each kept a full 32 MiB delta base cache per thread).
            self.prefetch_diffs(rule, refname, ids, t.walked, ahead)?;
        }
        let Some(pos) = t.work.iter().position(|(i, _)| *i == index) else {
            return Ok(());
        };
        let (_, work) = t.work.swap_remove(pos);
        for (oid, got) in work {
            match got {
                Work::NotHanded => {
                    self.check_deadline(refname)?;
                    self.judge_one(rule, refname, oid)?;
                }
                Work::Got(Streamed::Failed(v)) => self.record_ref(
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
                Work::Got(Streamed::Later) => {
                    self.check_deadline(refname)?;
                    self.judge_one(rule, refname, oid)?
                }
                // Judged again only when the judgement still keeps it.
                Work::Got(Streamed::FailedUnkept)
                    if !self.out.count_unkept(&rule.name, refname) =>
                {
                    self.judge_one(rule, refname, oid)?
                }
                Work::Got(Streamed::FailedUnkept) => {}
            }
        }
        Ok(())
    }
}
