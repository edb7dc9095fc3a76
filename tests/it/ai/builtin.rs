//! One realistic commit per built-in marker (`src/ai.rs`, `BUILTIN`), each
//! rejected undeclared and accepted once `AI-Assisted: yes` is added.
//!
//! Names, addresses, trailers and footers are the ones the tools write (see
//! the evidence next to each row of the table). The disclosure trailers
//! `Assisted-by` and `Generated-by` are also default declaration keys, so
//! these cases run with `trailers.ai = ["AI-Assisted"]`;
//! [`disclosure_trailers_in_the_default_keys_declare_what_they_disclose`]
//! covers the defaults.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

const CAROL: Who = ("Carol", "carol@example.com");
const GITHUB: Who = ("GitHub", "noreply@github.com");

/// Only `AI-Assisted` declares, so disclosure trailers are judged as marks.
const AI_ASSISTED_ONLY: &str = r#"ai = ["AI-Assisted"]"#;

const CLAUDE: &[Case] = &[
    Case {
        slug: "claude-co-author",
        author: CAROL,
        committer: CAROL,
        message: "Add retry with backoff to the uploader\n\n\
                  Retries transient 5xx responses up to three times.\n\n\
                  🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\n\
                  Co-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n",
        tool: "Claude Code",
        matched: "trailer `Co-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>`",
    },
    Case {
        slug: "claude-footer",
        author: CAROL,
        committer: CAROL,
        message: "Cache the parsed manifest\n\n\
                  Parsing dominated start-up time.\n\n\
                  🤖 Generated with [Claude Code](https://claude.ai/code)\n",
        tool: "Claude Code",
        matched: "Generated with [Claude Code](https://claude.ai/code)",
    },
    Case {
        slug: "claude-session",
        author: CAROL,
        committer: CAROL,
        message: "Fix the flaky clock test\n\n\
                  Freeze time instead of sleeping.\n\n\
                  Claude-Session: https://claude.ai/code/session_01KXa8bWq3XyZ\n",
        tool: "Claude Code",
        matched: "Claude-Session: https://claude.ai/code/session_01KXa8bWq3XyZ",
    },
    Case {
        slug: "claude-github-app",
        author: (
            "claude[bot]",
            "209825114+claude[bot]@users.noreply.github.com",
        ),
        committer: (
            "claude[bot]",
            "209825114+claude[bot]@users.noreply.github.com",
        ),
        message: "Address review comments on the cache layer\n\n\
                  Co-authored-by: Carol <carol@example.com>\n",
        tool: "claude[bot]",
        matched: "author `claude[bot] <209825114+claude[bot]@users.noreply.github.com>`",
    },
];

const AIDER: &[Case] = &[
    Case {
        slug: "aider-author-name",
        author: ("Carol (aider)", "carol@example.com"),
        committer: ("Carol (aider)", "carol@example.com"),
        message: "feat: Add CSV export to the report view\n",
        tool: "aider",
        matched: "author `Carol (aider) <carol@example.com>`",
    },
    Case {
        slug: "aider-committer-name",
        author: CAROL,
        committer: ("Carol (aider)", "carol@example.com"),
        message: "fix: Handle empty report rows\n",
        tool: "aider",
        matched: "committer `Carol (aider) <carol@example.com>`",
    },
    Case {
        slug: "aider-co-author",
        author: CAROL,
        committer: CAROL,
        message: "feat: Add pagination to the orders API\n\n\
                  Co-authored-by: aider (anthropic/claude-sonnet-4-20250514) <aider@aider.chat>\n",
        tool: "aider",
        matched: "<aider@aider.chat>",
    },
    Case {
        slug: "aider-co-author-noreply",
        author: CAROL,
        committer: CAROL,
        message: "refactor: Extract the tax table\n\n\
                  Co-authored-by: aider (gpt-4o) <noreply@aider.chat>\n",
        tool: "aider",
        matched: "<noreply@aider.chat>",
    },
];

