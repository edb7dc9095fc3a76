#!/usr/bin/env python3
"""Measuring pre-receive hook for bench/bench.py.

Installed as a bare repository's `hooks/pre-receive`, so that what it runs
sees the push exactly as a real hook does: the quarantine directory
(GIT_QUARANTINE_PATH, GIT_OBJECT_DIRECTORY, GIT_ALTERNATE_OBJECT_DIRECTORIES),
the repository as working directory, git's ref-update lines on stdin.

It reads the plan named by $BENCH_PLAN: a list of cases, each an argv in which
`{new}` and `{old}` stand for the first ref update's ids. Every case runs once
with its output kept (the correctness check, which also warms the page
cache), then all cases run `runs` more times, interleaved and in a rotating
order so that drift (cache, CPU frequency) hits every case alike. Each run is
timed from fork to reaping (os.wait4); peak RSS comes from the checked run;
its stdout is drained through a pipe by this process for every case alike.
Results go to $BENCH_OUT as JSON. The hook then exits with $BENCH_EXIT
(1 by default: the push is refused, so the server stays as it was and the
same push can be measured again).
"""

import json
import os
import subprocess
import sys
import time


def run(argv, stdin_path, keep_stdout, discard_stdout=False):
    rss_path = os.environ["BENCH_OUT"] + ".rss"
    if keep_stdout:
        # Peak memory comes from GNU time around the checked run: a child
        # forked from this Python process would inherit its high-water mark
        # through exec (Linux keeps the larger of the two), and time's own
        # few hundred KiB make a much lower floor.
        argv = ["/usr/bin/time", "-f", "%M", "-o", rss_path, *argv]
    with open(stdin_path, "rb") as stdin:
        start = time.perf_counter()
        p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE if keep_stdout else subprocess.DEVNULL)
        # Chunks are joined once at the end: `out += chunk` copies the whole
        # output each time, quadratic in it, and the 1,000,000-commit
        # targets' checked runs print hundreds of MiB.
        chunks = []
        while True:
            chunk = p.stdout.read(1 << 16)
            if not chunk:
                break
            if keep_stdout and not discard_stdout:
                chunks.append(chunk)
        out = b"".join(chunks)
        err = p.stderr.read() if keep_stdout else b""
        _, status, usage = os.wait4(p.pid, 0)
        elapsed = time.perf_counter() - start
        p.returncode = os.waitstatus_to_exitcode(status)
        p.stdout.close()
        if p.stderr:
            p.stderr.close()
    rss = usage.ru_maxrss
    if keep_stdout:
        with open(rss_path) as fh:
            rss = int(fh.read().split()[-1])
    return {
        "seconds": elapsed,
        "cpu": usage.ru_utime + usage.ru_stime,
        "max_rss_kb": rss,
        "exit": p.returncode,
        "stdout": out.decode("utf-8", "replace") if keep_stdout else None,
        "stderr": err.decode("utf-8", "replace") if keep_stdout else None,
    }


def main():
    with open(os.environ["BENCH_PLAN"]) as fh:
        plan = json.load(fh)
    stdin_path = os.environ["BENCH_OUT"] + ".stdin"
    data = sys.stdin.buffer.read()
    with open(stdin_path, "wb") as fh:
        fh.write(data)
    first = data.split(b"\n", 1)[0].split(b" ")
    old, new = first[0].decode(), first[1].decode()
    cases = plan["cases"]
    argvs = [[a.replace("{new}", new).replace("{old}", old) for a in c["argv"]] for c in cases]
    results = {"new": new, "old": old, "cases": {}}
    for case, argv in zip(cases, argvs):
        # A case whose output nobody reads (git's own commands, the limit)
        # is drained but not kept: at 1,000,000 commits it is hundreds of MiB.
        r = run(argv, stdin_path if case.get("stdin") else os.devnull, True,
                case.get("discard_stdout", False))
        results["cases"][case["name"]] = {"check": r, "runs": []}
    for round_ in range(plan["runs"]):
        order = list(range(len(cases)))
        order = order[round_ % len(order):] + order[:round_ % len(order)]
        for i in order:
            if cases[i].get("check_only"):
                continue
            r = run(argvs[i], stdin_path if cases[i].get("stdin") else os.devnull, False)
            results["cases"][cases[i]["name"]]["runs"].append(r)
    with open(os.environ["BENCH_OUT"], "w") as fh:
        json.dump(results, fh)
    sys.exit(int(os.environ.get("BENCH_EXIT", "1")))


if __name__ == "__main__":
    main()
