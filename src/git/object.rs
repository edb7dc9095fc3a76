//! Reading a commit object's raw bytes (parents, author, committer, encoding
//! and message, exactly as stored) and a tag's target.
//!
//! trailgate parses commits itself instead of going through libgit2's commit
//! parser so that it sees the real object (no grafts, no replace refs), keeps
//! non-UTF-8 bytes, and does not pay for work it does not need in the walk.

use crate::git::oid::{HashKind, ObjectId};

/// An identity line (`author` or `committer`): `Name <email> time tz`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ident {
    pub name: Vec<u8>,
    pub email: Vec<u8>,
    /// Seconds since the epoch; 0 when the line is malformed.
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
    /// The root tree (`None` only if the tree line is not an id).
    pub tree: Option<ObjectId>,
    pub parents: Vec<ObjectId>,
    pub author: Ident,
    pub committer: Ident,
    pub encoding: Option<&'a [u8]>,
    /// True when the commit carries a `gpgsig` (or `gpgsig-sha256`) header.
    pub signed: bool,
    pub message: &'a [u8],
}

/// Parses a commit object's bytes. Returns `Err` with a reason when the
/// object is not a commit git itself could have written (no tree line, a
/// parent line that is not an id).
pub fn parse(data: &[u8]) -> Result<RawCommit<'_>, String> {
    let mut commit = RawCommit::default();
    let mut saw_tree = false;
    let mut headers = Headers { rest: data };
    while let Some((key, value)) = headers.next_header() {
        match key {
            b"tree" => {
                saw_tree = true;
                commit.tree = oid_from_hex(value);
            }
            b"parent" => commit.parents.push(parent(value)?),
            b"author" => commit.author = parse_ident(value),
            b"committer" => commit.committer = parse_ident(value),
            b"encoding" => commit.encoding = Some(value),
            b"gpgsig" | b"gpgsig-sha256" => commit.signed = true,
            _ => {}
        }
    }
    if !saw_tree {
        return Err("it has no tree line".into());
    }
    commit.message = headers.rest;
    Ok(commit)
}

/// What a revision walk needs of a commit, and nothing more: its parents
/// (pushed onto `parents`) and its committer date. Agrees with [`parse`],
/// errors included, without allocating; the walk reads every commit of a
/// push this way before anything else looks at it.
pub fn parse_links(data: &[u8], parents: &mut Vec<ObjectId>) -> Result<i64, String> {
    let mut saw_tree = false;
    let mut time = 0;
    let mut headers = Headers { rest: data };
    while let Some((key, value)) = headers.next_header() {
        match key {
            b"tree" => saw_tree = true,
            b"parent" => parents.push(parent(value)?),
            b"committer" => time = ident_time(value),
            _ => {}
        }
    }
    if !saw_tree {
        return Err("it has no tree line".into());
    }
    Ok(time)
}

/// The header lines of a commit object as `(key, value)`; what is left in
/// `rest` when they end is the message. A blank line ends the headers, and
/// so does the end of the object (a commit with no message and no blank
/// line); continuation lines of multi-line headers (`gpgsig`, `mergetag`)
/// are skipped.
struct Headers<'a> {
    rest: &'a [u8],
}

impl<'a> Headers<'a> {
    fn next_header(&mut self) -> Option<(&'a [u8], &'a [u8])> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let (line, after) = split_once_byte(self.rest, b'\n').unwrap_or((self.rest, &[]));
            self.rest = after;
            if line.is_empty() {
                return None;
            }
            if line.first() == Some(&b' ') {
                continue;
            }
            return Some(split_once_byte(line, b' ').unwrap_or((line, &[])));
        }
    }
}

fn parent(value: &[u8]) -> Result<ObjectId, String> {
    oid_from_hex(value)
        .ok_or_else(|| format!("bad parent line `{}`", String::from_utf8_lossy(value)))
}

