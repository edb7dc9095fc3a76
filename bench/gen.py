#!/usr/bin/env python3
"""Deterministic history generator for bench/bench.py, as a `git fast-import`
stream on stdout, with the expected verdicts as JSON in a side file.

    gen.py COMMITS REFS EXPECTED.json > stream

A linear history on refs/heads/main: the root commit adds 2,000 files in 50
directories (d00/f00.txt .. d49/f39.txt, 8 lines each); every later commit
changes 1-5 files (replaces one line, and in a quarter of the cases also
appends one, up to 16 lines a file). About 30% of the messages end in a
trailer block. REFS branches and tags (half branches `refs/heads/topic/N`, a
quarter lightweight and a quarter annotated tags `refs/tags/vN`) point at
commits spread over the history.

The generator knows what every commit changes, so it also writes what the
benchmark policies must find (bench/bench.py holds the policies):

- trailers: commits with `AI-Assisted: yes` and no senior approval;
- paths: commits that touch d07/ and change more than 3 files;
- lines: commits that add more than 6 lines.

A private xorshift generator keeps the output identical on every Python.
"""

import json
import sys

DIRS = 50
FILES_PER_DIR = 40
LINES = 8
MAX_LINES = 16
BASE_TIME = 1_600_000_000


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


def main():
    commits = int(sys.argv[1])
    refs = int(sys.argv[2])
    expected_path = sys.argv[3]
    out = sys.stdout.buffer
    rng = Rng(0x9E3779B97F4A7C15)
    names = [f"d{d:02}/f{f:02}.txt" for d in range(DIRS) for f in range(FILES_PER_DIR)]
    files = [[f"{n} line {k}".encode() for k in range(LINES)] for n in names]
    expected = {"commits": commits, "trailers": 0, "paths": 0, "lines": 0}
    w = out.write

    def blob(lines):
        data = b"\n".join(lines) + b"\n"
        return b"data %d\n%s\n" % (len(data), data)

    for i in range(1, commits + 1):
        r = rng.next()
        when = BASE_TIME + i * 60
        author = f"Dev {r % 20} <dev{r % 20}@example.com>"
        kind = (r >> 8) % 100
        subject = f"Change {i}: adjust module {(r >> 16) % 97}"
        body = f"\n\nWhy: keeps {i % 13} callers in step.\n" if (r >> 24) % 2 else "\n"
        if kind < 12:
            trailers = "AI-Assisted: yes\nApproved-By: Alice Senior <alice@example.com>\n"
        elif kind < 15:
            trailers = f"AI-Assisted: yes\nSigned-off-by: {author}\n"
            expected["trailers"] += 1
        elif kind < 23:
            trailers = f"AI-Assisted: no\nSigned-off-by: {author}\n"
        elif kind < 30:
            trailers = f"Reviewed-by: Bob Senior <bob@example.com>\nSigned-off-by: {author}\n"
        else:
            trailers = ""
        if i == 1:
            msg = "Initial tree\n"
        else:
            msg = subject + body + ("\n" + trailers if trailers else "")
        msg = msg.encode()
        w(b"commit refs/heads/main\nmark :%d\n" % i)
        w(f"author {author} {when} +0000\ncommitter {author} {when} +0000\n".encode())
        w(b"data %d\n%s" % (len(msg), msg))
        if i == 1:
            for n, lines in zip(names, files):
                w(b"M 644 inline %s\n" % n.encode())
                w(blob(lines))
            expected["paths"] += 1
            expected["lines"] += 1
            continue
        w(b"from :%d\n" % (i - 1))
        count = 1 + r % 5
        picked = []
        while len(picked) < count:
            f = rng.next() % len(names)
            if f not in picked:
                picked.append(f)
        added = 0
        for f in picked:
            s = rng.next()
            lines = files[f]
            lines[s % len(lines)] = f"{names[f]} c{i} {s % 1000}".encode()
            added += 1
            if (s >> 12) % 4 == 0 and len(lines) < MAX_LINES:
                lines.append(f"appended by {i}".encode())
                added += 1
            w(b"M 644 inline %s\n" % names[f].encode())
            w(blob(lines))
        if count > 3 and any(names[f].startswith("d07/") for f in picked):
            expected["paths"] += 1
        if added > 6:
            expected["lines"] += 1

    for n in range(refs):
        target = 1 + (n * 7919) % commits
        if n % 2 == 0:
            w(b"reset refs/heads/topic/%d\nfrom :%d\n\n" % (n, target))
        elif n % 4 == 1:
            w(b"reset refs/tags/v%d\nfrom :%d\n\n" % (n, target))
        else:
            msg = f"Release {n}\n".encode()
            w(b"tag v%d-annotated\nfrom :%d\n" % (n, target))
            w(b"tagger Bench <bench@example.com> %d +0000\n" % (BASE_TIME + n))
            w(b"data %d\n%s\n" % (len(msg), msg))
    with open(expected_path, "w") as fh:
        json.dump(expected, fh)


if __name__ == "__main__":
    main()
