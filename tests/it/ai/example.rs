//! The example policy's `declare-detected-ai` rule (`config.example.toml`):
//! a tool's marks on main need `AI-Assisted: yes`, and saying `no` does not
//! get a detected commit through.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

const ALICE: Who = ("Alice Senior", "alice@example.com");
/// Alice pushes herself: under the example's `identity = "proven"` that is
/// what makes her commits hers.
const AS_ALICE: &[(&str, &str)] = &[("REMOTE_USER", "alice")];
const MESSAGE: &str = "Add retry with backoff to the uploader\n\n\
                       🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\n\
                       Co-Authored-By: Claude <noreply@anthropic.com>\n";

fn example_world() -> World {
    let example = std::fs::read_to_string(format!("{REPO_ROOT}/config.example.toml")).unwrap();
    World::with_policy(&example)
}

#[test]
fn example_policy_asks_for_a_declaration_when_a_tool_left_its_marks() {
    let w = example_world();
    let main = "refs/heads/main";
    let before = w.server_ref(main).unwrap();
    // Alice is a senior: no approval is needed, only the declaration.
    let oid = commit_as(&w, "undeclared", ALICE, ALICE, MESSAGE);
    w.push_env(&["origin", "HEAD:main"], AS_ALICE)
        .assert_rejected_with(1)
        .assert_violation(
            "error",
            "declare-detected-ai",
            main,
            &oid,
            "Add retry with backoff to the uploader",
        )
        .assert_says("add `AI-Assisted: yes`");
    w.assert_server_ref(main, Some(&before));

    let declared = declare(&w, ALICE, ALICE);
    w.push_env(&["origin", "HEAD:main"], AS_ALICE)
        .assert_accepted();
    w.assert_server_ref(main, Some(&declared));
}

#[test]
fn example_policy_rejects_a_detected_commit_that_says_no_ai() {
    let w = example_world();
    let message = format!("{MESSAGE}AI-Assisted: no\n");
    let oid = commit_as(&w, "denied", ALICE, ALICE, &message);
    w.push_env(&["origin", "HEAD:main"], AS_ALICE)
        .assert_rejected_with(1)
        .assert_violation(
            "error",
            "declare-detected-ai",
            "refs/heads/main",
            &oid,
            "Add retry with backoff to the uploader",
        )
        .assert_line_with(&["AI-Assisted: no"]);
}
