//! `settings.baseline`: history an administrator declares accepted when
//! trailgate is adopted on a repository with a past. Commits reachable from
//! the baseline are not judged; a baseline that names nothing rejects the
//! push (fail closed); and no push may move a baseline ref, since the
//! pusher would then choose what counts as accepted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;

const BASELINE: &str = "refs/trailgate/baseline";

/// A rule that the existing history (commits without tickets on main)
/// breaks, for release branches only: main's commits are not hidden from
/// it by main, so the first release branch pushed judges all of them.
fn release_policy(settings: &str) -> String {
    policy(&format!(
        r#"[settings]
{settings}

[[rule]]
name = "releases-need-tickets"
refs = ["refs/heads/release/**"]
require = {{ trailers = [ {{ key = "Ticket", value = "^PAY-[0-9]+$" }} ] }}
"#
    ))
}

/// A server whose main has three commits without tickets, pushed before
/// trailgate was installed.
fn world_with_history(settings: &str) -> World {
    let w = World::new();
    w.commit(&CAROL, "Old work one\n");
    w.commit(&CAROL, "Old work two\n");
    w.push(&["origin", "main"]).assert_code(0);
    w.install_hook();
    w.write_policy(&release_policy(settings));
    w
}

fn audit_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn without_a_baseline_the_first_release_branch_judges_all_of_history() {
    // The problem the baseline solves: main's three old commits are judged.
    let w = world_with_history("");
    w.push(&["origin", "main:refs/heads/release/1"])
        .assert_rejected_with(3);
}

#[test]
fn a_baseline_ref_accepts_the_history_below_it_and_judges_what_is_new() {
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("audit.jsonl");
    let w = world_with_history(&format!(
        "baseline = \"{BASELINE}\"\naudit_log = \"{}\"",
        log.display()
    ));
    let accepted = w.server_git(&["rev-parse", "refs/heads/main"]);
    w.server_git(&["update-ref", BASELINE, &accepted]);
    w.push(&["origin", "main:refs/heads/release/1"])
        .assert_accepted_silently();
    w.assert_server_ref("refs/heads/release/1", Some(&accepted));
    // A commit on top is new history: judged, and only it.
    let new = w.commit(&CAROL, "New work without a ticket\n");
    let run = w.push(&["origin", "main:refs/heads/release/2"]);
    run.assert_rejected_with(1);
    run.assert_says(&new[..7]);
    // Both pushes record the baseline they used.
    let lines = audit_lines(&log);
    assert_eq!(lines.len(), 2, "{lines:?}");
    for line in &lines {
        assert_eq!(line["baseline"][0]["ref"], BASELINE, "{line}");
        assert_eq!(line["baseline"][0]["commit"], accepted.as_str(), "{line}");
    }
    assert_eq!(lines[0]["decision"], "accept");
    assert_eq!(lines[1]["decision"], "reject");
}

#[test]
fn a_baseline_of_commit_ids_for_a_named_repository() {
    let w = World::new();
    w.commit(&CAROL, "Old work\n");
    w.push(&["origin", "main"]).assert_code(0);
    let accepted = w.server_git(&["rev-parse", "refs/heads/main"]);
    w.install_hook();
    let root = format!("repos_root = \"{}\"", w.root.display());
    // Another repository's baseline does not apply to this one ("server").
    w.write_policy(&release_policy(&format!(
        "{root}\nbaseline = {{ \"other\" = [\"{accepted}\"] }}"
    )));
    w.push(&["origin", "main:refs/heads/release/1"])
        .assert_rejected_with(2);
    w.write_policy(&release_policy(&format!(
        "{root}\nbaseline = {{ \"other\" = \"{BASELINE}\", \"serv*\" = [\"{accepted}\"] }}"
    )));
    w.push(&["origin", "main:refs/heads/release/1"])
        .assert_accepted_silently();
}

#[test]
fn a_missing_baseline_ref_rejects_the_push_rather_than_judge_nothing() {
    let w = world_with_history(&format!("baseline = \"{BASELINE}\""));
    let run = w.push(&["origin", "main:refs/heads/release/1"]);
    run.assert_code(1).assert_no_panic();
    run.assert_says(BASELINE)
        .assert_says("no such ref")
        .assert_says("git update-ref");
    w.assert_server_ref("refs/heads/release/1", None);
    // Even a push that no rule judges: the baseline is the server's, and a
    // server with a broken one judges nothing until it is fixed.
    w.commit(&CAROL, "On main\n");
    w.push(&["origin", "main"]).assert_code(1);
}

#[test]
fn a_baseline_commit_the_repository_does_not_have_rejects_the_push() {
    let missing = fake_id("ab");
    let w = world_with_history(&format!("baseline = [\"{missing}\"]"));
    let run = w.push(&["origin", "main:refs/heads/release/1"]);
    run.assert_says(&missing)
        .assert_says("not in the repository");
    w.assert_server_ref("refs/heads/release/1", None);
}

#[test]
fn a_commit_the_push_itself_brings_is_no_baseline() {
    // The policy names a commit that is not on the server yet; the pusher
    // who has it cannot make it "already accepted" by pushing it.
    let w = world_with_history("");
    let unpushed = w.commit(&CAROL, "Not on the server\n");
    w.write_policy(&release_policy(&format!("baseline = [\"{unpushed}\"]")));
    let run = w.push(&["origin", "main:refs/heads/release/1"]);
    run.assert_says("not in the repository");
    w.assert_server_ref("refs/heads/release/1", None);
}

