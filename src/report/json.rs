//! The JSON report: one object on stdout for `--format json`.
//!
//! Each violation keeps the fields it always had (`rule`, `ref`, `commit`,
//! `subject`, `mode`, `message` with what was found, `rule_message`,
//! `help`) and adds its findings as data: `kind` and the typed fields of the
//! first finding at the top level (README "What the pusher sees"), and every
//! finding under `findings`, each with its own `kind`. `violations` lists
//! the first [`crate::verdict::KEPT_PER_RULE`] of each rule on each ref; `rule_counts` counts
//! them all, per rule and ref, with how many were not listed (`truncated`,
//! also summed at the top level). When trailgate cannot
//! judge (exit 2) the one object is [`json_error`]'s.

use serde_json::{json, Map, Value};

use super::words;
use crate::verdict::{Judgement, Violation};

/// The JSON report (README "What the pusher sees"). Written a violation at
/// a time: a push with thousands of them needs no tree of them all.
pub fn json(judgement: &Judgement) -> String {
    let head = json!({
        "decision": if judgement.rejects() { "reject" } else { "accept" },
        "commits_checked": judgement.commits_checked,
        "diffs_computed": judgement.diffs_computed,
        "override": judgement.override_used.as_ref().map(|o| json!({
            "by": o.by,
            "reason": o.reason,
            "overridden": o.overridden,
        })),
        "truncated": judgement.truncated(None, None),
        "rule_counts": judgement.counts.iter().map(|c| json!({
            "rule": c.rule,
            "ref": c.refname,
            "mode": c.mode.to_string(),
            "violations": c.violations,
            "truncated": c.truncated,
        })).collect::<Vec<_>>(),
    });
    // The keys in order, as a map of them all prints them: `violations` last.
    let mut out = head.to_string();
    out.pop();
    out.push_str(",\"violations\":[");
    for (i, v) in judgement.violations.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&violation(v).to_string());
    }
    out.push_str("]}");
    out
}

/// The one JSON object of a run that could not judge (exit 2): a bad
/// policy, bad input, a missing object. Machines reading `--format json`
/// always get exactly one object, whatever went wrong.
pub fn json_error(message: &str) -> String {
    json!({ "decision": "error", "error": message }).to_string()
}

fn violation(v: &Violation) -> Value {
    let findings: Vec<Value> = v
        .findings
        .iter()
        .map(|f| serde_json::to_value(f).unwrap_or(Value::Null))
        .collect();
    let mut out = match findings.first() {
        Some(Value::Object(first)) => first.clone(),
        _ => Map::new(),
    };
    let fields = json!({
        "rule": v.rule,
        "ref": v.refname,
        "commit": v.commit.as_ref().map(|c| c.oid.to_string()),
        "subject": v.commit.as_ref().map(|c| c.subject.as_str()),
        "mode": v.mode.to_string(),
        "message": words::what(v),
        "rule_message": v.message,
        "help": words::help(v),
        "detected": v.detected.as_ref().and_then(|m| m.detected()),
        "declared": v.detected.as_ref().and_then(|m| m.declared()),
        "findings": findings,
    });
    if let Value::Object(fields) = fields {
        out.extend(fields);
    }
    Value::Object(out)
}
