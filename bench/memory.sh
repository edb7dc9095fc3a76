#!/usr/bin/env bash
# Peak memory (RSS, from /usr/bin/time -f %M) of the hook judging a one-commit
# push onto a short history and onto a long one: memory must not grow with
# the history outside the push (issue 8: within 20% of each other).
# Optionally, the hook's peak memory and time for a push that brings a huge
# number of commits at once, judged or rejected by settings.max_commits.
#
#   bench/memory.sh [SMALL] [LARGE] [RUNS]       (defaults: 1000 100000 5)
#   HUGE=1000000 bench/memory.sh   (also a push of HUGE commits, judged with
#                                   max_commits = 1000 and with no limit)
#
# Most of the difference between the two is file-backed: pages of the pack
# index and pack that libgit2 maps, faulted in 64 KiB at a time around each
# lookup (RssAnon at exit was 968 KiB for both sizes).
#
# The hook runs as git runs it: in the bare repository, GIT_DIR set, the new
# commit in a quarantine directory named by GIT_QUARANTINE_PATH and
# GIT_ALTERNATE_OBJECT_DIRECTORIES.
set -euo pipefail
small=${1:-1000}
large=${2:-100000}
runs=${3:-5}
huge=${HUGE:-0}
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/release/trailgate"
tmp=$(mktemp -d)
[[ -n "${KEEP:-}" ]] && echo "keeping $tmp" || trap 'rm -rf "$tmp"' EXIT
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME=$tmp
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com

cat > "$tmp/policy.toml" <<TOML
version = 1
[settings]
max_commits = 1000000
[people.alice]
emails = ["alice@example.com"]
[groups]
senior = ["alice"]
[[rule]]
name = "ai-needs-senior-approval"
refs = ["refs/heads/main", "refs/heads/release/**"]
when = { ai_assisted = true, author_not_in = ["senior"] }
require = { approvals = { from = ["senior"] } }
[[rule]]
name = "everywhere"
require = { trailers = [ { key = "AI-Assisted" } ] }
[[rule]]
name = "protect-main"
refs = ["refs/heads/main"]
deny = ["force-push", "delete"]
TOML

# A fast-import stream of N commits on BRANCH (a file each, every commit
# declaring AI use, every third approved), starting FROM an existing commit
# or from nothing.
stream() {
    python3 - "$1" "$2" "${3:-}" <<'PY'
import sys
n, branch, start = int(sys.argv[1]), sys.argv[2], sys.argv[3]
out = sys.stdout
for i in range(1, n + 1):
    data = f"line {i}\n"
    msg = f"Commit {i}\n\nAI-Assisted: yes\nApproved-By: Alice <alice@example.com>\n"
    out.write(f"commit {branch}\nmark :{i}\ncommitter Bench <bench@example.com> {1600000000 + i * 60} +0000\n")
    out.write(f"data {len(msg.encode())}\n{msg}")
    if i > 1:
        out.write(f"from :{i - 1}\n")
    elif start:
        out.write(f"from {start}\n")
    out.write(f"M 644 inline dir{i % 50}/file{i % 40}.txt\ndata {len(data)}\n{data}\n")
PY
}

# Builds a repository of N commits on main, then a quarantine holding one
# more commit on top. Prints "old new".
setup() {
    local n=$1 dir=$2
    git init -q --bare --initial-branch=main "$dir"
    stream "$n" refs/heads/main | git -C "$dir" fast-import --quiet
    git -C "$dir" gc --quiet
    local old new tree
    old=$(git -C "$dir" rev-parse main)
    tree=$(git -C "$dir" rev-parse 'main^{tree}')
    mkdir -p "$dir/objects/incoming-bench"
    new=$(printf 'One more\n\nAI-Assisted: yes\nApproved-By: Alice <alice@example.com>\n' \
        | GIT_OBJECT_DIRECTORY="$dir/objects/incoming-bench" \
          GIT_ALTERNATE_OBJECT_DIRECTORIES="$dir/objects" \
          git -C "$dir" commit-tree "$tree" -p "$old")
    echo "$old $new"
}

# Peak RSS in KiB of one hook run: the highest of RUNS runs.
peak() {
    local dir=$1 input=$2 best=0 kib
    for _ in $(seq "$runs"); do
        kib=$(cd "$dir" && printf '%s' "$input" \
            | GIT_DIR=. GIT_QUARANTINE_PATH="$dir/objects/incoming-bench" \
              GIT_OBJECT_DIRECTORY="$dir/objects/incoming-bench" \
              GIT_ALTERNATE_OBJECT_DIRECTORIES="$dir/objects" \
              /usr/bin/time -f %M "$bin" pre-receive --config "$tmp/policy.toml" 2>&1 >/dev/null | tail -n 1)
        (( kib > best )) && best=$kib
    done
    echo "$best"
}

declare -A rss
for n in "$small" "$large"; do
    read -r old new < <(setup "$n" "$tmp/repo-$n.git")
    rss[$n]=$(peak "$tmp/repo-$n.git" "$old $new refs/heads/main
")
    echo "1-commit push onto $n commits: peak RSS ${rss[$n]} KiB (highest of $runs runs)"
done
ratio=$(python3 -c "print(f'{${rss[$large]} / ${rss[$small]}:.3f}')")
echo "ratio $large/$small: $ratio"
ok=$(python3 -c "print(int(abs(${rss[$large]} / ${rss[$small]} - 1) <= 0.20))")

if (( huge > 0 )); then
    dir="$tmp/huge.git"
    git init -q --bare --initial-branch=main "$dir"
    stream 1 refs/heads/main | git -C "$dir" fast-import --quiet
    base=$(git -C "$dir" rev-parse main)
    stream "$huge" refs/heads/incoming "$base" | git -C "$dir" fast-import --quiet
    tip=$(git -C "$dir" rev-parse incoming)
    git -C "$dir" update-ref -d refs/heads/incoming
    for limit in 1000 0; do
        sed "s/^max_commits = .*/max_commits = $limit/" "$tmp/policy.toml" > "$tmp/policy-$limit.toml"
        out=$(cd "$dir" && printf '%s %s refs/heads/main\n' "$base" "$tip" \
            | GIT_DIR=. /usr/bin/time -f '%M KiB, %e s' "$bin" pre-receive --config "$tmp/policy-$limit.toml" 2>&1 | tail -n 1) || true
        echo "push of $huge commits, max_commits = $limit: peak $out"
    done
fi

if (( ok )); then
    echo "OK: within 20%"
else
    echo "FAIL: peak memory differs by more than 20%"
    exit 1
fi
