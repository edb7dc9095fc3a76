//! Reading commit and tag objects from their raw bytes exactly as git reads
//! them, and ([`fsck`]) refusing the new ones git would call malformed or
//! that git's own readers would read in different ways.
//!
//! trailgate parses commits itself instead of going through libgit2's commit
//! parser so that it sees the real object (no grafts, no replace refs), keeps
//! non-UTF-8 bytes, and does not pay for work it does not need in the walk.
//! Each field is read the way the git code that shows it reads it:
//!
//! - the tree and parents as `parse_commit_buffer` (commit.c) does: the tree
//!   must be the first line, the parents are the `parent` lines right after
//!   it (a `parent` line anywhere else is not a parent to git);
//! - the author and committer as `git log --format=%an/%ae/%cn/%ce` shows
//!   them (pretty.c `parse_commit_header`: the last such header line), split
//!   by `split_ident_line` (ident.c): the name is everything before the first
//!   `<` less trailing blanks, the e-mail everything up to the next `>`,
//!   nothing trimmed;
//! - the encoding as `logmsg_reencode` finds it: the first `encoding` header;
//! - the message: everything after the first empty line.
//!
//! An object already in the repository is read this way whatever its shape
//! (old history is never judged again); a new one must first pass
//! [`fsck::check_commit`], on which every git reader agrees.

pub mod fsck;

use crate::git::oid::{HashKind, ObjectId};

/// An identity line (`author` or `committer`): `Name <email> time tz`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ident {
    pub name: Vec<u8>,
    pub email: Vec<u8>,
    /// Seconds since the epoch; 0 when the line has no date or one that
    /// does not fit.
    pub time: i64,
}

impl Ident {
    /// `Name <email>` for messages, lossily decoded.
    pub fn display(&self) -> String {
        format!(
            "{} <{}>",
            String::from_utf8_lossy(&self.name),
            String::from_utf8_lossy(&self.email)
        )
    }
}

/// The parts of a commit object trailgate uses.
#[derive(Debug, Clone, Default)]
pub struct RawCommit<'a> {
    /// The root tree.
    pub tree: Option<ObjectId>,
    pub parents: Vec<ObjectId>,
    pub author: Ident,
    pub committer: Ident,
    pub encoding: Option<&'a [u8]>,
    /// True when the commit carries a `gpgsig` (or `gpgsig-sha256`) header.
    pub signed: bool,
    pub message: &'a [u8],
}

/// Parses a commit object's bytes as git reads them, with object ids of
/// `kind` (the commit's own: a commit names its tree and parents with the
/// repository's hash). Returns `Err` with a reason when git itself cannot
/// read the object (no tree line first, a broken parent line).
pub fn parse(data: &[u8], kind: HashKind) -> Result<RawCommit<'_>, String> {
    let (tree, rest) = tree_line(data, kind)?;
    let mut commit = RawCommit {
        tree: Some(tree),
        ..RawCommit::default()
    };
    parents(rest, kind, |p| commit.parents.push(p))?;
    // pretty.c reads the header lines up to the first empty line, of the
    // object as a C string: a NUL ends it.
    let text = until_nul(data);
    let mut lines = HeaderLines { rest: text };
    let mut author = None;
    let mut committer = None;
    for line in lines.by_ref() {
        if let Some(value) = line.strip_prefix(b"author ") {
            author = Some(value);
        } else if let Some(value) = line.strip_prefix(b"committer ") {
            committer = Some(value);
        } else if let Some(value) = header_value(line, b"encoding") {
            commit.encoding.get_or_insert(value);
        } else if is_signature(line, b"gpgsig") || is_signature(line, b"gpgsig-sha256") {
            commit.signed = true;
        }
    }
    commit.author = author.map(parse_ident).unwrap_or_default();
    commit.committer = committer.map(parse_ident).unwrap_or_default();
    commit.message = lines.rest;
    Ok(commit)
}

