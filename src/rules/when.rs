//! A rule's `when` conditions and `exempt.authors`, each read here and
//! nowhere else.
//!
//! Every function that reads conditions destructures [`When`] without `..`,
//! so a condition added to the policy and not handled here is a compile
//! error, not a rule that silently ignores it.

use crate::facts::identity::{Directory, Who};
use crate::facts::CommitFacts;
use crate::git::diff::DiffStats;
use crate::policy::When;
use crate::verdict::LimitScope;

use super::{DiffNeed, Evidence, Known, Rule, Selects};

/// Whether the rule judges this commit: its commit conditions and
/// `exempt.authors`, cheapest first (what the walk read, then the commit's
/// facts, then its diff), asking for what it lacks.
pub(super) fn selects(
    rule: &Rule,
    dir: &Directory,
    commit: Known<'_>,
    diff: Option<&DiffStats>,
    evidence: Evidence<'_>,
) -> Selects {
    let When {
        ai_assisted,
        ai_declared,
        ai_detected,
        author_in,
        author_not_in,
        pusher_in: _,
        pusher_not_in: _,
        message,
        merge,
        touches,
    } = &rule.when;
    let is_merge = commit.is_merge();
    if merge.is_some_and(|m| m != is_merge) {
        return Selects::No;
    }
    let reads_facts = ai_assisted.is_some()
        || ai_declared.is_some()
        || ai_detected.is_some()
        || !author_in.is_empty()
        || !author_not_in.is_empty()
        || message.is_some()
        || !rule.exempt_authors.is_empty();
    if reads_facts {
        let Known::Facts(c) = commit else {
            return Selects::NeedsFacts;
        };
        let holds_but_author = ai_assisted.is_none_or(|b| c.ai_assisted() == b)
            && ai_declared.is_none_or(|b| c.ai_declared.is_some() == b)
            && ai_detected.is_none_or(|b| c.ai_detected.is_some() == b)
            && message.as_ref().is_none_or(|re| re.is_match(&c.message));
        if !holds_but_author {
            return Selects::No;
        }
        let reads_author =
            !author_in.is_empty() || !author_not_in.is_empty() || !rule.exempt_authors.is_empty();
        if reads_author {
            let Some(author) = author(rule, dir, c, evidence) else {
                return Selects::NeedsProof;
            };
            let holds = !dir.in_any(&author, &rule.exempt_authors)
                && (author_in.is_empty() || dir.in_any(&author, author_in))
                && (author_not_in.is_empty() || !dir.in_any(&author, author_not_in));
            if !holds {
                return Selects::No;
            }
        }
    }
    if let Some(touches) = touches {
        let Some(diff) = diff else {
            return Selects::NeedsDiff(DiffNeed::Paths);
        };
        // Each side of each change with its own mode: a link or a
        // submodule touches the directory its path stands for.
        let touched = diff.files.iter().any(|f| {
            let old = f.old_path.as_deref().map(|p| (p, f.old_mode.unwrap_or(0)));
            let new = f.new_path.as_deref().map(|p| (p, f.new_mode.unwrap_or(0)));
            old.into_iter()
                .chain(new)
                .any(|(path, mode)| touches.matches_entry(path, mode))
        });
        if !touched {
            return Selects::No;
        }
    }
    Selects::Yes
}

/// Who the rule takes the commit's author to be; `None` when that takes
/// evidence not given (the pusher, the commit's signature).
///
/// Under proven identity (`settings.identity = "proven"`, or approvals
/// that ask for proof) the author line is the pusher's word: it names a
/// person only when the commit is signed by one of that person's keys or
/// that person pushes it; otherwise the author is unknown, in no group.
pub fn author(
    rule: &Rule,
    dir: &Directory,
    c: &CommitFacts,
    evidence: Evidence<'_>,
) -> Option<Who> {
    let claimed = &c.author_who;
    if !rule.proven_identity || *claimed == Who::Unknown {
        return Some(claimed.clone());
    }
    let When {
        author_in,
        author_not_in,
        ai_assisted: _,
        ai_declared: _,
        ai_detected: _,
        pusher_in: _,
        pusher_not_in: _,
        message: _,
        merge: _,
        touches: _,
    } = &rule.when;
    // Someone in none of the groups the rule asks about is judged the same
    // whether proven or unknown: no need to prove it.
    let asked = author_in
        .iter()
        .chain(author_not_in)
        .chain(&rule.exempt_authors)
        .any(|&g| dir.in_group(claimed, g));
    if !asked {
        return Some(claimed.clone());
    }
    let pushed = evidence.pushed?;
    if pushed.who.as_ref() == Some(claimed) {
        return Some(claimed.clone());
    }
    match claimed {
        Who::Person(p) if dir.has_keys(*p) => {
            let sig = evidence.signature?;
            Some(if sig.signer() == Some(*p) {
                claimed.clone()
            } else {
                Who::Unknown
            })
        }
        _ => Some(Who::Unknown),
    }
}

/// Whether the rule's pusher conditions hold for this pusher.
pub(super) fn pusher_matches(rule: &Rule, dir: &Directory, who: &Who) -> bool {
    let When {
        pusher_in,
        pusher_not_in,
        ai_assisted: _,
        ai_declared: _,
        ai_detected: _,
        author_in: _,
        author_not_in: _,
        message: _,
        merge: _,
        touches: _,
    } = &rule.when;
    (pusher_in.is_empty() || dir.in_any(who, pusher_in))
        && (pusher_not_in.is_empty() || !dir.in_any(who, pusher_not_in))
}