const COPILOT: &[Case] = &[
    Case {
        slug: "copilot-agent",
        author: (
            "copilot-swe-agent[bot]",
            "198982749+Copilot@users.noreply.github.com",
        ),
        committer: (
            "copilot-swe-agent[bot]",
            "198982749+Copilot@users.noreply.github.com",
        ),
        message: "Add input validation to the signup form\n\n\
                  Co-authored-by: carol-dev <4512345+carol-dev@users.noreply.github.com>\n",
        tool: "GitHub Copilot",
        matched: "198982749+Copilot@users.noreply.github.com",
    },
    Case {
        slug: "copilot-agent-name",
        // The bot's login as the name, with GitHub's generic address (a
        // commit made through the API, then rebased by GitHub).
        author: ("copilot-swe-agent[bot]", "noreply@github.com"),
        committer: GITHUB,
        message: "Initial plan\n",
        tool: "GitHub Copilot",
        matched: "author `copilot-swe-agent[bot] <noreply@github.com>`",
    },
    Case {
        slug: "copilot-agent-logs",
        author: CAROL,
        committer: CAROL,
        message: "Strengthen the reasoning trigger assertion\n\n\
                  Agent-Logs-Url: https://github.com/acme/shop/sessions/4c9eb0c2-ff29-4629-a61c-4e33d736d918\n\n\
                  Co-authored-by: Dave <dave@example.com>\n",
        tool: "GitHub Copilot",
        matched: "Agent-Logs-Url: https://github.com/acme/shop/sessions/",
    },
    Case {
        slug: "copilot-cli",
        author: CAROL,
        committer: CAROL,
        message: "Add jitter to idle sampling\n\n\
                  Co-authored-by: Copilot <223556219+Copilot@users.noreply.github.com>\n",
        tool: "GitHub Copilot",
        matched: "trailer `Co-authored-by: Copilot <223556219+Copilot@users.noreply.github.com>`",
    },
];

const CURSOR_CODEX: &[Case] = &[
    Case {
        slug: "cursor-agent",
        author: ("Cursor Agent", "cursoragent@cursor.com"),
        committer: ("Cursor Agent", "cursoragent@cursor.com"),
        message: "Refactor the price formatter\n",
        tool: "Cursor",
        matched: "author `Cursor Agent <cursoragent@cursor.com>`",
    },
    Case {
        slug: "cursor-co-author",
        author: CAROL,
        committer: CAROL,
        message: "Debounce the search box\n\n\
                  Co-authored-by: Cursor <cursoragent@cursor.com>\n",
        tool: "Cursor",
        matched: "trailer `Co-authored-by: Cursor <cursoragent@cursor.com>`",
    },
    Case {
        slug: "cursor-made-with",
        author: CAROL,
        committer: CAROL,
        message: "Fix the liquidity rounding\n\nMade-with: Cursor\n",
        tool: "Cursor",
        matched: "trailer `Made-with: Cursor`",
    },
    Case {
        slug: "codex-co-author",
        author: CAROL,
        committer: CAROL,
        message: "Add a batch recommend endpoint\n\n\
                  Co-authored-by: Codex <noreply@openai.com>\n",
        tool: "OpenAI Codex",
        matched: "trailer `Co-authored-by: Codex <noreply@openai.com>`",
    },
    Case {
        slug: "codex-cloud",
        author: (
            "chatgpt-codex-connector[bot]",
            "199175422+chatgpt-codex-connector[bot]@users.noreply.github.com",
        ),
        committer: GITHUB,
        message: "Fix off-by-one in the pager\n",
        tool: "OpenAI Codex",
        matched: "author `chatgpt-codex-connector[bot]",
    },
];

