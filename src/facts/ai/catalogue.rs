//! What the built-in table offers the rest of trailgate: its rows compiled
//! into [`Marker`]s (all, or as `ai.detect` asks), the tools and weak marks
//! `trailgate check` names, the disclosure keys, and every tool address.

use std::sync::OnceLock;

use super::builtin::{Place, BUILTIN};
use super::*;

/// The built-in markers, compiled: every row, strong ones first (the table
/// lists its weak rows last). An entry that fails to compile is a bug in
/// this table and is caught by the unit tests; at run time it is skipped
/// rather than taking the hook down.
pub fn builtin() -> Vec<Marker> {
    let negative = Pattern::lazy(NEGATIVE);
    BUILTIN
        .iter()
        .filter_map(|b| {
            let re = || Some(Pattern::lazy(b.pattern));
            let kind = match b.place {
                Place::Trailer(key) => MarkerKind::Trailer {
                    key: key.to_owned(),
                    value: Some(re()?),
                },
                Place::Disclosure(key) => MarkerKind::Disclosure {
                    key: key.to_owned(),
                    negative: negative.clone(),
                },
                Place::Identity => MarkerKind::Identity(re()?),
                Place::Name => MarkerKind::Name(re()?),
                Place::Message => MarkerKind::Message(re()?),
            };
            Some(Marker {
                kind,
                evidence: format!("{}: {}", b.tool, b.mark),
                strength: b.strength,
            })
        })
        .collect()
}

/// The built-in markers `ai.detect` asks for: strong ones for
/// [`Detect::Builtin`], every one for [`Detect::All`], none for
/// [`Detect::Off`].
pub fn builtin_for(detect: Detect) -> Vec<Marker> {
    match detect {
        Detect::Off => Vec::new(),
        Detect::All => builtin(),
        Detect::Builtin => builtin()
            .into_iter()
            .filter(|m| m.strength == Strength::Strong)
            .collect(),
    }
}

/// The tools whose marks this version added, for `trailgate check`.
pub fn recent_tools() -> Vec<&'static str> {
    let mut tools: Vec<&str> = Vec::new();
    for b in BUILTIN
        .iter()
        .filter(|b| b.recent && b.strength == Strength::Strong)
    {
        if !matches!(b.place, Place::Disclosure(_)) && !tools.contains(&b.tool) {
            tools.push(b.tool);
        }
    }
    tools
}

/// The weak marks, as `tool: mark`, for `trailgate check`.
pub fn weak_marks() -> Vec<String> {
    BUILTIN
        .iter()
        .filter(|b| b.strength == Strength::Weak)
        .map(|b| format!("{}: {}", b.tool, b.mark))
        .collect()
}

/// The keys of the built-in disclosure trailers (`Assisted-by`, ...).
pub fn disclosure_keys() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().filter_map(|b| match b.place {
        Place::Disclosure(key) => Some(key),
        _ => None,
    })
}

/// Every built-in tool address (the identity rows, weak ones included):
/// what a disclosure's `Name <email>` may not carry to count as a person.
pub(super) fn tool_addresses() -> &'static [Pattern] {
    static ADDRESSES: OnceLock<Vec<Pattern>> = OnceLock::new();
    ADDRESSES.get_or_init(|| {
        BUILTIN
            .iter()
            .filter(|b| matches!(b.place, Place::Identity))
            .map(|b| Pattern::lazy(b.pattern))
            .collect()
    })
}
