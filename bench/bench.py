#!/usr/bin/env python3
"""trailgate against git, in the same run, on the same repositories (issue 7).

Run it through bench/run.sh, which builds the binary first:

    bench/run.sh --quick      # 1,000/2,000 commits, 500 refs; seconds; what CI runs
    bench/run.sh --full       # 1,000 / 100,000 / 1,000,000 commits, 10,000 refs
    bench/run.sh --full --max-commits 100000   # leave the 1M history out
    bench/run.sh --full --max-commits 100000 --object-format sha256 --ref-format reftable
    bench/run.sh --full --example-1m   # also the example policy on 1,000,000 commits

Target E (issue 15) runs `config.example.toml` unchanged on a realistic
history (bench/gen_real.py: merges, long messages with several trailers,
about 1% AI-assisted commits, approved and unapproved, 400 authors), pushed
with `REMOTE_USER=alice` as an HTTP host names the pusher, so that pusher
proofs are judged: 2,000 commits with --quick, 100,000 with --full, and
1,000,000 with --full --example-1m. Its violations per rule must equal the
generator's, which bench.py also checks against git's own counts (commits,
merges, and commits without `AI-Assisted: yes|no` by git's trailer parser).

Every whole-history target also reports the physical limit: `git rev-list
NEW --not --all | git cat-file --batch --buffer` in the same quarantine
(reading the new commit objects and nothing else; `--buffer` so that it does
not flush the pipe after every object), and trailgate's ratio to it.

How the comparison is kept fair: trailgate and the git command are both run
by the same measuring pre-receive hook (bench/hook.py) inside one real
`git push` into an empty bare repository, so both read the same freshly
received, quarantined pack with the same environment and working directory,
neither has a commit-graph or any cache for the new commits, and both run
with a warm page cache (a checked first run of each comes before the timed
ones). Runs are interleaved in a rotating order and the median of at least
five is reported. Both write their output into a pipe that the hook drains.
The hook refuses the push, so nothing is stored and the next case starts
from the same state. Peak memory is each process's own max RSS (GNU time
around the checked run).

Target 4 is measured from outside instead: the whole `git push` of one
commit with the project's shim (hooks/pre-receive) running trailgate, against
the same push with a hook that only reads stdin, alternating.

Histories are generated once by bench/gen.py (git fast-import) and cached in
target/bench-cache/. Correctness: trailgate's decision, `commits_checked` and
number of violations must equal what the generator and
`git rev-list --count NEW --not --all` say; any mismatch fails the run
(exit 1). Timings are never asserted.
"""

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

POLICY_HEAD = """version = 1
[settings]
max_commits = 0
[people.alice]
name = "Alice Senior"
emails = ["alice@example.com"]
[people.bob]
name = "Bob Senior"
emails = ["bob@example.com"]
[groups]
senior = ["alice", "bob"]
[[rule]]
name = "ai-needs-senior-approval"
message = "AI-assisted changes need a senior's sign-off."
when = { ai_assisted = true, author_not_in = ["senior"] }
require = { approvals = { from = ["senior"] } }
"""

POLICIES = {
    # Target 1 and 5: trailer rules only.
    "trailers": POLICY_HEAD,
    # Target 2: plus a path rule (`touches`, `max_files_changed`).
    "paths": POLICY_HEAD + """[[rule]]
name = "d07-small"
message = "Changes to d07 stay small."
when = { touches = ["d07/**"] }
require = { max_files_changed = 3 }
""",
    # Target 3: plus a line limit.
    "lines": POLICY_HEAD + """[[rule]]
name = "small-commits"
message = "Commits stay small."
require = { max_lines_added = 6 }
""",
}

GIT_COMMANDS = {
    "trailers": ["git", "log", "--format=%B", "{new}", "--not", "--all"],
    "paths": ["git", "log", "--name-only", "--no-renames", "--format=%H", "{new}", "--not", "--all"],
    "lines": ["git", "log", "--numstat", "--no-renames", "--format=%H", "{new}", "--not", "--all"],
    "example": ["git", "log", "--format=%B", "{new}", "--not", "--all"],
}

