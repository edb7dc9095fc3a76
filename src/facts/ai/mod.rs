//! Detecting AI assistance from the marks AI coding tools leave in commits.
//!
//! This module owns the matching of a [`Marker`] against what a commit
//! shows: its trailers, its author and committer (name and e-mail), the
//! e-mails of its `Co-authored-by` trailers, and its message. The built-in
//! marks are data (`builtin::BUILTIN`, each row with its evidence and its
//! [`Strength`]); `catalogue` compiles them as `ai.detect` ([`Detect`]) asks;
//! [`disclosure`] reads what a disclosure trailer's value says (the kernel's
//! `AGENT:MODEL [TOOL...]`, a person's `Name <email>`, rai-lint's
//! human-only `Authored-by`). `ai.markers` in the policy adds an
//! organisation's own markers; [`crate::policy`] compiles them through the
//! `*_owned` constructors.
//!
//! It does not own declared assistance (`AI-Assisted: yes`): that is read in
//! [`crate::facts`] from the policy's `trailers.ai` keys (with
//! [`disclosure`]'s reading of the value). Nor does it decide anything:
//! [`crate::facts`] keeps the first marker that fires, and rules decide what
//! a detection means.
//!
//! Precision comes first: every built-in pattern is anchored to a tool's own
//! address, bot account, trailer key or footer format, so a commit that only
//! mentions "Claude", "Copilot", "Cursor" or "aider" in its subject or body,
//! or credits a human co-author, is not detected; a mark that also appears
//! on hand-written commits is weak and counts only under `ai.detect = "all"`.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

use crate::facts::trailers::Trailer;
use crate::git::object::Ident;

mod builtin;
mod catalogue;
pub mod disclosure;
mod screen;

#[cfg(test)]
use builtin::{Place, BUILTIN};
pub use catalogue::{builtin, builtin_for, disclosure_keys, recent_tools, weak_marks};
use disclosure::People;
pub use screen::Markers;

/// How sure a mark is of AI assistance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    /// Only a tool leaves it.
    Strong,
    /// It also appears on commits written by hand (an editor's automatic
    /// co-author line, a generic bot account).
    Weak,
}

impl std::fmt::Display for Strength {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Strength::Strong => "strong",
            Strength::Weak => "weak",
        })
    }
}

/// `ai.detect`: which built-in marks count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detect {
    /// Strong marks (the default).
    #[default]
    Builtin,
    /// Strong and weak marks.
    All,
    /// None: declarations only (the policy's own markers still count).
    Off,
}

impl Detect {
    pub fn as_str(self) -> &'static str {
        match self {
            Detect::Builtin => "builtin",
            Detect::All => "all",
            Detect::Off => "off",
        }
    }

    /// Whether marks of this strength count.
    pub fn counts(self, strength: Strength) -> bool {
        match self {
            Detect::Off => false,
            Detect::All => true,
            Detect::Builtin => strength == Strength::Strong,
        }
    }
}

/// Values of a disclosure trailer that disclose nothing (`Assisted-by: none`),
/// matched after trimming, case-insensitively: the empty value and
/// [`crate::facts::AI_NEGATIVE`], the one list (a unit test holds them equal).
pub(crate) const NEGATIVE: &str = r"(?i)^(|no|none|false|0|n/a|-)$";

/// Whether a disclosure value discloses nothing (empty, or one of
/// [`crate::facts::AI_NEGATIVE`]; case-insensitive).
pub fn is_negative(value: &str) -> bool {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| Regex::new(NEGATIVE).ok())
        .as_ref()
        .is_none_or(|re| re.is_match(value.trim()))
}

/// Whether `email` is an AI tool's address: a built-in identity mark (weak
/// ones included) or one of the policy's `{ author = ... }` markers.
pub fn is_tool_address(email: &str, markers: &[Marker]) -> bool {
    catalogue::tool_addresses()
        .iter()
        .any(|p| p.is_match(email))
        || markers.iter().any(|m| match &m.kind {
            MarkerKind::Author(re) | MarkerKind::Identity(re) => re.is_match(email),
            _ => false,
        })
}

/// The trailer key that credits a co-author (case-insensitive, as GitHub
/// and GitLab read it).
const CO_AUTHORED_BY: &str = "Co-authored-by";

