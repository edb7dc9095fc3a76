//! The words of a violation, rendered from its typed findings: what was
//! found (one line, the findings joined by "; ") and how to fix it (a line
//! or more). The text report, the JSON and the audit log all say it this way.

use crate::policy::DenyKind;
use crate::verdict::{
    AiMark, Approval, Finding, Limit, LimitScope, MissingApproval, MissingTrailer,
    NetChangeOverLimit, NotCounted, NotPushedBy, OverLimit, OverrideRefused, Refusal, Role,
    Signature, Via, Violation,
};

/// What was found, in plain words.
pub fn what(v: &Violation) -> String {
    let mut parts: Vec<String> = Vec::new();
    match &v.detected {
        Some(AiMark::Declared(trailer)) => {
            parts.push(format!("AI-assisted: declared by `{trailer}`"))
        }
        Some(AiMark::Detected(hit)) => parts.push(format!("AI assistance detected: {hit}")),
        None => {}
    }
    for finding in &v.findings {
        parts.push(finding_what(v, finding));
    }
    parts.join("; ")
}

/// How to fix it: one entry per finding that has advice, the advice on
/// splitting a change said once.
pub fn help(v: &Violation) -> String {
    help_for(v, &target(v))
}

/// Which commits a fix is for: `git commit --amend` changes only the tip
/// of what is pushed; an older commit, or several, take a rebase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The tip of the ref update (or no commit at all).
    Tip,
    /// One older commit, by its short id.
    Older(String),
    /// Several commits with the same violation (the text report's groups):
    /// the oldest of them, by its short id, and whether they are every
    /// commit judged for the ref (so that a fix may touch each commit from
    /// the oldest to the tip).
    Many { oldest: String, all: bool },
}

/// The target of one violation's fix.
pub fn target(v: &Violation) -> Target {
    match &v.commit {
        Some(c) if !c.tip => Target::Older(c.oid.short()),
        _ => Target::Tip,
    }
}

/// [`help`] for a fix that covers `to`: one violation's commit or a group's.
pub fn help_for(v: &Violation, to: &Target) -> String {
    let mut helps: Vec<String> = Vec::new();
    let mut split_said = false;
    for finding in &v.findings {
        if let Finding::OverLimit(_) = finding {
            if split_said {
                continue;
            }
            split_said = true;
        }
        helps.push(finding_help(v, finding, to));
    }
    helps.join("\n")
}

