//! The time budget inside one file's line count (red team, after issue
//! 13): xdiff cannot be interrupted and its cost grows faster than its
//! input. Two 2 MB files of random `x` and `y` lines took 10.7 s of CPU in
//! the release build under a 500 ms budget, and the deadline was checked
//! only every 64 files: one small push (a few hundred KB of pack, the same
//! two blobs at many paths) kept a core busy for minutes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::support::*;
use crate::support::*;

/// `lines` lines of `x` or `y`, from `seed`.
fn xy_text(lines: usize, mut seed: u64) -> String {
    let mut s = String::with_capacity(lines * 2);
    for _ in 0..lines {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        s.push(if seed & 1 == 0 { 'x' } else { 'y' });
        s.push('\n');
    }
    s
}

/// Writes into the server, with fast-import: a commit with `paths` copies
/// of one text, then one replacing every copy with another text. Returns
/// the base and the tip.
fn xdiff_bomb(w: &World, paths: usize, lines: usize) -> (String, String) {
    let main = w.server_ref(MAIN).unwrap();
    let (a, b) = (
        xy_text(lines, 0x9e37_79b9_7f4a_7c15),
        xy_text(lines, 0x2545_f491_4f6c_dd1d),
    );
    let mut script = String::new();
    for (round, text) in [&a, &b].into_iter().enumerate() {
        let _ = write!(
            script,
            "blob\nmark :{}\ndata {}\n{text}\ncommit refs/heads/bomb\ncommitter Carol <carol@example.com> {} +0000\ndata 6\nround\n",
            round + 1,
            text.len(),
            1_700_000_000 + round
        );
        if round == 0 {
            let _ = writeln!(script, "from {main}");
        }
        for i in 0..paths {
            let _ = writeln!(script, "M 100644 :{} f{i:03}.txt", round + 1);
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
    let tip = w.server_git(&["rev-parse", "refs/heads/bomb"]);
    w.server_git(&["update-ref", "-d", "refs/heads/bomb"]);
    (main, tip)
}

#[test]
fn attack_line_counts_that_outlast_the_budget_stop_at_it() {
    let w = World::new();
    w.install_hook();
    w.write_policy(&policy(
        "[settings]\ntime_budget_ms = 500\n\n[[rule]]\nname = \"long\"\nrefs = [\"refs/heads/main\"]\nrequire = { max_lines_deleted = 100000000 }\n",
    ));
    // 16 paths changed from one 300 KB text to another: each line count
    // takes a second or more; all 16 ran before the fix.
    let (old, new) = xdiff_bomb(&w, 16, 150_000);
    let started = Instant::now();
    let run = hook_within(&w, &[], &line(&old, &new, MAIN), &[], LIMIT);
    let took = started.elapsed();
    eprintln!("the hook took {took:?} under a 500 ms budget");
    assert_no_crash(&run);
    run.assert_code(2)
        .assert_says("takes longer than the policy's time budget");
    // A wide margin for a loaded machine: without the watch the hook ran
    // for 16 line counts (well over 10 s).
    assert!(
        took < Duration::from_secs(5),
        "the hook stopped only after {took:?}"
    );
}

#[test]
fn the_same_large_line_count_within_the_budget_is_exact() {
    // The watched thread gives the count git gives: under a generous
    // budget the push is judged, and its limit is checked against numstat.
    let w = World::new();
    w.install_hook();
    let (old, new) = xdiff_bomb(&w, 1, 70_000);
    let parent = format!("{new}^");
    let numstat = w.server_git(&["diff", "--numstat", &parent, &new]);
    let git_deleted: u64 = numstat
        .lines()
        .filter_map(|l| l.split('\t').nth(1))
        .filter_map(|d| d.parse::<u64>().ok())
        .sum();
    assert!(git_deleted > 0, "{numstat}");
    let rule = |max: u64| {
        policy(&format!(
            "[settings]\ntime_budget_ms = 120000\n\n[[rule]]\nname = \"long\"\nrefs = [\"refs/heads/main\"]\nrequire = {{ max_lines_deleted = {max} }}\n"
        ))
    };
    w.write_policy(&rule(git_deleted));
    hook(&w, &[], &line(&old, &new, MAIN), &[]).assert_code(0);
    w.write_policy(&rule(git_deleted - 1));
    hook(&w, &[], &line(&old, &new, MAIN), &[]).assert_code(1);
}
