//! Blast radius: `touches`, the `max_*` limits, `per = "push"`, merges, and
//! immutable tags, through real pushes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;

use crate::support::*;

const MAIN: &str = "refs/heads/main";

/// Writes `count` files under `dir` in the clone and stages them.
fn add_files(w: &World, dir: &str, count: usize) {
    let path = w.work.join(dir);
    std::fs::create_dir_all(&path).unwrap();
    for i in 0..count {
        std::fs::write(
            path.join(format!("f{i:03}.txt")),
            format!("line {i}\nmore\n"),
        )
        .unwrap();
    }
    w.git(&["add", "-A"]);
}

/// Pushes the staged files before any hook is installed: history that
/// predates the policy.
fn seed(w: &World, dir: &str, count: usize) {
    add_files(w, dir, count);
    w.commit(&ALICE, &msg(&format!("Add {dir}"), &[]));
    w.push(&["origin", "main"]).assert_code(0);
}

const BLAST_RULE: &str = r#"
[[rule]]
name = "ai-blast-radius"
message = "AI-assisted changes may not have a high blast radius."
refs = ["refs/heads/main"]
when = { ai_assisted = true }
require = { max_files_deleted = 10, max_files_changed = 50 }
"#;

#[test]
fn ai_commit_deleting_a_directory_of_500_files_is_rejected_but_the_same_without_ai_is_accepted() {
    let w = World::new();
    seed(&w, "env", 500);
    w.install_hook();
    w.write_policy(&policy(BLAST_RULE));
    let before = w.server_ref(MAIN).unwrap();

    w.git(&["rm", "-r", "-q", "env"]);
    let subject = "Recreate the environment";
    let oid = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_violation("error", "ai-blast-radius", MAIN, &oid, subject)
        .assert_line_with(&[
            "deletes 500 files",
            "env/f000.txt",
            "and 495 more",
            "the limit for AI-assisted commits is 10",
        ])
        .assert_line_with(&[
            "changes 501 files",
            "the limit for AI-assisted commits is 50",
        ])
        .assert_line_with(&["help:", "split the change"]);
    w.assert_server_ref(MAIN, Some(&before));

    w.reset_to_origin();
    w.git(&["rm", "-r", "-q", "env"]);
    let oid = w.commit(&CAROL, &msg(subject, &["AI-Assisted: no"]));
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
}

const INFRA_RULE: &str = r#"
[[rule]]
name = "ai-critical-paths"
refs = ["refs/heads/main"]
when = { ai_assisted = true, touches = ["infra/**", "db/migrations/**"] }
require = { approvals = { from = ["senior"], count = 2 } }
"#;

#[test]
fn ai_commit_touching_infra_needs_two_distinct_senior_approvals() {
    let w = World::with_policy(&policy(INFRA_RULE));
    let before = w.server_ref(MAIN).unwrap();

    add_files(&w, "infra/prod", 1);
    let subject = "Tune the load balancer";
    let oid = w.commit(
        &CAROL,
        &msg(subject, &["AI-Assisted: yes", &approved_by(&ALICE)]),
    );
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_violation("error", "ai-critical-paths", MAIN, &oid, subject)
        .assert_line_with(&["needs 2 approvals", "senior"]);
    w.assert_server_ref(MAIN, Some(&before));

    // The same person twice (two of her addresses) is still one approval.
    w.git(&[
        "commit",
        "-q",
        "--amend",
        "-m",
        &msg(
            subject,
            &[
                "AI-Assisted: yes",
                &approved_by(&ALICE),
                &approved_by(&ALICE_OLD),
            ],
        ),
    ]);
    w.push(&["origin", "main"]).assert_rejected_with(1);

    w.git(&[
        "commit",
        "-q",
        "--amend",
        "-m",
        &msg(
            subject,
            &["AI-Assisted: yes", &approved_by(&ALICE), &approved_by(&BOB)],
        ),
    ]);
    w.push(&["origin", "main"]).assert_accepted_silently();
    assert_eq!(w.server_ref(MAIN).unwrap(), w.git(&["rev-parse", "HEAD"]));

    // Outside the critical paths the rule does not apply.
    let oid = w.commit(&CAROL, &msg("Edit docs", &["AI-Assisted: yes"]));
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
}

