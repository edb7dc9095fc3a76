//! Which commit and tag objects a push may bring: those git's `fsck`
//! (fsck.c `fsck_commit`, `fsck_tag_standalone`, `fsck_ident`,
//! `verify_headers`) finds no error in, and on whose reading every git
//! reader agrees.
//!
//! receive-pack accepts whatever `git hash-object --literally` wrote, even
//! with `receive.fsckObjects = true` for some of these, so the hook checks
//! the new objects itself. Beyond fsck's errors, an object is refused when
//! git's readers would read it in different ways, because then some reviewer
//! (or trailgate) sees another commit than the ref update does:
//!
//! - a NUL byte anywhere (fsck only warns: `nulInCommit`): `git log` and the
//!   trailer parser stop at it, `git cat-file` does not;
//! - a `tree`, `parent`, `author` or `committer` line after the committer
//!   line: `git log --format=%an` shows the last author line, `git show`
//!   every one of them, `git rev-list` ignores a late parent;
//! - a second `encoding` header (git reads the first, libgit2 the last), a
//!   second `gpgsig`/`gpgsig-sha256` (git verifies them concatenated), or
//!   another header whose name starts with `gpgsig` (git leaves it out of
//!   the signed payload);
//! - a continuation line (one starting with a space) right after the
//!   committer or an `encoding` line: git's header reader makes it part of
//!   that header, `git log` ignores it.
//!
//! Old objects are never checked here: history that is already in the
//! repository must not block every future push.

use thiserror::Error;

use crate::git::oid::{HashKind, ObjectId};

use super::{ident_time, split_once_byte, HeaderLines};

/// What is wrong with a commit or tag object. Each message says what git
/// (`git fsck`, its message id in brackets) or git's readers make of it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Malformed {
    #[error("a NUL byte in its header at offset {offset} (git fsck: nulInHeader)")]
    NulInHeader { offset: usize },
    #[error("its header lines do not end with a newline (git fsck: unterminatedHeader)")]
    UnterminatedHeader,
    #[error("it does not start with a `tree` line (git fsck: missingTree)")]
    MissingTree,
    #[error("its `tree` line is not one {hash} object id and a newline (git fsck: badTreeSha1)")]
    BadTree { hash: HashKind },
    #[error(
        "a `parent` line that is not one {hash} object id and a newline (git fsck: badParentSha1)"
    )]
    BadParent { hash: HashKind },
    #[error("no `author` line after the tree and parent lines (git fsck: missingAuthor)")]
    MissingAuthor,
    #[error("{count} `author` lines (git fsck: multipleAuthors)")]
    MultipleAuthors { count: usize },
    #[error("no `committer` line right after the author line (git fsck: missingCommitter)")]
    MissingCommitter,
    #[error("its {header} line is malformed: {problem}")]
    BadIdent {
        header: &'static str,
        problem: IdentProblem,
    },
    #[error("a NUL byte in its message at offset {offset}: git log stops reading there, git cat-file does not (git fsck: nulInCommit)")]
    NulInBody { offset: usize },
    #[error("an extra `{header}` line after the committer line: {}", misplaced(.header))]
    Misplaced { header: String },
    #[error("a second `{header}` header: git's readers disagree on which one counts")]
    Duplicate { header: String },
    #[error("a `{header}` header: git treats it as a signature and leaves it out of the signed content, other readers do not")]
    OtherSignature { header: String },
    #[error("a continuation line (one starting with a space) after its `{header}` line: git's header reader makes it part of that line, git log ignores it")]
    Continuation { header: String },
    #[error("it does not start with an `object` line (git fsck: missingObject)")]
    MissingObject,
    #[error(
        "its `object` line is not one {hash} object id and a newline (git fsck: badObjectSha1)"
    )]
    BadObject { hash: HashKind },
    #[error("no `type` line after the object line (git fsck: missingTypeEntry)")]
    MissingTypeEntry,
    #[error("its `type` line `{kind}` names no object type (git fsck: badType)")]
    BadType { kind: String },
    #[error("no `tag` line after the type line (git fsck: missingTagEntry)")]
    MissingTagEntry,
    #[error("it says it tags a {declared}, but the object it names is a {actual}: git refuses to peel it")]
    TypeMismatch { declared: String, actual: String },
}

/// How git's readers disagree on a `header` line after the committer line.
fn misplaced(header: &str) -> &'static str {
    match header {
        "parent" => "git (git log, git rev-list, the ref update) ignores it, so this commit has other parents than it seems to have",
        "tree" => "git uses the first tree line, git cat-file shows both",
        _ => "git's readers disagree on which one counts (git log --format shows the last, git show every one)",
    }
}

