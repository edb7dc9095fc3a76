//! Commit-message trailers, parsed exactly as git 2.47 parses them.
//!
//! This module owns the answer to "which `Key: value` lines does this message
//! carry?". It is a port of the reading half of git's `trailer.c` (plus the bits
//! of `commit.c`, `wt-status.c` and `pretty.c` that decide where a message
//! ends), under an *empty* git configuration: `trailer.*` and
//! `core.commentChar` are deliberately not consulted, so a repository's
//! configuration cannot change what the policy sees (README "Trailers").
//!
//! It is pure: bytes in, trailers out. It does not read commits, does not
//! re-encode messages (see [`crate::facts::encoding`]) and does not judge anything.
//! Keys and values borrow from the input; only a value folded over several
//! lines is copied (to join its lines).
//!
//! libgit2's trailer parser disagrees with git on many messages (empty values,
//! CR, continuations, tabs, the scissors line), so it must not be used.
//!
//! The rules, as git applies them (names are git's functions):
//!
//! 1. git works on C strings: everything from the first NUL byte on is
//!    invisible to it.
//! 2. `find_end_of_log_message`: the message ends at the scissors line
//!    (`# ------------------------ >8 ------------------------`), and a
//!    trailing run of comment lines, empty lines and `Conflicts:` blocks is
//!    ignored. There is no `---` divider for commits (`--no-divider`).
//! 3. `find_trailer_block_start`: the first paragraph is the title and never
//!    holds trailers. Walking back from the end, the last paragraph is the
//!    trailer block if all its lines are trailers (or continuations), or if
//!    it holds a git-generated line (`Signed-off-by: `,
//!    `(cherry picked from commit `) and at least 25% of its lines are
//!    trailers.
//! 4. `trailer_info_get` / `parse_trailers`: lines starting with whitespace
//!    continue the trailer above them; comment lines and non-trailer lines are
//!    dropped; key and value are trimmed and the value is unfolded.
//!
//! The two entry points differ exactly where git's two commands do:
//! `git log` starts at the subject, so leading whitespace-only lines are
//! skipped and a trailer-looking first line becomes the title;
//! `interpret-trailers` reads stdin whole and adds a missing final newline,
//! so a last line `Conflicts:` without one still opens a conflicts block.
//!
//! "Whitespace" and "alphanumeric" are git's locale-independent ASCII classes
//! (`ctype.c`): whitespace is only space, tab, LF and CR — not form feed or
//! vertical tab.

use std::borrow::Cow;

/// One trailer: key as written (trimmed), value unfolded and trimmed, both raw bytes (may be non-UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trailer<'a> {
    pub key: Cow<'a, [u8]>,
    pub value: Cow<'a, [u8]>,
}

impl Trailer<'_> {
    /// ASCII case-insensitive key comparison (git compares keys case-insensitively).
    pub fn key_is(&self, key: &str) -> bool {
        self.key.eq_ignore_ascii_case(key.as_bytes())
    }

    pub fn into_owned(self) -> Trailer<'static> {
        Trailer {
            key: Cow::Owned(self.key.into_owned()),
            value: Cow::Owned(self.value.into_owned()),
        }
    }
}

/// A key git would recognise as a trailer key: letters, digits and `-`.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// What `git log -1 --format='%(trailers:only,unfold)' C` shows for a commit whose message is `msg` (message bytes only, after the header's blank line; already re-encoded to UTF-8 if it had an encoding header).
pub fn from_commit_message(msg: &[u8]) -> Vec<Trailer<'_>> {
    // pretty.c hands `%(trailers)` the message from its subject on: leading
    // blank (whitespace-only) lines are skipped first. This is the one place
    // where `git log` and `git interpret-trailers` see different input.
    let msg = skip_blank_lines(c_string(msg));
    parse(msg, false)
}

/// What `git interpret-trailers --parse --no-divider` parses from `text` on stdin.
pub fn from_text(text: &[u8]) -> Vec<Trailer<'_>> {
    // interpret-trailers completes a final line that lacks its newline
    // (`strbuf_complete_line`) before parsing. The appended newline sits after
    // the real end of the input, so it is invisible when a NUL cut the
    // string short.
    let visible = c_string(text);
    let implied_newline = visible.len() == text.len() && text.last().is_some_and(|&b| b != b'\n');
    parse(visible, implied_newline)
}

