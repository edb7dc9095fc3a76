//! `require.trailers = [ { key = "Key", value = "regex" } ]`: for each entry,
//! a trailer with that key (and, with `value`, a value the regex matches).

use std::sync::Arc;

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use crate::policy::valid_trailer_key;
use crate::verdict::{Finding, MissingTrailer};

use super::{Build, Entry, Kind, Requirement};
use crate::rules::{Input, Needs, Rule, Subject};

pub(super) const KIND: Kind = Kind {
    keys: &["trailers"],
    build,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    key: Spanned<String>,
    value: Option<Spanned<String>>,
}

#[derive(Debug)]
struct Wanted {
    key: String,
    /// The pattern as written, for messages.
    pattern: Option<String>,
    value: Option<Regex>,
    /// Values `value` accepts, for the fix.
    accepted: Arc<[String]>,
}

impl Wanted {
    /// The values to suggest: the value of a misplaced line first when the
    /// rule accepts it (the pusher meant it), then those from the pattern.
    fn accepted_with(&self, outside: &[String]) -> Arc<[String]> {
        let meant = outside.iter().find_map(|line| {
            let value = line.split_once(':')?.1.trim();
            let passes = crate::rules::sample::pasteable(value)
                && self.value.as_ref().is_none_or(|re| re.is_match(value));
            passes.then(|| value.to_owned())
        });
        match meant {
            Some(value) if self.accepted.first() != Some(&value) => std::iter::once(value.clone())
                .chain(self.accepted.iter().filter(|v| **v != value).cloned())
                .collect(),
            _ => Arc::clone(&self.accepted),
        }
    }
}

/// How many misplaced lines a finding keeps.
const OUTSIDE_LIMIT: usize = 3;

/// The lines of `message` after its subject that read as a `key` trailer
/// (`Key: value`, the key in any case, at the start of the line) but are
/// not among the trailers git read (`in_block`, `Key: value`): outside the
/// trailer block, so git ignores them.
fn outside_block(message: &str, key: &str, in_block: &[String]) -> Vec<String> {
    // A line can only be misplaced if the key is somewhere in the message:
    // one vectorised search instead of splitting every line of every
    // commit a warn-mode rule fails (nearly all of a large push).
    let lower = key.to_ascii_lowercase();
    if !crate::facts::ai::contains_ignore_ascii_case(message.as_bytes(), lower.as_bytes()) {
        return Vec::new();
    }
    let normal = |k: &str, v: &str| format!("{}: {}", k.trim(), v.trim()).to_lowercase();
    let read: Vec<String> = in_block
        .iter()
        .filter_map(|t| t.split_once(':').map(|(k, v)| normal(k, v)))
        .collect();
    message
        .lines()
        .skip(1)
        .filter(|line| !line.starts_with(char::is_whitespace))
        .filter_map(|line| {
            let (k, v) = line.split_once(':')?;
            let misplaced = k.trim_end().eq_ignore_ascii_case(key) && !read.contains(&normal(k, v));
            misplaced.then(|| line.trim_end().chars().take(200).collect())
        })
        .take(OUTSIDE_LIMIT)
        .collect()
}

#[derive(Debug)]
struct Trailers(Vec<Wanted>);

fn build(cx: &mut Build<'_, '_>, entries: &[Entry<'_>]) -> Option<Box<dyn Requirement>> {
    let raw: Vec<Spanned<Raw>> = cx.read(entries.first()?)?;
    let mut wanted = Vec::new();
    for t in raw {
        let t = t.into_inner();
        let key_span = t.key.span();
        let key = t.key.into_inner();
        if !valid_trailer_key(&key) {
            cx.problems.error(
                key_span,
                format!(
                    "`{key}` is not a trailer key git would read: use letters, digits and `-` only"
                ),
            );
        }
        let (pattern, value) = match &t.value {
            Some(v) => (Some(v.get_ref().clone()), cx.problems.regex(v).ok()),
            None => (None, None),
        };
        let accepted = match (&pattern, &value) {
            (Some(p), Some(re)) => crate::rules::sample::accepted_values(p, re).into(),
            _ => Arc::from([]),
        };
        wanted.push(Wanted {
            key,
            pattern,
            value,
            accepted,
        });
    }
    if wanted.is_empty() {
        return None;
    }
    Some(Box::new(Trailers(wanted)))
}

impl Requirement for Trailers {
    fn needs(&self) -> Needs {
        Needs::default()
    }

    fn check(&self, _rule: &Rule, input: &Input<'_>, out: &mut Vec<Finding>) -> Result<(), Needs> {
        let Subject::Commit(c) = input.subject else {
            return Ok(());
        };
        for w in &self.0 {
            let found: Vec<_> = c.trailers.iter().filter(|t| t.key_is(&w.key)).collect();
            let ok = found.iter().any(|t| {
                w.value
                    .as_ref()
                    .is_none_or(|re| re.is_match(&String::from_utf8_lossy(&t.value)))
            });
            if !ok {
                let found: Vec<String> = found
                    .iter()
                    .map(|t| {
                        format!(
                            "{}: {}",
                            String::from_utf8_lossy(&t.key),
                            String::from_utf8_lossy(&t.value)
                        )
                    })
                    .collect();
                let outside = outside_block(&c.message, &w.key, &found);
                out.push(Finding::MissingTrailer(MissingTrailer {
                    key: w.key.clone(),
                    pattern: w.pattern.clone(),
                    accepted: w.accepted_with(&outside),
                    found,
                    outside,
                }));
            }
        }
        Ok(())
    }
}
