//! Break-glass: a push option that lets an otherwise rejected push through.

use super::*;

/// Break-glass (SPEC section 9): `git push -o trailgate.override="reason"`
/// lets a push that would be rejected through, only when the pusher belongs
/// to a group of `settings.override.by` and gives a reason. A refused
/// override adds a violation that says why. `options` are the push options
/// git passed (`GIT_PUSH_OPTION_<n>`).
pub fn apply_override(
    judgement: &mut Judgement,
    policy: &Policy,
    pusher: Option<&Pusher>,
    options: &[String],
) {
    let Some(settings) = &policy.settings.override_ else {
        return;
    };
    let name = settings.push_option.as_str();
    let Some(requested) = options.iter().find(|o| {
        o.as_str() == name
            || o.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('='))
    }) else {
        return;
    };
    if !judgement.rejects() {
        return;
    }
    let reason = requested
        .get(name.len() + 1..)
        .unwrap_or("")
        .trim()
        .to_owned();
    let groups: Vec<&str> = settings
        .by
        .iter()
        .map(|&g| policy.directory.group_name(g))
        .collect();
    let refused = |what: String, help: String| Violation {
        rule: "override".into(),
        refname: String::new(),
        commit: None,
        subject: None,
        mode: Mode::Enforce,
        what,
        message: None,
        help,
    };
    let example =
        format!("git push -o {name}=\"INC-1234: what broke and why this push must go in now\"");
    let Some(pusher) = pusher else {
        judgement.violations.push(refused(
            format!(
                "an override was asked for, but the git host named no pusher (looked at {}), so nobody can be authorised",
                PUSHER_VARIABLES.join(", ")
            ),
            no_pusher_help(),
        ));
        return;
    };
    let shown = format!("{} ({})", pusher.login, pusher.source);
    if reason.is_empty() {
        judgement.violations.push(refused(
            format!(
                "the override from {shown} gives no reason; a reason is required and is recorded"
            ),
            example,
        ));
        return;
    }
    let who = identify_pusher(policy, pusher);
    if !policy.directory.in_any(&who, &settings.by) {
        judgement.violations.push(refused(
            format!(
                "{shown} may not override: only members of {} may",
                groups.join(" or ")
            ),
            format!(
                "fix the violations, or ask a member of {} to push with {example}",
                groups.join(" or ")
            ),
        ));
        return;
    }
    let overridden = judgement
        .violations
        .iter()
        .filter(|v| v.mode == Mode::Enforce)
        .count();
    judgement.override_used = Some(OverrideUse {
        by: shown,
        reason,
        overridden,
    });
}
