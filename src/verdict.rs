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
    /// The AI marks that made the rule apply, said first because the pusher
    /// may not know their tool left any.
    pub detected: Option<String>,
    /// The rule's own `message`.
    pub message: Option<String>,
}

/// A commit, as a violation names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRef {
    pub oid: ObjectId,
    pub subject: String,
}

/// What a rule found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// Too few approvals counted.
    MissingApproval(MissingApproval),
    /// Enough approvals, but `proof = "pusher"` and the push did not come from
    /// an approver.
    ApprovalNotPushed(ApprovalNotPushed),
    /// No trailer with the key (and a value matching the pattern).
    MissingTrailer(MissingTrailer),
    /// `require.signed`, and no signature of a person in the policy.
    Unsigned(Unsigned),
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
            Finding::ApprovalNotPushed(_) => "approval_not_pushed",
            Finding::MissingTrailer(_) => "missing_trailer",
            Finding::Unsigned(_) => "unsigned",
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
    /// What an approval must rest on.
    pub proof: Proof,
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

/// What else than its own trailer an approval rests on (`approvals.proof`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proof {
    /// The trailer's word.
    Trailer,
    /// The approvals count only when an approver pushes.
    Pusher,
    /// An approver counts only when their signature covers the commit.
    Signature,
}

/// One approval looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approval {
    /// The trailer, `Key: value`; `None` for a signed merge that brings the
    /// commit in.
    pub trailer: Option<String>,
    /// Who it names, as the policy knows them; `None` for nobody it knows.
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
    /// `proof = "signature"`, and no signature of the approver covers the commit.
    NotSigned { signature: Signature },
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
pub struct ApprovalNotPushed {
    pub groups: Arc<[String]>,
    /// The approvers that counted, as the policy names them.
    pub approvers: Vec<String>,
    /// Who pushed (`login (VARIABLE)`); `None` when the host named nobody.
    pub pusher: Option<String>,
    /// The host variables read for the pusher.
    pub looked_at: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingTrailer {
    pub key: String,
    /// The regex the value must match, as written.
    pub pattern: Option<String>,
    /// The trailers with that key that were there, `Key: value`.
    pub found: Vec<String>,
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
    /// True when an enforced violation rejects the push.
    pub fn rejects(&self) -> bool {
        self.override_used.is_none() && self.violations.iter().any(|v| v.mode == Mode::Enforce)
    }
}
