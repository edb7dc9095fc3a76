//! Break-glass: a push option that lets an otherwise rejected push through.

use crate::policy::Mode;
use crate::verdict::{Finding, Judgement, OverrideRefused, OverrideUse, Refusal, Violation};

use super::{Policy, PushedBy};

/// Break-glass (README "Break-glass"): `git push -o trailgate.override="reason"`
/// lets a push that would be rejected through, only when the pusher belongs
/// to a group of `settings.override.by` and gives a reason. A refused
/// override adds a violation that says why. `options` are the push options
/// git passed (`GIT_PUSH_OPTION_<n>`).
pub fn apply_override(
    judgement: &mut Judgement,
    policy: &Policy,
    pushed: &PushedBy<'_>,
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
    let refuse = |judgement: &mut Judgement, refusal: Refusal| {
        judgement.add(Violation {
            rule: "override".into(),
            refname: String::new(),
            commit: None,
            mode: Mode::Enforce,
            findings: vec![Finding::OverrideRefused(OverrideRefused {
                push_option: name.to_owned(),
                refusal,
            })],
            detected: None,
            message: None,
        });
    };
    let (Some(shown), Some(who)) = (pushed.shown(), &pushed.who) else {
        refuse(
            judgement,
            Refusal::NoPusher {
                looked_at: pushed.looked_at(),
            },
        );
        return;
    };
    if reason.is_empty() {
        refuse(judgement, Refusal::NoReason { pusher: shown });
        return;
    }
    if !policy.directory.in_any(who, &settings.by) {
        let groups = settings
            .by
            .iter()
            .map(|&g| policy.directory.group_name(g).to_owned())
            .collect();
        refuse(
            judgement,
            Refusal::NotAllowed {
                pusher: shown,
                groups,
            },
        );
        return;
    }
    let overridden = judgement.found(Mode::Enforce);
    judgement.override_used = Some(OverrideUse {
        by: shown,
        reason,
        overridden,
    });
}
