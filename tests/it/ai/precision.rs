//! What must not be detected: ordinary commits that mention the tools,
//! human co-authors (one of them called Claude), look-alike names and
//! addresses, negative disclosures; and `ai.detect = "off"`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

const CAROL: Who = ("Carol", "carol@example.com");

/// Commits a human might write, each mentioning a tool or looking like a mark.
const ORDINARY: &[(Who, &str)] = &[
    (
        CAROL,
        "Fix the crash Claude reported\n\n\
         Thanks to Claude from support for the detailed report.\n",
    ),
    (
        CAROL,
        "Copilot: hide the settings panel for guests\n\n\
         The Copilot page of our product, not the AI. Cursor keys move the selection now.\n",
    ),
    (
        CAROL,
        "Document the aider and Cursor integrations\n\n\
         See https://aider.chat and https://cursor.com; aider (aider) works with our linter.\n",
    ),
    (
        CAROL,
        "Credit the painter who designed the logo\n\n\
         Co-authored-by: Claude Monet <claude@example.com>\n",
    ),
    (
        CAROL,
        "Pair on the tokenizer\n\nCo-authored-by: Dave <dave@example.com>\n",
    ),
    (
        CAROL,
        "Drop the AI footers from the release notes\n\n\
         We no longer keep \"Generated with [Claude Code](https://claude.ai/code)\" lines.\n",
    ),
    (
        CAROL,
        "Review the lexer by hand\n\nAssisted-by: none\nGenerated-by: no\n",
    ),
    (CAROL, "Polish the icons\n\nMade-with: Inkscape\n"),
    (
        CAROL,
        "Pair with Cursor Smith\n\nCo-authored-by: Cursor Smith <cursor.smith@acme.example>\n",
    ),
    (
        ("Aider Smith", "aider@example.com"),
        "Tune the cache size\n",
    ),
    (
        ("Copilot Team", "copilot@example.com"),
        "Update the team page\n",
    ),
    (
        ("Carol (aider fan)", "carol@example.com"),
        "Tidy the README\n",
    ),
    (
        ("Jane", "4512345+notcopilot@users.noreply.github.com"),
        "Bump the version\n",
    ),
];

#[test]
fn ordinary_commits_mentioning_the_tools_are_accepted() {
    let w = World::with_policy(&detect_policy("", ""));
    w.git(&["checkout", "-q", "-b", "ordinary", "origin/main"]);
    let mut last = String::new();
    for (i, &(who, message)) in ORDINARY.iter().enumerate() {
        std::fs::write(w.work.join(format!("ordinary-{i}")), message).unwrap();
        w.git(&["add", "."]);
        let msg = w.root.join(format!("ordinary-{i}.msg"));
        std::fs::write(&msg, message).unwrap();
        w.run_git_env(
            &w.work,
            &["commit", "-q", "-F", msg.to_str().unwrap()],
            &[
                ("GIT_AUTHOR_NAME", who.0),
                ("GIT_AUTHOR_EMAIL", who.1),
                ("GIT_COMMITTER_NAME", who.0),
                ("GIT_COMMITTER_EMAIL", who.1),
            ],
        )
        .assert_code(0);
        last = w.git(&["rev-parse", "HEAD"]);
        let facts = facts(&w, &last);
        assert_eq!(facts.ai_detected, None, "{message:?}");
    }
    w.push(&["origin", "ordinary"]).assert_accepted_silently();
    w.assert_server_ref("refs/heads/ordinary", Some(&last));
}

#[test]
fn detect_off_turns_the_builtin_markers_off() {
    // Rejected with detection on (the default), accepted once it is off.
    let w = World::with_policy(&detect_policy("", ""));
    let agent = (
        "copilot-swe-agent[bot]",
        "198982749+Copilot@users.noreply.github.com",
    );
    let commits = [
        commit_as(
            &w,
            "claude",
            CAROL,
            CAROL,
            "Add retry with backoff\n\n\
             🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\n\
             Co-Authored-By: Claude <noreply@anthropic.com>\n",
        ),
        commit_as(&w, "copilot", agent, agent, "Initial plan\n"),
    ];
    for (oid, branch) in commits.iter().zip(["claude", "copilot"]) {
        let refname = format!("refs/heads/{branch}");
        assert!(facts(&w, oid).ai_detected.is_some());
        w.push(&["origin", &format!("{oid}:{refname}")])
            .assert_rejected_with(1)
            .assert_violation("error", RULE, &refname, oid, "");
    }

    w.write_policy(&detect_policy("", r#"detect = "off""#));
    for (oid, branch) in commits.iter().zip(["claude", "copilot"]) {
        let refname = format!("refs/heads/{branch}");
        assert_eq!(facts(&w, oid).ai_detected, None);
        w.push(&["origin", &format!("{oid}:{refname}")])
            .assert_accepted_silently();
        w.assert_server_ref(&refname, Some(oid));
    }
}