/// An object id written as exactly 40 (SHA-1) or 64 (SHA-256) hex digits,
/// as git writes them in commit headers. The kind comes from the length: an
/// id of the other hash than the repository's names no object there, so
/// reading it fails (closed) like any missing object.
pub fn oid_from_hex(hex: &[u8]) -> Option<ObjectId> {
    HashKind::from_hex_len(hex.len())?.parse_hex(hex)
}

/// The object a tag object names on its first line (`object <hex>`).
pub fn tag_target(data: &[u8]) -> Option<ObjectId> {
    let rest = data.strip_prefix(b"object ")?;
    let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    oid_from_hex(rest.get(..end)?)
}

/// Splits `Name <email> 1700000000 +0000` as git's `split_ident_line` does:
/// the e-mail runs from the first `<` to the first `>` after it.
pub fn parse_ident(value: &[u8]) -> Ident {
    let Some((name, after_lt)) = split_once_byte(value, b'<') else {
        return Ident {
            name: trim(value).to_vec(),
            ..Ident::default()
        };
    };
    let Some((email, tail)) = split_once_byte(after_lt, b'>') else {
        return Ident {
            name: trim(name).to_vec(),
            ..Ident::default()
        };
    };
    Ident {
        name: trim(name).to_vec(),
        email: trim(email).to_vec(),
        time: time_after_email(tail),
    }
}

/// The time of an ident line, as [`parse_ident`] reads it.
fn ident_time(value: &[u8]) -> i64 {
    split_once_byte(value, b'<')
        .and_then(|(_, after_lt)| split_once_byte(after_lt, b'>'))
        .map_or(0, |(_, tail)| time_after_email(tail))
}

/// The leading decimal digits of what follows the e-mail, as seconds; 0
/// when there are none or they do not fit.
fn time_after_email(tail: &[u8]) -> i64 {
    let mut time: i64 = 0;
    for &b in trim(tail).iter().take_while(|b| b.is_ascii_digit()) {
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
    let i = s.iter().position(|&b| b == sep)?;
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
        let c = parse(RAW).unwrap();
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
        assert!(parse(b"author x <y> 1 +0000\n\nmsg").is_err());
    }

    #[test]
    fn a_bad_parent_is_refused() {
        assert!(parse(b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent zz\n\nm").is_err());
    }

    #[test]
    fn malformed_idents_yield_empty_emails_not_panics() {
        assert_eq!(parse_ident(b"no email here").email, b"");
        assert_eq!(parse_ident(b"open <bracket only").email, b"");
        assert_eq!(parse_ident(b"<>").email, b"");
        assert_eq!(parse_ident(b"x <a@b> notatime").time, 0);
    }

    #[test]
    fn a_commit_without_a_message_has_an_empty_one() {
        let c =
            parse(b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <b> 1 +0000").unwrap();
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
            let links = parse_links(data, &mut parents);
            match parse(data) {
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
            oid_from_hex(hex).map(|o| o.to_string()),
            Some("4b825dc642cb6eb9a060e54bf8d69288fbee4904".to_owned())
        );
        assert_eq!(
            oid_from_hex(b"4B825DC642CB6EB9A060E54BF8D69288FBEE4904"),
            oid_from_hex(hex)
        );
        assert_eq!(oid_from_hex(&hex[..39]), None);
        assert_eq!(
            oid_from_hex(b"4b825dc642cb6eb9a060e54bf8d69288fbee4904 "),
            None
        );
        assert_eq!(
            oid_from_hex(b"4b825dc642cb6eb9a060e54bf8d69288fbee490g"),
            None
        );
        assert_eq!(oid_from_hex(b""), None);
    }

    #[test]
    fn subject_is_the_first_non_empty_line_shortened() {
        assert_eq!(subject(b"\n\nHello\nworld"), "Hello");
        assert_eq!(subject(&[b'x'; 100]).chars().count(), 72);
        assert_eq!(subject(b""), "");
    }
}
