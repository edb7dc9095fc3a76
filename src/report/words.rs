//! The words of a violation, rendered from its typed findings: what was
//! found (one line, the findings joined by "; ") and how to fix it (a line
//! or more). The text report, the JSON and the audit log all say it this way.

use crate::policy::DenyKind;
use crate::verdict::{
    Approval, ApprovalNotPushed, Finding, Limit, LimitScope, MissingApproval, MissingTrailer,
    NetChangeOverLimit, NotCounted, OverLimit, OverrideRefused, Proof, Refusal, Signature,
    Violation,
};

/// What was found, in plain words.
pub fn what(v: &Violation) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(hit) = &v.detected {
        parts.push(format!("AI assistance detected: {hit}"));
    }
    for finding in &v.findings {
        parts.push(finding_what(v, finding));
    }
    parts.join("; ")
}

/// How to fix it: one entry per finding that has advice, the advice on
/// splitting a change said once.
pub fn help(v: &Violation) -> String {
    let mut helps: Vec<String> = Vec::new();
    let mut split_said = false;
    for finding in &v.findings {
        if let Finding::OverLimit(_) = finding {
            if split_said {
                continue;
            }
            split_said = true;
        }
        helps.push(finding_help(v, finding));
    }
    helps.join("\n")
}

fn finding_what(v: &Violation, finding: &Finding) -> String {
    match finding {
        Finding::MissingApproval(f) => missing_approval(f),
        Finding::ApprovalNotPushed(f) => {
            let groups = group_words(&f.groups);
            match &f.pusher {
                Some(pusher) => format!("the approvals count only when a member of {groups} pushes the commit (proof = \"pusher\"); this push came from {pusher}"),
                None => format!("the approvals count only when a member of {groups} pushes the commit (proof = \"pusher\"), but the git host named nobody (looked at {})", f.looked_at.join(", ")),
            }
        }
        Finding::MissingTrailer(f) => missing_trailer(f),
        Finding::Unsigned(f) => format!(
            "needs a signature made with the SSH key of a person in [people]; {}",
            signature(&f.signature)
        ),
        Finding::OverLimit(f) => over_limit(&v.rule, f, "commits"),
        Finding::NetChangeOverLimit(f) => net_change(&v.rule, f),
        Finding::DeniedUpdate(f) => {
            let refname = &v.refname;
            match f.denied {
                DenyKind::Create => format!("creating {refname} is not allowed"),
                DenyKind::Update => format!("moving {refname} is not allowed"),
                DenyKind::ForcePush => {
                    format!("{refname} cannot be force-pushed (the update is not a fast-forward)")
                }
                DenyKind::Delete => format!("deleting {refname} is not allowed"),
            }
        }
        Finding::NoPusher(f) => format!(
            "the rule depends on who pushed, but the git host named nobody (looked at {})",
            f.looked_at.join(", ")
        ),
        Finding::RepositoryUnknown(f) => format!(
            "repository name unknown: the rule covers only the repositories its `repos` names, none of {} is set, and {}; so the rule applies, and rejects",
            f.looked_at.join(", "),
            f.repos_root.as_ref().map_or_else(
                || "the policy sets no settings.repos_root".to_owned(),
                |root| format!("the repository is not under settings.repos_root ({root})")
            )
        ),
        Finding::TooManyCommits(f) => format!(
            "the push brings more than {} new commits, more than the policy lets trailgate judge",
            f.limit
        ),
        Finding::OverrideRefused(f) => override_refused(f),
    }
}

