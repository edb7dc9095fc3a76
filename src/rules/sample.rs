//! Values a rule's regex accepts, for a fix the pusher can paste as it is:
//! `AI-Assisted: yes`, not `AI-Assisted: <value>`, when only `yes` or `no`
//! pass.
//!
//! From the parsed pattern: the branches of a top-level alternation
//! (`^(yes|no)$`) each give one value, any other pattern one value built
//! from it (each class gives a lower-case letter, a digit, an upper-case
//! letter or other printable ASCII, in that order of preference; each
//! repetition its least count). Every value is checked against the
//! compiled regex and must be one git can carry as a trailer value (no
//! blanks at its ends, no control characters), so that a suggestion never
//! fails the rule it is meant to satisfy. Where none can be found, the
//! report falls back to describing the pattern.

use regex::Regex;
use regex_syntax::hir::{Class, Hir, HirKind};

/// The most values suggested.
const MAX_VALUES: usize = 6;

/// The longest value built; a pattern asking for more describes itself better.
const MAX_LEN: usize = 64;

/// The most parts of a pattern visited for one value: nested repetitions of
/// empty groups (`((){64}){64}...`) build nothing and would otherwise be
/// walked at every policy load.
const MAX_STEPS: usize = 10_000;

/// Up to [`MAX_VALUES`] distinct values `pattern` (compiled as `re`)
/// accepts, the first the one to suggest; empty when none can be derived.
pub fn accepted_values(pattern: &str, re: &Regex) -> Vec<String> {
    let Ok(hir) = regex_syntax::Parser::new().parse(pattern) else {
        return Vec::new();
    };
    let branches: Vec<&Hir> = match top_alternation(&hir) {
        Some(branches) => branches.iter().collect(),
        None => vec![&hir],
    };
    let mut out: Vec<String> = Vec::new();
    for branch in branches {
        let mut value = String::new();
        let mut steps = MAX_STEPS;
        if build(branch, &mut value, &mut steps).is_none() {
            continue;
        }
        if usable(&value, re) && !out.contains(&value) {
            out.push(value);
            if out.len() == MAX_VALUES {
                break;
            }
        }
    }
    out
}

/// The branches of the alternation a pattern consists of, looking through
/// anchors and groups (`^(?:yes|no)$`).
fn top_alternation(hir: &Hir) -> Option<&[Hir]> {
    match hir.kind() {
        HirKind::Alternation(branches) => Some(branches),
        HirKind::Capture(c) => top_alternation(&c.sub),
        HirKind::Concat(parts) => {
            let mut inner = parts
                .iter()
                .filter(|p| !matches!(p.kind(), HirKind::Look(_)));
            let only = inner.next()?;
            if inner.next().is_some() {
                return None;
            }
            top_alternation(only)
        }
        _ => None,
    }
}

/// Appends one value of `hir` to `out`; `None` when it cannot build one.
/// A branch of a top-level alternation is built on its own: the anchors
/// around it match the empty string.
fn build(hir: &Hir, out: &mut String, steps: &mut usize) -> Option<()> {
    *steps = steps.checked_sub(1)?;
    if out.len() > MAX_LEN {
        return None;
    }
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(lit) => out.push_str(std::str::from_utf8(&lit.0).ok()?),
        HirKind::Class(class) => out.push(pick(class)?),
        HirKind::Repetition(rep) => {
            let times = usize::try_from(rep.min).ok()?;
            if times > MAX_LEN {
                return None;
            }
            for _ in 0..times {
                build(&rep.sub, out, steps)?;
            }
        }
        HirKind::Capture(c) => build(&c.sub, out, steps)?,
        HirKind::Concat(parts) => {
            for part in parts {
                build(part, out, steps)?;
            }
        }
        HirKind::Alternation(branches) => {
            let start = out.len();
            let built = branches.iter().any(|b| {
                out.truncate(start);
                build(b, out, steps).is_some()
            });
            if !built {
                return None;
            }
        }
    }
    Some(())
}

