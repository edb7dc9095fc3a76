//! Robustness under faults: a damaged object store, a client that stopped
//! listening, a policy changing under the hook. Each ends in a rejected push
//! with a clear message (or the verdict on what was judged), never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::support::*;
use crate::support::*;

/// A rule on every ref, so that a new branch is walked.
const EVERY_REF: &str = r#"
[[rule]]
name = "ai-needs-senior-approval"
when = { ai_assisted = true, author_not_in = ["senior"] }
require = { approvals = { from = ["senior"], count = 1 } }
"#;

/// The server's pack files (`.pack`), after `git repack -a -d`.
fn packs(w: &World) -> Vec<PathBuf> {
    let dir = w.server.join("objects/pack");
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pack"))
        .collect()
}

/// Two commits on `feature` pushed before the hook, everything packed; then
/// a loose tip on top. Returns (feature tip in the pack, loose tip).
fn packed_history(w: &World) -> (String, String) {
    w.git(&["checkout", "-q", "-b", "feature"]);
    w.commit(&CAROL, "First\n");
    let packed = w.commit(&CAROL, "Second\n");
    w.git(&["push", "-q", "origin", "feature"]);
    w.server_git(&["repack", "-q", "-a", "-d"]);
    assert_eq!(packs(w).len(), 1);
    let tree = empty_tree(w);
    let tip = raw_object(
        w,
        "commit",
        &commit_bytes(&tree, &[&packed], &CAROL_LINES, b"Loose tip\n"),
    );
    w.install_hook();
    w.write_policy(&policy(EVERY_REF));
    (packed, tip)
}

#[test]
fn a_pack_deleted_before_judging_rejects_the_push_naming_the_missing_commit() {
    let w = World::new();
    let (packed, tip) = packed_history(&w);
    for pack in packs(&w) {
        std::fs::remove_file(&pack).unwrap();
        std::fs::remove_file(pack.with_extension("idx")).unwrap();
    }
    // The loose tip reads; its parent, in the deleted pack, does not.
    let run = hook(&w, &[], &line(&ZERO, &tip, "refs/heads/topic"), &[]);
    assert_cannot_judge(&run, &packed);
    run.assert_says("the push is rejected because it could not be judged");
}

#[test]
fn a_pack_file_gone_but_its_index_left_rejects_the_push() {
    let w = World::new();
    let (_, tip) = packed_history(&w);
    for pack in packs(&w) {
        std::fs::remove_file(&pack).unwrap();
    }
    let run = hook(&w, &[], &line(&ZERO, &tip, "refs/heads/topic"), &[]);
    assert_no_crash(&run);
    run.assert_code(2);
    run.assert_says("trailgate: error:");
}

#[test]
fn a_truncated_pack_rejects_the_push() {
    let w = World::new();
    let (_, tip) = packed_history(&w);
    for pack in packs(&w) {
        let len = std::fs::metadata(&pack).unwrap().len();
        make_writable(&pack);
        let file = std::fs::OpenOptions::new().write(true).open(&pack).unwrap();
        file.set_len(len / 2).unwrap();
    }
    let run = hook(&w, &[], &line(&ZERO, &tip, "refs/heads/topic"), &[]);
    assert_no_crash(&run);
    run.assert_code(2);
    run.assert_says("trailgate: error:");
}

#[test]
fn a_corrupt_loose_object_rejects_the_push() {
    let w = World::with_policy(&policy(EVERY_REF));
    let (_, new) = carol_commit(&w, b"Will be corrupted\n");
    let path = w.server.join("objects").join(&new[..2]).join(&new[2..]);
    make_writable(&path);
    std::fs::write(&path, b"\x78\x9cthis is not zlib data at all").unwrap();
    let run = hook(&w, &[], &line(&ZERO, &new, "refs/heads/topic"), &[]);
    assert_cannot_judge(&run, &new[..7]);
}

/// Runs the hook with stdout and stderr pipes whose reading ends are closed
/// before the hook writes a byte: every write fails with EPIPE.
fn hook_with_deaf_client(w: &World, args: &[&str], stdin: &[u8]) -> Option<i32> {
    let mut all = vec!["pre-receive"];
    all.extend_from_slice(args);
    let mut cmd = Command::new(TRAILGATE);
    cmd.args(&all)
        .current_dir(&w.server)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    hermetic(&mut cmd, &w.home);
    cmd.env("GIT_DIR", &w.server);
    let mut child = cmd.spawn().unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        let _ = input.write_all(stdin);
    }
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("the hook hung with a deaf client");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_rejection_still_exits_1_when_the_client_closed_stderr() {
    let w = World::with_policy(&senior_policy());
    let (old, new) = carol_commit(&w, b"AI\n\nAI-Assisted: yes\n");
    assert_eq!(
        hook_with_deaf_client(&w, &[], &line(&old, &new, MAIN)),
        Some(1)
    );
    assert_eq!(
        hook_with_deaf_client(&w, &["--format", "json"], &line(&old, &new, MAIN)),
        Some(1)
    );
}

