//! One audit record per ref update judged, in the documented field order.

use std::borrow::Cow;
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
        let rule_counts: Vec<RuleCountRecord<'_>> = match outcome {
            Outcome::Judged(j) => j
                .counts
                .iter()
                // Push-wide violations (a refused override) belong to every ref.
                .filter(|c| Some(c.refname.as_str()) == refname || c.refname.is_empty())
                .map(|c| RuleCountRecord {
                    rule: &c.rule,
                    mode: c.mode,
                    violations: c.violations,
                })
                .collect(),
            Outcome::Failed(_) => Vec::new(),
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
        let mut record = Record {
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
            refname: refname.map(Cow::Borrowed),
            old: update.and_then(|u| u.old).map(|o| o.to_string()),
            new: update.and_then(|u| u.new).map(|o| o.to_string()),
            decision,
            violations,
            warnings,
            truncated,
            rule_counts,
            overrides,
            commits_checked: commits,
            baseline: match outcome {
                Outcome::Judged(j) => j
                    .baseline
                    .iter()
                    .map(|b| BaselineRecord {
                        refname: b.refname.as_deref(),
                        commit: b.commit.to_string(),
                    })
                    .collect(),
                Outcome::Failed(_) => Vec::new(),
            },
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            error: error.map(Cow::Borrowed),
            policy_sha256: &settings.policy_sha256,
            directory: settings.directory.as_ref().map(|d| DirectoryRecord {
                path: d.path.to_string_lossy(),
                generated: &d.generated,
                sha256: &d.sha256,
                index: d.indexed,
            }),
        };
        out.push_str(&within(&mut record, settings.audit_line_max));
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
    refname: Option<Cow<'a, str>>,
    old: Option<String>,
    new: Option<String>,
    decision: &'a str,
    violations: Vec<ViolationRecord<'a>>,
    warnings: Vec<ViolationRecord<'a>>,
    /// Violations and warnings of this ref found but not listed: past the
    /// first `verdict::KEPT_PER_RULE` of each rule, plus those left out to
    /// keep the line within `settings.audit_line_max`; only when some were.
    #[serde(skip_serializing_if = "is_zero")]
    truncated: usize,
    /// Every rule with a violation or warning on this ref, with how many it
    /// found (listed or not): what `trailgate audit` counts by rule.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rule_counts: Vec<RuleCountRecord<'a>>,
    overrides: Vec<Value>,
    commits_checked: usize,
    /// The commits `settings.baseline` hid (and the refs they were read from).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    baseline: Vec<BaselineRecord<'a>>,
    duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Cow<'a, str>>,
    /// Which policy and directory file made the decision.
    policy_sha256: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    directory: Option<DirectoryRecord<'a>>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(serde::Serialize)]
struct RuleCountRecord<'a> {
    rule: &'a str,
    #[serde(serialize_with = "mode_name")]
    mode: Mode,
    violations: usize,
}

fn mode_name<S: serde::Serializer>(mode: &Mode, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(mode)
}

#[derive(serde::Serialize)]
struct BaselineRecord<'a> {
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    refname: Option<&'a str>,
    commit: String,
}

#[derive(serde::Serialize)]
struct DirectoryRecord<'a> {
    path: std::borrow::Cow<'a, str>,
    generated: &'a str,
    sha256: &'a str,
    /// Whether the hook read the directory file through its index.
    index: bool,
}

#[derive(serde::Serialize)]
struct ViolationRecord<'a> {
    rule: &'a str,
    commit: Option<String>,
    subject: Option<Cow<'a, str>>,
    message: String,
    /// The kind of the first finding (see the JSON report).
    kind: Option<&'static str>,
}

fn violation(v: &Violation) -> ViolationRecord<'_> {
    ViolationRecord {
        rule: &v.rule,
        commit: v.commit.as_ref().map(|c| c.oid.to_string()),
        subject: v.commit.as_ref().map(|c| Cow::Borrowed(c.subject.as_str())),
        message: crate::report::what(v),
        kind: v.findings.first().map(Finding::kind),
    }
}

/// How long a violation's subject and message may stay once a line is too
/// long, and the error or an override's reason.
const CUT_TEXT: usize = 256;

/// `record` as one line of at most `max` bytes (its newline not counted),
/// valid JSON whatever it holds. A line too long (a push with hundreds of
/// violations, a pusher's 1 MB subject line) first has each violation's
/// subject and message cut, then loses warnings and then violations from
/// the end, each counted in `truncated`, then has its other free texts cut;
/// a line that still does not fit says so in its place.
fn within(record: &mut Record<'_>, max: usize) -> String {
    let line = |r: &Record<'_>| serde_json::to_string(r).unwrap_or_default();
    let mut text = line(record);
    if !text.is_empty() && text.len() <= max {
        return text;
    }
    for v in record
        .violations
        .iter_mut()
        .chain(record.warnings.iter_mut())
    {
        if let Some(subject) = &mut v.subject {
            cut_cow(subject, CUT_TEXT);
        }
        cut_string(&mut v.message, CUT_TEXT);
    }
    text = line(record);
    while text.len() > max && !(record.violations.is_empty() && record.warnings.is_empty()) {
        // Drop about as many as the excess needs, then measure again.
        let mut excess = text.len() - max;
        while excess > 0 {
            let Some(dropped) = record.warnings.pop().or_else(|| record.violations.pop()) else {
                break;
            };
            record.truncated += 1;
            let size = serde_json::to_string(&dropped).map_or(1, |t| t.len() + 1);
            excess = excess.saturating_sub(size);
        }
        text = line(record);
    }
    if text.len() > max {
        if let Some(error) = &mut record.error {
            cut_cow(error, CUT_TEXT);
        }
        if let Some(refname) = &mut record.refname {
            cut_cow(refname, CUT_TEXT);
        }
        record.pusher_notes = &[];
        for o in &mut record.overrides {
            if let Some(Value::String(reason)) = o.get_mut("reason") {
                cut_string(reason, CUT_TEXT);
            }
        }
        text = line(record);
    }
    if text.is_empty() || text.len() > max {
        // Every field above is cut or bounded but those the host and the
        // administrator set; this line is at most a few hundred bytes.
        let mut push_id = record.push_id.to_owned();
        cut_string(&mut push_id, 64);
        text = json!({
            "time": record.time,
            "push_id": push_id,
            "decision": record.decision,
            "truncated": record.truncated + record.violations.len() + record.warnings.len(),
            "error": format!("this audit line would be longer than settings.audit_line_max ({max} bytes) even with its texts cut; see the pusher's report"),
        })
        .to_string();
    }
    text
}

fn cut_cow(text: &mut Cow<'_, str>, max: usize) {
    if text.len() > max {
        let mut owned = text.to_string();
        cut_string(&mut owned, max);
        *text = Cow::Owned(owned);
    }
}

/// Cuts `text` to at most `max` bytes, on a character boundary, ending in
/// `…` when anything was cut.
fn cut_string(text: &mut String, max: usize) {
    if text.len() <= max {
        return;
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push('…');
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
