//! The marks of the tools of 2026 (issue 16), one realistic commit each,
//! pushed for real: rejected undeclared, accepted once `AI-Assisted: yes`
//! is added. Weak marks count only under `ai.detect = "all"`, and the
//! pusher is told which mark was found and how strong it is.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

const CAROL: Who = ("Carol", "carol@example.com");
const GITHUB: Who = ("GitHub", "noreply@github.com");
const AI_ASSISTED_ONLY: &str = r#"ai = ["AI-Assisted"]"#;

pub const STRONG: &[Case] = &[
    Case {
        slug: "openhands-identity",
        author: ("openhands", "openhands@all-hands.dev"),
        committer: ("openhands", "openhands@all-hands.dev"),
        message: "Fix the flaky retry test in the uploader\n\n\
                  The test slept instead of waiting for the event.\n",
        tool: "OpenHands",
        matched: "author `openhands <openhands@all-hands.dev>`",
    },
    Case {
        slug: "openhands-co-author",
        author: CAROL,
        committer: CAROL,
        message: "fix(scope): validate the webhook signature\n\n\
                  - Reject requests without a timestamp\n\n\
                  Co-authored-by: openhands <openhands@all-hands.dev>\n",
        tool: "OpenHands",
        matched: "trailer `Co-authored-by: openhands <openhands@all-hands.dev>`",
    },
    Case {
        slug: "opencode-co-author",
        author: CAROL,
        committer: CAROL,
        message: "Add zoxide integration to the Fish shell\n\n\
                  - Configure zoxide for smart directory jumping\n\n\
                  🤖 Generated with [opencode](https://opencode.ai)\n\n\
                  Co-Authored-By: opencode <noreply@opencode.ai>\n",
        tool: "OpenCode",
        matched: "trailer `Co-Authored-By: opencode <noreply@opencode.ai>`",
    },
    Case {
        slug: "opencode-footer",
        author: CAROL,
        committer: CAROL,
        message: "feat: paginate the audit view\n\n\
                  🤖 Generated with [opencode](https://opencode.ai)\n",
        tool: "OpenCode",
        matched: "Generated with [opencode](https://opencode.ai)",
    },
    Case {
        slug: "crush-co-author",
        author: CAROL,
        committer: CAROL,
        message: "Cache the parsed theme files\n\n\
                  💘 Generated with Crush\n\n\
                  Co-Authored-By: Crush <crush@charm.land>\n",
        tool: "Crush",
        matched: "trailer `Co-Authored-By: Crush <crush@charm.land>`",
    },
    Case {
        // Crush writes both lines together; git then reads no trailer
        // block (one trailer in two lines, none git-generated), and the
        // footer is what gives it away.
        slug: "crush-footer-and-co-author",
        author: CAROL,
        committer: CAROL,
        message: "Cache the parsed theme files\n\n\
                  💘 Generated with Crush\n\
                  Co-Authored-By: Crush <crush@charm.land>\n",
        tool: "Crush",
        matched: "message text `💘 Generated with Crush`",
    },
    Case {
        slug: "crush-footer",
        author: CAROL,
        committer: CAROL,
        message: "Render the help view in two columns\n\n💘 Generated with Crush\n",
        tool: "Crush",
        matched: "Generated with Crush",
    },
    Case {
        slug: "warp-oz",
        author: CAROL,
        committer: CAROL,
        message: "feat(app): add the template picker\n\n\
                  Co-Authored-By: Oz <oz-agent@warp.dev>\n",
        tool: "Warp",
        matched: "trailer `Co-Authored-By: Oz <oz-agent@warp.dev>`",
    },
    Case {
        slug: "warp-agent",
        author: CAROL,
        committer: CAROL,
        message: "Add Cloudflare Pages deployment\n\n\
                  Co-Authored-By: Warp <agent@warp.dev>\n",
        tool: "Warp",
        matched: "trailer `Co-Authored-By: Warp <agent@warp.dev>`",
    },
    Case {
        slug: "factory-droid-co-author",
        author: CAROL,
        committer: CAROL,
        message: "Update the TinyView data for 2026-11-30\n\n\
                  Co-authored-by: factory-droid[bot] <138933559+factory-droid[bot]@users.noreply.github.com>\n",
        tool: "Factory Droid",
        matched: "138933559+factory-droid[bot]@users.noreply.github.com",
    },
    Case {
        slug: "factory-droid-name",
        author: ("factory-droid[bot]", "noreply@github.com"),
        committer: GITHUB,
        message: "Add feature flags for the staged rollout\n",
        tool: "Factory Droid",
        matched: "author `factory-droid[bot] <noreply@github.com>`",
    },
    Case {
        slug: "gemini-code-assist",
        author: CAROL,
        committer: GITHUB,
        message: "[Attention] Support head dim 256 (#42669)\n\n\
                  Signed-off-by: Carol <carol@example.com>\n\
                  Co-authored-by: gemini-code-assist[bot] <176961590+gemini-code-assist[bot]@users.noreply.github.com>\n",
        tool: "Gemini Code Assist",
        matched: "176961590+gemini-code-assist[bot]@users.noreply.github.com",
    },
    Case {
        slug: "copilot-autofix",
        author: CAROL,
        committer: GITHUB,
        message: "Potential fix for code scanning alert no. 1\n\n\
                  Co-authored-by: Copilot Autofix powered by AI <62310815+github-advanced-security[bot]@users.noreply.github.com>\n",
        tool: "Copilot Autofix",
        matched: "trailer `Co-authored-by: Copilot Autofix powered by AI",
    },
    Case {
        slug: "cursor-noreply",
        author: CAROL,
        committer: CAROL,
        message: "Normalize the storage keys\n\n\
                  Co-authored-by: Cursor Agent <noreply@cursor.com>\n",
        tool: "Cursor",
        matched: "trailer `Co-authored-by: Cursor Agent <noreply@cursor.com>`",
    },
    Case {
        slug: "claude-session-link",
        author: CAROL,
        committer: CAROL,
        message: "Fix the pager's off-by-one\n\n\
                  https://claude.ai/code/session_01KXa8bWq3XyZ\n\n\
                  Signed-off-by: Carol <carol@example.com>\n",
        tool: "Claude Code",
        matched: "https://claude.ai/code/session_01KXa8bWq3XyZ",
    },
    Case {
        slug: "entire-checkpoint",
        author: CAROL,
        committer: CAROL,
        message: "feat: add the Stripe webhook handler with idempotency\n\n\
                  Handles subscription.updated and invoice.paid events.\n\n\
                  Entire-Checkpoint: 01M2VBJBJQZ2BP1W2PBWDF3J31\n",
        tool: "Entire",
        matched: "trailer `Entire-Checkpoint: 01M2VBJBJQZ2BP1W2PBWDF3J31`",
    },
    Case {
        slug: "roo-code",
        author: ("Roomote", "roomote@roocode.com"),
        committer: ("Roomote", "roomote@roocode.com"),
        message: "Add the missing translations for the settings view\n",
        tool: "Roo Code",
        matched: "author `Roomote <roomote@roocode.com>`",
    },
    Case {
        slug: "qemu-ai-used-for",
        author: CAROL,
        committer: CAROL,
        message: "tests/qtest: cover the virtio-net reset path\n\n\
                  The reset path had no test.\n\n\
                  AI-used-for: tests\n\
                  Signed-off-by: Carol <carol@example.com>\n",
        tool: "disclosed",
        matched: "trailer `AI-used-for: tests`",
    },
    Case {
        slug: "rai-commit-generated-by",
        author: CAROL,
        committer: CAROL,
        message: "docs: fix typos in the README\n\n\
                  Commit-generated-by: ChatGPT <chatgpt@openai.com>\n",
        tool: "disclosed",
        matched: "trailer `Commit-generated-by: ChatGPT <chatgpt@openai.com>`",
    },
];