#[test]
fn renames_count_once_as_git_counts_them_and_are_not_deletions() {
    let w = World::new();
    seed(&w, "old", 30);
    w.install_hook();
    w.write_policy(&policy(
        r#"
[[rule]]
name = "ai-blast-radius"
refs = ["refs/heads/main"]
when = { ai_assisted = true }
require = { max_files_deleted = 0, max_files_changed = 30 }
"#,
    ));
    w.git(&["mv", "old", "new"]);
    let oid = w.commit(&CAROL, &msg("Move old to new", &["AI-Assisted: yes"]));
    // git's own count, with rename detection: 30 renames and the one file
    // the harness adds to every commit.
    let git_count = w.git(&[
        "diff-tree",
        "-r",
        "-M",
        "--no-commit-id",
        "--name-status",
        &oid,
    ]);
    let lines: Vec<&str> = git_count.lines().collect();
    assert_eq!(lines.len(), 31, "{git_count}");
    assert!(lines.iter().all(|l| !l.starts_with('D')), "{git_count}");
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_line_with(&["changes 31 files", "is 30"])
        .assert_silent_about("deletes");
}

const NET_RULE: &str = r#"
[[rule]]
name = "no-mass-deletion"
refs = ["refs/heads/main"]
per = "push"
require = { max_files_deleted = 10 }
"#;

/// Eight small commits, each deleting 5 of the 40 seeded files.
fn delete_in_small_steps(w: &World) -> String {
    let mut last = String::new();
    for step in 0..8 {
        for i in 0..5 {
            w.git(&["rm", "-q", &format!("data/f{:03}.txt", step * 5 + i)]);
        }
        last = w.commit(&CAROL, &msg(&format!("Clean up part {step}"), &[]));
    }
    last
}

#[test]
fn per_push_rule_catches_a_net_deletion_made_of_small_commits() {
    let w = World::new();
    seed(&w, "data", 40);
    w.install_hook();
    w.write_policy(&policy(NET_RULE));
    let before = w.server_ref(MAIN).unwrap();
    delete_in_small_steps(&w);
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_line_with(&["error[no-mass-deletion]", "refs/heads/main"])
        .assert_line_with(&["net change", "deletes 40 files", "is 10"]);
    w.assert_server_ref(MAIN, Some(&before));
}

#[test]
fn the_same_small_commits_pass_a_per_commit_limit() {
    let w = World::new();
    seed(&w, "data", 40);
    w.install_hook();
    w.write_policy(&policy(&NET_RULE.replace("per = \"push\"\n", "")));
    let last = delete_in_small_steps(&w);
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&last));
}

#[test]
fn a_new_branch_is_measured_from_where_it_forked() {
    let w = World::new();
    seed(&w, "data", 40);
    w.install_hook();
    w.write_policy(&policy(&NET_RULE.replace(
        r#"refs = ["refs/heads/main"]"#,
        r#"refs = ["refs/heads/main", "refs/heads/release/**"]"#,
    )));
    // Forked from main: only its own change counts, not main's whole tree.
    w.git(&["checkout", "-q", "-b", "release/1"]);
    w.git(&["rm", "-q", "data/f000.txt"]);
    let oid = w.commit(&CAROL, &msg("Small release fix", &[]));
    w.push(&["origin", "release/1"]).assert_accepted_silently();
    w.assert_server_ref("refs/heads/release/1", Some(&oid));
}

#[test]
fn a_merge_is_measured_by_what_it_did_itself_not_by_what_it_brings_in() {
    let setup = |rules: &str| {
        let w = World::new();
        seed(&w, "data", 40);
        w.install_hook();
        w.write_policy(&policy(rules));
        w.git(&["checkout", "-q", "-b", "topic"]);
        for step in 0..3 {
            for i in 0..5 {
                w.git(&["rm", "-q", &format!("data/f{:03}.txt", step * 5 + i)]);
            }
            w.commit(&CAROL, &msg(&format!("Trim part {step}"), &[]));
        }
        w.git(&["checkout", "-q", "main"]);
        w
    };
    let rules = r#"
[[rule]]
name = "small-commits"
refs = ["refs/heads/main"]
require = { max_files_deleted = 10 }

[[rule]]
name = "small-merges"
refs = ["refs/heads/main"]
when = { merge = true }
require = { max_files_deleted = 10 }
"#;
    // Each brought-in commit deletes 5; the merge's first-parent diff deletes
    // 15, but git's own merge of its parents is what the merge left, so the
    // merge measures 0 under both rules.
    let w = setup(rules);
    let merge = w.merge(&CAROL, "topic", "Merge topic\n");
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&merge));

    // The same merge deleting 11 more files in its resolution counts them.
    let w = setup(rules);
    w.run_git(&w.work, &["merge", "-q", "--no-ff", "--no-commit", "topic"]);
    for i in 20..31 {
        w.git(&["rm", "-q", &format!("data/f{i:03}.txt")]);
    }
    w.git(&["commit", "-q", "-m", "Merge topic"]);
    let merge = w.git(&["rev-parse", "HEAD"]);
    w.push(&["origin", "main"])
        .assert_rejected_with(2)
        .assert_violation("error", "small-merges", MAIN, &merge, "Merge topic")
        .assert_violation("error", "small-commits", MAIN, &merge, "Merge topic")
        .assert_line_with(&["deletes 11 files", "the limit for merge commits is 10"]);
}

