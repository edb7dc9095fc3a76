//! Evaluation: the validated policy applied to the ref updates of a push and
//! the commits each brings in, producing violations.
//!
//! A violation is data, not an error: `Err` from [`judge`] means trailgate
//! could not judge (a missing object, a branch pointing at a tree), which the
//! caller turns into a rejected push.

pub mod parallel;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use thiserror::Error;

use std::rc::Rc;

use crate::engine::parallel::{Ahead, Links};
use crate::facts::identity::{Pusher, Who};
use crate::facts::signature::SigStatus;
use crate::facts::{self, CommitFacts};
use crate::git::diff::{self, DiffError, DiffOptions, DiffStats};
use crate::git::oid::ObjectId;
use crate::git::refs::ExistingRef;
use crate::git::repo::{Repo, RepoError};
use crate::git::walk::{OidMap, OnRead, WalkError, Walked, Walker};
use crate::policy::{DenyKind, DiffNeed, Mode, Per, Policy, Proof, Rule};
use crate::push::RefUpdate;
use crate::rules::deny::UpdateKind;
pub use crate::rules::r#override::apply_override;
use crate::rules::*;
pub use crate::verdict::OverrideUse;
use crate::verdict::{Judgement, Violation};

#[derive(Debug, Error)]
pub enum JudgeError {
    #[error("{refname}: {source}")]
    Repo {
        refname: String,
        #[source]
        source: RepoError,
    },
    #[error("{refname}: {source}")]
    Walk {
        refname: String,
        #[source]
        source: WalkError,
    },
    #[error("{refname}: a branch must point at a commit, but {oid} is a {kind}")]
    BranchNotCommit {
        refname: String,
        oid: ObjectId,
        kind: String,
    },
    #[error("{refname}: {source}")]
    Diff {
        refname: String,
        #[source]
        source: Box<DiffError>,
    },
    #[error("{refname}: commit {oid} cannot be read: {reason}")]
    BadCommit {
        refname: String,
        oid: ObjectId,
        reason: String,
    },
    #[error("judging this push takes longer than the policy's time budget (settings.time_budget_ms = {budget_ms} ms): stopped after {elapsed_ms} ms at {refname}, {commits} commits in; the push is rejected rather than let the git host kill the hook mid-way\n  help: push the history in smaller parts, or ask an administrator to raise settings.time_budget_ms")]
    OutOfTime {
        refname: String,
        budget_ms: u64,
        elapsed_ms: u128,
        commits: usize,
    },
}

/// When judging must stop (`settings.time_budget_ms`).
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    /// When the hook started, to report the time spent.
    pub started: Instant,
    pub budget_ms: u64,
}

impl Deadline {
    /// The deadline of a budget counted from `started`; `None` for 0 (no budget).
    pub fn from_budget(started: Instant, budget_ms: u64) -> Option<Deadline> {
        (budget_ms > 0).then_some(Deadline { started, budget_ms })
    }

    pub fn at(&self) -> Instant {
        self.started + std::time::Duration::from_millis(self.budget_ms)
    }

    fn out_of_time(&self, refname: &str, commits: usize) -> JudgeError {
        JudgeError::OutOfTime {
            refname: refname.to_owned(),
            budget_ms: self.budget_ms,
            elapsed_ms: self.started.elapsed().as_millis(),
            commits,
        }
    }
}

/// Which commits count as already judged for a ref update.
#[derive(Debug, Clone)]
pub enum Baseline {
    /// Hook mode (SPEC section 4): commits reachable from the ref's old value
    /// or from any existing ref that the same rule covers.
    ExistingRefs,
    /// `trailgate verify A..B`: exactly the commits the range excludes.
    Explicit(Vec<ObjectId>),
}

/// What the caller knows about the push besides the updates.
pub struct Context<'a> {
    pub pusher: Option<&'a Pusher>,
    pub baseline: Baseline,
    /// Stop and fail with [`JudgeError::OutOfTime`] past this.
    pub deadline: Option<Deadline>,
    /// The push's new objects sit in git's quarantine (`GIT_QUARANTINE_PATH`),
    /// so the repository opened without it tells new commits from old ones.
    pub quarantined: bool,
}