failures = []


def log(msg):
    print(msg, flush=True)


def git(*args, cwd=None, check=True, env=None, capture=True, stdin=None):
    r = subprocess.run(["git", *args], cwd=cwd, env=env, stdin=stdin,
                       stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                       stderr=subprocess.PIPE if capture else subprocess.DEVNULL)
    if check and r.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {r.stderr.decode(errors='replace')}")
    return r.stdout.decode().strip() if capture else ""


def history(cache, commits, refs):
    """A bare repository holding the generated history (cached), in the
    formats --object-format and --ref-format chose (GIT_DEFAULT_HASH and
    GIT_DEFAULT_REF_FORMAT, which every `git init` here follows)."""
    with open(os.path.join(HERE, "gen.py"), "rb") as fh:
        tag = hashlib.sha256(fh.read()).hexdigest()[:10]
    formats = f"{os.environ['GIT_DEFAULT_HASH']}-{os.environ['GIT_DEFAULT_REF_FORMAT']}"
    suffix = "" if formats == "sha1-files" else f"-{formats}"
    path = os.path.join(cache, f"{tag}-{commits}-{refs}{suffix}")
    repo = os.path.join(path, "repo.git")
    expected = os.path.join(path, "expected.json")
    if not os.path.exists(os.path.join(path, "done")):
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        log(f"generating {commits} commits, {refs} refs ...")
        t0 = time.time()
        git("init", "-q", "--bare", "--initial-branch=main", repo)
        gen = subprocess.Popen([sys.executable, os.path.join(HERE, "gen.py"), str(commits), str(refs), expected],
                               stdout=subprocess.PIPE)
        imp = subprocess.run(["git", "-C", repo, "fast-import", "--quiet"], stdin=gen.stdout)
        gen.stdout.close()
        if gen.wait() != 0 or imp.returncode != 0:
            raise SystemExit("generating the history failed")
        # A server as it looks after routine maintenance: packed refs and a
        # commit-graph (target 4 runs against a copy of it).
        git("-C", repo, "pack-refs", "--all")
        git("-C", repo, "commit-graph", "write", "--reachable")
        open(os.path.join(path, "done"), "w").close()
        log(f"  generated in {time.time() - t0:.1f} s")
    with open(expected) as fh:
        return repo, json.load(fh)


def history_real(cache, commits):
    """A bare repository holding bench/gen_real.py's realistic history
    (cached), checked against git's own answers once when generated."""
    with open(os.path.join(HERE, "gen_real.py"), "rb") as fh:
        tag = hashlib.sha256(fh.read()).hexdigest()[:10]
    formats = f"{os.environ['GIT_DEFAULT_HASH']}-{os.environ['GIT_DEFAULT_REF_FORMAT']}"
    suffix = "" if formats == "sha1-files" else f"-{formats}"
    path = os.path.join(cache, f"real-{tag}-{commits}{suffix}")
    repo = os.path.join(path, "repo.git")
    expected = os.path.join(path, "expected.json")
    if not os.path.exists(os.path.join(path, "done")):
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        log(f"generating a realistic history of {commits} commits ...")
        t0 = time.time()
        git("init", "-q", "--bare", "--initial-branch=main", repo)
        gen = subprocess.Popen([sys.executable, os.path.join(HERE, "gen_real.py"), str(commits), expected],
                               stdout=subprocess.PIPE)
        imp = subprocess.run(["git", "-C", repo, "fast-import", "--quiet"], stdin=gen.stdout)
        gen.stdout.close()
        if gen.wait() != 0 or imp.returncode != 0:
            raise SystemExit("generating the history failed")
        git("-C", repo, "pack-refs", "--all")
        open(os.path.join(path, "done"), "w").close()
        log(f"  generated in {time.time() - t0:.1f} s")
    with open(expected) as fh:
        exp = json.load(fh)
    # Git is the oracle: the generator's own account of its history must
    # match what git reads from it (commit and merge counts, and the
    # commits without `AI-Assisted: yes|no` in the trailer block as git's
    # trailer parser finds it), on every run.
    count = int(git("-C", repo, "rev-list", "--count", "main"))
    merges = int(git("-C", repo, "rev-list", "--count", "--merges", "main"))
    values = git("-C", repo, "log", "--format=%x01%(trailers:key=AI-Assisted,valueonly,separator=%x02)", "main")
    undeclared = sum(1 for entry in values.split("\x01")[1:]
                     if not any(v.strip().lower() in ("yes", "no") for v in entry.strip().split("\x02")))
    for what, got, want in (("commits", count, exp["commits"]), ("merges", merges, exp["merges"]),
                            ("commits without AI-Assisted: yes|no", undeclared, exp["rules"]["declare-ai-use"])):
        if got != want:
            failures.append(f"realistic history: git counts {got} {what}, the generator {want}")
    return repo, exp


