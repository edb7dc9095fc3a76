//! The text report for people: git shows it as `remote:` lines; under
//! GitLab every line carries its prefix.

use std::fmt::Write as _;

use super::words;
use super::*;
use crate::policy::Mode;
use crate::verdict::{Judgement, Violation};

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
    let mut out = String::new();
    if errors.is_empty() && warnings.is_empty() {
        if opts.verbose {
            line(
                &mut out,
                opts,
                &format!(
                    "trailgate: {what} accepted: {} commit{} checked, no violations",
                    judgement.commits_checked,
                    plural(judgement.commits_checked)
                ),
            );
        }
        return out;
    }
    let overridden = judgement.override_used.is_some();
    if let Some(o) = &judgement.override_used {
        line(
            &mut out,
            opts,
            &format!(
                "trailgate: {what} accepted by override: {} violation{} overridden by {}",
                o.overridden,
                plural(o.overridden),
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
                "trailgate: {what} rejected: {} violation{} of the policy ({} commit{} checked)",
                errors.len(),
                plural(errors.len()),
                judgement.commits_checked,
                plural(judgement.commits_checked)
            ),
        );
    } else {
        line(
            &mut out,
            opts,
            &format!(
                "trailgate: {what} accepted with {} warning{} ({} commit{} checked)",
                warnings.len(),
                plural(warnings.len()),
                judgement.commits_checked,
                plural(judgement.commits_checked)
            ),
        );
    }
    for (shown, v) in errors.iter().chain(warnings.iter()).enumerate() {
        if shown == SHOWN_LIMIT {
            let rest = errors.len() + warnings.len() - shown;
            line(&mut out, opts, "");
            line(
                &mut out,
                opts,
                &format!("... and {rest} more violation{} not shown", plural(rest)),
            );
            break;
        }
        line(&mut out, opts, "");
        violation(&mut out, opts, v, overridden);
    }
    line(&mut out, opts, "");
    if overridden {
        line(
            &mut out,
            opts,
            "trailgate: the override and its reason are recorded; fix the violations above in a follow-up.",
        );
    } else if errors.is_empty() {
        line(
            &mut out,
            opts,
            "trailgate: warnings do not block the push; they will once the rules are enforced.",
        );
    } else {
        line(
            &mut out,
            opts,
            &format!(
                "trailgate: fix the commits above and push again. Policy: {}",
                opts.policy
            ),
        );
    }
    out
}

