//! `settings.time_budget_ms`: GitHub Enterprise Server gives all pre-receive
//! hooks five seconds together; trailgate stops judging when its budget is
//! spent and rejects with a message that says so, rather than being killed
//! without a word.

use super::*;

/// Appends `n` commits to the clone's `main` with git fast-import (fast,
/// and deterministic: one small file change and a one-line message each).
pub(super) fn many_commits(w: &World, n: usize) -> String {
    let tip = w.git(&["rev-parse", "HEAD"]);
    let mut script = String::new();
    for i in 0..n {
        let message = format!("Generated change {i}\n");
        let content = format!("line {i}\n");
        script.push_str(&format!(
            "commit refs/heads/main\ncommitter Carol <carol@example.com> {} +0000\ndata {}\n{message}",
            1_700_000_000 + i,
            message.len()
        ));
        if i == 0 {
            script.push_str(&format!("from {tip}\n"));
        }
        script.push_str(&format!(
            "M 100644 inline generated.txt\ndata {}\n{content}\n",
            content.len()
        ));
    }
    w.fast_import(&script);
    w.git(&["rev-parse", "HEAD"])
}

fn budget_policy(budget_ms: u64, log: &Path) -> String {
    // Every commit on main is judged (and passes: none declares AI use).
    policy(&format!(
        "[settings]\ntime_budget_ms = {budget_ms}\naudit_log = \"{}\"\n{SENIOR_RULE}",
        log.display()
    ))
}

#[test]
fn a_push_that_outlasts_the_time_budget_is_rejected_with_a_message_naming_it() {
    let w = World::new();
    let log = w.root.join("audit.jsonl");
    let policy = write_file(&w, "policy.toml", &budget_policy(1, &log));
    tg(
        &w,
        &["install", "--config", &policy, w.server.to_str().unwrap()],
    )
    .assert_code(0);
    let before = w.server_ref("refs/heads/main");
    let tip = many_commits(&w, 4000);

    let run = w.push(&["origin", "main"]);
    run.assert_rejected()
        .assert_says("takes longer than the policy's time budget")
        .assert_says("settings.time_budget_ms = 1 ms")
        .assert_says("push the history in smaller parts");
    w.assert_server_ref("refs/heads/main", before.as_deref());
    let records = read_audit(&log);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["decision"], "error");
    assert!(records[0]["error"]
        .as_str()
        .unwrap()
        .contains("time budget"));

    // With a budget that fits, the same push goes through.
    std::fs::write(&policy, budget_policy(60_000, &log)).unwrap();
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref("refs/heads/main", Some(&tip));
    let records = read_audit(&log);
    assert_eq!(records[1]["decision"], "accept");
    assert_eq!(records[1]["commits_checked"], 4000);
}

#[test]
fn a_negative_time_budget_is_a_policy_error() {
    let w = World::new();
    let path = write_file(
        &w,
        "policy.toml",
        "version = 1\n[settings]\ntime_budget_ms = -5\n",
    );
    tg(&w, &["check", "--config", &path])
        .assert_code(2)
        .assert_cites("policy.toml", 3, &[18])
        .assert_says("time_budget_ms");
}