#[test]
fn an_error_still_exits_2_when_the_client_closed_stderr() {
    let w = World::with_policy(&senior_policy());
    assert_eq!(hook_with_deaf_client(&w, &[], b"garbage\n"), Some(2));
}

#[test]
fn an_accepted_push_still_exits_0_when_the_client_closed_stderr() {
    let w = World::with_policy(&senior_policy());
    let (old, new) = carol_commit(&w, b"Plain\n");
    assert_eq!(
        hook_with_deaf_client(&w, &["--verbose"], &line(&old, &new, MAIN)),
        Some(0)
    );
}

#[test]
fn a_rejection_exits_1_when_stderr_is_a_closed_descriptor() {
    let w = World::with_policy(&senior_policy());
    let (old, new) = carol_commit(&w, b"AI\n\nAI-Assisted: yes\n");
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "exec \"$0\" pre-receive 2>&- >&-", TRAILGATE])
        .current_dir(&w.server)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    hermetic(&mut cmd, &w.home);
    cmd.env("GIT_DIR", &w.server);
    let run = run_with_limit(cmd, &line(&old, &new, MAIN), LIMIT, "closed fds".into());
    assert_eq!(run.code, Some(1), "{}", run.dump());
}

#[test]
fn the_policy_is_read_exactly_once_so_a_fifo_works_as_the_policy_file() {
    // A FIFO yields its content once: a second read would block (and time
    // out here) or see nothing. Replacing the policy while a push is judged
    // therefore cannot mix two policies in one verdict.
    let w = World::new();
    let fifo = w.root.join("policy.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let (old, new) = carol_commit(&w, b"AI\n\nAI-Assisted: yes\n");
    let text = senior_policy();
    let path = fifo.clone();
    let writer = std::thread::spawn(move || {
        std::fs::write(&path, text).unwrap();
    });
    let run = hook(
        &w,
        &["--config", fifo.to_str().unwrap()],
        &line(&old, &new, MAIN),
        &[],
    );
    writer.join().unwrap();
    assert_rejected_by(&run, "ai-needs-senior-approval");
}

#[test]
fn a_policy_cut_off_in_the_middle_of_a_value_rejects_the_push() {
    // A policy being rewritten in place can be read half-written. Cut inside
    // a string it is invalid TOML; cut at a line boundary it may be a valid
    // policy with fewer rules, which is why the README says to replace the
    // file atomically (write a new file, then rename it over the old one).
    let full = policy(SENIOR_RULE);
    let cut = full.find("Alice Senior").unwrap() + 5;
    let half = &full[..cut];
    let w = World::with_policy(half);
    let (old, new) = carol_commit(&w, b"Plain\n");
    let run = hook(&w, &[], &line(&old, &new, MAIN), &[]);
    assert_cannot_judge(&run, "trailgate.toml:");
}
#[test]
fn check_with_its_output_closed_exits_with_its_verdict_not_a_panic() {
    let w = World::with_policy(&senior_policy());
    let path = w.server.join("trailgate.toml");
    let bad = w.root.join("bad.toml");
    std::fs::write(&bad, "version = 2\n").unwrap();
    for (args, code) in [
        (vec!["check", "--config", path.to_str().unwrap()], 0),
        (vec!["check", "--config", bad.to_str().unwrap()], 2),
        (vec!["check", "--config", "/nonexistent.toml"], 2),
    ] {
        let mut cmd = Command::new(TRAILGATE);
        cmd.args(&args)
            .current_dir(&w.root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        hermetic(&mut cmd, &w.home);
        let mut child = cmd.spawn().unwrap();
        drop(child.stdout.take());
        drop(child.stderr.take());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "{args:?}");
    }
}

#[test]
fn the_demo_with_its_output_closed_runs_to_the_end_without_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(TRAILGATE);
    cmd.arg("demo")
        .current_dir(tmp.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    hermetic(&mut cmd, tmp.path());
    let mut child = cmd.spawn().unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(0), "{stderr}");
}
