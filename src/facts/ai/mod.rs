//! Detecting AI assistance from the marks AI coding tools leave in commits.
//!
//! This module owns the built-in table of marks ([`BUILTIN`]) and the
//! matching of a [`Marker`] against what a commit shows: its trailers, its
//! author and committer (name and e-mail), the e-mails of its
//! `Co-authored-by` trailers, and its message. `ai.markers` in the policy adds
//! an organisation's own markers; [`crate::policy`] compiles them through the
//! `*_owned` constructors.
//!
//! It does not own declared assistance (`AI-Assisted: yes`): that is read in
//! [`crate::facts`] from the policy's `trailers.ai` keys. Nor does it decide
//! anything: [`crate::facts`] keeps the first marker that fires, and rules
//! decide what a detection means.
//!
//! Precision comes first: every built-in pattern is anchored to a tool's own
//! address, bot account, trailer key or footer format, so a commit that only
//! mentions "Claude", "Copilot", "Cursor" or "aider" in its subject or body,
//! or credits a human co-author, is not detected.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

use crate::facts::trailers::Trailer;
use crate::git::object::Ident;

/// The trailer key that credits a co-author (case-insensitive, as GitHub
/// and GitLab read it).
const CO_AUTHORED_BY: &str = "Co-authored-by";

/// Values of a disclosure trailer that disclose nothing (`Assisted-by: none`),
/// matched after trimming, case-insensitively. Mirrors the default
/// `trailers.ai_negative`, plus the empty value.
const NEGATIVE: &str = r"(?i)^(|no|none|false|0|n/a|-)$";

/// What a commit shows a marker: everything a mark can sit in, decoded
/// once per commit rather than once per marker (with some 27 markers, the
/// repeated UTF-8 checks were a fifth of a large push's time).
#[derive(Debug, Clone)]
pub struct Seen<'a> {
    /// The trailers as git reads them.
    trailers: &'a [Trailer<'a>],
    /// Author, then committer.
    people: [Person<'a>; 2],
    /// The whole message, UTF-8 (lossy) as `git log` shows it.
    message: &'a str,
}

#[derive(Debug, Clone)]
struct Person<'a> {
    role: &'static str,
    who: &'a Ident,
    name: Cow<'a, str>,
    email: Cow<'a, str>,
}

impl<'a> Person<'a> {
    fn new(role: &'static str, who: &'a Ident) -> Self {
        Person {
            role,
            who,
            name: String::from_utf8_lossy(&who.name),
            email: String::from_utf8_lossy(&who.email),
        }
    }
}

impl<'a> Seen<'a> {
    /// `message` is the commit message as `git log` shows it (lossy UTF-8).
    pub fn new(
        trailers: &'a [Trailer<'a>],
        author: &'a Ident,
        committer: &'a Ident,
        message: &'a str,
    ) -> Self {
        Seen {
            trailers,
            people: [
                Person::new("author", author),
                Person::new("committer", committer),
            ],
            message,
        }
    }
}

/// A marker's regex. The built-in ones are compiled on first use, and only
/// when the text contains the literal every match must contain (derived
/// from the pattern): compiling all of them up front cost 8 ms of every
/// hook run, four times the rest of the start-up, and an ordinary commit
/// needs none of them. Policy markers arrive compiled (the loader reports
/// bad ones at their line).
#[derive(Debug, Clone)]
pub struct Pattern {
    source: &'static str,
    /// Lower-cased text every match contains; where it is absent from the
    /// (lower-cased) input the regex cannot match and is not even compiled.
    needle: Option<String>,
    re: OnceLock<Option<Regex>>,
}

impl Pattern {
    fn lazy(source: &'static str) -> Self {
        Pattern {
            source,
            needle: required_literal(source),
            re: OnceLock::new(),
        }
    }

    pub fn compiled(re: Regex) -> Self {
        Pattern {
            source: "",
            needle: None,
            re: OnceLock::from(Some(re)),
        }
    }

