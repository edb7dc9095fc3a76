//! The README says what the code does: its examples are what the code
//! prints, and its help texts name what the code does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use crate::support::*;

fn readme() -> String {
    std::fs::read_to_string(Path::new(REPO_ROOT).join("README.md")).unwrap()
}

/// The fenced block right after the first line of the README that starts
/// with `intro`.
fn block_after(readme: &str, intro: &str) -> Vec<String> {
    let from = readme
        .find(intro)
        .unwrap_or_else(|| panic!("the README has no {intro:?}"));
    let rest = &readme[from..];
    let open = rest.find("\n```").unwrap() + 4;
    let body = &rest[open..];
    let body = &body[body.find('\n').unwrap() + 1..];
    let close = body.find("\n```").unwrap();
    body[..close].lines().map(str::to_owned).collect()
}

/// Temporary paths and commit ids, which change from run to run.
fn normalise(line: &str) -> String {
    let tmp = regex::Regex::new(r"/tmp/trailgate-demo-[A-Za-z0-9]+").unwrap();
    let oid = regex::Regex::new(r"\b[0-9a-f]{7,40}\b").unwrap();
    oid.replace_all(&tmp.replace_all(line, "<tmp>"), "<oid>")
        .into_owned()
}

#[test]
fn readme_demo_excerpt_is_what_the_demo_prints() {
    let excerpt = block_after(&readme(), "deletion of `main` (both rejected). It prints");
    assert!(excerpt.len() > 5, "{excerpt:?}");
    let tmp = tempfile::tempdir().unwrap();
    let run = run_trailgate(tmp.path(), tmp.path(), &["demo"], b"", &[]);
    run.assert_code(0);
    let shown: Vec<String> = run.all_text().lines().map(normalise).collect();
    let wanted: Vec<String> = excerpt.iter().map(|l| normalise(l)).collect();
    let found = shown.windows(wanted.len()).any(|w| w == wanted.as_slice());
    assert!(
        found,
        "the README's demo excerpt is not what `trailgate demo` prints; paste the real one.\n--- README ---\n{}\n--- demo ---\n{}",
        wanted.join("\n"),
        shown.join("\n")
    );
}

#[test]
fn readme_audit_example_is_what_audit_prints() {
    let excerpt = block_after(&readme(), "`tests/data/audit/example.jsonl` (a test checks");
    let log = Path::new(REPO_ROOT).join("tests/data/audit/example.jsonl");
    let tmp = tempfile::tempdir().unwrap();
    let run = run_trailgate(
        tmp.path(),
        tmp.path(),
        &["audit", "--log", log.to_str().unwrap()],
        b"",
        &[],
    );
    run.assert_code(0);
    let printed = run
        .stdout
        .replace(log.to_str().unwrap(), "/var/log/trailgate/audit.jsonl");
    assert_eq!(
        excerpt.join("\n"),
        printed.trim_end(),
        "README \"The audit log\""
    );
}

#[test]
fn install_help_lists_the_whole_policy_search_order() {
    let tmp = tempfile::tempdir().unwrap();
    let run = run_trailgate(tmp.path(), tmp.path(), &["install", "--help"], b"", &[]);
    run.assert_code(0);
    let help = run.stdout.replace('\n', " ");
    let order = [
        "--config",
        "$TRAILGATE_CONFIG",
        "REPO.git/trailgate.toml",
        "/etc/trailgate/policy.toml",
    ];
    let mut at = 0;
    for step in order {
        let found = help[at..]
            .find(step)
            .unwrap_or_else(|| panic!("`install --help` does not name {step} (in order)\n{help}"));
        at += found + step.len();
    }
}

#[test]
fn a_rules_message_is_optional_and_the_readme_says_so() {
    assert!(
        readme().contains("| `message` | optional:"),
        "the README's [[rule]] table must say that `message` is optional"
    );
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("p.toml");
    std::fs::write(
        &path,
        "version = 1\n[[rule]]\nname = \"protect-main\"\nrefs = [\"refs/heads/main\"]\ndeny = [\"delete\"]\n",
    )
    .unwrap();
    run_trailgate(
        tmp.path(),
        tmp.path(),
        &["check", "--config", path.to_str().unwrap()],
        b"",
        &[],
    )
    .assert_code(0);
}
