//! `bench/diff-stats.sh` runs this (ignored) test in release mode: trailgate's
//! line counts for every commit of a generated history against
//! `git log --numstat --no-renames --format=%H` over the same commits.

use std::time::Instant;

use trailgate::git::diff::{self, DiffOptions};

use super::generator::Generator;
use super::oracle::Repo;

#[test]
#[ignore = "a benchmark: run with bench/diff-stats.sh"]
fn bench_commit_stats_against_git_log_numstat() {
    let commits: usize = std::env::var("TRAILGATE_DIFF_BENCH_COMMITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let runs: usize = std::env::var("TRAILGATE_DIFF_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let repo = Repo::from_fast_import(&Generator::new(0x7ea1_6a7e).history(commits));
    repo.run(&["gc", "--quiet"]);
    let ids = repo.commits();

    let mut git_times = Vec::new();
    let mut ours_times = Vec::new();
    let mut ours_lines = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let out = repo.run(&["log", "--numstat", "--no-renames", "--format=%H", "main"]);
        git_times.push(start.elapsed().as_secs_f64());
        assert!(!out.is_empty());

        let start = Instant::now();
        let r = repo.open();
        let opts = DiffOptions::default();
        let mut lines = 0u64;
        for &c in &ids {
            let s = diff::commit_stats(&r, c, &opts).unwrap();
            lines += s.lines_added() + s.lines_deleted();
        }
        ours_times.push(start.elapsed().as_secs_f64());
        ours_lines = lines;
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let (git, ours) = (median(&mut git_times), median(&mut ours_times));
    println!(
        "commits: {}  lines counted: {ours_lines}\n\
         git log --numstat --no-renames --format=%H: {git:.3} s (median of {runs})\n\
         trailgate commit_stats (no renames):        {ours:.3} s\n\
         ratio trailgate / git: {:.2}",
        ids.len(),
        ours / git
    );
}