    /// The compiled regex; `None` only for a built-in pattern that does not
    /// compile, which a unit test rules out.
    fn regex(&self) -> Option<&Regex> {
        self.re
            .get_or_init(|| Regex::new(self.source).ok())
            .as_ref()
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.find(text).is_some()
    }

    pub fn find<'t>(&self, text: &'t str) -> Option<regex::Match<'t>> {
        // Only on ASCII text is lower-casing exactly what `(?i)` matches
        // (Unicode case folding also pairs `ſ` with `s`, `K` with `k`).
        if let Some(needle) = &self.needle {
            if text.is_ascii() && !contains_ignore_ascii_case(text.as_bytes(), needle.as_bytes()) {
                return None;
            }
        }
        self.regex()?.find(text)
    }
}

/// Whether `haystack` contains `needle` (lower-case ASCII), ignoring ASCII
/// case; without lower-casing a copy of the haystack, which allocated once
/// per marker and commit.
fn contains_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let upper = first.to_ascii_uppercase();
    let mut from = 0;
    while let Some(at) = haystack
        .get(from..)
        .and_then(|h| memchr::memchr2(first, upper, h))
    {
        let start = from + at + 1;
        match haystack.get(start..start + rest.len()) {
            Some(tail) if tail.eq_ignore_ascii_case(rest) => return true,
            Some(_) => from = start,
            None => return false,
        }
    }
    false
}

/// The longest run of literal text that every match of `pattern` contains,
/// lower-cased, if it is at least 4 characters long. Conservative: only runs
/// outside groups and classes, none when the pattern has a top-level `|`,
/// and a character followed by `?`, `*` or `{` is not part of a run.
fn required_literal(pattern: &str) -> Option<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut best = String::new();
    let mut run = String::new();
    let mut depth = 0usize;
    let mut i = 0;
    let flush = |run: &mut String, best: &mut String| {
        if run.chars().count() > best.chars().count() {
            *best = run.clone();
        }
        run.clear();
    };
    while let Some(&c) = chars.get(i) {
        i += 1;
        let literal = match c {
            '\\' => {
                let next = chars.get(i).copied();
                i += 1;
                match next {
                    Some(n) if n.is_ascii_punctuation() => Some(n),
                    _ => None,
                }
            }
            '(' => {
                depth += 1;
                None
            }
            ')' => {
                depth = depth.saturating_sub(1);
                None
            }
            '[' => {
                // Skip the class, including an escaped or leading `]`.
                if chars.get(i) == Some(&']') {
                    i += 1;
                }
                while let Some(&d) = chars.get(i) {
                    i += 1;
                    if d == '\\' {
                        i += 1;
                    } else if d == ']' {
                        break;
                    }
                }
                None
            }
            '|' if depth == 0 => return None,
            '?' | '*' | '{' => {
                run.pop();
                if c == '{' {
                    // A counted repetition: `{m,n}` is not text to match.
                    while let Some(&d) = chars.get(i) {
                        i += 1;
                        if d == '}' {
                            break;
                        }
                    }
                }
                None
            }
            '+' | '^' | '$' | '.' | '|' | '}' => None,
            c => Some(c),
        };
        match literal {
            Some(l) if depth == 0 => {
                // A quantifier right after the character makes it optional.
                if matches!(chars.get(i), Some('?' | '*' | '{')) {
                    flush(&mut run, &mut best);
                } else {
                    run.push(l);
                }
            }
            _ => flush(&mut run, &mut best),
        }
    }
    flush(&mut run, &mut best);
    (best.chars().count() >= 4 && best.is_ascii()).then(|| best.to_ascii_lowercase())
}

/// What a marker looks at.
#[derive(Debug, Clone)]
pub enum MarkerKind {
    /// A trailer with this key (case-insensitive) whose value matches, if a
    /// pattern is given.
    Trailer { key: String, value: Option<Pattern> },
    /// A disclosure trailer (`Assisted-by: ...`): this key with any value but
    /// an empty or negative one.
    Disclosure { key: String, negative: Pattern },
    /// The author's or committer's e-mail (the policy's `{ author = ... }`).
    Author(Pattern),
    /// The e-mail of the author, the committer or any `Co-authored-by`
    /// trailer: the places a tool's own address shows up.
    Identity(Pattern),
    /// The author's or committer's name.
    Name(Pattern),
    /// The whole commit message.
    Message(Pattern),
}

