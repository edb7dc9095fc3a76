//! Detecting AI assistance from the marks AI coding tools leave in commits.
//!
//! The built-in table is data: each entry names what it matches and where the
//! mark was seen. `ai.markers` in the policy adds an organisation's own.
//! Declared assistance (`AI-Assisted: yes`) is not handled here but in
//! [`crate::facts`], from the policy's `trailers.ai` keys.

use std::sync::OnceLock;

use regex::Regex;

use crate::trailers::Trailer;

/// A marker's regex. The built-in ones are compiled on first use, not when
/// the policy loads: compiling Claude Code's footer pattern (a Unicode `\W`)
/// alone took longer than starting the process, and most pushes never need
/// it. Policy markers arrive compiled (the loader reports bad ones).
#[derive(Debug, Clone)]
pub struct Pattern {
    source: &'static str,
    /// Text every match contains verbatim; where it is absent the regex
    /// cannot match and is neither compiled nor run.
    needle: Option<&'static str>,
    re: OnceLock<Option<Regex>>,
}

impl Pattern {
    fn lazy(source: &'static str, needle: Option<&'static str>) -> Self {
        Pattern {
            source,
            needle,
            re: OnceLock::new(),
        }
    }

    fn compiled(re: Regex) -> Self {
        Pattern {
            source: "",
            needle: None,
            re: OnceLock::from(Some(re)),
        }
    }

    /// The compiled regex; `None` only for a built-in pattern that does not
    /// compile, which the unit test below rules out.
    fn regex(&self) -> Option<&Regex> {
        self.re
            .get_or_init(|| Regex::new(self.source).ok())
            .as_ref()
    }

    fn is_match(&self, text: &str) -> bool {
        self.find(text).is_some()
    }

    fn find<'t>(&self, text: &'t str) -> Option<regex::Match<'t>> {
        if self.needle.is_some_and(|n| !text.contains(n)) {
            return None;
        }
        self.regex()?.find(text)
    }
}

/// What a marker looks at.
#[derive(Debug, Clone)]
pub enum MarkerKind {
    /// A trailer with this key (case-insensitive) whose value matches, if a
    /// pattern is given.
    Trailer { key: String, value: Option<Pattern> },
    /// The author's or committer's e-mail.
    Author(Pattern),
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

