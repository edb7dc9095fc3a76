//! What judging gives: typed findings, the violations that carry them, and
//! the judgement on a whole push.
//!
//! A finding is data: what was found and the facts behind it, never words.
//! [`crate::report`] renders the words (what was found, how to fix it) from
//! it, for people and for the JSON alike, and the JSON also carries each
//! finding as it is, under a stable `kind`.

use std::sync::Arc;

use serde::Serialize;

use crate::git::oid::ObjectId;
use crate::policy::{DenyKind, Mode};

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: String,
    pub refname: String,
    /// The commit it is about; `None` for the ref update (or the push) as a whole.
    pub commit: Option<CommitRef>,
    pub mode: Mode,
    /// What is wrong, in the order the rule's requirements are listed; never
    /// empty.
    pub findings: Vec<Finding>,
    /// What made the commit AI-assisted for a rule about AI assistance
    /// (the declaration, or the tool's marks), said first: the pusher may
    /// not know their tool left any.
    pub detected: Option<AiMark>,
    /// The rule's own `message`.
    pub message: Option<String>,
}

impl Violation {
    /// A walk of `refname` stopped at `settings.max_commits` (`limit`):
    /// enforced whatever the rules' modes, since the commits past the limit
    /// were never judged.
    pub fn too_many_commits(refname: &str, limit: usize) -> Violation {
        Violation {
            rule: "max-commits".into(),
            refname: refname.to_owned(),
            commit: None,
            mode: Mode::Enforce,
            findings: vec![Finding::TooManyCommits(TooManyCommits { limit })],
            detected: None,
            message: None,
        }
    }
}

/// What made a commit AI-assisted, as a violation names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AiMark {
    /// A disclosure trailer, `Key: value`.
    Declared(String),
    /// A tool's mark: what matched, with the marker's evidence.
    Detected(String),
}

impl AiMark {
    /// The declaration, if it is one.
    pub fn declared(&self) -> Option<&str> {
        match self {
            AiMark::Declared(t) => Some(t),
            AiMark::Detected(_) => None,
        }
    }

    /// The tool's mark, if it is one.
    pub fn detected(&self) -> Option<&str> {
        match self {
            AiMark::Detected(t) => Some(t),
            AiMark::Declared(_) => None,
        }
    }
}

/// A commit, as a violation names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRef {
    pub oid: ObjectId,
    pub subject: String,
    /// Whether it is the tip of its ref update: only there does
    /// `git commit --amend` change it; an older commit takes a rebase.
    pub tip: bool,
}

/// What a rule found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// Too few approvals counted.
    MissingApproval(MissingApproval),
    /// No trailer with the key (and a value matching the pattern).
    MissingTrailer(MissingTrailer),
    /// `require.signed`, and no signature of a person in the policy.
    Unsigned(Unsigned),
    /// `require.author_is_pusher` / `committer_is_pusher`, and someone else pushed.
    NotPushedBy(NotPushedBy),
    /// A commit's diff goes over a size limit.
    OverLimit(OverLimit),
    /// A ref update's net change goes over size limits (`per = "push"`).
    NetChangeOverLimit(NetChangeOverLimit),
    /// The kind of ref update is denied.
    DeniedUpdate(DeniedUpdate),
    /// The rule depends on who pushed, and the host named nobody.
    NoPusher(NoPusher),
    /// The rule covers some repositories (`repos`), and trailgate cannot
    /// tell which repository this is.
    RepositoryUnknown(RepositoryUnknown),
    /// The push brings more commits than `settings.max_commits`.
    TooManyCommits(TooManyCommits),
    /// A break-glass override was asked for and refused.
    OverrideRefused(OverrideRefused),
}

impl Finding {
    /// The finding's `kind`, as the JSON names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Finding::MissingApproval(_) => "missing_approval",
            Finding::MissingTrailer(_) => "missing_trailer",
            Finding::Unsigned(_) => "unsigned",
            Finding::NotPushedBy(_) => "not_pushed_by",
            Finding::OverLimit(_) => "over_limit",
            Finding::NetChangeOverLimit(_) => "net_change_over_limit",
            Finding::DeniedUpdate(_) => "denied_update",
            Finding::NoPusher(_) => "no_pusher",
            Finding::RepositoryUnknown(_) => "repository_unknown",
            Finding::TooManyCommits(_) => "too_many_commits",
            Finding::OverrideRefused(_) => "override_refused",
        }
    }
}