#[derive(Debug, Clone)]
pub struct Marker {
    pub kind: MarkerKind,
    /// Where the mark comes from, shown when it fires.
    pub evidence: String,
}

impl Marker {
    pub fn trailer_owned(key: String, value: Option<Regex>) -> Self {
        Marker {
            kind: MarkerKind::Trailer {
                key,
                value: value.map(Pattern::compiled),
            },
            evidence: "ai.markers in the policy".into(),
        }
    }

    pub fn author_owned(re: Regex) -> Self {
        Marker {
            kind: MarkerKind::Author(Pattern::compiled(re)),
            evidence: "ai.markers in the policy".into(),
        }
    }

    pub fn message_owned(re: Regex) -> Self {
        Marker {
            kind: MarkerKind::Message(Pattern::compiled(re)),
            evidence: "ai.markers in the policy".into(),
        }
    }

    /// Whether the marker fires on a commit; returns a description of what
    /// matched (`trailer `Key: value``, `author Name <email>`, ...).
    pub fn detect(&self, seen: &Seen<'_>) -> Option<String> {
        match &self.kind {
            MarkerKind::Trailer { key, value } => seen.trailers.iter().find_map(|t| {
                let hit = t.key_is(key)
                    && value
                        .as_ref()
                        .is_none_or(|re| re.is_match(&String::from_utf8_lossy(&t.value)));
                hit.then(|| describe_trailer(t))
            }),
            MarkerKind::Disclosure { key, negative } => seen.trailers.iter().find_map(|t| {
                let hit =
                    t.key_is(key) && !negative.is_match(String::from_utf8_lossy(&t.value).trim());
                hit.then(|| describe_trailer(t))
            }),
            MarkerKind::Author(re) => seen.people.iter().find_map(|p| {
                re.is_match(&p.email)
                    .then(|| describe_person(p.role, p.who))
            }),
            MarkerKind::Identity(re) => seen
                .people
                .iter()
                .find_map(|p| {
                    re.is_match(&p.email)
                        .then(|| describe_person(p.role, p.who))
                })
                .or_else(|| {
                    seen.trailers
                        .iter()
                        .filter(|t| t.key_is(CO_AUTHORED_BY))
                        .find_map(|t| {
                            let value = String::from_utf8_lossy(&t.value);
                            re.is_match(email_of(&value)).then(|| describe_trailer(t))
                        })
                }),
            MarkerKind::Name(re) => seen
                .people
                .iter()
                .find_map(|p| re.is_match(&p.name).then(|| describe_person(p.role, p.who))),
            MarkerKind::Message(re) => re
                .find(seen.message)
                .map(|m| format!("message text `{}`", m.as_str().trim())),
        }
    }
}

fn describe_trailer(t: &Trailer<'_>) -> String {
    format!(
        "trailer `{}: {}`",
        String::from_utf8_lossy(&t.key),
        String::from_utf8_lossy(&t.value)
    )
}

fn describe_person(role: &str, who: &Ident) -> String {
    format!("{role} `{}`", who.display())
}

/// The address of a `Name <email>` trailer value (what is between the last
/// `<` and the `>` after it), or the whole trimmed value when it has none.
fn email_of(value: &str) -> &str {
    value
        .rsplit_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map_or(value, |(email, _)| email)
        .trim()
}

