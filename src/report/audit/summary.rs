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
