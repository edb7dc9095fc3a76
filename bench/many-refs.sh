#!/usr/bin/env bash
# Measures a one-commit push onto a repository with many refs: the whole
# `git push` with trailgate as the pre-receive hook against the same push with
# a hook that only reads stdin, and the hook's walk against
# `git rev-list NEW --not --all`. Prints medians and ratios.
#
#   bench/many-refs.sh [COMMITS] [REFS] [RUNS]     (defaults: 20000 10000 7)
set -euo pipefail
commits=${1:-20000}
refs=${2:-10000}
runs=${3:-7}
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/release/trailgate"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME=$tmp
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com

git init -q --bare --initial-branch=main "$tmp/server.git"
python3 - "$commits" > "$tmp/stream" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout
for i in range(1, n + 1):
    data = f"line {i}\n"
    msg = f"Commit {i}\n\nAI-Assisted: no\n"
    if i % 3 == 0:
        msg += "Approved-By: Alice <alice@example.com>\n"
    out.write(f"commit refs/heads/main\nmark :{i}\ncommitter Bench <bench@example.com> {1600000000 + i * 60} +0000\n")
    out.write(f"data {len(msg.encode())}\n{msg}")
    if i > 1:
        out.write(f"from :{i - 1}\n")
    out.write(f"M 644 inline dir{i % 50}/file{i % 40}.txt\ndata {len(data)}\n{data}\n")
PY
git -C "$tmp/server.git" fast-import --quiet < "$tmp/stream"
git -C "$tmp/server.git" rev-list main | awk -v n="$refs" 'NR % 2 == 0 && c < n { printf "create refs/heads/topic/%d %s\n", c, $1; c++ }' \
    | git -C "$tmp/server.git" update-ref --stdin
git -C "$tmp/server.git" pack-refs --all
git -C "$tmp/server.git" gc --quiet
echo "repository: $commits commits, $(git -C "$tmp/server.git" for-each-ref | wc -l) refs"

cat > "$tmp/policy.toml" <<'TOML'
version = 1
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

git clone -q "$tmp/server.git" "$tmp/work"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s%N; }

push_once() { # $1: hook kind
    git -C "$tmp/work" commit -q --allow-empty -m "Bench $RANDOM" -m "AI-Assisted: no"
    local t0 t1
    t0=$(now)
    git -C "$tmp/work" push -q origin main 2>/dev/null
    t1=$(now)
    echo $(( (t1 - t0) / 1000 ))
}

printf '#!/bin/sh\ncat >/dev/null\n' > "$tmp/cat-hook"
chmod +x "$tmp/cat-hook"
printf '#!/bin/sh\nexec %s pre-receive --config %s\n' "$bin" "$tmp/policy.toml" > "$tmp/tg-hook"
chmod +x "$tmp/tg-hook"

for kind in cat tg cat tg; do :; done
declare -A med
for kind in cat tg; do
    cp "$tmp/$kind-hook" "$tmp/server.git/hooks/pre-receive"
    push_once "$kind" >/dev/null   # warm up
    med[$kind]=$(for _ in $(seq "$runs"); do push_once "$kind"; done | median)
done
echo "git push, hook reads stdin only:   ${med[cat]} us (median of $runs)"
echo "git push, hook is trailgate:       ${med[tg]} us (median of $runs)"
awk -v a="${med[tg]}" -v b="${med[cat]}" 'BEGIN { printf "ratio push(trailgate)/push(cat): %.3f\n", a / b }'

# The hook alone against git's own walk, on a one-commit update.
old=$(git -C "$tmp/server.git" rev-parse main)
git -C "$tmp/work" commit -q --allow-empty -m "Unpushed" -m "AI-Assisted: no"
new=$(git -C "$tmp/work" rev-parse HEAD)
git -C "$tmp/work" push -q "$tmp/server.git" HEAD:refs/heads/scratch 2>/dev/null || true
git -C "$tmp/server.git" update-ref -d refs/heads/scratch
hook=$(for _ in $(seq "$runs"); do
    t0=$(now); echo "$old $new refs/heads/main" | (cd "$tmp/server.git" && GIT_DIR=. "$bin" pre-receive --config "$tmp/policy.toml"); t1=$(now); echo $(( (t1 - t0) / 1000 ))
done | median)
revlist=$(for _ in $(seq "$runs"); do
    t0=$(now); git -C "$tmp/server.git" rev-list "$new" --not --all > /dev/null; t1=$(now); echo $(( (t1 - t0) / 1000 ))
done | median)
echo "trailgate pre-receive (1 commit, $refs refs): $hook us"
echo "git rev-list NEW --not --all:                $revlist us"
awk -v a="$hook" -v b="$revlist" 'BEGIN { printf "ratio hook/rev-list: %.3f\n", a / b }'
