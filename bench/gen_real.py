#!/usr/bin/env python3
"""A realistic history for bench/bench.py's example-policy target (issue 15),
as a `git fast-import` stream on stdout, with what `config.example.toml`
must find as JSON in a side file.

    gen_real.py COMMITS EXPECTED.json > stream

COMMITS commit objects in all, merges included, on refs/heads/main (and one
finished topic branch, refs/heads/topic, merged into main). What it looks
like, on purpose close to a busy public project:

- 50 directories of 40 files each; three are the example policy's critical
  paths (`infra/`, `deploy/`, `db/migrations/`), the rest `src/...`,
  `docs/`, `tests/`. Each commit changes 1-5 files (one line replaced, a
  quarter of the time one appended).
- About one commit in 15 is a merge of a topic branch of 1-4 commits, with
  0-2 commits on main meanwhile on other files, so that every merge is
  clean (its remerge diff is empty).
- Long messages: a subject, one to four paragraphs of body, and a trailer
  block with several trailers (`Signed-off-by`, `Reviewed-by`, `Acked-by`,
  `Tested-by`, `Cc`, `Link`, `Fixes`), 400 authors plus the policy's people.
  About 25% declare `AI-Assisted: no`; a few carry human help
  (`Assisted-by: Name <email>`), which is no AI assistance.
- About 1% AI-assisted, in four shapes: declared (`AI-Assisted: yes`,
  `Assisted-by: Claude:claude-opus-4-6`), a tool's co-author trailer and
  footer without a declaration, both, and a kernel-style `Assisted-by:` of a
  tool alone. About 40% of them touch a critical path; one AI commit in 40
  changes 60 files at once.
- Pushed by alice (a senior, `REMOTE_USER=alice`): her push is one approval
  of every AI-assisted commit she did not write, so those commits are
  approved (rule ai-needs-senior-approval finds nothing), while those on a
  critical path need a second senior and are not (ai-critical-paths).

Expected per rule, counting violations (one per commit): ai-critical-paths
(AI-assisted commits touching a critical path), ai-blast-radius (the
60-file AI commits), declare-detected-ai (a tool's mark without a
declaration), declare-ai-use (warn: every commit, merges included, without
`AI-Assisted: yes|no` in its trailer block). bench.py checks these against
the JSON, and the last one also against git's own trailer parser.

A private xorshift generator keeps the output identical on every Python.
"""

import json
import sys

FILES_PER_DIR = 40
LINES = 8
MAX_LINES = 16
BASE_TIME = 1_600_000_000
CRITICAL = ["infra", "deploy", "db/migrations"]
DIRS = CRITICAL + [f"src/mod{k:02}" for k in range(41)] + ["docs", "docs/api", "tests", "tests/it",
                                                          "scripts", "tools"]
WORDS = ("the a of to in for on with when this that callers buffer cache request reply path "
         "lock queue worker config parser error retry timeout index handle state message "
         "keeps avoids makes reads writes frees checks returns stops starts").split()
PEOPLE = [("Alice Senior", "alice@example.com"), ("Bob Senior", "bob@example.com"),
          ("Dana Senior", "dana@example.com"), ("Carol Mid", "carol@example.com"),
          ("Jamie Junior", "jamie@example.com")]
FIRST = ["Ana", "Ben", "Chen", "Dev", "Eli", "Fatima", "Goran", "Hana", "Ivan", "Jun",
         "Kofi", "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara"]
LAST = ["Ahn", "Berg", "Costa", "Diaz", "Eze", "Fischer", "Garcia", "Haas", "Ito", "Jensen",
        "Kowalski", "Lopez", "Moreau", "Novak", "Okafor", "Park", "Rossi", "Sato", "Tanaka", "Weber"]
AUTHORS = [(f"{FIRST[n % 20]} {LAST[(n // 20) % 20]}", f"{FIRST[n % 20].lower()}.{LAST[(n // 20) % 20].lower()}{n // 400 or ''}@dev{n % 7}.example.org")
           for n in range(400)]
