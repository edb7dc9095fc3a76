//! The client-side shim `hooks/pre-push`: copied into a clone's hooks, it runs
//! `trailgate verify` for every ref being pushed, before anything leaves the
//! laptop. The server has no hook here, so only the shim can stop the push.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::*;

const MAIN: &str = "refs/heads/main";

/// A clone with the pre-push shim installed and the policy in `.git/trailgate.toml`.
fn world_with_pre_push() -> World {
    let w = World::new();
    let shim = Path::new(REPO_ROOT).join("hooks").join("pre-push");
    let hook = w.work.join(".git").join("hooks").join("pre-push");
    std::fs::copy(&shim, &hook).unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let rule = SENIOR_RULE.replace(
        r#"refs = ["refs/heads/main"]"#,
        r#"refs = ["refs/heads/main", "refs/heads/release/**"]"#,
    );
    assert_ne!(
        rule, SENIOR_RULE,
        "the rule's refs line changed; update this test"
    );
    std::fs::write(w.work.join(".git").join("trailgate.toml"), policy(&rule)).unwrap();
    w
}

#[test]
fn pre_push_shim_stops_an_unapproved_commit_before_it_leaves() {
    let w = world_with_pre_push();
    let before = w.server_ref(MAIN).unwrap();
    let subject = "Unapproved, caught on the laptop";
    let oid = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));
    let run = w.push_env(&["origin", "main"], &[("TRAILGATE_BIN", TRAILGATE)]);
    run.assert_code(1);
    assert!(
        run.stderr.contains("error[ai-needs-senior-approval]") && run.stderr.contains(&oid[..7]),
        "the shim's report should name the rule and the commit\n{}",
        run.dump()
    );
    w.assert_server_ref(MAIN, Some(&before));
}

#[test]
fn pre_push_shim_lets_an_approved_commit_through() {
    let w = world_with_pre_push();
    let oid = w.commit(
        &CAROL,
        &msg(
            "Approved before pushing",
            &["AI-Assisted: yes", &approved_by(&ALICE)],
        ),
    );
    w.push_env(&["origin", "main"], &[("TRAILGATE_BIN", TRAILGATE)])
        .assert_code(0);
    w.assert_server_ref(MAIN, Some(&oid));
}

#[test]
fn pre_push_shim_judges_a_new_branch_on_commits_the_remote_lacks() {
    let w = world_with_pre_push();
    // Only the new commit is judged, not the history origin already has.
    w.git(&["checkout", "-q", "-b", "release/1.0"]);
    let oid = w.commit(
        &CAROL,
        &msg("Unapproved on a new release branch", &["AI-Assisted: yes"]),
    );
    let run = w.push_env(&["origin", "release/1.0"], &[("TRAILGATE_BIN", TRAILGATE)]);
    run.assert_code(1);
    assert!(run.stderr.contains(&oid[..7]), "{}", run.dump());
    assert!(
        run.stderr.contains("(1 commit checked)"),
        "only the commit the remote lacks is judged\n{}",
        run.dump()
    );
    w.assert_server_ref("refs/heads/release/1.0", None);
}

/// A second clone of the server (`other`) whose `author` commits a new file
/// and pushes it to `main` (it has no shim): the first clone has not
/// fetched it. Returns the server's new tip.
fn someone_else_pushes(w: &World, author: &Person) -> String {
    let other = w.root.join("other");
    w.run_git(
        &w.root,
        &["clone", "-q", w.server.to_str().unwrap(), "other"],
    )
    .assert_code(0);
    std::fs::write(other.join("theirs.txt"), "their change\n").unwrap();
    w.run_git(&other, &["add", "theirs.txt"]).assert_code(0);
    let env = [
        ("GIT_AUTHOR_NAME", author.name),
        ("GIT_AUTHOR_EMAIL", author.email),
        ("GIT_COMMITTER_NAME", author.name),
        ("GIT_COMMITTER_EMAIL", author.email),
    ];
    w.run_git_env(&other, &["commit", "-q", "-m", "Their change"], &env)
        .assert_code(0);
    w.run_git(&other, &["push", "-q", "origin", "main"])
        .assert_code(0);
    let tip = w.server_ref(MAIN).unwrap();
    assert!(
        !w.run_git(&w.work, &["cat-file", "-e", &tip]).success(),
        "the first clone must not have the other clone's commit"
    );
    tip
}

