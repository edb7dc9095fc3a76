//! The JSON report: one object on stdout for `--format json`.

use serde_json::json;

use crate::verdict::Judgement;

/// The JSON report of SPEC section 8, with a few extra fields per violation.
pub fn json(judgement: &Judgement) -> String {
    let violations: Vec<serde_json::Value> = judgement
        .violations
        .iter()
        .map(|v| {
            json!({
                "rule": v.rule,
                "ref": v.refname,
                "commit": v.commit.map(|c| c.to_string()),
                "subject": v.subject,
                "mode": v.mode.to_string(),
                "message": v.what,
                "rule_message": v.message,
                "help": v.help,
            })
        })
        .collect();
    let value = json!({
        "decision": if judgement.rejects() { "reject" } else { "accept" },
        "commits_checked": judgement.commits_checked,
        "diffs_computed": judgement.diffs_computed,
        "override": judgement.override_used.as_ref().map(|o| json!({
            "by": o.by,
            "reason": o.reason,
            "overridden": o.overridden,
        })),
        "violations": violations,
    });
    value.to_string()
}
