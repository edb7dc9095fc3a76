//! The built-in table of marks AI coding tools leave in commits: data, each
//! row with the evidence it was taken from, and its compilation into
//! [`Marker`]s.

use super::*;

/// Where a built-in mark is looked for.
#[derive(Debug, Clone, Copy)]
pub(super) enum Place {
    /// A trailer with this key whose value matches the pattern.
    Trailer(&'static str),
    /// A disclosure trailer with this key and a value that is not negative
    /// (the pattern is unused and left empty).
    Disclosure(&'static str),
    /// The e-mail of the author, the committer or a `Co-authored-by` trailer.
    Identity,
    /// The author's or committer's name.
    Name,
    /// The whole message.
    Message,
}

/// One row of the built-in table.
#[derive(Debug, Clone, Copy)]
pub(super) struct Builtin {
    /// The tool that leaves the mark, as the pusher knows it.
    pub(super) tool: &'static str,
    pub(super) place: Place,
    /// A regex; e-mail and name patterns are case-insensitive because git
    /// hosts compare addresses and logins that way.
    pub(super) pattern: &'static str,
    /// The mark in a few words, shown with the match.
    pub(super) mark: &'static str,
}

/// The marks AI coding tools leave in commits. Each row's comment names
/// where the mark was seen: the tool's documentation or source, or public
/// commits that carry it.
///
/// GitHub bot e-mails are `<account id>+<login>@users.noreply.github.com`;
/// the id is optional in the patterns (hand-written trailers often drop it)
/// but the login is matched whole, so `notdevin-ai-integration[bot]` is not
/// Devin.
pub(super) const BUILTIN: &[Builtin] = &[
    // Claude Code writes `Co-Authored-By: Claude <noreply@anthropic.com>`
    // (the name is the model: `Claude Opus 4.5`, `Claude Sonnet 4.5`).
    // Documented as the default of the `attribution.commit` setting; seen in
    // anthropics/claude-code issues #9224, #14241 and #29999.
    Builtin {
        tool: "Claude Code",
        place: Place::Identity,
        pattern: r"(?i)^noreply@anthropic\.com$",
        mark: "Anthropic's no-reply address as co-author",
    },
    // Claude Code's footer `🤖 Generated with [Claude Code](https://claude.com/claude-code)`
    // (older versions link https://claude.ai/code); quoted in
    // anthropics/claude-code issues #9224, #14241 and #18253. Anchored to the
    // start of a line and the Markdown link.
    Builtin {
        tool: "Claude Code",
        place: Place::Message,
        pattern: r"(?m)^[^\w\n]*Generated with \[Claude Code\]\(https?://[^)\s]+\)",
        mark: "its `Generated with [Claude Code]` footer",
    },
    // Newer Claude Code versions end commits with
    // `Claude-Session: https://claude.ai/code/session_<id>`
    // (anthropics/claude-code issue #77830).
    Builtin {
        tool: "Claude Code",
        place: Place::Trailer("Claude-Session"),
        pattern: r"(?i)^https://claude\.ai/code/",
        mark: "its `Claude-Session` trailer",
    },
    // The Claude GitHub app (anthropics/claude-code-action) commits and
    // co-authors as `claude[bot] <209825114+claude[bot]@users.noreply.github.com>`;
    // seen in public commit logs and AGENTS.md conventions.
    Builtin {
        tool: "Claude (GitHub app)",
        place: Place::Identity,
        pattern: r"(?i)^(\d+\+)?claude\[bot\]@users\.noreply\.github\.com$",
        mark: "the claude[bot] account",
    },
    // aider appends ` (aider)` to the author and committer names
    // (`--attribute-author`, `--attribute-committer`): aider/repo.py,
    // `committer_name = f"{original_user_name} (aider)"` (Aider-AI/aider).
    Builtin {
        tool: "aider",
        place: Place::Name,
        pattern: r"(?i)\(aider\)\s*$",
        mark: "`(aider)` appended to the name",
    },
    // aider's `--attribute-co-authored-by` (default since v0.85):
    // `Co-authored-by: aider (<model>) <aider@aider.chat>` in aider/repo.py;
    // development builds wrote `<noreply@aider.dev>` (commit 278a596 in a
    // public aider mirror) and `<noreply@aider.chat>` is widely quoted.
    Builtin {
        tool: "aider",
        place: Place::Identity,
        pattern: r"(?i)^(aider|noreply)@aider\.(chat|dev)$",
        mark: "aider's address as co-author",
    },
    // GitHub Copilot's coding agent commits as
    // `copilot-swe-agent[bot] <198982749+Copilot@users.noreply.github.com>`
    // (seen in Z3Prover/z3 and bytedance/deer-flow squash commits); Copilot
    // CLI adds `Co-authored-by: Copilot <223556219+Copilot@users.noreply.github.com>`
    // (github/copilot-cli issue #3177, shipped in v0.0.410). The `Copilot`
    // login belongs to GitHub, so any id is accepted.
    Builtin {
        tool: "GitHub Copilot",
        place: Place::Identity,
        pattern: r"(?i)^(\d+\+)?(copilot|copilot-swe-agent(\[bot\])?)@users\.noreply\.github\.com$",
        mark: "the Copilot account's GitHub address",
    },
    // The coding agent's author name, whatever address it is paired with.
    Builtin {
        tool: "GitHub Copilot",
        place: Place::Name,
        pattern: r"(?i)^copilot-swe-agent\[bot\]$",
        mark: "the copilot-swe-agent[bot] account",
    },
    // The coding agent links its session:
    // `Agent-Logs-Url: https://github.com/<owner>/<repo>/sessions/<uuid>`
    // (seen in bytedance/deer-flow commits). It often stands in its own
    // paragraph above `Co-authored-by`, where git does not read it as a
    // trailer, so the line is matched anywhere in the message.
    Builtin {
        tool: "GitHub Copilot",
        place: Place::Message,
        pattern: r"(?mi)^Agent-Logs-Url:[ \t]*https://github\.com/\S+/sessions/\S+",
        mark: "the coding agent's `Agent-Logs-Url` line",
    },
    // Cursor's agents commit as `Cursor Agent <cursoragent@cursor.com>` and
    // add `Co-authored-by: Cursor <cursoragent@cursor.com>` (quoted in
    // AGENTS.md files that ask agents not to, e.g. QSchlegel/mine-dine).
    Builtin {
        tool: "Cursor",
        place: Place::Identity,
        pattern: r"(?i)^cursoragent@cursor\.com$",
        mark: "Cursor's agent address",
    },
    // Cursor's `git commit --trailer "Made-with: Cursor"` (seen in public
    // scripts and in commit-msg hooks that strip it).
    Builtin {
        tool: "Cursor",
        place: Place::Trailer("Made-with"),
        pattern: r"(?i)^cursor$",
        mark: "its `Made-with: Cursor` trailer",
    },
    // OpenAI Codex: `DEFAULT_ATTRIBUTION_VALUE = "Codex <noreply@openai.com>"`
    // and `Co-authored-by: {value}` in codex-rs/core/src/commit_attribution.rs
    // (openai/codex); `codex@openai.com` is the form projects' AGENTS.md ask
    // for (s-morgan-jeffries/apple-mail-fast-mcp PR #455).
    Builtin {
        tool: "OpenAI Codex",
        place: Place::Identity,
        pattern: r"(?i)^(noreply|codex)@openai\.com$",
        mark: "OpenAI's Codex address as co-author",
    },
    // Codex cloud's GitHub app `chatgpt-codex-connector[bot]`
    // (199175422+chatgpt-codex-connector[bot]@users.noreply.github.com in
    // published bot lists).
    Builtin {
        tool: "OpenAI Codex",
        place: Place::Identity,
        pattern: r"(?i)^(\d+\+)?chatgpt-codex-connector\[bot\]@users\.noreply\.github\.com$",
        mark: "the chatgpt-codex-connector[bot] account",
    },
    // Google Jules commits and co-authors as
    // `google-labs-jules[bot] <161369871+google-labs-jules[bot]@users.noreply.github.com>`
    // (seen in public changelogs and squash commits).
    Builtin {
        tool: "Google Jules",
        place: Place::Identity,
        pattern: r"(?i)^(\d+\+)?google-labs-jules\[bot\]@users\.noreply\.github\.com$",
        mark: "the google-labs-jules[bot] account",
    },
    Builtin {
        tool: "Google Jules",
        place: Place::Name,
        pattern: r"(?i)^google-labs-jules\[bot\]$",
        mark: "the google-labs-jules[bot] account",
    },
    // Devin commits as `devin-ai-integration[bot]` and co-authors as
    // `Co-Authored-By: Devin <158243242+devin-ai-integration[bot]@users.noreply.github.com>`
    // (Devin CLI's commit instructions, quoted in public repositories).
    Builtin {
        tool: "Devin",
        place: Place::Identity,
        pattern: r"(?i)^(\d+\+)?devin-ai-integration\[bot\]@users\.noreply\.github\.com$",
        mark: "the devin-ai-integration[bot] account",
    },
    Builtin {
        tool: "Devin",
        place: Place::Name,
        pattern: r"(?i)^devin-ai-integration\[bot\]$",
        mark: "the devin-ai-integration[bot] account",
    },
    // Devin's footer `Generated with [Devin](https://devin.ai)` (the CLI
    // links https://cli.devin.ai/docs).
    Builtin {
        tool: "Devin",
        place: Place::Message,
        pattern: r"(?m)^[^\w\n]*Generated with \[Devin\]\(https?://[^)\s]*devin\.ai[^)\s]*\)",
        mark: "its `Generated with [Devin]` footer",
    },
    // Devin's PR bodies (and the squash commits made from them) end with
    // `Link to Devin run: https://app.devin.ai/sessions/<id>`.
    Builtin {
        tool: "Devin",
        place: Place::Message,
        pattern: r"(?i)Link to Devin run\W{0,8}https://app\.devin\.ai/sessions/\w+",
        mark: "its `Link to Devin run` line",
    },
    // Sourcegraph Amp rewrites `git commit` to add
    // `Co-authored-by: Amp <amp@ampcode.com>` (settings
    // `amp.git.commit.coauthor.enabled`, `amp.git.commit.ampThread.enabled`).
    Builtin {
        tool: "Amp",
        place: Place::Identity,
        pattern: r"(?i)^amp@ampcode\.com$",
        mark: "Amp's address as co-author",
    },
    // ... and `Amp-Thread-ID: https://ampcode.com/threads/T-<uuid>`
    // (ghostty-org/ghostty commit 3ee8ef4).
    Builtin {
        tool: "Amp",
        place: Place::Trailer("Amp-Thread-ID"),
        pattern: r"(?i)^https://ampcode\.com/threads/",
        mark: "its `Amp-Thread-ID` trailer",
    },
    // The footer `🤖 Generated with [Amp](https://ampcode.com)`, in the same
    // format as Claude Code's (seen in agent instruction files and PRs).
    Builtin {
        tool: "Amp",
        place: Place::Message,
        pattern: r"(?m)^[^\w\n]*Generated with \[Amp\]\(https?://[^)\s]*ampcode\.com[^)\s]*\)",
        mark: "its `Generated with [Amp]` footer",
    },
    // Amazon Q Developer's GitHub app commits as
    // `amazon-q-developer[bot] <208079219+amazon-q-developer[bot]@users.noreply.github.com>`
    // (GitHub users API, as listed by CHAOSS-style bot lists).
    Builtin {
        tool: "Amazon Q Developer",
        place: Place::Identity,
        pattern: r"(?i)^(\d+\+)?amazon-q-developer\[bot\]@users\.noreply\.github\.com$",
        mark: "the amazon-q-developer[bot] account",
    },
    Builtin {
        tool: "Amazon Q Developer",
        place: Place::Name,
        pattern: r"(?i)^amazon-q-developer\[bot\]$",
        mark: "the amazon-q-developer[bot] account",
    },
    // `Assisted-by: AGENT_NAME:MODEL_VERSION [TOOL1] [TOOL2]`: the Linux
    // kernel's Documentation/process/coding-assistants.rst; also Fedora's
    // AI-Assisted Contributions Policy (Oct 2025), LLVM's AI tool policy and
    // the OpenInfra Foundation's (`Assisted-By: <tool> [model]`).
    Builtin {
        tool: "an AI tool (disclosed)",
        place: Place::Disclosure("Assisted-by"),
        pattern: "",
        mark: "the `Assisted-by` disclosure trailer",
    },
    // `Generated-by:`: the ASF Generative Tooling Guidance and the OpenInfra
    // Foundation policy (`Generated-By: <tool> [model]`, e.g. OpenStack Nova).
    Builtin {
        tool: "an AI tool (disclosed)",
        place: Place::Disclosure("Generated-by"),
        pattern: "",
        mark: "the `Generated-by` disclosure trailer",
    },
    // `Co-authored-by-AI: <tool> (<model>)`: the trailer some projects'
    // CONTRIBUTING files require (e.g. `Co-authored-by-AI: IBM Bob 1.0.0`).
    Builtin {
        tool: "an AI tool (disclosed)",
        place: Place::Disclosure("Co-authored-by-AI"),
        pattern: "",
        mark: "the `Co-authored-by-AI` disclosure trailer",
    },
];

/// The built-in markers, compiled. An entry that fails to compile is a bug
/// in this table and is caught by the unit tests below; at run time it is
/// skipped rather than taking the hook down.
pub fn builtin() -> Vec<Marker> {
    BUILTIN
        .iter()
        .filter_map(|b| {
            let re = || Some(Pattern::lazy(b.pattern));
            let kind = match b.place {
                Place::Trailer(key) => MarkerKind::Trailer {
                    key: key.to_owned(),
                    value: Some(re()?),
                },
                Place::Disclosure(key) => MarkerKind::Disclosure {
                    key: key.to_owned(),
                },
                Place::Identity => MarkerKind::Identity(re()?),
                Place::Name => MarkerKind::Name(re()?),
                Place::Message => MarkerKind::Message(re()?),
            };
            Some(Marker {
                kind,
                evidence: format!("{}: {}", b.tool, b.mark),
            })
        })
        .collect()
}