/// A missing approval. What depends only on the rule (its groups, who
/// could approve, the trailer key) is shared between the findings of every
/// commit it rejects: a large push can fail on thousands of commits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingApproval {
    /// Distinct approvals the rule asks for.
    pub need: usize,
    /// The groups an approver must belong to (one of them).
    pub groups: Arc<[String]>,
    /// What an approval may rest on.
    pub proof: Proofs,
    /// Every approval looked at, in order, and why each did or did not count.
    pub found: Vec<Approval>,
    /// People whose approval would count (the first few), as the policy
    /// names them.
    pub candidates: Arc<[String]>,
    /// How many people would count in all.
    pub candidates_total: usize,
    /// A ready-to-paste trailer value (`Name <email>`) for the first of them
    /// with an address.
    pub example: Option<Arc<str>>,
    /// The trailer key that records an approval.
    pub trailer_key: Arc<str>,
}

/// What an approval may rest on (`approvals.proof`, one or a list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proof {
    /// The trailer's word.
    Trailer,
    /// The pusher: a member of `from` who pushes is one approval.
    Pusher,
    /// A signature by a member of `from` that covers the commit.
    Signature,
}

impl Proof {
    pub fn name(self) -> &'static str {
        match self {
            Proof::Trailer => "trailer",
            Proof::Pusher => "pusher",
            Proof::Signature => "signature",
        }
    }
}

/// The proofs a rule's approvals may rest on; each approval counts once,
/// by whichever of them it has. Serialised as the one proof when there is
/// one (`"pusher"`), else as a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Proofs {
    pub trailer: bool,
    pub pusher: bool,
    pub signature: bool,
}

impl Proofs {
    /// Just this one.
    pub fn only(proof: Proof) -> Proofs {
        let mut p = Proofs::default();
        p.add(proof);
        p
    }

    pub fn add(&mut self, proof: Proof) {
        match proof {
            Proof::Trailer => self.trailer = true,
            Proof::Pusher => self.pusher = true,
            Proof::Signature => self.signature = true,
        }
    }

    pub fn has(&self, proof: Proof) -> bool {
        match proof {
            Proof::Trailer => self.trailer,
            Proof::Pusher => self.pusher,
            Proof::Signature => self.signature,
        }
    }

    /// In the order the policy reference lists them.
    pub fn list(&self) -> Vec<Proof> {
        [Proof::Trailer, Proof::Pusher, Proof::Signature]
            .into_iter()
            .filter(|p| self.has(*p))
            .collect()
    }

    /// Whether the rule asks for proof (a pusher or a signature): its
    /// conditions on authors then believe only proven identities.
    pub fn proves_identity(&self) -> bool {
        self.pusher || self.signature
    }

