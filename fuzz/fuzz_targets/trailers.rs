//! Fuzzes `trailgate::facts::trailers` (and the re-encoding in front of it): no input
//! may panic, and every trailer returned must be one git could return.
//!
//! git's `find_separator` only accepts a line as a trailer when it starts with
//! ASCII letters, digits or `-`, optionally followed by spaces or tabs, then
//! `:`. The key is that prefix, trimmed, so it is non-empty and made only of
//! `[A-Za-z0-9-]`. Values are trimmed and unfolded, so they neither start nor
//! end with git's whitespace (space, tab, LF, CR) and hold no LF (and no NUL:
//! git stops at NUL).

#![no_main]

use libfuzzer_sys::fuzz_target;
use trailgate::facts::encoding::message_as_utf8;
use trailgate::facts::trailers::{from_commit_message, from_text, render, Trailer};

fn is_git_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn check(trailers: &[Trailer<'_>]) {
    for t in trailers {
        assert!(!t.key.is_empty(), "empty key");
        assert!(
            t.key
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'-'),
            "key {:?} has a byte git's find_separator rejects",
            t.key
        );
        assert!(
            !t.value.contains(&b'\n'),
            "value {:?} has a newline",
            t.value
        );
        assert!(!t.value.contains(&0), "value {:?} has a NUL", t.value);
        assert!(
            !t.value.first().is_some_and(|&b| is_git_space(b)),
            "value {:?} starts with whitespace",
            t.value
        );
        assert!(
            !t.value.last().is_some_and(|&b| is_git_space(b)),
            "value {:?} ends with whitespace",
            t.value
        );
    }

    // What render prints is a trailer block git reads back unchanged.
    let mut again = b"Subject\n\n".to_vec();
    render(trailers, &mut again);
    assert_eq!(
        from_text(&again),
        trailers,
        "rendered trailers do not parse back"
    );
}

fuzz_target!(|data: &[u8]| {
    check(&from_text(data));
    check(&from_commit_message(data));
    for label in [&b"ISO-8859-1"[..], b"Shift_JIS", b"windows-1252", b"EUC-JP"] {
        let utf8 = message_as_utf8(Some(label), data);
        check(&from_commit_message(&utf8));
    }
});