#[test]
fn tags_are_immutable_once_pushed() {
    let w = World::with_policy(&policy(
        r#"
[[rule]]
name = "immutable-tags"
refs = ["refs/tags/**"]
deny = ["update", "force-push", "delete"]
"#,
    ));
    w.server_config("receive.denyDeletes", "false");
    w.git(&["tag", "v1"]);
    w.push(&["origin", "v1"]).assert_accepted_silently();
    let tagged = w.server_ref("refs/tags/v1").unwrap();

    w.commit(&ALICE, &msg("Later work", &[]));
    w.git(&["tag", "-f", "v1"]);
    w.push(&["origin", "--force", "v1"])
        .assert_rejected_with(1)
        .assert_line_with(&["error[immutable-tags]", "refs/tags/v1"]);
    w.push(&["origin", ":refs/tags/v1"])
        .assert_rejected_with(1)
        .assert_line_with(&["deleting refs/tags/v1 is not allowed"]);
    w.assert_server_ref("refs/tags/v1", Some(&tagged));
}

#[test]
fn branches_under_a_prefix_may_only_be_created_by_a_group() {
    let w = World::with_policy(&policy(
        r#"
[[rule]]
name = "release-branches-by-seniors"
refs = ["refs/heads/release/**"]
deny = ["create"]
exempt = { pushers = ["senior"] }
"#,
    ));
    w.git(&["checkout", "-q", "-b", "release/9"]);
    w.push_env(&["origin", "release/9"], &[("REMOTE_USER", "carol")])
        .assert_rejected_with(1)
        .assert_line_with(&["creating refs/heads/release/9 is not allowed"]);
    w.push_env(&["origin", "release/9"], &[("REMOTE_USER", "alice-s")])
        .assert_accepted_silently();
    assert!(w.server_ref("refs/heads/release/9").is_some());
}

/// A hook that prints the JSON report (stdout becomes `remote:` lines).
fn install_json_hook(w: &World) {
    let hook = w.server.join("hooks").join("pre-receive");
    let _ = std::fs::remove_file(&hook);
    std::fs::write(
        &hook,
        format!("#!/bin/sh\nexec {TRAILGATE} pre-receive --format json\n"),
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn diffs_computed(run: &Run) -> u64 {
    let line = run
        .remote_lines()
        .into_iter()
        .find(|l| l.contains("\"decision\""))
        .unwrap_or_else(|| panic!("no JSON report\n{}", run.dump()));
    let json = &line[line.find('{').unwrap()..];
    let value: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    value["diffs_computed"].as_u64().unwrap()
}

#[test]
fn a_policy_with_only_trailer_rules_computes_no_diffs() {
    let w = World::new();
    install_json_hook(&w);
    w.write_policy(&policy(SENIOR_RULE));
    for i in 0..5 {
        w.commit(
            &CAROL,
            &msg(
                &format!("Change {i}"),
                &["AI-Assisted: yes", &approved_by(&ALICE)],
            ),
        );
    }
    let run = w.push(&["origin", "main"]);
    run.assert_code(0);
    assert_eq!(diffs_computed(&run), 0, "{}", run.dump());

    // The same push under a policy with a path rule diffs each commit once,
    // however many rules ask.
    w.write_policy(&policy(&format!("{BLAST_RULE}{INFRA_RULE}")));
    for i in 0..5 {
        w.commit(&CAROL, &msg(&format!("More {i}"), &["AI-Assisted: yes"]));
    }
    let run = w.push(&["origin", "main"]);
    run.assert_code(0);
    assert_eq!(diffs_computed(&run), 5, "{}", run.dump());
}
