//! The text report for people: git shows it as `remote:` lines; under
//! GitLab every line carries its prefix.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::words;
use super::*;
use crate::policy::Mode;
use crate::verdict::{CommitRef, Judgement, Violation};

/// How many commits a group lists before the rest are counted.
pub const GROUP_LIMIT: usize = 10;

/// Violations of one rule, on one ref, that say the same about each of
/// their commits: one block, one fix for them all.
struct Block<'a> {
    first: &'a Violation,
    /// The commits, in the order they were reported (newest first, as git
    /// walks history).
    commits: Vec<&'a CommitRef>,
}

/// Groups violations of one mode (in order of first appearance) by rule,
/// ref and what was found.
fn blocks<'a>(violations: &[&'a Violation]) -> Vec<Block<'a>> {
    let mut out: Vec<Block<'a>> = Vec::new();
    let mut index: HashMap<(&str, &str, bool, String), usize> = HashMap::new();
    for &v in violations {
        let key = (
            v.rule.as_str(),
            v.refname.as_str(),
            v.commit.is_some(),
            words::what(v),
        );
        match (index.get(&key), &v.commit) {
            (Some(&i), Some(c)) => {
                if let Some(block) = out.get_mut(i) {
                    block.commits.push(c);
                }
            }
            _ => {
                index.insert(key, out.len());
                out.push(Block {
                    first: v,
                    commits: v.commit.iter().collect(),
                });
            }
        }
    }
    out
}

/// "20 violations", "1 warning".
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", plural(n))
}

/// The text report; empty when there is nothing to say.
pub fn text(judgement: &Judgement, opts: &TextOptions) -> String {
    let errors: Vec<&Violation> = judgement
        .violations
        .iter()
        .filter(|v| v.mode == Mode::Enforce)
        .collect();
    let warnings: Vec<&Violation> = judgement
        .violations
        .iter()
        .filter(|v| v.mode == Mode::Warn)
        .collect();
    let what = if opts.verify { "commits" } else { "push" };
    let checked = count(judgement.commits_checked, "commit");
    let mut out = String::new();
    if errors.is_empty() && warnings.is_empty() {
        if opts.verbose {
            line(
                &mut out,
                opts,
                &format!("trailgate: {what} accepted: {checked} checked, no violations"),
            );
        }
        return out;
    }
    let overridden = judgement.override_used.is_some();
    // Counts of everything found, kept or not (see `verdict::KEPT_PER_RULE`).
    let (n_errors, n_warnings) = (judgement.found(Mode::Enforce), judgement.found(Mode::Warn));
    let and_warnings = if warnings.is_empty() {
        String::new()
    } else {
        format!(" and {}", count(n_warnings, "warning"))
    };
    if let Some(o) = &judgement.override_used {
        line(
            &mut out,
            opts,
            &format!(
                "trailgate: {what} accepted by override: {} overridden by {}{and_warnings}",
                count(o.overridden, "violation"),
                o.by
            ),
        );
        line(
            &mut out,
            opts,
            &format!("trailgate: override reason: {}", o.reason),
        );
    } else if !errors.is_empty() {
        line(
            &mut out,
            opts,
            &format!(
                "trailgate: {what} rejected: {} of the policy{and_warnings} ({checked} checked)",
                count(n_errors, "violation"),
            ),
        );
    } else {
        line(
            &mut out,
            opts,
            &format!(
                "trailgate: {what} accepted with {} ({checked} checked)",
                count(n_warnings, "warning"),
            ),
        );
    }
    let all = blocks(&errors)
        .into_iter()
        .chain(blocks(&warnings))
        .collect::<Vec<_>>();
    for (shown, b) in all.iter().enumerate() {
        if shown == SHOWN_LIMIT {
            let rest = all.get(shown..).unwrap_or_default();
            let in_rest = |mode: Mode| -> usize {
                rest.iter()
                    .filter(|b| b.first.mode == mode)
                    .map(|b| b.commits.len().max(1))
                    .sum()
            };
            let mut parts = Vec::new();
            for (mode, noun) in [(Mode::Enforce, "violation"), (Mode::Warn, "warning")] {
                let n = in_rest(mode);
                if n > 0 {
                    parts.push(format!("{n} more {noun}{}", plural(n)));
                }
            }
            line(&mut out, opts, "");
            line(
                &mut out,
                opts,
                &format!("... and {} not shown", parts.join(" and ")),
            );
            break;
        }
        line(&mut out, opts, "");
        let judged = judgement
            .commits_per_ref
            .iter()
            .find(|(name, _)| *name == b.first.refname)
            .map(|(_, n)| *n);
        block(&mut out, opts, b, overridden, judged);
    }
    truncated_lines(&mut out, opts, judgement);
    line(&mut out, opts, "");
    if overridden {
        let recorded = match opts.recorded {
            Some(audit::Recorded::Written) => "the override and its reason are recorded in the audit log",
            Some(audit::Recorded::Failed) => "the override and its reason could NOT be written to the audit log (see the warning above)",
            _ => "no audit log records the override (the policy sets no settings.audit_log)",
        };
        line(
            &mut out,
            opts,
            &format!("trailgate: {recorded}; fix the violations above in a follow-up."),
        );
    } else if errors.is_empty() {
        line(
            &mut out,
            opts,
            "trailgate: warnings do not block the push; they will once the rules are enforced.",
        );
    } else {
        let fix = if errors.iter().any(|v| v.commit.is_some()) {
            "fix the commits above and push again"
        } else {
            "follow the help above, then push again"
        };
        line(
            &mut out,
            opts,
            &format!("trailgate: {fix}. Policy: {}", opts.policy),
        );
        if let Some(contact) = &opts.contact {
            line(&mut out, opts, &contact_line(contact));
        }
    }
    out
}

