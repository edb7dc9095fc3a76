//! A warn-mode rule that fails on every commit of a large push (issue 15):
//! the judgement keeps the first `KEPT_PER_RULE` (100) violations of the
//! rule and counts the rest, and the text report, the JSON and the audit
//! line say how many were left out (`truncated`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use super::{Stage, Transcript};
use crate::support::*;

const COMMITS: usize = 5000;
const KEPT: usize = 100;

const RULE: &str = r#"
[[rule]]
name = "declare-ai-use"
mode = "warn"
message = "Say whether AI helped: add `AI-Assisted: yes` or `AI-Assisted: no`."
refs = ["refs/heads/main"]
require = { trailers = [ { key = "AI-Assisted", value = "(?i)^(yes|no)$" } ] }
"#;

/// `COMMITS` commits by Carol without a declaration on top of the clone's
/// `main`, fixed dates, written with `git fast-import`.
fn add_history(work: &Path) {
    let base = String::from_utf8(
        Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(work)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let mut script = String::new();
    for i in 0..COMMITS {
        let message = format!("Change {i}\n\nWhy it matters.\n");
        let when = 1_767_300_000 + i;
        let _ = write!(
            script,
            "commit refs/heads/main\nauthor Carol <carol@example.com> {when} +0000\n\
             committer Carol <carol@example.com> {when} +0000\ndata {}\n{message}",
            message.len()
        );
        if i == 0 {
            let _ = writeln!(script, "from {}", base.trim());
        }
        let content = format!("{i}\n");
        let _ = writeln!(
            script,
            "M 644 inline f{}.txt\ndata {}\n{content}",
            i % 50,
            content.len()
        );
    }
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet", "--force"])
        .current_dir(work)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let status = Command::new("git")
        .args(["reset", "-q", "--hard", "main"])
        .current_dir(work)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_warn_rule_failing_on_every_commit_of_a_large_push_keeps_the_first_and_counts_the_rest() {
    let s = Stage::guarded(&policy(&format!(
        "[settings]\naudit_log = \"audit.jsonl\"\n{RULE}"
    )));
    add_history(&s.work);
    // A second server with the JSON hook, pushed the same commits.
    let json_server = s.root.join("json.git");
    s.git(&[
        "init",
        "-q",
        "--bare",
        "-b",
        "main",
        json_server.to_str().unwrap(),
    ]);
    let seed = s.git(&["rev-parse", "origin/main"]);
    s.git(&[
        "push",
        "-q",
        json_server.to_str().unwrap(),
        &format!("{seed}:refs/heads/main"),
    ]);
    let hook = json_server.join("hooks").join("pre-receive");
    std::fs::write(
        &hook,
        format!("#!/bin/sh\nexec {TRAILGATE} pre-receive --format json\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::copy(
        s.server.join("trailgate.toml"),
        json_server.join("trailgate.toml"),
    )
    .unwrap();

    let text = s.push(&["origin", "main"], &[]);
    text.assert_accepted();
    let json = s.push(&[json_server.to_str().unwrap(), "main"], &[]);
    json.assert_accepted();

    // The JSON in full would list 100 violations: its counts, and how many
    // it lists, are what this is about.
    let line = json
        .remote_lines()
        .into_iter()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON report\n{}", json.dump()));
    let report: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    let listed = report["violations"].as_array().unwrap().len();
    assert_eq!(listed, KEPT);
    assert_eq!(report["truncated"], COMMITS - KEPT);
    assert_eq!(report["commits_checked"], COMMITS);
    let summary = serde_json::json!({
        "decision": report["decision"],
        "commits_checked": report["commits_checked"],
        "truncated": report["truncated"],
        "rule_counts": report["rule_counts"],
        "violations listed": listed,
        "first listed": report["violations"][0]["commit"],
    });

    // The audit line lists the first 100 warnings and counts the rest.
    let log = std::fs::read_to_string(s.server.join("audit.jsonl")).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 1, "{log}");
    let audit: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(audit["warnings"].as_array().unwrap().len(), KEPT);
    assert_eq!(audit["truncated"], COMMITS - KEPT);
    assert_eq!(audit["commits_checked"], COMMITS);

    let about = "a warn-mode rule failing on each of 5,000 pushed commits: the first 100 \
                 violations kept and reported, 4,900 counted (`truncated`), text and JSON";
    Transcript::new(&s)
        .push("the push, text report", &text)
        .json("the JSON report's counts", &json, &summary.to_string())
        .check("warn_rule_on_every_commit_truncated", about);
}