/// Where a built-in mark is looked for.
#[derive(Debug, Clone, Copy)]
enum Place {
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
struct Builtin {
    /// The tool that leaves the mark, as the pusher knows it.
    tool: &'static str,
    place: Place,
    /// A regex; e-mail and name patterns are case-insensitive because git
    /// hosts compare addresses and logins that way.
    pattern: &'static str,
    /// The mark in a few words, shown with the match.
    mark: &'static str,
}

/// The marks AI coding tools leave in commits. Each row's comment names
/// where the mark was seen: the tool's documentation or source, or public
/// commits that carry it.
///
/// GitHub bot e-mails are `<account id>+<login>@users.noreply.github.com`;
/// the id is optional in the patterns (hand-written trailers often drop it)
/// but the login is matched whole, so `notdevin-ai-integration[bot]` is not
/// Devin.
const BUILTIN: &[Builtin] = &[
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
    let negative = Pattern::lazy(NEGATIVE);
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
                    negative: negative.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    #[test]
    fn required_literals_are_text_every_match_contains() {
        assert_eq!(
            required_literal(r"(?i)^noreply@anthropic\.com$").as_deref(),
            Some("noreply@anthropic.com")
        );
        assert_eq!(
            required_literal(r"(?m)^[^\w\n]*Generated with \[Claude Code\]\(https?://[^)\s]+\)")
                .as_deref(),
            Some("generated with [claude code](http")
        );
        assert_eq!(
            required_literal(r"(?i)^(aider|noreply)@aider\.(chat|dev)$").as_deref(),
            Some("@aider.")
        );
        assert_eq!(required_literal(r"a|bcdefgh"), None);
        assert_eq!(required_literal(r"x{1000}yz"), None);
        assert_eq!(required_literal(r"abcd?e"), None);
        assert_eq!(
            required_literal(r"Link to Devin run\W{0,8}https").as_deref(),
            Some("link to devin run")
        );
    }

    #[test]
    fn every_builtin_match_contains_its_needle() {
        // The needle may only ever skip texts the regex cannot match.
        for b in BUILTIN.iter().filter(|b| !b.pattern.is_empty()) {
            if let Some(needle) = required_literal(b.pattern) {
                let re = Regex::new(b.pattern).unwrap();
                for case in [b.tool, b.mark] {
                    if let Some(m) = re.find(case) {
                        assert!(
                            m.as_str().to_ascii_lowercase().contains(&needle),
                            "{} / {needle}",
                            b.pattern
                        );
                    }
                }
            }
        }
    }

    /// The built-ins, compiled once for all tests.
    fn markers() -> &'static [Marker] {
        static MARKERS: OnceLock<Vec<Marker>> = OnceLock::new();
        MARKERS.get_or_init(builtin)
    }

    fn ident(name: &str, email: &str) -> Ident {
        Ident {
            name: name.as_bytes().to_vec(),
            email: email.as_bytes().to_vec(),
            time: 0,
        }
    }

    /// A commit as the built-ins see it: author = committer = `who`, the
    /// trailers read from `message` as git reads them.
    fn detect_all(who: (&str, &str), committer: (&str, &str), message: &str) -> Option<String> {
        let author = ident(who.0, who.1);
        let committer = ident(committer.0, committer.1);
        let trailers = crate::facts::trailers::from_commit_message(message.as_bytes());
        let seen = Seen::new(&trailers, &author, &committer, message);
        markers()
            .iter()
            .find_map(|m| m.detect(&seen).map(|hit| format!("{hit} ({})", m.evidence)))
    }

    const CAROL: (&str, &str) = ("Carol", "carol@example.com");

    fn detect(message: &str) -> Option<String> {
        detect_all(CAROL, CAROL, message)
    }

    fn detect_person(who: (&str, &str)) -> Option<String> {
        detect_all(who, who, "Fix the parser\n\nIt dropped the last line.\n")
    }

    #[track_caller]
    fn assert_detected(hit: Option<String>, tool: &str, matched: &str) {
        let hit = hit.unwrap_or_else(|| panic!("expected {tool} to be detected"));
        assert!(hit.contains(tool), "{hit:?} should name {tool}");
        assert!(hit.contains(matched), "{hit:?} should show {matched:?}");
    }

    #[test]
    fn every_builtin_marker_compiles() {
        assert_eq!(builtin().len(), BUILTIN.len());
        assert!(Regex::new(NEGATIVE).is_ok());
    }

