//! Evaluation: the validated policy applied to the ref updates of a push and
//! the commits each brings in, producing violations.
//!
//! A violation is data, not an error: `Err` from [`judge`] means trailgate
//! could not judge (a missing object, a branch pointing at a tree), which the
//! caller turns into a rejected push.

pub mod parallel;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use git2::{Oid, Repository};
use thiserror::Error;

use std::rc::Rc;

use crate::engine::parallel::{Ahead, Links};
use crate::facts::identity::{Member, Pusher, Who, PUSHER_VARIABLES, PUSH_CERT_KEY};
use crate::facts::signature::SigStatus;
use crate::facts::{self, CommitFacts};
use crate::git::diff::{self, DiffError, DiffOptions, DiffStats};
use crate::git::repo::{self, ExistingRef, RepoError};
use crate::git::walk::{OidMap, OnRead, WalkError, Walked, Walker};
use crate::policy::{DenyKind, DiffNeed, Limits, Mode, Per, Policy, Proof, Rule};
use crate::push::RefUpdate;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: String,
    pub refname: String,
    pub commit: Option<Oid>,
    pub subject: Option<String>,
    pub mode: Mode,
    /// What was found, in plain words.
    pub what: String,
    /// The rule's own `message`.
    pub message: Option<String>,
    /// How to fix it.
    pub help: String,
}

/// The verdict on a whole push.
#[derive(Debug, Default)]
pub struct Judgement {
    pub violations: Vec<Violation>,
    /// Distinct commits judged by at least one rule.
    pub commits_checked: usize,
    /// Diffs computed (commits and net changes); 0 for a policy without
    /// path or size rules.
    pub diffs_computed: usize,
    /// A break-glass override that let an otherwise rejected push through.
    pub override_used: Option<OverrideUse>,
    /// Distinct commits judged for each ref update, in input order (for the
    /// audit log).
    pub commits_per_ref: Vec<(String, usize)>,
}

/// A break-glass override (SPEC section 9) that was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideUse {
    /// The pusher, as "alice (GL_USER)".
    pub by: String,
    pub reason: String,
    /// How many enforced violations it let through.
    pub overridden: usize,
}

