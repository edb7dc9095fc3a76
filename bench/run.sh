#!/usr/bin/env bash
# trailgate against git, same run, same repositories (issue 7). Builds the
# release binary, then runs bench/bench.py (see its docstring for the method).
#
#   bench/run.sh [--quick|--full] [--runs N] [--max-commits N] [--example-1m]
#                [--object-format sha1|sha256] [--ref-format files|reftable]
#
# --quick (default) takes well under a minute and is part of scripts/test; it
# checks verdicts and commit counts and never asserts timings. --full
# generates the issue's histories (1,000 / 100,000 / 1,000,000 commits, 10,000
# refs) once into target/bench-cache/, and the realistic history of the
# example-policy target (bench/gen_real.py; 1,000,000 commits only with
# --example-1m). --object-format and --ref-format
# choose the formats of every repository it creates (default sha1 and
# files). TRAILGATE_BIN=path uses that binary instead of building one: for
# perf, target/profiling/trailgate (built by `cargo build --profile
# profiling`: the release code with debug info; the release binary has
# none). Needs git, python3 and cargo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${TRAILGATE_BIN:-}" ]; then
    cargo build --release --quiet --manifest-path "$root/Cargo.toml"
    TRAILGATE_BIN="$root/target/release/trailgate"
fi
exec python3 "$root/bench/bench.py" --bin "$TRAILGATE_BIN" "$@"