/// What a commit shows a marker: everything a mark can sit in, decoded
/// once per commit rather than once per marker (with some 27 markers, the
/// repeated UTF-8 checks were a fifth of a large push's time).
#[derive(Debug, Clone)]
pub struct Seen<'a> {
    /// The trailers as git reads them.
    trailers: &'a [Trailer<'a>],
    /// Author, then committer.
    people: [Person<'a>; 2],
    /// The `Co-authored-by` trailers (index into `trailers`) and their
    /// addresses, found once rather than by every identity marker (empty,
    /// and so not allocated, for most commits).
    co_authors: Vec<(usize, Cow<'a, str>)>,
    /// The whole message, UTF-8 (lossy) as `git log` shows it.
    message: &'a str,
    /// How disclosure values that name someone are read.
    help: People<'a>,
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
            name: crate::facts::encoding::lossy(&who.name),
            email: crate::facts::encoding::lossy(&who.email),
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
            co_authors: trailers
                .iter()
                .enumerate()
                .filter(|(_, t)| t.key_is(CO_AUTHORED_BY))
                .map(|(i, t)| {
                    let email = match String::from_utf8_lossy(&t.value) {
                        Cow::Borrowed(v) => Cow::Borrowed(email_of(v)),
                        Cow::Owned(v) => Cow::Owned(email_of(&v).to_owned()),
                    };
                    (i, email)
                })
                .collect(),
            people: [
                Person::new("author", author),
                Person::new("committer", committer),
            ],
            message,
            help: People::default(),
        }
    }

    /// Reads disclosure values with the policy's `ai.human_help` and people
    /// (without: as if the policy knew nobody).
    pub fn with_help(mut self, help: People<'a>) -> Self {
        self.help = help;
        self
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
        if let Some(needle) = &self.needle {
            if folds_like_ascii(text)
                && !contains_ignore_ascii_case(text.as_bytes(), needle.as_bytes())
            {
                return None;
            }
        }
        self.regex()?.find(text)
    }
}

/// Whether ignoring ASCII case is exactly what `(?i)` does to the ASCII
/// letters of `text`. The regex crate's Unicode simple case folding pairs
/// only two other characters with ASCII letters: `ſ` (U+017F) with `s` and
/// the Kelvin sign `K` (U+212A) with `k`; text without them (ASCII text, or
/// a footer with 🤖 or 💘) may skip a pattern whose needle it lacks.
fn folds_like_ascii(text: &str) -> bool {
    text.is_ascii()
        || (memchr::memmem::find(text.as_bytes(), "\u{17F}".as_bytes()).is_none()
            && memchr::memmem::find(text.as_bytes(), "\u{212A}".as_bytes()).is_none())
}

/// Whether `haystack` contains `needle` (lower-case ASCII), ignoring ASCII
/// case; without lower-casing a copy of the haystack, which allocated once
/// per marker and commit.
pub fn contains_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
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
    /// The policy's own markers are strong.
    pub strength: Strength,
}

impl Marker {
    pub fn trailer_owned(key: String, value: Option<Regex>) -> Self {
        Marker {
            kind: MarkerKind::Trailer {
                key,
                value: value.map(Pattern::compiled),
            },
            evidence: "ai.markers in the policy".into(),
            strength: Strength::Strong,
        }
    }

    pub fn author_owned(re: Regex) -> Self {
        Marker {
            kind: MarkerKind::Author(Pattern::compiled(re)),
            evidence: "ai.markers in the policy".into(),
            strength: Strength::Strong,
        }
    }

    pub fn message_owned(re: Regex) -> Self {
        Marker {
            kind: MarkerKind::Message(Pattern::compiled(re)),
            evidence: "ai.markers in the policy".into(),
            strength: Strength::Strong,
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
                if !t.key_is(key) {
                    return None;
                }
                let value = String::from_utf8_lossy(&t.value);
                let negative = negative.is_match(value.trim());
                disclosure::read(&t.key, &value, negative, &seen.help)
                    .is_ai()
                    .then(|| describe_trailer(t))
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
                    seen.co_authors.iter().find_map(|(i, email)| {
                        let t = seen.trailers.get(*i)?;
                        re.is_match(email).then(|| describe_trailer(t))
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

    /// What a hit of this marker is reported as: what matched, then the
    /// tool, the mark and its strength.
    pub fn describe_hit(&self, hit: &str) -> String {
        format!("{hit} ({}; {} mark)", self.evidence, self.strength)
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

#[cfg(test)]
mod tests;

#[cfg(test)]
mod negative_tests {
    use super::is_negative;

    #[test]
    fn the_negative_pattern_is_the_one_list() {
        for n in crate::facts::AI_NEGATIVE {
            assert!(is_negative(n), "{n}");
            assert!(is_negative(&format!("  {}  ", n.to_uppercase())), "{n}");
        }
        assert!(is_negative(""));
        for other in ["yes", "nope", "n", "none!", "0.5", "--", "n/a n/a"] {
            assert!(!is_negative(other), "{other}");
        }
    }
}