/// What is wrong with an `author`, `committer` or `tagger` line, as
/// `fsck_ident` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum IdentProblem {
    #[error("nothing before the e-mail (git fsck: missingNameBeforeEmail)")]
    MissingNameBeforeEmail,
    #[error("a `>` in the name (git fsck: badName)")]
    BadName,
    #[error("no `<e-mail>` (git fsck: missingEmail)")]
    MissingEmail,
    #[error("no space before the `<` of the e-mail (git fsck: missingSpaceBeforeEmail)")]
    MissingSpaceBeforeEmail,
    #[error("the e-mail is not closed by `>`, or holds a `<` (git fsck: badEmail)")]
    BadEmail,
    #[error("no space after the e-mail (git fsck: missingSpaceBeforeDate)")]
    MissingSpaceBeforeDate,
    #[error("the date has leading zeros (git fsck: zeroPaddedDate)")]
    ZeroPaddedDate,
    #[error("the date does not fit in 63 bits (git fsck: badDateOverflow)")]
    DateOverflow,
    #[error("the date is not a number followed by a space (git fsck: badDate)")]
    BadDate,
    #[error(
        "the time zone is not `+hhmm` or `-hhmm` at the end of the line (git fsck: badTimezone)"
    )]
    BadTimezone,
}

/// git's `verify_headers`: no NUL before the end of the header, which is
/// an empty line or, for an object without a message, a final newline.
/// Returns where the object's first NUL is (after the header), for the
/// caller's own rule on NUL bytes in the message. Both searches are
/// `memchr`'s: this runs for every commit of a push.
fn verify_headers(data: &[u8]) -> Result<Option<usize>, Malformed> {
    let nul = memchr::memchr(0, data);
    // The second newline of the first empty line, where git's loop stops.
    let end = memchr::memchr_iter(b'\n', data)
        .find(|&i| data.get(i + 1) == Some(&b'\n'))
        .map(|i| i + 1);
    match (nul, end) {
        (Some(offset), Some(end)) if offset < end => Err(Malformed::NulInHeader { offset }),
        (Some(offset), None) => Err(Malformed::NulInHeader { offset }),
        (_, Some(_)) => Ok(nul),
        (None, None) if data.last() == Some(&b'\n') => Ok(None),
        (None, None) => Err(Malformed::UnterminatedHeader),
    }
}

/// The line `rest` starts with (without its newline) and what follows it.
/// [`verify_headers`] has made sure every header line ends in a newline.
fn line(rest: &[u8]) -> (&[u8], &[u8]) {
    split_once_byte(rest, b'\n').unwrap_or((rest, &[]))
}

/// `prefix` then exactly one `hash` id and nothing else on the line: the
/// id and what follows the line.
fn id_line<'a>(
    rest: &'a [u8],
    prefix: &[u8],
    hash: HashKind,
) -> Option<Option<(ObjectId, &'a [u8])>> {
    let after = rest.strip_prefix(prefix)?;
    let (value, next) = line(after);
    Some(hash.parse_hex(value).map(|id| (id, next)))
}

/// git's `fsck_ident` on the value of an ident line (after `author `).
pub fn check_ident(value: &[u8]) -> Result<(), IdentProblem> {
    if value.first() == Some(&b'<') {
        return Err(IdentProblem::MissingNameBeforeEmail);
    }
    let lt = match memchr::memchr2(b'<', b'>', value) {
        Some(i) if value.get(i) == Some(&b'>') => return Err(IdentProblem::BadName),
        Some(i) => i,
        None => return Err(IdentProblem::MissingEmail),
    };
    if lt == 0 || value.get(lt - 1) != Some(&b' ') {
        return Err(IdentProblem::MissingSpaceBeforeEmail);
    }
    let after_lt = value.get(lt + 1..).unwrap_or_default();
    let gt = match memchr::memchr2(b'<', b'>', after_lt) {
        Some(i) if after_lt.get(i) == Some(&b'>') => i,
        _ => return Err(IdentProblem::BadEmail),
    };
    let mut p = after_lt.get(gt + 1..).unwrap_or_default();
    p = p
        .strip_prefix(b" ")
        .ok_or(IdentProblem::MissingSpaceBeforeDate)?;
    while let [b' ' | b'\t', rest @ ..] = p {
        p = rest;
    }
    let digits = p.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return Err(IdentProblem::BadDate);
    }
    if p.first() == Some(&b'0') && p.get(1) != Some(&b' ') {
        return Err(IdentProblem::ZeroPaddedDate);
    }
    let date = p.get(..digits).unwrap_or_default();
    // date_overflows: more than time_t (a signed 64-bit number) holds.
    let fits = date.len() <= 19
        && std::str::from_utf8(date)
            .ok()
            .and_then(|d| d.parse::<i64>().ok())
            .is_some();
    if !fits {
        return Err(IdentProblem::DateOverflow);
    }
    let tz = p
        .get(digits..)
        .unwrap_or_default()
        .strip_prefix(b" ")
        .ok_or(IdentProblem::BadDate)?;
    match tz {
        [b'+' | b'-', a, b, c, d] if [a, b, c, d].iter().all(|x| x.is_ascii_digit()) => Ok(()),
        _ => Err(IdentProblem::BadTimezone),
    }
}

