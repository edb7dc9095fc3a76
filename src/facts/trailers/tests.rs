//! The trailer parser against hand-written messages: git's rules one by one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn pairs(trailers: &[Trailer<'_>]) -> Vec<(String, String)> {
    trailers
        .iter()
        .map(|t| {
            (
                String::from_utf8_lossy(&t.key).into_owned(),
                String::from_utf8_lossy(&t.value).into_owned(),
            )
        })
        .collect()
}

fn text(msg: &str) -> Vec<(String, String)> {
    pairs(&from_text(msg.as_bytes()))
}

fn log(msg: &str) -> Vec<(String, String)> {
    pairs(&from_commit_message(msg.as_bytes()))
}

fn kv(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

#[test]
fn find_byte_agrees_with_a_plain_search_at_every_offset() {
    let hay: Vec<u8> = (0..40u8)
        .map(|i| if i % 7 == 3 { 0x80 | i } else { i })
        .collect();
    for start in 0..hay.len() {
        for needle in [0u8, 1, 10, 0x80 | 17, 39, 200] {
            let h = &hay[start..];
            assert_eq!(find_byte(h, needle), h.iter().position(|&b| b == needle));
        }
    }
}

#[test]
fn plain_trailer_block_is_found() {
    assert_eq!(
        text("Subject\n\nBody.\n\nA: b\nC-d: e\n"),
        [kv("A", "b"), kv("C-d", "e")]
    );
}

#[test]
fn subject_alone_is_never_a_trailer() {
    assert!(text("A: b\n").is_empty());
    assert!(text("A: b\nC: d\n").is_empty());
}

#[test]
fn empty_value_does_not_swallow_the_next_line() {
    assert_eq!(text("S\n\nA:\nB: c\n"), [kv("A", ""), kv("B", "c")]);
}

#[test]
fn continuation_lines_are_unfolded_into_one_space() {
    assert_eq!(
        text("S\n\nA: one\n   two\n\tthree\nB: c\n"),
        [kv("A", "one two three"), kv("B", "c")]
    );
}

#[test]
fn whitespace_before_a_fold_is_kept_as_git_keeps_it() {
    assert_eq!(text("S\n\nA: one  \n two\n"), [kv("A", "one   two")]);
}

#[test]
fn cr_is_trimmed_at_the_ends_but_kept_inside_a_folded_value() {
    assert_eq!(
        text("S\r\n\r\nA: b\r\nC: d\r\n  e\r\n"),
        [kv("A", "b"), kv("C", "d\r e")]
    );
}

#[test]
fn space_before_the_colon_is_allowed_but_not_inside_the_key() {
    assert_eq!(
        text("S\n\nKey : v\nKey\t: w\n"),
        [kv("Key", "v"), kv("Key", "w")]
    );
    assert!(text("S\n\nKey x: v\n").is_empty());
    assert!(text("S\n\nKey_x: v\n").is_empty());
}

#[test]
fn line_starting_with_the_separator_is_not_a_trailer() {
    assert!(text("S\n\n: v\n").is_empty());
}

#[test]
fn prose_needs_a_git_generated_line_and_the_25_percent_rule() {
    assert!(text("S\n\nprose\nA: b\n").is_empty());
    let three = "S\n\np1\np2\np3\nSigned-off-by: X\n";
    assert_eq!(text(three), [kv("Signed-off-by", "X")]);
    let four = "S\n\np1\np2\np3\np4\nSigned-off-by: X\n";
    assert!(text(four).is_empty());
}

#[test]
fn signed_off_by_without_its_space_is_not_git_generated() {
    assert!(text("S\n\nprose\nSigned-off-by:X\n").is_empty());
}

#[test]
fn comment_lines_are_skipped_and_break_a_fold() {
    // The indented line after the comment is prose to the 25% rule, so it
    // takes a git-generated line for the paragraph to count at all.
    assert!(text("S\n\nA: b\n# note\n c\nD: e\n").is_empty());
    let msg = "S\n\nSigned-off-by: b\n# note\n c\nD: e\n";
    assert_eq!(text(msg), [kv("Signed-off-by", "b"), kv("D", "e")]);
}

#[test]
fn scissors_line_cuts_the_message() {
    let msg = "S\n\nA: b\n# ------------------------ >8 ------------------------\nC: d\n";
    assert_eq!(text(msg), [kv("A", "b")]);
}

#[test]
fn scissors_line_at_the_start_leaves_nothing() {
    let msg = "# ------------------------ >8 ------------------------\nS\n\nC: d\n";
    assert!(text(msg).is_empty());
}

#[test]
fn conflicts_block_after_trailers_is_ignored() {
    assert_eq!(text("S\n\nA: b\n\nConflicts:\n\tx.c\n"), [kv("A", "b")]);
    assert_eq!(text("S\n\nA: b\nConflicts:\n\tx.c\n"), [kv("A", "b")]);
}

#[test]
fn conflicts_without_final_newline_is_a_block_only_on_stdin() {
    assert_eq!(text("S\n\nA: b\nConflicts:"), [kv("A", "b")]);
    assert_eq!(
        log("S\n\nA: b\nConflicts:"),
        [kv("A", "b"), kv("Conflicts", "")]
    );
}

#[test]
fn dashes_are_not_a_divider_without_patch_mode() {
    assert_eq!(
        text("S\n\nbody\n---\nA: b\n"),
        Vec::<(String, String)>::new()
    );
    assert_eq!(text("S\n\n---\n\nA: b\n"), [kv("A", "b")]);
}

#[test]
fn nul_ends_the_message_as_in_c() {
    assert_eq!(text("S\n\nA: b\n\0C: d\n"), [kv("A", "b")]);
    assert!(text("\0S\n\nA: b\n").is_empty());
}

#[test]
fn form_feed_and_vertical_tab_are_not_whitespace_to_git() {
    // A form-feed line is prose, not a paragraph break.
    assert!(text("S\n\nA: b\n\x0c\nC: d\n").is_empty());
    assert_eq!(text("S\n\nA: b\x0c\n"), [kv("A", "b\x0c")]);
}

#[test]
fn leading_blank_line_makes_stdin_and_log_differ() {
    assert_eq!(text("\nA: b\n"), [kv("A", "b")]);
    assert!(log("\nA: b\n").is_empty());
    assert!(log(" \t\r\n\nA: b\n").is_empty());
}

#[test]
fn blank_lines_after_the_block_are_skipped() {
    assert_eq!(text("S\n\nA: b\n\n \n\t\n"), [kv("A", "b")]);
}

#[test]
fn empty_and_blank_inputs_have_no_trailers() {
    for msg in ["", "\n", "\n\n", " ", "#", "#\n", ":", "\0"] {
        assert!(text(msg).is_empty(), "{msg:?}");
        assert!(log(msg).is_empty(), "{msg:?}");
    }
}

#[test]
fn values_borrow_from_the_input_unless_folded() {
    let msg = b"S\n\nA: b\nC: d\n e\n";
    let trailers = from_text(msg);
    assert!(matches!(trailers[0].key, Cow::Borrowed(_)));
    assert!(matches!(trailers[0].value, Cow::Borrowed(_)));
    assert!(matches!(trailers[1].value, Cow::Owned(_)));
}

#[test]
fn keys_compare_without_ascii_case() {
    let trailers = from_text(b"S\n\nsigned-OFF-by: X\n");
    assert!(trailers[0].key_is("Signed-off-by"));
    assert!(!trailers[0].key_is("Signed-off"));
}

#[test]
fn render_writes_key_colon_space_value_lines() {
    let mut out = Vec::new();
    render(&from_text(b"S\n\nA:\nB : c\n"), &mut out);
    assert_eq!(out, b"A: \nB: c\n");
}

#[test]
fn render_does_not_double_a_separator_the_key_already_has() {
    let t = Trailer {
        key: Cow::Borrowed(b"A:"),
        value: Cow::Borrowed(b"b"),
    };
    let mut out = Vec::new();
    render(&[t], &mut out);
    assert_eq!(out, b"A:b\n");
}

#[test]
fn into_owned_keeps_the_bytes() {
    let owned = from_text(b"S\n\nA: \xff\n")[0].clone().into_owned();
    assert_eq!(&*owned.value, b"\xff");
}