fn finding_help(v: &Violation, finding: &Finding) -> String {
    match finding {
        Finding::MissingApproval(f) => approval_help(v, f),
        Finding::ApprovalNotPushed(ApprovalNotPushed { pusher: Some(_), approvers, .. }) => {
            format!("ask one of the approvers ({}) to push it", approvers.join(", "))
        }
        Finding::ApprovalNotPushed(_) | Finding::NoPusher(_) => no_pusher_help(),
        Finding::MissingTrailer(f) => {
            format!("git commit --amend --trailer \"{}: <value>\"", f.key)
        }
        Finding::Unsigned(_) => "sign it with your SSH key: git -c gpg.format=ssh -c user.signingkey=~/.ssh/id_ed25519.pub commit --amend --no-edit -S".into(),
        Finding::OverLimit(_) => "split the change into smaller commits that each stay within the limits (git rebase -i, then `edit` and `git reset HEAD^` to re-commit in parts), or ask an administrator about this rule".into(),
        Finding::NetChangeOverLimit(_) => "push the change in smaller steps that each stay within the limits, or ask an administrator about this rule".into(),
        Finding::DeniedUpdate(f) => match f.denied {
            DenyKind::ForcePush => {
                "fetch, rebase or merge onto the current tip, and push without --force".into()
            }
            DenyKind::Create => {
                "push to a ref name the rule does not cover, or ask an administrator".into()
            }
            DenyKind::Update | DenyKind::Delete => {
                "leave this ref as it is; ask an administrator if it really must change".into()
            }
        },
        Finding::RepositoryUnknown(_) => "ask an administrator to set settings.repos_root to the folder the repositories live in, or to run the hook where the host names the repository".into(),
        Finding::TooManyCommits(_) => "push the history in smaller parts, or ask an administrator to raise settings.max_commits".into(),
        Finding::OverrideRefused(f) => match &f.refusal {
            Refusal::NoPusher { .. } => no_pusher_help(),
            Refusal::NoReason { .. } => override_example(&f.push_option),
            Refusal::NotAllowed { groups, .. } => format!(
                "fix the violations, or ask a member of {} to push with {}",
                groups.join(" or "),
                override_example(&f.push_option)
            ),
        },
    }
}

fn no_pusher_help() -> String {
    "push through the git host (ssh or http with a user), not directly to the repository".into()
}

/// "group senior", "groups senior or leads".
fn group_words(groups: &[String]) -> String {
    match groups {
        [one] => format!("group {one}"),
        many => format!("groups {}", many.join(" or ")),
    }
}

fn missing_approval(f: &MissingApproval) -> String {
    let groups = group_words(&f.groups);
    let need = match f.need {
        1 => format!("needs an approval from {groups}"),
        n => format!("needs {n} approvals from distinct members of {groups}"),
    };
    let found = if f.found.is_empty() {
        format!("found no `{}` trailer", f.trailer_key)
    } else {
        let notes: Vec<String> = f.found.iter().map(|a| approval(a, &groups)).collect();
        format!("found {}", notes.join("; "))
    };
    format!("{need}; {found}")
}

fn approval(a: &Approval, groups: &str) -> String {
    let Some(trailer) = &a.trailer else {
        return format!(
            "a merge signed by {} brings it in (counted)",
            a.approver.as_deref().unwrap_or("nobody the policy knows")
        );
    };
    let reason = match &a.not_counted {
        None => return format!("`{trailer}` (counted)"),
        Some(NotCounted::NamesNobody { did_you_mean: Some(known) }) => format!("which names nobody the policy knows; did you mean {known}?"),
        Some(NotCounted::NamesNobody { did_you_mean: None }) => "which names nobody the policy knows (write `Name <email>` with the approver's listed e-mail)".to_owned(),
        Some(NotCounted::IsTheAuthor) => "who is the commit's author; nobody approves their own commit".to_owned(),
        Some(NotCounted::NotInGroups) => format!("who is not in {groups}"),
        Some(NotCounted::AlreadyCounted) => "who was already counted once".to_owned(),
        Some(NotCounted::NotSigned { signature: sig }) => format!(
            "but no signature of theirs covers the commit ({})",
            signature(sig)
        ),
    };
    format!("`{trailer}`, {reason}")
}

fn approval_help(v: &Violation, f: &MissingApproval) -> String {
    let asked = match f.candidates_total {
        0 => format!("a member of {}", f.groups.join(" or ")),
        1..=3 => f.candidates.join(" or "),
        total => format!("{} (or another of {total})", f.candidates.join(", ")),
    };
    let key = &f.trailer_key;
    let trailer = f.example.as_deref().unwrap_or("Name <email>");
    if f.proof == Proof::Signature {
        return format!(
            "ask {asked} to review it and sign their approval with their SSH key: git -c gpg.format=ssh commit --amend -S --trailer \"{key}: {trailer}\" (or merge it with a signed merge: git merge -S --no-ff)"
        );
    }
    let short = v.commit.as_ref().map(|c| c.oid.short()).unwrap_or_default();
    format!(
        "ask {asked} to review it, then record the approval: git commit --amend --trailer \"{key}: {trailer}\"\n(for an older commit: git rebase -i {short}~1, mark it `reword` and add the trailer)"
    )
}

