//! A seeded generator of commit messages built from the pieces that decide
//! git's trailer parsing: paragraphs, blank and whitespace-only lines, CRLF
//! and lone CR, continuation lines, comments, `---`, the scissors line,
//! `Conflicts:` blocks, git-generated lines around the 25% boundary, odd keys,
//! long lines, non-UTF-8 bytes and NUL.
//!
//! The same seed always gives the same messages, so a mismatch found once can
//! be found again (`TRAILGATE_DIFF_SEED`).

pub use crate::oracle::Rng;

const SUBJECTS: &[&[u8]] = &[
    b"Fix the frobnicator",
    b"AI-Assisted: yes",
    b"Subject: looks like a trailer",
    b"  indented subject",
    b"feat(api): add endpoint",
    b"Revert \"Fix it\"",
    b"--- subject with dashes",
    b"# not a comment in the subject? it is",
    b"Caf\xc3\xa9 \xff\xfe latin",
    b"",
];

const PROSE: &[&[u8]] = &[
    b"This change makes the thing work.",
    b"See https://example.com/a:b for details.",
    b"https://example.com/issue/42",
    b"Note: this line reads like a trailer",
    b"Key with space: not a trailer",
    b"Bug #42",
    b"foo_bar: underscore key",
    b"a.b: dotted key",
    b"x",
    b": starts with a colon",
    b"-: dash key",
    b"Signed-off-by:NoSpace",
    b"signed-off-by: lowercase",
    b"Conflicts:",
    b"Conflicts: with text",
    b"(cherry picked from commit",
    b"\xe9t\xe9: latin-1 key",
    b"\xc3\x9cml\xc3\xa4ut: utf-8 key",
    b"prose with a tab\tinside",
    b"trailing spaces   ",
];

const TRAILERS: &[&[u8]] = &[
    b"Signed-off-by: A U Thor <author@example.com>",
    b"Signed-off-by: ",
    b"Signed-off-by:",
    b"(cherry picked from commit 0123456789abcdef0123456789abcdef01234567)",
    b"(cherry picked from commit ",
    b"AI-Assisted: yes",
    b"AI-Assisted:",
    b"Approved-By: Alice",
    b"approved-by: bob",
    b"Co-authored-by: C <c@example.com>",
    b"Reviewed-by: a:b:c",
    b"Key : value",
    b"Key\t: value",
    b"Key  \t : value",
    b"Key:",
    b"Key:   ",
    b"Key: value   ",
    b"Key: value\t",
    b"Key:\tvalue",
    b"Key:value",
    b"Key:  spaced   value  ",
    b"Link: https://example.com/x",
    b"X: \xff\xfe\x80",
    b"K\xe9y: latin-1 inside key",
    b"123: numeric",
    b"-leading-dash: yes",
    b"A: b\x0c",
    b"Z: \x0b",
    b"Change-Id: I0123456789abcdef",
];

const CONTINUATIONS: &[&[u8]] = &[
    b" continued",
    b"\tcontinued with tab",
    b"   deeply continued",
    b" ",
    b"\t",
    b" Key: indented trailer",
    b"\r continued after CR",
];

const COMMENTS: &[&[u8]] = &[
    b"# comment",
    b"#",
    b"#Key: value",
    b"# Conflicts:",
    b" # indented hash",
];

const DIVIDERS: &[&[u8]] = &[b"---", b"--- ", b"----", b"---x", b"--- notes"];

const EOLS_LF: &[&[u8]] = &[b"\n"];
const EOLS_CRLF: &[&[u8]] = &[b"\r\n"];
const EOLS_MOSTLY_LF: &[&[u8]] = &[b"\n", b"\n", b"\r\n"];
const EOLS_ANY: &[&[u8]] = &[b"\n", b"\r", b"\r\n", b"\n"];

const SCISSORS: &[&[u8]] = &[
    b"# ------------------------ >8 ------------------------",
    b"#  ------------------------ >8 ------------------------",
    b" # ------------------------ >8 ------------------------",
    b"; ------------------------ >8 ------------------------",
];

const BLANKS: &[&[u8]] = &[
    b"", b"", b"", b" ", b"\t", b"  \t ", b"\x0c", b"\x0b", b"\r",
];

const CONFLICTS_PATHS: &[&[u8]] = &[b"\tsrc/main.rs", b"\tREADME", b" src/space.rs", b"\t"];