/// Judges every ref update of a push against every rule.
pub fn judge(
    repo: &Repo,
    policy: &Policy,
    updates: &[RefUpdate],
    ctx: &Context<'_>,
) -> Result<Judgement, JudgeError> {
    let objects = repo.objects().map_err(|source| JudgeError::Repo {
        refname: String::new(),
        source,
    })?;
    let mut engine = Engine {
        repo,
        policy,
        ctx,
        walker: Walker::new(objects)
            .with_commit_graph(repo.path().join("objects"))
            .graph_after_reads(64)
            .with_store(if ctx.quarantined {
                Repo::open(repo.path()).ok()
            } else {
                None
            }),
        ref_commits: HashSet::new(),
        facts: HashMap::new(),
        raw: crate::git::walk::RawCommits::default(),
        facts_used_once: updates.len() == 1
            && policy.rules.iter().all(|r| r.diff_need() == DiffNeed::None)
            && policy
                .rules
                .iter()
                .filter(|r| r.mode != Mode::Off && r.judges_commits())
                .count()
                == 1,
        diffs: HashMap::new(),
        ready_diffs: OidMap::default(),
        diff_need: policy
            .rules
            .iter()
            .map(Rule::diff_need)
            .max()
            .unwrap_or(DiffNeed::None),
        existing: None,
        walks: HashMap::new(),
        diffs_computed: 0,
        checked: std::collections::HashSet::new(),
        counted: None,
        sigs: HashMap::new(),
        merge_signers: HashMap::new(),
        merges_seen: std::collections::HashSet::new(),
        out: Judgement::default(),
    };
    engine.walker.deadline = ctx.deadline.map(|d| d.at());
    for update in updates {
        engine.ref_commits.clear();
        engine.check_deadline(&update.name)?;
        engine.update(update)?;
        let judged = engine.counted.unwrap_or(engine.ref_commits.len());
        engine
            .out
            .commits_per_ref
            .push((update.name.clone(), judged));
    }
    engine.out.commits_checked = engine.counted.unwrap_or(engine.checked.len());
    engine.out.diffs_computed = engine.diffs_computed;
    Ok(engine.out)
}

struct Engine<'a, 'r> {
    repo: &'r Repo,
    policy: &'a Policy,
    ctx: &'a Context<'a>,
    walker: Walker<'r>,
    facts: HashMap<ObjectId, Rc<CommitFacts>>,
    /// Commits as the walks read them, for `facts`.
    raw: crate::git::walk::RawCommits,
    /// True when one rule judges the commits of one update and no rule
    /// diffs, so that each commit's facts are asked for once and are not
    /// worth caching.
    facts_used_once: bool,
    diffs: HashMap<ObjectId, Rc<DiffStats>>,
    /// Diffs computed ahead on other threads and not yet asked for.
    ready_diffs: OidMap<DiffStats>,
    /// The most any rule needs to know about diffs; computed once per commit.
    diff_need: DiffNeed,
    /// Commits judged for the current ref update.
    ref_commits: HashSet<ObjectId>,
    existing: Option<Vec<ExistingRef>>,
    walks: HashMap<(ObjectId, Vec<ObjectId>), Vec<ObjectId>>,
    diffs_computed: usize,
    /// Every commit some rule judged.
    checked: std::collections::HashSet<ObjectId>,
    /// With `facts_used_once`, the number of commits judged, instead of
    /// `checked` and `ref_commits`.
    counted: Option<usize>,
    sigs: HashMap<ObjectId, Rc<SigStatus>>,
    /// For each commit, the people whose signed merge in this push brings it in.
    merge_signers: HashMap<ObjectId, Vec<usize>>,
    merges_seen: std::collections::HashSet<ObjectId>,
    out: Judgement,
}