/// Marks that also appear on commits written by hand.
pub const WEAK: &[Case] = &[
    Case {
        slug: "vscode-copilot",
        author: CAROL,
        committer: CAROL,
        message: "Tidy the settings page\n\nCo-authored-by: Copilot <copilot@github.com>\n",
        tool: "VS Code Copilot",
        matched: "trailer `Co-authored-by: Copilot <copilot@github.com>`",
    },
    Case {
        slug: "code-scanning-bot",
        author: CAROL,
        committer: GITHUB,
        message: "Fix the CodeQL alert in the upload handler\n\n\
                  Co-authored-by: github-advanced-security[bot] <62310815+github-advanced-security[bot]@users.noreply.github.com>\n",
        tool: "GitHub code scanning",
        matched: "github-advanced-security[bot]",
    },
];

#[test]
fn marks_of_the_2026_tools_are_rejected_until_declared() {
    let w = World::with_policy(&detect_policy(AI_ASSISTED_ONLY, ""));
    for case in STRONG {
        run_case(&w, case);
    }
}

#[test]
fn the_pusher_is_told_the_mark_and_its_strength() {
    let w = World::with_policy(&detect_policy("", r#"detect = "all""#));
    let case = &STRONG[0];
    commit_as(&w, case.slug, case.author, case.committer, case.message);
    w.push(&["origin", "HEAD:refs/heads/strong"])
        .assert_rejected_with(1)
        .assert_line_with(&[
            "found:",
            "author `openhands <openhands@all-hands.dev>`",
            "(OpenHands: OpenHands' git identity; strong mark)",
        ]);
    let case = &WEAK[0];
    commit_as(&w, case.slug, case.author, case.committer, case.message);
    w.push(&["origin", "HEAD:refs/heads/weak"])
        .assert_rejected_with(1)
        .assert_line_with(&[
            "found:",
            "Co-authored-by: Copilot <copilot@github.com>",
            "(VS Code Copilot: VS Code's automatic Copilot co-author line; weak mark)",
        ]);
}

#[test]
fn weak_marks_count_only_when_detect_is_all() {
    // The default (`builtin`): a hand-written commit with VS Code's
    // automatic co-author line is not detected and is accepted.
    let w = World::with_policy(&detect_policy("", ""));
    for case in WEAK {
        let oid = commit_as(&w, case.slug, case.author, case.committer, case.message);
        assert_eq!(facts(&w, &oid).ai_detected, None, "{}", case.slug);
        let refname = format!("refs/heads/ai/{}", case.slug);
        w.push(&["origin", &format!("HEAD:{refname}")])
            .assert_accepted_silently();
        w.assert_server_ref(&refname, Some(&oid));
    }
    // `all`: the same commits are detected, rejected until declared.
    let w = World::with_policy(&detect_policy("", r#"detect = "all""#));
    for case in WEAK {
        run_case(&w, case);
    }
}
