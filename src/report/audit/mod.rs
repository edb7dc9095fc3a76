//! The audit log (`settings.audit_log`): one JSON line per ref update judged,
//! appended by every push, and `trailgate audit`, which summarises a log.
//!
//! This module owns the record format, the append discipline and the
//! summary. It does not judge anything: the hook hands it the
//! [`Judgement`] (or the error that prevented one) after judging.
//!
//! Appends from concurrent pushes never interleave, tear or vanish: the file
//! is opened with `O_APPEND`, every record of one push is written with one
//! `write()` while an exclusive `flock(2)` is held (std's `File::lock`), then
//! `fsync`ed. A write that fails half-way is cut back to the length the file
//! had before, so a reader never sees half a line; a log whose last line lacks
//! its newline (a crash elsewhere) gets one before the next record.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use thiserror::Error;

use crate::engine::{Judgement, Violation};
use crate::facts::identity::Pusher;
use crate::policy::Mode;
use crate::push::RefUpdate;

#[derive(Debug, Error)]
pub enum AuditError {
    #[error("cannot write the audit log {path}: {source}; check that its folder exists and that the user git runs hooks as may append to it")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the audit log {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}; settings.audit_required = true, so the push is rejected")]
    Required(#[source] Box<AuditError>),
    #[error("no audit log to read: pass --log PATH, or a policy (--config) whose settings.audit_log names one")]
    NoLog,
}

/// Who pushed where, as the host told the hook.
#[derive(Debug, Clone)]
pub struct PushInfo {
    /// The host's name for the repository (`GL_PROJECT_PATH`, `GL_REPO`, ...),
    /// else its git directory.
    pub repository: String,
    pub git_dir: String,
    pub pusher: Option<Pusher>,
    /// `ssh`, `http`, `web`, ... as far as the host tells; `unknown` otherwise.
    pub protocol: String,
    /// Shared by the lines of one push.
    pub push_id: String,
}

impl PushInfo {
    /// Reads what the host set for the hook.
    pub fn from_env(git_dir: &Path, get: impl Fn(&str) -> Option<String>) -> PushInfo {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let repository = get("GL_PROJECT_PATH")
            .or_else(|| get("GITHUB_REPO_NAME"))
            .or_else(|| {
                let owner = get("GITEA_REPO_USER_NAME")?;
                let name = get("GITEA_REPO_NAME")?;
                Some(format!("{owner}/{name}"))
            })
            .or_else(|| get("GL_REPO"))
            .unwrap_or_else(|| git_dir.display().to_string());
        let protocol = get("GL_PROTOCOL")
            .or_else(|| get("GITHUB_VIA"))
            .or_else(|| {
                (get("SSH_CONNECTION").is_some() || get("SSH_CLIENT").is_some())
                    .then(|| "ssh".to_owned())
            })
            .or_else(|| {
                (get("GATEWAY_INTERFACE").is_some() || get("REQUEST_METHOD").is_some())
                    .then(|| "http".to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        PushInfo {
            repository,
            git_dir: git_dir.display().to_string(),
            pusher: crate::facts::identity::pusher_from_env(get),
            protocol,
            push_id: format!("{:x}-{:x}", now.as_nanos(), std::process::id()),
        }
    }
}

/// What became of the push.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'a> {
    Judged(&'a Judgement),
    /// trailgate could not judge (exit 2); the push is rejected.
    Failed(&'a str),
}

/// The audit lines of one push, each ending in a newline.
pub fn records(
    info: &PushInfo,
    updates: &[RefUpdate],
    outcome: Outcome<'_>,
    started: SystemTime,
    duration: Duration,
) -> String {
    let time = rfc3339(started);
    let mut out = String::new();
    for update in updates {
        let overrides: Vec<Value> = match outcome {
            Outcome::Judged(j) => j
                .override_used
                .iter()
                .map(|o| json!({ "by": o.by, "reason": o.reason, "overridden": o.overridden }))
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
                            (v.refname == update.name || v.refname.is_empty()) && v.mode == mode
                        })
                        .map(violation)
                        .collect()
                };
                let commits = j
                    .commits_per_ref
                    .iter()
                    .find(|(name, _)| name == &update.name)
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
            protocol: &info.protocol,
            refname: &update.name,
            old: update.old.map(|o| o.to_string()),
            new: update.new.map(|o| o.to_string()),
            decision,
            violations,
            warnings,
            overrides,
            commits_checked: commits,
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            error,
        };
        // Serializing plain strings and numbers cannot fail; if it ever did,
        // a line saying so is better than a missing one.
        let line = serde_json::to_string(&record).unwrap_or_else(|e| {
            json!({ "time": time, "ref": update.name, "decision": decision, "error": e.to_string() })
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
    protocol: &'a str,
    #[serde(rename = "ref")]
    refname: &'a str,
    old: Option<String>,
    new: Option<String>,
    decision: &'a str,
    violations: Vec<ViolationRecord<'a>>,
    warnings: Vec<ViolationRecord<'a>>,
    overrides: Vec<Value>,
    commits_checked: usize,
    duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

#[derive(serde::Serialize)]
struct ViolationRecord<'a> {
    rule: &'a str,
    commit: Option<String>,
    subject: Option<&'a str>,
    message: &'a str,
}

fn violation(v: &Violation) -> ViolationRecord<'_> {
    ViolationRecord {
        rule: &v.rule,
        commit: v.commit.map(|c| c.to_string()),
        subject: v.subject.as_deref(),
        message: &v.what,
    }
}

/// Appends `text` (whole lines) to the log at `path` as one write under an
/// exclusive lock, then syncs it to disk.
pub fn append(path: &Path, text: &str) -> Result<(), AuditError> {
    let err = |source| AuditError::Write {
        path: path.to_owned(),
        source,
    };
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o640)
        .open(path)
        .map_err(err)?;
    file.lock().map_err(err)?;
    let result = append_locked(&file, text);
    // Closing the file releases the lock too; unlock explicitly for clarity.
    let _ = file.unlock();
    result.map_err(err)
}

fn append_locked(mut file: &File, text: &str) -> std::io::Result<()> {
    let len = file.metadata()?.len();
    let mut data = Vec::with_capacity(text.len() + 1);
    if len > 0 {
        let mut last = [0u8; 1];
        file.read_exact_at(&mut last, len - 1)?;
        if last[0] != b'\n' {
            data.push(b'\n');
        }
    }
    data.extend_from_slice(text.as_bytes());
    let written = file.write_all(&data).and_then(|()| file.sync_data());
    if written.is_err() {
        // Never leave half a record behind.
        let _ = file.set_len(len);
    }
    written
}

/// What the hook does with the audit log after judging: appends the push's
/// records when `settings.audit_log` is set. A failure is an error only when
/// `settings.audit_required` is true; otherwise it is printed as a warning
/// (with `prefix`, for GitLab) and the push's fate is left to the judgement.
pub fn record_push(
    settings: &crate::policy::Settings,
    info: &PushInfo,
    updates: &[RefUpdate],
    outcome: Outcome<'_>,
    started: SystemTime,
    duration: Duration,
    prefix: &str,
) -> Result<(), AuditError> {
    let Some(path) = &settings.audit_log else {
        return Ok(());
    };
    match append(path, &records(info, updates, outcome, started, duration)) {
        Ok(()) => Ok(()),
        Err(e) if settings.audit_required => Err(AuditError::Required(Box::new(e))),
        Err(e) => {
            let _ = std::io::stderr().write_all(
                format!("{prefix}trailgate: warning: {e} (the push was judged all the same; settings.audit_required is false)\n").as_bytes(),
            );
            Ok(())
        }
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

/// What `trailgate audit` reports.
#[derive(Debug, Default)]
pub struct Summary {
    pub path: String,
    /// Well-formed lines.
    pub ref_updates: usize,
    pub pushes: usize,
    pub accepted: usize,
    pub accepted_with_warnings: usize,
    pub rejected: usize,
    pub errors: usize,
    /// Rule -> rejected pushes that broke it.
    pub rejections_by_rule: BTreeMap<String, usize>,
    /// Rule -> pushes that it warned about.
    pub warnings_by_rule: BTreeMap<String, usize>,
    /// Pusher -> rejected pushes.
    pub rejections_by_pusher: BTreeMap<String, usize>,
    /// One entry per override used.
    pub overrides: Vec<Value>,
    pub first: Option<String>,
    pub last: Option<String>,
    pub slowest_ms: u64,
    /// Line numbers (1-based) that are not audit records.
    pub malformed: Vec<usize>,
}

#[derive(Default)]
struct PushAcc {
    decision: String,
    pusher: String,
    rules: BTreeSet<String>,
    warned: BTreeSet<String>,
}

/// Reads and summarises a log.
pub fn summarise(path: &Path) -> Result<Summary, AuditError> {
    let bytes = std::fs::read(path).map_err(|source| AuditError::Read {
        path: path.to_owned(),
        source,
    })?;
    Ok(summarise_text(
        &path.display().to_string(),
        &String::from_utf8_lossy(&bytes),
    ))
}

/// Summarises log text (`path` only names it).
pub fn summarise_text(path: &str, text: &str) -> Summary {
    let mut s = Summary {
        path: path.to_owned(),
        ..Summary::default()
    };
    let mut pushes: BTreeMap<String, PushAcc> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Ok(Value::Object(r)) = serde_json::from_str::<Value>(line) else {
            s.malformed.push(i + 1);
            continue;
        };
        let Some(decision) = r.get("decision").and_then(Value::as_str) else {
            s.malformed.push(i + 1);
            continue;
        };
        s.ref_updates += 1;
        if let Some(t) = r.get("time").and_then(Value::as_str) {
            if s.first.as_deref().is_none_or(|f| t < f) {
                s.first = Some(t.to_owned());
            }
            if s.last.as_deref().is_none_or(|l| t > l) {
                s.last = Some(t.to_owned());
            }
        }
        if let Some(ms) = r.get("duration_ms").and_then(Value::as_u64) {
            s.slowest_ms = s.slowest_ms.max(ms);
        }
        let id = r
            .get("push_id")
            .and_then(Value::as_str)
            .map_or_else(|| format!("line-{i}"), str::to_owned);
        let acc = pushes.entry(id).or_default();
        acc.decision = decision.to_owned();
        acc.pusher = r
            .get("pusher")
            .and_then(Value::as_str)
            .unwrap_or("(unknown)")
            .to_owned();
        let rules = |key: &str| -> Vec<String> {
            r.get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.get("rule").and_then(Value::as_str).map(str::to_owned))
                .collect()
        };
        acc.rules.extend(rules("violations"));
        acc.warned.extend(rules("warnings"));
        for o in r
            .get("overrides")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            s.overrides.push(json!({
                "time": r.get("time"),
                "pusher": r.get("pusher"),
                "repository": r.get("repository"),
                "ref": r.get("ref"),
                "override": o,
            }));
        }
    }
    s.pushes = pushes.len();
    for acc in pushes.values() {
        match acc.decision.as_str() {
            "accept" => {
                s.accepted += 1;
                if !acc.warned.is_empty() {
                    s.accepted_with_warnings += 1;
                }
            }
            "reject" => {
                s.rejected += 1;
                *s.rejections_by_pusher
                    .entry(acc.pusher.clone())
                    .or_default() += 1;
                for rule in &acc.rules {
                    *s.rejections_by_rule.entry(rule.clone()).or_default() += 1;
                }
            }
            _ => s.errors += 1,
        }
        for rule in &acc.warned {
            *s.warnings_by_rule.entry(rule.clone()).or_default() += 1;
        }
    }
    s
}

impl Summary {
    pub fn to_json(&self) -> Value {
        json!({
            "log": self.path,
            "ref_updates": self.ref_updates,
            "pushes": self.pushes,
            "accepted": self.accepted,
            "accepted_with_warnings": self.accepted_with_warnings,
            "rejected": self.rejected,
            "errors": self.errors,
            "rejections_by_rule": self.rejections_by_rule,
            "warnings_by_rule": self.warnings_by_rule,
            "rejections_by_pusher": self.rejections_by_pusher,
            "overrides": self.overrides,
            "first": self.first,
            "last": self.last,
            "slowest_ms": self.slowest_ms,
            "malformed_lines": self.malformed,
        })
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "audit log {}", self.path);
        let _ = writeln!(
            out,
            "  {} push{} ({} ref update{}){}",
            self.pushes,
            if self.pushes == 1 { "" } else { "es" },
            self.ref_updates,
            if self.ref_updates == 1 { "" } else { "s" },
            match (&self.first, &self.last) {
                (Some(f), Some(l)) => format!(", {f} to {l}"),
                _ => String::new(),
            }
        );
        let _ = writeln!(
            out,
            "  accepted: {} ({} with warnings)",
            self.accepted, self.accepted_with_warnings
        );
        let _ = writeln!(out, "  rejected: {}", self.rejected);
        let _ = writeln!(out, "  could not judge: {}", self.errors);
        let _ = writeln!(out, "  slowest: {} ms", self.slowest_ms);
        let table = |out: &mut String, title: &str, map: &BTreeMap<String, usize>| {
            let _ = writeln!(out, "{title}:");
            if map.is_empty() {
                let _ = writeln!(out, "  none");
            }
            let mut rows: Vec<_> = map.iter().collect();
            rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (name, n) in rows {
                let _ = writeln!(out, "  {n:>6}  {name}");
            }
        };
        table(
            &mut out,
            "rejected pushes by rule",
            &self.rejections_by_rule,
        );
        table(
            &mut out,
            "rejected pushes by pusher",
            &self.rejections_by_pusher,
        );
        table(&mut out, "pushes warned by rule", &self.warnings_by_rule);
        let _ = writeln!(out, "overrides: {}", self.overrides.len());
        for o in &self.overrides {
            let _ = writeln!(out, "  {o}");
        }
        if !self.malformed.is_empty() {
            let _ = writeln!(
                out,
                "malformed lines (not audit records): {}",
                self.malformed
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789);
        assert_eq!(rfc3339(t), "2024-02-29T12:34:56.789Z");
    }