/// What a revision walk needs of a commit, and nothing more: its parents
/// (pushed onto `parents`) and its committer date. Agrees with [`parse`],
/// errors included, without allocating; the walk reads every commit of a
/// push this way before anything else looks at it.
pub fn parse_links(
    data: &[u8],
    kind: HashKind,
    parents_out: &mut Vec<ObjectId>,
) -> Result<i64, String> {
    let (_, rest) = tree_line(data, kind)?;
    parents(rest, kind, |p| parents_out.push(p))?;
    let mut committer = None;
    for line in (HeaderLines {
        rest: until_nul(data),
    }) {
        if let Some(value) = line.strip_prefix(b"committer ") {
            committer = Some(value);
        }
    }
    Ok(committer.map_or(0, ident_time))
}

/// The `tree` line git requires first (`parse_commit_buffer`: `tree `, the
/// id, a newline, and something after it), and what follows it.
fn tree_line(data: &[u8], kind: HashKind) -> Result<(ObjectId, &[u8]), String> {
    let len = 5 + kind.hex_len();
    let tree = data
        .strip_prefix(b"tree ")
        .filter(|_| data.len() > len + 1 && data.get(len) == Some(&b'\n'))
        .and_then(|rest| kind.parse_hex(rest.get(..kind.hex_len())?));
    match (tree, data.get(len + 1..)) {
        (Some(tree), Some(rest)) => Ok((tree, rest)),
        _ => Err("it does not start with a `tree` line".into()),
    }
}

/// The `parent` lines right after the tree line, as `parse_commit_buffer`
/// reads them: a line that starts with `parent ` and is long enough to hold
/// an id must hold exactly one; a `parent` line further down is not a
/// parent.
fn parents(mut rest: &[u8], kind: HashKind, mut each: impl FnMut(ObjectId)) -> Result<(), String> {
    let len = 7 + kind.hex_len();
    while rest.len() > len && rest.starts_with(b"parent ") {
        let parent = (rest.len() > len + 1 && rest.get(len) == Some(&b'\n'))
            .then(|| rest.get(7..len).and_then(|hex| kind.parse_hex(hex)))
            .flatten();
        let Some(parent) = parent else {
            let line = rest.split(|&b| b == b'\n').next().unwrap_or_default();
            return Err(format!(
                "bad parent line `{}`",
                String::from_utf8_lossy(line)
            ));
        };
        each(parent);
        rest = rest.get(len + 1..).unwrap_or_default();
    }
    Ok(())
}

/// The bytes before the first NUL (all of them when there is none).
fn until_nul(data: &[u8]) -> &[u8] {
    match memchr::memchr(0, data) {
        Some(i) => data.get(..i).unwrap_or(data),
        None => data,
    }
}

/// The value of a header line `key value` (git's `find_header_mem`: the
/// key, a space, and at least the space).
fn header_value<'a>(line: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    line.strip_prefix(key)?.strip_prefix(b" ")
}

/// Whether a header line opens a signature under `key`.
fn is_signature(line: &[u8], key: &[u8]) -> bool {
    header_value(line, key).is_some()
}

/// The header lines of an object, continuation lines included, each
/// without its newline; what is left in `rest` when they end is the
/// message. An empty line ends the headers, and so does the end of the
/// object (a commit with no message and no blank line).
struct HeaderLines<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for HeaderLines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, after) = split_once_byte(self.rest, b'\n').unwrap_or((self.rest, &[]));
        self.rest = after;
        if line.is_empty() {
            return None;
        }
        Some(line)
    }
}

/// An object id of `kind` written as hex digits (of the repository's
/// length), as git writes them in headers.
pub fn oid_from_hex(hex: &[u8], kind: HashKind) -> Option<ObjectId> {
    kind.parse_hex(hex)
}

/// The parts of a tag object trailgate uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTag<'a> {
    /// The object it names on its first line.
    pub target: ObjectId,
    /// The kind it says that object is (`commit`, `tree`, `blob`, `tag`).
    pub kind: &'a [u8],
}

