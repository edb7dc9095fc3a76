//! The text report's unit tests: what a pusher reads, line by line.
use super::*;
use crate::git::oid::ObjectId;
use crate::report::json;
use crate::verdict::{CommitRef, Finding, MissingApproval, MissingTrailer, Proof, Proofs};

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
            outside: Vec::new(),
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
        proof: Proofs::only(Proof::Trailer),
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
        outside: Vec::new(),
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
fn a_line_outside_the_trailer_block_is_said_to_be_ignored_with_the_fix() {
    let mut d = declare(true);
    if let Some(Finding::MissingTrailer(f)) = d.findings.first_mut() {
        f.outside = vec!["AI-Assisted: yes".into()];
    }
    let t = one(d);
    assert!(t.contains("  found: needs a trailer `AI-Assisted` whose value matches `(?i)^(yes|no)$`; found none in the trailer block; `AI-Assisted: yes` is in the message but outside its trailer block (the last paragraph), so git does not read it as a trailer and it is ignored\n"), "{t}");
    assert!(t.contains("  help:  put it in the trailer block: git commit --amend --trailer \"AI-Assisted: yes\"\n"), "{t}");
}

#[test]
fn the_found_line_names_the_declaration_that_made_a_commit_ai_assisted() {
    let mut d = v(Mode::Enforce);
    d.detected = Some(crate::verdict::AiMark::Declared("AI-Assisted: yes".into()));
    let t = one(d);
    assert!(t.contains("  found: AI-assisted: declared by `AI-Assisted: yes`; needs a trailer `Ticket`; found none\n"), "{t}");
}