/// Appends the lines git prints for these trailers ("Key: value\n" each, byte for byte as git would).
pub fn render(trailers: &[Trailer<'_>], out: &mut Vec<u8>) {
    for trailer in trailers {
        // format_trailers(): the separator is added unless the key already
        // ends with one (never true for a parsed key, which stops before its
        // separator, but a caller may build its own `Trailer`).
        out.extend_from_slice(&trailer.key);
        match trailer.key.iter().rev().find(|&&b| !is_space(b)) {
            Some(&SEPARATOR) | None => {}
            Some(_) => out.extend_from_slice(b": "),
        }
        out.extend_from_slice(&trailer.value);
        out.push(b'\n');
    }
}

/// git's default comment character; `core.commentChar` is ignored on purpose.
const COMMENT: u8 = b'#';
/// git's default trailer separator; `trailer.separators` is ignored on purpose.
const SEPARATOR: u8 = b':';
/// Lines git itself writes; one of them lets a mixed paragraph count as the trailer block.
const GIT_GENERATED_PREFIXES: [&[u8]; 2] = [b"Signed-off-by: ", b"(cherry picked from commit "];
/// The scissors line of `git commit -v`, with its comment character and newline.
const CUT_LINE: &[u8] = b"# ------------------------ >8 ------------------------\n";
/// `commit.c` only recognises this exact line (so not with CRLF, not indented).
const CONFLICTS_LINE: &[u8] = b"Conflicts:\n";

/// git's `isspace` (`ctype.c`): deliberately not `u8::is_ascii_whitespace`, which also accepts form feed.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The message as git's C string functions see it: up to the first NUL.
fn c_string(buf: &[u8]) -> &[u8] {
    match find_byte(buf, 0) {
        Some(nul) => buf.get(..nul).unwrap_or(buf),
        None => buf,
    }
}

/// Position of the first `needle` in `haystack`. Every message is scanned
/// whole, for NUL and then line by line: memchr's vectorised search.
fn find_byte(haystack: &[u8], needle: u8) -> Option<usize> {
    memchr::memchr(needle, haystack)
}

/// Trims git's whitespace from both ends (`strbuf_trim`).
fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !is_space(*first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !is_space(*last) {
            break;
        }
        s = rest;
    }
    s
}

/// Offset just after the newline that ends the line at `bol`, or the end of `buf`.
fn next_line(buf: &[u8], bol: usize) -> usize {
    match buf.get(bol..).and_then(|rest| find_byte(rest, b'\n')) {
        Some(nl) => bol + nl + 1,
        None => buf.len(),
    }
}

/// Start of the last line of `buf[..len]`; a final newline belongs to that line (`last_line`).
fn last_line(buf: &[u8], len: usize) -> Option<usize> {
    if len == 0 {
        return None;
    }
    let head = buf.get(..len - 1).unwrap_or(buf);
    Some(memchr::memrchr(b'\n', head).map_or(0, |nl| nl + 1))
}

/// The line at the start of `rest` holds only whitespace (trailer.c's `is_blank_line`).
fn is_blank_line(rest: &[u8]) -> bool {
    rest.iter()
        .take_while(|&&b| b != b'\n')
        .all(|&b| is_space(b))
}

/// Skips leading lines made only of whitespace, as pretty.c does before the subject.
fn skip_blank_lines(mut msg: &[u8]) -> &[u8] {
    loop {
        let line_len = next_line(msg, 0);
        let (line, rest) = msg.split_at_checked(line_len).unwrap_or((msg, &[]));
        if line_len == 0 || !line.iter().all(|&b| is_space(b)) {
            return msg;
        }
        msg = rest;
    }
}

/// Position of the separator if `line` looks like `<token><optional whitespace>:`
/// (git's `find_separator`). `Some(0)` means the line starts with the separator,
/// which is not a trailer either; callers want `Some(1..)`.
///
/// The token is made of ASCII letters, digits and `-`; spaces and tabs may
/// follow it (for `Key : value`) but nothing else, so `Key x: v`, `Key_x: v`
/// and ` Key: v` are not trailers.
fn find_separator(line: &[u8]) -> Option<usize> {
    let mut whitespace_found = false;
    for (i, &c) in line.iter().enumerate() {
        if c == SEPARATOR {
            return Some(i);
        }
        if !whitespace_found && (c.is_ascii_alphanumeric() || c == b'-') {
            continue;
        }
        if i != 0 && (c == b' ' || c == b'\t') {
            whitespace_found = true;
            continue;
        }
        break;
    }
    None
}

fn is_trailer_line(line: &[u8]) -> Option<usize> {
    find_separator(line).filter(|&sep| sep >= 1)
}

/// Where the log message proper ends: at the scissors line, before a trailing
/// run of comments, empty lines and `Conflicts:` blocks (commit.c's
/// `ignored_log_message_bytes` with wt-status.c's `wt_status_locate_end`).
fn end_of_log_message(buf: &[u8], implied_newline: bool) -> usize {
    // Start of the trailing run of ignorable lines. As in git, 0 doubles as
    // "no run", so a run that starts at the very first line is only noticed
    // from its second line on.
    let mut boc = 0;
    let mut in_old_conflicts_block = false;
    let mut bol = 0;
    let mut cutoff = buf.len();
    while bol < buf.len() {
        let line = buf.get(bol..).unwrap_or_default();
        // Every line start is where git's strstr for "\n# --- >8 ---\n" (or
        // the check for it at offset 0) can hit; the first hit cuts.
        if line.starts_with(CUT_LINE) {
            cutoff = bol;
            break;
        }
        let next = next_line(buf, bol);
        let first = line.first().copied();
        if first == Some(COMMENT) || first == Some(b'\n') {
            if boc == 0 {
                boc = bol;
            }
        } else if line.starts_with(CONFLICTS_LINE) || (implied_newline && line == b"Conflicts:") {
            in_old_conflicts_block = true;
            if boc == 0 {
                boc = bol;
            }
        } else if in_old_conflicts_block && first == Some(b'\t') {
            // A path name listed in the conflicts block.
        } else if boc != 0 {
            boc = 0;
            in_old_conflicts_block = false;
        }
        bol = next;
    }
    if boc != 0 {
        boc
    } else {
        cutoff
    }
}

