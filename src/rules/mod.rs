//! Judging one commit or ref update under one rule: conditions, requirements
//! and the words of each violation.

pub mod deny;
pub mod r#override;

use crate::facts::identity::{Member, Pusher, Who, PUSHER_VARIABLES, PUSH_CERT_KEY};
use crate::facts::signature::SigStatus;
use crate::facts::{self, CommitFacts};
use crate::git::diff::{self, DiffStats};
use crate::policy::{Limits, Mode, Per, Policy, Proof, Rule};
use crate::verdict::{Judgement, OverrideUse, Violation};

/// "for AI-assisted commits", from the rule's conditions, for limit messages.
pub fn limit_scope(rule: &Rule, things: &str) -> String {
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
pub const PATHS_SHOWN: usize = 5;

/// The limits a diff exceeds, each as "deletes 412 files (a/b, a/c, ... and
/// 407 more); the limit for AI-assisted commits is 10".
pub fn over_limits(limits: &Limits, stats: &DiffStats, scope: &str) -> Vec<String> {
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

pub fn split_help(rule: &Rule) -> String {
    if rule.per == Per::Push {
        "push the change in smaller steps that each stay within the limits, or ask an administrator about this rule".into()
    } else {
        "split the change into smaller commits that each stay within the limits (git rebase -i, then `edit` and `git reset HEAD^` to re-commit in parts), or ask an administrator about this rule".into()
    }
}

/// The person (or e-mail) behind the pusher the host reported.
pub fn identify_pusher(policy: &Policy, pusher: &Pusher) -> Who {
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

pub fn no_pusher_what() -> String {
    format!(
        "the rule depends on who pushed, but the git host named nobody (looked at {})",
        PUSHER_VARIABLES.join(", ")
    )
}

pub fn no_pusher_help() -> String {
    "push through the git host (ssh or http with a user), not directly to the repository".into()
}

/// What else than the commit's own text an approval may rest on.
#[derive(Default)]
pub struct Evidence<'a> {
    /// The commit's own signature, when a rule needs it.
    pub sig: Option<&'a SigStatus>,
    /// People whose signed merge in this push brings the commit in.
    pub merge_signers: &'a [usize],
    /// The pusher as the policy knows them, and how to name them.
    pub pusher: Option<(&'a Who, &'a str)>,
}

/// `judge_commit` for a rule that needs neither diffs nor signatures.
pub fn judge_without_diff(
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
pub fn say_what_was_detected(rule: &Rule, c: &CommitFacts, problems: &mut Vec<String>) {
    let w = &rule.when;
    if w.ai_detected == Some(true) || (w.ai_assisted == Some(true) && c.ai_declared.is_none()) {
        if let Some(hit) = &c.ai_detected {
            problems.insert(0, format!("AI assistance detected: {hit}"));
        }
    }
}

/// Whether a rule's `when` holds for a commit, leaving out `touches` (which
/// needs the diff and is checked by the caller, last).
pub fn when_holds(policy: &Policy, rule: &Rule, c: &CommitFacts) -> bool {
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
pub fn sees_merge_diff(rule: &Rule) -> bool {
    rule.when.merge == Some(true)
}

/// Applies the approval and trailer requirements of a rule to one commit.
pub fn check_commit(
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
pub fn check_approvals(
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
pub fn approvers_example(
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
