//! What an engineer sees on the laptop: the `hooks/pre-push` shim judging
//! a push before it leaves (and, when the remote moved on, judging what it
//! can and leaving the answer to git), and `verify` on a rule that depends
//! on the pusher, judged for an assumed pusher (issue 14 items 2 and 3).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt as _;

use super::{Stage, Transcript};
use crate::support::*;

#[test]
fn the_pre_push_shim_rejects_locally_and_lets_git_answer_when_the_remote_moved_on() {
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
    assert!(stale.stderr.contains("(fetch first)"), "{}", stale.dump());
    t.client(
        "the remote's tip is unknown here: the shim judges the local commits, git says \"fetch first\"",
        &stale,
    );

    std::fs::remove_file(s.work.join(".git/trailgate.toml")).unwrap();
    s.git(&["fetch", "-q", "origin"]);
    s.git(&["rebase", "-q", "origin/main"]);
    let no_policy = s.push(&["origin", "main"], &env);
    no_policy.assert_code(0);
    t.client("no policy in the clone: said once, not blocked", &no_policy);
    t.check(
        "pre_push_shim",
        "hooks/pre-push in a clone: a local rejection; the everyday \"fetch first\" case, where \
         the shim judges what it can and git gives its own answer; no policy (issue 14 item 2)",
    );
}

#[test]
fn verify_judges_a_pusher_rule_for_an_assumed_pusher_and_says_the_server_decides() {
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
    let config = config.to_str().unwrap();
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", "--config", config];
        args.extend_from_slice(extra);
        args.push("origin/main..HEAD");
        s.trailgate(&args)
    };
    let mut t = Transcript::new(&s);
    let nobody = verify(&[]);
    nobody.assert_code(1);
    t.command(
        "no --pusher, no git config trailgate.pusher, no $USER",
        &nobody,
    );
    let carol = verify(&["--pusher", "carol"]);
    carol.assert_code(1);
    t.command("--pusher carol: a junior would push it", &carol);
    let alice = verify(&["--pusher", "alice-s"]);
    alice.assert_code(0);
    t.command("--pusher alice-s: a senior would push it", &alice);
    s.git(&["config", "trailgate.pusher", "alice-s"]);
    let configured = verify(&[]);
    configured.assert_code(0);
    t.command("git config trailgate.pusher alice-s", &configured);
    t.check(
        "verify_pusher_rule",
        "`verify` on a pusher-proof rule judges it for --pusher, git config trailgate.pusher or \
         $USER, and says that the server decides it (issue 14 item 3)",
    );
}