/// One message. About a third end in a trailer-looking paragraph.
pub fn message(rng: &mut Rng) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = Vec::new();

    for _ in 0..weighted(rng, &[70, 20, 7, 3]) {
        lines.push(rng.pick(BLANKS).to_vec());
    }
    if rng.chance(10) {
        lines.push(rng.pick(COMMENTS).to_vec());
    }
    lines.push(rng.pick(SUBJECTS).to_vec());
    if rng.chance(15) {
        // A second subject line: still the title paragraph.
        lines.push(rng.pick(TRAILERS).to_vec());
    }

    let paragraphs = weighted(rng, &[15, 35, 30, 15, 5]);
    for p in 0..paragraphs {
        // Paragraph separator: usually one empty line, sometimes none or odd ones.
        match weighted(rng, &[75, 10, 10, 5]) {
            0 => lines.push(Vec::new()),
            1 => {}
            2 => lines.push(rng.pick(BLANKS).to_vec()),
            _ => {
                lines.push(Vec::new());
                lines.push(Vec::new());
            }
        }
        let last = p + 1 == paragraphs;
        paragraph(rng, last, &mut lines);
    }

    // What comes after the message proper.
    match weighted(rng, &[60, 8, 8, 8, 6, 6, 4]) {
        0 => {}
        1 => {
            for _ in 0..=rng.below(3) {
                lines.push(rng.pick(BLANKS).to_vec());
            }
        }
        2 => {
            lines.push(rng.pick(COMMENTS).to_vec());
            if rng.chance(50) {
                lines.push(rng.pick(COMMENTS).to_vec());
            }
        }
        3 => {
            if rng.chance(50) {
                lines.push(Vec::new());
            }
            lines.push(b"Conflicts:".to_vec());
            for _ in 0..rng.below(3) {
                lines.push(rng.pick(CONFLICTS_PATHS).to_vec());
            }
        }
        4 => {
            lines.push(rng.pick(SCISSORS).to_vec());
            lines.push(b"# Do not modify or remove the line above.".to_vec());
            lines.push(b"diff --git a/x b/x".to_vec());
            lines.push(rng.pick(TRAILERS).to_vec());
        }
        5 => {
            lines.push(rng.pick(DIVIDERS).to_vec());
            lines.push(rng.pick(TRAILERS).to_vec());
        }
        _ => lines.push(rng.pick(TRAILERS).to_vec()),
    }

    join(rng, &lines)
}

fn paragraph(rng: &mut Rng, last: bool, lines: &mut Vec<Vec<u8>>) {
    let trailerish = last && rng.chance(70) || rng.chance(15);
    let most = if rng.chance(10) { 12 } else { 5 };
    let count = 1 + rng.below(most);
    for _ in 0..count {
        let line: Vec<u8> = if trailerish {
            // Mostly trailers, with prose sprinkled in to straddle the 25% rule.
            match weighted(rng, &[55, 12, 12, 8, 5, 3, 3, 2]) {
                0 => rng.pick(TRAILERS).to_vec(),
                1 => rng.pick(PROSE).to_vec(),
                2 => rng.pick(CONTINUATIONS).to_vec(),
                3 => rng.pick(&TRAILERS[..5]).to_vec(),
                4 => rng.pick(COMMENTS).to_vec(),
                5 => rng.pick(DIVIDERS).to_vec(),
                6 => rng.pick(SCISSORS).to_vec(),
                _ => long_line(rng),
            }
        } else {
            match weighted(rng, &[75, 8, 6, 4, 4, 3]) {
                0 => rng.pick(PROSE).to_vec(),
                1 => rng.pick(CONTINUATIONS).to_vec(),
                2 => rng.pick(TRAILERS).to_vec(),
                3 => rng.pick(DIVIDERS).to_vec(),
                4 => rng.pick(COMMENTS).to_vec(),
                _ => long_line(rng),
            }
        };
        lines.push(line);
    }
}

fn long_line(rng: &mut Rng) -> Vec<u8> {
    let len = if rng.chance(10) {
        20_000 + rng.below(80_000)
    } else {
        200 + rng.below(2_000)
    };
    match rng.below(3) {
        0 => {
            let mut line = b"Long-Value: ".to_vec();
            line.resize(line.len() + len, b'v');
            line
        }
        1 => {
            let mut line = vec![b'K'; len.min(10_000)];
            line.extend_from_slice(b": long key");
            line
        }
        _ => vec![b'p'; len],
    }
}

/// Joins lines with mostly LF, some CRLF and a few lone CRs; damages the
/// result now and then with a NUL or a missing final newline.
fn join(rng: &mut Rng, lines: &[Vec<u8>]) -> Vec<u8> {
    let eols: &[&[u8]] = match weighted(rng, &[70, 15, 10, 5]) {
        0 => EOLS_LF,
        1 => EOLS_CRLF,
        2 => EOLS_MOSTLY_LF,
        _ => EOLS_ANY,
    };
    let mut msg = Vec::new();
    for line in lines {
        msg.extend_from_slice(line);
        let eol = rng.pick(eols);
        msg.extend_from_slice(eol);
    }
    if rng.chance(10) {
        while msg.last() == Some(&b'\n') || msg.last() == Some(&b'\r') {
            msg.pop();
        }
    }
    if rng.chance(3) && !msg.is_empty() {
        let at = rng.below(msg.len());
        msg.insert(at, 0);
    }
    msg
}

/// An index drawn with the given relative weights.
fn weighted(rng: &mut Rng, weights: &[usize]) -> usize {
    let total: usize = weights.iter().sum();
    let mut x = rng.below(total);
    for (i, &w) in weights.iter().enumerate() {
        if x < w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}