def write_policies(tmp):
    paths = {"example": os.path.join(ROOT, "config.example.toml")}
    for name, text in POLICIES.items():
        p = os.path.join(tmp, f"policy-{name}.toml")
        with open(p, "w") as fh:
            fh.write(text)
        paths[name] = p
    return paths


def measured_push(tmp, source, spec, server, plan, runs, label, extra_env=None):
    """Pushes `spec` from `source` into `server` with bench/hook.py as the
    pre-receive hook running `plan`; returns the hook's results."""
    hook = os.path.join(server, "hooks", "pre-receive")
    shutil.copy(os.path.join(HERE, "hook.py"), hook)
    os.chmod(hook, 0o755)
    plan_path = os.path.join(tmp, f"plan-{label}.json")
    out_path = os.path.join(tmp, f"out-{label}.json")
    with open(plan_path, "w") as fh:
        json.dump({"runs": runs, "cases": plan}, fh)
    env = dict(os.environ, BENCH_PLAN=plan_path, BENCH_OUT=out_path, BENCH_EXIT="1", **(extra_env or {}))
    r = subprocess.run(["git", "-C", source, "push", "-q", server, spec],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if not os.path.exists(out_path):
        raise SystemExit(f"{label}: the measuring hook did not run: {r.stderr.decode(errors='replace')}")
    with open(out_path) as fh:
        return json.load(fh)


def summary(case):
    times = [r["seconds"] for r in case["runs"]]
    cpu = [r["cpu"] for r in case["runs"]]
    rss = case["check"]["max_rss_kb"]
    return statistics.median(times), rss, statistics.median(cpu)


def check_verdict(label, result, expected_decision, expected_commits, expected_violations):
    out = result["check"]
    try:
        j = json.loads(out["stdout"])
    except (ValueError, TypeError):
        failures.append(f"{label}: trailgate printed no JSON (exit {out['exit']}): {out['stderr'][:500]}")
        return "FAIL"
    problems = []
    if j["decision"] != expected_decision:
        problems.append(f"decision {j['decision']}, expected {expected_decision}")
    if j["commits_checked"] != expected_commits:
        problems.append(f"commits_checked {j['commits_checked']}, expected {expected_commits}")
    # The report lists the first violations of each rule and counts the
    # rest (`rule_counts`), so compare the counts, not the list's length.
    found = sum(rule_counts(j).values())
    if expected_violations is not None and found != expected_violations:
        problems.append(f"{found} violations, expected {expected_violations}")
    want_exit = 1 if expected_decision == "reject" else 0
    if out["exit"] != want_exit:
        problems.append(f"exit {out['exit']}, expected {want_exit}")
    if problems:
        failures.append(f"{label}: " + "; ".join(problems))
        return "FAIL"
    return "ok"


rows = []

# The physical limit beside every whole-history target (issue 15): reading
# the new commit objects and nothing else. `--buffer`: without it cat-file
# flushes its output after every object, 100,000 writes into the hook's
# pipe, which measures the pipe rather than the reading (on the cached
# 100,000-commit repository, outside a quarantine: 0.55 s without, 0.41 s
# with, git log --format=%B 0.55 s).
LIMIT_COMMAND = ["sh", "-c", "git rev-list {new} --not --all | git cat-file --batch --buffer"]


def row(target, what, tg, gitres, verdict, limit, phys=None):
    tg_s, tg_rss, tg_cpu = tg
    g_s, g_rss, g_cpu = gitres
    ratio = tg_s / g_s if g_s else float("inf")
    cpu_ratio = tg_cpu / g_cpu if g_cpu else float("nan")
    phys_s = phys[0] if phys else None
    rows.append((target, what, tg_s, g_s, ratio, tg_rss, g_rss, verdict, limit, cpu_ratio, phys_s))
    extra = f", limit {phys_s * 1000:.1f} ms (trailgate / limit {tg_s / phys_s:.3f})" if phys_s else ""
    log(f"  {target}: trailgate {tg_s * 1000:.1f} ms, git {g_s * 1000:.1f} ms, ratio {ratio:.3f} "
        f"(target {limit}; CPU ratio {cpu_ratio:.3f}), RSS {tg_rss / 1024:.1f} / {g_rss / 1024:.1f} MiB{extra}, {verdict}")


def initial_push(tmp, bin_, policies, source, expected, runs, targets, label, extra_env=None):
    """Targets 1-3 (and 5, and the example policy's): the whole history
    pushed into an empty repository, with the physical limit measured in the
    same run."""
    server = os.path.join(tmp, f"server-{label}.git")
    git("init", "-q", "--bare", "--initial-branch=main", server)
    plan = [{"name": "rev-list-count", "argv": ["git", "rev-list", "--count", "{new}", "--not", "--all"],
             "check_only": True},
            {"name": "limit", "argv": LIMIT_COMMAND, "discard_stdout": True}]
    for kind in targets:
        plan.append({"name": f"tg-{kind}", "stdin": True,
                     "argv": [bin_, "pre-receive", "--config", policies[kind], "--format", "json"]})
        plan.append({"name": f"git-{kind}", "argv": GIT_COMMANDS[kind], "discard_stdout": True})
    log(f"pushing {expected['commits']} commits into an empty repository (measuring {', '.join(targets)}) ...")
    res = measured_push(tmp, source, "main:refs/heads/main", server, plan, runs, label, extra_env)
    count = int(res["cases"]["rev-list-count"]["check"]["stdout"].strip() or -1)
    if count != expected["commits"]:
        failures.append(f"{label}: git rev-list --count says {count}, generator made {expected['commits']}")
    shutil.rmtree(server)
    return res, count


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small histories, for CI (default)")
    mode.add_argument("--full", action="store_true", help="the issue's sizes")
    ap.add_argument("--bin", required=True, help="the trailgate binary")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per case (median reported)")
    ap.add_argument("--max-commits", type=int, default=None, help="leave out histories larger than this")
    ap.add_argument("--only-example", action="store_true",
                    help="run only target E (and E1M with --example-1m), e.g. to profile it")
    ap.add_argument("--example-1m", action="store_true",
                    help="with --full: also the example policy on a 1,000,000-commit realistic history")
    ap.add_argument("--cache", default=os.path.join(ROOT, "target", "bench-cache"))
    ap.add_argument("--object-format", choices=["sha1", "sha256"], default="sha1",
                    help="object names of every repository the benchmark creates")
    ap.add_argument("--ref-format", choices=["files", "reftable"], default="files",
                    help="ref storage of every repository the benchmark creates")
    args = ap.parse_args()
    if args.runs < 1:
        raise SystemExit("--runs must be at least 1")
    bin_ = os.path.abspath(args.bin)
    full = args.full
    small, medium, large, nrefs = (1000, 100_000, 1_000_000, 10_000) if full else (1000, 2000, None, 500)
    if args.max_commits is not None and large and large > args.max_commits:
        large = None

    tmp = tempfile.mkdtemp(prefix="trailgate-bench-")
    home = os.path.join(tmp, "home")
    os.makedirs(home)
    os.environ.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null", HOME=home,
                      GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.com",
                      GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.com",
                      LC_ALL="C", GIT_DEFAULT_HASH=args.object_format,
                      GIT_DEFAULT_REF_FORMAT=args.ref_format)
    log(f"repositories: {args.object_format} objects, {args.ref_format} refs")
    for var in ("TRAILGATE_CONFIG", "GL_USERNAME", "GITHUB_USER_LOGIN", "GITEA_PUSHER_NAME",
                "GL_USER", "REMOTE_USER", "GL_ID", "GL_PROTOCOL"):
        os.environ.pop(var, None)
    policies = write_policies(tmp)
    try:
        if not args.only_example:
            others(tmp, bin_, policies, args, small, medium, large, nrefs)
        # Target E: config.example.toml unchanged, on a realistic history
        # (issue 15), pushed by a senior as a host names the pusher.
        example_target(tmp, bin_, policies, args.cache, medium if full else 2000, args.runs, "E")
        if full and args.example_1m:
            example_target(tmp, bin_, policies, args.cache, 1_000_000, args.runs, "E1M")
        elif full:
            log("target E1M (example policy, 1,000,000 commits) left out: add --example-1m")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print_table()


