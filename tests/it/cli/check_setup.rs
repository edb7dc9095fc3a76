//! `trailgate check` as an administrator runs it on a server: inside a
//! repository it reads the policy the installed hook uses, and it warns
//! about what would make the policy not do what it says (a folder others
//! may write, an audit log the hook cannot write, no active rule, overrides
//! that nothing records or that never reach the hook). `--format json`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::*;

/// A world whose server has trailgate installed with `--config` pointing
/// at `text`, written to `admin/policy.toml` (a folder of its own).
fn installed(text: &str) -> (World, PathBuf) {
    let w = World::new();
    let dir = w.root.join("admin");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.join("policy.toml");
    std::fs::write(&path, text).unwrap();
    w.trailgate(
        &w.root,
        &[
            "install",
            "--config",
            path.to_str().unwrap(),
            w.server.to_str().unwrap(),
        ],
        "",
        &[],
    )
    .assert_code(0);
    (w, path)
}

fn check_in(w: &World, dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    w.trailgate(dir, &all, "", &[])
}

#[test]
fn check_inside_a_repository_reads_the_policy_its_installed_hook_uses() {
    let (w, path) = installed(&policy(SENIOR_RULE));
    // No --config, no trailgate.toml in the repository, no system policy:
    // only the installed hook says where the policy is.
    let run = check_in(&w, &w.server, &[]);
    run.assert_code(0).assert_no_panic();
    assert!(
        run.stdout.contains(path.to_str().unwrap()) && run.stdout.contains("hook installed"),
        "{}",
        run.dump()
    );
    // From a subfolder of the repository too.
    let run = check_in(&w, &w.server.join("refs"), &[]);
    run.assert_code(0);
    assert!(
        run.stdout.contains(path.to_str().unwrap()),
        "{}",
        run.dump()
    );
}

#[test]
fn audit_inside_a_repository_reads_the_log_of_its_installed_hooks_policy() {
    let (w, _) = installed(&policy(&format!(
        "[settings]\naudit_log = \"audit.jsonl\"\n{SENIOR_RULE}"
    )));
    w.push_accepted(&ALICE, &msg("Plain", &[]));
    let run = w.trailgate(&w.server, &["audit"], "", &[]);
    run.assert_code(0).assert_no_panic();
    assert!(run.stdout.contains("1 push "), "{}", run.dump());
    assert!(run.stdout.contains("admin/audit.jsonl"), "{}", run.dump());
}

#[test]
fn check_warns_about_a_policy_folder_everyone_may_write() {
    let (w, path) = installed(&policy(SENIOR_RULE));
    check_in(&w, &w.server, &[]).assert_silent_about("writable");
    let dir = path.parent().unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    check_in(&w, &w.server, &[])
        .assert_code(0)
        .assert_says("policy's folder")
        .assert_says("writable by everyone")
        .assert_says(&format!("chmod go-w {}", dir.display()));
}

#[test]
fn check_warns_when_the_audit_log_folder_does_not_exist() {
    let (w, _) = installed(&policy(&format!(
        "[settings]\naudit_log = \"logs/audit.jsonl\"\n{SENIOR_RULE}"
    )));
    check_in(&w, &w.server, &[])
        .assert_code(0)
        .assert_says("logs does not exist")
        .assert_says("install -d");
    std::fs::create_dir(w.root.join("admin/logs")).unwrap();
    check_in(&w, &w.server, &[]).assert_silent_about("audit log");
}

#[test]
fn check_warns_when_the_hooks_user_cannot_write_the_audit_log() {
    let (w, _) = installed(&policy(&format!(
        "[settings]\naudit_log = \"logs/audit.jsonl\"\n{SENIOR_RULE}"
    )));
    let logs = w.root.join("admin/logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o755)).unwrap();
    // The repository's owner (whoever runs the tests) may write it.
    check_in(&w, &w.server, &[]).assert_silent_about("cannot write");
    // `nobody` may not.
    check_in(&w, &w.server, &["--as", "nobody"])
        .assert_code(0)
        .assert_says("nobody (--as) cannot write")
        .assert_says(&format!("chown nobody {}", logs.display()));
    check_in(&w, &w.server, &["--as", "no-such-user-here"])
        .assert_code(0)
        .assert_says("no such user");
}

#[test]
fn check_warns_about_a_policy_with_no_active_rules() {
    let off = SENIOR_RULE.replace("when = {", "mode = \"off\"\nwhen = {");
    let (w, _) = installed(&policy(&off));
    check_in(&w, &w.server, &[])
        .assert_code(0)
        .assert_says("no active rules");
    let (w, _) = installed(&policy(SENIOR_RULE));
    check_in(&w, &w.server, &[]).assert_silent_about("no active rules");
}

#[test]
fn check_warns_about_overrides_that_nothing_records_or_that_never_reach_the_hook() {
    let overrides = "[settings.override]\nby = [\"senior\"]\n";
    let (w, _) = installed(&policy(&format!("{overrides}{SENIOR_RULE}")));
    let run = check_in(&w, &w.server, &[]);
    run.assert_code(0)
        .assert_says("no audit log records them")
        .assert_says("receive.advertisePushOptions");
    w.server_config("receive.advertisePushOptions", "true");
    check_in(&w, &w.server, &[])
        .assert_says("no audit log records them")
        .assert_silent_about("advertisePushOptions");
}

#[test]
fn check_json_prints_one_object_with_the_warnings() {
    let off = SENIOR_RULE.replace("when = {", "mode = \"off\"\nwhen = {");
    let (w, path) = installed(&policy(&off));
    let run = check_in(&w, &w.server, &["--format", "json"]);
    run.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["policy"], path.to_str().unwrap());
    assert_eq!(v["active_rules"], 0);
    let warnings = v["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("no active rules")),
        "{}",
        run.dump()
    );
}
