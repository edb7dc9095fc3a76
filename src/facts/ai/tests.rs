//! The built-in marks and the marker matching, against hand-made commits.

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
    let hit = markers()
        .iter()
        .find_map(|m| m.detect(&seen).map(|hit| format!("{hit} ({})", m.evidence)));
    // The screened path gives the same answer as the plain loop, on every
    // commit these tests make, detected or not.
    let screened = screened().detect(&seen);
    assert_eq!(
        screened.is_some(),
        hit.is_some(),
        "screen changed the answer on {message:?}"
    );
    if let (Some(s), Some(h)) = (&screened, &hit) {
        let first = h.rsplit_once(" (").map_or(h.as_str(), |(m, _)| m);
        assert!(s.starts_with(first), "{s:?} vs {h:?}");
    }
    hit
}

/// The built-ins behind their screen, compiled once for all tests.
fn screened() -> &'static Markers {
    static MARKERS: OnceLock<Markers> = OnceLock::new();
    MARKERS.get_or_init(|| Markers::new(builtin()))
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
            assert!(crate::facts::trailers::valid_key(key), "{key}");
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
        detect("Add retries\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n"),
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
        (
            "Link to Devin run: https://app.devin.ai/sessions/d1991f5d4f0a47d994adb358b084d182",
            "Devin",
        ),
        (
            "**Link to Devin run**: https://app.devin.ai/sessions/d94f1979e03448c3ac02e5d2a0ef8228",
            "Devin",
        ),
        ("🤖 Generated with [Amp](https://ampcode.com)", "Amp"),
        (
            "🤖 Generated with [Claude Code](https://claude.ai/code)",
            "Claude Code",
        ),
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

#[test]
fn skipping_by_needle_never_changes_the_answer_on_unicode_text() {
    // Non-ASCII texts where the needle check runs (emoji) and where it may
    // not (the two characters that fold to ASCII letters).
    let texts = [
        "🤖 Generated with [Claude Code](https://claude.com/claude-code)",
        "💘 Generated with Crush",
        "🤖 Generated with [Amp](https://ampcode.com)",
        "Café: nothing to see",
        "\u{17F}ome text with a long s: Generated with Cru\u{17F}h",
        "Link to Devin run: https://app.devin.ai/\u{212A}",
        "noreply@anthropic.com ✓",
    ];
    for b in BUILTIN.iter().filter(|b| !b.pattern.is_empty()) {
        let lazy = Pattern::lazy(b.pattern);
        let plain = Regex::new(b.pattern).unwrap();
        for text in texts {
            assert_eq!(
                lazy.find(text).map(|m| m.range()),
                plain.find(text).map(|m| m.range()),
                "{} on {text:?}",
                b.pattern
            );
        }
    }
    assert!(folds_like_ascii("🤖 x") && !folds_like_ascii("\u{212A}"));
    // Why the two are excluded: `(?i)` does fold them to ASCII letters.
    assert!(Regex::new("(?i)crush").unwrap().is_match("cru\u{17F}h"));
    assert!(Regex::new("(?i)kelvin").unwrap().is_match("\u{212A}elvin"));
    // And the needle check steps aside for them.
    assert!(Pattern::lazy("(?i)crush").is_match("cru\u{17F}h"));
    assert!(!Pattern::lazy("(?i)crush").is_match("🤖 cruse"));
}

#[test]
fn the_screen_lets_through_every_commit_a_marker_fires_on() {
    // Each built-in row's own tool and mark text, in every place a marker
    // reads (message, name, address, co-author, the row's trailer key): the
    // screen may only skip commits on which no marker fires.
    let mut texts: Vec<String> = Vec::new();
    for b in BUILTIN.iter() {
        texts.extend([b.tool.to_owned(), b.mark.to_owned()]);
    }
    texts.extend(
        [
            "noreply@anthropic.com",
            "NoReply@Anthropic.COM",
            "Claude[bot]@users.noreply.github.com",
            "Fix (aider)",
            "Made-with: Cursor",
            "Assisted-by: Claude:claude-opus-4-6",
            "Assisted-by: none",
            "\u{17F}ome text",
        ]
        .map(str::to_owned),
    );
    for text in &texts {
        let key = text.split(':').next().unwrap_or_default();
        let messages = [
            format!("Subject\n\n{text}\n"),
            format!("Subject\n\n{key}: x\n"),
            format!("Subject\n\nCo-authored-by: T <{text}>\n"),
        ];
        for message in &messages {
            for who in [(text.as_str(), "a@example.com"), ("A", text.as_str())] {
                let author = ident(who.0, who.1);
                let trailers = crate::facts::trailers::from_commit_message(message.as_bytes());
                let seen = Seen::new(&trailers, &author, &author, message);
                let fires = markers().iter().any(|m| m.detect(&seen).is_some());
                let passes = screened().screen_passes(&seen);
                assert!(passes || !fires, "screened out {who:?} / {message:?}");
            }
        }
    }
    // And it does screen: a plain commit does not get through.
    let author = ident("Carol", "carol@example.com");
    let message = "Fix the parser\n\nSigned-off-by: Carol <carol@example.com>\n";
    let trailers = crate::facts::trailers::from_commit_message(message.as_bytes());
    let seen = Seen::new(&trailers, &author, &author, message);
    assert!(!screened().screen_passes(&seen));
}

#[test]
fn a_policy_marker_without_a_needle_opens_its_place_only() {
    let re = |p: &str| Regex::new(p).unwrap_or_else(|e| panic!("{e}"));
    let markers = Markers::new(vec![Marker::message_owned(re("(?i)robot"))]);
    let author = ident("Carol", "carol@example.com");
    for (message, fires) in [("Fix\n\nBy a robot.\n", true), ("Fix\n", false)] {
        let trailers = crate::facts::trailers::from_commit_message(message.as_bytes());
        let seen = Seen::new(&trailers, &author, &author, message);
        assert!(markers.screen_passes(&seen));
        assert_eq!(markers.detect(&seen).is_some(), fires, "{message:?}");
    }
    let none = Markers::new(Vec::new());
    let trailers = crate::facts::trailers::from_commit_message(b"Fix\n");
    let seen = Seen::new(&trailers, &author, &author, "Fix\n");
    assert!(!none.screen_passes(&seen));
}