impl Judgement {
    /// True when an enforced violation rejects the push.
    pub fn rejects(&self) -> bool {
        self.override_used.is_none() && self.violations.iter().any(|v| v.mode == Mode::Enforce)
    }
}

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
        oid: Oid,
        kind: String,
    },
    #[error("{refname}: {source}")]
    Diff {
        refname: String,
        #[source]
        source: DiffError,
    },
    #[error("{refname}: commit {oid} cannot be read: {reason}")]
    BadCommit {
        refname: String,
        oid: Oid,
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
    Explicit(Vec<Oid>),
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
    repo: &Repository,
    policy: &Policy,
    updates: &[RefUpdate],
    ctx: &Context<'_>,
) -> Result<Judgement, JudgeError> {
    let odb = repo.odb().map_err(|source| JudgeError::Repo {
        refname: String::new(),
        source: RepoError::Read {
            oid: Oid::ZERO_SHA1,
            source,
        },
    })?;
    let mut engine = Engine {
        repo,
        policy,
        ctx,
        walker: Walker::new(odb)
            .with_commit_graph(repo.path().join("objects"))
            .graph_after_reads(64)
            .with_store(if ctx.quarantined {
                repo::open_at(repo.path()).ok()
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

/// The kind of a ref update, for `deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateKind {
    Create,
    FastForward,
    ForcePush,
    Delete,
}

impl UpdateKind {
    fn denied_by(self, deny: &[DenyKind]) -> Option<DenyKind> {
        deny.iter().copied().find(|d| match (d, self) {
            (DenyKind::Create, UpdateKind::Create) => true,
            // `update` covers every move of an existing ref, forced or not.
            (DenyKind::Update, UpdateKind::FastForward | UpdateKind::ForcePush) => true,
            (DenyKind::ForcePush, UpdateKind::ForcePush) => true,
            (DenyKind::Delete, UpdateKind::Delete) => true,
            _ => false,
        })
    }
}

struct Engine<'a, 'r> {
    repo: &'r Repository,
    policy: &'a Policy,
    ctx: &'a Context<'a>,
    walker: Walker<'r>,
    facts: HashMap<Oid, Rc<CommitFacts>>,
    /// Commits as the walks read them, for `facts`.
    raw: crate::git::walk::RawCommits,
    /// True when one rule judges the commits of one update and no rule
    /// diffs, so that each commit's facts are asked for once and are not
    /// worth caching.
    facts_used_once: bool,
    diffs: HashMap<Oid, Rc<DiffStats>>,
    /// Diffs computed ahead on other threads and not yet asked for.
    ready_diffs: OidMap<DiffStats>,
    /// The most any rule needs to know about diffs; computed once per commit.
    diff_need: DiffNeed,
    /// Commits judged for the current ref update.
    ref_commits: HashSet<Oid>,
    existing: Option<Vec<ExistingRef>>,
    walks: HashMap<(Oid, Vec<Oid>), Vec<Oid>>,
    diffs_computed: usize,
    /// Every commit some rule judged.
    checked: std::collections::HashSet<Oid>,
    /// With `facts_used_once`, the number of commits judged, instead of
    /// `checked` and `ref_commits`.
    counted: Option<usize>,
    sigs: HashMap<Oid, Rc<SigStatus>>,
    /// For each commit, the people whose signed merge in this push brings it in.
    merge_signers: HashMap<Oid, Vec<usize>>,
    merges_seen: std::collections::HashSet<Oid>,
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
            move |oid: Oid, data: &[u8]| classify_for_diffs(policy, &diff_rules, oid, data);
        let git_dir = self.repo.path().to_path_buf();
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
                let commit = repo::peel_to_commit(self.repo, new).map_err(repo_err)?;
                if commit.is_none() && refname.starts_with("refs/heads/") {
                    let kind = repo::kind_of(self.repo, new).map_err(repo_err)?;
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
            Some(old) => repo::peel_to_commit(self.repo, old).map_err(repo_err)?,
        };
        let kind = match (update.old, update.new) {
            (None, _) => UpdateKind::Create,
            (_, None) => UpdateKind::Delete,
            (Some(old), Some(new)) => match (old_commit, new_commit) {
                (Some(o), Some(n))
                    if repo::is_ancestor(self.repo, o, n, self.policy.settings.max_commits)
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
                let judge = |oid: Oid, data: &[u8]| -> Option<Result<Verdict, String>> {
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
                let not_handed: HashSet<Oid> = not_handed.into_iter().collect();
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
    fn judge_one(&mut self, rule: &Rule, refname: &str, oid: Oid) -> Result<(), JudgeError> {
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
        new: Oid,
        old: Option<Oid>,
        commits: &[Oid],
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
        let tree_of = |oid: Oid| -> Result<Oid, JudgeError> {
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
            source,
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
    fn fork_point(&mut self, new: Oid, commits: &[Oid]) -> Option<Oid> {
        let brought: std::collections::HashSet<Oid> = commits.iter().copied().collect();
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
    fn raw_commit(&self, refname: &str, oid: Oid) -> Result<(Option<Oid>, Vec<Oid>), JudgeError> {
        let read_err = |e| JudgeError::Repo {
            refname: refname.to_owned(),
            source: repo::missing(oid, e),
        };
        let odb = self.repo.odb().map_err(read_err)?;
        let object = odb.read(oid).map_err(read_err)?;
        let parsed =
            crate::git::object::parse(object.data()).map_err(|reason| JudgeError::BadCommit {
                refname: refname.to_owned(),
                oid,
                reason,
            })?;
        Ok((parsed.tree, parsed.parents))
    }

    /// A commit's signature, verified once.
    fn sig(&mut self, refname: &str, oid: Oid) -> Result<Rc<SigStatus>, JudgeError> {
        if let Some(sig) = self.sigs.get(&oid) {
            return Ok(Rc::clone(sig));
        }
        let read_err = |e| JudgeError::Repo {
            refname: refname.to_owned(),
            source: repo::missing(oid, e),
        };
        let odb = self.repo.odb().map_err(read_err)?;
        let object = odb.read(oid).map_err(read_err)?;
        let sig = Rc::new(self.policy.keys.verify_commit(object.data()));
        self.sigs.insert(oid, Rc::clone(&sig));
        Ok(sig)
    }

    /// Records, for every commit that a validly signed merge of this push
    /// brings in (reachable from its other parents, not from its first), who
    /// signed that merge.
    fn cover_merges(&mut self, refname: &str, commits: &[Oid]) -> Result<(), JudgeError> {
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
        commits: &[Oid],
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
                let tree_and_parent = |oid: Oid| {
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
        for (oid, stats) in
            crate::engine::parallel::commit_diffs(self.repo.path(), &wanted, lines, &opts, threads)
        {
            self.diffs_computed += 1;
            self.diffs.insert(oid, Rc::new(stats));
        }
        Ok(())
    }

    /// The diff of a commit against its first parent, computed once, at the
    /// level of detail the most demanding rule needs.
    fn diff(&mut self, refname: &str, oid: Oid) -> Result<Rc<DiffStats>, JudgeError> {
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
            source,
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
        commit: Option<(Oid, String)>,
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
        new: Oid,
        old: Option<Oid>,
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
        let mut hidden: Vec<Oid> = match &self.ctx.baseline {
            Baseline::Explicit(list) => list.clone(),
            Baseline::ExistingRefs => {
                if self.existing.is_none() {
                    let refs =
                        repo::existing_refs(self.repo).map_err(|source| JudgeError::Repo {
                            refname: refname.to_owned(),
                            source,
                        })?;
                    self.existing = Some(refs);
                }
                let mut hidden: Vec<Oid> = self
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

    fn facts(&mut self, refname: &str, oid: Oid) -> Result<Rc<CommitFacts>, JudgeError> {
        if !self.facts.contains_key(&oid) {
            let read_err = |e| JudgeError::Repo {
                refname: refname.to_owned(),
                source: repo::missing(oid, e),
            };
            let (odb, object);
            let data = match self.raw.get(oid) {
                Some(data) => data,
                None => {
                    odb = self.repo.odb().map_err(read_err)?;
                    object = odb.read(oid).map_err(read_err)?;
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

/// "for AI-assisted commits", from the rule's conditions, for limit messages.
fn limit_scope(rule: &Rule, things: &str) -> String {
    let mut words = Vec::new();
    if rule.when.ai_assisted == Some(true)
        || rule.when.ai_declared == Some(true)
        || rule.when.ai_detected == Some(true)
    {
        words.push("AI-assisted");
    }
    if rule.when.merge == Some(true) {
        words.push("merge");
    }
    if words.is_empty() {
        format!("the limit for {things} under rule {} is", rule.name)
    } else {
        format!("the limit for {} {things} is", words.join(" "))
    }
}

/// How many offending paths a limit message lists before counting the rest.
const PATHS_SHOWN: usize = 5;

/// The limits a diff exceeds, each as "deletes 412 files (a/b, a/c, ... and
/// 407 more); the limit for AI-assisted commits is 10".
fn over_limits(limits: &Limits, stats: &DiffStats, scope: &str) -> Vec<String> {
    let mut out = Vec::new();
    let list = |paths: Vec<&[u8]>| -> String {
        let total = paths.len();
        let mut shown: Vec<String> = paths
            .iter()
            .take(PATHS_SHOWN)
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        if total > PATHS_SHOWN {
            shown.push(format!("and {} more", total - PATHS_SHOWN));
        }
        shown.join(", ")
    };
    let changed = stats.files_changed() as u64;
    if let Some(max) = limits.max_files_changed.filter(|&m| changed > m) {
        let paths = stats.files.iter().map(|f| f.path()).collect();
        out.push(format!(
            "changes {changed} files ({}); {scope} {max}",
            list(paths)
        ));
    }
    let deleted = stats.files_deleted() as u64;
    if let Some(max) = limits.max_files_deleted.filter(|&m| deleted > m) {
        let paths = stats
            .files
            .iter()
            .filter(|f| f.status == diff::ChangeKind::Deleted)
            .map(|f| f.path())
            .collect();
        out.push(format!(
            "deletes {deleted} files ({}); {scope} {max}",
            list(paths)
        ));
    }
    let (added, removed) = (stats.lines_added(), stats.lines_deleted());
    if let Some(max) = limits.max_lines_added.filter(|&m| added > m) {
        out.push(format!("adds {added} lines; {scope} {max}"));
    }
    if let Some(max) = limits.max_lines_deleted.filter(|&m| removed > m) {
        out.push(format!("deletes {removed} lines; {scope} {max}"));
    }
    if let Some(max) = limits.max_lines_changed.filter(|&m| added + removed > m) {
        out.push(format!(
            "changes {} lines ({added} added, {removed} deleted); {scope} {max}",
            added + removed
        ));
    }
    out
}

fn split_help(rule: &Rule) -> String {
    if rule.per == Per::Push {
        "push the change in smaller steps that each stay within the limits, or ask an administrator about this rule".into()
    } else {
        "split the change into smaller commits that each stay within the limits (git rebase -i, then `edit` and `git reset HEAD^` to re-commit in parts), or ask an administrator about this rule".into()
    }
}

/// The person (or e-mail) behind the pusher the host reported.
fn identify_pusher(policy: &Policy, pusher: &Pusher) -> Who {
    if pusher.source == PUSH_CERT_KEY {
        // A signed push: the key git verified identifies the person.
        policy
            .keys
            .person_by_fingerprint(&pusher.login)
            .map_or(Who::Unknown, Who::Person)
    } else {
        policy
            .directory
            .pusher(&pusher.login, pusher.email.as_deref())
    }
}

/// Break-glass (SPEC section 9): `git push -o trailgate.override="reason"`
/// lets a push that would be rejected through, only when the pusher belongs
/// to a group of `settings.override.by` and gives a reason. A refused
/// override adds a violation that says why. `options` are the push options
/// git passed (`GIT_PUSH_OPTION_<n>`).
pub fn apply_override(
    judgement: &mut Judgement,
    policy: &Policy,
    pusher: Option<&Pusher>,
    options: &[String],
) {
    let Some(settings) = &policy.settings.override_ else {
        return;
    };
    let name = settings.push_option.as_str();
    let Some(requested) = options.iter().find(|o| {
        o.as_str() == name
            || o.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('='))
    }) else {
        return;
    };
    if !judgement.rejects() {
        return;
    }
    let reason = requested
        .get(name.len() + 1..)
        .unwrap_or("")
        .trim()
        .to_owned();
    let groups: Vec<&str> = settings
        .by
        .iter()
        .map(|&g| policy.directory.group_name(g))
        .collect();
    let refused = |what: String, help: String| Violation {
        rule: "override".into(),
        refname: String::new(),
        commit: None,
        subject: None,
        mode: Mode::Enforce,
        what,
        message: None,
        help,
    };
    let example =
        format!("git push -o {name}=\"INC-1234: what broke and why this push must go in now\"");
    let Some(pusher) = pusher else {
        judgement.violations.push(refused(
            format!(
                "an override was asked for, but the git host named no pusher (looked at {}), so nobody can be authorised",
                PUSHER_VARIABLES.join(", ")
            ),
            no_pusher_help(),
        ));
        return;
    };
    let shown = format!("{} ({})", pusher.login, pusher.source);
    if reason.is_empty() {
        judgement.violations.push(refused(
            format!(
                "the override from {shown} gives no reason; a reason is required and is recorded"
            ),
            example,
        ));
        return;
    }
    let who = identify_pusher(policy, pusher);
    if !policy.directory.in_any(&who, &settings.by) {
        judgement.violations.push(refused(
            format!(
                "{shown} may not override: only members of {} may",
                groups.join(" or ")
            ),
            format!(
                "fix the violations, or ask a member of {} to push with {example}",
                groups.join(" or ")
            ),
        ));
        return;
    }
    let overridden = judgement
        .violations
        .iter()
        .filter(|v| v.mode == Mode::Enforce)
        .count();
    judgement.override_used = Some(OverrideUse {
        by: shown,
        reason,
        overridden,
    });
}

fn no_pusher_what() -> String {
    format!(
        "the rule depends on who pushed, but the git host named nobody (looked at {})",
        PUSHER_VARIABLES.join(", ")
    )
}

fn no_pusher_help() -> String {
    "push through the git host (ssh or http with a user), not directly to the repository".into()
}

/// What else than the commit's own text an approval may rest on.
#[derive(Default)]
struct Evidence<'a> {
    /// The commit's own signature, when a rule needs it.
    sig: Option<&'a SigStatus>,
    /// People whose signed merge in this push brings the commit in.
    merge_signers: &'a [usize],
    /// The pusher as the policy knows them, and how to name them.
    pusher: Option<(&'a Who, &'a str)>,
}

/// What [`Ahead`] needs of a commit: its tree and first parent, and whether
/// one of `rules` (those that diff commits one by one) will want its diff,
/// by the same test as `prefetch_diffs`.
fn classify_for_diffs(policy: &Policy, rules: &[&Rule], oid: Oid, data: &[u8]) -> Option<Links> {
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

/// `judge_commit` for a rule that needs neither diffs nor signatures.
fn judge_without_diff(
    policy: &Policy,
    rule: &Rule,
    c: &CommitFacts,
    evidence: &Evidence<'_>,
) -> Option<(String, String)> {
    if policy.directory.in_any(&c.author_who, &rule.exempt_authors) || !when_holds(policy, rule, c)
    {
        return None;
    }
    let (what, help) = check_commit(policy, rule, c, evidence)?;
    let mut problems = vec![what];
    say_what_was_detected(rule, c, &mut problems);
    Some((problems.join("; "), help))
}

/// When the rule applies because of a tool's marks, says which marks first:
/// the pusher may not know their tool left any.
fn say_what_was_detected(rule: &Rule, c: &CommitFacts, problems: &mut Vec<String>) {
    let w = &rule.when;
    if w.ai_detected == Some(true) || (w.ai_assisted == Some(true) && c.ai_declared.is_none()) {
        if let Some(hit) = &c.ai_detected {
            problems.insert(0, format!("AI assistance detected: {hit}"));
        }
    }
}

/// Whether a rule's `when` holds for a commit, leaving out `touches` (which
/// needs the diff and is checked by the caller, last).
fn when_holds(policy: &Policy, rule: &Rule, c: &CommitFacts) -> bool {
    let dir = &policy.directory;
    let w = &rule.when;
    w.ai_assisted.is_none_or(|b| c.ai_assisted() == b)
        && w.ai_declared.is_none_or(|b| c.ai_declared.is_some() == b)
        && w.ai_detected.is_none_or(|b| c.ai_detected.is_some() == b)
        && (w.author_in.is_empty() || dir.in_any(&c.author_who, &w.author_in))
        && (w.author_not_in.is_empty() || !dir.in_any(&c.author_who, &w.author_not_in))
        && w.message.as_ref().is_none_or(|re| re.is_match(&c.message))
        && w.merge.is_none_or(|b| c.is_merge() == b)
}

/// Whether the rule looks at what a merge commit changes. By default it does
/// not: the commits a merge brings in are judged on their own, and a merge's
/// diff against its first parent would count their changes a second time.
/// A rule with `when.merge = true` is about merges and sees their diff.
fn sees_merge_diff(rule: &Rule) -> bool {
    rule.when.merge == Some(true)
}

/// Applies the approval and trailer requirements of a rule to one commit.
fn check_commit(
    policy: &Policy,
    rule: &Rule,
    c: &CommitFacts,
    evidence: &Evidence<'_>,
) -> Option<(String, String)> {
    let mut problems: Vec<String> = Vec::new();
    let mut helps: Vec<String> = Vec::new();
    if let Some(approvals) = &rule.require.approvals {
        if let Some((what, help)) = check_approvals(policy, approvals, c, evidence) {
            problems.push(what);
            helps.push(help);
        }
    }
    if rule.require.signed {
        let sig = evidence.sig.unwrap_or(&SigStatus::Unsigned);
        if sig.signer().is_none() {
            problems.push(format!(
                "needs a signature made with the SSH key of a person in [people]; {}",
                sig.describe(|p| policy.directory.describe(&Who::Person(p)))
            ));
            helps.push("sign it with your SSH key: git -c gpg.format=ssh -c user.signingkey=~/.ssh/id_ed25519.pub commit --amend --no-edit -S".into());
        }
    }
    for req in &rule.require.trailers {
        let found: Vec<_> = c.trailers.iter().filter(|t| t.key_is(&req.key)).collect();
        let ok = found.iter().any(|t| {
            req.value
                .as_ref()
                .is_none_or(|re| re.is_match(&String::from_utf8_lossy(&t.value)))
        });
        if !ok {
            let wanted = match &req.pattern {
                Some(p) => format!("a trailer `{}` whose value matches `{p}`", req.key),
                None => format!("a trailer `{}`", req.key),
            };
            let seen = if found.is_empty() {
                "none".to_owned()
            } else {
                found
                    .iter()
                    .map(|t| {
                        format!(
                            "`{}: {}`",
                            String::from_utf8_lossy(&t.key),
                            String::from_utf8_lossy(&t.value)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            problems.push(format!("needs {wanted}; found {seen}"));
            helps.push(format!(
                "git commit --amend --trailer \"{}: <value>\"",
                req.key
            ));
        }
    }
    if problems.is_empty() {
        return None;
    }
    Some((problems.join("; "), helps.join("\n")))
}

/// Counts approvals; `Some((what, help))` when there are too few.
fn check_approvals(
    policy: &Policy,
    approvals: &crate::policy::Approvals,
    c: &CommitFacts,
    evidence: &Evidence<'_>,
) -> Option<(String, String)> {
    let signature_proof = approvals.proof == Proof::Signature;
    let sig = evidence.sig.unwrap_or(&SigStatus::Unsigned);
    let name_of = |p: usize| policy.directory.describe(&Who::Person(p));
    let covered = |who: &Who| match who {
        Who::Person(p) => sig.signer() == Some(*p) || evidence.merge_signers.contains(p),
        _ => false,
    };
    let dir = &policy.directory;
    let groups: Vec<&str> = approvals.from.iter().map(|&g| dir.group_name(g)).collect();
    let group_words = match groups.as_slice() {
        [one] => format!("group {one}"),
        many => format!("groups {}", many.join(" or ")),
    };
    let mut counted: Vec<Who> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for t in c.trailers_named(&policy.trailers.approval) {
        let shown = format!(
            "{}: {}",
            String::from_utf8_lossy(&t.key),
            String::from_utf8_lossy(&t.value)
        );
        let who = dir.approver(&t.value);
        let reason = if who == Who::Unknown {
            Some("which names nobody the policy knows (write `Name <email>` with the approver's listed e-mail)".to_owned())
        } else if who == c.author_who {
            Some("who is the commit's author; nobody approves their own commit".to_owned())
        } else if !dir.in_any(&who, &approvals.from) {
            Some(format!("who is not in {group_words}"))
        } else if counted.contains(&who) {
            Some("who was already counted once".to_owned())
        } else if signature_proof && !covered(&who) {
            Some(format!(
                "but no signature of theirs covers the commit ({})",
                sig.describe(name_of)
            ))
        } else {
            None
        };
        match reason {
            Some(reason) => notes.push(format!("`{shown}`, {reason}")),
            None => {
                notes.push(format!("`{shown}` (counted)"));
                counted.push(who);
            }
        }
    }
    if signature_proof {
        // A signed merge is an approval in itself of what it brings in.
        for &p in evidence.merge_signers {
            let who = Who::Person(p);
            if who != c.author_who && dir.in_any(&who, &approvals.from) && !counted.contains(&who) {
                notes.push(format!(
                    "a merge signed by {} brings it in (counted)",
                    name_of(p)
                ));
                counted.push(who);
            }
        }
    }
    if counted.len() >= approvals.count {
        if approvals.proof != Proof::Pusher {
            return None;
        }
        return match evidence.pusher {
            Some((who, _)) if dir.in_any(who, &approvals.from) => None,
            Some((_, shown)) => Some((
                format!("the approvals count only when a member of {group_words} pushes the commit (proof = \"pusher\"); this push came from {shown}"),
                format!("ask one of the approvers ({}) to push it", counted.iter().map(|w| dir.describe(w)).collect::<Vec<_>>().join(", ")),
            )),
            None => Some((
                format!("the approvals count only when a member of {group_words} pushes the commit (proof = \"pusher\"), but the git host named nobody (looked at {})", PUSHER_VARIABLES.join(", ")),
                no_pusher_help(),
            )),
        };
    }
    let need = match approvals.count {
        1 => format!("needs an approval from {group_words}"),
        n => format!("needs {n} approvals from distinct members of {group_words}"),
    };
    let found = if notes.is_empty() {
        format!(
            "found no `{}` trailer",
            policy
                .trailers
                .approval
                .first()
                .map_or("Approved-By", String::as_str)
        )
    } else {
        format!("found {}", notes.join("; "))
    };
    let key = policy
        .trailers
        .approval
        .first()
        .map_or("Approved-By", String::as_str);
    let (asked, trailer) = approvers_example(policy, approvals, &c.author_who);
    if signature_proof {
        let help = format!(
            "ask {asked} to review it and sign their approval with their SSH key: git -c gpg.format=ssh commit --amend -S --trailer \"{key}: {trailer}\" (or merge it with a signed merge: git merge -S --no-ff)"
        );
        return Some((format!("{need}; {found}"), help));
    }
    let help = format!(
        "ask {asked} to review it, then record the approval: git commit --amend --trailer \"{key}: {trailer}\"\n(for an older commit: git rebase -i {}~1, mark it `reword` and add the trailer)",
        c.short_id()
    );
    Some((format!("{need}; {found}"), help))
}

/// Who could approve ("alice (Alice Example) or bob", at most three named)
/// and a ready-to-paste trailer value for the first of them.
fn approvers_example(
    policy: &Policy,
    approvals: &crate::policy::Approvals,
    author: &Who,
) -> (String, String) {
    let dir = &policy.directory;
    let mut names: Vec<String> = Vec::new();
    let mut trailer: Option<String> = None;
    for &g in &approvals.from {
        let Some(group) = dir.groups.get(g.0) else {
            continue;
        };
        for m in &group.members {
            let (who, shown, value) = match m {
                Member::Person(p) => {
                    let who = Who::Person(*p);
                    let value = dir.people.get(*p).and_then(|person| {
                        let email = person.emails.first()?;
                        Some(format!(
                            "{} <{email}>",
                            person.name.as_deref().unwrap_or(&person.id)
                        ))
                    });
                    let shown = dir.describe(&who);
                    (who, shown, value)
                }
                Member::Email(e) => (
                    dir.by_email(e.as_bytes()),
                    format!("<{e}>"),
                    Some(format!("Name <{e}>")),
                ),
                Member::Glob { pattern, .. } => {
                    (Who::Unknown, format!("someone matching {pattern}"), None)
                }
            };
            if &who != author && !names.contains(&shown) {
                names.push(shown);
                if trailer.is_none() {
                    trailer = value;
                }
            }
        }
    }
    let total = names.len();
    names.truncate(3);
    let asked = match total {
        0 => format!(
            "a member of {}",
            approvals
                .from
                .iter()
                .map(|&g| dir.group_name(g))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        1..=3 => names.join(" or "),
        _ => format!("{} (or another of {total})", names.join(", ")),
    };
    (asked, trailer.unwrap_or_else(|| "Name <email>".to_owned()))
}

/// The short form of an id, re-exported for reporters.
pub use facts::short;