fn missing_trailer(f: &MissingTrailer) -> String {
    let wanted = match &f.pattern {
        Some(p) => format!("a trailer `{}` whose value matches `{p}`", f.key),
        None => format!("a trailer `{}`", f.key),
    };
    let seen = if f.found.is_empty() {
        "none".to_owned()
    } else {
        f.found
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("needs {wanted}; found {seen}")
}

/// What a signature showed, as a clause.
fn signature(sig: &Signature) -> String {
    match sig {
        Signature::Unsigned => "the commit is not signed".into(),
        Signature::Good { signer, .. } => format!("the commit is signed by {signer}"),
        Signature::UnknownKey { fingerprint } => format!(
            "the commit is signed with key {fingerprint}, which belongs to nobody in [people]"
        ),
        Signature::Bad { reason } => format!("the commit's signature is not valid ({reason})"),
        Signature::Unsupported { format } => format!(
            "the commit has an {format} signature, which trailgate cannot verify (use gpg.format=ssh)"
        ),
    }
}

/// "the limit for AI-assisted commits is", "the limit for commits under rule x is".
fn scope(rule: &str, scope: LimitScope, things: &str) -> String {
    let mut words = Vec::new();
    if scope.ai_assisted {
        words.push("AI-assisted");
    }
    if scope.merge {
        words.push("merge");
    }
    if words.is_empty() {
        format!("the limit for {things} under rule {rule} is")
    } else {
        format!("the limit for {} {things} is", words.join(" "))
    }
}

/// "deletes 412 files (a/b, a/c, ... and 407 more); the limit for
/// AI-assisted commits is 10".
fn over_limit(rule: &str, f: &OverLimit, things: &str) -> String {
    let scope = scope(rule, f.scope, things);
    let paths = || {
        let mut shown = f.paths.clone();
        if f.more_paths > 0 {
            shown.push(format!("and {} more", f.more_paths));
        }
        shown.join(", ")
    };
    let (actual, max) = (f.actual, f.max);
    match f.limit {
        Limit::FilesChanged => format!("changes {actual} files ({}); {scope} {max}", paths()),
        Limit::FilesDeleted => format!("deletes {actual} files ({}); {scope} {max}", paths()),
        Limit::LinesAdded => format!("adds {actual} lines; {scope} {max}"),
        Limit::LinesDeleted => format!("deletes {actual} lines; {scope} {max}"),
        Limit::LinesChanged => format!(
            "changes {actual} lines ({} added, {} deleted); {scope} {max}",
            f.added.unwrap_or(0),
            f.deleted.unwrap_or(0)
        ),
    }
}

fn net_change(rule: &str, f: &NetChangeOverLimit) -> String {
    let from = match f.base {
        Some(b) => format!("from {} to {}", b.short(), f.new.short()),
        None => format!("from the empty tree to {}", f.new.short()),
    };
    let over: Vec<String> = f
        .limits
        .iter()
        .map(|l| over_limit(rule, l, "pushes"))
        .collect();
    format!("the push's net change ({from}) {}", over.join("; "))
}

fn override_example(push_option: &str) -> String {
    format!("git push -o {push_option}=\"INC-1234: what broke and why this push must go in now\"")
}

fn override_refused(f: &OverrideRefused) -> String {
    match &f.refusal {
        Refusal::NoPusher { looked_at } => format!(
            "an override was asked for, but the git host named no pusher (looked at {}), so nobody can be authorised",
            looked_at.join(", ")
        ),
        Refusal::NoReason { pusher } => format!(
            "the override from {pusher} gives no reason; a reason is required and is recorded"
        ),
        Refusal::NotAllowed { pusher, groups } => format!(
            "{pusher} may not override: only members of {} may",
            groups.join(" or ")
        ),
    }
}