    #[test]
    fn every_builtin_marker_names_its_tool_and_mark() {
        for b in BUILTIN {
            assert!(!b.tool.is_empty() && !b.mark.is_empty(), "{b:?}");
            let trailer_key = match b.place {
                Place::Trailer(k) | Place::Disclosure(k) => Some(k),
                _ => None,
            };
            if let Some(key) = trailer_key {
                assert!(crate::policy::valid_trailer_key(key), "{key}");
            }
            let needs_pattern = !matches!(b.place, Place::Disclosure(_));
            assert_eq!(needs_pattern, !b.pattern.is_empty(), "{b:?}");
        }
    }

    #[test]
    fn claude_code_marks_are_detected() {
        assert_detected(
            detect("Add retries\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n"),
            "Claude Code",
            "Co-Authored-By: Claude <noreply@anthropic.com>",
        );
        assert_detected(
            detect("Add retries\n\nCo-authored-by: Claude Opus 4.5 <NoReply@Anthropic.com>\n"),
            "Claude Code",
            "Claude Opus 4.5",
        );
        assert_detected(
            detect(
                "Add retries\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n",
            ),
            "Claude Code",
            "Generated with [Claude Code]",
        );
        assert_detected(
            detect("Add retries\n\nClaude-Session: https://claude.ai/code/session_01AbC\n"),
            "Claude Code",
            "Claude-Session",
        );
        assert_detected(
            detect_person((
                "claude[bot]",
                "209825114+claude[bot]@users.noreply.github.com",
            )),
            "claude[bot]",
            "author `claude[bot]",
        );
    }

    #[test]
    fn aider_marks_are_detected_in_names_and_co_authors() {
        assert_detected(
            detect_person(("Carol (aider)", "carol@example.com")),
            "aider",
            "author `Carol (aider) <carol@example.com>`",
        );
        // aider changes only the committer for commits it did not write.
        assert_detected(
            detect_all(CAROL, ("Carol (aider)", "carol@example.com"), "Fix\n"),
            "aider",
            "committer `Carol (aider)",
        );
        for address in [
            "aider@aider.chat",
            "noreply@aider.chat",
            "noreply@aider.dev",
        ] {
            assert_detected(
                detect(&format!(
                    "Fix\n\nCo-authored-by: aider (gpt-4o) <{address}>\n"
                )),
                "aider",
                address,
            );
        }
    }

    #[test]
    fn bot_accounts_are_detected_as_author_committer_or_co_author() {
        let bots = [
            (
                "copilot-swe-agent[bot]",
                "198982749+Copilot@users.noreply.github.com",
                "GitHub Copilot",
            ),
            (
                "Copilot",
                "223556219+Copilot@users.noreply.github.com",
                "GitHub Copilot",
            ),
            ("Cursor Agent", "cursoragent@cursor.com", "Cursor"),
            (
                "google-labs-jules[bot]",
                "161369871+google-labs-jules[bot]@users.noreply.github.com",
                "Google Jules",
            ),
            (
                "devin-ai-integration[bot]",
                "158243242+devin-ai-integration[bot]@users.noreply.github.com",
                "Devin",
            ),
            (
                "amazon-q-developer[bot]",
                "208079219+amazon-q-developer[bot]@users.noreply.github.com",
                "Amazon Q Developer",
            ),
            (
                "chatgpt-codex-connector[bot]",
                "199175422+chatgpt-codex-connector[bot]@users.noreply.github.com",
                "OpenAI Codex",
            ),
        ];
        for (name, email, tool) in bots {
            assert_detected(detect_person((name, email)), tool, email);
            assert_detected(detect_all(CAROL, (name, email), "Fix\n"), tool, "committer");
            assert_detected(
                detect(&format!("Fix\n\nCo-authored-by: {name} <{email}>\n")),
                tool,
                "trailer `Co-authored-by",
            );
            // A bot's name with an ordinary address is still the bot, when
            // the name is a `[bot]` login.
            if name.ends_with("[bot]") && !name.starts_with("chatgpt") {
                assert_detected(detect_person((name, "noreply@github.com")), tool, name);
            }
        }
        // Upper case, as some tools and hosts write them.
        assert_detected(
            detect_person(("Copilot", "198982749+COPILOT@USERS.NOREPLY.GITHUB.COM")),
            "GitHub Copilot",
            "COPILOT",
        );
    }