#[test]
fn pre_push_shim_judges_local_commits_and_lets_git_say_fetch_first_when_the_remote_moved_on() {
    let w = world_with_pre_push();
    let theirs = someone_else_pushes(&w, &BOB);
    let oid = w.commit(
        &CAROL,
        &msg("Unapproved, remote moved on", &["AI-Assisted: yes"]),
    );
    // git's hints on, as on a laptop (the test harness turns them off).
    let run = w.push_env(
        &["origin", "main"],
        &[("TRAILGATE_BIN", TRAILGATE), ("GIT_ADVICE", "1")],
    );
    run.assert_code(1);
    // git's own answer, with its hint, as without the shim.
    assert!(
        run.stderr.contains("main -> main (fetch first)")
            && run
                .stderr
                .contains("hint: Updates were rejected because the remote contains work"),
        "git's fetch-first rejection and hint should reach the pusher\n{}",
        run.dump()
    );
    assert!(
        !run.stderr.contains("does not name a revision")
            && !run.stderr.contains("trailgate: error"),
        "the unknown remote tip is no trailgate error\n{}",
        run.dump()
    );
    // What could be judged was: the one commit on no remote-tracking ref.
    assert!(
        run.stderr.contains("error[ai-needs-senior-approval]")
            && run.stderr.contains(&oid[..7])
            && run.stderr.contains("(1 commit checked)"),
        "the local commit is judged\n{}",
        run.dump()
    );
    assert!(
        run.stderr.contains("which this clone does not have"),
        "{}",
        run.dump()
    );
    w.assert_server_ref(MAIN, Some(&theirs));
}

#[test]
fn pre_push_shim_judges_but_does_not_block_a_force_push_over_an_unfetched_tip() {
    let w = world_with_pre_push();
    someone_else_pushes(&w, &BOB);
    let oid = w.commit(
        &CAROL,
        &msg("Forced over their work", &["AI-Assisted: yes"]),
    );
    let run = w.push_env(
        &["--force", "origin", "main"],
        &[("TRAILGATE_BIN", TRAILGATE)],
    );
    // git's answer to --force is to push (this server has no hook); the
    // shim showed what it found and left the decision to git and the server.
    run.assert_code(0);
    assert!(
        run.stderr.contains("error[ai-needs-senior-approval]") && run.stderr.contains(&oid[..7]),
        "the forced commit is still judged on the laptop\n{}",
        run.dump()
    );
    assert!(
        run.stderr.contains("not blocking refs/heads/main"),
        "{}",
        run.dump()
    );
    assert!(
        !run.stderr.contains("does not name a revision"),
        "{}",
        run.dump()
    );
    w.assert_server_ref(MAIN, Some(&oid));
}

#[test]
fn pre_push_shim_without_a_policy_says_so_once_and_does_not_block() {
    let w = world_with_pre_push();
    std::fs::remove_file(w.work.join(".git").join("trailgate.toml")).unwrap();
    let main = w.commit(
        &CAROL,
        &msg("Unapproved, no policy here", &["AI-Assisted: yes"]),
    );
    w.git(&["branch", "release/2.0"]);
    let run = w.push_env(
        &["origin", "main", "release/2.0"],
        &[("TRAILGATE_BIN", TRAILGATE)],
    );
    run.assert_code(0);
    assert_eq!(
        run.stderr.matches("no policy found").count(),
        1,
        "said once for a push of two refs\n{}",
        run.dump()
    );
    assert!(
        run.stderr.contains("the server still judges the push"),
        "{}",
        run.dump()
    );
    w.assert_server_ref(MAIN, Some(&main));
    w.assert_server_ref("refs/heads/release/2.0", Some(&main));
}

#[test]
fn pre_push_shim_pushing_to_a_url_judges_only_what_no_remote_tracking_ref_has() {
    let w = world_with_pre_push();
    w.git(&["checkout", "-q", "-b", "release/3.0"]);
    let oid = w.commit(
        &CAROL,
        &msg("Unapproved, pushed to a URL", &["AI-Assisted: yes"]),
    );
    let url = w.server.to_str().unwrap().to_owned();
    let run = w.push_env(&[&url, "release/3.0"], &[("TRAILGATE_BIN", TRAILGATE)]);
    run.assert_code(1);
    assert!(
        run.stderr.contains(&oid[..7]) && run.stderr.contains("(1 commit checked)"),
        "only the commit no remote-tracking ref has is judged, not all of history\n{}",
        run.dump()
    );
    w.assert_server_ref("refs/heads/release/3.0", None);
}
