#!/usr/bin/env bash
# Measures trailgate's per-commit diff facts (line counts, no rename
# detection) for every commit of a generated history against
# `git log --numstat --no-renames --format=%H` over the same commits, in the
# same run, release build. Prints both medians and the ratio.
#
#   bench/diff-stats.sh [COMMITS] [RUNS]     (defaults: 20000 3)
#
# The history is the differential test's generator (tests/it/diff/), so it
# has renames, binaries, symlinks, gitlinks and a few large files.
set -euo pipefail
commits=${1:-20000}
runs=${2:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
TRAILGATE_DIFF_BENCH_COMMITS=$commits TRAILGATE_DIFF_BENCH_RUNS=$runs \
    cargo test --release --quiet --test it -- --ignored --exact \
    diff::bench::bench_commit_stats_against_git_log_numstat --nocapture
