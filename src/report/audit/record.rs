//! One audit record per ref update judged, in the documented field order.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::PushInfo;
use crate::policy::Mode;
use crate::push::RefUpdate;
use crate::verdict::{Finding, Judgement, Violation};

/// What became of the push.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'a> {
    Judged(&'a Judgement),
    /// trailgate could not judge (exit 2); the push is rejected.
    Failed(&'a str),
}

/// The audit lines of one push, each ending in a newline.
pub fn records(
    settings: &crate::policy::Settings,
    info: &PushInfo,
    updates: &[RefUpdate],
    outcome: Outcome<'_>,
    started: SystemTime,
    duration: Duration,
) -> String {
    let time = rfc3339(started);
    let mut out = String::new();
    // A push refused before its updates could be read (a ref name that is
    // not UTF-8) still gets its line, about no ref.
    let unread = [None];
    let lines: Vec<Option<&RefUpdate>> = match (updates.is_empty(), outcome) {
        (true, Outcome::Failed(_)) => unread.to_vec(),
        _ => updates.iter().map(Some).collect(),
    };
    for update in lines {
        let refname = update.map(|u| u.name.as_str());
        let overrides: Vec<Value> = match outcome {
            Outcome::Judged(j) => j
                .override_used
                .iter()
                .map(|o| json!({ "by": o.by, "reason": o.reason, "overridden": o.overridden }))
                .collect(),
            Outcome::Failed(_) => Vec::new(),
        };
        let truncated = match outcome {
            Outcome::Judged(j) => j.truncated(None, refname),
            Outcome::Failed(_) => 0,
        };
        let (decision, violations, warnings, commits, error) = match outcome {
            Outcome::Judged(j) => {
                let mine = |mode: Mode| -> Vec<ViolationRecord<'_>> {
                    j.violations
                        .iter()
                        // Push-wide violations (a refused override) belong to every ref.
                        .filter(|v| {
                            (Some(v.refname.as_str()) == refname || v.refname.is_empty())
                                && v.mode == mode
                        })
                        .map(violation)
                        .collect()
                };
                let commits = j
                    .commits_per_ref
                    .iter()
                    .find(|(name, _)| Some(name.as_str()) == refname)
                    .map_or(0, |(_, n)| *n);
                (
                    if j.rejects() { "reject" } else { "accept" },
                    mine(Mode::Enforce),
                    mine(Mode::Warn),
                    commits,
                    None,
                )
            }
            Outcome::Failed(e) => ("error", Vec::new(), Vec::new(), 0, Some(e)),
        };
        let record = Record {
            time: &time,
            push_id: &info.push_id,
            repository: &info.repository,
            git_dir: &info.git_dir,
            pusher: info.pusher.as_ref().map(|p| p.login.as_str()),
            pusher_email: info.pusher.as_ref().and_then(|p| p.email.as_deref()),
            pusher_source: info.pusher.as_ref().map(|p| p.source),
            pusher_notes: &info.notes,
            pusher_key: info.pusher_key.as_deref(),
            protocol: &info.protocol,
            refname,
            old: update.and_then(|u| u.old).map(|o| o.to_string()),
            new: update.and_then(|u| u.new).map(|o| o.to_string()),
            decision,
            violations,
            warnings,
            truncated,
            overrides,
            commits_checked: commits,
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            error,
            policy_sha256: &settings.policy_sha256,
            directory: settings.directory.as_ref().map(|d| DirectoryRecord {
                path: d.path.to_string_lossy(),
                generated: &d.generated,
                sha256: &d.sha256,
            }),
        };
        // Serializing plain strings and numbers cannot fail; if it ever did,
        // a line saying so is better than a missing one.
        let line = serde_json::to_string(&record).unwrap_or_else(|e| {
            json!({ "time": time, "ref": refname, "decision": decision, "error": e.to_string() })
                .to_string()
        });
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// One line of the log, fields in the documented order.
#[derive(serde::Serialize)]
struct Record<'a> {
    time: &'a str,
    push_id: &'a str,
    repository: &'a str,
    git_dir: &'a str,
    pusher: Option<&'a str>,
    pusher_email: Option<&'a str>,
    pusher_source: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pusher_notes: &'a [String],
    /// Only for a signed push: the key's fingerprint beside its person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pusher_key: Option<&'a str>,
    protocol: &'a str,
    /// `None` for a push whose updates could not be read.
    #[serde(rename = "ref")]
    refname: Option<&'a str>,
    old: Option<String>,
    new: Option<String>,
    decision: &'a str,
    violations: Vec<ViolationRecord<'a>>,
    warnings: Vec<ViolationRecord<'a>>,
    /// Violations and warnings of this ref found but not listed (past the
    /// first `verdict::KEPT_PER_RULE` of each rule); only when some were.
    #[serde(skip_serializing_if = "is_zero")]
    truncated: usize,
    overrides: Vec<Value>,
    commits_checked: usize,
    duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    /// Which policy and directory file made the decision.
    policy_sha256: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    directory: Option<DirectoryRecord<'a>>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(serde::Serialize)]
struct DirectoryRecord<'a> {
    path: std::borrow::Cow<'a, str>,
    generated: &'a str,
    sha256: &'a str,
}

#[derive(serde::Serialize)]
struct ViolationRecord<'a> {
    rule: &'a str,
    commit: Option<String>,
    subject: Option<&'a str>,
    message: String,
    /// The kind of the first finding (see the JSON report).
    kind: Option<&'static str>,
}

fn violation(v: &Violation) -> ViolationRecord<'_> {
    ViolationRecord {
        rule: &v.rule,
        commit: v.commit.as_ref().map(|c| c.oid.to_string()),
        subject: v.commit.as_ref().map(|c| c.subject.as_str()),
        message: crate::report::what(v),
        kind: v.findings.first().map(Finding::kind),
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}
