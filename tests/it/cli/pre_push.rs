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
