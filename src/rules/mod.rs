//! Pure judgement: one rule applied to one ref update, one commit or one
//! net change, from facts the engine computed. No git, no threads, no
//! caches: what this module decides, it decides from its arguments.
//!
//! Four questions, each answered by one function that every plan of
//! [`crate::engine`] calls:
//! - [`applies`]: does the rule judge this ref update, for this pusher
//!   (`mode`, `refs`, the pusher conditions, `exempt.pushers`)?
//! - [`selects`]: does it judge this commit (the commit conditions of
//!   `when`, `exempt.authors`)?
//! - [`looks_at_diff`]: does it look at this commit's diff at all?
//! - [`evaluate`]: what does it find wrong with the commit or net change?
//!
//! Evaluation is staged: [`selects`] and [`evaluate`] decide from what they
//! are given (the shape of a commit as the walk read it, its facts, its
//! diff, its signature) and answer that they need more when they cannot, so
//! the engine computes costly facts only for the commits and rules that need
//! them. What a rule requires is a list of requirement kinds, one file each
//! under [`require`].

pub mod deny;
mod load;
pub mod r#override;
pub mod require;
pub mod sample;
pub mod when;

pub use deny::UpdateKind;
pub use load::{load, load_for_judging, parse};
pub use r#override::apply_override;

use crate::facts::identity::Who;
use crate::facts::signature::SigStatus;
use crate::facts::CommitFacts;
use crate::git::diff::DiffStats;
use crate::git::oid::ObjectId;
use crate::policy::Mode;
use crate::push::{Identified, Pusher};
use crate::verdict::{AiMark, Finding, NoPusher, RepositoryUnknown};

/// A policy ready to judge: every rule's `require` table built into typed
/// requirements ([`require::Requires`]).
pub type Policy = crate::policy::Policy<require::Requires>;
/// A rule of a [`Policy`].
pub type Rule = crate::policy::Rule<require::Requires>;

/// How much of a commit's diff is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DiffNeed {
    /// The paths changed.
    Paths,
    /// The paths and the lines added and deleted.
    Lines,
}

/// What judging needs beyond a commit's own facts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// The commit's diff against its first parent, at this detail.
    pub diff: Option<DiffNeed>,
    /// The commit's signature, verified against the people's keys.
    pub signature: bool,
    /// The people whose signed merge in this push brings the commit in.
    pub merge_signers: bool,
}

impl Needs {
    /// Both needs together.
    pub fn and(self, other: Needs) -> Needs {
        Needs {
            diff: self.diff.max(other.diff),
            signature: self.signature || other.signature,
            merge_signers: self.merge_signers || other.merge_signers,
        }
    }

    /// Whether anything is needed.
    pub fn any(&self) -> bool {
        self.diff.is_some() || self.signature || self.merge_signers
    }
}

/// The most a rule may ever need of the commits it judges: what the engine
/// plans with (a rule that needs nothing is judged as the walk reads).
pub fn needs(rule: &Rule) -> Needs {
    rule.require.iter().fold(
        Needs {
            diff: when::diff_need(rule),
            ..Needs::default()
        },
        |needs, r| needs.and(r.needs()),
    )
}

/// Whether the rule judges commits at all (rather than only ref update kinds).
pub fn judges_commits(rule: &Rule) -> bool {
    !rule.require.is_empty()
}

/// The pusher, as the host reported them and as the policy knows them.
#[derive(Debug, Clone)]
pub struct PushedBy<'a> {
    pub pusher: Option<&'a Pusher>,
    /// `None` exactly when the host named nobody.
    pub who: Option<Who>,
    /// The host variables that were read, for messages.
    pub looked_at: &'a [&'a str],
    /// The repository pushed to, as far as trailgate can tell.
    pub repository: Where<'a>,
}

/// Which repository a push went to, as far as trailgate can tell: what
/// `repos` is matched against.
#[derive(Debug, Clone, Copy, Default)]
pub struct Where<'a> {
    /// The name (`acme/payments`); `None` when neither the host nor
    /// `settings.repos_root` names the repository.
    pub name: Option<&'a str>,
    /// The host variables that name a repository, for messages.
    pub looked_at: &'a [&'a str],
}

