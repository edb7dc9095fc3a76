//! The engine: the only place that combines the repository, the facts and
//! the rules. For each ref update it asks [`crate::rules::applies`] which
//! rules judge it, walks the commits each rule judges, and runs a plan per
//! rule ([`plans`]): judging commits as the walk reads them, judging them
//! from the stores once walked, or judging the net change of the update.
//! Every plan asks the same pure functions of [`crate::rules`] what a rule
//! selects and finds, and computes facts, diffs and signatures (kept in
//! [`stores`]) only when a rule asks for them.
//!
//! A violation is data, not an error: `Err` from [`judge`] means trailgate
//! could not judge (a missing object, a branch pointing at a tree), which the
//! caller turns into a rejected push.

mod aliases;
mod baseline;
mod commits;
pub mod parallel;
mod plans;
mod stores;
mod together;
mod update;

use std::time::Instant;

use thiserror::Error;

use crate::facts::CommitFacts;
use crate::git::diff::DiffError;
use crate::git::oid::ObjectId;
use crate::git::repo::{Repo, RepoError};
use crate::git::walk::{OidSet, WalkError, Walker};
use crate::policy::Mode;
use crate::push::{Pusher, RefUpdate};
use crate::rules::{self, Policy, PushedBy, Rule};
use crate::verdict::{AiMark, CommitRef, Finding, Judgement, Violation};

use commits::Commits;
use stores::{DiffStore, FactStore, SigStore};