    #[test]
    fn summary_counts_pushes_rejections_by_rule_and_malformed_lines() {
        let text = concat!(
            r#"{"push_id":"a","decision":"reject","pusher":"carol","violations":[{"rule":"r1"},{"rule":"r1"}],"warnings":[],"overrides":[]}"#,
            "\n",
            r#"{"push_id":"a","decision":"reject","pusher":"carol","violations":[{"rule":"r2"}],"warnings":[],"overrides":[]}"#,
            "\n",
            r#"{"push_id":"b","decision":"accept","pusher":"alice","violations":[],"warnings":[{"rule":"w"}],"overrides":[]}"#,
            "\nnot json\n"
        );
        let s = summarise_text("log", text);
        assert_eq!((s.pushes, s.ref_updates), (2, 3));
        assert_eq!(
            (s.accepted, s.rejected, s.accepted_with_warnings),
            (1, 1, 1)
        );
        assert_eq!(s.rejections_by_rule.get("r1"), Some(&1));
        assert_eq!(s.rejections_by_rule.get("r2"), Some(&1));
        assert_eq!(s.rejections_by_pusher.get("carol"), Some(&1));
        assert_eq!(s.malformed, vec![4]);
    }

    fn info(vars: &[(&str, &str)]) -> PushInfo {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        PushInfo::from_env(Path::new("/srv/git/a.git"), |k| {
            vars.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn push_info_reads_each_hosts_names_for_repository_and_protocol() {
        let gitlab = info(&[
            ("GL_USERNAME", "carol"),
            ("GL_PROTOCOL", "web"),
            ("GL_PROJECT_PATH", "acme/pay"),
        ]);
        assert_eq!(
            (gitlab.repository.as_str(), gitlab.protocol.as_str()),
            ("acme/pay", "web")
        );
        let gitea = info(&[
            ("GITEA_PUSHER_NAME", "c"),
            ("GITEA_REPO_USER_NAME", "acme"),
            ("GITEA_REPO_NAME", "pay"),
        ]);
        assert_eq!(gitea.repository, "acme/pay");
        let gitolite = info(&[
            ("GL_USER", "alice"),
            ("GL_REPO", "trail"),
            ("SSH_CONNECTION", "127.0.0.1 5 127.0.0.1 22"),
        ]);
        assert_eq!(
            (gitolite.repository.as_str(), gitolite.protocol.as_str()),
            ("trail", "ssh")
        );
        assert_eq!(gitolite.pusher.map(|p| p.login), Some("alice".to_owned()));
        let http = info(&[("REMOTE_USER", "bob"), ("GATEWAY_INTERFACE", "CGI/1.1")]);
        assert_eq!(
            (http.repository.as_str(), http.protocol.as_str()),
            ("/srv/git/a.git", "http")
        );
        assert_eq!(info(&[]).protocol, "unknown");
        assert!(info(&[]).pusher.is_none());
    }

    #[test]
    fn append_adds_a_missing_newline_before_the_next_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, "{\"torn\":").unwrap();
        append(&path, "{\"a\":1}\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"torn\":\n{\"a\":1}\n"
        );
    }
}