fn finding_what(v: &Violation, finding: &Finding) -> String {
    match finding {
        Finding::MissingApproval(f) => missing_approval(f),
        Finding::MissingTrailer(f) => missing_trailer(f),
        Finding::NotPushedBy(f) => {
            let line = match f.role {
                Role::Author => "author",
                Role::Committer => "committer",
            };
            let who = f.who.as_deref().unwrap_or("nobody the policy knows");
            match &f.pusher {
                Some(pusher) => format!("the commit's {line} must be the pusher; its {line} is {who}, and the push came from {pusher}"),
                None => format!("the commit's {line} must be the pusher, but the git host named nobody (looked at {})", f.looked_at.join(", ")),
            }
        }
        Finding::Unsigned(f) => format!(
            "needs a signature made with the SSH or OpenPGP key of a person in [people]; {}",
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

fn finding_help(v: &Violation, finding: &Finding, to: &Target) -> String {
    match finding {
        Finding::MissingApproval(f) => approval_help(f, to),
        Finding::NoPusher(_) | Finding::NotPushedBy(NotPushedBy { pusher: None, .. }) => {
            no_pusher_help()
        }
        Finding::NotPushedBy(f) => match f.role {
            Role::Author => "push only commits you wrote, or ask their author to push them (to take a commit over as yours: git commit --amend --reset-author --no-edit)".into(),
            Role::Committer => "push only commits you committed (git commit --amend --no-edit makes you the tip's committer; git rebase --force-rebase origin/main does it for every commit)".into(),
        },
        Finding::MissingTrailer(f) => trailer_help(f, to),
        Finding::Unsigned(_) => {
            let sign = "git -c gpg.format=ssh -c user.signingkey=~/.ssh/id_ed25519.pub commit --amend --no-edit -S";
            match to {
                Target::Tip => format!("sign it with your SSH key: {sign}"),
                Target::Older(c) => format!("sign it and the commits after it with your SSH key: git rebase {c}~1 --exec '{sign}'"),
                Target::Many { oldest, .. } => format!("sign them with your SSH key, with every commit from {oldest} to the tip: git rebase {oldest}~1 --exec '{sign}'"),
            }
        }
        Finding::OverLimit(f) if f.of_merge => format!("a merge is measured by what it changed itself, against git's clean merge of its parents (`git show --remerge-diff {}` shows it): redo the merge keeping git's result except where you resolve conflicts, and make other changes in commits of their own", v.commit.as_ref().map_or_else(String::new, |c| c.oid.short())),
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

/// The command that adds the trailer line `trailer` to the commits of `to`:
/// amending the tip, rewording an older commit in a rebase; for several, a
/// rebase that amends each commit from the oldest to the tip when they are
/// all of them, else one that rewords those listed (the others must not get
/// a declaration or an approval they do not have).
pub fn add_trailer(to: &Target, trailer: &str) -> String {
    match to {
        Target::Tip => format!("git commit --amend --trailer \"{trailer}\""),
        Target::Older(c) => format!(
            "git rebase -i {c}~1, mark {c} `reword`, and end its message with the line `{trailer}` (after a blank line, or in the trailers it ends with)"
        ),
        Target::Many { oldest, all: true } => format!(
            "git rebase {oldest}~1 --exec 'git commit --amend --no-edit --trailer \"{}\"' (every commit from {oldest} to the tip needs it)",
            trailer.replace('\'', "'\\''")
        ),
        Target::Many { oldest, all: false } => format!(
            "git rebase -i {oldest}~1, mark each commit listed above `reword`, and end each message with the line `{trailer}` (after a blank line, or in the trailers it ends with)"
        ),
    }
}

/// The fix for a missing trailer, with a value the rule accepts.
fn trailer_help(f: &MissingTrailer, to: &Target) -> String {
    let value = match (f.accepted.first(), &f.pattern) {
        (Some(value), _) => value.clone(),
        (None, Some(p)) => format!("<a value matching {p}>"),
        (None, None) => "<value>".to_owned(),
    };
    let mut help = add_trailer(to, &format!("{}: {value}", f.key));
    if !f.outside.is_empty() {
        help = format!("put it in the trailer block: {help}");
    }
    if f.accepted.len() > 1 {
        help.push_str(&format!("\n(accepted values: {})", f.accepted.join(", ")));
    }
    help
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
    let proof = if f.proof.trailer && !f.proof.pusher && !f.proof.signature {
        String::new()
    } else {
        format!(" ({})", f.proof.shown())
    };
    let need = match f.need {
        1 => format!("needs an approval from {groups}{proof}"),
        n => format!("needs {n} approvals from distinct members of {groups}{proof}"),
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
    let who = a.approver.as_deref().unwrap_or("nobody the policy knows");
    match &a.not_counted {
        Some(NotCounted::NotSigned { signature: sig }) => {
            return format!("no signature by a member of {groups} ({})", signature(sig))
        }
        Some(NotCounted::NoPusher { looked_at }) => {
            return format!(
                "no push by a member of {groups} (the git host named nobody; looked at {})",
                looked_at.join(", ")
            )
        }
        _ => {}
    }
    let what = match (a.via, &a.trailer) {
        (Via::Trailer, Some(trailer)) => format!("`{trailer}`"),
        (Via::Trailer, None) => "a trailer".to_owned(),
        (Via::Push, _) => format!("the push by {who}"),
        (Via::Signature, _) => format!("a signature by {who}"),
        (Via::SignedMerge, _) => format!("a merge signed by {who} that brings it in"),
    };
    let reason = match &a.not_counted {
        None => return format!("{what} (counted)"),
        Some(NotCounted::NamesNobody { .. }) if a.via == Via::Push => "who is nobody the policy knows (no person in [people] has that login)".to_owned(),
        Some(NotCounted::NamesNobody { did_you_mean: Some(known) }) => format!("which names nobody the policy knows; did you mean {known}?"),
        Some(NotCounted::NamesNobody { did_you_mean: None }) => "which names nobody the policy knows (write `Name <email>` with the approver's listed e-mail)".to_owned(),
        Some(NotCounted::IsTheAuthor) => "who is the commit's author; nobody approves their own commit".to_owned(),
        Some(NotCounted::NotInGroups) => format!("who is not in {groups}"),
        Some(NotCounted::AlreadyCounted) => "who was already counted once".to_owned(),
        Some(NotCounted::TrailerIsNoProof) => "which does not count by itself: a trailer is only text that anyone can type".to_owned(),
        // Said in full above.
        Some(NotCounted::NotSigned { .. } | NotCounted::NoPusher { .. }) => String::new(),
    };
    format!("{what}, {reason}")
}

/// How to get the approvals, by the rule's proof (a trailer, a push or
/// merge by an approver, an approver's signature) and by which commits the
/// fix is for (`git commit --amend` changes only the tip).
fn approval_help(f: &MissingApproval, to: &Target) -> String {
    // Whom to ask: only people whose approval would still count (the
    // candidates leave out the author and those already counted), and as
    // many of them as approvals are missing.
    let counted = f.found.iter().filter(|a| a.not_counted.is_none()).count();
    let more = f.need.saturating_sub(counted).max(1);
    let asked = match (more, f.candidates_total) {
        (_, 0) => format!("a member of {}", f.groups.join(" or ")),
        (1, 1..=3) => f.candidates.join(" or "),
        (1, total) => format!("{} (or another of {total})", f.candidates.join(", ")),
        (_, 1..=3) => format!("{more} of {}", f.candidates.join(", ")),
        (_, total) => format!(
            "{more} of {} (or others of the {total})",
            f.candidates.join(", ")
        ),
    };
    let asked = match (f.need, more) {
        (1, _) => asked,
        (_, 1) => format!("{asked} (1 more approval is needed)"),
        (_, n) => format!("{asked} ({n} more approvals are needed, each from a different person)"),
    };
    let key = &f.trailer_key;
    let trailer = f.example.as_deref().unwrap_or("Name <email>");
    let it = if matches!(to, Target::Many { .. }) {
        "them"
    } else {
        "it"
    };
    let mut ways: Vec<String> = Vec::new();
    if f.proof.pusher {
        ways.push(format!("push {it} (or merge the merge request) themselves"));
    }
    if f.proof.signature {
        ways.push(match to {
            Target::Tip => "sign it with their key: git commit --amend -S --no-edit (add -c gpg.format=ssh for an SSH key), or bring it in with a signed merge: git merge -S --no-ff".to_owned(),
            Target::Older(c) => format!("sign their approval with their key: a signed merge that brings it in (git merge -S --no-ff), or git rebase -i {c}~1, mark {c} `edit`, run git commit --amend -S --no-edit (add -c gpg.format=ssh for an SSH key), then git rebase --continue"),
            Target::Many { .. } => "sign their approval with their key: a signed merge that brings them all in (git merge -S --no-ff)".to_owned(),
        });
    }
    if !f.proof.trailer {
        return format!(
            "ask {asked} to review {it} and {}; an `{key}` trailer does not count by itself",
            ways.join(", or ")
        );
    }
    ways.push(format!(
        "record the approval: {}",
        add_trailer(to, &format!("{key}: {trailer}"))
    ));
    match ways.as_slice() {
        [only] => format!("ask {asked} to review {it}, then {only}"),
        _ => format!("ask {asked} to review {it} and {}", ways.join(", or ")),
    }
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
    let in_block = if f.outside.is_empty() {
        ""
    } else {
        " in the trailer block"
    };
    let mut out = format!("needs {wanted}; found {seen}{in_block}");
    if !f.outside.is_empty() {
        let lines = f
            .outside
            .iter()
            .map(|l| format!("`{l}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let (is, them) = if f.outside.len() == 1 {
            ("is", "it")
        } else {
            ("are", "them")
        };
        out.push_str(&format!(
            "; {lines} {is} in the message but outside its trailer block (the last paragraph), so git does not read {them} as a trailer and {them} {} ignored",
            if them == "it" { "is" } else { "are" }
        ));
    }
    out
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