/// Reads a tag as git's `parse_tag_buffer` (tag.c) does: `object <hex>`,
/// then `type <kind>`; `None` when git cannot read it either.
pub fn parse_tag(data: &[u8], hash: HashKind) -> Option<RawTag<'_>> {
    let rest = data.strip_prefix(b"object ")?;
    let target = hash.parse_hex(rest.get(..hash.hex_len())?)?;
    let rest = rest.get(hash.hex_len()..)?.strip_prefix(b"\n")?;
    let rest = rest.strip_prefix(b"type ")?;
    let (kind, _) = split_once_byte(rest, b'\n')?;
    Some(RawTag { target, kind })
}

/// The object a tag object names on its first line (`object <hex>`).
pub fn tag_target(data: &[u8], hash: HashKind) -> Option<ObjectId> {
    parse_tag(data, hash).map(|t| t.target)
}

/// git's `isspace`: space, tab, newline and carriage return (not the
/// vertical tab or form feed C's `isspace` also knows).
fn is_git_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Splits `Name <email> 1700000000 +0000` as git's `split_ident_line` does:
/// the name runs to the first `<` (trailing blanks dropped, leading ones
/// kept), the e-mail from there to the first `>`; the date is the digits
/// after the last `>`. A line without `<` or `>` has no name or e-mail for
/// git (`%an` and `%ae` show nothing).
pub fn parse_ident(value: &[u8]) -> Ident {
    let Some((name, after_lt)) = split_once_byte(value, b'<') else {
        return Ident::default();
    };
    let Some((email, _)) = split_once_byte(after_lt, b'>') else {
        return Ident::default();
    };
    let mut name = name;
    while let [rest @ .., last] = name {
        if is_git_space(*last) {
            name = rest;
        } else {
            break;
        }
    }
    Ident {
        name: name.to_vec(),
        email: email.to_vec(),
        time: ident_time(value),
    }
}

/// The time of an ident line as `split_ident_line` finds it: the digits
/// after the last `>` and any blanks; 0 when there are none or they do not
/// fit.
fn ident_time(value: &[u8]) -> i64 {
    let Some(gt) = memchr::memrchr(b'>', value) else {
        return 0;
    };
    let Some(_) = memchr::memchr(b'<', value).filter(|&lt| lt < gt) else {
        return 0;
    };
    let tail = value.get(gt + 1..).unwrap_or_default();
    let mut time: i64 = 0;
    for &b in tail
        .iter()
        .skip_while(|&&b| is_git_space(b))
        .take_while(|b| b.is_ascii_digit())
    {
        match time
            .checked_mul(10)
            .and_then(|t| t.checked_add(i64::from(b - b'0')))
        {
            Some(t) => time = t,
            None => return 0,
        }
    }
    time
}

