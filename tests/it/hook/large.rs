//! A push large enough that its commits are judged on a second thread while
//! the walk reads them (`parallel::judge_while_reading`), or diffed on other
//! threads while it reads them (`parallel::Ahead`): the verdicts, their order
//! and the counts must be those of judging the commits one by one, and git
//! says which commits should fail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::path::Path;

use crate::support::*;

const RULE: &str = "ai-needs-senior-approval";
/// Well past the commits judged on the walk's own thread before a second
/// one takes over.
const COMMITS: usize = 3000;

/// A rule that judges commits but never fires: with it, no rule is alone
/// and every commit is judged the one-by-one way.
const NEVER: &str = r#"
[[rule]]
name = "never"
message = "Never fires."
when = { message = "^no commit has this subject$" }
require = { trailers = [ { key = "Reviewed-by", value = "." } ] }
"#;

/// `COMMITS` commits by Carol on top of the clone's `main`, every seventh
/// declaring AI assistance without an approval, written with
/// `git fast-import`.
fn add_history(w: &World) {
    let base = w.git(&["rev-parse", "HEAD"]);
    let mut script = String::new();
    for i in 0..COMMITS {
        let trailers = if i % 7 == 3 {
            "\nAI-Assisted: yes\n"
        } else if i % 7 == 5 {
            "\nAI-Assisted: yes\nApproved-By: Alice Senior <alice@example.com>\n"
        } else {
            ""
        };
        let message = format!("Change {i}\n\nWhy it matters.\n{trailers}");
        let when = 1_700_000_000 + i;
        let _ = write!(
            script,
            "commit refs/heads/main\nauthor Carol <carol@example.com> {when} +0000\n\
             committer Carol <carol@example.com> {when} +0000\ndata {}\n{message}",
            message.len()
        );
        if i == 0 {
            let _ = writeln!(script, "from {base}");
        }
        // One to four files in five directories, so that path rules have
        // something to find.
        for j in 0..=i % 4 {
            let content = format!("{i}.{j}\n");
            let _ = writeln!(
                script,
                "M 644 inline d{}/f{}.txt\ndata {}\n{content}",
                (i + j) % 5,
                (i * 7 + j) % 40,
                content.len()
            );
        }
    }
    w.fast_import(&script);
}

/// `trailgate verify --format json origin/main..main`: the failing commits
/// in report order, and the number of commits checked.
fn verify(w: &World, policy_text: &str) -> (Vec<String>, u64) {
    let (failing, checked, _) = verify_rule(w, policy_text, RULE);
    (failing, checked)
}

/// [`verify`] for the violations of `rule`, also returning the number of
/// diffs computed.
fn verify_rule(w: &World, policy_text: &str, rule: &str) -> (Vec<String>, u64, u64) {
    let config = w.root.join("large-policy.toml");
    std::fs::write(&config, policy_text).unwrap();
    let args = [
        "verify",
        "--config",
        config.to_str().unwrap(),
        "--format",
        "json",
        "origin/main..main",
    ];
    let run = w.trailgate(&w.work, &args, "", &[]);
    run.assert_code(1).assert_no_panic();
    let report: serde_json::Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("not JSON: {e}\n{}", run.dump()));
    let mut failing: Vec<String> = report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["rule"] == rule)
        .map(|v| v["commit"].as_str().unwrap().to_owned())
        .collect();
    // The report lists the first `KEPT` of a rule and counts the rest.
    let truncated: u64 = report["rule_counts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["rule"] == rule)
        .map(|c| c["truncated"].as_u64().unwrap())
        .sum();
    if truncated > 0 {
        failing.push(format!("+{truncated} more"));
    }
    (
        failing,
        report["commits_checked"].as_u64().unwrap(),
        report["diffs_computed"].as_u64().unwrap(),
    )
}

/// How many violations of a rule a report lists; the rest are counted.
const KEPT: usize = 100;

