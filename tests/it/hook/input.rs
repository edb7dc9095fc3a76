//! `trailgate pre-receive` driven directly, as git drives it (in the bare
//! repository, `GIT_DIR` set, ref updates on stdin): bad input is exit 2
//! with a clear message and never a panic; `--format json`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::ffi::OsStringExt;

use crate::support::*;

const MAIN: &str = "refs/heads/main";

fn assert_cannot_judge(run: &Run) {
    run.assert_code(2).assert_no_panic();
    assert!(
        !run.stderr.trim().is_empty(),
        "exit 2 needs a message saying why\n{}",
        run.dump()
    );
}

#[test]
fn empty_stdin_judges_nothing_and_accepts() {
    let w = World::with_policy(&policy(SENIOR_RULE));
    let run = w.pre_receive(&[], "");
    run.assert_code(0).assert_no_panic();
    assert_eq!(run.stderr, "", "nothing to say\n{}", run.dump());
}

#[test]
fn garbage_on_stdin_exits_2_with_a_clear_message() {
    let w = World::with_policy(&policy(SENIOR_RULE));
    let main = w.server_ref(MAIN).unwrap();
    let cases = [
        "this is not a ref update\n".to_owned(),
        format!("{main} {main}\n"),
        format!("{} {main} {MAIN}\n", &main[..39]),
        format!("{} {main} {MAIN}\n", "z".repeat(40)),
        format!("{main}  {main} {MAIN}\n"),
        "\u{0}\u{1}\u{2}\n".to_owned(),
    ];
    for stdin in &cases {
        let run = w.pre_receive(&[], stdin);
        assert_cannot_judge(&run);
    }
    let run = w.pre_receive(&[], &cases[0]);
    assert!(
        run.stderr.contains("this is not a ref update") || run.stderr.contains("line 1"),
        "the message should point at the bad input\n{}",
        run.dump()
    );
}

#[test]
fn unknown_object_id_on_stdin_exits_2_naming_it() {
    let w = World::with_policy(&policy(SENIOR_RULE));
    let main = w.server_ref(MAIN).unwrap();
    let missing = &fake_id("1234567890abcdef");
    assert!(!w.server_has(missing));

    let run = w.pre_receive(&[], &format!("{main} {missing} {MAIN}\n"));
    assert_cannot_judge(&run);
    run.assert_says(&missing[..7]);

    let run = w.pre_receive(&[], &format!("{missing} {main} {MAIN}\n"));
    assert_cannot_judge(&run);
    run.assert_says(&missing[..7]);
}

#[test]
fn branch_pointing_at_a_tree_exits_2() {
    let w = World::with_policy(&policy(SENIOR_RULE));
    let tree = w.server_git(&["rev-parse", "main^{tree}"]);
    let run = w.pre_receive(&[], &format!("{ZERO} {tree} refs/heads/treeish\n"));
    assert_cannot_judge(&run);
    assert!(
        run.stderr.contains("refs/heads/treeish") || run.stderr.contains(&tree[..7]),
        "the message should name the ref or the object\n{}",
        run.dump()
    );
}

#[test]
fn pushing_a_tree_to_a_branch_is_declined_by_the_hook() {
    // Git itself lets a tree travel to refs/heads/*, and only fails when it
    // updates the ref, after pre-receive: the hook must refuse it first.
    let w = World::with_policy(&policy(SENIOR_RULE));
    let tree = w.git(&["rev-parse", "HEAD^{tree}"]);
    w.push(&["origin", &format!("{tree}:refs/heads/treeish")])
        .assert_rejected()
        .assert_says("treeish");
    w.assert_server_ref("refs/heads/treeish", None);
}