# A tool's marks, and declarations (see README "AI detection").
AI_SHAPES = [
    # (extra trailers, footer, declares AI-Assisted: yes, detected without a declaration)
    ("AI-Assisted: yes\nAssisted-by: Claude:claude-opus-4-6\n", "", True, False),
    ("Co-authored-by: Claude <noreply@anthropic.com>\n",
     "\n\U0001F916 Generated with [Claude Code](https://claude.com/claude-code)\n", False, True),
    ("AI-Assisted: yes\nCo-authored-by: Claude <noreply@anthropic.com>\n", "", True, False),
    ("Assisted-by: Copilot:gpt-5 vscode\n", "", False, False),
]


class Rng:
    def __init__(self, seed):
        self.s = seed or 1

    def next(self):
        s = self.s
        s ^= (s << 13) & 0xFFFFFFFFFFFFFFFF
        s ^= s >> 7
        s ^= (s << 17) & 0xFFFFFFFFFFFFFFFF
        self.s = s
        return s

    def below(self, n):
        return self.next() % n


def main():
    commits = int(sys.argv[1])
    expected_path = sys.argv[2]
    out = sys.stdout.buffer
    w = out.write
    rng = Rng(0x2545F4914F6CDD1D)
    names = [f"{d}/f{f:02}.txt" for d in DIRS for f in range(FILES_PER_DIR)]
    critical = [any(n.startswith(c + "/") for c in CRITICAL) for n in names]
    files = [[f"{n} line {k}".encode() for k in range(LINES)] for n in names]
    rules = {"ai-critical-paths": 0, "ai-blast-radius": 0, "declare-detected-ai": 0,
             "declare-ai-use": 0}
    expected = {"commits": commits, "merges": 0, "ai_assisted": 0, "rules": rules}
    state = {"made": 0, "mark": 0, "time": BASE_TIME}

    def sentence():
        return " ".join(WORDS[rng.below(len(WORDS))] for _ in range(6 + rng.below(8)))

    def message(subject, ai):
        body = []
        for _ in range(1 + rng.below(4)):
            para = [sentence() for _ in range(1 + rng.below(4))]
            body.append("\n".join(p[:72] for p in para))
        author_name, author_email = state["author"]
        trailers = ""
        r = rng.below(100)
        declares = False
        if ai is None and r < 25:
            trailers += "AI-Assisted: no\n"
            declares = True
        elif ai is None and r < 26:
            trailers += "Assisted-by: Lena Berg <lena.berg@dev3.example.org>\n"
        if rng.below(3) == 0:
            trailers += f"Fixes: {rng.next() & 0xFFFFFFFFFFFF:012x} (\"{sentence()[:40]}\")\n"
        footer = ""
        if ai is not None:
            extra, footer, declares, _ = AI_SHAPES[ai]
            trailers += extra
        for _ in range(rng.below(3)):
            n, e = AUTHORS[rng.below(len(AUTHORS))]
            trailers += f"Reviewed-by: {n} <{e}>\n"
        if rng.below(4) == 0:
            n, e = PEOPLE[rng.below(len(PEOPLE))]
            trailers += f"Acked-by: {n} <{e}>\n"
        if rng.below(6) == 0:
            trailers += f"Tested-by: {AUTHORS[rng.below(len(AUTHORS))][0]} <ci@example.org>\n"
        if rng.below(5) == 0:
            trailers += f"Link: https://lore.example.org/r/{rng.next() & 0xFFFFFFFF:08x}@example.org\n"
        if rng.below(8) == 0:
            trailers += "Cc: stable@example.org\n"
        trailers += f"Signed-off-by: {author_name} <{author_email}>\n"
        return subject + "\n\n" + "\n\n".join(body) + "\n" + footer + "\n" + trailers, declares

    def pick_author():
        r = rng.below(100)
        if r < 6:
            return PEOPLE[r % len(PEOPLE)]
        if r == 6:
            return ("CI Bot", "ci-bot@example.com")
        return AUTHORS[rng.below(len(AUTHORS))]

    def emit(ref, parents, msg, changed):
        state["mark"] += 1
        state["made"] += 1
        state["time"] += 60
        mark = state["mark"]
        name, email = state["author"]
        w(b"commit %s\nmark :%d\n" % (ref.encode(), mark))
        w(f"author {name} <{email}> {state['time']} +0000\n".encode())
        w(f"committer {name} <{email}> {state['time']} +0000\n".encode())
        data = msg.encode()
        w(b"data %d\n%s" % (len(data), data))
        for i, p in enumerate(parents):
            w(b"%s :%d\n" % (b"from" if i == 0 else b"merge", p))
        for f in changed:
            data = b"\n".join(files[f]) + b"\n"
            w(b"M 644 inline %s\ndata %d\n%s\n" % (names[f].encode(), len(data), data))
        return mark

    def change(picked, i):
        for f in picked:
            s = rng.next()
            lines = files[f]
            lines[s % len(lines)] = f"{names[f]} c{i} {s % 1000}".encode()
            if (s >> 12) % 4 == 0 and len(lines) < MAX_LINES:
                lines.append(f"appended by {i}".encode())

    def commit(ref, parent, avoid):
        i = state["made"] + 1
        state["author"] = pick_author()
        ai = rng.below(100) == 0
        shape = rng.below(len(AI_SHAPES)) if ai else None
        count = 60 if ai and rng.below(40) == 0 else 1 + rng.below(5)
        want_critical = ai and rng.below(5) < 2
        picked = []
        while len(picked) < count:
            f = rng.below(len(names))
            if f in picked or f in avoid:
                continue
            if ai and count < 60 and critical[f] != want_critical:
                continue
            picked.append(f)
        change(picked, i)
        msg, declares = message(f"{DIRS[rng.below(len(DIRS))]}: {sentence()[:50]}", shape)
        if not declares:
            rules["declare-ai-use"] += 1
        if ai:
            expected["ai_assisted"] += 1
            if any(critical[f] for f in picked):
                rules["ai-critical-paths"] += 1
            if count == 60:
                rules["ai-blast-radius"] += 1
            if AI_SHAPES[shape][3]:
                rules["declare-detected-ai"] += 1
        return emit(ref, [parent] if parent else [], msg, picked), picked

    # The root: every file.
    state["author"] = PEOPLE[0]
    msg = "Initial import\n\nSigned-off-by: Alice Senior <alice@example.com>\n"
    rules["declare-ai-use"] += 1
    tip = emit("refs/heads/main", [], msg, range(len(names)))
    topic = 0
    while state["made"] < commits:
        left = commits - state["made"]
        if left >= 3 and rng.below(15) == 0:
            # A topic branch of 1-4 commits, main moving meanwhile, a merge.
            topic += 1
            n = min(1 + rng.below(4), left - 2)
            side, side_files = tip, set()
            for _ in range(n):
                side, picked = commit("refs/heads/topic", side, set())
                side_files.update(picked)
            for _ in range(min(rng.below(3), commits - state["made"] - 1)):
                tip, _ = commit("refs/heads/main", tip, side_files)
            state["author"] = PEOPLE[rng.below(3)]
            msg = f"Merge branch 'topic-{topic}'\n\n* topic-{topic}:\n  {sentence()[:60]}\n"
            rules["declare-ai-use"] += 1
            expected["merges"] += 1
            tip = emit("refs/heads/main", [tip, side], msg, sorted(side_files))
        else:
            tip, _ = commit("refs/heads/main", tip, set())
    with open(expected_path, "w") as fh:
        json.dump(expected, fh)


if __name__ == "__main__":
    main()