def others(tmp, bin_, policies, args, small, medium, large, nrefs):
    """Targets 1-6."""
    # Targets 1-3: initial push of the medium history.
    source, expected = history(args.cache, medium, nrefs)
    res, count = initial_push(tmp, bin_, policies, source, expected, args.runs,
                              ["trailers", "paths", "lines"], "medium")
    c = res["cases"]
    want = {"trailers": expected["trailers"],
            "paths": expected["trailers"] + expected["paths"],
            "lines": expected["trailers"] + expected["lines"]}
    for n, kind, limit in ((1, "trailers", "<= 1.0"), (2, "paths", "<= 1.0"), (3, "lines", "<= 1.0")):
        v = check_verdict(f"target {n}", c[f"tg-{kind}"], "reject", count, want[kind])
        row(f"{n}", f"initial push, {medium} commits, {kind} policy vs {' '.join(GIT_COMMANDS[kind][:4])}",
            summary(c[f"tg-{kind}"]), summary(c[f"git-{kind}"]), v, limit, summary(c["limit"]))

    # Target 4: one commit onto the medium history with many refs.
    target4(tmp, bin_, policies, source, medium, nrefs, args.runs)

    # Target 5: initial push of the large history.
    if large:
        src5, exp5 = history(args.cache, large, 0)
        res5, count5 = initial_push(tmp, bin_, policies, src5, exp5, args.runs, ["trailers"], "large")
        v = check_verdict("target 5", res5["cases"]["tg-trailers"], "reject", count5, exp5["trailers"])
        row("5", f"initial push, {large} commits, trailers policy vs git log --format=%B",
            summary(res5["cases"]["tg-trailers"]), summary(res5["cases"]["git-trailers"]), v,
            "<= 1.0, RSS <= git", summary(res5["cases"]["limit"]))
    else:
        log("target 5 (1,000,000 commits) left out (--quick or --max-commits)")

    # Target 6: a small push: one commit onto the small history.
    target6(tmp, bin_, policies, small, args)


