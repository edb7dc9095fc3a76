//! Fuzzes the raw commit parser, `trailgate::git::object::parse`, and what the
//! hook does with its result (identity splitting, the subject, re-encoding
//! and the trailers): no object may panic, and the message is a suffix of the
//! object.

#![no_main]

use libfuzzer_sys::fuzz_target;
use trailgate::facts::{encoding, trailers};
use trailgate::git::object as commit;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = commit::parse(data) else {
        return;
    };
    assert!(
        data.ends_with(raw.message),
        "the message is the object's tail"
    );
    let _ = raw.author.display();
    let message = encoding::message_as_utf8(raw.encoding, raw.message);
    let subject = commit::subject(&message);
    assert!(subject.chars().count() <= 72, "{subject:?}");
    assert!(!subject.chars().any(char::is_control), "{subject:?}");
    let _ = trailers::from_commit_message(&message);
});
