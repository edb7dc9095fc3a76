//! `trailgate::facts::encoding::message_as_utf8` against what `git log` shows for
//! commits carrying an `encoding` header (git converts with glibc's iconv).

use trailgate::facts::encoding::message_as_utf8;
use trailgate::facts::trailers::{from_commit_message, render};

use super::git::{escaped, Git};

/// Commits with `header` as their encoding, checked for both the message git
/// shows (`%B`, the message from its subject on) and its trailers.
fn check(git: &Git, header: &str, messages: &[Vec<u8>]) -> Vec<String> {
    let ids = git.write_messages(messages, Some(header));
    let bodies = git.log(&[], &ids, "%B");
    let trailers = git.log(&[], &ids, "%(trailers:only,unfold)");
    let mut failures = Vec::new();
    for (msg, id) in messages.iter().zip(&ids) {
        let ours = message_as_utf8(Some(header.as_bytes()), msg);
        if bodies[id] != *ours {
            failures.push(format!(
                "encoding {header}: message {}\n  git:  {}\n  ours: {}",
                escaped(msg),
                escaped(&bodies[id]),
                escaped(&ours)
            ));
            continue;
        }
        let mut rendered = Vec::new();
        render(&from_commit_message(&ours), &mut rendered);
        if trailers[id] != rendered {
            failures.push(format!(
                "encoding {header}: trailers of {}\n  git:  {}\n  ours: {}",
                escaped(msg),
                escaped(&trailers[id]),
                escaped(&rendered)
            ));
        }
    }
    failures
}

fn message(subject: &[u8], trailer_value: &[u8]) -> Vec<u8> {
    let mut msg = subject.to_vec();
    msg.extend_from_slice(b"\n\nBody text.\n\nReviewed-by: ");
    msg.extend_from_slice(trailer_value);
    msg.extend_from_slice(b" <r@example.com>\nAI-Assisted: yes\n");
    msg
}

#[test]
fn encoded_commits_read_as_git_log_shows_them() {
    let git = Git::new();
    let latin1 = vec![
        message(b"Caf\xe9 au lait", b"Ren\xe9 Fran\xe7ois"),
        // 0x80..0x9F are C1 controls in ISO-8859-1, not windows-1252's symbols.
        message(b"Controls \x80\x85\x9f", b"\x80\xa0\xff"),
        message(b"Plain ASCII", b"Alice"),
    ];
    let shift_jis = vec![
        // 日本語のコミット / 山田太郎
        message(
            b"\x93\xfa\x96\x7b\x8c\xea\x82\xcc\x83\x52\x83\x7e\x83\x62\x83\x67",
            b"\x8e\x52\x93\x63\x91\xbe\x98\x59",
        ),
        // Half-width katakana, and the JIS X 0201 yen sign and overline.
        message(b"\xb6\xc0\xb6\xc5 \\ ~", b"\xd4\xcf\xc0\xde"),
        // WAVE DASH and friends: glibc and Windows-31J disagree on these.
        message(b"\x81\x60\x81\x61\x81\x7c\x81\x91\x81\x92\x81\xca", b"x"),
        // NEC row 13 is not Shift_JIS to glibc: git keeps the bytes.
        message(b"\x87\x40 circled one", b"y"),
        // A lone lead byte is invalid: git keeps the bytes.
        message(b"broken \x82", b"z"),
    ];
    let mut failures = Vec::new();
    for header in ["ISO-8859-1", "latin1", "latin-1", "ISO8859-1"] {
        failures.extend(check(&git, header, &latin1));
    }
    for header in ["Shift_JIS", "SJIS", "shift-jis"] {
        failures.extend(check(&git, header, &shift_jis));
    }
    failures.extend(check(&git, "CP932", &shift_jis[..3]));
    failures.extend(check(
        &git,
        "windows-1252",
        &[
            message(b"Euro \x80", b"\x93quoted\x94"),
            message(b"Hole \x81", b"x"),
        ],
    ));
    failures.extend(check(
        &git,
        "US-ASCII",
        &[message(b"ascii", b"x"), message(b"not ascii \xe9", b"x")],
    ));
    for header in ["UTF-8", "utf8", "no-such-charset"] {
        failures.extend(check(
            &git,
            header,
            &[message(b"Caf\xc3\xa9", b"\xff invalid kept")],
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every single byte and every two-byte sequence with a high first byte, one
/// commit each, for the encodings implemented by hand rather than by encoding_rs.
#[test]
fn every_byte_and_byte_pair_converts_as_git_converts_it() {
    let mut messages = Vec::new();
    for b in 1..=0xFFu8 {
        messages.push(vec![b'x', b, b'\n']);
    }
    for lead in 0x80..=0xFFu8 {
        for trail in 0x40..=0xFFu8 {
            messages.push(vec![b'x', lead, trail, b'\n']);
        }
    }
    let git = Git::new();
    let mut failures = Vec::new();
    for header in ["Shift_JIS", "ISO-8859-1"] {
        failures.extend(check(&git, header, &messages));
    }
    let shown: Vec<&String> = failures.iter().take(20).collect();
    assert!(
        failures.is_empty(),
        "{} differences, first:\n{shown:#?}",
        failures.len()
    );
}
