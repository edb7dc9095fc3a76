//! Disclosure trailers read for what they say: the kernel's
//! `Assisted-by: AGENT:MODEL [TOOL...]` with and without tools, help from a
//! person (`Assisted-by: Jane Doe <jane@example.com>`), rai-lint's
//! human-only `Authored-by`, and the ways a pusher might try to pass a tool
//! off as a person. Plus at least thirty ordinary commits, pushed together,
//! that mention the tools in prose or credit people, none of them detected
//! or declared.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

const CAROL: Who = ("Carol", "carol@example.com");

/// Any AI assistance, declared or detected, needs `AI-Reviewed: yes`: a
/// commit read as AI-assisted is rejected, whichever way.
fn assisted_policy(ai: &str) -> String {
    policy(&format!(
        r#"
[ai]
{ai}

[[rule]]
name = "ai-reviewed"
message = "AI-assisted changes need `AI-Reviewed: yes`."
refs = ["refs/heads/**"]
when = {{ ai_assisted = true }}
require = {{ trailers = [ {{ key = "AI-Reviewed", value = "^yes$" }} ] }}
"#
    ))
}

/// Commits people write: the tools in prose, people's help in disclosure
/// trailers (real formats: kernel `Assisted-by`, rai-lint, Fedora), and
/// look-alikes. None is AI assistance.
const HUMAN: &[(Who, &str)] = &[
    (CAROL, "Fix the crash Claude reported\n\nThanks to Claude from support.\n"),
    (CAROL, "Document how we use Copilot in reviews\n\nWe do not accept Copilot suggestions unreviewed.\n"),
    (CAROL, "Compare OpenHands and OpenCode in the ADR\n\nNeither is used in this repository.\n"),
    (CAROL, "Mention Crush in the terminal tools list\n\nCrush is charmbracelet's agent; we evaluated it.\n"),
    (CAROL, "Add Warp to the supported terminals\n\nWarp renders our escape codes correctly now.\n"),
    (CAROL, "Explain the Factory Droid evaluation results\n\nWe decided against Droid for now.\n"),
    (CAROL, "Reply to the Gemini Code Assist review\n\nThe bot's suggestion was wrong; kept the loop.\n"),
    (CAROL, "Fix what Copilot Autofix flagged, by hand\n\nThe alert was real; the suggested fix was not.\n"),
    (CAROL, "Move the cursor to the end of the input\n\nThe text cursor jumped to the start on paste.\n"),
    (CAROL, "Remove the Entire CLI from the dev container\n\nWe no longer record agent sessions.\n"),
    (CAROL, "Say in CONTRIBUTING how to write Assisted-by\n\nUse `Assisted-by: AGENT_NAME:MODEL_VERSION` for tools.\n"),
    (CAROL, "Pair with Jane on the parser\n\nAssisted-by: Jane Doe <jane@example.com>\n"),
    (CAROL, "Fix the scheduler's wakeup race\n\nAssisted-by: Dmitry Vyukov <dvyukov@example.org>\nSigned-off-by: Carol <carol@example.com>\n"),
    (CAROL, "Review the lexer with Claude Monet\n\nAssisted-by: Claude Monet <claude@example.com>\n"),
    (CAROL, "Tune the cache with a colleague\n\nAssisted-by: Cursor Smith <cursor.smith@acme.example>\n"),
    (CAROL, "Apply Alice's review\n\nAssisted-by: Alice Senior <alice@example.com>\n"),
    (CAROL, "Apply Alice's second review\n\nAssisted-by: alice\n"),
    (CAROL, "Write the migration with help\n\nGenerated-by: Priya Raman <priya@example.net>\n"),
    (CAROL, "Document the release\n\nAuthored-by: Carol <carol@example.com>\n"),
    (CAROL, "Rename the config keys\n\nAuthored-by: Carol <carol@example.com>\nAssisted-by: Bob Builder <bob@example.com>\n"),
    (CAROL, "Hand-written fix for the pager\n\nAssisted-by: none\nAI-used-for: none\n"),
    (CAROL, "Do not use AI for this module\n\nAI-Assisted: no\n"),
    (CAROL, "Bump the lockfile\n\nCommit-generated-by: none\n"),
    (CAROL, "Polish the icons\n\nMade-with: Inkscape\n"),
    (CAROL, "Credit the pair\n\nCo-authored-by: Dave <dave@example.com>\n"),
    (CAROL, "Link the design doc\n\nSee https://claude.ai/ for the product we compared; not used here.\n"),
    (CAROL, "Talk about opencode.ai in the FAQ\n\nOur FAQ links https://opencode.ai and https://charm.land.\n"),
    (CAROL, "Quote the OpenHands default identity in the docs\n\nThe agent uses openhands@all-hands.dev; we block it.\n"),
    (CAROL, "Keep the Entire-Checkpoint trailer out of our commits\n\nThe hook strips it before commit.\n"),
    (("Oz Harrington", "oz@example.com"), "Update the on-call rota\n"),
    (("Warp Team", "warp-team@example.com"), "Ship the new theme\n"),
    (("Gemini Patel", "gemini@example.com"), "Fix the date picker\n"),
    (CAROL, "Clarify the QEMU disclosure rule\n\nAI-used-for is QEMU's draft trailer; we do not use it.\n"),
];

