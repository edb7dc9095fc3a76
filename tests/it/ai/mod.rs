//! Detected AI assistance end to end: commits written the way AI coding
//! tools write them (author and committer names and e-mails, trailers,
//! footers), pushed for real to a server running trailgate, under a rule that
//! rejects detected but undeclared assistance.
//!
//! Each push goes to its own branch, so cases do not interfere. Besides the
//! hook's verdict, every case reads the pushed commit back and runs the same
//! engine as the hook (`trailgate::facts::of_commit`) to check *what* matched,
//! so a case cannot pass because some other marker fired.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod builtin;
mod example;
mod human_help;
mod markers;
mod precision;
mod recent;

use crate::support::*;
use trailgate::git::ObjectId;

/// The rule under test: detected but undeclared AI assistance needs
/// `AI-Assisted: yes` (the example policy's `declare-detected-ai`, on every
/// branch).
pub const RULE: &str = "declare-detected-ai";

/// A policy with [`RULE`]; `trailers` and `ai` are the bodies of those
/// tables (empty for the defaults).
pub fn detect_policy(trailers: &str, ai: &str) -> String {
    policy(&format!(
        r#"
[trailers]
{trailers}

[ai]
{ai}

[[rule]]
name = "{RULE}"
message = "AI assistance was detected but not declared: add `AI-Assisted: yes`."
refs = ["refs/heads/**"]
when = {{ ai_detected = true, ai_declared = false }}
require = {{ trailers = [ {{ key = "AI-Assisted", value = "(?i)^yes$" }} ] }}
"#
    ))
}

/// `Name <email>` as a tool sets it.
pub type Who = (&'static str, &'static str);

/// One commit as a tool writes it, and what detection must say about it.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// Branch name under `refs/heads/ai/` (also the changed file's name).
    pub slug: &'static str,
    pub author: Who,
    pub committer: Who,
    pub message: &'static str,
    /// The tool the detection must name (from the marker's evidence).
    pub tool: &'static str,
    /// Text the "what matched" description must contain.
    pub matched: &'static str,
}

impl Case {
    pub fn subject(&self) -> &'static str {
        self.message.lines().next().unwrap_or_default()
    }
}

/// Commits one new file on a detached `origin/main` with exactly this
/// author, committer and message. Returns the commit's full id.
pub fn commit_as(w: &World, file: &str, author: Who, committer: Who, message: &str) -> String {
    w.git(&["checkout", "-q", "--detach", "origin/main"]);
    std::fs::write(w.work.join(file), format!("{file}\n")).unwrap();
    w.git(&["add", file]);
    let msg_file = w.root.join(format!("{file}.msg"));
    std::fs::write(&msg_file, message).unwrap();
    w.run_git_env(
        &w.work,
        &["commit", "-q", "-F", msg_file.to_str().unwrap()],
        &env(author, committer),
    )
    .assert_code(0);
    w.git(&["rev-parse", "HEAD"])
}

/// Amends HEAD the way a pusher would after being told to declare:
/// `git commit --amend --no-edit --trailer "AI-Assisted: yes"` (git places
/// the trailer). Author and committer stay as the tool set them.
pub fn declare(w: &World, author: Who, committer: Who) -> String {
    w.run_git_env(
        &w.work,
        &[
            "commit",
            "-q",
            "--amend",
            "--no-edit",
            "--trailer",
            "AI-Assisted: yes",
        ],
        &env(author, committer),
    )
    .assert_code(0);
    w.git(&["rev-parse", "HEAD"])
}

fn env(author: Who, committer: Who) -> [(&'static str, &'static str); 4] {
    [
        ("GIT_AUTHOR_NAME", author.0),
        ("GIT_AUTHOR_EMAIL", author.1),
        ("GIT_COMMITTER_NAME", committer.0),
        ("GIT_COMMITTER_EMAIL", committer.1),
    ]
}

/// The facts the hook computes for a commit of the clone, under the policy
/// installed on the server.
pub fn facts(w: &World, oid: &str) -> trailgate::facts::CommitFacts {
    let policy = trailgate::rules::load(&w.server.join("trailgate.toml")).unwrap();
    let raw = w.run_git(&w.work, &["cat-file", "commit", oid]);
    raw.assert_code(0);
    let id = ObjectId::from_hex(oid.as_bytes()).unwrap();
    trailgate::facts::of_commit(id, raw.stdout.as_bytes(), &policy.facts()).unwrap()
}

/// Asserts detection names the case's tool and what matched.
#[track_caller]
pub fn assert_detects(w: &World, oid: &str, case: &Case) {
    let facts = facts(w, oid);
    let hit = facts
        .ai_detected
        .unwrap_or_else(|| panic!("{}: nothing detected in {oid}", case.slug));
    assert!(
        hit.contains(case.tool) && hit.contains(case.matched),
        "{}: detection {hit:?} should name {:?} and show {:?}",
        case.slug,
        case.tool,
        case.matched
    );
}

/// Pushes a case undeclared (rejected by [`RULE`], naming the commit), then
/// declared (accepted, still detected). One branch per case.
pub fn run_case(w: &World, case: &Case) {
    let refname = format!("refs/heads/ai/{}", case.slug);
    let oid = commit_as(w, case.slug, case.author, case.committer, case.message);
    assert_detects(w, &oid, case);
    w.push(&["origin", &format!("HEAD:{refname}")])
        .assert_rejected_with(1)
        .assert_violation("error", RULE, &refname, &oid, case.subject())
        .assert_line_with(&["found:", "AI assistance detected:", case.matched])
        .assert_line_with(&["AI-Assisted"]);
    w.assert_server_ref(&refname, None);

    let declared = declare(w, case.author, case.committer);
    assert_detects(w, &declared, case);
    assert!(
        facts(w, &declared).ai_declared.is_some(),
        "{}: the amended commit should declare AI assistance",
        case.slug
    );
    w.push(&["origin", &format!("HEAD:{refname}")])
        .assert_accepted_silently();
    w.assert_server_ref(&refname, Some(&declared));
}
