//! Reading the push: git's pre-receive protocol on standard input.
//!
//! Each line is `<old-oid> SP <new-oid> SP <refname> LF`. This module only
//! parses and validates the lines; it knows nothing about the repository
//! (whether the objects exist is the [`crate::git::repo`] module's concern).

use crate::git::oid::ObjectId;
use thiserror::Error;

/// Longest ref name accepted; git's own limit on a path component is far
/// below this, so anything longer is garbage, not a ref.
const MAX_REFNAME: usize = 4096;

/// One line of the push: a ref moving from `old` to `new`.
/// `None` stands for git's all-zero id (the ref does not exist on that side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    pub old: Option<ObjectId>,
    pub new: Option<ObjectId>,
    pub name: String,
}

impl RefUpdate {
    pub fn is_create(&self) -> bool {
        self.old.is_none() && self.new.is_some()
    }

    pub fn is_delete(&self) -> bool {
        self.new.is_none()
    }
}

/// Who pushed, as the git host reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pusher {
    /// The user name the host authenticated; for a signed push, the
    /// fingerprint of the key that signed it (`SHA256:...`).
    pub login: String,
    /// An e-mail address the host reported with it (Gitea).
    pub email: Option<String>,
    /// The variable it was read from, for messages and the audit log.
    pub source: &'static str,
    /// What `login` is.
    pub by: Identified,
    /// The host's immutable id for the user (`GL_ID`'s `user-42`,
    /// `GITEA_PUSHER_ID`), which a rename or a reused login does not change.
    pub user_id: Option<String>,
    /// The host (`crate::host::Host::name`) that named the pusher.
    pub host: &'static str,
}

/// Who pushed where, as the host told the hook (see [`crate::host`]).
#[derive(Debug, Clone)]
pub struct PushInfo {
    /// The host's name for the repository (`GL_PROJECT_PATH`, `GL_REPO`, ...),
    /// else its git directory.
    pub repository: String,
    pub git_dir: String,
    pub pusher: Option<Pusher>,
    /// For a signed push, the fingerprint of the key that signed it; the
    /// pusher is then the person whose key it is (`None` when it is nobody's).
    pub pusher_key: Option<String>,
    /// `ssh`, `http`, `web`, ... as far as the host tells; `unknown` otherwise.
    pub protocol: String,
    /// Shared by the audit lines of one push.
    pub push_id: String,
    /// What the hook noticed about who pushed: another host's variables
    /// ignored under `settings.host`, a push certificate that did not verify.
    pub notes: Vec<String>,
}

/// How the host identified the pusher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identified {
    /// By a user name.
    Login,
    /// By the key of a signed push certificate that trailgate verified
    /// itself (`login` is the key's `SHA256:...` fingerprint).
    SigningKey,
    /// By a signed push certificate not verified yet (`login` is the
    /// certificate blob's id, `GIT_PUSH_CERT`): names nobody until the
    /// hook verifies it.
    Certificate,
    /// By a deploy key: the host names the repository's owner, not whoever
    /// holds the key, so it names nobody.
    DeployKey,
}

/// Why the push's standard input could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PushError {
    #[error(
        "stdin line {line}: expected `<old-oid> <new-oid> <refname>` (git's pre-receive protocol), got {got}"
    )]
    Malformed { line: usize, got: String },
    #[error("stdin line {line}: `{value}` is not an object id (40 or 64 hexadecimal digits)")]
    BadOid { line: usize, value: String },
    #[error(
        "stdin line {line}: the old and new object ids are of different hashes (one 40, one 64 hexadecimal digits)"
    )]
    MixedHashes { line: usize },
    #[error("stdin line {line}: `{name}` is not a valid ref name")]
    BadRefName { line: usize, name: String },
    #[error("stdin line {line}: the ref name {name} is not UTF-8; git allows such names, but trailgate cannot judge a ref it cannot name: push to a branch or tag whose name is UTF-8")]
    RefNameNotUtf8 { line: usize, name: String },
    #[error("stdin line {line}: both object ids are zero; git never sends such an update")]
    BothZero { line: usize },
    #[error("stdin line {line}: ref `{name}` appears twice in one push")]
    Duplicate { line: usize, name: String },
}