/// Whether any condition is about the pusher.
pub(super) fn needs_pusher(rule: &Rule) -> bool {
    let When {
        pusher_in,
        pusher_not_in,
        ai_assisted: _,
        ai_declared: _,
        ai_detected: _,
        author_in: _,
        author_not_in: _,
        message: _,
        merge: _,
        touches: _,
    } = &rule.when;
    !pusher_in.is_empty() || !pusher_not_in.is_empty()
}

/// Whether the rule has conditions on commits (anything but the pusher):
/// a `per = "push"` rule without them holds for every ref update, and a
/// `deny` rule may not have them.
pub fn on_commits(rule: &Rule) -> bool {
    let When {
        ai_assisted,
        ai_declared,
        ai_detected,
        author_in,
        author_not_in,
        pusher_in: _,
        pusher_not_in: _,
        message,
        merge,
        touches,
    } = &rule.when;
    ai_assisted.is_some()
        || ai_declared.is_some()
        || ai_detected.is_some()
        || !author_in.is_empty()
        || !author_not_in.is_empty()
        || message.is_some()
        || merge.is_some()
        || touches.is_some()
}

/// How much of a commit's diff the conditions read.
pub(super) fn diff_need(rule: &Rule) -> Option<DiffNeed> {
    rule.when.touches.as_ref().map(|_| DiffNeed::Paths)
}

/// What the conditions make a size limit about ("the limit for AI-assisted
/// commits").
pub(super) fn scope(rule: &Rule) -> LimitScope {
    let w = &rule.when;
    LimitScope {
        ai_assisted: w.ai_assisted == Some(true)
            || w.ai_declared == Some(true)
            || w.ai_detected == Some(true),
        merge: w.merge == Some(true),
    }
}

/// What made the commit AI-assisted, to name first in a violation of a
/// rule about AI assistance: the declaration, or (when the rule is about
/// detection, or there is no declaration) the tool's marks, which the
/// pusher may not know their tool left.
pub(super) fn detected(
    rule: &Rule,
    c: &crate::facts::CommitFacts,
) -> Option<crate::verdict::AiMark> {
    use crate::verdict::AiMark;
    let w = &rule.when;
    let declared = || c.ai_declared.clone().map(AiMark::Declared);
    let detected = || c.ai_detected.clone().map(AiMark::Detected);
    if w.ai_detected == Some(true) {
        detected()
    } else if w.ai_declared == Some(true) || w.ai_assisted == Some(true) {
        declared().or_else(detected)
    } else {
        None
    }
}

/// Each commit condition of the rule and whether it holds for this commit,
/// in words (`ai_assisted = true: yes`), for `trailgate explain`. `touches`
/// is listed as unknown (`None`): answering it takes the commit's diff.
pub fn conditions(
    rule: &Rule,
    dir: &Directory,
    c: &crate::facts::CommitFacts,
) -> Vec<(String, Option<bool>)> {
    let When {
        ai_assisted,
        ai_declared,
        ai_detected,
        author_in,
        author_not_in,
        pusher_in,
        pusher_not_in,
        message,
        merge,
        touches,
    } = &rule.when;
    let groups = |gs: &[crate::facts::identity::GroupId]| {
        gs.iter()
            .map(|g| dir.group_name(*g))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = Vec::new();
    if let Some(b) = merge {
        out.push((format!("merge = {b}"), Some(c.is_merge() == *b)));
    }
    if let Some(b) = ai_assisted {
        out.push((format!("ai_assisted = {b}"), Some(c.ai_assisted() == *b)));
    }
    if let Some(b) = ai_declared {
        out.push((
            format!("ai_declared = {b}"),
            Some(c.ai_declared.is_some() == *b),
        ));
    }
    if let Some(b) = ai_detected {
        out.push((
            format!("ai_detected = {b}"),
            Some(c.ai_detected.is_some() == *b),
        ));
    }
    if !author_in.is_empty() {
        out.push((
            format!("author_in = [{}]", groups(author_in)),
            Some(dir.in_any(&c.author_who, author_in)),
        ));
    }
    if !author_not_in.is_empty() {
        out.push((
            format!("author_not_in = [{}]", groups(author_not_in)),
            Some(!dir.in_any(&c.author_who, author_not_in)),
        ));
    }
    if !rule.exempt_authors.is_empty() {
        out.push((
            format!(
                "exempt.authors = [{}] (not exempt)",
                groups(&rule.exempt_authors)
            ),
            Some(!dir.in_any(&c.author_who, &rule.exempt_authors)),
        ));
    }
    if let Some(re) = message {
        out.push((
            format!("message matches `{re}`"),
            Some(re.is_match(&c.message)),
        ));
    }
    if touches.is_some() {
        out.push(("touches (needs the commit's diff)".into(), None));
    }
    if !pusher_in.is_empty() || !pusher_not_in.is_empty() {
        out.push((
            "pusher_in / pusher_not_in (decided at push time)".into(),
            None,
        ));
    }
    out
}

/// Whether the rule's conditions read detected AI assistance (`ai_assisted`,
/// `ai_detected`) and declared assistance (`ai_assisted`, `ai_declared`),
/// for `trailgate check`'s notes on what detection changes.
pub fn reads_ai(rule: &Rule) -> (bool, bool) {
    let When {
        ai_assisted,
        ai_declared,
        ai_detected,
        author_in: _,
        author_not_in: _,
        pusher_in: _,
        pusher_not_in: _,
        message: _,
        merge: _,
        touches: _,
    } = &rule.when;
    (
        ai_assisted.is_some() || ai_detected.is_some(),
        ai_assisted.is_some() || ai_declared.is_some(),
    )
}