#[test]
fn thirty_ordinary_commits_mentioning_tools_or_crediting_people_are_not_ai() {
    assert!(HUMAN.len() >= 30);
    let w = World::with_policy(&assisted_policy(r#"detect = "all""#));
    w.git(&["checkout", "-q", "-b", "human", "origin/main"]);
    let mut last = String::new();
    for (i, &(who, message)) in HUMAN.iter().enumerate() {
        std::fs::write(w.work.join(format!("human-{i}")), message).unwrap();
        w.git(&["add", "."]);
        let msg = w.root.join(format!("human-{i}.msg"));
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
        assert_eq!(facts.ai_declared, None, "{message:?}");
    }
    w.push(&["origin", "human"]).assert_accepted_silently();
    w.assert_server_ref("refs/heads/human", Some(&last));
}

/// Pushes one commit to its own branch; returns the run.
fn push_one(w: &World, slug: &str, message: &str) -> (String, Run) {
    let oid = commit_as(w, slug, CAROL, CAROL, message);
    let run = w.push(&["origin", &format!("HEAD:refs/heads/{slug}")]);
    (oid, run)
}

#[test]
fn the_kernel_format_declares_with_and_without_tools() {
    let w = World::with_policy(&assisted_policy(""));
    for (slug, trailer) in [
        (
            "kernel-tools",
            "Assisted-by: Claude:claude-3-opus coccinelle sparse",
        ),
        ("kernel-no-tools", "Assisted-by: Claude:claude-opus-4-6"),
        ("kernel-other-agent", "Assisted-by: OpenCode:qwen3-coder"),
    ] {
        let message = format!(
            "mm: fix the reclaim accounting\n\nThe counter was read twice.\n\n{trailer}\nSigned-off-by: Carol <carol@example.com>\n"
        );
        let (oid, run) = push_one(&w, slug, &message);
        let facts = facts(&w, &oid);
        assert_eq!(facts.ai_declared.as_deref(), Some(trailer), "{slug}");
        assert!(facts.ai_detected.is_some(), "{slug}");
        run.assert_rejected_with(1).assert_violation(
            "error",
            "ai-reviewed",
            &format!("refs/heads/{slug}"),
            &oid,
            "mm: fix the reclaim accounting",
        );
    }
}

#[test]
fn a_tool_cannot_pass_for_a_person() {
    // A junior with push access tries to make AI help look human.
    let w = World::with_policy(&assisted_policy(""));
    for (slug, message) in [
        // A tool's own address under a person's name.
        ("tool-address", "Speed up the parser\n\nAssisted-by: Jane <noreply@anthropic.com>\n"),
        ("crush-assisted-by", "Cache the theme\n\nAssisted-by: Crush <crush@charm.land>\n"),
        ("weak-address", "Tidy the page\n\nAssisted-by: GitHub Copilot <copilot@github.com>\n"),
        // A model's name with a colleague's address.
        ("model-name", "Speed up the lexer\n\nAssisted-by: Claude Opus 4.6 <carol@example.com>\n"),
        ("product-name", "Fix the report\n\nGenerated-by: Verdent AI <verdent@verdent.ai>\n"),
        // A name without an address is not a person the policy knows.
        ("bare-name", "Fix the dates\n\nAssisted-by: ChatGPTv5\n"),
        // Human help does not hide a tool's marks.
        ("human-and-tool", "Fix the pager\n\nAssisted-by: Jane Doe <jane@example.com>\nCo-Authored-By: Claude <noreply@anthropic.com>\n"),
        // Nor does a human-only declaration.
        ("authored-by-and-tool", "Fix the toolbar\n\nAuthored-by: Carol <carol@example.com>\nCo-Authored-By: Claude <noreply@anthropic.com>\n"),
    ] {
        let (oid, run) = push_one(&w, slug, message);
        assert!(facts(&w, &oid).ai_assisted(), "{slug}");
        run.assert_rejected_with(1);
        w.assert_server_ref(&format!("refs/heads/{slug}"), None);
    }
}

#[test]
fn human_help_is_configurable() {
    let message = "Pair on the parser\n\nAssisted-by: Jane Doe <jane@example.com>\n";
    let known = "Apply the review\n\nAssisted-by: Alice Senior <alice@example.com>\n";
    // The default reads both as people.
    let w = World::with_policy(&assisted_policy(""));
    push_one(&w, "default-jane", message)
        .1
        .assert_accepted_silently();
    // `known-people`: only the policy's people are human help.
    w.write_policy(&assisted_policy(r#"human_help = "known-people""#));
    push_one(&w, "known-jane", message)
        .1
        .assert_rejected_with(1);
    push_one(&w, "known-alice", known)
        .1
        .assert_accepted_silently();
    // `never`: every value declares AI assistance (the earlier reading).
    w.write_policy(&assisted_policy(r#"human_help = "never""#));
    push_one(&w, "never-alice", known).1.assert_rejected_with(1);
}