/// `expected` as [`verify_rule`] reports it: the first [`KEPT`], then how
/// many more were counted.
fn kept(expected: &[String]) -> Vec<String> {
    let mut out: Vec<String> = expected.iter().take(KEPT).cloned().collect();
    if expected.len() > KEPT {
        out.push(format!("+{} more", expected.len() - KEPT));
    }
    out
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

fn remove_commit_graph(dir: &Path) {
    let info = dir.join(".git/objects/info");
    let _ = std::fs::remove_file(info.join("commit-graph"));
    let _ = std::fs::remove_dir_all(info.join("commit-graphs"));
}

#[test]
fn a_large_push_is_judged_as_read_exactly_as_one_by_one() {
    let w = World::with_policy(&policy(SENIOR_RULE));
    add_history(&w);
    // git's answer: the commits that declare AI use and carry no approval,
    // newest first.
    let declared = lines(&w.git(&["rev-list", "--grep=^AI-Assisted: yes", "origin/main..main"]));
    let approved = lines(&w.git(&["rev-list", "--grep=^Approved-By:", "origin/main..main"]));
    let expected: Vec<String> = declared
        .into_iter()
        .filter(|c| !approved.contains(c))
        .collect();
    assert_eq!(expected.len(), (COMMITS + 3) / 7);

    // Judged as read (one rule), one by one (two rules), and as read with a
    // commit-graph that lists every commit (most commits then reach the
    // rule without being handed over by the walk): the same answer.
    let alone = verify(&w, &policy(SENIOR_RULE));
    assert_eq!(alone, (kept(&expected), COMMITS as u64));
    let with_another = verify(&w, &policy(&format!("{SENIOR_RULE}{NEVER}")));
    assert_eq!(with_another, alone);
    w.git(&["commit-graph", "write", "--reachable"]);
    let from_graph = verify(&w, &policy(SENIOR_RULE));
    remove_commit_graph(&w.work);
    assert_eq!(from_graph, alone);

    // And through a real push, in git's quarantine: rejected with every
    // failing commit counted, the first ones named newest first (the
    // report's block for the rule lists 10), nothing stored.
    let before = w.server_ref("refs/heads/main");
    let run = w.push(&["origin", "main"]);
    run.assert_rejected_with(expected.len());
    let named = run.listed_commits(&format!("error[{RULE}]"));
    let first: Vec<&str> = expected
        .iter()
        .take(10)
        .map(|c| c.get(..7).unwrap())
        .collect();
    assert_eq!(named, first, "{}", run.dump());
    assert_eq!(w.server_ref("refs/heads/main"), before);
}

/// Commits that touch `d0/` and change more than two files.
const D0_SMALL: &str = r#"
[[rule]]
name = "d0-small"
message = "Changes to d0 stay small."
when = { touches = ["d0/**"] }
require = { max_files_changed = 2 }
"#;

#[test]
fn a_large_push_is_diffed_while_it_is_read_exactly_as_git_diffs_it() {
    let w = World::with_policy(&policy(D0_SMALL));
    add_history(&w);
    // git's answer, from the paths each commit changes, newest first.
    let log = w.git(&[
        "log",
        "--name-only",
        "--no-renames",
        "--format=%x00%H",
        "origin/main..main",
    ]);
    let expected: Vec<String> = log
        .split('\0')
        .filter_map(|entry| {
            let mut lines = entry.lines().filter(|l| !l.is_empty());
            let commit = lines.next()?.to_owned();
            let paths: Vec<&str> = lines.collect();
            (paths.len() > 2 && paths.iter().any(|p| p.starts_with("d0/"))).then_some(commit)
        })
        .collect();
    assert!(expected.len() > 100, "{}", expected.len());

    // Every commit's diff is wanted (the rule has no other condition), and
    // each is computed once, whichever thread computed it.
    let (failing, checked, diffs) = verify_rule(&w, &policy(D0_SMALL), "d0-small");
    assert_eq!(failing, kept(&expected));
    assert_eq!((checked, diffs), (COMMITS as u64, COMMITS as u64));

    // With a condition only some commits meet, only theirs are diffed.
    let declared =
        policy(&D0_SMALL.replace("when = { touches", "when = { ai_declared = true, touches"));
    let ai_commits = w
        .git(&["rev-list", "--grep=^AI-Assisted: yes", "origin/main..main"])
        .lines()
        .count() as u64;
    let (failing, _, diffs) = verify_rule(&w, &declared, "d0-small");
    assert_eq!(diffs, ai_commits);
    assert!(failing
        .iter()
        .all(|c| expected.contains(c) || c.starts_with('+')));
    assert!(!failing.is_empty());
}
