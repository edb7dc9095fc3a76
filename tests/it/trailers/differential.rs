//! Generated messages, each judged by the installed git and by trailgate; any
//! disagreement fails with the message bytes so it can be fixed.
//!
//! `TRAILGATE_DIFF_COUNT` sets how many messages (default 3000, a few seconds
//! in a debug build), `TRAILGATE_DIFF_SEED` the seed. `scripts/trailer-diff`
//! runs the long version in release mode.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use trailgate::facts::trailers::{from_commit_message, from_text, render};

use super::generator::{message, Rng};
use super::git::{escaped, Git};

const DEFAULT_COUNT: usize = 3000;
const DEFAULT_SEED: u64 = 0x7a11_6a7e;
/// Mismatches shown in full; the rest are only counted.
const SHOWN: usize = 20;

fn count() -> usize {
    std::env::var("TRAILGATE_DIFF_COUNT").map_or(DEFAULT_COUNT, |v| {
        v.parse().expect("TRAILGATE_DIFF_COUNT is a number")
    })
}

fn seed() -> u64 {
    std::env::var("TRAILGATE_DIFF_SEED").map_or(DEFAULT_SEED, |v| {
        v.parse().expect("TRAILGATE_DIFF_SEED is a number")
    })
}

fn messages() -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed());
    (0..count()).map(|_| message(&mut rng)).collect()
}

fn rendered(trailers: &[trailgate::facts::trailers::Trailer<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    render(trailers, &mut out);
    out
}

fn report(what: &str, total: usize, with_trailers: usize, mismatches: &[String]) {
    let agree = total - mismatches.len();
    println!(
        "{what}: {agree}/{total} messages agree with git ({:.2}%), {with_trailers} with trailers, seed {}",
        100.0 * agree as f64 / total.max(1) as f64,
        seed()
    );
    let shown: Vec<&str> = mismatches.iter().take(SHOWN).map(String::as_str).collect();
    assert!(
        mismatches.is_empty(),
        "{what}: {} of {total} messages disagree with git (first {}):\n{}",
        mismatches.len(),
        shown.len(),
        shown.join("\n")
    );
}

fn mismatch(msg: &[u8], git: &[u8], ours: &[u8]) -> String {
    format!(
        "  message: {}\n  git:     {}\n  ours:    {}",
        escaped(msg),
        escaped(git),
        escaped(ours)
    )
}

#[test]
fn generated_messages_on_stdin_agree_with_interpret_trailers() {
    let git = Git::new();
    let messages = messages();
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    // One git process per message: run them side by side, since process
    // start-up, not parsing, is what takes the time.
    let workers = std::thread::available_parallelism()
        .map_or(4, |n| n.get() * 2)
        .max(4);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(msg) = messages.get(i) else { break };
                let expected = git.interpret_trailers(&[], msg);
                let ours = rendered(&from_text(msg));
                let has_trailers = !expected.is_empty();
                let bad = (expected != ours).then(|| mismatch(msg, &expected, &ours));
                results.lock().unwrap().push((i, has_trailers, bad));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|r| r.0);
    let with_trailers = results.iter().filter(|r| r.1).count();
    let mismatches: Vec<String> = results.into_iter().filter_map(|r| r.2).collect();
    report(
        "interpret-trailers --parse --no-divider",
        messages.len(),
        with_trailers,
        &mismatches,
    );
}

#[test]
fn generated_commits_agree_with_git_log_trailers() {
    let git = Git::new();
    let messages = messages();
    let ids = git.write_messages(&messages, None);
    let answers = git.log(&[], &ids, "%(trailers:only,unfold)");
    let mut with_trailers = 0;
    let mut mismatches = Vec::new();
    for (msg, id) in messages.iter().zip(&ids) {
        let expected = answers
            .get(id)
            .unwrap_or_else(|| panic!("git log did not show {id}"));
        with_trailers += usize::from(!expected.is_empty());
        let ours = rendered(&from_commit_message(msg));
        if *expected != ours {
            mismatches.push(mismatch(msg, expected, &ours));
        }
    }
    report(
        "git log %(trailers:only,unfold)",
        messages.len(),
        with_trailers,
        &mismatches,
    );
}