#[test]
fn a_pattern_no_value_can_be_derived_from_is_described() {
    let mut d = declare(true);
    d.findings = vec![Finding::MissingTrailer(MissingTrailer {
        key: "Ticket".into(),
        pattern: Some(r"^\s+$".into()),
        found: Vec::new(),
        accepted: Vec::new().into(),
        outside: Vec::new(),
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
        outside: Vec::new(),
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
    let j = judged(
        (0..SHOWN_LIMIT + 5)
            .map(|i| of_rule(&format!("r{i}"), Mode::Enforce, i))
            .collect(),
    );
    let t = text(&j, &TextOptions::default());
    assert_eq!(t.matches("error[r").count(), SHOWN_LIMIT, "{t}");
    assert!(t.contains("... and 5 more violations not shown"), "{t}");
}

/// A violation of `rule` on commit number `n` (not the tip).
fn of_rule(rule: &str, mode: Mode, n: usize) -> Violation {
    let mut x = v(mode);
    x.rule = rule.to_owned();
    x.commit = Some(CommitRef {
        oid: ObjectId::from_hex(format!("{n:07x}{}", "a".repeat(33)).as_bytes()).unwrap(),
        subject: format!("Change {n}"),
        tip: n == 0,
    });
    x
}

fn judged(violations: Vec<Violation>) -> Judgement {
    Judgement {
        commits_checked: violations.len(),
        violations,
        ..Judgement::default()
    }
}

#[test]
fn repeated_violations_of_a_rule_are_one_block_listing_the_commits_with_one_fix() {
    // Newest first, as the walk reports them: commit 14 is the oldest.
    let mut j = judged((0..15).map(|i| of_rule("r", Mode::Enforce, i)).collect());
    // Every commit judged for the ref is in the block.
    j.commits_per_ref = vec![("refs/heads/main".into(), 15)];
    let t = text(&j, &TextOptions::default());
    assert!(
        t.starts_with(
            "trailgate: push rejected: 15 violations of the policy (15 commits checked)\n"
        ),
        "{t}"
    );
    assert_eq!(t.matches("error[r]").count(), 1, "{t}");
    assert!(t.contains("error[r]: refs/heads/main: 15 commits\n  commits: 0000000 \"Change 0\"\n           0000001 \"Change 1\"\n"), "{t}");
    assert!(t.contains("           0000009 \"Change 9\"\n           ... and 5 more commits (`trailgate verify --format json` lists every one)\n  found: needs a trailer `Ticket`; found none\n"), "{t}");
    assert!(!t.contains("Change 10"), "{t}");
    assert_eq!(t.matches("help:").count(), 1, "{t}");
    assert!(
        t.contains("  help:  git rebase 000000e~1 --exec 'git commit --amend --no-edit --trailer \"Ticket: <value>\"' (every commit from 000000e to the tip needs it)\n"),
        "{t}"
    );
    // With commits in between that passed, only those listed are changed.
    j.commits_per_ref = vec![("refs/heads/main".into(), 16)];
    let t = text(&j, &TextOptions::default());
    assert!(
        t.contains("  help:  git rebase -i 000000e~1, mark each commit listed above `reword`, and end each message with the line `Ticket: <value>`"),
        "{t}"
    );
    assert!(!t.contains("--exec"), "{t}");
}

#[test]
fn violations_that_say_different_things_are_not_grouped() {
    let mut other = of_rule("r", Mode::Enforce, 2);
    other.findings = vec![Finding::MissingTrailer(MissingTrailer {
        key: "Ticket".into(),
        pattern: None,
        found: vec!["Ticket:".into()],
        accepted: Vec::new().into(),
        outside: Vec::new(),
    })];
    let j = judged(vec![of_rule("r", Mode::Enforce, 1), other]);
    let t = text(&j, &TextOptions::default());
    assert_eq!(t.matches("error[r]").count(), 2, "{t}");
    assert!(!t.contains("commits:"), "{t}");
}

#[test]
fn warnings_are_counted_apart_from_violations() {
    let mut all = vec![
        of_rule("a", Mode::Enforce, 1),
        of_rule("b", Mode::Enforce, 2),
    ];
    all.extend((3..6).map(|i| of_rule("w", Mode::Warn, i)));
    let t = text(&judged(all), &TextOptions::default());
    assert!(
        t.starts_with("trailgate: push rejected: 2 violations of the policy and 3 warnings (5 commits checked)\n"),
        "{t}"
    );
    assert!(
        t.contains("warning[w]: refs/heads/main: 3 commits\n"),
        "{t}"
    );
}

#[test]
fn what_is_not_shown_counts_violations_and_warnings_apart() {
    let mut all: Vec<Violation> = (0..SHOWN_LIMIT)
        .map(|i| of_rule(&format!("r{i}"), Mode::Enforce, i))
        .collect();
    all.extend((0..2).map(|i| of_rule(&format!("w{i}"), Mode::Warn, 100 + i)));
    let t = text(&judged(all.clone()), &TextOptions::default());
    assert!(t.contains("... and 2 more warnings not shown"), "{t}");
    assert!(!t.contains("more violations"), "{t}");
    all.push(of_rule("late", Mode::Enforce, 200));
    all.push(of_rule("late", Mode::Enforce, 201));
    let t = text(&judged(all), &TextOptions::default());
    assert!(
        t.contains("... and 2 more violations and 2 more warnings not shown"),
        "{t}"
    );
}

#[test]
fn fix_the_commits_is_said_only_when_there_are_commits_to_fix() {
    let mut denied = v(Mode::Enforce);
    denied.commit = None;
    denied.findings = vec![Finding::DeniedUpdate(crate::verdict::DeniedUpdate {
        denied: crate::policy::DenyKind::ForcePush,
    })];
    let t = one(denied.clone());
    assert!(
        t.contains("trailgate: follow the help above, then push again."),
        "{t}"
    );
    assert!(!t.contains("fix the commits"), "{t}");
    let t = text(
        &judged(vec![denied, of_rule("r", Mode::Enforce, 0)]),
        &TextOptions::default(),
    );
    assert!(
        t.contains("trailgate: fix the commits above and push again."),
        "{t}"
    );
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