const AGENTS: &[Case] = &[
    Case {
        slug: "jules",
        author: (
            "google-labs-jules[bot]",
            "161369871+google-labs-jules[bot]@users.noreply.github.com",
        ),
        committer: (
            "google-labs-jules[bot]",
            "161369871+google-labs-jules[bot]@users.noreply.github.com",
        ),
        message: "docs: add questions to spec 562\n\n\
                  Added questions regarding the missing JobRole and Zone components.\n",
        tool: "Google Jules",
        matched: "161369871+google-labs-jules[bot]@users.noreply.github.com",
    },
    Case {
        slug: "jules-name",
        author: ("google-labs-jules[bot]", "noreply@github.com"),
        committer: GITHUB,
        message: "Add unit tests for the monitor\n",
        tool: "Google Jules",
        matched: "author `google-labs-jules[bot] <noreply@github.com>`",
    },
    Case {
        slug: "devin",
        author: (
            "devin-ai-integration[bot]",
            "158243242+devin-ai-integration[bot]@users.noreply.github.com",
        ),
        committer: (
            "devin-ai-integration[bot]",
            "158243242+devin-ai-integration[bot]@users.noreply.github.com",
        ),
        message: "Make timestamp fields optional in the schema\n",
        tool: "Devin",
        matched: "158243242+devin-ai-integration[bot]@users.noreply.github.com",
    },
    Case {
        slug: "devin-name",
        author: ("devin-ai-integration[bot]", "noreply@github.com"),
        committer: GITHUB,
        message: "Set basePath for PR previews\n",
        tool: "Devin",
        matched: "author `devin-ai-integration[bot] <noreply@github.com>`",
    },
    Case {
        slug: "devin-footer",
        author: CAROL,
        committer: CAROL,
        message: "style: gofmt all Go files\n\n\
                  Go 1.19+ gofmt reformats comment indentation.\n\n\
                  Generated with [Devin](https://devin.ai)\n",
        tool: "Devin",
        matched: "Generated with [Devin](https://devin.ai)",
    },
    Case {
        slug: "devin-run-link",
        author: CAROL,
        committer: GITHUB,
        message: "Add a history page (#42)\n\n\
                  Adds a page listing past reports.\n\n\
                  Link to Devin run: https://app.devin.ai/sessions/f2a16214fd36458c8d5a7664e1b96f13\n\
                  Requested by: Carol (carol@example.com)\n",
        tool: "Devin",
        matched: "Link to Devin run: https://app.devin.ai/sessions/f2a16214fd36458c8d5a7664e1b96f13",
    },
    Case {
        slug: "amp-co-author",
        author: CAROL,
        committer: CAROL,
        message: "fix(comments): typed sync metadata for all integrations\n\n\
                  Amp-Thread-ID: https://ampcode.com/threads/T-019bd659-8bfc-77be-90d9-9fae68275c32\n\
                  Co-authored-by: Amp <amp@ampcode.com>\n",
        tool: "Amp",
        matched: "trailer `Co-authored-by: Amp <amp@ampcode.com>`",
    },
    Case {
        slug: "amp-thread",
        author: CAROL,
        committer: CAROL,
        message: "macos: suppress split-focus click mouse reports\n\n\
                  Amp-Thread-ID: https://ampcode.com/threads/T-019cb9fe-b11b-753f-99e7-8ecc52b73ec4\n",
        tool: "Amp",
        matched: "trailer `Amp-Thread-ID: https://ampcode.com/threads/T-019cb9fe",
    },
    Case {
        slug: "amp-footer",
        author: CAROL,
        committer: CAROL,
        message: "Ship the changelog generator\n\n\
                  🤖 Generated with [Amp](https://ampcode.com)\n",
        tool: "Amp",
        matched: "Generated with [Amp](https://ampcode.com)",
    },
    Case {
        slug: "amazon-q",
        author: (
            "amazon-q-developer[bot]",
            "208079219+amazon-q-developer[bot]@users.noreply.github.com",
        ),
        committer: (
            "amazon-q-developer[bot]",
            "208079219+amazon-q-developer[bot]@users.noreply.github.com",
        ),
        message: "Upgrade the Lambda runtime to Python 3.12\n",
        tool: "Amazon Q Developer",
        matched: "208079219+amazon-q-developer[bot]@users.noreply.github.com",
    },
    Case {
        slug: "amazon-q-name",
        author: ("amazon-q-developer[bot]", "noreply@github.com"),
        committer: GITHUB,
        message: "Add retries to the S3 client\n",
        tool: "Amazon Q Developer",
        matched: "author `amazon-q-developer[bot] <noreply@github.com>`",
    },
];

