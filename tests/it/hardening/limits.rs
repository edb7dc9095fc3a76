//! Bounded resources: `settings.max_commits` stops the walk of a push that
//! brings too many commits, early and with a clear violation. (Peak memory
//! against history length is measured by `bench/memory.sh`, not here.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::support::*;
use crate::support::*;

fn limited(max: usize) -> String {
    policy(&format!("[settings]\nmax_commits = {max}\n{SENIOR_RULE}"))
}

/// `count` commits by Carol on top of the server's `main`, written with
/// `git fast-import` into the server repository; returns the tip.
fn fast_import_chain(w: &World, count: usize, branch: &str) -> String {
    let main = w.server_ref(MAIN).unwrap();
    let mut script = String::new();
    for i in 0..count {
        let _ = write!(
            script,
            "commit refs/heads/{branch}\nmark :{}\nauthor Carol <carol@example.com> {} +0000\ncommitter Carol <carol@example.com> {} +0000\ndata <<EOM\nCommit {i}\nEOM\n",
            i + 1,
            1_700_000_000 + i,
            1_700_000_000 + i
        );
        if i == 0 {
            let _ = writeln!(script, "from {main}");
        }
        script.push('\n');
    }
    let mut cmd = Command::new("git");
    cmd.args(["fast-import", "--quiet"])
        .current_dir(&w.server)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    hermetic(&mut cmd, &w.home);
    run_with_limit(cmd, script.as_bytes(), LIMIT, "git fast-import".into()).assert_code(0);
    let tip = w.server_git(&["rev-parse", &format!("refs/heads/{branch}")]);
    w.server_git(&["update-ref", "-d", &format!("refs/heads/{branch}")]);
    tip
}

#[test]
fn a_push_over_max_commits_is_rejected_with_a_max_commits_violation() {
    let w = World::with_policy(&limited(5));
    let before = w.server_ref(MAIN).unwrap();
    for i in 0..12 {
        w.commit(&CAROL, &format!("Commit {i}\n"));
    }
    let run = w.push(&["origin", "main"]);
    run.assert_rejected();
    run.assert_says("more than 5 new commits");
    run.assert_says("settings.max_commits");
    w.assert_server_ref(MAIN, Some(&before));
}

#[test]
fn a_push_of_exactly_max_commits_is_judged_normally() {
    let w = World::with_policy(&limited(5));
    for i in 0..5 {
        w.commit(&CAROL, &format!("Commit {i}\n"));
    }
    w.push(&["origin", "main"]).assert_accepted_silently();
}

#[test]
fn a_push_of_50000_commits_over_a_limit_of_100_is_rejected_quickly() {
    let w = World::with_policy(&limited(100));
    let tip = fast_import_chain(&w, 50_000, "long");
    let main = w.server_ref(MAIN).unwrap();
    let run = hook_within(
        &w,
        &[],
        &line(&main, &tip, MAIN),
        &[],
        Duration::from_secs(30),
    );
    assert_cannot_judge(&run, "more than 100 new commits (settings.max_commits)");
}

#[test]
fn max_commits_stops_the_walk_before_it_reads_the_whole_push() {
    // 150 commits whose bottom one names a parent that does not exist: a
    // walk that went all the way down would fail on it (exit 2); a walk that
    // stops after max_commits + 1 commits never gets there (exit 1).
    let w = World::with_policy(&policy(
        r#"
[settings]
max_commits = 100

[[rule]]
name = "ai-needs-senior-approval"
when = { ai_assisted = true, author_not_in = ["senior"] }
require = { approvals = { from = ["senior"], count = 1 } }
"#,
    ));
    let tree = empty_tree(&w);
    let mut parent = fake_id("dead0000beef");
    for i in 0..150u64 {
        let time = format!("{}", 1_700_000_000 + i);
        let author = format!("author Carol <carol@example.com> {time} +0000");
        let committer = format!("committer Carol <carol@example.com> {time} +0000");
        parent = raw_object(
            &w,
            "commit",
            &commit_bytes(
                &tree,
                &[&parent],
                &[author.as_bytes(), committer.as_bytes()],
                format!("Commit {i}\n").as_bytes(),
            ),
        );
    }
    let start = Instant::now();
    let run = hook(&w, &[], &line(&ZERO, &parent, "refs/heads/long"), &[]);
    assert_rejected_by(&run, "max-commits");
    assert!(start.elapsed() < WITHIN_SECONDS);
}

#[test]
fn max_commits_zero_means_no_limit() {
    let w = World::with_policy(&limited(0));
    let tip = fast_import_chain(&w, 2_000, "long");
    let main = w.server_ref(MAIN).unwrap();
    let run = hook(&w, &[], &line(&main, &tip, MAIN), &[]);
    assert_no_crash(&run);
    run.assert_code(0);
}

#[test]
fn a_fast_forward_over_max_commits_is_rejected_even_where_only_deny_rules_apply() {
    // Telling a fast-forward from a force-push walks the pushed commits:
    // that walk is bounded by max_commits too, and going over it rejects.
    let deny_only = policy(
        r#"
[settings]
max_commits = 100

[[rule]]
name = "protect-main"
refs = ["refs/heads/main"]
deny = ["force-push", "delete"]
"#,
    );
    let w = World::with_policy(&deny_only);
    let tip = fast_import_chain(&w, 5_000, "long");
    let main = w.server_ref(MAIN).unwrap();
    let run = hook(&w, &[], &line(&main, &tip, MAIN), &[]);
    assert_cannot_judge(&run, "more than 100 new commits (settings.max_commits)");

    // Within the limit it is a fast-forward like any other.
    let w = World::with_policy(&deny_only);
    let tip = fast_import_chain(&w, 100, "short");
    let main = w.server_ref(MAIN).unwrap();
    let run = hook(&w, &[], &line(&main, &tip, MAIN), &[]);
    assert_no_crash(&run);
    run.assert_code(0);
}
