//! `trailgate audit` as an administrator reads it: overrides in words, the
//! pushes it could not judge with their errors, which push was slowest,
//! `--since`, a breakdown by repository, and a log that does not exist yet.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;

/// Records as the hook writes them (the field order of README "The audit log").
fn record(time: &str, push: &str, repo: &str, pusher: &str, decision: &str, extra: &str) -> String {
    format!(
        r#"{{"time":"{time}","push_id":"{push}","repository":"{repo}","git_dir":"/srv/git/{repo}.git","pusher":"{pusher}","pusher_email":null,"pusher_source":"REMOTE_USER","protocol":"http","ref":"refs/heads/main","old":null,"new":null,"decision":"{decision}","violations":[],"warnings":[],"overrides":[],"commits_checked":3,"duration_ms":5{extra}}}"#
    )
}

fn log_of(w: &World, lines: &[String]) -> String {
    let path = w.root.join("audit.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path.to_str().unwrap().to_owned()
}

fn audit(w: &World, args: &[&str]) -> Run {
    let mut all = vec!["audit"];
    all.extend_from_slice(args);
    w.trailgate(&w.root, &all, "", &[])
}

#[test]
fn audit_of_a_log_that_does_not_exist_yet_is_zero_pushes() {
    let w = World::new();
    let missing = w.root.join("logs/audit.jsonl");
    let run = audit(&w, &["--log", missing.to_str().unwrap()]);
    run.assert_code(0).assert_no_panic();
    assert!(run.stdout.contains("0 pushes"), "{}", run.dump());
    assert!(run.stdout.contains("does not exist yet"), "{}", run.dump());
    let json = audit(
        &w,
        &["--log", missing.to_str().unwrap(), "--format", "json"],
    );
    json.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(json.stdout.trim()).unwrap();
    assert_eq!(
        (v["pushes"].as_u64(), v["missing"].as_bool()),
        (Some(0), Some(true))
    );
}

#[test]
fn audit_prints_overrides_in_words_not_as_raw_json() {
    let w = World::new();
    let used = record(
        "2026-11-22T14:02:11.417Z",
        "p1",
        "acme/payments",
        "alice",
        "accept",
        "",
    )
    .replace(
        r#""overrides":[]"#,
        r#""overrides":[{"by":"alice (REMOTE_USER)","overridden":2,"reason":"INC-1234: checkout down\u001b[2J"}]"#,
    );
    let run = audit(&w, &["--log", &log_of(&w, &[used])]);
    run.assert_code(0);
    assert!(
        run.stdout.contains(
            "2026-11-22T14:02:11.417Z  alice (REMOTE_USER) on acme/payments refs/heads/main: 2 violations overridden, reason \"INC-1234: checkout down\\u{1b}[2J\""
        ),
        "{}",
        run.dump()
    );
    assert!(
        !run.stdout.contains("{\""),
        "raw JSON in the text\n{}",
        run.dump()
    );
}

#[test]
fn audit_says_which_pushes_it_could_not_judge_and_why() {
    let w = World::new();
    let failed = record(
        "2026-11-22T14:02:11.417Z",
        "p1",
        "acme/payments",
        "carol",
        "error",
        "",
    )
    .replace(
        r#""duration_ms":5"#,
        r#""duration_ms":5,"error":"object 1234abcd is missing\nsecond line""#,
    );
    let run = audit(&w, &["--log", &log_of(&w, &[failed])]);
    run.assert_code(0);
    assert!(run.stdout.contains("could not judge: 1"), "{}", run.dump());
    assert!(
        run.stdout
            .contains("2026-11-22T14:02:11.417Z  carol to acme/payments refs/heads/main: object 1234abcd is missing"),
        "{}",
        run.dump()
    );
}

#[test]
fn audit_names_the_slowest_push() {
    let w = World::new();
    let fast = record("2026-11-22T10:00:00.000Z", "p1", "a", "carol", "accept", "");
    let slow = record("2026-11-22T11:00:00.000Z", "p2", "b", "dave", "reject", "")
        .replace(r#""duration_ms":5"#, r#""duration_ms":4100"#);
    let run = audit(&w, &["--log", &log_of(&w, &[fast, slow])]);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("slowest: 4100 ms, 2026-11-22T11:00:00.000Z by dave to b refs/heads/main (reject, 3 commits checked)"),
        "{}",
        run.dump()
    );
}

#[test]
fn audit_since_keeps_later_records_and_breaks_pushes_down_by_repository() {
    let w = World::new();
    let log = log_of(
        &w,
        &[
            record(
                "2026-11-10T10:00:00.000Z",
                "p1",
                "acme/old",
                "carol",
                "reject",
                "",
            ),
            record(
                "2026-11-16T09:00:00.000Z",
                "p2",
                "acme/payments",
                "carol",
                "reject",
                "",
            ),
            record(
                "2026-11-17T09:00:00.000Z",
                "p3",
                "acme/payments",
                "alice",
                "accept",
                "",
            ),
            record(
                "2026-11-18T09:00:00.000Z",
                "p4",
                "acme/web",
                "alice",
                "accept",
                "",
            ),
        ],
    );
    let all = audit(&w, &["--log", &log]);
    assert!(all.stdout.contains("4 pushes"), "{}", all.dump());
    let run = audit(&w, &["--log", &log, "--since", "2026-11-16"]);
    run.assert_code(0);
    assert!(run.stdout.contains("3 pushes"), "{}", run.dump());
    assert!(
        run.stdout.contains("records since 2026-11-16"),
        "{}",
        run.dump()
    );
    assert!(!run.stdout.contains("acme/old"), "{}", run.dump());
    assert!(
        run.stdout
            .contains("2  acme/payments (accepted 1, rejected 1, could not judge 0)"),
        "{}",
        run.dump()
    );
    assert!(
        run.stdout
            .contains("1  acme/web (accepted 1, rejected 0, could not judge 0)"),
        "{}",
        run.dump()
    );
    // An age counts back from now: these records are all older than a day.
    let recent = audit(&w, &["--log", &log, "--since", "1d"]);
    assert!(recent.stdout.contains("0 pushes"), "{}", recent.dump());
    audit(&w, &["--log", &log, "--since", "last tuesday"])
        .assert_code(2)
        .assert_says("--since");
}