fn violation(out: &mut String, opts: &TextOptions, v: &Violation, overridden: bool) {
    let level = match (v.mode, overridden) {
        (Mode::Enforce, false) => "error",
        (Mode::Enforce, true) => "overridden",
        _ => "warning",
    };
    let head = match &v.commit {
        Some(c) => format!(
            "{level}[{}]: {} {} \"{}\"",
            v.rule,
            v.refname,
            c.oid.short(),
            c.subject
        ),
        None if v.refname.is_empty() => format!("{level}[{}]: the push", v.rule),
        None => format!("{level}[{}]: {}", v.rule, v.refname),
    };
    line(out, opts, &head);
    line(out, opts, &format!("  found: {}", words::what(v)));
    if let Some(message) = &v.message {
        line(out, opts, &format!("  why:   {message}"));
    }
    for (i, help) in words::help(v).lines().enumerate() {
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
mod tests {
    use super::*;
    use crate::git::oid::ObjectId;
    use crate::report::json;
    use crate::verdict::{CommitRef, Finding, MissingApproval, MissingTrailer, Proof};

    fn v(mode: Mode) -> Violation {
        Violation {
            rule: "r".into(),
            refname: "refs/heads/main".into(),
            commit: Some(CommitRef {
                oid: ObjectId::from_hex(b"1234567890123456789012345678901234567890").unwrap(),
                subject: "Subject\x1b[31m".into(),
                tip: true,
            }),
            mode,
            findings: vec![Finding::MissingTrailer(MissingTrailer {
                key: "Ticket".into(),
                pattern: None,
                found: Vec::new(),
                accepted: Vec::new().into(),
            })],
            detected: None,
            message: Some("because".into()),
        }
    }

    fn one(v: Violation) -> String {
        let j = Judgement {
            violations: vec![v],
            commits_checked: 1,
            ..Judgement::default()
        };
        text(&j, &TextOptions::default())
    }

    #[test]
    fn rejection_names_rule_ref_short_id_what_why_and_help() {
        let t = one(v(Mode::Enforce));
        assert!(
            t.starts_with("trailgate: push rejected: 1 violation "),
            "{t}"
        );
        assert!(
            t.contains("error[r]: refs/heads/main 1234567 \"Subject [31m\""),
            "{t}"
        );
        assert!(
            t.contains("  found: needs a trailer `Ticket`; found none\n"),
            "{t}"
        );
        assert!(t.contains("  why:   because\n"), "{t}");
        assert!(
            t.contains("  help:  git commit --amend --trailer \"Ticket: <value>\"\n"),
            "{t}"
        );
        assert!(!t.contains('\x1b'));
    }

    #[test]
    fn help_of_several_lines_is_indented_under_the_first() {
        let mut approval = v(Mode::Enforce);
        approval.findings = vec![Finding::MissingApproval(MissingApproval {
            need: 1,
            groups: vec!["senior".to_owned()].into(),
            proof: Proof::Trailer,
            found: Vec::new(),
            candidates: vec!["alice (Alice)".to_owned()].into(),
            candidates_total: 1,
            example: Some("Alice <alice@example.com>".into()),
            trailer_key: "Approved-By".into(),
        })];
        let t = one(approval);
        assert!(
            t.contains(
                "  found: needs an approval from group senior; found no `Approved-By` trailer\n"
            ),
            "{t}"
        );
        assert!(t.contains("  help:  ask alice (Alice) to review it, then record the approval: git commit --amend --trailer \"Approved-By: Alice <alice@example.com>\"\n"), "{t}");
    }

    fn declare(tip: bool) -> Violation {
        let mut d = v(Mode::Enforce);
        if let Some(c) = &mut d.commit {
            c.tip = tip;
        }
        d.findings = vec![Finding::MissingTrailer(MissingTrailer {
            key: "AI-Assisted".into(),
            pattern: Some("(?i)^(yes|no)$".into()),
            found: Vec::new(),
            accepted: vec!["yes".to_owned(), "no".to_owned()].into(),
        })];
        d
    }

    #[test]
    fn the_tip_is_amended_with_a_value_the_rule_accepts() {
        let t = one(declare(true));
        assert!(
            t.contains("  help:  git commit --amend --trailer \"AI-Assisted: yes\"\n         (accepted values: yes, no)\n"),
            "{t}"
        );
        assert!(!t.contains("<value>"), "{t}");
    }

    #[test]
    fn an_older_commit_is_fixed_by_a_rebase_never_by_amending() {
        let t = one(declare(false));
        assert!(
            t.contains("  help:  git rebase -i 1234567~1, mark 1234567 `reword`, and end its message with the line `AI-Assisted: yes`"),
            "{t}"
        );
        assert!(!t.contains("--amend"), "{t}");
        let mut unsigned = v(Mode::Enforce);
        if let Some(c) = &mut unsigned.commit {
            c.tip = false;
        }
        unsigned.findings = vec![Finding::Unsigned(crate::verdict::Unsigned {
            signature: crate::verdict::Signature::Unsigned,
        })];
        let t = one(unsigned);
        assert!(t.contains("git rebase 1234567~1 --exec '"), "{t}");
    }

    #[test]
    fn a_pattern_no_value_can_be_derived_from_is_described() {
        let mut d = declare(true);
        d.findings = vec![Finding::MissingTrailer(MissingTrailer {
            key: "Ticket".into(),
            pattern: Some(r"^\s+$".into()),
            found: Vec::new(),
            accepted: Vec::new().into(),
        })];
        let t = one(d);
        assert!(
            t.contains("git commit --amend --trailer \"Ticket: <a value matching ^\\s+$>\""),
            "{t}"
        );
    }

    #[test]
    fn a_line_longer_than_the_limit_is_cut_with_a_count() {
        let mut long = v(Mode::Enforce);
        long.findings = vec![Finding::MissingTrailer(MissingTrailer {
            key: "Ticket".into(),
            pattern: None,
            found: vec!["x".repeat(LINE_LIMIT + 500)],
            accepted: Vec::new().into(),
        })];
        let t = one(long);
        assert!(
            t.lines().all(|l| l.chars().count() < LINE_LIMIT + 100),
            "{t}"
        );
        // The line is 2,543 characters: "  found: needs a trailer `Ticket`;
        // found `", the value, and its closing backtick.
        assert!(t.contains("... (543 more characters not shown)"), "{t}");
    }

    #[test]
    fn bidi_overrides_and_zero_width_characters_are_made_visible() {
        let mut violation = v(Mode::Enforce);
        if let Some(c) = &mut violation.commit {
            c.subject = "Fix \u{202E}txt.exe\u{202C} and\u{200B}more".into();
        }
        let t = one(violation);
        assert!(
            t.contains("Fix \u{FFFD}txt.exe\u{FFFD} and\u{FFFD}more"),
            "{t}"
        );
        assert!(!t.contains('\u{202E}') && !t.contains('\u{200B}'));
    }

    #[test]
    fn accepted_push_without_warnings_prints_nothing() {
        assert_eq!(text(&Judgement::default(), &TextOptions::default()), "");
    }

    #[test]
    fn gitlab_prefix_starts_every_line() {
        let j = Judgement {
            violations: vec![v(Mode::Warn)],
            commits_checked: 1,
            ..Judgement::default()
        };
        let opts = TextOptions {
            prefix: "GL-HOOK-ERR: ".into(),
            ..TextOptions::default()
        };
        let t = text(&j, &opts);
        assert!(t.lines().all(|l| l.starts_with("GL-HOOK-ERR: ")), "{t}");
        assert!(t.contains("warning[r]"));
    }

    #[test]
    fn long_lists_are_cut_with_a_count() {
        let j = Judgement {
            violations: vec![v(Mode::Enforce); SHOWN_LIMIT + 5],
            commits_checked: 1,
            ..Judgement::default()
        };
        let t = text(&j, &TextOptions::default());
        assert_eq!(t.matches("error[r]").count(), SHOWN_LIMIT);
        assert!(t.contains("... and 5 more violations not shown"));
    }

    #[test]
    fn json_has_the_documented_shape_and_the_typed_finding() {
        let j = Judgement {
            violations: vec![v(Mode::Enforce)],
            commits_checked: 3,
            ..Judgement::default()
        };
        let value: serde_json::Value = serde_json::from_str(&json(&j)).unwrap();
        assert_eq!(value["decision"], "reject");
        assert_eq!(value["commits_checked"], 3);
        let v = &value["violations"][0];
        assert_eq!(v["rule"], "r");
        assert_eq!(v["mode"], "enforce");
        assert_eq!(v["message"], "needs a trailer `Ticket`; found none");
        assert_eq!(v["kind"], "missing_trailer");
        assert_eq!(v["key"], "Ticket");
        assert_eq!(v["findings"][0]["kind"], "missing_trailer");
        assert_eq!(v["findings"][0]["found"], serde_json::json!([]));
    }
}