def print_table():
    print()
    print("wall time medians; ratio = trailgate / git; cpu = the same ratio of user+sys CPU time,")
    print("which a loaded machine disturbs less")
    print("limit = the physical limit, `git rev-list NEW --not --all | git cat-file --batch --buffer`; tg/lim = trailgate / it")
    print(f"{'target':<7}{'trailgate':>12}{'git':>12}{'ratio':>8}{'cpu':>7}{'limit':>12}{'tg/lim':>8}"
          f"{'RSS tg MiB':>12}{'RSS git MiB':>12}  verdicts  goal / what")
    for target, what, tg_s, g_s, ratio, tg_rss, g_rss, verdict, limit, cpu_ratio, phys_s in rows:
        mib = lambda kb: f"{kb / 1024:>12.1f}" if kb else f"{'-':>12}"
        lim = f"{phys_s * 1000:>10.1f}ms{tg_s / phys_s:>8.3f}" if phys_s else f"{'-':>12}{'-':>8}"
        print(f"{target:<7}{tg_s * 1000:>10.1f}ms{g_s * 1000:>10.1f}ms{ratio:>8.3f}{cpu_ratio:>7.3f}{lim}"
              f"{mib(tg_rss)}{mib(g_rss)}  {verdict:<8}  {limit}: {what}")
    if failures:
        print("\nCORRECTNESS FAILURES:")
        for f in failures:
            print(f"  {f}")
        sys.exit(1)
    print("\nall verdicts and commit counts as expected")


