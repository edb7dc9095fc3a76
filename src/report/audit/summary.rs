//! `trailgate audit`: what a log says, counted.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use serde_json::{json, Value};

use super::AuditError;

/// What `trailgate audit` reports.
#[derive(Debug, Default)]
pub struct Summary {
    pub path: String,
    /// The log does not exist yet (no push was judged with it): 0 pushes.
    pub missing: bool,
    /// Only records from this time on (`--since`), as given.
    pub since: Option<String>,
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
    /// Repository -> its pushes, by decision.
    pub by_repository: BTreeMap<String, RepoCounts>,
    /// One entry per override used.
    pub overrides: Vec<Value>,
    /// One entry per ref update that could not be judged, with its error.
    pub failures: Vec<Value>,
    pub first: Option<String>,
    pub last: Option<String>,
    pub slowest_ms: u64,
    /// The record of the slowest push (its first ref update that took
    /// that long): when, who, where.
    pub slowest: Option<Value>,
    /// Line numbers (1-based) that are not audit records.
    pub malformed: Vec<usize>,
}

/// A repository's pushes, by decision.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct RepoCounts {
    pub pushes: usize,
    pub accepted: usize,
    pub rejected: usize,
    pub errors: usize,
}

#[derive(Default)]
struct PushAcc {
    decision: String,
    pusher: String,
    repository: String,
    rules: BTreeSet<String>,
    warned: BTreeSet<String>,
}

/// Reads and summarises a log; a log that does not exist yet is one of 0
/// pushes. `since`: only records whose time is at or after it.
pub fn summarise(path: &Path, since: Option<&str>) -> Result<Summary, AuditError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut s = summarise_since(&path.display().to_string(), "", since);
            s.missing = true;
            return Ok(s);
        }
        Err(source) => {
            return Err(AuditError::Read {
                path: path.to_owned(),
                source,
            })
        }
    };
    Ok(summarise_since(
        &path.display().to_string(),
        &String::from_utf8_lossy(&bytes),
        since,
    ))
}

/// Summarises log text (`path` only names it).
pub fn summarise_text(path: &str, text: &str) -> Summary {
    summarise_since(path, text, None)
}

/// [`summarise_text`] of the records at or after `since` (an RFC 3339 time
/// or a prefix of one, `2026-11-16`; records carry UTC times of one fixed
/// format, so comparing the text compares the times).
pub fn summarise_since(path: &str, text: &str, since: Option<&str>) -> Summary {
    let mut s = Summary {
        path: path.to_owned(),
        since: since.map(str::to_owned),
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
        let time = r.get("time").and_then(Value::as_str);
        if let Some(since) = since {
            if time.is_none_or(|t| t < since) {
                continue;
            }
        }
        s.ref_updates += 1;
        if let Some(t) = time {
            if s.first.as_deref().is_none_or(|f| t < f) {
                s.first = Some(t.to_owned());
            }
            if s.last.as_deref().is_none_or(|l| t > l) {
                s.last = Some(t.to_owned());
            }
        }
        let field = |key: &str| r.get(key).cloned().unwrap_or(Value::Null);
        if let Some(ms) = r.get("duration_ms").and_then(Value::as_u64) {
            if s.slowest.is_none() || ms > s.slowest_ms {
                s.slowest_ms = ms;
                s.slowest = Some(json!({
                    "duration_ms": ms,
                    "time": field("time"),
                    "push_id": field("push_id"),
                    "pusher": field("pusher"),
                    "repository": field("repository"),
                    "ref": field("ref"),
                    "decision": decision,
                    "commits_checked": field("commits_checked"),
                }));
            }
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
        acc.repository = r
            .get("repository")
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
        // A rule whose violations were all left out of the line (past
        // `settings.audit_line_max`) is still named by its count.
        for c in r
            .get("rule_counts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(rule) = c.get("rule").and_then(Value::as_str) else {
                continue;
            };
            match c.get("mode").and_then(Value::as_str) {
                Some("enforce") => acc.rules.insert(rule.to_owned()),
                Some("warn") => acc.warned.insert(rule.to_owned()),
                _ => false,
            };
        }
        if decision == "error" {
            s.failures.push(json!({
                "time": field("time"),
                "pusher": field("pusher"),
                "repository": field("repository"),
                "ref": field("ref"),
                "error": field("error"),
            }));
        }
        for o in r
            .get("overrides")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            s.overrides.push(json!({
                "time": field("time"),
                "pusher": field("pusher"),
                "repository": field("repository"),
                "ref": field("ref"),
                "override": o,
            }));
        }
    }
    s.pushes = pushes.len();
    for acc in pushes.values() {
        let repo = s.by_repository.entry(acc.repository.clone()).or_default();
        repo.pushes += 1;
        match acc.decision.as_str() {
            "accept" => {
                s.accepted += 1;
                repo.accepted += 1;
                if !acc.warned.is_empty() {
                    s.accepted_with_warnings += 1;
                }
            }
            "reject" => {
                s.rejected += 1;
                repo.rejected += 1;
                *s.rejections_by_pusher
                    .entry(acc.pusher.clone())
                    .or_default() += 1;
                for rule in &acc.rules {
                    *s.rejections_by_rule.entry(rule.clone()).or_default() += 1;
                }
            }
            _ => {
                s.errors += 1;
                repo.errors += 1;
            }
        }
        for rule in &acc.warned {
            *s.warnings_by_rule.entry(rule.clone()).or_default() += 1;
        }
    }
    s
}