/// Offset of the first line of the trailer block in `buf[..len]`, or `len`
/// when there is none (trailer.c's `find_trailer_block_start`).
fn trailer_block_start(buf: &[u8], len: usize) -> usize {
    // The first paragraph is the title and cannot hold trailers. Comment
    // lines do not end it.
    let mut s = 0;
    while s < len {
        let rest = buf.get(s..).unwrap_or_default();
        if rest.first() != Some(&COMMENT) && is_blank_line(rest) {
            break;
        }
        s = next_line(buf, s);
    }
    let end_of_title = s;

    let mut only_spaces = true;
    let mut recognized_prefix = false;
    let mut trailer_lines = 0usize;
    let mut non_trailer_lines = 0usize;
    // Indented lines seen since the last trailer: continuations if a trailer
    // comes above them, non-trailers if prose does.
    let mut possible_continuation_lines = 0usize;

    let mut l = last_line(buf, len);
    while let Some(bol) = l.filter(|&bol| bol >= end_of_title) {
        l = last_line(buf, bol);
        let line = buf.get(bol..).unwrap_or_default();
        let first = line.first().copied().unwrap_or(0);
        if first == COMMENT {
            non_trailer_lines += possible_continuation_lines;
            possible_continuation_lines = 0;
            continue;
        }
        if is_blank_line(line) {
            if only_spaces {
                // Blank lines after the last paragraph.
                continue;
            }
            non_trailer_lines += possible_continuation_lines;
            // The 25% rule: `trailer_lines * 3 >= non_trailer_lines`.
            let is_block = (recognized_prefix && trailer_lines * 3 >= non_trailer_lines)
                || (trailer_lines > 0 && non_trailer_lines == 0);
            return if is_block { next_line(buf, bol) } else { len };
        }
        only_spaces = false;

        if GIT_GENERATED_PREFIXES.iter().any(|p| line.starts_with(p)) {
            trailer_lines += 1;
            possible_continuation_lines = 0;
            recognized_prefix = true;
            continue;
        }
        if is_trailer_line(line).is_some() && !is_space(first) {
            trailer_lines += 1;
            possible_continuation_lines = 0;
        } else if is_space(first) {
            possible_continuation_lines += 1;
        } else {
            non_trailer_lines += 1 + possible_continuation_lines;
            possible_continuation_lines = 0;
        }
    }
    len
}

/// The trailers of `buf`, which holds no NUL.
fn parse(buf: &[u8], implied_newline: bool) -> Vec<Trailer<'_>> {
    let end = end_of_log_message(buf, implied_newline);
    let start = trailer_block_start(buf, end);
    let block = buf.get(start..end).unwrap_or_default();

    let mut trailers = Vec::new();
    // The trailer being read: its text (first line plus continuation lines,
    // contiguous in the input) and the offset of its separator.
    let mut current: Option<(usize, usize, usize)> = None;
    let mut bol = 0;
    while bol < block.len() {
        let eol = next_line(block, bol);
        if current.is_some() && block.get(bol).is_some_and(|&b| is_space(b)) {
            if let Some((_, end, _)) = current.as_mut() {
                *end = eol;
            }
        } else {
            if let Some((from, to, sep)) = current.take() {
                trailers.push(make_trailer(block.get(from..to).unwrap_or_default(), sep));
            }
            // A comment line never has a separator, so it is dropped here and
            // does not continue into the next line either.
            current =
                is_trailer_line(block.get(bol..eol).unwrap_or_default()).map(|sep| (bol, eol, sep));
        }
        bol = eol;
    }
    if let Some((from, to, sep)) = current {
        trailers.push(make_trailer(block.get(from..to).unwrap_or_default(), sep));
    }
    trailers
}

/// Splits one trailer's text at its separator (`parse_trailer` + `unfold_value`).
fn make_trailer(text: &[u8], sep: usize) -> Trailer<'_> {
    let (key, rest) = text.split_at(sep.min(text.len()));
    let value = trim(rest.get(1..).unwrap_or_default());
    Trailer {
        key: Cow::Borrowed(trim(key)),
        value: unfold(value),
    }
}

/// Joins a folded value: each newline and the whitespace after it become one
/// space. Whitespace *before* a newline is kept, as git keeps it.
fn unfold(value: &[u8]) -> Cow<'_, [u8]> {
    if !value.contains(&b'\n') {
        return Cow::Borrowed(value);
    }
    let mut out = Vec::with_capacity(value.len());
    let mut bytes = value.iter().copied().peekable();
    while let Some(c) = bytes.next() {
        if c == b'\n' {
            while bytes.next_if(|&b| is_space(b)).is_some() {}
            out.push(b' ');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(trim(&out).to_vec())
}

#[cfg(test)]
mod tests;
