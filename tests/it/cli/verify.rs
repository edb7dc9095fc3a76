//! `trailgate verify`: the hook's judgement on a revision range, in a clone
//! (for a `pre-push` hook or CI).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use crate::support::*;

const RULE: &str = "ai-needs-senior-approval";

/// A clone with the senior rule in `policy.toml` next to it.
fn setup() -> (World, PathBuf) {
    let w = World::new();
    let path = w.root.join("policy.toml");
    std::fs::write(&path, policy(SENIOR_RULE)).unwrap();
    (w, path)
}

fn verify(w: &World, config: &Path, args: &[&str]) -> Run {
    let mut all = vec!["verify", "--config", config.to_str().unwrap()];
    all.extend_from_slice(args);
    w.trailgate(&w.work, &all, "", &[])
}

#[test]
fn verify_exits_0_on_approved_commits_and_1_on_an_unapproved_one() {
    let (w, config) = setup();
    w.commit(
        &CAROL,
        &msg(
            "Approved change",
            &["AI-Assisted: yes", &approved_by(&ALICE)],
        ),
    );
    w.commit(&CAROL, &msg("Plain change", &[]));
    verify(&w, &config, &["origin/main..HEAD"])
        .assert_code(0)
        .assert_no_panic();

    let subject = "Unapproved change";
    let bad = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));
    verify(&w, &config, &["origin/main..HEAD"])
        .assert_code(1)
        .assert_no_panic()
        .assert_violation("error", RULE, "main", &bad, subject)
        .assert_says(SENIOR_RULE_MESSAGE);

    // The range decides what is judged.
    verify(&w, &config, &["origin/main..HEAD~1"]).assert_code(0);
}

#[test]
fn verify_judges_as_if_pushed_to_the_given_ref_or_the_current_branch() {
    let (w, config) = setup();
    w.git(&["checkout", "-q", "-b", "feature"]);
    w.commit(&CAROL, &msg("Unapproved change", &["AI-Assisted: yes"]));

    // The current branch, feature, is not covered by the rule.
    verify(&w, &config, &["origin/main..HEAD"]).assert_code(0);
    verify(
        &w,
        &config,
        &["--ref", "refs/heads/feature", "origin/main..HEAD"],
    )
    .assert_code(0);
    // As if pushed to main, it is.
    verify(
        &w,
        &config,
        &["--ref", "refs/heads/main", "origin/main..HEAD"],
    )
    .assert_code(1)
    .assert_line_with(&[&format!("error[{RULE}]")]);
}

#[test]
fn verify_json_output_has_the_documented_shape() {
    let (w, config) = setup();
    w.commit(
        &CAROL,
        &msg(
            "Approved change",
            &["AI-Assisted: yes", &approved_by(&ALICE)],
        ),
    );
    let bad = w.commit(&CAROL, &msg("Unapproved change", &["AI-Assisted: yes"]));

    let run = verify(&w, &config, &["--format", "json", "origin/main..HEAD"]);
    run.assert_code(1).assert_no_panic();
    let report: serde_json::Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not one JSON object: {e}\n{}", run.dump()));
    let keys: Vec<&str> = report
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    for key in ["decision", "commits_checked", "violations"] {
        assert!(keys.contains(&key), "missing {key:?}\n{}", run.dump());
    }
    assert_eq!(report["decision"], "reject", "{}", run.dump());
    assert_eq!(report["commits_checked"], 2, "{}", run.dump());
    let violations = report["violations"].as_array().expect("violations array");
    assert_eq!(violations.len(), 1, "{}", run.dump());
    let v = &violations[0];
    assert_eq!(v["rule"], RULE, "{}", run.dump());
    assert_eq!(v["ref"], "refs/heads/main", "{}", run.dump());
    assert_eq!(v["commit"], bad.as_str(), "{}", run.dump());
    assert_eq!(v["mode"], "enforce", "{}", run.dump());
    assert!(
        v["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        run.dump()
    );

    let run = verify(&w, &config, &["--format", "json", "origin/main..HEAD~1"]);
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
fn verify_works_in_a_bare_repository() {
    let (w, config) = setup();
    w.git(&["checkout", "-q", "-b", "feature"]);
    let subject = "Unapproved change";
    let bad = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));
    w.push(&["origin", "feature"]).assert_code(0);

    let args = [
        "verify",
        "--config",
        config.to_str().unwrap(),
        "--ref",
        "refs/heads/main",
        "main..feature",
    ];
    w.trailgate(&w.server, &args, "", &[])
        .assert_code(1)
        .assert_no_panic()
        .assert_violation("error", RULE, "main", &bad, subject);
}