/// Checks a commit object new in this push: git's `fsck_commit` errors and
/// the shapes git's readers disagree on (module docs).
pub fn check_commit(data: &[u8], hash: HashKind) -> Result<(), Malformed> {
    check_commit_links(data, hash, &mut Vec::new()).map(|_| ())
}

/// [`check_commit`], and what the walk needs of a commit that passes it, in
/// the same pass: its parents (pushed onto `parents`) and its committer
/// date. For a commit that passes, these are exactly what
/// [`super::parse_links`] reads: its tree comes first, its parents right
/// after, and it has one committer line and no NUL. On an error `parents`
/// may hold some of the parents.
pub fn check_commit_links(
    data: &[u8],
    hash: HashKind,
    parents: &mut Vec<ObjectId>,
) -> Result<i64, Malformed> {
    let nul = verify_headers(data)?;
    let mut rest = match id_line(data, b"tree ", hash) {
        None => return Err(Malformed::MissingTree),
        Some(None) => return Err(Malformed::BadTree { hash }),
        Some(Some((_, next))) => next,
    };
    while let Some(parsed) = id_line(rest, b"parent ", hash) {
        let (parent, next) = parsed.ok_or(Malformed::BadParent { hash })?;
        parents.push(parent);
        rest = next;
    }
    let mut authors = 0;
    while let Some(value) = rest.strip_prefix(b"author ") {
        authors += 1;
        let (value, next) = line(value);
        check_ident(value).map_err(|problem| Malformed::BadIdent {
            header: "author",
            problem,
        })?;
        rest = next;
    }
    match authors {
        0 => return Err(Malformed::MissingAuthor),
        1 => {}
        count => return Err(Malformed::MultipleAuthors { count }),
    }
    let value = rest
        .strip_prefix(b"committer ")
        .ok_or(Malformed::MissingCommitter)?;
    let (value, next) = line(value);
    check_ident(value).map_err(|problem| Malformed::BadIdent {
        header: "committer",
        problem,
    })?;
    if let Some(offset) = nul {
        return Err(Malformed::NulInBody { offset });
    }
    check_extra_headers(next)?;
    Ok(ident_time(value))
}

/// The header lines after the committer line.
fn check_extra_headers(rest: &[u8]) -> Result<(), Malformed> {
    // The header a continuation line would belong to.
    let mut previous: &[u8] = b"committer";
    let (mut encoding, mut gpgsig, mut gpgsig_sha256) = (false, false, false);
    let name = |key: &[u8]| String::from_utf8_lossy(key).into_owned();
    for header in (HeaderLines { rest }) {
        if header.first() == Some(&b' ') {
            if matches!(previous, b"committer" | b"encoding") {
                return Err(Malformed::Continuation {
                    header: name(previous),
                });
            }
            continue;
        }
        let (key, has_value) = match split_once_byte(header, b' ') {
            Some((key, _)) => (key, true),
            None => (header, false),
        };
        let seen = match key {
            b"tree" | b"parent" | b"author" | b"committer" => {
                return Err(Malformed::Misplaced { header: name(key) })
            }
            b"encoding" => &mut encoding,
            b"gpgsig" if has_value => &mut gpgsig,
            b"gpgsig-sha256" if has_value => &mut gpgsig_sha256,
            _ if key.starts_with(b"gpgsig") => {
                return Err(Malformed::OtherSignature { header: name(key) })
            }
            _ => {
                previous = key;
                continue;
            }
        };
        if std::mem::replace(seen, true) {
            return Err(Malformed::Duplicate { header: name(key) });
        }
        previous = key;
    }
    Ok(())
}

/// Checks a tag object new in this push: git's `fsck_tag_standalone`
/// errors. Whether the object it names has the type it says is for the
/// caller, who reads that object ([`Malformed::TypeMismatch`]).
pub fn check_tag(data: &[u8], hash: HashKind) -> Result<(), Malformed> {
    verify_headers(data)?;
    let rest = match id_line(data, b"object ", hash) {
        None => return Err(Malformed::MissingObject),
        Some(None) => return Err(Malformed::BadObject { hash }),
        Some(Some((_, next))) => next,
    };
    let after = rest
        .strip_prefix(b"type ")
        .ok_or(Malformed::MissingTypeEntry)?;
    let (kind, rest) = line(after);
    if !matches!(kind, b"commit" | b"tree" | b"blob" | b"tag") {
        return Err(Malformed::BadType {
            kind: String::from_utf8_lossy(kind).into_owned(),
        });
    }
    let after = rest
        .strip_prefix(b"tag ")
        .ok_or(Malformed::MissingTagEntry)?;
    let (_, rest) = line(after);
    // Early tags have no tagger; fsck only notes that (missingTaggerEntry).
    if let Some(value) = rest.strip_prefix(b"tagger ") {
        check_ident(line(value).0).map_err(|problem| Malformed::BadIdent {
            header: "tagger",
            problem,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