#[test]
fn a_symbolic_baseline_ref_is_refused_since_it_moves_with_its_target() {
    // `refs/trailgate/baseline -> refs/heads/main` would let every push to
    // main move the baseline.
    let w = world_with_history(&format!("baseline = \"{BASELINE}\""));
    w.server_git(&["symbolic-ref", BASELINE, "refs/heads/main"]);
    let run = w.push(&["origin", "main:refs/heads/release/1"]);
    run.assert_says("symbolic ref");
    w.assert_server_ref("refs/heads/release/1", None);
}

#[test]
fn a_pusher_cannot_move_create_or_delete_the_baseline_ref() {
    // The attack: point the baseline at one's own unapproved commit, then
    // push it to a release branch as "accepted history".
    let w = world_with_history(&format!("baseline = \"{BASELINE}\""));
    let accepted = w.server_git(&["rev-parse", "refs/heads/main"]);
    w.server_git(&["update-ref", BASELINE, &accepted]);
    w.commit(&CAROL, "Unapproved\n");
    let target = format!("HEAD:{BASELINE}");
    let run = w.push(&["origin", &target]);
    run.assert_code(1)
        .assert_says("would move refs/trailgate/baseline");
    w.assert_server_ref(BASELINE, Some(&accepted));
    // In one push with the release branch: the whole push is refused.
    w.push(&["origin", &target, "HEAD:refs/heads/release/1"])
        .assert_says("would move refs/trailgate/baseline");
    w.assert_server_ref(BASELINE, Some(&accepted));
    w.assert_server_ref("refs/heads/release/1", None);
    // Deleting it, or writing it under another case (one file on a
    // case-insensitive file system), is refused too.
    w.push(&["origin", &format!(":{BASELINE}")])
        .assert_says("would move");
    w.assert_server_ref(BASELINE, Some(&accepted));
    w.push(&["origin", "HEAD:refs/Trailgate/Baseline"])
        .assert_says("would move");
    w.assert_server_ref("refs/Trailgate/Baseline", None);
    // Through a symbolic ref on the server that points at it.
    w.server_git(&["symbolic-ref", "refs/heads/alias", BASELINE]);
    w.push(&["origin", "HEAD:refs/heads/alias"])
        .assert_says("would move");
    w.assert_server_ref(BASELINE, Some(&accepted));
}

#[test]
fn the_baseline_ref_stays_guarded_in_warn_mode_and_for_unknown_repositories() {
    // settings.mode = "warn" accepts violations, not a moved baseline; a
    // per-repository baseline guards its ref even where the name is unknown.
    let w = world_with_history(&format!(
        "mode = \"warn\"\nbaseline = {{ \"acme/payments\" = \"{BASELINE}\" }}"
    ));
    w.commit(&CAROL, "Unapproved\n");
    w.push(&["origin", &format!("HEAD:{BASELINE}")])
        .assert_code(1)
        .assert_says("would move");
    w.assert_server_ref(BASELINE, None);
}

#[test]
fn baselines_that_could_be_bypassed_or_mean_nothing_are_load_errors() {
    let w = World::new();
    let path = w.root.join("policy.toml");
    for (value, says) in [
        ("\"refs/heads/main\"", "branch or tag"),
        ("\"refs/tags/v1\"", "branch or tag"),
        ("\"0123abc\"", "not a full commit id"),
        ("\"2024-01-01\"", "a date is no baseline"),
        ("\"main\"", "neither a full commit id nor a ref"),
        ("[]", "empty baseline list"),
        ("{}", "declares no baseline"),
        (
            "{ \"/abs\" = \"refs/trailgate/baseline\" }",
            "starts with `/`",
        ),
        ("{ \"acme/x\" = [\"refs/heads/x\"] }", "branch or tag"),
        ("42", "a full commit id or a ref name"),
    ] {
        std::fs::write(
            &path,
            policy(&format!(
                "[settings]\nbaseline = {value}\n\n[[rule]]\nname = \"r\"\ndeny = [\"delete\"]\n"
            )),
        )
        .unwrap();
        let run = w.trailgate(
            &w.root,
            &["check", "--config", path.to_str().unwrap()],
            "",
            &[],
        );
        run.assert_code(2).assert_says(says);
        run.assert_says("policy.toml:");
    }
}

#[test]
fn check_repo_names_the_baseline_of_a_repository() {
    let w = World::new();
    let path = w.root.join("policy.toml");
    let id = fake_id("12");
    std::fs::write(
        &path,
        release_policy(&format!(
            "baseline = {{ \"acme/**\" = \"{BASELINE}\", \"legacy/x\" = [\"{id}\"] }}"
        )),
    )
    .unwrap();
    let check = |name: &str, format: &str| {
        w.trailgate(
            &w.root,
            &[
                "check",
                "--config",
                path.to_str().unwrap(),
                "--repo",
                name,
                "--format",
                format,
            ],
            "",
            &[],
        )
    };
    check("acme/payments", "text")
        .assert_code(0)
        .assert_says(&format!(
            "baseline for repository acme/payments: {BASELINE}"
        ));
    check("web", "text").assert_silent_about("baseline for");
    let json = check("legacy/x", "json");
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["repository_baseline"], serde_json::json!([id]));
}