#[derive(Debug, Error)]
pub enum JudgeError {
    /// The directory file is older than `settings.directory_max_age` and
    /// `settings.directory_stale = "reject"`.
    #[error("{0}; with settings.directory_stale = \"reject\" every push is rejected until it is renewed")]
    StaleDirectory(crate::policy::Staleness),
    /// An entry of the directory file that this push needed is invalid
    /// (found when the hook read it; `trailgate check` reports them all).
    #[error("the directory file has invalid entries that this push needed, so it cannot be judged (run `trailgate check` for all of them):\n  {}", problems.join("\n  "))]
    InvalidDirectoryEntry { problems: Vec<String> },
    #[error("{refname}: {source}")]
    Repo {
        refname: String,
        #[source]
        source: RepoError,
    },
    #[error("settings.baseline `{point}` for {repository}: {why}; the push is rejected rather than judged without its baseline\n  help: an administrator sets it on the server (`git update-ref {point} <commit>` for a ref), or corrects settings.baseline")]
    Baseline {
        point: String,
        repository: String,
        why: String,
    },
    #[error("{refname}: this push would move {baseline}, the baseline of accepted history (settings.baseline); a push may not create, move or delete it\n  help: push to another ref; an administrator moves the baseline on the server with `git update-ref`")]
    BaselineRefPushed { refname: String, baseline: String },
    #[error("{refname}: {source}")]
    Walk {
        refname: String,
        #[source]
        source: WalkError,
    },
    #[error("{refname}: the push names {} object ids, but this repository names its objects with {} (extensions.objectFormat = {repository}); trailgate cannot judge it", ids.title(), repository.title())]
    ObjectFormat {
        refname: String,
        ids: crate::git::HashKind,
        repository: crate::git::HashKind,
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
    #[error("{refname}: rule `{rule}` cannot be judged on commit {oid}: it asks for facts trailgate did not compute (a bug; please report it)")]
    Unjudgeable {
        refname: String,
        rule: String,
        oid: ObjectId,
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

    pub(crate) fn out_of_time(&self, refname: &str, commits: usize) -> JudgeError {
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
    /// Hook mode (README "Which commits are judged"): commits reachable from
    /// the ref's old value or from any existing ref that the same rule covers.
    ExistingRefs,
    /// `trailgate verify A..B`: exactly the commits the range excludes.
    Explicit(Vec<ObjectId>),
}

/// What the caller knows about the push besides the updates.
pub struct Context<'a> {
    pub pusher: Option<&'a Pusher>,
    /// The host variables read for the pusher, for messages.
    pub pusher_variables: &'a [&'a str],
    /// The repository pushed to, for rules with `repos`.
    pub repository: crate::rules::Where<'a>,
    pub baseline: Baseline,
    /// Stop and fail with [`JudgeError::OutOfTime`] past this.
    pub deadline: Option<Deadline>,
    /// The push's new objects sit in git's quarantine (`GIT_QUARANTINE_PATH`),
    /// so the repository opened without it tells new commits from old ones.
    pub quarantined: bool,
    /// `GIT_NAMESPACE`, when receive-pack serves a namespace: the names on
    /// stdin are relative to it (see `aliases`).
    pub namespace: Option<String>,
}

/// Judges every ref update of a push against every rule.
pub fn judge(
    repo: &Repo,
    policy: &Policy,
    updates: &[RefUpdate],
    ctx: &Context<'_>,
) -> Result<Judgement, JudgeError> {
    if let Some(stale) = policy
        .settings
        .directory_staleness(std::time::SystemTime::now())
    {
        if stale.action == crate::policy::Stale::Reject {
            return Err(JudgeError::StaleDirectory(stale));
        }
    }
    // Ids of another hash than the repository's would name no object: say
    // so plainly instead of "missing object".
    for update in updates {
        if let Some(id) = update.old.or(update.new) {
            if id.kind() != repo.hash_kind() {
                return Err(JudgeError::ObjectFormat {
                    refname: update.name.clone(),
                    ids: id.kind(),
                    repository: repo.hash_kind(),
                });
            }
        }
    }
    let objects = repo.objects().map_err(|source| JudgeError::Repo {
        refname: String::new(),
        source,
    })?;
    let mut walker = Walker::new(objects)
        .with_commit_graph(repo.path().join("objects"))
        .graph_after_reads(64)
        .with_store(if ctx.quarantined {
            Repo::open(repo.path()).ok()
        } else {
            None
        })
        .read_ahead(repo.object_dirs());
    walker.deadline = ctx.deadline.map(|d| d.at());
    // One rule judges the commits of one update and no rule diffs: each
    // commit's facts are asked for once and are not worth keeping.
    let once = updates.len() == 1
        && policy.rules.iter().all(|r| rules::needs(r).diff.is_none())
        && policy
            .rules
            .iter()
            .filter(|r| r.mode != Mode::Off && rules::judges_commits(r))
            .count()
            == 1;
    let lines = policy
        .rules
        .iter()
        .filter_map(|r| rules::needs(r).diff)
        .max()
        == Some(rules::DiffNeed::Lines);
    let mut engine = Engine {
        repo,
        policy,
        ctx,
        pushed: PushedBy::new(policy, ctx.pusher, ctx.pusher_variables)
            .to_repository(ctx.repository),
        commits: Commits::new(walker),
        facts: FactStore::new(!once),
        diffs: DiffStore::new(lines, ctx.deadline),
        sigs: SigStore::default(),
        once,
        ref_commits: OidSet::default(),
        checked: OidSet::default(),
        counted: None,
        case_refs: None,
        tip: None,
        out: Judgement::default(),
    };
    // The baseline's ref cannot be moved by this push (checked per update
    // below), so its value before the push is the one that counts.
    if matches!(ctx.baseline, Baseline::ExistingRefs) {
        let used = engine.resolve_baseline()?;
        engine.commits.accepted = used.iter().map(|b| b.commit).collect();
        engine.out.baseline = used;
    }
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
    engine.out.diffs_computed = engine.diffs.computed;
    // The directory file's entries are read as the push needs them: one
    // that this push read and that a full check would refuse means the
    // push was judged on an invalid directory.
    let problems = policy.directory.problems();
    if !problems.is_empty() {
        return Err(JudgeError::InvalidDirectoryEntry { problems });
    }
    Ok(engine.out)
}

/// The state of judging one push.
struct Engine<'a, 'r> {
    repo: &'r Repo,
    policy: &'a Policy,
    ctx: &'a Context<'a>,
    pushed: PushedBy<'a>,
    /// The walks of history, and the refs they hide.
    commits: Commits<'r>,
    facts: FactStore,
    diffs: DiffStore,
    sigs: SigStore,
    /// See [`judge`]: when set, only the number of commits judged is kept,
    /// not `checked` and `ref_commits` (a million ids on a large push).
    once: bool,
    /// Commits judged for the current ref update.
    ref_commits: OidSet,
    /// Every commit some rule judged.
    checked: OidSet,
    /// With `once`, the number of commits judged.
    counted: Option<usize>,
    /// The existing refs a name may equal but for case (none unless
    /// `core.ignorecase`), listed on first need (see `aliases`).
    case_refs: Option<Vec<crate::git::refs::ExistingRef>>,
    /// The commit the current ref update's new value stands for: a
    /// violation of it is fixed by amending, of any other by a rebase.
    tip: Option<ObjectId>,
    out: Judgement,
}

impl Engine<'_, '_> {
    fn check_deadline(&self, refname: &str) -> Result<(), JudgeError> {
        match self.ctx.deadline {
            Some(d) if Instant::now() >= d.at() => Err(d.out_of_time(refname, self.facts.len())),
            _ => Ok(()),
        }
    }

    /// Records a violation of `rule`, of a commit or of the ref update as a
    /// whole.
    fn record(
        &mut self,
        rule: &Rule,
        refname: &str,
        commit: Option<&CommitFacts>,
        findings: Vec<Finding>,
        detected: Option<AiMark>,
    ) {
        self.record_ref(
            rule,
            refname,
            commit.map(|c| CommitRef {
                oid: c.oid,
                subject: c.subject.clone(),
                tip: false,
            }),
            findings,
            detected,
        );
    }

    fn record_ref(
        &mut self,
        rule: &Rule,
        refname: &str,
        commit: Option<CommitRef>,
        findings: Vec<Finding>,
        detected: Option<AiMark>,
    ) {
        let tip = self.tip;
        self.out.add(Violation {
            rule: rule.name.clone(),
            refname: refname.to_owned(),
            commit: commit.map(|c| CommitRef {
                tip: Some(c.oid) == tip,
                ..c
            }),
            mode: rule.mode,
            findings,
            detected,
            message: rule.message.clone(),
        });
    }
}
