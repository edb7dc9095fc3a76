//! Real pushes judged with a directory file beside the policy.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::support::*;

/// `YYYY-MM-DDTHH:MM:SSZ`, `offset` seconds from now.
fn stamp(offset: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let out = std::process::Command::new("date")
        .args([
            "-u",
            "-d",
            &format!("@{}", now + offset),
            "+%Y-%m-%dT%H:%M:%SZ",
        ])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The directory as the organisation's tooling writes it: Alice and Bob,
/// and a `senior` group holding `seniors`.
fn directory(generated: &str, seniors: &[&str]) -> String {
    let seniors: Vec<String> = seniors.iter().map(|s| format!("\"{s}\"")).collect();
    format!(
        r#"generated = {generated}

[people.alice]
name = "Alice Senior"
emails = ["alice@example.com"]
logins = ["alice-s"]

[people.bob]
name = "Bob Senior"
emails = ["bob@example.com"]

[people.dave]
name = "Dave"
emails = ["dave@example.com"]

[groups]
senior = [{}]
"#,
        seniors.join(", ")
    )
}

/// A policy with no people of its own that names the directory file.
fn policy_with(settings: &str) -> String {
    format!("version = 1\n[settings]\ndirectory = \"directory.toml\"\n{settings}\n{SENIOR_RULE}")
}

fn world(settings: &str, dir: &str) -> World {
    let w = World::with_policy(&policy_with(settings));
    write_dir(&w, dir);
    w
}

fn write_dir(w: &World, text: &str) {
    std::fs::write(w.server.join("directory.toml"), text).unwrap();
}

fn ai_commit_approved_by(p: &Person) -> String {
    msg("Add retry", &["AI-Assisted: yes", &approved_by(p)])
}

#[test]
fn a_senior_from_the_directory_file_approves() {
    let w = world("", &directory(&stamp(-60), &["alice"]));
    w.push_accepted(&CAROL, &ai_commit_approved_by(&ALICE));
    w.push_rejected(&CAROL, &ai_commit_approved_by(&DAVE), 1);
}

#[test]
fn a_promotion_in_the_directory_file_counts_from_the_next_push() {
    let w = world("", &directory(&stamp(-60), &["alice"]));
    w.push_rejected(&CAROL, &ai_commit_approved_by(&DAVE), 1);
    w.reset_to_origin();
    write_dir(&w, &directory(&stamp(-30), &["alice", "dave"]));
    w.push_accepted(&CAROL, &ai_commit_approved_by(&DAVE));
}

#[test]
fn someone_who_left_the_directory_no_longer_approves() {
    let w = world("", &directory(&stamp(-60), &["alice", "bob"]));
    w.push_accepted(&CAROL, &ai_commit_approved_by(&BOB));
    write_dir(&w, &directory(&stamp(-30), &["alice"]));
    w.push_rejected(&CAROL, &ai_commit_approved_by(&BOB), 1);
}

#[test]
fn policy_groups_may_name_directory_people() {
    let policy = format!(
        "version = 1\n[settings]\ndirectory = \"directory.toml\"\n[groups]\nleads = [\"dave\"]\n{}",
        SENIOR_RULE.replace("from = [\"senior\"]", "from = [\"leads\"]")
    );
    let w = World::with_policy(&policy);
    write_dir(&w, &directory(&stamp(-60), &["alice"]));
    w.push_accepted(&CAROL, &ai_commit_approved_by(&DAVE));
}

#[test]
fn a_person_in_both_the_policy_and_the_directory_is_an_error_in_the_directory_file() {
    let policy = format!(
        "version = 1\n[settings]\ndirectory = \"directory.toml\"\n[people.bob]\nemails = [\"bob@other.example.com\"]\n{SENIOR_RULE}"
    );
    let w = World::with_policy(&policy);
    write_dir(&w, &directory(&stamp(-60), &["alice"]));
    let check = w.trailgate(
        &w.root,
        &[
            "check",
            "--config",
            w.server.join("trailgate.toml").to_str().unwrap(),
        ],
        "",
        &[],
    );
    check.assert_code(2);
    check.assert_cites("directory.toml", 8, &[9]);
    check.assert_says("person `bob` is already defined at line 4 of the policy");
    assert_push_refused(&w, "person `bob` is already defined");
}

#[test]
fn a_group_in_both_is_an_error_and_so_is_an_address_of_two_people() {
    let policy = format!(
        "version = 1\n[settings]\ndirectory = \"directory.toml\"\n[people.robert]\nemails = [\"bob@example.com\"]\n[groups]\nsenior = [\"robert\"]\n{SENIOR_RULE}"
    );
    let w = World::with_policy(&policy);
    write_dir(&w, &directory(&stamp(-60), &["alice"]));
    let check = w.trailgate(
        &w.root,
        &[
            "check",
            "--config",
            w.server.join("trailgate.toml").to_str().unwrap(),
        ],
        "",
        &[],
    );
    check.assert_code(2);
    check.assert_says("e-mail `bob@example.com` already belongs to person `robert`");
    check.assert_says("group `senior` is already defined at line 7 of the policy");
}

/// What the hook says for a directory file it cannot use: the push is
/// rejected, and the message names the problem.
fn assert_push_refused(w: &World, needle: &str) -> Run {
    let before = w.server_ref("refs/heads/main");
    w.commit(&CAROL, &ai_commit_approved_by(&ALICE));
    let run = w.push(&["origin", "main"]);
    run.assert_no_panic();
    assert!(!run.success(), "{}", run.dump());
    run.assert_says(needle);
    w.assert_server_ref("refs/heads/main", before.as_deref());
    run
}

#[test]
fn a_malformed_directory_file_rejects_the_push_naming_file_line_and_column() {
    let text = directory(&stamp(-60), &["alice"])
        .replace("logins = [\"alice-s\"]", "logins = [\"alice-s\"");
    let w = world("", &text);
    let run = assert_push_refused(&w, "missing comma between array elements");
    run.assert_cites("directory.toml", 8, &[1]);
    // The groups the broken file would have defined are not reported
    // missing one by one: its own error explains them.
    run.assert_silent_about("unknown group");
}

#[test]
fn a_directory_file_cut_short_while_being_written_rejects_the_push() {
    let full = directory(&stamp(-60), &["alice"]);
    // Cut at a line boundary, the hardest case: everything left parses.
    let cut = full.find("[people.dave]").unwrap();
    let w = world("", &full[..cut]);
    assert_push_refused(&w, "was it cut short while being written?");
    // And in the middle of a line.
    write_dir(&w, &full[..full.len() - 5]);
    w.reset_to_origin();
    assert_push_refused(&w, "directory.toml:");
}

#[test]
fn an_unreadable_or_missing_directory_file_rejects_the_push() {
    let w = World::with_policy(&policy_with(""));
    assert_push_refused(&w, "cannot read the directory file");
    // A folder in its place cannot be read either (root reads any file, so
    // permissions alone would not test this under root).
    std::fs::create_dir(w.server.join("directory.toml")).unwrap();
    w.reset_to_origin();
    assert_push_refused(&w, "cannot read the directory file");
}

#[test]
fn a_directory_file_generated_in_the_future_rejects_the_push() {
    let w = world("", &directory(&stamp(3 * 3600), &["alice"]));
    assert_push_refused(&w, "is in the future");
}

#[test]
fn a_stale_directory_file_rejects_every_push_by_default() {
    let w = world(
        "directory_max_age = \"26h\"",
        &directory(&stamp(-27 * 3600), &["alice"]),
    );
    assert_push_refused(&w, "longer ago than settings.directory_max_age (26h)");
    // A fresh file lets the same push through.
    write_dir(&w, &directory(&stamp(-60), &["alice"]));
    w.push(&["origin", "main"]).assert_accepted_silently();
}

#[test]
fn a_stale_directory_file_only_warns_when_told_to() {
    let w = world(
        "directory_max_age = \"1h\"\ndirectory_stale = \"warn\"",
        &directory(&stamp(-2 * 3600), &["alice"]),
    );
    w.commit(&CAROL, &ai_commit_approved_by(&ALICE));
    let run = w.push(&["origin", "main"]);
    run.assert_accepted();
    run.assert_says("trailgate: warning: the directory file");
}

fn sha256(path: &Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn each_audit_line_names_the_policy_and_directory_it_was_judged_with() {
    let generated = stamp(-60);
    let w = world(
        "audit_log = \"audit.jsonl\"",
        &directory(&generated, &["alice"]),
    );
    w.push_accepted(&CAROL, &ai_commit_approved_by(&ALICE));
    let log = std::fs::read_to_string(w.server.join("audit.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(
        line["policy_sha256"],
        sha256(&w.server.join("trailgate.toml")),
        "{line}"
    );
    assert_eq!(line["directory"]["generated"], generated, "{line}");
    assert_eq!(
        line["directory"]["sha256"],
        sha256(&w.server.join("directory.toml")),
        "{line}"
    );
    assert_eq!(
        line["directory"]["path"],
        w.server.join("directory.toml").to_str().unwrap(),
        "{line}"
    );
}

#[test]
fn directory_settings_are_checked() {
    let w = World::with_policy(
        "version = 1\n[settings]\ndirectory_max_age = \"soon\"\ndirectory_stale = \"ignore\"\n",
    );
    let check = w.trailgate(
        &w.root,
        &[
            "check",
            "--config",
            w.server.join("trailgate.toml").to_str().unwrap(),
        ],
        "",
        &[],
    );
    check.assert_code(2);
    check.assert_says("ignore");
}

#[test]
fn check_names_the_directory_file_and_warns_when_it_is_stale() {
    let generated = stamp(-2 * 3600);
    let w = world(
        "directory_max_age = \"1h\"",
        &directory(&generated, &["alice"]),
    );
    let check = w.trailgate(
        &w.root,
        &[
            "check",
            "--config",
            w.server.join("trailgate.toml").to_str().unwrap(),
        ],
        "",
        &[],
    );
    check.assert_code(0);
    check.assert_says(&format!(
        "generated {generated}, sha256 {}",
        sha256(&w.server.join("directory.toml"))
    ));
    check.assert_says("warning: the directory file");
    check.assert_says("longer ago than settings.directory_max_age (1h)");
}

#[test]
fn a_gpg_key_in_the_directory_file_that_is_not_armour_is_an_error() {
    let text = directory(&stamp(-60), &["alice"]).replace(
        "emails = [\"bob@example.com\"]",
        "emails = [\"bob@example.com\"]\ngpg_keys = [\"mDMEZ0000\"]",
    );
    let w = world("", &text);
    let check = w.trailgate(
        &w.root,
        &[
            "check",
            "--config",
            w.server.join("trailgate.toml").to_str().unwrap(),
        ],
        "",
        &[],
    );
    check.assert_code(2);
    check.assert_cites("directory.toml", 11, &[13]);
    check.assert_says("not an ASCII-armoured OpenPGP public key");
}

#[test]
fn a_generated_time_without_a_time_zone_is_an_error() {
    let text = directory(&stamp(-60), &["alice"]).replacen('Z', "", 1);
    let w = world("", &text);
    assert_push_refused(&w, "is not a full time with a time zone");
}

fn check(w: &World) -> Run {
    w.trailgate(
        &w.root,
        &[
            "check",
            "--config",
            w.server.join("trailgate.toml").to_str().unwrap(),
        ],
        "",
        &[],
    )
}

// The hook reads a person's table when a push needs that person (see
// src/policy/directory/lazy.rs); these pin down what that means.

#[test]
fn an_invalid_entry_that_the_push_needs_rejects_it_naming_file_line_and_column() {
    // Alice's login has a space: `check` refuses the file; the hook reads
    // Alice's table when her approval is counted, and refuses the push.
    let text = directory(&stamp(-60), &["alice"]).replace("\"alice-s\"", "\" alice-s\"");
    let w = world("", &text);
    let c = check(&w);
    c.assert_code(2);
    c.assert_cites("directory.toml", 6, &[11]);
    let run = assert_push_refused(&w, "has invalid entries that this push needed");
    run.assert_says("directory.toml:6:11: login ` alice-s` is empty or has surrounding spaces");
}

#[test]
fn an_address_of_two_people_in_the_directory_file_rejects_every_push_that_looks_one_up() {
    // Any e-mail lookup builds the index of every person's addresses: a
    // duplicate anywhere is found then, not only in the entries looked up.
    let text = directory(&stamp(-60), &["alice"]).replace(
        "emails = [\"dave@example.com\"]",
        "emails = [\"dave@example.com\", \"BOB@example.com\"]",
    );
    let w = world("", &text);
    check(&w).assert_says("e-mail `bob@example.com` already belongs to person `bob`");
    let run = assert_push_refused(&w, "has invalid entries that this push needed");
    run.assert_says("`bob@example.com` already belongs to person `bob`");
}

#[test]
fn an_address_of_a_policy_person_repeated_in_the_directory_file_rejects_the_push() {
    let policy = format!(
        "version = 1\n[settings]\ndirectory = \"directory.toml\"\n[people.robert]\nemails = [\"bob@example.com\"]\n{SENIOR_RULE}"
    );
    let w = World::with_policy(&policy);
    write_dir(&w, &directory(&stamp(-60), &["alice"]));
    assert_push_refused(
        &w,
        "`bob@example.com` already belongs to person `robert` of the policy",
    );
}

#[test]
fn a_bad_key_in_an_entry_no_push_reads_is_left_to_check() {
    // The documented trade-off: Dave's table is never read by this push
    // (no lookup reaches him), so the hook judges without it; `check`
    // (and `directory sync`, before it writes) refuse the file.
    let text = directory(&stamp(-60), &["alice"]).replace(
        "emails = [\"dave@example.com\"]",
        "emails = [\"dave@example.com\"]\ngpg_keys = [\"mDMEZ0000\"]",
    );
    let w = world("", &text);
    check(&w).assert_code(2);
    w.push_accepted(&CAROL, &ai_commit_approved_by(&ALICE));
    // The same key on Alice, whose approval the push counts, rejects it.
    let text = directory(&stamp(-60), &["alice"]).replace(
        "emails = [\"alice@example.com\"]",
        "emails = [\"alice@example.com\"]\ngpg_keys = [\"mDMEZ0000\"]",
    );
    write_dir(&w, &text);
    assert_push_refused(&w, "not an ASCII-armoured OpenPGP public key");
}

#[test]
fn a_person_table_twice_is_a_syntax_error_for_the_hook_too() {
    let text = directory(&stamp(-60), &["alice"]).replace("[people.dave]", "[people.bob]");
    let w = world("", &text);
    let run = assert_push_refused(&w, "directory.toml:");
    run.assert_says("duplicate");
}
