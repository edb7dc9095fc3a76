//! `--format json` prints exactly one JSON object whatever happens (README
//! "What the pusher sees"): also when trailgate cannot judge (exit 2), as
//! `{"decision": "error", "error": "..."}`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;

/// The one JSON object on stdout (fails on none, on two, on anything else).
fn one_object(run: &Run) -> serde_json::Value {
    let mut values =
        serde_json::Deserializer::from_str(&run.stdout).into_iter::<serde_json::Value>();
    let first = values
        .next()
        .unwrap_or_else(|| panic!("no JSON object on stdout\n{}", run.dump()))
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", run.dump()));
    assert!(
        values.next().is_none(),
        "more than one JSON value\n{}",
        run.dump()
    );
    assert!(first.is_object(), "{}", run.dump());
    first
}

fn assert_error_object(run: &Run, needle: &str) {
    run.assert_code(2).assert_no_panic();
    let v = one_object(run);
    assert_eq!(v["decision"], "error", "{}", run.dump());
    let message = v["error"].as_str().unwrap_or_default();
    assert!(
        message.contains(needle),
        "error {message:?} lacks {needle:?}\n{}",
        run.dump()
    );
}

#[test]
fn json_pre_receive_with_an_invalid_policy_prints_one_error_object() {
    let w = World::with_policy("version = 1\n[[rule]]\nname = \"x\"\nrequier = {}\n");
    let head = w.server_ref("refs/heads/main").unwrap();
    let run = w.pre_receive(
        &["--format", "json"],
        &format!("{head} {head} refs/heads/main\n"),
    );
    assert_error_object(&run, "requier");
}

#[test]
fn json_pre_receive_with_bad_stdin_prints_one_error_object() {
    let w = World::with_policy(&policy(SENIOR_RULE));
    let run = w.pre_receive(&["--format", "json"], "not a ref update line\n");
    assert_error_object(&run, "");
}

#[test]
fn json_pre_receive_with_a_missing_object_prints_one_error_object() {
    let w = World::with_policy(&policy(SENIOR_RULE));
    let head = w.server_ref("refs/heads/main").unwrap();
    let missing = fake_id("1234567890");
    let run = w.pre_receive(
        &["--format", "json"],
        &format!("{head} {missing} refs/heads/main\n"),
    );
    assert_error_object(&run, &missing);
}

#[test]
fn json_pre_receive_with_empty_stdin_still_prints_one_object() {
    let w = World::with_policy(&policy(SENIOR_RULE));
    let run = w.pre_receive(&["--format", "json"], "");
    run.assert_code(0);
    let v = one_object(&run);
    assert_eq!(v["decision"], "accept", "{}", run.dump());
}

#[test]
fn json_pre_receive_whose_required_audit_log_fails_prints_only_the_error() {
    let w = World::with_policy(&policy(&format!(
        "[settings]\naudit_log = \"/nonexistent-folder/audit.jsonl\"\naudit_required = true\n{SENIOR_RULE}"
    )));
    let head = w.server_ref("refs/heads/main").unwrap();
    let run = w.pre_receive(
        &["--format", "json"],
        &format!("{head} {head} refs/heads/main\n"),
    );
    assert_error_object(&run, "audit");
}

#[test]
fn json_verify_without_a_policy_prints_one_error_object() {
    let w = World::new();
    let missing = w.root.join("no-such-policy.toml");
    let run = w.trailgate(
        &w.work,
        &[
            "verify",
            "--format",
            "json",
            "--config",
            missing.to_str().unwrap(),
            "origin/main..HEAD",
        ],
        "",
        &[],
    );
    assert_error_object(&run, "no-such-policy.toml");
}

#[test]
fn json_usage_error_prints_one_error_object() {
    let w = World::new();
    let run = w.trailgate(
        &w.work,
        &["verify", "--format", "json", "--no-such-flag", "HEAD"],
        "",
        &[],
    );
    assert_error_object(&run, "--no-such-flag");
}

#[test]
fn json_check_of_an_invalid_policy_lists_its_problems() {
    let w = World::new();
    let path = w.root.join("p.toml");
    std::fs::write(&path, "version = 1\n[[rule]]\nname = \"x\"\nrequier = {}\n").unwrap();
    let run = w.trailgate(
        &w.root,
        &[
            "check",
            "--format",
            "json",
            "--config",
            path.to_str().unwrap(),
        ],
        "",
        &[],
    );
    assert_error_object(&run, "requier");
    let v = one_object(&run);
    assert_eq!(v["valid"], false);
    assert_eq!(v["problems"][0]["line"], 4, "{}", run.dump());
}