impl<'a> PushedBy<'a> {
    pub fn new(policy: &Policy, pusher: Option<&'a Pusher>, looked_at: &'a [&'a str]) -> Self {
        PushedBy {
            pusher,
            who: pusher.map(|p| identify_pusher(policy, p)),
            looked_at,
            repository: Where::default(),
        }
    }

    /// The same push, to this repository.
    pub fn to_repository(self, repository: Where<'a>) -> Self {
        PushedBy { repository, ..self }
    }

    /// The pusher for messages: "carol (REMOTE_USER)".
    pub fn shown(&self) -> Option<String> {
        self.pusher.map(|p| format!("{} ({})", p.login, p.source))
    }

    /// The host variables that were read, owned, for a finding.
    pub fn looked_at(&self) -> Vec<String> {
        self.looked_at.iter().map(|s| (*s).to_owned()).collect()
    }
}

/// The person (or e-mail) behind the pusher the host reported: by login,
/// and the host's immutable user id where it gives one; by e-mail address
/// only under `settings.trust_host_emails` (users set their own addresses).
pub fn identify_pusher(policy: &Policy, pusher: &Pusher) -> Who {
    match pusher.by {
        // A signed push: the key identifies the person, never a name git reports.
        Identified::SigningKey => policy
            .keys
            .person_by_fingerprint(&pusher.login)
            .map_or(Who::Unknown, Who::Person),
        // Not verified, or a key that stands for nobody in particular.
        Identified::Certificate | Identified::DeployKey => Who::Unknown,
        Identified::Login => {
            let email = pusher
                .email
                .as_deref()
                .filter(|_| policy.settings.trust_host_emails);
            let user_id = pusher.user_id.as_deref().map(|id| (pusher.host, id));
            policy.directory.pusher(&pusher.login, email, user_id)
        }
    }
}

/// Whether what a rule decides depends on who pushes: its pusher
/// conditions, `exempt.pushers`, or a requirement that rests on the pusher
/// (`proof = "pusher"`). Off the server (`verify`) the pusher is assumed.
pub fn depends_on_pusher(rule: &Rule) -> bool {
    when::needs_pusher(rule)
        || !rule.exempt_pushers.is_empty()
        || rule.require.iter().any(|r| r.uses_pusher())
}

/// Whether a rule judges a ref update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applies {
    No,
    Yes,
    /// It would, but cannot: the update violates it as a whole.
    Fails(Finding),
}

/// Whether the rule judges this ref update: its mode, its `refs`, its
/// `repos`, its pusher conditions and `exempt.pushers`. A rule about the
/// pusher when the host named nobody, and a rule about some repositories
/// when the repository's name is unknown, fail rather than not applying.
pub fn applies(rule: &Rule, refname: &str, pushed: &PushedBy<'_>, policy: &Policy) -> Applies {
    if rule.mode == Mode::Off || !rule.applies_to(refname) {
        return Applies::No;
    }
    if rule.repos.is_some() {
        match pushed.repository.name {
            Some(name) if !rule.covers_repository(name) => return Applies::No,
            Some(_) => {}
            None => {
                return Applies::Fails(Finding::RepositoryUnknown(RepositoryUnknown {
                    looked_at: pushed
                        .repository
                        .looked_at
                        .iter()
                        .map(|s| (*s).to_owned())
                        .collect(),
                    repos_root: policy
                        .settings
                        .repos_root
                        .as_ref()
                        .map(|r| r.display().to_string()),
                }))
            }
        }
    }
    let dir = &policy.directory;
    let exempt = !rule.exempt_pushers.is_empty()
        && pushed
            .who
            .as_ref()
            .is_some_and(|who| dir.in_any(who, &rule.exempt_pushers));
    if exempt {
        return Applies::No;
    }
    if when::needs_pusher(rule) {
        match &pushed.who {
            None => {
                return Applies::Fails(Finding::NoPusher(NoPusher {
                    looked_at: pushed.looked_at(),
                }))
            }
            Some(who) if !when::pusher_matches(rule, dir, who) => return Applies::No,
            Some(_) => {}
        }
    }
    Applies::Yes
}

/// What is known of a commit when a rule is asked about it.
#[derive(Debug, Clone, Copy)]
pub enum Known<'a> {
    /// Only its shape, as the walk read it.
    Shape { merge: bool },
    /// Its facts.
    Facts(&'a CommitFacts),
}

impl Known<'_> {
    pub fn is_merge(&self) -> bool {
        match self {
            Known::Shape { merge } => *merge,
            Known::Facts(c) => c.is_merge(),
        }
    }
}

/// Whether a rule judges a commit, or what it needs to know to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selects {
    No,
    Yes,
    /// The commit's facts (trailers, author, AI marks).
    NeedsFacts,
    /// The commit's diff (`touches`).
    NeedsDiff(DiffNeed),
    /// What proves who its author is: the pusher and its signature
    /// (under proven identity).
    NeedsProof,
}