/// Parses the whole of git's pre-receive input. Empty input is a push of
/// nothing and yields no updates.
pub fn parse(input: &[u8]) -> Result<Vec<RefUpdate>, PushError> {
    let mut updates: Vec<RefUpdate> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (index, raw) in input.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        if raw.is_empty() {
            // Only the empty piece after the final LF is tolerated; an empty
            // line in the middle means the input is not git's.
            if is_last_piece(input, raw) {
                continue;
            }
            return Err(PushError::Malformed {
                line,
                got: "an empty line".into(),
            });
        }
        let update = parse_line(line, raw)?;
        if !seen.insert(update.name.clone()) {
            return Err(PushError::Duplicate {
                line,
                name: update.name,
            });
        }
        updates.push(update);
    }
    Ok(updates)
}

/// True when `piece` (a sub-slice of `input`) ends exactly at the end of the input.
fn is_last_piece(input: &[u8], piece: &[u8]) -> bool {
    let end = piece.as_ptr() as usize + piece.len();
    end == input.as_ptr() as usize + input.len()
}

fn parse_line(line: usize, raw: &[u8]) -> Result<RefUpdate, PushError> {
    let malformed = || PushError::Malformed {
        line,
        got: describe(raw),
    };
    let text = match std::str::from_utf8(raw) {
        Ok(text) => text,
        Err(e) => {
            // Two object ids and a space are ASCII: a line that is valid up
            // to past them is git's, with a ref name that is not UTF-8.
            let mut fields = raw.splitn(3, |&b| b == b' ');
            let (Some(old), Some(new), Some(name)) = (fields.next(), fields.next(), fields.next())
            else {
                return Err(malformed());
            };
            let ids = old.len() + new.len() + 2;
            if e.valid_up_to() < ids || parse_oid(line, &String::from_utf8_lossy(old)).is_err() {
                return Err(malformed());
            }
            return Err(PushError::RefNameNotUtf8 {
                line,
                name: describe(name),
            });
        }
    };
    let mut fields = text.splitn(3, ' ');
    let (Some(old), Some(new), Some(name)) = (fields.next(), fields.next(), fields.next()) else {
        return Err(malformed());
    };
    let (old_len, new_len) = (old.len(), new.len());
    let old = parse_oid(line, old)?;
    let new = parse_oid(line, new)?;
    if old_len != new_len {
        return Err(PushError::MixedHashes { line });
    }
    if old.is_none() && new.is_none() {
        return Err(PushError::BothZero { line });
    }
    if !valid_refname(name) {
        return Err(PushError::BadRefName {
            line,
            name: describe(name.as_bytes()),
        });
    }
    Ok(RefUpdate {
        old,
        new,
        name: name.to_owned(),
    })
}

fn parse_oid(line: usize, value: &str) -> Result<Option<ObjectId>, PushError> {
    let hex = value.bytes().all(|b| b.is_ascii_hexdigit());
    match (value.len(), hex) {
        (40 | 64, true) => {
            if value.bytes().all(|b| b == b'0') {
                return Ok(None);
            }
            ObjectId::from_hex(value.as_bytes())
                .map(Some)
                .ok_or_else(|| PushError::BadOid {
                    line,
                    value: value.to_owned(),
                })
        }
        _ => Err(PushError::BadOid {
            line,
            value: describe(value.as_bytes()),
        }),
    }
}

/// A full ref name as git would accept it in a push (see
/// [`crate::git::refs::valid_push_name`]), and not absurdly long.
fn valid_refname(name: &str) -> bool {
    name.len() <= MAX_REFNAME && crate::git::refs::valid_push_name(name)
}

