//! The policy in hook mode: where it is found, what happens when it is
//! missing or broken (the push is rejected: trailgate fails closed), and
//! `warn` mode.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use crate::support::*;

const RULE: &str = "ai-needs-senior-approval";
const MAIN: &str = "refs/heads/main";

#[test]
fn warn_mode_rule_is_shown_but_the_push_is_accepted() {
    let w = World::with_policy(&policy(&format!("{SENIOR_RULE}mode = \"warn\"\n")));
    let subject = "Unapproved but only warned about";
    let oid = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));
    w.push(&["origin", "main"])
        .assert_accepted()
        .assert_violation("warning", RULE, MAIN, &oid, subject)
        .assert_silent_about("error[")
        .assert_silent_about("push rejected");
    w.assert_server_ref(MAIN, Some(&oid));
}

#[test]
fn settings_mode_warn_shows_violations_but_accepts_the_push() {
    let w = World::with_policy(&policy(&format!(
        "[settings]\nmode = \"warn\"\n{SENIOR_RULE}"
    )));
    let subject = "Unapproved under a warn-only policy";
    let oid = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));
    w.push(&["origin", "main"])
        .assert_accepted()
        .assert_violation("warning", RULE, MAIN, &oid, subject)
        .assert_silent_about("error[")
        .assert_silent_about("push rejected");
    w.assert_server_ref(MAIN, Some(&oid));
}

#[test]
fn rule_mode_enforce_overrides_settings_mode_warn() {
    let w = World::with_policy(&policy(&format!(
        "[settings]\nmode = \"warn\"\n{SENIOR_RULE}mode = \"enforce\"\n"
    )));
    let before = w.server_ref(MAIN).unwrap();
    let subject = "Unapproved under an enforced rule";
    let oid = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_violation("error", RULE, MAIN, &oid, subject);
    w.assert_server_ref(MAIN, Some(&before));
}

#[test]
fn broken_policy_rejects_the_push_and_names_line_and_column() {
    let w = World::new();
    w.install_hook();
    // Line 6, column 24: `yes` is not a TOML value.
    w.write_policy(
        "version = 1\n\
         \n\
         [[rule]]\n\
         name = \"ai-needs-approval\"\n\
         refs = [\"refs/heads/main\"]\n\
         when = { ai_assisted = yes }\n\
         require = { trailers = [ { key = \"Approved-By\", value = \".\" } ] }\n",
    );
    let before = w.server_ref(MAIN).unwrap();
    w.commit(&ALICE, &msg("Harmless change", &[]));
    w.push(&["origin", "main"])
        .assert_rejected()
        .assert_cites("trailgate.toml", 6, &[24]);
    w.assert_server_ref(MAIN, Some(&before));
}

#[test]
fn policy_with_an_unknown_key_rejects_the_push_and_names_line_and_column() {
    let w = World::new();
    w.install_hook();
    // Line 5, column 1: `refz` is no rule key.
    w.write_policy(
        "version = 1\n\
         \n\
         [[rule]]\n\
         name = \"protect-main\"\n\
         refz = [\"refs/heads/main\"]\n\
         deny = [\"delete\"]\n",
    );
    let before = w.server_ref(MAIN).unwrap();
    w.commit(&ALICE, &msg("Harmless change", &[]));
    w.push(&["origin", "main"])
        .assert_rejected()
        .assert_cites("trailgate.toml", 5, &[1]);
    w.assert_server_ref(MAIN, Some(&before));
}

#[test]
fn missing_policy_rejects_the_push_and_names_the_paths_tried() {
    if Path::new("/etc/trailgate/policy.toml").exists() {
        eprintln!("skipped: /etc/trailgate/policy.toml exists on this machine");
        return;
    }
    let w = World::new();
    w.install_hook();
    assert!(!w.server.join("trailgate.toml").exists());
    let before = w.server_ref(MAIN).unwrap();
    w.commit(&ALICE, &msg("Harmless change", &[]));
    w.push(&["origin", "main"])
        .assert_rejected()
        .assert_says("trailgate.toml")
        .assert_says("TRAILGATE_CONFIG")
        .assert_says("/etc/trailgate/policy.toml");
    w.assert_server_ref(MAIN, Some(&before));
}

#[test]
fn trailgate_config_takes_precedence_over_the_policy_in_the_git_dir() {
    // The git dir's policy lets everything through; the one named by
    // TRAILGATE_CONFIG (which git hands on to the hook) does not.
    let w = World::with_policy(&policy(&format!("{SENIOR_RULE}mode = \"off\"\n")));
    let strict = w.root.join("strict.toml");
    std::fs::write(&strict, policy(SENIOR_RULE)).unwrap();
    let before = w.server_ref(MAIN).unwrap();
    let subject = "Unapproved";
    let oid = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));
    w.push_env(
        &["origin", "main"],
        &[("TRAILGATE_CONFIG", strict.to_str().unwrap())],
    )
    .assert_rejected_with(1)
    .assert_violation("error", RULE, MAIN, &oid, subject);
    w.assert_server_ref(MAIN, Some(&before));

    // Without it, the git dir's policy applies.
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
}