    #[test]
    fn tool_trailers_and_footers_are_detected() {
        let cases = [
            ("Co-authored-by: Codex <noreply@openai.com>", "OpenAI Codex"),
            ("Co-authored-by: Cursor <cursoragent@cursor.com>", "Cursor"),
            ("Made-with: Cursor", "Cursor"),
            ("Co-authored-by: Amp <amp@ampcode.com>", "Amp"),
            (
                "Amp-Thread-ID: https://ampcode.com/threads/T-019cb9fe-b11b-753f-99e7-8ecc52b73ec4",
                "Amp",
            ),
            (
                "Assisted-by: Claude:claude-opus-4-7 coccinelle",
                "disclosed",
            ),
            ("Generated-by: ChatGPT 4o", "disclosed"),
            (
                "Co-authored-by-AI: IBM Bob 1.0.0 (Claude Sonnet 4.6)",
                "disclosed",
            ),
        ];
        for (trailer, tool) in cases {
            assert_detected(
                detect(&format!("Fix\n\nBody.\n\n{trailer}\n")),
                tool,
                trailer,
            );
        }
        let footers = [
            ("Generated with [Devin](https://devin.ai)", "Devin"),
            ("Generated with [Devin](https://cli.devin.ai/docs)", "Devin"),
            ("Link to Devin run: https://app.devin.ai/sessions/d1991f5d4f0a47d994adb358b084d182", "Devin"),
            ("**Link to Devin run**: https://app.devin.ai/sessions/d94f1979e03448c3ac02e5d2a0ef8228", "Devin"),
            ("🤖 Generated with [Amp](https://ampcode.com)", "Amp"),
            ("🤖 Generated with [Claude Code](https://claude.ai/code)", "Claude Code"),
        ];
        let agent_logs = "Agent-Logs-Url: https://github.com/bytedance/deer-flow/sessions/4c9eb0c2-ff29-4629-a61c-4e33d736d918\n\nCo-authored-by: Dave <dave@example.com>";
        assert_detected(
            detect(&format!("Fix\n\nBody.\n\n{agent_logs}\n")),
            "GitHub Copilot",
            "Agent-Logs-Url",
        );
        for (footer, tool) in footers {
            assert_detected(
                detect(&format!("Fix\n\nBody.\n\n{footer}\n")),
                tool,
                "message text",
            );
        }
    }

    #[test]
    fn mentions_of_tools_and_human_co_authors_are_not_detected() {
        let ordinary = [
            "Fix the bug Claude reported\n\nThanks Claude for the report.\n",
            "Copilot: tidy the settings page\n\nCursor keys move the selection now.\n",
            "Document the aider integration\n\nSee https://aider.chat for aider (aider) docs.\n",
            "Credit a painter\n\nCo-authored-by: Claude Monet <claude@example.com>\n",
            "Pair on the parser\n\nCo-authored-by: Dave <dave@example.com>\n",
            "Explain the footer\n\nWe no longer keep the \"Generated with [Claude Code](https://claude.ai/code)\" lines.\n",
            "Review\n\nAssisted-by: none\nGenerated-by: No\n",
            "Style\n\nMade-with: love\n",
            "Cursor\n\nCo-authored-by: Cursor Smith <cursor.smith@acme.example>\n",
            "Mail\n\nCo-authored-by: Someone <someone@openai.com.evil.example>\n",
            "Links\n\nAmp-Thread-ID: none\nClaude-Session: later\n",
            "Logs\n\nSee Agent-Logs-Url: https://ci.example.com/sessions/1 for the run.\n",
            "Devin\n\nLink to Devin run: not recorded.\nGenerated with [Devin](https://example.com)\n",
        ];
        for message in ordinary {
            assert_eq!(detect(message), None, "{message:?}");
        }
        let people = [
            ("Aider Smith", "aider@example.com"),
            ("Copilot Team", "copilot@example.com"),
            ("Carol (aider fan)", "carol@example.com"),
            ("notdevin-ai-integration[bot]", "x@example.com"),
            ("Jane", "12+notcopilot@users.noreply.github.com"),
            ("Jane", "noreply@anthropic.com.example"),
        ];
        for who in people {
            assert_eq!(detect_person(who), None, "{who:?}");
        }
    }