/// What proves who wrote a commit, as far as it is known: the pusher and
/// the commit's signature.
#[derive(Debug, Clone, Copy, Default)]
pub struct Evidence<'a> {
    pub pushed: Option<&'a PushedBy<'a>>,
    pub signature: Option<&'a SigStatus>,
}

/// Whether the rule judges this commit: `exempt.authors` and every commit
/// condition of `when` (the author as [`when::author`] takes it).
pub fn selects(
    rule: &Rule,
    policy: &Policy,
    commit: Known<'_>,
    diff: Option<&DiffStats>,
    evidence: Evidence<'_>,
) -> Selects {
    when::selects(rule, &policy.directory, commit, diff, evidence)
}

/// Whether the rule looks at the diff of a commit, and at what detail;
/// `None` when it does not. A merge's diff is its own changes (its tree
/// against the clean merge of its parents, as `git show --remerge-diff`
/// shows them), so every rule that selects a merge measures it: a clean
/// merge measures nothing, an evil resolution or a dropped side counts.
pub fn looks_at_diff(rule: &Rule) -> Option<DiffNeed> {
    needs(rule).diff
}

/// Whether [`evaluate`] will ask for this commit's diff: the rule selects
/// it, or needs the diff to say, and looks at its diff. `None` when that
/// takes the commit's facts. Where selecting takes proof of the author,
/// the diff is wanted if the rule would look at it: computing one too many
/// costs time, never a verdict.
pub fn wants_diff(
    rule: &Rule,
    policy: &Policy,
    commit: Known<'_>,
    evidence: Evidence<'_>,
) -> Option<bool> {
    match selects(rule, policy, commit, None, evidence) {
        Selects::No => Some(false),
        Selects::Yes | Selects::NeedsProof => Some(looks_at_diff(rule).is_some()),
        Selects::NeedsDiff(_) => Some(true),
        Selects::NeedsFacts => None,
    }
}

/// What a rule is judging.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// One commit (`per = "commit"`).
    Commit(&'a CommitFacts),
    /// The net change of a ref update from `base` (`None`: the empty tree)
    /// to `new` (`per = "push"`).
    NetChange {
        base: Option<ObjectId>,
        new: ObjectId,
    },
}

/// Everything [`evaluate`] may look at; what the engine has not computed is `None`.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub policy: &'a Policy,
    pub subject: Subject<'a>,
    /// The commit's diff, or the net change's.
    pub diff: Option<&'a DiffStats>,
    pub signature: Option<&'a SigStatus>,
    pub merge_signers: Option<&'a [usize]>,
    pub pushed: &'a PushedBy<'a>,
}

/// What evaluating a rule gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The rule does not select the subject, or every requirement holds.
    Pass,
    Fail {
        findings: Vec<Finding>,
        /// What made the commit AI-assisted, to name first (see
        /// [`crate::verdict::Violation`]).
        detected: Option<AiMark>,
    },
    /// Ask again with these.
    Needs(Needs),
}

/// Applies a rule to a commit or a net change: selection first, then each
/// requirement in the order of [`require::KINDS`].
pub fn evaluate(rule: &Rule, input: &Input<'_>) -> Outcome {
    let commit = match input.subject {
        Subject::Commit(c) => {
            let evidence = Evidence {
                pushed: Some(input.pushed),
                signature: input.signature,
            };
            match selects(rule, input.policy, Known::Facts(c), input.diff, evidence) {
                Selects::No => return Outcome::Pass,
                Selects::NeedsDiff(level) => {
                    return Outcome::Needs(Needs {
                        diff: Some(level),
                        ..Needs::default()
                    })
                }
                // The pusher is given: what is missing is the signature.
                Selects::NeedsProof if input.signature.is_none() => {
                    return Outcome::Needs(Needs {
                        signature: true,
                        ..Needs::default()
                    })
                }
                // With the facts given, only the diff and the signature can
                // be missing; were anything else asked, judging the commit
                // is the safe side.
                Selects::Yes | Selects::NeedsFacts | Selects::NeedsProof => {}
            }
            Some(c)
        }
        // Whether a net change is judged was decided over its commits.
        Subject::NetChange { .. } => None,
    };
    let mut missing = Needs::default();
    let mut findings = Vec::new();
    for requirement in rule.require.iter() {
        if let Err(needs) = requirement.check(rule, input, &mut findings) {
            missing = missing.and(needs);
        }
    }
    if missing.any() {
        return Outcome::Needs(missing);
    }
    if findings.is_empty() {
        return Outcome::Pass;
    }
    Outcome::Fail {
        findings,
        detected: commit.and_then(|c| when::detected(rule, c)),
    }
}