def rule_counts(j):
    """Violations per rule in trailgate's JSON: `rule_counts` where the
    report carries it (it keeps only the first violations of each rule),
    else the violations listed."""
    counts = {}
    if isinstance(j.get("rule_counts"), list):
        for entry in j["rule_counts"]:
            counts[entry["rule"]] = counts.get(entry["rule"], 0) + entry["violations"]
        return counts
    for v in j["violations"]:
        counts[v["rule"]] = counts.get(v["rule"], 0) + 1
    return counts


def example_target(tmp, bin_, policies, cache, commits, runs, label):
    source, expected = history_real(cache, commits)
    pusher = {"REMOTE_USER": "alice"}
    res, count = initial_push(tmp, bin_, policies, source, expected, runs, ["example"], f"example-{label}", pusher)
    c = res["cases"]
    v = check_verdict(f"target {label}", c["tg-example"], "reject", count, None)
    if v == "ok":
        got = rule_counts(json.loads(c["tg-example"]["check"]["stdout"]))
        want = {k: n for k, n in expected["rules"].items() if n}
        if got != want:
            failures.append(f"target {label}: violations per rule {got}, expected {want}")
            v = "FAIL"
    row(label, f"initial push, {commits} commits (realistic, {expected['merges']} merges, "
               f"{expected['ai_assisted']} AI-assisted), config.example.toml, pusher alice, vs git log --format=%B",
        summary(c["tg-example"]), summary(c["git-example"]), v, "<= 1.0, RSS <= git", summary(c["limit"]))


def new_commit(repo, parent, n):
    """A one-commit child of `parent` in `repo`, with trailers that pass."""
    tree = git("-C", repo, "rev-parse", f"{parent}^{{tree}}")
    msg = f"Bench push {n}\n\nAI-Assisted: yes\nApproved-By: Alice Senior <alice@example.com>\n"
    return git("-C", repo, "commit-tree", tree, "-p", parent, "-m", msg)