    #[test]
    fn policy_markers_match_trailers_emails_and_messages() {
        let author = ident("Carol", "carol@bots.example");
        let committer = ident("Carol", "carol@example.com");
        let message = "Fix\n\nIntern-Bot: v2\n";
        let trailers = crate::facts::trailers::from_commit_message(message.as_bytes());
        let seen = Seen::new(&trailers, &author, &committer, message);
        let re = |p: &str| Regex::new(p).unwrap_or_else(|e| panic!("{e}"));
        let hit = Marker::trailer_owned("intern-bot".into(), Some(re("^v2$"))).detect(&seen);
        assert_eq!(hit.as_deref(), Some("trailer `Intern-Bot: v2`"));
        let miss = Marker::trailer_owned("Intern-Bot".into(), Some(re("^v3$"))).detect(&seen);
        assert_eq!(miss, None);
        let hit = Marker::author_owned(re("@bots\\.example$")).detect(&seen);
        assert_eq!(hit.as_deref(), Some("author `Carol <carol@bots.example>`"));
        let hit = Marker::message_owned(re("(?m)^Fix$")).detect(&seen);
        assert_eq!(hit.as_deref(), Some("message text `Fix`"));
        let marker = Marker::author_owned(re("x"));
        assert_eq!(marker.evidence, "ai.markers in the policy");
    }

    #[test]
    fn prefilter_finds_the_needle_in_any_ascii_case_and_nowhere_else() {
        let hay = b"Co-Authored-By: Claude <NoReply@Anthropic.COM>";
        assert!(contains_ignore_ascii_case(hay, b"noreply@anthropic.com"));
        assert!(contains_ignore_ascii_case(hay, b"co-authored"));
        assert!(contains_ignore_ascii_case(hay, b"com>"));
        assert!(!contains_ignore_ascii_case(hay, b"anthropic.comx"));
        assert!(!contains_ignore_ascii_case(hay, b"openai"));
        // A near miss first, the real match after it.
        assert!(contains_ignore_ascii_case(b"aidx AIDER", b"aider"));
        assert!(!contains_ignore_ascii_case(b"", b"a"));
        assert!(contains_ignore_ascii_case(b"", b""));
        // Agrees with lower-casing a copy, the definition it replaces.
        for (hay, needle) in [("xxAbAbC", "abc"), ("ababa", "aba"), ("Cursor", "cursor ")] {
            assert_eq!(
                contains_ignore_ascii_case(hay.as_bytes(), needle.as_bytes()),
                hay.to_ascii_lowercase().contains(needle),
                "{hay:?} {needle:?}"
            );
        }
    }

    #[test]
    fn co_author_email_is_read_from_the_angle_brackets() {
        assert_eq!(
            email_of("Claude <noreply@anthropic.com>"),
            "noreply@anthropic.com"
        );
        assert_eq!(email_of("a <b> c <d@e>"), "d@e");
        assert_eq!(email_of(" noreply@anthropic.com "), "noreply@anthropic.com");
        assert_eq!(email_of("Broken <x@y"), "Broken <x@y");
    }

    #[test]
    fn trailers_in_the_body_are_not_read_as_trailers() {
        // Not the last paragraph: git does not read it as a trailer block.
        let message = "Fix\n\nMade-with: Cursor\n\nA closing paragraph of prose.\n";
        assert_eq!(detect(message), None);
    }
}
