//! Evaluation: the validated policy applied to the ref updates of a push and
//! the commits each brings in, producing violations.
//!
//! A violation is data, not an error: `Err` from [`judge`] means trailgate
//! could not judge (a missing object, a branch pointing at a tree), which the
//! caller turns into a rejected push.

use std::collections::HashMap;

use git2::{Oid, Repository};
use thiserror::Error;

use crate::facts::{self, CommitFacts};
use crate::identity::{Member, Pusher, Who, PUSHER_VARIABLES};
use crate::policy::{DenyKind, Mode, Policy, Rule};
use crate::push::RefUpdate;
use crate::repo::{self, ExistingRef, RepoError};
use crate::walk::{WalkError, Walker};

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
}

impl Judgement {
    /// True when an enforced violation rejects the push.
    pub fn rejects(&self) -> bool {
        self.violations.iter().any(|v| v.mode == Mode::Enforce)
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
    #[error("{refname}: commit {oid} cannot be read: {reason}")]
    BadCommit {
        refname: String,
        oid: Oid,
        reason: String,
    },
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
        walker: Walker::new(odb),
        facts: HashMap::new(),
        existing: None,
        walks: HashMap::new(),
        out: Judgement::default(),
    };
    for update in updates {
        engine.update(update)?;
    }
    engine.out.commits_checked = engine.facts.len();
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
    facts: HashMap<Oid, CommitFacts>,
    existing: Option<Vec<ExistingRef>>,
    walks: HashMap<(Oid, Vec<Oid>), Vec<Oid>>,
    out: Judgement,
}

impl Engine<'_, '_> {
    fn update(&mut self, update: &RefUpdate) -> Result<(), JudgeError> {
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
            let commits = match self.commits_for(rule, refname, new, old_commit) {
                Ok(commits) => commits,
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
            for oid in commits {
                let facts = self.facts(refname, oid)?.clone();
                if let Some((what, help)) = judge_commit(self.policy, rule, &facts) {
                    self.push_violation(rule, refname, Some(&facts), what, help);
                }
            }
        }
        Ok(())
    }

    fn push_violation(
        &mut self,
        rule: &Rule,
        refname: &str,
        commit: Option<&CommitFacts>,
        what: String,
        help: String,
    ) {
        self.out.violations.push(Violation {
            rule: rule.name.clone(),
            refname: refname.to_owned(),
            commit: commit.map(|c| c.oid),
            subject: commit.map(|c| c.subject.clone()),
            mode: rule.mode,
            what,
            message: rule.message.clone(),
            help,
        });
    }

    fn pusher_who(&self) -> Option<Who> {
        self.ctx
            .pusher
            .map(|p| self.policy.directory.pusher(&p.login, p.email.as_deref()))
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
    ) -> Result<Vec<Oid>, JudgeError> {
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
            return Ok(found.clone());
        }
        let found = self
            .walker
            .walk(&[new], &key.1, self.policy.settings.max_commits)
            .map_err(|source| JudgeError::Walk {
                refname: refname.to_owned(),
                source,
            })?;
        self.walks.insert(key, found.clone());
        Ok(found)
    }

    fn facts(&mut self, refname: &str, oid: Oid) -> Result<&CommitFacts, JudgeError> {
        if !self.facts.contains_key(&oid) {
            let read_err = |e| JudgeError::Repo {
                refname: refname.to_owned(),
                source: repo::missing(oid, e),
            };
            let odb = self.repo.odb().map_err(read_err)?;
            let object = odb.read(oid).map_err(read_err)?;
            let facts = facts::of_commit(oid, object.data(), self.policy).map_err(|reason| {
                JudgeError::BadCommit {
                    refname: refname.to_owned(),
                    oid,
                    reason,
                }
            })?;
            self.facts.insert(oid, facts);
        }
        self.facts.get(&oid).ok_or_else(|| JudgeError::BadCommit {
            refname: refname.to_owned(),
            oid,
            reason: "facts vanished from the cache".into(),
        })
    }
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

/// Applies one rule to one commit: `None` when it passes or does not apply.
fn judge_commit(policy: &Policy, rule: &Rule, c: &CommitFacts) -> Option<(String, String)> {
    let dir = &policy.directory;
    if dir.in_any(&c.author_who, &rule.exempt_authors) {
        return None;
    }
    let w = &rule.when;
    let holds = w.ai_assisted.is_none_or(|b| c.ai_assisted() == b)
        && w.ai_declared.is_none_or(|b| c.ai_declared.is_some() == b)
        && w.ai_detected.is_none_or(|b| c.ai_detected.is_some() == b)
        && (w.author_in.is_empty() || dir.in_any(&c.author_who, &w.author_in))
        && (w.author_not_in.is_empty() || !dir.in_any(&c.author_who, &w.author_not_in))
        && w.message.as_ref().is_none_or(|re| re.is_match(&c.message))
        && w.merge.is_none_or(|b| c.is_merge() == b);
    if !holds {
        return None;
    }
    let mut problems: Vec<String> = Vec::new();
    let mut helps: Vec<String> = Vec::new();
    if let Some(approvals) = &rule.require.approvals {
        if let Some((what, help)) = check_approvals(policy, approvals, c) {
            problems.push(what);
            helps.push(help);
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
) -> Option<(String, String)> {
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
    if counted.len() >= approvals.count {
        return None;
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