/// A JSON value as text for a person: strings without their quotes, and
/// control characters (a pusher types the override's reason) escaped so
/// that they cannot rewrite the administrator's terminal.
fn plain(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s
            .chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
        Some(Value::Null) | None => "(unknown)".to_owned(),
        Some(other) => other.to_string(),
    }
}

impl Summary {
    pub fn to_json(&self) -> Value {
        json!({
            "log": self.path,
            "missing": self.missing,
            "since": self.since,
            "ref_updates": self.ref_updates,
            "pushes": self.pushes,
            "accepted": self.accepted,
            "accepted_with_warnings": self.accepted_with_warnings,
            "rejected": self.rejected,
            "errors": self.errors,
            "rejections_by_rule": self.rejections_by_rule,
            "warnings_by_rule": self.warnings_by_rule,
            "rejections_by_pusher": self.rejections_by_pusher,
            "by_repository": self.by_repository,
            "overrides": self.overrides,
            "could_not_judge": self.failures,
            "first": self.first,
            "last": self.last,
            "slowest_ms": self.slowest_ms,
            "slowest": self.slowest,
            "malformed_lines": self.malformed,
        })
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "audit log {}{}{}",
            self.path,
            if self.missing {
                " (does not exist yet: no push has been judged with it)"
            } else {
                ""
            },
            self.since
                .as_deref()
                .map(|s| format!(", records since {s}"))
                .unwrap_or_default()
        );
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
        for f in &self.failures {
            let error = plain(f.get("error"));
            let _ = writeln!(
                out,
                "    {}  {} to {} {}: {}",
                plain(f.get("time")),
                plain(f.get("pusher")),
                plain(f.get("repository")),
                plain(f.get("ref")),
                error.lines().next().unwrap_or_default()
            );
        }
        match &self.slowest {
            Some(p) => {
                let commits = plain(p.get("commits_checked"));
                let _ = writeln!(
                    out,
                    "  slowest: {} ms, {} by {} to {} {} ({}, {commits} commit{} checked)",
                    self.slowest_ms,
                    plain(p.get("time")),
                    plain(p.get("pusher")),
                    plain(p.get("repository")),
                    plain(p.get("ref")),
                    plain(p.get("decision")),
                    if commits == "1" { "" } else { "s" },
                );
            }
            None => {
                let _ = writeln!(out, "  slowest: none");
            }
        }
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
        let _ = writeln!(out, "pushes by repository:");
        if self.by_repository.is_empty() {
            let _ = writeln!(out, "  none");
        }
        let mut repos: Vec<_> = self.by_repository.iter().collect();
        repos.sort_by(|a, b| b.1.pushes.cmp(&a.1.pushes).then(a.0.cmp(b.0)));
        for (name, c) in repos {
            let _ = writeln!(
                out,
                "  {:>6}  {name} (accepted {}, rejected {}, could not judge {})",
                c.pushes, c.accepted, c.rejected, c.errors
            );
        }
        let _ = writeln!(out, "overrides: {}", self.overrides.len());
        for o in &self.overrides {
            let used = o.get("override");
            let overridden = used
                .and_then(|u| u.get("overridden"))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let _ = writeln!(
                out,
                "  {}  {} on {} {}: {} violation{} overridden, reason \"{}\"",
                plain(o.get("time")),
                plain(used.and_then(|u| u.get("by"))),
                plain(o.get("repository")),
                plain(o.get("ref")),
                overridden,
                if overridden == 1 { "" } else { "s" },
                plain(used.and_then(|u| u.get("reason"))),
            );
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
