//! Fuzzes the raw commit parser, `trailgate::git::object::parse`, the check
//! of new commits (`object::fsck::check_commit`), and what the hook does with
//! the result (identity splitting, the subject, re-encoding and the
//! trailers): no object may panic, the message is a suffix of the object
//! (up to its first NUL, as git reads it),
//! and an object the check accepts is one git can read (a tree, an author
//! and committer with an e-mail, no NUL). The differential comparison with
//! git itself is `tests/it/objects/differential.rs`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use trailgate::facts::{encoding, trailers};
use trailgate::git::object as commit;
use trailgate::git::HashKind;

fuzz_target!(|data: &[u8]| {
    let checked = commit::fsck::check_commit(data, HashKind::Sha1);
    let parsed = commit::parse(data, HashKind::Sha1);
    if checked.is_ok() {
        let raw = parsed.as_ref().expect("an accepted commit is readable");
        assert!(raw.tree.is_some());
        assert!(!data.contains(&0), "no NUL in an accepted commit");
        assert!(data.windows(8).any(|w| w == b"\nauthor "));
    }
    let Ok(raw) = parsed else {
        return;
    };
    // git reads the object as a C string: the message ends at a NUL.
    let text = data.split(|&b| b == 0).next().unwrap_or_default();
    assert!(
        text.ends_with(raw.message),
        "the message is the object's tail, up to its first NUL"
    );
    let _ = raw.author.display();
    let message = encoding::message_as_utf8(raw.encoding, raw.message);
    let subject = commit::subject(&message);
    assert!(subject.chars().count() <= 72, "{subject:?}");
    assert!(!subject.chars().any(char::is_control), "{subject:?}");
    let _ = trailers::from_commit_message(&message);
});