    /// `proof = "pusher"`, `proof = ["pusher", "signature"]`, for messages.
    pub fn shown(&self) -> String {
        match self.list().as_slice() {
            [one] => format!("proof = \"{}\"", one.name()),
            many => format!(
                "proof = [{}]",
                many.iter()
                    .map(|p| format!("\"{}\"", p.name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

impl Serialize for Proofs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.list().as_slice() {
            [one] => one.serialize(s),
            many => many.serialize(s),
        }
    }
}

/// What an approval looked at rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// An approval trailer.
    Trailer,
    /// The push itself (`proof = "pusher"`).
    Push,
    /// The commit's own signature (`proof = "signature"`).
    Signature,
    /// A signed merge in the same push that brings the commit in.
    SignedMerge,
}

/// One approval looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approval {
    pub via: Via,
    /// The trailer, `Key: value`, for an approval by trailer.
    pub trailer: Option<String>,
    /// Who it names, as the policy knows them (for a push, the pusher as
    /// the host named them); `None` for nobody it knows.
    pub approver: Option<String>,
    /// Why it did not count; `None` when it counted.
    pub not_counted: Option<NotCounted>,
}

/// Why an approval did not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum NotCounted {
    /// The trailer names nobody the policy knows (no person, and an address
    /// no group lists or matches), with the known address closest to it
    /// when it looks like a typo of one.
    NamesNobody { did_you_mean: Option<String> },
    /// The approver is the commit's author.
    IsTheAuthor,
    /// The approver is in none of the groups.
    NotInGroups,
    /// The approver was counted already.
    AlreadyCounted,
    /// A trailer, and the rule's proof does not take trailers: the trailer
    /// is only text the pusher typed.
    TrailerIsNoProof,
    /// `proof = "signature"`, and the commit carries no signature of a
    /// person of the policy.
    NotSigned { signature: Signature },
    /// `proof = "pusher"`, and the git host named nobody.
    NoPusher { looked_at: Vec<String> },
}

/// What a commit's signature showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Signature {
    Unsigned,
    /// A valid signature by this person (as the policy names them).
    Good {
        signer: String,
        fingerprint: String,
    },
    /// A signature by a key that belongs to nobody in the policy.
    UnknownKey {
        fingerprint: String,
    },
    /// A signature that does not verify or cannot be read.
    Bad {
        reason: String,
    },
    /// A signature of a format this trailgate cannot verify.
    Unsupported {
        format: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingTrailer {
    pub key: String,
    /// The regex the value must match, as written.
    pub pattern: Option<String>,
    /// The trailers with that key that were there, `Key: value`.
    pub found: Vec<String>,
    /// Lines of the message that read as this trailer but are outside the
    /// trailer block (its last paragraph), so git does not read them as
    /// trailers and they count for nothing (the first few, as written).
    pub outside: Vec<String>,
    /// Values the pattern accepts, to suggest (the first) in the fix;
    /// empty without a pattern or when none could be derived from it
    /// ([`crate::rules::sample`]).
    pub accepted: Arc<[String]>,
}

/// Which identity line of a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Author,
    Committer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotPushedBy {
    /// The line that must name the pusher.
    pub role: Role,
    /// Who that line names, as the policy knows them; `None` for nobody.
    pub who: Option<String>,
    /// Who pushed (`login (VARIABLE)`); `None` when the host named nobody.
    pub pusher: Option<String>,
    /// The host variables read for the pusher.
    pub looked_at: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unsigned {
    pub signature: Signature,
}

/// A size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Limit {
    #[serde(rename = "max_files_changed")]
    FilesChanged,
    #[serde(rename = "max_files_deleted")]
    FilesDeleted,
    #[serde(rename = "max_lines_added")]
    LinesAdded,
    #[serde(rename = "max_lines_deleted")]
    LinesDeleted,
    #[serde(rename = "max_lines_changed")]
    LinesChanged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverLimit {
    pub limit: Limit,
    pub actual: u64,
    pub max: u64,
    /// The first offending paths (for file limits).
    pub paths: Vec<String>,
    /// How many more offending paths there are.
    pub more_paths: usize,
    /// Lines added and deleted (for `max_lines_changed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub added: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<u64>,
    /// What the rule's conditions make the limit about.
    pub scope: LimitScope,
    /// A merge's own changes were measured (against git's clean merge of
    /// its parents, not its first parent).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub of_merge: bool,
}

/// What a rule's limits are about, from its conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LimitScope {
    pub ai_assisted: bool,
    pub merge: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetChangeOverLimit {
    /// Where the net change starts; `None` for the empty tree.
    pub base: Option<ObjectId>,
    pub new: ObjectId,
    pub limits: Vec<OverLimit>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeniedUpdate {
    pub denied: DenyKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoPusher {
    pub looked_at: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepositoryUnknown {
    /// The host variables that name a repository, all unset.
    pub looked_at: Vec<String>,
    /// `settings.repos_root`, which the git directory is not under; `None`
    /// when the policy sets none.
    pub repos_root: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TooManyCommits {
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverrideRefused {
    /// The push option that asks for an override.
    pub push_option: String,
    pub refusal: Refusal,
}

/// Why an override was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Refusal {
    NoPusher { looked_at: Vec<String> },
    NoReason { pusher: String },
    NotAllowed { pusher: String, groups: Vec<String> },
}

/// How many violations of one rule on one ref a judgement keeps, in the
/// order they were found; the rest are only counted (README "What the
/// pusher sees"): a warn-mode rule that fails on every commit of a push of
/// a million commits must not keep a million violations.
pub const KEPT_PER_RULE: usize = 100;

/// How many violations one rule found on one ref, and how many of them
/// the judgement did not keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCount {
    pub rule: String,
    /// Empty for a violation about the push as a whole.
    pub refname: String,
    pub mode: Mode,
    pub violations: usize,
    /// Past [`KEPT_PER_RULE`]: counted, not kept.
    pub truncated: usize,
}

/// The verdict on a whole push.
#[derive(Debug, Default)]
pub struct Judgement {
    /// The violations kept: the first [`KEPT_PER_RULE`] of each rule on
    /// each ref (see `counts` for all of them).
    pub violations: Vec<Violation>,
    /// Every rule and ref with a violation, in order of the first one.
    pub counts: Vec<RuleCount>,
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
    /// The commits `settings.baseline` declared accepted for this
    /// repository, hidden from every walk (for the audit log).
    pub baseline: Vec<BaselineUsed>,
}

/// One point of `settings.baseline` as found in the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineUsed {
    /// The ref it was read from; `None` for a commit id in the policy.
    pub refname: Option<String>,
    /// The commit it stands for (tags peeled).
    pub commit: crate::git::oid::ObjectId,
}

/// A break-glass override (README "Break-glass") that was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideUse {
    /// The pusher, as "alice (GL_USER)".
    pub by: String,
    pub reason: String,
    /// How many enforced violations it let through.
    pub overridden: usize,
}

impl Judgement {
    /// Records a violation: counted always, kept while its rule has fewer
    /// than [`KEPT_PER_RULE`] on its ref.
    pub fn add(&mut self, v: Violation) {
        let i = match self.count_of(&v.rule, &v.refname) {
            Some(i) => i,
            None => {
                self.counts.push(RuleCount {
                    rule: v.rule.clone(),
                    refname: v.refname.clone(),
                    mode: v.mode,
                    violations: 0,
                    truncated: 0,
                });
                self.counts.len() - 1
            }
        };
        let Some(count) = self.counts.get_mut(i) else {
            return;
        };
        count.violations += 1;
        if count.violations > KEPT_PER_RULE {
            count.truncated += 1;
            return;
        }
        self.violations.push(v);
    }

    /// Where `counts` has `rule` on `refname`. Searched from the end: the
    /// engine judges one ref update at a time, whose rules come last.
    fn count_of(&self, rule: &str, refname: &str) -> Option<usize> {
        self.counts
            .iter()
            .rposition(|c| c.rule == rule && c.refname == refname)
    }

    /// Whether `rule` has [`KEPT_PER_RULE`] violations kept on `refname`:
    /// another one would only be counted.
    pub fn is_full(&self, rule: &str, refname: &str) -> bool {
        self.count_of(rule, refname)
            .and_then(|i| self.counts.get(i))
            .is_some_and(|c| c.violations >= KEPT_PER_RULE)
    }

    /// Counts a violation of `rule` on `refname` that would not be kept
    /// ([`Judgement::is_full`]), without building it. Returns false, and
    /// counts nothing, when it would be kept.
    pub fn count_unkept(&mut self, rule: &str, refname: &str) -> bool {
        if !self.is_full(rule, refname) {
            return false;
        }
        if let Some(c) = self
            .count_of(rule, refname)
            .and_then(|i| self.counts.get_mut(i))
        {
            c.violations += 1;
            c.truncated += 1;
        }
        true
    }

    /// Violations of `mode` found but not kept, on `refname` (and on the
    /// push as a whole) or, with `None`, on every ref.
    pub fn truncated(&self, mode: Option<Mode>, refname: Option<&str>) -> usize {
        self.counts
            .iter()
            .filter(|c| mode.is_none_or(|m| c.mode == m))
            .filter(|c| refname.is_none_or(|r| c.refname == r || c.refname.is_empty()))
            .map(|c| c.truncated)
            .sum()
    }

    /// Every violation of `mode` found, kept or not.
    pub fn found(&self, mode: Mode) -> usize {
        self.violations.iter().filter(|v| v.mode == mode).count() + self.truncated(Some(mode), None)
    }

    /// True when an enforced violation rejects the push.
    pub fn rejects(&self) -> bool {
        self.override_used.is_none() && self.violations.iter().any(|v| v.mode == Mode::Enforce)
    }
}
