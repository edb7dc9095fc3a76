//! The audit log: one well-formed line per ref update judged, from
//! concurrent pushes too; `settings.audit_required`; `trailgate audit`.

use std::process::{Command, Stdio};

use super::*;

/// The senior rule on every branch, with an audit log.
fn audited_policy(log: &Path, extra_settings: &str) -> String {
    policy(&format!(
        "[settings]\naudit_log = \"{}\"\n{extra_settings}\n{}",
        log.display(),
        SENIOR_RULE.replace("refs = [\"refs/heads/main\"]", "refs = [\"refs/heads/**\"]")
    ))
}

#[test]
fn thirty_two_concurrent_pushes_leave_thirty_two_whole_audit_lines_and_the_right_refs() {
    let w = World::new();
    let log = w.root.join("audit.jsonl");
    let policy = write_file(&w, "policy.toml", &audited_policy(&log, ""));
    tg(
        &w,
        &["install", "--config", &policy, w.server.to_str().unwrap()],
    )
    .assert_code(0);

    // 32 branches, one commit each: even ones approved by a senior, odd ones not.
    let mut tips = Vec::new();
    for i in 0..32usize {
        w.git(&["checkout", "-q", "-b", &format!("topic-{i}"), "main"]);
        let mut trailers = vec!["AI-Assisted: yes".to_owned()];
        if i.is_multiple_of(2) {
            trailers.push(approved_by(&ALICE));
        }
        let t: Vec<&str> = trailers.iter().map(String::as_str).collect();
        tips.push(w.commit(&CAROL, &msg(&format!("Change {i}"), &t)));
    }

    let (work, home) = (&w.work, &w.home);
    let results: Vec<(usize, bool, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..32)
            .map(|i| {
                s.spawn(move || {
                    let mut cmd = Command::new("git");
                    cmd.args(["push", "origin", &format!("topic-{i}")])
                        .current_dir(work)
                        .stdin(Stdio::null());
                    hermetic(&mut cmd, home);
                    let out = cmd.output().unwrap();
                    (
                        i,
                        out.status.success(),
                        String::from_utf8_lossy(&out.stderr).into_owned(),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, ok, stderr) in &results {
        assert_eq!(*ok, i.is_multiple_of(2), "push of topic-{i}: {stderr}");
    }

    let records = read_audit(&log);
    assert_eq!(records.len(), 32, "one line per ref update judged");
    let mut seen = std::collections::BTreeSet::new();
    for r in &records {
        assert_record_shape(r);
        let refname = r["ref"].as_str().unwrap();
        let i: usize = refname
            .strip_prefix("refs/heads/topic-")
            .unwrap()
            .parse()
            .unwrap();
        assert!(seen.insert(i), "two lines for {refname}");
        assert_eq!(r["new"], tips[i].as_str());
        assert_eq!(r["old"], serde_json::Value::Null);
        assert_eq!(r["commits_checked"], 1, "{r}");
        if i.is_multiple_of(2) {
            assert_eq!(r["decision"], "accept", "{r}");
            assert_eq!(r["violations"], serde_json::json!([]));
        } else {
            assert_eq!(r["decision"], "reject", "{r}");
            assert_eq!(r["violations"][0]["rule"], "ai-needs-senior-approval");
            assert_eq!(r["violations"][0]["commit"], tips[i].as_str());
        }
    }
    // The server's refs are exactly what the decisions say.
    for (i, tip) in tips.iter().enumerate() {
        let expected = (i.is_multiple_of(2)).then_some(tip.as_str());
        w.assert_server_ref(&format!("refs/heads/topic-{i}"), expected);
    }

    // `trailgate audit` summarises it, from --log or from the policy.
    let text = tg(&w, &["audit", "--log", log.to_str().unwrap()]);
    text.assert_code(0)
        .assert_says("32 pushes (32 ref updates)")
        .assert_says("accepted: 16")
        .assert_says("rejected: 16")
        .assert_line_with(&["16", "ai-needs-senior-approval"]);
    let json = tg(&w, &["audit", "--config", &policy, "--format", "json"]);
    json.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["pushes"], 32);
    assert_eq!(v["rejected"], 16);
    assert_eq!(v["rejections_by_rule"]["ai-needs-senior-approval"], 16);
    assert_eq!(v["overrides"], serde_json::json!([]));
}

#[test]
fn every_ref_of_a_push_gets_a_line_with_its_own_violations_and_warnings() {
    let w = World::new();
    let log = w.root.join("audit.jsonl");
    let warn_rule = "[[rule]]\nname = \"declare-ai-use\"\nmode = \"warn\"\nrefs = [\"refs/heads/main\"]\nrequire = { trailers = [ { key = \"AI-Assisted\" } ] }\n";
    let text = format!("{}{warn_rule}", audited_policy(&log, ""));
    let policy = write_file(&w, "policy.toml", &text);
    tg(
        &w,
        &["install", "--config", &policy, w.server.to_str().unwrap()],
    )
    .assert_code(0);
    let plain = w.commit(&CAROL, &msg("No declaration", &[]));
    w.git(&["checkout", "-q", "-b", "feature"]);
    let bad = w.commit(&CAROL, &msg("Unapproved", &["AI-Assisted: yes"]));
    w.push(&["origin", "main", "feature"])
        .assert_rejected_with(1);
    let records = read_audit(&log);
    assert_eq!(records.len(), 2);
    let main = records
        .iter()
        .find(|r| r["ref"] == "refs/heads/main")
        .unwrap();
    let feature = records
        .iter()
        .find(|r| r["ref"] == "refs/heads/feature")
        .unwrap();
    assert_eq!(main["push_id"], feature["push_id"]);
    // The push is rejected as a whole, so both lines say so.
    assert_eq!(main["decision"], "reject");
    assert_eq!(feature["decision"], "reject");
    assert_eq!(main["violations"], serde_json::json!([]));
    assert_eq!(main["warnings"][0]["rule"], "declare-ai-use");
    assert_eq!(main["warnings"][0]["commit"], plain.as_str());
    assert_eq!(feature["violations"][0]["commit"], bad.as_str());
    assert_eq!(main["protocol"], "unknown");
    assert_eq!(main["pusher"], serde_json::Value::Null);
}

#[test]
fn an_unwritable_audit_log_warns_unless_it_is_required() {
    let w = World::new();
    let log = w.root.join("no-such-folder/audit.jsonl");
    let policy = write_file(&w, "policy.toml", &audited_policy(&log, ""));
    tg(
        &w,
        &["install", "--config", &policy, w.server.to_str().unwrap()],
    )
    .assert_code(0);
    w.commit(&ALICE, &msg("Fine", &[]));
    w.push(&["origin", "main"])
        .assert_accepted()
        .assert_says("warning: cannot write the audit log")
        .assert_says("no-such-folder/audit.jsonl");

    std::fs::write(&policy, audited_policy(&log, "audit_required = true")).unwrap();
    let before = w.server_ref("refs/heads/main");
    w.commit(&ALICE, &msg("Also fine, but unaudited", &[]));
    w.push(&["origin", "main"])
        .assert_rejected()
        .assert_says("cannot write the audit log")
        .assert_says("audit_required = true, so the push is rejected");
    w.assert_server_ref("refs/heads/main", before.as_deref());
}

#[test]
fn a_push_that_cannot_be_judged_is_logged_as_an_error() {
    let w = World::new();
    let log = w.root.join("audit.jsonl");
    let policy = write_file(&w, "policy.toml", &audited_policy(&log, ""));
    tg(
        &w,
        &["install", "--config", &policy, w.server.to_str().unwrap()],
    )
    .assert_code(0);
    // A branch pointing at a tree: trailgate cannot judge it (exit 2).
    let tree = w.git(&["rev-parse", "HEAD^{tree}"]);
    let git_dir = w.server.to_str().unwrap().to_owned();
    let run = w.trailgate(
        &w.server,
        &["pre-receive", "--config", &policy],
        &format!("{ZERO} {tree} refs/heads/odd\n"),
        &[("GIT_DIR", &git_dir), ("REMOTE_USER", "dave")],
    );
    run.assert_code(2);
    let records = read_audit(&log);
    assert_eq!(records.len(), 1);
    assert_record_shape(&records[0]);
    assert_eq!(records[0]["decision"], "error");
    assert_eq!(records[0]["pusher"], "dave");
    assert!(records[0]["error"]
        .as_str()
        .unwrap()
        .contains("must point at a commit"));
}

#[test]
fn audit_required_without_an_audit_log_is_a_policy_error() {
    let w = World::new();
    let path = write_file(
        &w,
        "policy.toml",
        "version = 1\n[settings]\naudit_required = true\n",
    );
    tg(&w, &["check", "--config", &path])
        .assert_code(2)
        .assert_cites("policy.toml", 3, &[18])
        .assert_says("needs settings.audit_log");
}