    /// Whether the marker fires on a commit; returns a description of the match.
    pub fn detect(
        &self,
        trailers: &[Trailer<'_>],
        emails: [&[u8]; 2],
        message: &[u8],
    ) -> Option<String> {
        match &self.kind {
            MarkerKind::Trailer { key, value } => trailers.iter().find_map(|t| {
                let hit = t.key_is(key)
                    && value
                        .as_ref()
                        .is_none_or(|re| re.is_match(&String::from_utf8_lossy(&t.value)));
                hit.then(|| {
                    format!(
                        "trailer `{}: {}`",
                        String::from_utf8_lossy(&t.key),
                        String::from_utf8_lossy(&t.value)
                    )
                })
            }),
            MarkerKind::Author(re) => emails.iter().find_map(|e| {
                let e = String::from_utf8_lossy(e);
                re.is_match(&e)
                    .then(|| format!("author/committer e-mail <{e}>"))
            }),
            MarkerKind::Message(re) => {
                let text = String::from_utf8_lossy(message);
                re.find(&text)
                    .map(|m| format!("message text `{}`", m.as_str().trim()))
            }
        }
    }
}

/// (kind, key, pattern, evidence). Patterns are anchored to the tool's own
/// addresses or footers so that a message merely mentioning a tool's name
/// does not count.
const BUILTIN: &[(&str, &str, &str, &str)] = &[
    (
        "trailer",
        "Co-authored-by",
        r"(?i)<noreply@anthropic\.com>",
        "Claude Code adds `Co-Authored-By: Claude <noreply@anthropic.com>` to its commits",
    ),
    (
        "message",
        "",
        r"(?m)^\W{0,4}Generated with \[Claude Code\]",
        "Claude Code's commit footer `🤖 Generated with [Claude Code](https://claude.com/claude-code)`",
    ),
    (
        "trailer",
        "Co-authored-by",
        r"(?i)<noreply@aider\.chat>",
        "aider's `Co-authored-by: aider (<model>) <noreply@aider.chat>`",
    ),
    (
        "trailer",
        "Co-authored-by",
        r"(?i)<noreply@openai\.com>",
        "OpenAI Codex's `Co-authored-by: Codex <noreply@openai.com>`",
    ),
    (
        "trailer",
        "Co-authored-by",
        r"(?i)<cursoragent@cursor\.com>",
        "Cursor's background agent co-author <cursoragent@cursor.com>",
    ),
    ("trailer", "Made-with", r"(?i)^cursor\b", "Cursor's `Made-with: Cursor` trailer"),
    (
        "author",
        "",
        r"(?i)^(\d+\+)?copilot@users\.noreply\.github\.com$|^(\d+\+)?copilot-swe-agent(\[bot\])?@users\.noreply\.github\.com$",
        "GitHub Copilot coding agent commits as copilot-swe-agent[bot] / ...+Copilot@users.noreply.github.com",
    ),
    (
        "author",
        "",
        r"(?i)^cursoragent@cursor\.com$",
        "Cursor's background agent commits as <cursoragent@cursor.com>",
    ),
    (
        "trailer",
        "Co-authored-by-AI",
        "",
        "the `Co-authored-by-AI:` disclosure trailer some projects ask for",
    ),
];

/// Literal text that every match of a built-in pattern contains, so that the
/// pattern is compiled and run only for commits that contain it.
const NEEDLES: &[(&str, &str)] = &[(
    r"(?m)^\W{0,4}Generated with \[Claude Code\]",
    "Generated with [Claude Code]",
)];

/// The built-in markers, compiled on first use. An entry that fails to
/// compile is a bug in this table and is caught by the unit test below; at
/// run time it never matches rather than taking the hook down.
pub fn builtin() -> Vec<Marker> {
    BUILTIN
        .iter()
        .map(|&(kind, key, pattern, evidence)| {
            let needle = NEEDLES.iter().find(|(p, _)| *p == pattern).map(|&(_, n)| n);
            let re = Pattern::lazy(pattern, needle);
            let kind = match kind {
                "trailer" => MarkerKind::Trailer {
                    key: key.to_owned(),
                    value: (!pattern.is_empty()).then_some(re),
                },
                "author" => MarkerKind::Author(re),
                _ => MarkerKind::Message(re),
            };
            Marker {
                kind,
                evidence: evidence.to_owned(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn t<'a>(k: &'a str, v: &'a str) -> Trailer<'a> {
        Trailer {
            key: Cow::Borrowed(k.as_bytes()),
            value: Cow::Borrowed(v.as_bytes()),
        }
    }

    #[test]
    fn every_builtin_marker_compiles() {
        for (_, _, pattern, _) in BUILTIN {
            if !pattern.is_empty() {
                assert!(Regex::new(pattern).is_ok(), "{pattern}");
            }
        }
        assert_eq!(builtin().len(), BUILTIN.len());
    }

    #[test]
    fn every_needle_is_literal_text_of_its_pattern() {
        for (pattern, needle) in NEEDLES {
            assert!(BUILTIN.iter().any(|(_, _, p, _)| p == pattern));
            let re = Regex::new(pattern).unwrap();
            let text = format!("x\n\u{1F916} {needle}");
            let m = re.find(&text).unwrap();
            assert!(m.as_str().contains(needle));
        }
    }

    #[test]
    fn claude_co_author_is_detected_but_a_mention_is_not() {
        let markers = builtin();
        let hit = |trailers: &[Trailer<'_>], msg: &[u8]| {
            markers
                .iter()
                .any(|m| m.detect(trailers, [b"a@b", b"a@b"], msg).is_some())
        };
        assert!(hit(
            &[t("Co-Authored-By", "Claude <noreply@anthropic.com>")],
            b""
        ));
        assert!(!hit(&[], b"Fix the bug Claude reported\n\nThanks Claude."));
        assert!(hit(
            &[],
            "x\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n".as_bytes()
        ));
    }
}