def target4(tmp, bin_, policies, source, commits, nrefs, runs):
    server = os.path.join(tmp, "server-refs.git")
    log(f"copying the {commits}-commit repository with {nrefs} refs ...")
    shutil.copytree(source, server, symlinks=True)
    nref = len(git("-C", server, "for-each-ref", "--format=x").splitlines())
    cat_hook = os.path.join(tmp, "cat-hook")
    with open(cat_hook, "w") as fh:
        fh.write("#!/bin/sh\ncat >/dev/null\n")
    os.chmod(cat_hook, 0o755)
    shim = os.path.join(ROOT, "hooks", "pre-receive")
    hook = os.path.join(server, "hooks", "pre-receive")
    env = dict(os.environ, TRAILGATE_BIN=bin_, TRAILGATE_CONFIG=policies["trailers"])
    times = {"cat": [], "tg": []}
    tip = git("-C", server, "rev-parse", "main")
    n = 0
    ok = True
    # A whole push moves by several milliseconds from run to run on a busy
    # machine, more than the hook costs: at least 15 alternating rounds.
    for round_ in range(max(runs, 15) + 1):
        for kind in (("cat", "tg") if round_ % 2 == 0 else ("tg", "cat")):
            shutil.copy(cat_hook if kind == "cat" else shim, hook)
            os.chmod(hook, 0o755)
            n += 1
            new = new_commit(source, tip, n)
            t0 = time.perf_counter()
            r = subprocess.run(["git", "-C", source, "push", "-q", server, f"{new}:refs/heads/main"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            elapsed = time.perf_counter() - t0
            if r.returncode != 0:
                ok = False
                failures.append(f"target 4: push with the {kind} hook failed: {r.stderr.decode(errors='replace')[:500]}")
            else:
                tip = new
            if round_ > 0:  # the first round warms up
                times[kind].append(elapsed)
    # The hook alone on the same kind of push, inside the quarantine, against
    # git's own walk over the same refs.
    new = new_commit(source, tip, n + 1)
    plan = [
        {"name": "tg", "stdin": True,
         "argv": [bin_, "pre-receive", "--config", policies["trailers"], "--format", "json"]},
        {"name": "git", "argv": GIT_COMMANDS["trailers"]},
    ]
    res = measured_push(tmp, source, f"{new}:refs/heads/main", server, plan, runs, "refs")
    v = check_verdict("target 4 (hook only)", res["cases"]["tg"], "accept", 1, 0)
    tg = (statistics.median(times["tg"]), 0, 0)
    cat = (statistics.median(times["cat"]), 0, 0)
    row("4", f"git push of 1 commit onto {commits} commits, {nref} refs: shim+trailgate vs cat hook",
        tg, cat, "ok" if ok else "FAIL", "<= 1.1")
    row("4b", f"same push, hook alone: trailgate vs git log --format=%B NEW --not --all",
        summary(res["cases"]["tg"]), summary(res["cases"]["git"]), v, "info")
    shutil.rmtree(server)


def target6(tmp, bin_, policies, commits, args):
    source, expected = history(args.cache, commits, 0)
    server = os.path.join(tmp, "server-small.git")
    git("init", "-q", "--bare", "--initial-branch=main", server)
    git("-C", source, "push", "-q", server, "main:refs/heads/main")
    tip = git("-C", server, "rev-parse", "main")
    new = new_commit(source, tip, 1)
    plan = [
        {"name": "tg", "stdin": True,
         "argv": [bin_, "pre-receive", "--config", policies["trailers"], "--format", "json"]},
        {"name": "tg-check", "argv": [bin_, "check", "--config", policies["trailers"]]},
        {"name": "tg-version", "argv": [bin_, "--version"]},
        {"name": "git", "argv": GIT_COMMANDS["trailers"]},
    ]
    res = measured_push(tmp, source, f"{new}:refs/heads/main", server, plan, max(args.runs, 9), "small")
    c = res["cases"]
    v = check_verdict("target 6", c["tg"], "accept", 1, 0)
    row("6", f"1-commit push onto {commits} commits: whole trailgate hook (start, policy, repo, walk, report)",
        summary(c["tg"]), summary(c["git"]), v, "<= 5 ms absolute")
    row("6a", "  of which process start + policy load (trailgate check)", summary(c["tg-check"]),
        summary(c["git"]), "-", "info")
    row("6b", "  of which process start (trailgate --version)", summary(c["tg-version"]),
        summary(c["git"]), "-", "info")
    shutil.rmtree(server)


if __name__ == "__main__":
    main()
