//! Signed pushes (`git push --signed`): the certificate receive-pack keeps
//! as a blob (named by `GIT_PUSH_CERT`), verified here against the people's
//! keys.
//!
//! git's own verdict (`GIT_PUSH_CERT_STATUS=G`) is never used: git says `G`
//! for any key that verifies, even one in no allowed-signers file, and
//! receive-pack does not clear `GIT_PUSH_CERT_*` variables the hook
//! inherits, so over the file transport (or a shell) the pusher sets them.
//! A certificate counts only when its signature verifies with a person's key
//! and the ref updates it lists are exactly the ones being pushed: a
//! certificate from another push (a replay) signs other updates.

use std::collections::BTreeSet;

use crate::facts::signature::{KeyRing, SigStatus};
use crate::push::RefUpdate;

/// Why a push certificate does not name the pusher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertProblem {
    /// Not a git push certificate (`certificate version 0.1`, headers, a
    /// blank line, the updates, a signature).
    Malformed(&'static str),
    /// Its signature is not a valid one by a person of the policy.
    Signature(SigStatus),
    /// It signs other ref updates than the ones pushed.
    OtherUpdates,
}

impl std::fmt::Display for CertProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertProblem::Malformed(what) => write!(f, "the push certificate is malformed ({what})"),
            CertProblem::Signature(SigStatus::Unsigned) => {
                f.write_str("the push certificate carries no signature")
            }
            CertProblem::Signature(SigStatus::UnknownKey { fingerprint }) => write!(
                f,
                "the push certificate is signed with key {fingerprint}, which belongs to nobody in [people]"
            ),
            CertProblem::Signature(SigStatus::Bad { reason }) => {
                write!(f, "the push certificate's signature is not valid ({reason})")
            }
            CertProblem::Signature(SigStatus::Unsupported { kind }) => write!(
                f,
                "the push certificate has an {kind} signature, which trailgate cannot verify"
            ),
            CertProblem::Signature(SigStatus::Good { .. }) => f.write_str("?"),
            CertProblem::OtherUpdates => f.write_str(
                "the push certificate signs other ref updates than the ones pushed (a certificate from another push)",
            ),
        }
    }
}

/// The person who signed this push's certificate, and the key's fingerprint.
pub fn verify(
    keys: &KeyRing,
    cert: &[u8],
    updates: &[RefUpdate],
) -> Result<(usize, String), CertProblem> {
    let (payload, signature) = split(cert)?;
    let signed = commands(payload)?;
    let pushed: BTreeSet<(String, String, String)> = updates
        .iter()
        .map(|u| (hex(u.old), hex(u.new), u.name.clone()))
        .collect();
    if signed != pushed {
        return Err(CertProblem::OtherUpdates);
    }
    match keys.verify_payload(payload, signature) {
        SigStatus::Good {
            person,
            fingerprint,
        } => Ok((person, fingerprint)),
        other => Err(CertProblem::Signature(other)),
    }
}

fn hex(oid: Option<crate::git::oid::ObjectId>) -> String {
    oid.map_or_else(|| "0".repeat(40), |o| o.to_string())
}

/// The signed part and the signature: git's `parse_signed_buffer` takes
/// the signature to start at the last line that opens one.
fn split(cert: &[u8]) -> Result<(&[u8], &[u8]), CertProblem> {
    const STARTS: [&[u8]; 3] = [
        b"-----BEGIN SSH SIGNATURE-----",
        b"-----BEGIN PGP SIGNATURE-----",
        b"-----BEGIN SIGNED MESSAGE-----",
    ];
    let mut at = None;
    let mut offset = 0;
    for line in cert.split_inclusive(|&b| b == b'\n') {
        if STARTS.iter().any(|s| line.starts_with(s)) {
            at = Some(offset);
        }
        offset += line.len();
    }
    let at = at.ok_or(CertProblem::Signature(SigStatus::Unsigned))?;
    Ok((
        cert.get(..at).unwrap_or_default(),
        cert.get(at..).unwrap_or_default(),
    ))
}

/// The `old new ref` lines after the headers.
fn commands(payload: &[u8]) -> Result<BTreeSet<(String, String, String)>, CertProblem> {
    let text = std::str::from_utf8(payload).map_err(|_| CertProblem::Malformed("not UTF-8"))?;
    let (headers, body) = text
        .split_once("\n\n")
        .ok_or(CertProblem::Malformed("no blank line after the headers"))?;
    if headers.lines().next() != Some("certificate version 0.1") {
        return Err(CertProblem::Malformed("no `certificate version 0.1` line"));
    }
    let mut out = BTreeSet::new();
    for line in body.lines() {
        let mut parts = line.split(' ');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(old), Some(new), Some(name), None) => {
                out.insert((old.to_owned(), new.to_owned(), name.to_owned()));
            }
            _ => return Err(CertProblem::Malformed("a line that is not `old new ref`")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::oid::ObjectId;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";

    fn cert(lines: &str) -> Vec<u8> {
        format!(
            "certificate version 0.1\npusher Alice <alice@example.com> 1 +0000\npushee /srv/a.git\nnonce 1-abc\n\n{lines}-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n"
        )
        .into_bytes()
    }

    fn update(old: &str, new: &str, name: &str) -> RefUpdate {
        RefUpdate {
            old: ObjectId::from_hex(old.as_bytes()),
            new: ObjectId::from_hex(new.as_bytes()),
            name: name.to_owned(),
        }
    }

    #[test]
    fn a_certificate_for_other_updates_is_refused_before_its_signature_is_read() {
        let c = cert(&format!("{A} {B} refs/heads/main\n"));
        let keys = KeyRing::default();
        let other = [update(A, B, "refs/heads/release")];
        assert_eq!(verify(&keys, &c, &other), Err(CertProblem::OtherUpdates));
        let more = [
            update(A, B, "refs/heads/main"),
            update(A, B, "refs/heads/dev"),
        ];
        assert_eq!(verify(&keys, &c, &more), Err(CertProblem::OtherUpdates));
        // The same updates: now the signature decides (garbage here).
        let same = [update(A, B, "refs/heads/main")];
        assert!(matches!(
            verify(&keys, &c, &same),
            Err(CertProblem::Signature(SigStatus::Bad { .. }))
        ));
    }

    #[test]
    fn malformed_and_unsigned_certificates_name_nobody() {
        let keys = KeyRing::default();
        let same = [update(A, B, "refs/heads/main")];
        assert_eq!(
            verify(&keys, b"certificate version 0.1\n\n", &same),
            Err(CertProblem::Signature(SigStatus::Unsigned))
        );
        let bad = b"hello\n\n-----BEGIN SSH SIGNATURE-----\nx\n";
        assert!(matches!(
            verify(&keys, bad, &same),
            Err(CertProblem::Malformed(_))
        ));
    }
}