/// One line for each rule whose violations on a ref were counted past the
/// first [`crate::verdict::KEPT_PER_RULE`] and not kept, so not shown above.
fn truncated_lines(out: &mut String, opts: &TextOptions, judgement: &Judgement) {
    for c in judgement.counts.iter().filter(|c| c.truncated > 0) {
        let noun = if c.mode == Mode::Warn {
            "warning"
        } else {
            "violation"
        };
        let on = if c.refname.is_empty() {
            String::new()
        } else {
            format!(" on {}", c.refname)
        };
        line(out, opts, "");
        line(
            out,
            opts,
            &format!(
                "... and {} more {noun}{} of [{}]{on}, counted and not listed: \
                 {} in all, trailgate keeps the first {}",
                c.truncated,
                plural(c.truncated),
                c.rule,
                c.violations,
                crate::verdict::KEPT_PER_RULE
            ),
        );
    }
}

/// The last line of every rejection when the policy sets `settings.contact`.
pub fn contact_line(contact: &str) -> String {
    format!("trailgate: questions about this policy: {contact}")
}

/// One block; `judged` is how many commits were judged for its ref.
fn block(
    out: &mut String,
    opts: &TextOptions,
    b: &Block<'_>,
    overridden: bool,
    judged: Option<usize>,
) {
    let v = b.first;
    let level = match (v.mode, overridden) {
        (Mode::Enforce, false) => "error",
        (Mode::Enforce, true) => "overridden",
        _ => "warning",
    };
    let (head, to) = match (b.commits.as_slice(), &v.commit) {
        (many @ [_, _, ..], _) => {
            let oldest = many.last().map(|c| c.oid.short()).unwrap_or_default();
            (
                format!(
                    "{level}[{}]: {}: {}",
                    v.rule,
                    v.refname,
                    count(many.len(), "commit")
                ),
                words::Target::Many {
                    oldest,
                    all: judged == Some(many.len()),
                },
            )
        }
        (_, Some(c)) => (
            format!(
                "{level}[{}]: {} {} \"{}\"",
                v.rule,
                v.refname,
                c.oid.short(),
                c.subject
            ),
            words::target(v),
        ),
        (_, None) if v.refname.is_empty() => {
            (format!("{level}[{}]: the push", v.rule), words::Target::Tip)
        }
        (_, None) => (
            format!("{level}[{}]: {}", v.rule, v.refname),
            words::Target::Tip,
        ),
    };
    line(out, opts, &head);
    if b.commits.len() > 1 {
        for (i, c) in b.commits.iter().enumerate() {
            if i == GROUP_LIMIT {
                // A block as long as a rule keeps may have lost commits
                // past it (see the "counted and not listed" line).
                let lists = if b.commits.len() >= crate::verdict::KEPT_PER_RULE {
                    format!("the first {} of each rule", crate::verdict::KEPT_PER_RULE)
                } else {
                    "every one".to_owned()
                };
                line(
                    out,
                    opts,
                    &format!(
                        "           ... and {} more commit{} (`trailgate verify --format json` lists {lists})",
                        b.commits.len() - GROUP_LIMIT,
                        plural(b.commits.len() - GROUP_LIMIT)
                    ),
                );
                break;
            }
            let label = if i == 0 { "  commits: " } else { "           " };
            line(
                out,
                opts,
                &format!("{label}{} \"{}\"", c.oid.short(), c.subject),
            );
        }
    }
    line(out, opts, &format!("  found: {}", words::what(v)));
    if let Some(message) = &v.message {
        line(out, opts, &format!("  why:   {message}"));
    }
    for (i, help) in words::help_for(v, &to).lines().enumerate() {
        let label = if i == 0 { "  help:  " } else { "         " };
        line(out, opts, &format!("{label}{help}"));
    }
}

/// Unicode format characters that are not controls but change how a line
/// reads: bidirectional overrides and isolates (which can make a subject
/// display as something else), zero-width characters and the BOM. Shown as
/// U+FFFD so the pusher sees that something was there.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

fn line(out: &mut String, opts: &TextOptions, text: &str) {
    // Untrusted text (subjects, trailer values) must not smuggle terminal
    // control sequences or fake extra lines into the pusher's terminal.
    let mut clean: String = text
        .chars()
        .take(LINE_LIMIT)
        .map(|c| {
            if c.is_control() {
                ' '
            } else if is_invisible(c) {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    // Nor flood it: a commit with 100,000 approval trailers would otherwise
    // make a `found:` line of megabytes.
    let total = text.chars().count();
    if total > LINE_LIMIT {
        clean.push_str(&format!(
            " ... ({} more characters not shown)",
            total - LINE_LIMIT
        ));
    }
    let _ = writeln!(out, "{}{}", opts.prefix, clean.trim_end());
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The text shown when trailgate cannot judge at all (exit 2).
pub fn failure(error: &str, prefix: &str, hook: bool) -> String {
    let mut out = String::new();
    let mut lines = error.lines();
    let first = lines.next().unwrap_or("unknown error");
    let _ = writeln!(out, "{prefix}trailgate: error: {first}");
    for rest in lines {
        let _ = writeln!(out, "{prefix}{rest}");
    }
    if hook {
        let _ = writeln!(out, "{prefix}trailgate: the push is rejected because it could not be judged (trailgate fails closed)");
    }
    out
}

#[cfg(test)]
mod tests;