/// The character of a class to write: a lower-case letter, a digit, an
/// upper-case letter, then any other printable ASCII character.
fn pick(class: &Class) -> Option<char> {
    const PREFERRED: [(char, char); 4] = [('a', 'z'), ('0', '9'), ('A', 'Z'), ('!', '~')];
    let ranges: Vec<(char, char)> = match class {
        Class::Unicode(c) => c.ranges().iter().map(|r| (r.start(), r.end())).collect(),
        Class::Bytes(c) => c
            .ranges()
            .iter()
            .filter(|r| r.start().is_ascii())
            .map(|r| (char::from(r.start()), char::from(r.end().min(0x7f))))
            .collect(),
    };
    PREFERRED.iter().find_map(|&(lo, hi)| {
        ranges
            .iter()
            .find(|&&(start, end)| start <= hi && end >= lo)
            .map(|&(start, _)| start.max(lo))
    })
}

/// Whether a value can be written as a trailer value and passes the rule.
fn usable(value: &str, re: &Regex) -> bool {
    pasteable(value) && re.is_match(value)
}

/// Whether a value may go into a command the pusher is told to paste
/// (`--trailer "Key: VALUE"`, also inside `--exec '...'`): a trailer value
/// (no blanks at its ends, no control characters) with nothing a shell
/// would interpret inside double or single quotes. A value taken from a
/// commit message is the commit author's text, and whoever pushes (a
/// senior pushing someone else's branch) is the one who pastes the fix.
pub fn pasteable(value: &str) -> bool {
    !value.is_empty()
        && value.trim() == value
        && !value
            .chars()
            .any(|c| c.is_control() || matches!(c, '"' | '$' | '`' | '\\' | '!' | '\''))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pattern: &str) -> Vec<String> {
        accepted_values(pattern, &Regex::new(pattern).unwrap())
    }

    #[test]
    fn literal_alternatives_are_each_a_value_in_lower_case() {
        assert_eq!(values("(?i)^(yes|no)$"), ["yes", "no"]);
        assert_eq!(values("^(?:true|yes|y)$"), ["true", "yes", "y"]);
        assert_eq!(values("^yes$"), ["yes"]);
        assert_eq!(values("(?i)^YES$"), ["yes"]);
    }

    #[test]
    fn other_patterns_give_one_value_that_matches() {
        assert_eq!(values(r"^T-\d+$"), ["T-0"]);
        assert_eq!(values(r"^[A-Z]{2,}-[0-9]{3}$"), ["AA-000"]);
        assert_eq!(values(r"^.+@example\.com$"), ["a@example.com"]);
        assert_eq!(values(r"^https://\S+$"), ["https://a"]);
        assert_eq!(values("ticket"), ["ticket"]);
    }

    #[test]
    fn no_value_when_none_could_be_a_trailer_value_or_pass() {
        assert!(values(r"^\s+$").is_empty());
        assert!(values("^$").is_empty());
        // Nothing a shell would expand inside the quotes of the fix.
        assert!(values(r"^\$\d+$").is_empty());
        assert!(values(r#"^a"b$"#).is_empty());
        assert!(values(r"^a{100}$").is_empty());
        // Building stops when the step budget runs out.
        let hir = regex_syntax::Parser::new().parse("(?:ab){3}c").unwrap();
        let (mut out, mut steps) = (String::new(), 5);
        assert_eq!(build(&hir, &mut out, &mut steps), None);
        let (mut out, mut steps) = (String::new(), MAX_STEPS);
        assert_eq!(build(&hir, &mut out, &mut steps), Some(()));
        assert_eq!(out, "abababc");
        // A look-around the sample cannot honour fails the final check.
        assert!(values(r"^\bx\B$").is_empty());
    }

    #[test]
    fn every_value_suggested_passes_the_pattern() {
        for pattern in [
            "(?i)^(yes|no)$",
            r"^(JIRA|GH)-\d{1,6}$",
            r"[[:alpha:]]+",
            r"^(?:a|b)c$",
        ] {
            let re = Regex::new(pattern).unwrap();
            let found = accepted_values(pattern, &re);
            assert!(!found.is_empty(), "{pattern}");
            assert!(found.iter().all(|v| re.is_match(v)), "{pattern}: {found:?}");
        }
    }
}
