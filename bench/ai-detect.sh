#!/usr/bin/env bash
# The cost of AI detection on a large push (issue 16): a linear history of
# N commits (default 100,000) whose messages cycle through tool marks, human
# and kernel-style Assisted-by lines and plain text, judged by `trailgate
# verify` under a policy whose only rule asks about AI assistance. Prints the
# median wall time of five runs for each binary given (default: this tree's
# release build). Measures; asserts nothing.
#
#   bench/ai-detect.sh [--commits N] [BIN...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
commits=100000
if [ "${1:-}" = "--commits" ]; then commits=$2; shift 2; fi
bins=("$@")
if [ ${#bins[@]} -eq 0 ]; then
    cargo build --release --quiet --manifest-path "$root/Cargo.toml"
    bins=("$root/target/release/trailgate")
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git init -q -b main "$work/repo"
python3 - "$commits" > "$work/stream" <<'PY'
import sys
n = int(sys.argv[1])
messages = [
    "Fix the parser\n\nIt dropped the last line.\n",
    "Add retries\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n",
    "Pair on the lexer\n\nAssisted-by: Jane Doe <jane@example.com>\n",
    "mm: fix accounting\n\nAssisted-by: Claude:claude-opus-4-6 coccinelle sparse\nSigned-off-by: Carol <carol@example.com>\n",
    "Tidy the page\n\nCo-authored-by: Copilot <copilot@github.com>\n",
    "Mention Copilot and Cursor in the docs\n\nNo AI was used.\n",
    "Cache themes\n\n\U0001F498 Generated with Crush\n",
    "Update data\n\nCo-authored-by: factory-droid[bot] <138933559+factory-droid[bot]@users.noreply.github.com>\n",
    "Review\n\nApproved-By: Alice <alice@example.com>\nAI-Assisted: yes\n",
    "Plain change number\n",
]
out = sys.stdout.buffer
t = 1_600_000_000
for i in range(n):
    msg = messages[i % len(messages)].encode()
    data = f"{i}\n".encode()
    out.write(b"blob\nmark :%d\ndata %d\n%s\n" % (2 * i + 1, len(data), data))
    out.write(b"commit refs/heads/main\nmark :%d\n" % (2 * i + 2))
    out.write(b"author Carol <carol@example.com> %d +0000\ncommitter Carol <carol@example.com> %d +0000\n" % (t + i, t + i))
    out.write(b"data %d\n%s" % (len(msg), msg))
    if i:
        out.write(b"from :%d\n" % (2 * i))
    out.write(b"M 100644 :%d f%d.txt\n\n" % (2 * i + 1, i % 100))
PY
git -C "$work/repo" fast-import --quiet < "$work/stream"
cat > "$work/policy.toml" <<'TOML'
version = 1
[[rule]]
name = "declare-detected-ai"
when = { ai_assisted = true }
require = { trailers = [ { key = "AI-Reviewed", value = "^yes$" } ] }
TOML
for bin in "${bins[@]}"; do
    walls=()
    cpus=()
    for _ in 1 2 3 4 5; do
        # GNU time: wall seconds, then user and system CPU seconds.
        (cd "$work/repo" && /usr/bin/time -f "%e %U %S" -o "$work/time" \
            "$bin" verify --config "$work/policy.toml" --ref refs/heads/main --format json main \
            > "$work/out.json") || true
        read -r wall user sys < <(tail -1 "$work/time")
        walls+=("$wall")
        cpus+=("$(echo "$user + $sys" | bc)")
    done
    wall=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n 3p)
    cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n 3p)
    summary=$(python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(j['decision'], j['commits_checked'], 'commits checked')" "$work/out.json")
    echo "$bin: median of 5 runs: ${wall} s wall, ${cpu} s CPU ($summary)"
done
