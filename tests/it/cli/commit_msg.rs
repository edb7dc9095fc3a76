//! The client-side `hooks/commit-msg`: copied into a clone's hooks, it
//! judges the commit being written, with its message, under the policy, and
//! refuses the commit when it breaks a rule. Real `git commit` in a clone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::*;

/// A clone with the commit-msg hook installed and the senior rule in
/// `.git/trailgate.toml`.
fn world_with_commit_msg() -> World {
    let w = World::new();
    let shim = Path::new(REPO_ROOT).join("hooks").join("commit-msg");
    let hook = w.work.join(".git").join("hooks").join("commit-msg");
    std::fs::copy(&shim, &hook).unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        w.work.join(".git").join("trailgate.toml"),
        policy(SENIOR_RULE),
    )
    .unwrap();
    w
}

/// `git commit -F MSG` of a new file as `author`, with the hook's binary given.
fn commit(w: &World, author: &Person, message: &str, extra: &[&str]) -> Run {
    let n = w.git(&["rev-list", "--count", "--all"]);
    let file = format!("c-{n}-{}.txt", message.len());
    std::fs::write(w.work.join(&file), "x\n").unwrap();
    w.git(&["add", &file]);
    let msg_file = w.root.join("commit-msg.txt");
    std::fs::write(&msg_file, message).unwrap();
    let mut args = vec!["commit", "-q", "-F", msg_file.to_str().unwrap()];
    args.extend_from_slice(extra);
    w.run_git_env(
        &w.work,
        &args,
        &[
            ("TRAILGATE_BIN", TRAILGATE),
            ("GIT_AUTHOR_NAME", author.name),
            ("GIT_AUTHOR_EMAIL", author.email),
        ],
    )
}

#[test]
fn commit_msg_hook_refuses_an_unapproved_ai_commit_and_lets_an_approved_one_through() {
    let w = world_with_commit_msg();
    let head = w.git(&["rev-parse", "HEAD"]);
    let run = commit(&w, &CAROL, &msg("Unapproved", &["AI-Assisted: yes"]), &[]);
    assert_ne!(run.code, Some(0), "{}", run.dump());
    run.assert_says("ai-needs-senior-approval")
        .assert_says("the commit was not made");
    assert_eq!(w.git(&["rev-parse", "HEAD"]), head, "the commit was made");
    let run = commit(
        &w,
        &CAROL,
        &msg("Approved", &["AI-Assisted: yes", &approved_by(&ALICE)]),
        &[],
    );
    run.assert_code(0);
    assert_ne!(w.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(w.git(&["log", "-1", "--format=%s"]), "Approved");
}

#[test]
fn commit_msg_hook_judges_the_message_as_git_stores_it_without_comments() {
    let w = world_with_commit_msg();
    let head = w.git(&["rev-parse", "HEAD"]);
    // The approval is only in a comment line, which git strips: not approved.
    let message = format!(
        "Commented approval\n\nBody.\n\nAI-Assisted: yes\n# {}\n",
        approved_by(&ALICE)
    );
    let run = commit(&w, &CAROL, &message, &["--cleanup=strip"]);
    assert_ne!(run.code, Some(0), "{}", run.dump());
    run.assert_says("ai-needs-senior-approval");
    assert_eq!(w.git(&["rev-parse", "HEAD"]), head);
}

#[test]
fn commit_msg_hook_judges_the_amended_commit_against_its_real_parent() {
    let w = world_with_commit_msg();
    let small = "[[rule]]\nname = \"small\"\nrefs = [\"refs/heads/main\"]\nrequire = { max_files_changed = 1 }\n";
    std::fs::write(w.work.join(".git").join("trailgate.toml"), policy(small)).unwrap();
    // Two files in one commit, made past the hook.
    std::fs::write(w.work.join("one.txt"), "1\n").unwrap();
    std::fs::write(w.work.join("two.txt"), "2\n").unwrap();
    w.git(&["add", "one.txt", "two.txt"]);
    let run = commit(&w, &CAROL, &msg("Two files", &[]), &["--no-verify"]);
    run.assert_code(0);
    let made = w.git(&["rev-parse", "HEAD"]);
    // Rewording it with --amend makes a commit of the same two files: judged
    // against HEAD (the commit it replaces) it would change nothing.
    let msg_file = w.root.join("amend.txt");
    std::fs::write(&msg_file, msg("Two files, reworded", &[])).unwrap();
    let run = w.run_git_env(
        &w.work,
        &["commit", "-q", "--amend", "-F", msg_file.to_str().unwrap()],
        &[("TRAILGATE_BIN", TRAILGATE)],
    );
    assert_ne!(run.code, Some(0), "{}", run.dump());
    run.assert_says("small");
    assert_eq!(w.git(&["rev-parse", "HEAD"]), made);
}

#[test]
fn commit_msg_hook_without_a_policy_says_so_and_does_not_block() {
    let w = world_with_commit_msg();
    std::fs::remove_file(w.work.join(".git").join("trailgate.toml")).unwrap();
    let run = commit(
        &w,
        &CAROL,
        &msg("No policy here", &["AI-Assisted: yes"]),
        &[],
    );
    run.assert_code(0)
        .assert_says("could not check the message");
    assert_eq!(w.git(&["log", "-1", "--format=%s"]), "No policy here");
}

#[test]
fn pre_commit_hooks_yaml_names_hooks_that_exist_and_run() {
    let yaml =
        std::fs::read_to_string(Path::new(REPO_ROOT).join(".pre-commit-hooks.yaml")).unwrap();
    let entries: Vec<&str> = yaml
        .lines()
        .filter_map(|l| l.trim().strip_prefix("entry: "))
        .collect();
    assert_eq!(entries, ["hooks/commit-msg", "hooks/pre-commit-pre-push"]);
    for entry in entries {
        let path = Path::new(REPO_ROOT).join(entry);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert!(mode & 0o111 != 0, "{entry} is not executable");
    }
    assert!(yaml.contains("stages: [commit-msg]") && yaml.contains("stages: [pre-push]"));
}

#[test]
fn pre_commit_pre_push_adapter_hands_the_ref_update_to_the_shim() {
    // pre-commit gives the hook the ref update as variables, not on stdin.
    let w = world_with_commit_msg();
    let shim_dir = w.root.join("hooks");
    std::fs::create_dir(&shim_dir).unwrap();
    for name in ["pre-push", "pre-commit-pre-push"] {
        let to = shim_dir.join(name);
        std::fs::copy(Path::new(REPO_ROOT).join("hooks").join(name), &to).unwrap();
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let before = w.server_ref("refs/heads/main").unwrap();
    let oid = w.commit(&CAROL, &msg("Unapproved", &["AI-Assisted: yes"]));
    let mut cmd = std::process::Command::new(shim_dir.join("pre-commit-pre-push"));
    cmd.current_dir(&w.work);
    hermetic(&mut cmd, &w.home);
    cmd.env("TRAILGATE_BIN", TRAILGATE)
        .env("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main")
        .env("PRE_COMMIT_TO_REF", &oid)
        .env("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/main")
        .env("PRE_COMMIT_FROM_REF", &before)
        .env("PRE_COMMIT_REMOTE_NAME", "origin")
        .env("PRE_COMMIT_REMOTE_URL", w.server.to_str().unwrap());
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("ai-needs-senior-approval"), "{stderr}");
}