const DISCLOSURES: &[Case] = &[
    Case {
        slug: "assisted-by",
        author: CAROL,
        committer: CAROL,
        message: "riscv: add resctrl monitoring domains\n\n\
                  The L3 mon_domain is created lazily on the first CPU of a cache_id.\n\n\
                  Assisted-by: Claude:claude-opus-4-7\n\
                  Signed-off-by: Carol <carol@example.com>\n",
        tool: "disclosed",
        matched: "trailer `Assisted-by: Claude:claude-opus-4-7`",
    },
    Case {
        slug: "generated-by",
        author: CAROL,
        committer: CAROL,
        message: "Fix null pointer in JdbcExecutor\n\nGenerated-by: GitHub Copilot\n",
        tool: "disclosed",
        matched: "trailer `Generated-by: GitHub Copilot`",
    },
    Case {
        slug: "co-authored-by-ai",
        author: CAROL,
        committer: CAROL,
        message: "Add hybrid PQC keys to audit logging\n\n\
                  Co-authored-by-AI: IBM Bob 1.0.0 (Claude Sonnet 4.6)\n",
        tool: "disclosed",
        matched: "trailer `Co-authored-by-AI: IBM Bob 1.0.0 (Claude Sonnet 4.6)`",
    },
];

fn run_all(cases: &[Case]) {
    let w = World::with_policy(&detect_policy(AI_ASSISTED_ONLY, ""));
    for case in cases {
        run_case(&w, case);
    }
}

#[test]
fn claude_code_marks_are_rejected_until_declared() {
    run_all(CLAUDE);
}

#[test]
fn aider_marks_are_rejected_until_declared() {
    run_all(AIDER);
}

#[test]
fn copilot_marks_are_rejected_until_declared() {
    run_all(COPILOT);
}

#[test]
fn cursor_and_codex_marks_are_rejected_until_declared() {
    run_all(CURSOR_CODEX);
}

#[test]
fn jules_devin_amp_and_amazon_q_marks_are_rejected_until_declared() {
    run_all(AGENTS);
}

#[test]
fn disclosure_trailers_are_rejected_until_declared_when_they_are_not_declaration_keys() {
    run_all(DISCLOSURES);
}

#[test]
fn disclosure_trailers_in_the_default_keys_declare_what_they_disclose() {
    // With the default `trailers.ai` (AI-Assisted, Assisted-by, Generated-by)
    // the disclosure is both a mark and a declaration: accepted as is.
    let w = World::with_policy(&detect_policy("", ""));
    for case in &DISCLOSURES[..2] {
        let refname = format!("refs/heads/ai/{}", case.slug);
        let oid = commit_as(&w, case.slug, case.author, case.committer, case.message);
        assert_detects(&w, &oid, case);
        assert!(facts(&w, &oid).ai_declared.is_some(), "{}", case.slug);
        w.push(&["origin", &format!("HEAD:{refname}")])
            .assert_accepted_silently();
        w.assert_server_ref(&refname, Some(&oid));
    }
    // `Co-authored-by-AI` is not a default declaration key.
    let case = &DISCLOSURES[2];
    let refname = format!("refs/heads/ai/{}", case.slug);
    let oid = commit_as(&w, case.slug, case.author, case.committer, case.message);
    w.push(&["origin", &format!("HEAD:{refname}")])
        .assert_rejected_with(1)
        .assert_violation("error", RULE, &refname, &oid, case.subject());
}

#[test]
fn every_builtin_marker_has_a_realistic_case() {
    // Each case must be the first marker to fire on its commit, and together
    // they must exercise every row of the built-in table.
    let all: Vec<Case> = [
        CLAUDE,
        AIDER,
        COPILOT,
        CURSOR_CODEX,
        AGENTS,
        DISCLOSURES,
        super::recent::STRONG,
        super::recent::WEAK,
    ]
    .concat();
    let markers = trailgate::facts::ai::builtin();
    let mut fired = vec![false; markers.len()];
    for case in &all {
        let author = ident(case.author);
        let committer = ident(case.committer);
        let trailers = trailgate::facts::trailers::from_commit_message(case.message.as_bytes());
        let seen = trailgate::facts::ai::Seen::new(&trailers, &author, &committer, case.message);
        let first = markers.iter().position(|m| m.detect(&seen).is_some());
        let first = first.unwrap_or_else(|| panic!("{}: no marker fires", case.slug));
        fired[first] = true;
    }
    let missing: Vec<&str> = markers
        .iter()
        .zip(&fired)
        .filter(|(_, &f)| !f)
        .map(|(m, _)| m.evidence.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "built-in markers without a case: {missing:?}"
    );
}

fn ident(who: Who) -> trailgate::git::object::Ident {
    trailgate::git::object::Ident {
        name: who.0.as_bytes().to_vec(),
        email: who.1.as_bytes().to_vec(),
        time: 0,
    }
}