/// The bytes before and after the first `sep`, without it.
pub fn split_once_byte(s: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let i = memchr::memchr(sep, s)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if first.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if last.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// The commit's subject as `git log --format=%s` would show its first line,
/// shortened for a one-line report.
pub fn subject(message: &[u8]) -> String {
    let first = message
        .split(|&b| b == b'\n')
        .map(trim)
        .find(|l| !l.is_empty())
        .unwrap_or(b"");
    // The common case, a short printable ASCII line, is the line itself:
    // this runs for every commit a rule judges.
    if first.len() <= 72 && first.iter().all(|&b| (b' '..=b'~').contains(&b)) {
        return String::from_utf8_lossy(first).into_owned();
    }
    let text = String::from_utf8_lossy(first);
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() > 72 {
        let cut: String = clean.chars().take(69).collect();
        format!("{cut}...")
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: HashKind = HashKind::Sha1;

    fn oid_from_hex_k(hex: &[u8]) -> Option<ObjectId> {
        oid_from_hex(hex, K)
    }

    const RAW: &[u8] = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\
parent 1111111111111111111111111111111111111111\n\
parent 2222222222222222222222222222222222222222\n\
author A U Thor <author@example.com> 1700000000 +0100\n\
committer C O Mitter <committer@example.com> 1700000100 +0000\n\
encoding ISO-8859-1\n\
gpgsig -----BEGIN SSH SIGNATURE-----\n \n -----END SSH SIGNATURE-----\n\
\n\
Subject\n\nBody\n";

    #[test]
    fn headers_and_message_are_read() {
        let c = parse(RAW, K).unwrap();
        assert_eq!(c.parents.len(), 2);
        assert_eq!(c.author.email, b"author@example.com");
        assert_eq!(c.author.name, b"A U Thor");
        assert_eq!(c.committer.time, 1_700_000_100);
        assert_eq!(c.encoding, Some(&b"ISO-8859-1"[..]));
        assert!(c.signed);
        assert_eq!(c.message, b"Subject\n\nBody\n");
    }

    #[test]
    fn a_commit_without_a_tree_is_refused() {
        assert!(parse(b"author x <y> 1 +0000\n\nmsg", K).is_err());
    }

    #[test]
    fn a_bad_parent_is_refused() {
        let bad = format!(
            "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent {}\n\nm",
            "z".repeat(40)
        );
        assert!(parse(bad.as_bytes(), K).is_err());
        let short = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 4b825dc\nauthor a <b> 1 +0000\n\na message long enough to hold an id";
        assert!(parse(short, K).is_err());
    }

    #[test]
    fn a_parent_line_that_is_too_short_to_hold_an_id_at_the_end_is_no_parent_to_git() {
        // parse_commit_buffer only reads a parent line with room for an id.
        let c = parse(
            b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent zz\n\nm",
            K,
        )
        .unwrap();
        assert!(c.parents.is_empty());
    }

    #[test]
    fn only_the_parent_lines_right_after_the_tree_are_parents() {
        let data = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\
parent 1111111111111111111111111111111111111111\n\
author A <a@x> 1 +0000\n\
committer C <c@x> 2 +0000\n\
parent 2222222222222222222222222222222222222222\n\
\nm\n";
        let c = parse(data, K).unwrap();
        assert_eq!(c.parents.len(), 1);
        let mut parents = Vec::new();
        parse_links(data, K, &mut parents).unwrap();
        assert_eq!(parents, c.parents);
    }

    #[test]
    fn the_tree_must_be_the_first_line() {
        let data = b"author A <a@x> 1 +0000\ntree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\ncommitter C <c@x> 2 +0000\n\nm\n";
        assert!(parse(data, K).is_err());
    }

    #[test]
    fn the_last_author_line_is_the_one_git_log_shows() {
        let data = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\
author Alice <alice@x> 1 +0000\n\
committer C <c@x> 2 +0000\n\
author Carol <carol@x> 3 +0000\n\
encoding first\n\
encoding second\n\
\nm\n";
        let c = parse(data, K).unwrap();
        assert_eq!(c.author.email, b"carol@x");
        assert_eq!(c.encoding, Some(&b"first"[..]));
    }

    #[test]
    fn idents_are_split_as_split_ident_line_does() {
        let i = parse_ident(b"  Bob \t< bob@x > 12 +0000");
        assert_eq!(i.name, b"  Bob");
        assert_eq!(i.email, b" bob@x ");
        assert_eq!(i.time, 12);
        // The date follows the last `>`.
        assert_eq!(parse_ident(b"A <a> x> 34 +0000").time, 34);
        assert_eq!(parse_ident(b"A <a> x> 34 +0000").email, b"a");
        assert_eq!(parse_ident(b"A > <a> 5 +0000").name, b"A >");
    }

    #[test]
    fn a_nul_ends_the_header_for_the_idents() {
        let data = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@x> 1 +0000\0\nauthor B <b@x> 1 +0000\n\nm\n";
        assert_eq!(parse(data, K).unwrap().author.email, b"a@x");
        // ... and the message, as for git log.
        let data =
            b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@x> 1 +0000\n\nSub\0ject\n";
        assert_eq!(parse(data, K).unwrap().message, b"Sub");
    }

    #[test]
    fn sha256_ids_are_read_at_their_length() {
        let tree = "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321";
        let data = format!(
            "tree {tree}\nparent {tree}\nauthor A <a> 1 +0000\ncommitter A <a> 1 +0000\n\nm\n"
        );
        let c = parse(data.as_bytes(), HashKind::Sha256).unwrap();
        assert_eq!(c.tree.map(|t| t.to_hex()), Some(tree.to_owned()));
        assert_eq!(c.parents.len(), 1);
        assert!(parse(data.as_bytes(), K).is_err());
        let tag = format!("object {tree}\ntype commit\ntag v1\n\nm\n");
        assert!(tag_target(tag.as_bytes(), HashKind::Sha256).is_some());
        assert!(tag_target(tag.as_bytes(), K).is_none());
    }

    #[test]
    fn malformed_idents_yield_empty_emails_not_panics() {
        assert_eq!(parse_ident(b"no email here").email, b"");
        assert_eq!(parse_ident(b"open <bracket only").email, b"");
        assert_eq!(parse_ident(b"<>").email, b"");
        assert_eq!(parse_ident(b"no email here").name, b"");
        assert_eq!(parse_ident(b"x <a@b> notatime").time, 0);
    }

    #[test]
    fn a_commit_without_a_message_has_an_empty_one() {
        let c = parse(
            b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <b> 1 +0000",
            K,
        )
        .unwrap();
        assert_eq!(c.message, b"");
        assert_eq!(c.author.email, b"b");
    }

    #[test]
    fn links_agree_with_the_full_parse() {
        let cases: &[&[u8]] = &[
            RAW,
            b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <b> 1 +0000",
            b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\ncommitter c <d> 99999999999999999999 +0000\n\nm",
            b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\ncommitter broken\n\nm",
            b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent zz\n\nm",
            b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 111\n\nm",
            b"author x <y> 1 +0000\n\nmsg",
            b"",
            b"\n\ntree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n",
        ];
        for &data in cases {
            let mut parents = Vec::new();
            let links = parse_links(data, K, &mut parents);
            match parse(data, K) {
                Ok(full) => {
                    assert_eq!(links, Ok(full.committer.time), "{data:?}");
                    assert_eq!(parents, full.parents, "{data:?}");
                }
                Err(reason) => assert_eq!(links, Err(reason), "{data:?}"),
            }
        }
    }

    #[test]
    fn ids_are_exactly_forty_hex_digits() {
        let hex = b"4b825dc642cb6eb9a060e54bf8d69288fbee4904";
        assert_eq!(
            oid_from_hex_k(hex).map(|o| o.to_string()),
            Some("4b825dc642cb6eb9a060e54bf8d69288fbee4904".to_owned())
        );
        assert_eq!(
            oid_from_hex_k(b"4B825DC642CB6EB9A060E54BF8D69288FBEE4904"),
            oid_from_hex_k(hex)
        );
        assert_eq!(oid_from_hex_k(&hex[..39]), None);
        assert_eq!(
            oid_from_hex_k(b"4b825dc642cb6eb9a060e54bf8d69288fbee4904 "),
            None
        );
        assert_eq!(
            oid_from_hex_k(b"4b825dc642cb6eb9a060e54bf8d69288fbee490g"),
            None
        );
        assert_eq!(oid_from_hex_k(b""), None);
    }

    #[test]
    fn subject_is_the_first_non_empty_line_shortened() {
        assert_eq!(subject(b"\n\nHello\nworld"), "Hello");
        assert_eq!(subject(&[b'x'; 100]).chars().count(), 72);
        assert_eq!(subject(b""), "");
        assert_eq!(subject(b"  Fix\tthe\x7fbug \n"), "Fixthebug");
        assert_eq!(subject(b"Plain subject"), "Plain subject");
        let long = "y".repeat(72);
        assert_eq!(subject(long.as_bytes()), long);
        assert_eq!(subject(format!("{long}z").as_bytes()).chars().count(), 72);
    }
}