#[test]
fn pre_receive_json_report_has_the_documented_shape() {
    let w = World::with_policy(&policy(SENIOR_RULE));
    let main = w.server_ref(MAIN).unwrap();
    // Put the objects in the repository through a branch no rule covers.
    w.git(&["checkout", "-q", "-b", "feature"]);
    let good = w.commit(
        &CAROL,
        &msg(
            "Approved change",
            &["AI-Assisted: yes", &approved_by(&ALICE)],
        ),
    );
    let bad = w.commit(&CAROL, &msg("Unapproved change", &["AI-Assisted: yes"]));
    w.push(&["origin", "feature"]).assert_accepted_silently();

    let run = w.pre_receive(&["--format", "json"], &format!("{main} {bad} {MAIN}\n"));
    run.assert_code(1).assert_no_panic();
    let report: serde_json::Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not one JSON object: {e}\n{}", run.dump()));
    assert_eq!(report["decision"], "reject", "{}", run.dump());
    assert_eq!(report["commits_checked"], 2, "{}", run.dump());
    let violations = report["violations"].as_array().expect("violations array");
    assert_eq!(violations.len(), 1, "{}", run.dump());
    let v = &violations[0];
    assert_eq!(v["rule"], "ai-needs-senior-approval");
    assert_eq!(v["ref"], MAIN);
    assert_eq!(v["commit"], bad.as_str());
    assert_eq!(v["mode"], "enforce");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));

    let run = w.pre_receive(&["--format", "json"], &format!("{main} {good} {MAIN}\n"));
    run.assert_code(0).assert_no_panic();
    let report: serde_json::Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not one JSON object: {e}\n{}", run.dump()));
    assert_eq!(report["decision"], "accept", "{}", run.dump());
    assert_eq!(report["commits_checked"], 1, "{}", run.dump());
    assert_eq!(
        report["violations"],
        serde_json::json!([]),
        "{}",
        run.dump()
    );
}

#[test]
fn config_flag_takes_precedence_over_trailgate_config_and_the_git_dir() {
    // The git dir's policy and TRAILGATE_CONFIG's are broken; --config wins.
    let w = World::with_policy("this is not toml\n");
    let broken = w.root.join("broken.toml");
    std::fs::write(&broken, "neither = is this\n").unwrap();
    let good = w.root.join("good.toml");
    std::fs::write(&good, policy(SENIOR_RULE)).unwrap();
    let main = w.server_ref(MAIN).unwrap();
    w.git(&["checkout", "-q", "-b", "feature"]);
    let bad = w.commit(&CAROL, &msg("Unapproved change", &["AI-Assisted: yes"]));
    // The hook judges every push; with the git dir's policy broken, use a
    // direct push to get the objects in.
    std::fs::remove_file(w.server.join("hooks").join("pre-receive")).unwrap();
    w.push(&["origin", "feature"]).assert_code(0);

    let git_dir = w.server.to_str().unwrap().to_owned();
    let run = w.trailgate(
        &w.server,
        &["pre-receive", "--config", good.to_str().unwrap()],
        &format!("{main} {bad} {MAIN}\n"),
        &[
            ("GIT_DIR", &git_dir),
            ("TRAILGATE_CONFIG", broken.to_str().unwrap()),
        ],
    );
    run.assert_code(1).assert_no_panic().assert_violation(
        "error",
        "ai-needs-senior-approval",
        MAIN,
        &bad,
        "Unapproved change",
    );

    // Without --config, TRAILGATE_CONFIG's broken file is the one named.
    let run = w.trailgate(
        &w.server,
        &["pre-receive"],
        &format!("{main} {bad} {MAIN}\n"),
        &[
            ("GIT_DIR", &git_dir),
            ("TRAILGATE_CONFIG", broken.to_str().unwrap()),
        ],
    );
    run.assert_code(2)
        .assert_no_panic()
        .assert_says("broken.toml:1:");
}

#[test]
fn a_push_refused_while_its_stdin_is_read_still_gets_an_audit_line() {
    // git allows a ref name that is not UTF-8; trailgate refuses it (exit
    // 2) before it knows any update, and the audit log says so anyway.
    let w = World::new();
    w.install_hook();
    let log = w.root.join("audit.jsonl");
    w.write_policy(&policy(&format!(
        "[settings]\naudit_log = \"{}\"\n{SENIOR_RULE}",
        log.display()
    )));
    w.commit(&CAROL, &msg("On a strange branch", &[]));
    let name = std::ffi::OsString::from_vec(b"refs/heads/caf\xe9".to_vec());
    let mut refspec = std::ffi::OsString::from("HEAD:");
    refspec.push(&name);
    let mut cmd = std::process::Command::new("git");
    cmd.current_dir(&w.work)
        .args(["push", "origin"])
        .arg(&refspec)
        .stdin(std::process::Stdio::null());
    hermetic(&mut cmd, &w.home);
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("is not UTF-8"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    let line = &lines[0];
    assert_eq!(line["decision"], "error", "{line}");
    assert!(line["ref"].is_null(), "{line}");
    assert!(
        line["error"].as_str().unwrap().contains("is not UTF-8"),
        "{line}"
    );
    assert!(
        line["repository"].is_string() && line["push_id"].is_string(),
        "{line}"
    );
}
