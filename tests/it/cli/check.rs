//! `trailgate check`: a policy validates (exit 0), or every problem is
//! reported with `file:line:column` (exit 2).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use crate::support::*;

/// Runs `trailgate check --config FILE` on `text` written to `policy.toml`.
fn check(text: &str) -> Run {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("policy.toml");
    std::fs::write(&path, text).unwrap();
    run_trailgate(
        tmp.path(),
        tmp.path(),
        &["check", "--config", path.to_str().unwrap()],
        b"",
        &[],
    )
}

/// 1-based line and column of `token` on the first line of `text` that
/// contains `line_marker` (and `token`).
fn pos(text: &str, line_marker: &str, token: &str) -> (usize, usize) {
    pos_nth(text, line_marker, token, 0)
}

/// [`pos`] on the `nth` (0-based) such line.
fn pos_nth(text: &str, line_marker: &str, token: &str, nth: usize) -> (usize, usize) {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.contains(line_marker) && l.contains(token))
        .nth(nth)
        .map(|(i, l)| (i + 1, l.find(token).unwrap() + 1))
        .unwrap_or_else(|| panic!("{line_marker:?} / {token:?} not in the policy"))
}

fn assert_invalid(run: &Run) {
    run.assert_code(2).assert_no_panic();
}

#[test]
fn check_accepts_a_valid_policy() {
    let text = policy(&format!(
        "{SENIOR_RULE}
[[rule]]
name = \"protect-main\"
refs = [\"refs/heads/main\"]
deny = [\"force-push\", \"delete\"]

[[rule]]
name = \"declare-ai-use\"
mode = \"warn\"
refs = [\"refs/heads/main\"]
require = {{ trailers = [ {{ key = \"AI-Assisted\", value = \"(?i)^(yes|no)$\" }} ] }}
"
    ));
    check(&text).assert_code(0).assert_no_panic();
}

#[test]
fn check_rejects_an_unknown_key_with_line_and_column() {
    let text = policy(&SENIOR_RULE.replace("require = ", "requires = "));
    let (line, col) = pos(&text, "requires", "requires");
    assert_invalid(
        check(&text)
            .assert_cites("policy.toml", line, &[col])
            .assert_says("requires"),
    );
}

#[test]
fn check_rejects_an_unknown_key_inside_an_inline_table_with_line_and_column() {
    let text = policy(&SENIOR_RULE.replace("author_not_in", "autor_not_in"));
    let (line, col) = pos(&text, "autor_not_in", "autor_not_in");
    assert_invalid(
        check(&text)
            .assert_cites("policy.toml", line, &[col])
            .assert_says("autor_not_in"),
    );
}

#[test]
fn check_rejects_an_unknown_group_with_line_and_column() {
    let text = policy(&SENIOR_RULE.replace("from = [\"senior\"]", "from = [\"seniors\"]"));
    let (line, quote) = pos(&text, "from = [", "\"seniors\"");
    // The element itself, or the array holding it.
    assert_invalid(
        check(&text)
            .assert_cites("policy.toml", line, &[quote, quote - 1])
            .assert_says("seniors"),
    );
}

#[test]
fn check_rejects_a_bad_regex_with_line_and_column() {
    let text = policy(&SENIOR_RULE.replace(
        "when = { ai_assisted = true,",
        "when = { ai_assisted = true, message = \"(unclosed\",",
    ));
    let (line, col) = pos(&text, "message = ", "\"(unclosed\"");
    assert_invalid(check(&text).assert_cites("policy.toml", line, &[col]));
}

#[test]
fn check_rejects_a_duplicate_rule_name_with_line_and_column() {
    let text = policy(&format!("{SENIOR_RULE}{SENIOR_RULE}"));
    let marker = "name = \"ai-needs-senior-approval\"";
    let (line, quote) = pos_nth(&text, marker, "\"ai-needs", 1);
    // The second rule's name: its value, or its key.
    assert_invalid(
        check(&text)
            .assert_cites("policy.toml", line, &[quote, 1])
            .assert_says("ai-needs-senior-approval"),
    );
}

#[test]
fn check_reports_every_problem_not_just_the_first() {
    let text = policy_with_groups(
        "juniors = [\"zed\"]\n",
        &format!(
            "{}{}{}",
            SENIOR_RULE.replace("from = [\"senior\"]", "from = [\"seniors\"]"),
            SENIOR_RULE
                .replace("ai-needs-senior-approval", "second-rule")
                .replace(
                    "author_not_in = [\"senior\"]",
                    "author_not_in = [\"juniorz\"]"
                ),
            SENIOR_RULE.replace("from = [\"senior\"]", "from = [\"juniors\"]"),
        ),
    );
    let run = check(&text);
    assert_invalid(&run);
    // Unknown person id `zed` in a group.
    let (l, c) = pos(&text, "juniors = [", "\"zed\"");
    run.assert_cites("policy.toml", l, &[c, c - 1])
        .assert_says("zed");
    // Unknown group `seniors` in the first rule.
    let (l, c) = pos(&text, "from = [", "\"seniors\"");
    run.assert_cites("policy.toml", l, &[c, c - 1])
        .assert_says("seniors");
    // Unknown group `juniorz` in the second rule.
    let (l, c) = pos(&text, "author_not_in", "\"juniorz\"");
    run.assert_cites("policy.toml", l, &[c, c - 1])
        .assert_says("juniorz");
    // The third rule reuses the first one's name.
    let (l, c) = pos_nth(
        &text,
        "name = \"ai-needs-senior-approval\"",
        "\"ai-needs",
        1,
    );
    run.assert_cites("policy.toml", l, &[c, 1]);
}

#[test]
fn config_example_in_the_repository_validates() {
    let example = Path::new(REPO_ROOT).join("config.example.toml");
    assert!(example.is_file(), "{} is missing", example.display());
    let tmp = tempfile::tempdir().unwrap();
    run_trailgate(
        tmp.path(),
        Path::new(REPO_ROOT),
        &["check", "--config", example.to_str().unwrap()],
        b"",
        &[],
    )
    .assert_code(0)
    .assert_no_panic();
}

#[test]
fn check_refuses_an_endless_policy_file_instead_of_hanging() {
    // /dev/zero never ends: reading it whole would hang and exhaust memory.
    let tmp = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let run = run_trailgate(
        tmp.path(),
        tmp.path(),
        &["check", "--config", "/dev/zero"],
        b"",
        &[],
    );
    run.assert_code(2).assert_no_panic();
    assert!(run.stderr.contains("larger than"), "{}", run.dump());
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn check_suggests_the_key_a_misspelled_one_was_meant_to_be() {
    let text = policy(&SENIOR_RULE.replace("require = ", "requier = "));
    let (line, col) = pos(&text, "requier", "requier");
    assert_invalid(
        check(&text)
            .assert_cites("policy.toml", line, &[col])
            .assert_says("unknown key `requier`; did you mean `require`?"),
    );
    // A misspelled value and a misspelled group too.
    let text = policy(&SENIOR_RULE.replace("refs = ", "mode = \"enforced\"\nrefs = "));
    assert_invalid(check(&text).assert_says("did you mean `enforce`?"));
    let text = policy(&SENIOR_RULE.replace("from = [\"senior\"]", "from = [\"seniors\"]"));
    assert_invalid(check(&text).assert_says("did you mean `senior`?"));
}

#[test]
fn check_speaks_of_numbers_and_lists_not_of_rust_types() {
    let text = policy(&format!(
        "[settings]\nmax_commits = \"lots\"\n{SENIOR_RULE}"
    ));
    let run = check(&text);
    assert_invalid(&run);
    run.assert_says("expected a whole number")
        .assert_silent_about("i64");
    let text =
        policy(&SENIOR_RULE.replace("refs = [\"refs/heads/main\"]", "refs = \"refs/heads/main\""));
    let run = check(&text);
    assert_invalid(&run);
    run.assert_says("expected a list in [ ]")
        .assert_silent_about("sequence");
}

#[test]
fn check_keeps_a_regex_error_on_its_lines_with_the_caret() {
    let text = policy(&SENIOR_RULE.replace(
        "when = { ai_assisted = true,",
        "when = { ai_assisted = true, message = \"(unclosed\",",
    ));
    let run = check(&text);
    assert_invalid(&run);
    // regex's caret sits under the pattern, on a line of its own.
    let lines: Vec<&str> = run.stderr.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == "(unclosed")
        .unwrap_or_else(|| panic!("the pattern is not on a line of its own\n{}", run.dump()));
    assert_eq!(
        lines.get(at + 1).map(|l| l.trim()),
        Some("^"),
        "{}",
        run.dump()
    );
    run.assert_says("unclosed group");
}

#[test]
fn check_accepts_a_contact_and_refuses_an_empty_one() {
    let ok = policy(&format!(
        "[settings]\ncontact = \"#git-help on chat, or git-admins@example.com\"\n{SENIOR_RULE}"
    ));
    check(&ok).assert_code(0);
    let empty = policy(&format!("[settings]\ncontact = \"  \"\n{SENIOR_RULE}"));
    assert_invalid(check(&empty).assert_says("settings.contact"));
}

/// A policy with one rule on detected AI assistance and `[ai]` as given.
fn detecting(ai: &str) -> String {
    policy(&format!(
        "[ai]\n{ai}\n\n[[rule]]\nname = \"declare-detected-ai\"\n\
         when = {{ ai_detected = true, ai_declared = false }}\n\
         require = {{ trailers = [ {{ key = \"AI-Assisted\", value = \"^yes$\" }} ] }}\n"
    ))
}

#[test]
fn check_says_where_detection_changes_what_a_policy_sees() {
    let run = check(&detecting(""));
    run.assert_code(0);
    for needle in [
        "note: AI detection in this version adds marks of OpenHands, OpenCode, Crush, Warp, Factory Droid",
        "AI-assisted for rule declare-detected-ai",
        "note: ai.detect = \"builtin\" counts strong marks only",
        "VS Code Copilot: VS Code's automatic Copilot co-author line",
        "note: a disclosure trailer (`Assisted-by`, `Generated-by`, ...) whose value names a person",
    ] {
        assert!(run.stderr.contains(needle), "{needle:?}\n{}", run.dump());
    }
    // `all` counts the weak marks: no note about them.
    let run = check(&detecting("detect = \"all\""));
    assert!(run.stderr.contains("adds marks of"), "{}", run.dump());
    assert!(
        !run.stderr.contains("counts strong marks only"),
        "{}",
        run.dump()
    );
    // `never` keeps the earlier reading of disclosure values.
    let run = check(&detecting("human_help = \"never\""));
    assert!(!run.stderr.contains("is human help"), "{}", run.dump());
    // `off`: detection does not change; only the disclosure note remains.
    let run = check(&detecting("detect = \"off\""));
    assert!(!run.stderr.contains("adds marks of"), "{}", run.dump());
    assert!(run.stderr.contains("is human help"), "{}", run.dump());
    // A policy that never asks about AI assistance hears nothing of it.
    let run = check(&policy(
        "[[rule]]\nname = \"protect-main\"\ndeny = [\"delete\"]\n",
    ));
    run.assert_code(0);
    assert!(!run.stderr.contains("note:"), "{}", run.dump());
}

#[test]
fn ai_settings_are_checked() {
    for (bad, allowed) in [
        ("detect = \"strong\"", "builtin"),
        ("human_help = \"sometimes\"", "name-and-email"),
    ] {
        let run = check(&detecting(bad));
        run.assert_code(2);
        assert!(run.stderr.contains(allowed), "{bad}: {}", run.dump());
    }
}

#[test]
fn install_and_check_treat_sha256_and_reftable_repositories_like_any_other() {
    // Git 3.0's defaults: install writes the hook without a word of
    // "unsupported", and check (run inside the repository) reads it and
    // warns about the hook that others may write, as for any repository.
    use std::os::unix::fs::PermissionsExt;
    for (objects, refs) in [
        ("sha256", "files"),
        ("sha1", "reftable"),
        ("sha256", "reftable"),
    ] {
        let w = World::with_formats(objects, refs);
        let policy = w.root.join("policy.toml");
        std::fs::write(&policy, crate::support::policy(SENIOR_RULE)).unwrap();
        let policy = policy.to_str().unwrap();
        let server = w.server.to_str().unwrap();
        let install = run_trailgate(
            &w.home,
            &w.root,
            &["install", "--config", policy, server],
            b"",
            &[],
        );
        install.assert_code(0);
        let said = format!("{}{}", install.stdout, install.stderr).to_lowercase();
        assert!(
            !said.contains("unsupported") && !said.contains("not supported"),
            "{said}"
        );
        let hook = w.server.join("hooks").join("pre-receive");
        assert!(hook.is_file(), "{objects}/{refs}: no hook written");
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o775)).unwrap();
        let check = run_trailgate(&w.home, &w.server, &["check", "--config", policy], b"", &[]);
        check.assert_code(0);
        check.assert_says("the hook");
        check.assert_says("is writable by");
        let said = format!("{}{}", check.stdout, check.stderr).to_lowercase();
        assert!(
            !said.contains("unsupported") && !said.contains("cannot open"),
            "{said}"
        );
    }
}
