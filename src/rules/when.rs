//! A rule's `when` conditions and `exempt.authors`, each read here and
//! nowhere else.
//!
//! Every function that reads conditions destructures [`When`] without `..`,
//! so a condition added to the policy and not handled here is a compile
//! error, not a rule that silently ignores it.

use crate::facts::identity::{Directory, Who};
use crate::git::diff::DiffStats;
use crate::policy::When;
use crate::verdict::LimitScope;

use super::{DiffNeed, Known, Rule, Selects};

/// Whether the rule judges this commit: its commit conditions and
/// `exempt.authors`, cheapest first (what the walk read, then the commit's
/// facts, then its diff), asking for what it lacks.
pub(super) fn selects(
    rule: &Rule,
    dir: &Directory,
    commit: Known<'_>,
    diff: Option<&DiffStats>,
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
        let holds = !dir.in_any(&c.author_who, &rule.exempt_authors)
            && ai_assisted.is_none_or(|b| c.ai_assisted() == b)
            && ai_declared.is_none_or(|b| c.ai_declared.is_some() == b)
            && ai_detected.is_none_or(|b| c.ai_detected.is_some() == b)
            && (author_in.is_empty() || dir.in_any(&c.author_who, author_in))
            && (author_not_in.is_empty() || !dir.in_any(&c.author_who, author_not_in))
            && message.as_ref().is_none_or(|re| re.is_match(&c.message));
        if !holds {
            return Selects::No;
        }
    }
    if let Some(touches) = touches {
        // A commit whose diff the rule does not look at (a merge, unless the
        // rule is about merges) touches nothing.
        if super::looks_at_diff(rule, is_merge).is_none() {
            return Selects::No;
        }
        let Some(diff) = diff else {
            return Selects::NeedsDiff(DiffNeed::Paths);
        };
        if !diff.paths().any(|p| touches.matches_path(p)) {
            return Selects::No;
        }
    }
    Selects::Yes
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

/// Whether the rule looks at what a merge commit changes. By default it does
/// not: the commits a merge brings in are judged on their own, and a merge's
/// diff against its first parent would count their changes a second time.
/// A rule with `when.merge = true` is about merges and sees their diff.
pub(super) fn sees_merge_diff(rule: &Rule) -> bool {
    rule.when.merge == Some(true)
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