impl<'a> Engine<'a, '_> {
    /// Judges one ref update, with diffs computed on other threads while the
    /// walk reads the commits when some rule needs them (see
    /// [`crate::engine::parallel::Ahead`]).
    fn update(&mut self, update: &RefUpdate) -> Result<(), JudgeError> {
        let policy = self.policy;
        let diff_rules = self.diff_rules(&update.name);
        let wants_diffs = !diff_rules.is_empty();
        let classify =
            move |oid: ObjectId, data: &[u8]| classify_for_diffs(policy, &diff_rules, oid, data);
        let git_dir = self.repo.reopener();
        let lines = self.diff_need == DiffNeed::Lines;
        let deadline = self.ctx.deadline.map(|d| d.at());
        let packs = std::sync::OnceLock::new();
        std::thread::scope(|scope| {
            let mut ahead = Ahead::new(
                wants_diffs.then_some(scope),
                &classify,
                &git_dir,
                &packs,
                lines,
                deadline,
            );
            self.update_in(update, &mut ahead)
        })
    }

    /// The rules that will diff this ref's commits one by one, as the rules
    /// loop of `update_in` decides (mode, refs, pusher).
    fn diff_rules(&self, refname: &str) -> Vec<&'a Rule> {
        let policy = self.policy;
        policy
            .rules
            .iter()
            .filter(|rule| {
                rule.mode != Mode::Off
                    && rule.applies_to(refname)
                    && rule.judges_commits()
                    && rule.per == Per::Commit
                    && (rule.when.touches.is_some() || rule.require.limits.any())
                    && !self.pusher_exempt(rule)
                    && (!rule.when.needs_pusher() || self.pusher_matches(rule) == Some(true))
            })
            .collect()
    }

    fn update_in(
        &mut self,
        update: &RefUpdate,
        ahead: &mut Ahead<'_, '_>,
    ) -> Result<(), JudgeError> {
        let refname = update.name.as_str();
        let repo_err = |source| JudgeError::Repo {
            refname: refname.to_owned(),
            source,
        };
        let new_commit = match update.new {
            None => None,
            Some(new) => {
                let commit = self.repo.peel_to_commit(new).map_err(repo_err)?;
                if commit.is_none() && refname.starts_with("refs/heads/") {
                    let kind = self.repo.kind_of(new).map_err(repo_err)?;
                    return Err(JudgeError::BranchNotCommit {
                        refname: refname.to_owned(),
                        oid: new,
                        kind,
                    });
                }
                commit
            }
        };
        let old_commit = match update.old {
            None => None,
            Some(old) => self.repo.peel_to_commit(old).map_err(repo_err)?,
        };
        let kind = match (update.old, update.new) {
            (None, _) => UpdateKind::Create,
            (_, None) => UpdateKind::Delete,
            (Some(old), Some(new)) => match (old_commit, new_commit) {
                (Some(o), Some(n))
                    if crate::git::walk::is_ancestor(
                        self.repo,
                        o,
                        n,
                        self.policy.settings.max_commits,
                    )
                    .map_err(repo_err)? =>
                {
                    UpdateKind::FastForward
                }
                _ if old == new => UpdateKind::FastForward,
                _ => UpdateKind::ForcePush,
            },
        };

        for rule in &self.policy.rules {
            if rule.mode == Mode::Off || !rule.applies_to(refname) {
                continue;
            }
            if self.pusher_exempt(rule) {
                continue;
            }
            if rule.when.needs_pusher() {
                match self.pusher_matches(rule) {
                    Some(true) => {}
                    Some(false) => continue,
                    None => {
                        self.push_violation(
                            rule,
                            refname,
                            None,
                            no_pusher_what(),
                            no_pusher_help(),
                        );
                        continue;
                    }
                }
            }
            if let Some(denied) = kind.denied_by(&rule.deny) {
                let what = match denied {
                    DenyKind::Create => format!("creating {refname} is not allowed"),
                    DenyKind::Update => format!("moving {refname} is not allowed"),
                    DenyKind::ForcePush => format!(
                        "{refname} cannot be force-pushed (the update is not a fast-forward)"
                    ),
                    DenyKind::Delete => format!("deleting {refname} is not allowed"),
                };
                let help = match denied {
                    DenyKind::ForcePush => {
                        "fetch, rebase or merge onto the current tip, and push without --force"
                            .to_owned()
                    }
                    DenyKind::Create => {
                        "push to a ref name the rule does not cover, or ask an administrator"
                            .to_owned()
                    }
                    _ => "leave this ref as it is; ask an administrator if it really must change"
                        .to_owned(),
                };
                self.push_violation(rule, refname, None, what, help);
            }
            if !rule.judges_commits() {
                continue;
            }
            let Some(new) = new_commit else { continue };
            // Judged while the walk reads them (see `judges_as_read`): only
            // the verdicts of failing commits are kept, not the commits.
            let as_read = self.judges_as_read(rule);
            let (walked, verdicts) = if as_read {
                let policy = self.policy;
                let pusher = self.pusher_who();
                let shown = self.pusher_shown();
                let judge = |oid: ObjectId, data: &[u8]| -> Option<Result<Verdict, String>> {
                    let c = match facts::of_commit(oid, data, policy) {
                        Ok(c) => c,
                        Err(reason) => return Some(Err(reason)),
                    };
                    let evidence = Evidence {
                        sig: None,
                        merge_signers: &[],
                        pusher: pusher.as_ref().map(|w| (w, shown.as_str())),
                    };
                    let (what, help) = judge_without_diff(policy, rule, &c, &evidence)?;
                    Some(Ok(Verdict {
                        subject: c.subject,
                        what,
                        help,
                    }))
                };
                let (walked, judged) = crate::engine::parallel::judge_while_reading(
                    |sink| self.commits_for(rule, refname, new, old_commit, Some(sink), ahead),
                    judge,
                );
                let verdicts: Option<OidMap<_>> = judged.map(|j| j.into_iter().collect());
                (walked, verdicts)
            } else {
                (
                    self.commits_for(rule, refname, new, old_commit, None, ahead),
                    None,
                )
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
                    self.out.violations.push(Violation {
                        rule: "max-commits".into(),
                        refname: refname.to_owned(),
                        commit: None,
                        subject: None,
                        mode: Mode::Enforce,
                        what: format!("the push brings more than {limit} new commits, more than the policy lets trailgate judge"),
                        message: None,
                        help: "push the history in smaller parts, or ask an administrator to raise settings.max_commits".into(),
                    });
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            if self.facts_used_once {
                // The only rule that judges commits, on the only update: the
                // sets would hold exactly these (a million ids on a large
                // push), so only their number is kept.
                self.counted = Some(commits.len());
            } else {
                self.checked.extend(commits.iter().copied());
                self.ref_commits.extend(commits.iter().copied());
            }
            if rule.per == Per::Push {
                self.judge_net_change(rule, refname, new, old_commit, &commits)?;
                continue;
            }
            if let Some(mut verdicts) = verdicts {
                let not_handed: HashSet<ObjectId> = not_handed.into_iter().collect();
                for oid in commits {
                    if not_handed.contains(&oid) {
                        self.judge_one(rule, refname, oid)?;
                        continue;
                    }
                    match verdicts.remove(&oid) {
                        None => {}
                        Some(Ok(v)) => {
                            self.record(rule, refname, Some((oid, v.subject)), v.what, v.help)
                        }
                        Some(Err(reason)) => {
                            return Err(JudgeError::BadCommit {
                                refname: refname.to_owned(),
                                oid,
                                reason,
                            })
                        }
                    }
                }
                continue;
            }
            if rule
                .require
                .approvals
                .as_ref()
                .is_some_and(|a| a.proof == Proof::Signature)
            {
                self.cover_merges(refname, &commits)?;
            }
            self.prefetch_diffs(rule, refname, &commits, ahead)?;
            for oid in commits {
                self.check_deadline(refname)?;
                self.judge_one(rule, refname, oid)?;
            }
        }
        Ok(())
    }

    /// Whether a rule's commits are judged as the walk reads them, keeping
    /// nothing of a passing commit: when its verdict needs nothing but the
    /// commit itself (no diff, no signature) and nothing else will ask for
    /// the commit's facts. On a push of a million commits this is the
    /// difference between holding every commit in memory and holding none.
    fn judges_as_read(&self, rule: &Rule) -> bool {
        self.facts_used_once
            && rule.per == Per::Commit
            && rule.diff_need() == DiffNeed::None
            && !rule.require.signed
            && rule
                .require
                .approvals
                .as_ref()
                .is_none_or(|a| a.proof != Proof::Signature)
    }

    /// Judges one commit under one rule and records a violation.
    fn judge_one(&mut self, rule: &Rule, refname: &str, oid: ObjectId) -> Result<(), JudgeError> {
        let facts = self.facts(refname, oid)?;
        if let Some((what, help)) = self.judge_commit(rule, refname, &facts)? {
            self.push_violation(rule, refname, Some(&facts), what, help);
        }
        Ok(())
    }

    /// Applies one rule to one commit: `None` when it passes or does not apply.
    fn judge_commit(
        &mut self,
        rule: &Rule,
        refname: &str,
        c: &CommitFacts,
    ) -> Result<Option<(String, String)>, JudgeError> {
        let policy = self.policy;
        if policy.directory.in_any(&c.author_who, &rule.exempt_authors)
            || !when_holds(policy, rule, c)
        {
            return Ok(None);
        }
        let sees_diff = !c.is_merge() || sees_merge_diff(rule);
        if let Some(touches) = &rule.when.touches {
            if !sees_diff {
                return Ok(None);
            }
            let stats = self.diff(refname, c.oid)?;
            if !stats.paths().any(|p| touches.matches_path(p)) {
                return Ok(None);
            }
        }
        let mut problems: Vec<String> = Vec::new();
        let mut helps: Vec<String> = Vec::new();
        let proof = rule.require.approvals.as_ref().map(|a| a.proof);
        let sig = if rule.require.signed || proof == Some(Proof::Signature) {
            Some(self.sig(refname, c.oid)?)
        } else {
            None
        };
        let pusher = self.pusher_who();
        let pusher_shown = self.pusher_shown();
        let no_signers = Vec::new();
        let evidence = Evidence {
            sig: sig.as_deref(),
            merge_signers: self.merge_signers.get(&c.oid).unwrap_or(&no_signers),
            pusher: pusher.as_ref().map(|w| (w, pusher_shown.as_str())),
        };
        if let Some((what, help)) = check_commit(policy, rule, c, &evidence) {
            problems.push(what);
            helps.push(help);
        }
        if rule.require.limits.any() && sees_diff {
            let stats = self.diff(refname, c.oid)?;
            let over = over_limits(&rule.require.limits, &stats, &limit_scope(rule, "commits"));
            if !over.is_empty() {
                problems.extend(over);
                helps.push(split_help(rule));
            }
        }
        if problems.is_empty() {
            return Ok(None);
        }
        say_what_was_detected(rule, c, &mut problems);
        Ok(Some((problems.join("; "), helps.join("\n"))))
    }

    /// `per = "push"`: the rule's conditions hold when any commit holds them,
    /// and its limits apply to the net change of the ref update.
    fn judge_net_change(
        &mut self,
        rule: &Rule,
        refname: &str,
        new: ObjectId,
        old: Option<ObjectId>,
        commits: &[ObjectId],
    ) -> Result<(), JudgeError> {
        let w = &rule.when;
        let unconditional = w.ai_assisted.is_none()
            && w.ai_declared.is_none()
            && w.ai_detected.is_none()
            && w.author_in.is_empty()
            && w.author_not_in.is_empty()
            && w.message.is_none()
            && w.merge.is_none()
            && w.touches.is_none();
        let mut holds = unconditional;
        for &oid in commits {
            if holds {
                break;
            }
            let facts = self.facts(refname, oid)?;
            if self
                .policy
                .directory
                .in_any(&facts.author_who, &rule.exempt_authors)
                || !when_holds(self.policy, rule, &facts)
            {
                continue;
            }
            holds = match &w.touches {
                None => true,
                Some(touches) => {
                    (!facts.is_merge() || sees_merge_diff(rule))
                        && self
                            .diff(refname, oid)?
                            .paths()
                            .any(|p| touches.matches_path(p))
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
        let opts = DiffOptions { renames: true };
        let stats = if rule.require.limits.needs_lines() {
            diff::tree_stats(self.repo, old_tree, new_tree, &opts)
        } else {
            diff::tree_paths(self.repo, old_tree, new_tree, &opts)
        }
        .map_err(|source| JudgeError::Diff {
            refname: refname.to_owned(),
            source: Box::new(source),
        })?;
        self.diffs_computed += 1;
        let over = over_limits(&rule.require.limits, &stats, &limit_scope(rule, "pushes"));
        if !over.is_empty() {
            let from = match base {
                Some(b) => format!("from {} to {}", short(b), short(new)),
                None => format!("from the empty tree to {}", short(new)),
            };
            let what = format!("the push's net change ({from}) {}", over.join("; "));
            let help = split_help(rule);
            self.push_violation(rule, refname, None, what, help);
        }
        Ok(())
    }

    /// Where a newly created ref forked off the history a rule already
    /// covers: the first commit on the new tip's first-parent line that the
    /// push does not bring in. `None` when the whole history is new.
    fn fork_point(&mut self, new: ObjectId, commits: &[ObjectId]) -> Option<ObjectId> {
        let brought: std::collections::HashSet<ObjectId> = commits.iter().copied().collect();
        let mut current = new;
        // Bounded by the number of commits brought in, plus one step out.
        for _ in 0..=commits.len() {
            if !brought.contains(&current) {
                return Some(current);
            }
            current = *self.raw_commit("", current).ok()?.1.first()?;
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
        let read_err = |source| JudgeError::Repo {
            refname: refname.to_owned(),
            source,
        };
        let objects = self.repo.objects().map_err(read_err)?;
        let object = objects.read(oid).map_err(read_err)?;
        let parsed =
            crate::git::object::parse(object.data()).map_err(|reason| JudgeError::BadCommit {
                refname: refname.to_owned(),
                oid,
                reason,
            })?;
        Ok((parsed.tree, parsed.parents))
    }

    /// A commit's signature, verified once.
    fn sig(&mut self, refname: &str, oid: ObjectId) -> Result<Rc<SigStatus>, JudgeError> {
        if let Some(sig) = self.sigs.get(&oid) {
            return Ok(Rc::clone(sig));
        }
        let read_err = |source| JudgeError::Repo {
            refname: refname.to_owned(),
            source,
        };
        let objects = self.repo.objects().map_err(read_err)?;
        let object = objects.read(oid).map_err(read_err)?;
        let sig = Rc::new(self.policy.keys.verify_commit(object.data()));
        self.sigs.insert(oid, Rc::clone(&sig));
        Ok(sig)
    }

    /// Records, for every commit that a validly signed merge of this push
    /// brings in (reachable from its other parents, not from its first), who
    /// signed that merge.
    fn cover_merges(&mut self, refname: &str, commits: &[ObjectId]) -> Result<(), JudgeError> {
        for &oid in commits {
            if !self.merges_seen.insert(oid) {
                continue;
            }
            let facts = self.facts(refname, oid)?;
            let [first, others @ ..] = facts.parent_ids.as_slice() else {
                continue;
            };
            if others.is_empty() {
                continue;
            }
            let Some(signer) = self.sig(refname, oid)?.signer() else {
                continue;
            };
            let brought = self
                .walker
                .walk(others, &[*first], self.policy.settings.max_commits)
                .map_err(|source| JudgeError::Walk {
                    refname: refname.to_owned(),
                    source,
                })?;
            for c in brought {
                let signers = self.merge_signers.entry(c).or_default();
                if !signers.contains(&signer) {
                    signers.push(signer);
                }
            }
        }
        Ok(())
    }

    /// The pusher for messages: "carol (REMOTE_USER)".
    fn pusher_shown(&self) -> String {
        match self.ctx.pusher {
            Some(p) => format!("{} ({})", p.login, p.source),
            None => "nobody".into(),
        }
    }

    /// Computes, on several threads, the diffs `judge_commit` is about to ask
    /// for one by one: those of the commits the rule's conditions select and
    /// whose diff it looks at (see `judge_commit`), so that exactly the same
    /// diffs are computed as without it.
    fn prefetch_diffs(
        &mut self,
        rule: &Rule,
        refname: &str,
        commits: &[ObjectId],
        ahead: &mut Ahead<'_, '_>,
    ) -> Result<(), JudgeError> {
        if rule.when.touches.is_none() && !rule.require.limits.any() {
            return Ok(());
        }
        let mut wanted = Vec::new();
        for &oid in commits {
            if self.diffs.contains_key(&oid) {
                continue;
            }
            let c = self.facts(refname, oid)?;
            if (!c.is_merge() || sees_merge_diff(rule))
                && !self
                    .policy
                    .directory
                    .in_any(&c.author_who, &rule.exempt_authors)
                && when_holds(self.policy, rule, &c)
            {
                // Tree ids from the bytes the walk kept, where it kept both
                // the commit and its first parent.
                let tree_and_parent = |oid: ObjectId| {
                    let raw = crate::git::object::parse(self.raw.get(oid)?).ok()?;
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
        self.ready_diffs.extend(ahead.take());
        wanted.retain(|&(oid, _)| match self.ready_diffs.remove(&oid) {
            Some(stats) => {
                self.diffs_computed += 1;
                self.diffs.insert(oid, Rc::new(stats));
                false
            }
            None => true,
        });
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let lines = self.diff_need == DiffNeed::Lines;
        let opts = DiffOptions { renames: true };
        for (oid, stats) in crate::engine::parallel::commit_diffs(
            &self.repo.reopener(),
            &wanted,
            lines,
            &opts,
            threads,
        ) {
            self.diffs_computed += 1;
            self.diffs.insert(oid, Rc::new(stats));
        }
        Ok(())
    }

    /// The diff of a commit against its first parent, computed once, at the
    /// level of detail the most demanding rule needs.
    fn diff(&mut self, refname: &str, oid: ObjectId) -> Result<Rc<DiffStats>, JudgeError> {
        if let Some(stats) = self.diffs.get(&oid) {
            return Ok(Rc::clone(stats));
        }
        if let Some(stats) = self.ready_diffs.remove(&oid) {
            self.diffs_computed += 1;
            let stats = Rc::new(stats);
            self.diffs.insert(oid, Rc::clone(&stats));
            return Ok(stats);
        }
        let opts = DiffOptions { renames: true };
        let stats = if self.diff_need == DiffNeed::Lines {
            diff::commit_stats(self.repo, oid, &opts)
        } else {
            diff::commit_paths(self.repo, oid, &opts)
        }
        .map_err(|source| JudgeError::Diff {
            refname: refname.to_owned(),
            source: Box::new(source),
        })?;
        self.diffs_computed += 1;
        let stats = Rc::new(stats);
        self.diffs.insert(oid, Rc::clone(&stats));
        Ok(stats)
    }

    fn check_deadline(&self, refname: &str) -> Result<(), JudgeError> {
        match self.ctx.deadline {
            Some(d) if Instant::now() >= d.at() => Err(d.out_of_time(refname, self.facts.len())),
            _ => Ok(()),
        }
    }

    fn push_violation(
        &mut self,
        rule: &Rule,
        refname: &str,
        commit: Option<&CommitFacts>,
        what: String,
        help: String,
    ) {
        let commit = commit.map(|c| (c.oid, c.subject.clone()));
        self.record(rule, refname, commit, what, help);
    }

    /// Records a violation of `rule`, of a commit (id and subject) or of
    /// the ref update as a whole.
    fn record(
        &mut self,
        rule: &Rule,
        refname: &str,
        commit: Option<(ObjectId, String)>,
        what: String,
        help: String,
    ) {
        let (commit, subject) = commit.unzip();
        self.out.violations.push(Violation {
            rule: rule.name.clone(),
            refname: refname.to_owned(),
            commit,
            subject,
            mode: rule.mode,
            what,
            message: rule.message.clone(),
            help,
        });
    }

    fn pusher_who(&self) -> Option<Who> {
        self.ctx.pusher.map(|p| identify_pusher(self.policy, p))
    }

    fn pusher_exempt(&self, rule: &Rule) -> bool {
        !rule.exempt_pushers.is_empty()
            && self
                .pusher_who()
                .is_some_and(|who| self.policy.directory.in_any(&who, &rule.exempt_pushers))
    }

    /// `None` when the rule needs the pusher and nobody is known.
    fn pusher_matches(&self, rule: &Rule) -> Option<bool> {
        let who = self.pusher_who()?;
        let dir = &self.policy.directory;
        let w = &rule.when;
        Some(
            (w.pusher_in.is_empty() || dir.in_any(&who, &w.pusher_in))
                && (w.pusher_not_in.is_empty() || !dir.in_any(&who, &w.pusher_not_in)),
        )
    }

    /// The commits a rule judges for one ref update (SPEC section 4).
    fn commits_for(
        &mut self,
        rule: &Rule,
        refname: &str,
        new: ObjectId,
        old: Option<ObjectId>,
        sink: Option<&mut OnRead<'_>>,
        ahead: &mut Ahead<'_, '_>,
    ) -> Result<Walked, JudgeError> {
        let raw = &mut self.raw;
        let mut keep = |oid, data: &[u8]| {
            raw.insert(oid, data);
            ahead.offer(oid, data);
        };
        let on_read: &mut OnRead<'_> = match sink {
            Some(sink) => sink,
            None => &mut keep,
        };
        let walk_err = |source| match (source, self.ctx.deadline) {
            (WalkError::Deadline { commits }, Some(d)) => d.out_of_time(refname, commits),
            (source, _) => JudgeError::Walk {
                refname: refname.to_owned(),
                source,
            },
        };
        // Hook mode: a push of a few new commits on top of the ref's old
        // value is answered without listing the repository's refs (see
        // `Walker::walk_new_only`); the old value is hidden for every rule.
        let hook = self.ctx.quarantined && matches!(self.ctx.baseline, Baseline::ExistingRefs);
        let limit = self.policy.settings.max_commits;
        if let (true, Some(old)) = (hook, old) {
            if let Some(walked) = self
                .walker
                .walk_new_only(&[new], &[old], limit, on_read)
                .map_err(walk_err)?
            {
                return Ok(walked);
            }
        }
        let mut hidden: Vec<ObjectId> = match &self.ctx.baseline {
            Baseline::Explicit(list) => list.clone(),
            Baseline::ExistingRefs => {
                if self.existing.is_none() {
                    let refs = self
                        .repo
                        .refs()
                        .existing()
                        .map_err(|source| JudgeError::Repo {
                            refname: refname.to_owned(),
                            source,
                        })?;
                    self.existing = Some(refs);
                }
                let mut hidden: Vec<ObjectId> = self
                    .existing
                    .iter()
                    .flatten()
                    .filter(|r| rule.applies_to(&r.name))
                    .map(|r| r.target)
                    .collect();
                hidden.extend(old);
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
        // The walk hands over the bytes it read, so that `facts` does not
        // read and inflate each commit a second time.
        let found = self
            .walker
            .walk_with(
                &[new],
                &key.1,
                limit,
                // Hook mode hides existing refs and the old value, all of
                // them in the repository before the push.
                matches!(self.ctx.baseline, Baseline::ExistingRefs),
                on_read,
            )
            .map_err(walk_err)?;
        if !self.facts_used_once {
            self.walks.insert(key, found.commits.clone());
        }
        Ok(found)
    }

    fn facts(&mut self, refname: &str, oid: ObjectId) -> Result<Rc<CommitFacts>, JudgeError> {
        if !self.facts.contains_key(&oid) {
            let read_err = |source| JudgeError::Repo {
                refname: refname.to_owned(),
                source,
            };
            let (objects, object);
            let data = match self.raw.get(oid) {
                Some(data) => data,
                None => {
                    objects = self.repo.objects().map_err(read_err)?;
                    object = objects.read(oid).map_err(read_err)?;
                    object.data()
                }
            };
            let facts = facts::of_commit(oid, data, self.policy).map_err(|reason| {
                JudgeError::BadCommit {
                    refname: refname.to_owned(),
                    oid,
                    reason,
                }
            })?;
            if !self.facts_used_once {
                self.facts.insert(oid, Rc::new(facts));
            } else {
                // Nobody asks again: skip the cache, whose million small
                // allocations cost a fifth of a large push to free.
                return Ok(Rc::new(facts));
            }
        }
        self.facts
            .get(&oid)
            .cloned()
            .ok_or_else(|| JudgeError::BadCommit {
                refname: refname.to_owned(),
                oid,
                reason: "facts vanished from the cache".into(),
            })
    }
}

/// What [`Ahead`] needs of a commit: its tree and first parent, and whether
/// one of `rules` (those that diff commits one by one) will want its diff,
/// by the same test as `prefetch_diffs`.
fn classify_for_diffs(
    policy: &Policy,
    rules: &[&Rule],
    oid: ObjectId,
    data: &[u8],
) -> Option<Links> {
    let raw = crate::git::object::parse(data).ok()?;
    let merge = raw.parents.len() > 1;
    let needs_facts = |r: &Rule| {
        let w = &r.when;
        w.ai_assisted.is_some()
            || w.ai_declared.is_some()
            || w.ai_detected.is_some()
            || !w.author_in.is_empty()
            || !w.author_not_in.is_empty()
            || w.message.is_some()
            || !r.exempt_authors.is_empty()
    };
    // Facts (trailers, AI markers) only when some rule's conditions read
    // them: this runs for every commit of a large push.
    let facts = if rules.iter().any(|r| needs_facts(r)) {
        Some(facts::of_commit(oid, data, policy).ok()?)
    } else {
        None
    };
    let wanted = rules.iter().any(|r| {
        (!merge || sees_merge_diff(r))
            && match &facts {
                Some(c) => {
                    !policy.directory.in_any(&c.author_who, &r.exempt_authors)
                        && when_holds(policy, r, c)
                }
                None => r.when.merge.is_none_or(|b| merge == b),
            }
    });
    Some(Links {
        tree: raw.tree?,
        first_parent: raw.parents.first().copied(),
        wanted,
    })
}

/// A failing commit's verdict, kept from the walk that judged it until the
/// walk's result says the commit is really new.
struct Verdict {
    subject: String,
    what: String,
    help: String,
}
