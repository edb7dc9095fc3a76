//! What an engineer sees on the laptop: the `hooks/pre-push` shim judging
//! a push before it leaves (and failing when the remote moved on), and
//! `verify` on a rule that depends on the pusher. Issue 14 items 2 and 3
//! will change both deliberately.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt as _;

use super::{Stage, Transcript};
use crate::support::*;

#[test]
fn the_pre_push_shim_rejects_locally_and_fails_when_the_remote_moved_on() {
    let s = Stage::new();
    let hook = s.work.join(".git/hooks/pre-push");
    std::fs::copy(format!("{REPO_ROOT}/hooks/pre-push"), &hook).unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(s.work.join(".git/trailgate.toml"), policy(SENIOR_RULE)).unwrap();
    let env = [("TRAILGATE_BIN", TRAILGATE)];
    let mut t = Transcript::new(&s);

    s.commit(&CAROL, &msg("Unapproved change", &["AI-Assisted: yes"]));
    let local = s.push(&["origin", "main"], &env);
    assert_ne!(local.code, Some(0), "{}", local.dump());
    t.client("an unapproved commit, judged by the shim", &local);

    // Someone else pushes to main; this clone has not fetched.
    s.git(&["reset", "-q", "--hard", "origin/main"]);
    s.git(&["checkout", "-q", "-b", "other"]);
    s.commit(&BOB, &msg("Bob's change", &[]));
    s.push(&["--no-verify", "origin", "other:main"], &[])
        .assert_code(0);
    s.git(&["checkout", "-q", "main"]);
    s.git(&["branch", "-q", "-D", "other"]);
    s.git(&["update-ref", "-d", "refs/remotes/origin/main"]);
    s.git(&["gc", "-q", "--prune=now"]);
    s.commit(&ALICE, &msg("Alice's change", &[]));
    let stale = s.push(&["origin", "main"], &env);
    assert_ne!(stale.code, Some(0), "{}", stale.dump());
    t.client(
        "the remote's tip is unknown here (git would say \"fetch first\")",
        &stale,
    );
    t.check(
        "pre_push_shim",
        "hooks/pre-push in a clone: a local rejection, then the everyday \"fetch first\" case \
         turned into a trailgate error (issue 14 item 2)",
    );
}

#[test]
fn verify_cannot_judge_a_pusher_rule_on_a_laptop() {
    let s = Stage::new();
    let config = s.root.join("policy.toml");
    std::fs::write(
        &config,
        policy(&SENIOR_RULE.replace("count = 1 }", "count = 1, proof = \"pusher\" }")),
    )
    .unwrap();
    s.commit(
        &CAROL,
        &msg(
            "Approved change",
            &["AI-Assisted: yes", &approved_by(&ALICE)],
        ),
    );
    let run = s.trailgate(&[
        "verify",
        "--config",
        config.to_str().unwrap(),
        "origin/main..HEAD",
    ]);
    run.assert_code(1);
    Transcript::new(&s)
        .command("verify under proof = \"pusher\"", &run)
        .check(
            "verify_pusher_rule",
            "`verify` on a pusher-proof rule: \"the git host named nobody\" (issue 14 item 3)",
        );
}
