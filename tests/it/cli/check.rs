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