/// A short, printable rendering of untrusted bytes for error messages.
fn describe(raw: &[u8]) -> String {
    const LIMIT: usize = 80;
    let shown = raw.get(..LIMIT).unwrap_or(raw);
    let mut out = format!("{:?}", String::from_utf8_lossy(shown));
    if raw.len() > LIMIT {
        out.push_str(&format!(" ({} bytes in all)", raw.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";
    const Z: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn a_well_formed_update_is_parsed() {
        let input = format!("{A} {B} refs/heads/main\n");
        let updates = parse(input.as_bytes()).unwrap();
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0].name, "refs/heads/main");
        assert_eq!(
            updates[0].old,
            Some(ObjectId::from_hex(A.as_bytes()).unwrap())
        );
        assert!(!updates[0].is_create() && !updates[0].is_delete());
    }

    #[test]
    fn zero_ids_mean_create_and_delete() {
        let input = format!("{Z} {B} refs/heads/a\n{A} {Z} refs/heads/b\n");
        let updates = parse(input.as_bytes()).unwrap();
        assert!(updates[0].is_create());
        assert!(updates[1].is_delete());
    }

    #[test]
    fn empty_input_is_a_push_of_nothing() {
        assert_eq!(parse(b"").unwrap(), vec![]);
    }

    #[test]
    fn a_missing_final_newline_is_tolerated() {
        let input = format!("{A} {B} refs/heads/main");
        assert_eq!(parse(input.as_bytes()).unwrap().len(), 1);
    }

    #[test]
    fn garbage_is_rejected_with_the_line_number() {
        let input = format!("{A} {B} refs/heads/main\nhello world\n");
        let err = parse(input.as_bytes()).unwrap_err();
        assert!(matches!(err, PushError::Malformed { line: 2, .. }), "{err}");
    }

    #[test]
    fn short_or_non_hex_ids_are_rejected() {
        let input = format!("{} {B} refs/heads/main\n", &A[..39]);
        assert!(matches!(
            parse(input.as_bytes()),
            Err(PushError::BadOid { .. })
        ));
        let input = format!("{}g {B} refs/heads/main\n", &A[..39]);
        assert!(matches!(
            parse(input.as_bytes()),
            Err(PushError::BadOid { .. })
        ));
    }

    #[test]
    fn crlf_lines_are_not_git_protocol() {
        let input = format!("{A} {B} refs/heads/main\r\n");
        assert!(matches!(
            parse(input.as_bytes()),
            Err(PushError::BadRefName { .. })
        ));
    }

    #[test]
    fn an_empty_line_in_the_middle_is_rejected() {
        let input = format!("{A} {B} refs/heads/main\n\n{A} {B} refs/heads/x\n");
        assert!(matches!(
            parse(input.as_bytes()),
            Err(PushError::Malformed { line: 2, .. })
        ));
    }

    #[test]
    fn ref_names_must_be_full_and_valid() {
        for bad in [
            "main",
            "refs/heads/a..b",
            "refs/heads/a b",
            "refs/heads/x.lock",
        ] {
            let input = format!("{A} {B} {bad}\n");
            assert!(
                matches!(parse(input.as_bytes()), Err(PushError::BadRefName { .. })),
                "{bad} was accepted"
            );
        }
    }

    #[test]
    fn nul_bytes_and_invalid_utf8_are_rejected() {
        let mut input = format!("{A} {B} refs/heads/ma").into_bytes();
        input.extend_from_slice(b"\0in\n");
        assert!(parse(&input).is_err());
        let mut input = format!("{A} {B} refs/heads/").into_bytes();
        input.extend_from_slice(b"\xff\n");
        assert!(matches!(
            parse(&input),
            Err(PushError::RefNameNotUtf8 { line: 1, .. })
        ));
        // Not UTF-8 in an object id is not git's line at all.
        let mut input = b"\xff".to_vec();
        input.extend_from_slice(format!("{} {B} refs/heads/x\n", &A[1..]).as_bytes());
        assert!(matches!(parse(&input), Err(PushError::Malformed { .. })));
    }

    #[test]
    fn both_zero_and_duplicates_are_rejected() {
        let input = format!("{Z} {Z} refs/heads/main\n");
        assert_eq!(
            parse(input.as_bytes()),
            Err(PushError::BothZero { line: 1 })
        );
        let input = format!("{A} {B} refs/heads/main\n{B} {A} refs/heads/main\n");
        assert!(matches!(
            parse(input.as_bytes()),
            Err(PushError::Duplicate { line: 2, .. })
        ));
    }

    #[test]
    fn sha256_ids_are_read_and_mixed_lengths_refused() {
        let long = "a".repeat(64);
        let zero = "0".repeat(64);
        let input = format!("{zero} {long} refs/heads/main\n");
        let updates = parse(input.as_bytes()).unwrap();
        assert_eq!(updates[0].old, None);
        assert_eq!(
            updates[0].new.map(|id| id.kind()),
            Some(crate::git::HashKind::Sha256)
        );
        let input = format!("{Z} {long} refs/heads/main\n");
        assert_eq!(
            parse(input.as_bytes()),
            Err(PushError::MixedHashes { line: 1 })
        );
    }
}
