//! Helpers for the hardening tests: the hook run directly with a time limit
//! and arbitrary bytes on stdin, raw objects written with
//! `git hash-object --literally`, and the assertions every bad input shares.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// The bound of the "within seconds" tests: what they catch is work that
/// grows faster than the input (quadratic in a 20 MB message is hours), so
/// the bound is generous enough that a machine loaded by the whole suite
/// never reaches it (20 s did, at load 25 on 2 cores), and still far below
/// what a quadratic step would take.
pub const WITHIN_SECONDS: Duration = Duration::from_secs(120);

/// No single run of the hook may take longer than this.
pub const LIMIT: Duration = Duration::from_secs(60);

pub const MAIN: &str = "refs/heads/main";

/// A policy with the senior rule on `main` and nothing else.
pub fn senior_policy() -> String {
    policy(SENIOR_RULE)
}

/// Runs `trailgate pre-receive ARGS` as git would (in the server repository,
/// `GIT_DIR` set) with `stdin` bytes, killing it after `limit`.
pub fn hook(w: &World, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Run {
    hook_within(w, args, stdin, env, LIMIT)
}

/// [`hook`] with an explicit time limit.
pub fn hook_within(
    w: &World,
    args: &[&str],
    stdin: &[u8],
    env: &[(&str, &str)],
    limit: Duration,
) -> Run {
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
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_with_limit(cmd, stdin, limit, format!("trailgate {}", all.join(" ")))
}

/// Spawns `cmd`, feeds `stdin` from a thread, collects stdout and stderr, and
/// kills the process (failing the test) if it outlives `limit`.
pub fn run_with_limit(mut cmd: Command, stdin: &[u8], limit: Duration, what: String) -> Run {
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    // The binary may stop reading early (bad input): ignore EPIPE.
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{what}` hung: still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = feeder.join();
    let stdout = out_reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    Run {
        what,
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// The outcome every unjudgeable input must have: exit 2 (never a panic's
/// 101, never a signal), no panic message, and a message that names the
/// problem (`needle`) and says the push is rejected.
pub fn assert_cannot_judge(run: &Run, needle: &str) {
    assert_no_crash(run);
    run.assert_code(2);
    run.assert_says(needle);
    run.assert_says("trailgate: error:");
}

/// Never a panic, never a signal.
pub fn assert_no_crash(run: &Run) {
    run.assert_no_panic();
    assert!(
        run.code.is_some(),
        "trailgate was killed by a signal\n{}",
        run.dump()
    );
    assert_ne!(run.code, Some(101), "a panic's exit code\n{}", run.dump());
}

/// A rejection by policy: exit 1 naming the rule.
pub fn assert_rejected_by(run: &Run, rule: &str) {
    assert_no_crash(run);
    run.assert_code(1);
    run.assert_says(&format!("error[{rule}]"));
}

/// Writes a raw object of `kind` into the server repository exactly as given
/// (`git hash-object --literally`, no checks) and returns its id.
pub fn raw_object(w: &World, kind: &str, data: &[u8]) -> String {
    raw_object_in(w, &w.server, kind, data)
}

/// [`raw_object`] in any repository.
pub fn raw_object_in(w: &World, dir: &Path, kind: &str, data: &[u8]) -> String {
    let mut cmd = Command::new("git");
    cmd.args(["hash-object", "-t", kind, "--literally", "-w", "--stdin"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    hermetic(&mut cmd, &w.home);
    let run = run_with_limit(cmd, data, LIMIT, "git hash-object".into());
    run.assert_code(0);
    run.stdout.trim().to_owned()
}

/// The empty tree, written into the server repository.
pub fn empty_tree(w: &World) -> String {
    raw_object(w, "tree", b"")
}

/// A commit object's bytes: the empty tree, the given parents and header
/// lines (`author ...`, `committer ...`, `encoding ...`), then the message.
pub fn commit_bytes(tree: &str, parents: &[&str], headers: &[&[u8]], message: &[u8]) -> Vec<u8> {
    let mut out = format!("tree {tree}\n").into_bytes();
    for p in parents {
        out.extend_from_slice(format!("parent {p}\n").as_bytes());
    }
    for h in headers {
        out.extend_from_slice(h);
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(message);
    out
}

/// Carol's author and committer lines (a junior: the senior rule applies).
pub const CAROL_LINES: [&[u8]; 2] = [
    b"author Carol <carol@example.com> 1700000000 +0000",
    b"committer Carol <carol@example.com> 1700000000 +0000",
];

/// Writes a commit by Carol on top of the server's `main` with `message` and
/// returns `(old, new)` for a `main` update.
pub fn carol_commit(w: &World, message: &[u8]) -> (String, String) {
    let main = w.server_ref(MAIN).unwrap();
    let tree = empty_tree(w);
    let new = raw_object(
        w,
        "commit",
        &commit_bytes(&tree, &[&main], &CAROL_LINES, message),
    );
    (main, new)
}

/// The stdin line for an update of `refname`.
pub fn line(old: &str, new: &str, refname: &str) -> Vec<u8> {
    format!("{old} {new} {refname}\n").into_bytes()
}
