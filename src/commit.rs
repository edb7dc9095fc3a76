//! Reading a commit object's raw bytes: parents, author, committer, encoding
//! and message, exactly as stored.
//!
//! trailgate parses commits itself instead of going through libgit2's commit
//! parser so that it sees the real object (no grafts, no replace refs), keeps
//! non-UTF-8 bytes, and does not pay for work it does not need in the walk.

use git2::Oid;

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
    pub tree: Option<Oid>,
    pub parents: Vec<Oid>,
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
    let mut rest = data;
    let mut saw_tree = false;
    loop {
        // A commit with no message and no blank line still ends its headers.
        let (line, after) = split_once_byte(rest, b'\n').unwrap_or((rest, &[]));
        rest = after;
        if line.is_empty() {
            break;
        }
        if line.first() == Some(&b' ') {
            // Continuation of a multi-line header (gpgsig, mergetag).
            if rest.is_empty() {
                break;
            }
            continue;
        }
        let (key, value) = split_once_byte(line, b' ').unwrap_or((line, &[]));
        match key {
            b"tree" => {
                saw_tree = true;
                commit.tree = std::str::from_utf8(value)
                    .ok()
                    .and_then(|hex| Oid::from_str(hex).ok());
            }
            b"parent" => {
                let hex = std::str::from_utf8(value).map_err(|_| "parent line is not hex")?;
                let oid = Oid::from_str(hex).map_err(|_| format!("bad parent line `{hex}`"))?;
                commit.parents.push(oid);
            }
            b"author" => commit.author = parse_ident(value),
            b"committer" => commit.committer = parse_ident(value),
            b"encoding" => commit.encoding = Some(value),
            b"gpgsig" | b"gpgsig-sha256" => commit.signed = true,
            _ => {}
        }
        if rest.is_empty() {
            break;
        }
    }
    if !saw_tree {
        return Err("it has no tree line".into());
    }
    commit.message = rest;
    Ok(commit)
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
    let digits: Vec<u8> = trim(tail)
        .iter()
        .copied()
        .take_while(u8::is_ascii_digit)
        .collect();
    let time = std::str::from_utf8(&digits)
        .ok()
        .and_then(|d| d.parse::<i64>().ok())
        .unwrap_or(0);
    Ident {
        name: trim(name).to_vec(),
        email: trim(email).to_vec(),
        time,
    }
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
    fn subject_is_the_first_non_empty_line_shortened() {
        assert_eq!(subject(b"\n\nHello\nworld"), "Hello");
        assert_eq!(subject(&[b'x'; 100]).chars().count(), 72);
        assert_eq!(subject(b""), "");
    }
}
