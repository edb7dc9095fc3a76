//! Commit signatures: the signed payload and the signature of a commit object,
//! split exactly as git splits them, and SSH signatures (`gpg.format=ssh`)
//! verified natively against the keys of the policy's people.
//!
//! A signature only proves something when its key belongs to a person of the
//! policy: git's own `%G?` says "good" for any key that verifies, even one in
//! no allowed-signers file. OpenPGP and X.509 signatures are recognised and
//! reported as not verifiable by this version; they never count.

use ssh_key::{HashAlg, PublicKey, SshSig};

use crate::git::HashKind;

/// The namespace git signs commits and push certificates in.
const GIT_NAMESPACE: &str = "git";

/// What a commit's signature proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigStatus {
    /// No `gpgsig` header.
    Unsigned,
    /// A valid SSH signature by a key of this person (index into the people).
    Good { person: usize, fingerprint: String },
    /// A valid-looking signature by a key that belongs to nobody in the policy.
    UnknownKey { fingerprint: String },
    /// A signature that does not verify, or cannot be read.
    Bad { reason: String },
    /// An OpenPGP or X.509 signature, which this version cannot verify.
    Unsupported { kind: &'static str },
}

impl SigStatus {
    /// The person whose valid signature this is.
    pub fn signer(&self) -> Option<usize> {
        match self {
            SigStatus::Good { person, .. } => Some(*person),
            _ => None,
        }
    }

    /// Plain words for messages.
    pub fn describe(&self, name_of: impl Fn(usize) -> String) -> String {
        match self {
            SigStatus::Unsigned => "the commit is not signed".into(),
            SigStatus::Good { person, .. } => {
                format!("the commit is signed by {}", name_of(*person))
            }
            SigStatus::UnknownKey { fingerprint } => {
                format!("the commit is signed with key {fingerprint}, which belongs to nobody in [people]")
            }
            SigStatus::Bad { reason } => format!("the commit's signature is not valid ({reason})"),
            SigStatus::Unsupported { kind } => {
                format!("the commit has an {kind} signature, which trailgate cannot verify (use gpg.format=ssh)")
            }
        }
    }
}

/// The people's SSH keys, parsed once.
#[derive(Debug, Default)]
pub struct KeyRing {
    keys: Vec<(PublicKey, usize)>,
}

impl KeyRing {
    pub fn add(&mut self, key: PublicKey, person: usize) {
        self.keys.push((key, person));
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The person with this key, by git's `SHA256:...` fingerprint (what
    /// `GIT_PUSH_CERT_KEY` holds for an SSH-signed push certificate).
    pub fn person_by_fingerprint(&self, fingerprint: &str) -> Option<usize> {
        self.keys
            .iter()
            .find(|(k, _)| k.fingerprint(HashAlg::Sha256).to_string() == fingerprint.trim())
            .map(|&(_, p)| p)
    }

    /// Verifies the signature of a commit object of a repository whose
    /// objects are named with `hash`.
    pub fn verify_commit(&self, raw: &[u8], hash: HashKind) -> SigStatus {
        let Some((payload, signature)) = split_signed(raw, hash) else {
            return SigStatus::Unsigned;
        };
        if signature.starts_with(b"-----BEGIN PGP SIGNATURE-----") {
            return SigStatus::Unsupported { kind: "OpenPGP" };
        }
        if signature.starts_with(b"-----BEGIN SIGNED MESSAGE-----") {
            return SigStatus::Unsupported { kind: "X.509" };
        }
        let sig = match SshSig::from_pem(&signature) {
            Ok(sig) => sig,
            Err(e) => {
                return SigStatus::Bad {
                    reason: format!("unreadable SSH signature: {e}"),
                }
            }
        };
        if sig.namespace() != GIT_NAMESPACE {
            return SigStatus::Bad {
                reason: format!("signed in namespace `{}`, not `git`", sig.namespace()),
            };
        }
        let signer_key = PublicKey::from(sig.public_key().clone());
        let fingerprint = signer_key.fingerprint(HashAlg::Sha256).to_string();
        let Some(&(ref key, person)) = self
            .keys
            .iter()
            .find(|(k, _)| k.key_data() == sig.public_key())
        else {
            return SigStatus::UnknownKey { fingerprint };
        };
        match key.verify(GIT_NAMESPACE, &payload, &sig) {
            Ok(()) => SigStatus::Good {
                person,
                fingerprint,
            },
            Err(e) => SigStatus::Bad {
                reason: format!("key {fingerprint} does not verify it: {e}"),
            },
        }
    }
}

/// Splits a commit object into the payload that was signed and the
/// signature, as git's `parse_buffer_signed_by_header` does: the signature
/// header of the repository's hash (`gpgsig` for SHA-1, `gpgsig-sha256` for
/// SHA-256) and its continuation lines (which start with a space) are the
/// signature; the other hash's signature header (a `compatObjectFormat`
/// signature) is left out of the payload too, and the object without those
/// lines is the payload. `None` when unsigned.
pub fn split_signed(raw: &[u8], hash: HashKind) -> Option<(Vec<u8>, Vec<u8>)> {
    let ours: &[u8] = match hash {
        HashKind::Sha1 => b"gpgsig ",
        HashKind::Sha256 => b"gpgsig-sha256 ",
    };
    let mut in_other = false;
    let mut payload = Vec::with_capacity(raw.len());
    let mut signature = Vec::new();
    let mut in_signature = false;
    let mut in_headers = true;
    let mut found = false;
    let mut rest = raw;
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let (line, after) = rest.split_at(end);
        rest = after;
        if !in_headers {
            payload.extend_from_slice(line);
            continue;
        }
        if line == b"\n" {
            in_headers = false;
            in_signature = false;
            payload.extend_from_slice(line);
            continue;
        }
        if in_signature {
            if let Some(cont) = line.strip_prefix(b" ") {
                signature.extend_from_slice(cont);
                continue;
            }
            in_signature = false;
        }
        if in_other {
            if line.starts_with(b" ") {
                continue;
            }
            in_other = false;
        }
        if let Some(value) = line.strip_prefix(ours) {
            if !found {
                found = true;
                in_signature = true;
                signature.extend_from_slice(value);
                continue;
            }
        } else if line.starts_with(b"gpgsig") {
            // Git drops every other `gpgsig…` header from the payload.
            in_other = true;
            continue;
        }
        payload.extend_from_slice(line);
    }
    if !found {
        return None;
    }
    if signature.last() != Some(&b'\n') {
        signature.push(b'\n');
    }
    Some((payload, signature))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_commits_have_no_signature() {
        assert_eq!(
            split_signed(b"tree x\nauthor a\n\nmsg\n", HashKind::Sha1),
            None
        );
    }

    #[test]
    fn the_signature_header_is_cut_out_of_the_payload() {
        let raw = b"tree t\nparent p\nauthor a\ncommitter c\ngpgsig -----BEGIN SSH SIGNATURE-----\n AAAA\n -----END SSH SIGNATURE-----\n\nmsg\n\ngpgsig not a header\n";
        let (payload, sig) = split_signed(raw, HashKind::Sha1).unwrap();
        assert_eq!(
            payload,
            b"tree t\nparent p\nauthor a\ncommitter c\n\nmsg\n\ngpgsig not a header\n"
        );
        assert_eq!(
            sig,
            b"-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n"
        );
    }

    #[test]
    fn each_hash_reads_its_own_signature_header_and_drops_the_others() {
        // A SHA-256 repository with compatObjectFormat = sha1 writes both.
        let raw = b"tree t\ngpgsig -----BEGIN SSH SIGNATURE-----\n ONE\n -----END SSH SIGNATURE-----\ngpgsig-sha256 -----BEGIN SSH SIGNATURE-----\n TWO\n -----END SSH SIGNATURE-----\nauthor a\n\nmsg\n";
        let (payload, sig) = split_signed(raw, HashKind::Sha256).unwrap();
        assert_eq!(payload, b"tree t\nauthor a\n\nmsg\n");
        assert_eq!(
            sig,
            b"-----BEGIN SSH SIGNATURE-----\nTWO\n-----END SSH SIGNATURE-----\n"
        );
        let (payload, sig) = split_signed(raw, HashKind::Sha1).unwrap();
        assert_eq!(payload, b"tree t\nauthor a\n\nmsg\n");
        assert_eq!(
            sig,
            b"-----BEGIN SSH SIGNATURE-----\nONE\n-----END SSH SIGNATURE-----\n"
        );
        // Only the other hash's signature: unsigned for this repository.
        let only_sha1 = b"tree t\ngpgsig X\n\nmsg\n";
        assert_eq!(split_signed(only_sha1, HashKind::Sha256), None);
    }

    #[test]
    fn garbage_signatures_are_bad_not_panics() {
        let ring = KeyRing::default();
        let raw = b"tree t\ngpgsig -----BEGIN SSH SIGNATURE-----\n !!!\n -----END SSH SIGNATURE-----\n\nm\n";
        assert!(matches!(
            ring.verify_commit(raw, HashKind::Sha1),
            SigStatus::Bad { .. }
        ));
        let raw = b"tree t\ngpgsig -----BEGIN PGP SIGNATURE-----\n x\n -----END PGP SIGNATURE-----\n\nm\n";
        assert_eq!(
            ring.verify_commit(raw, HashKind::Sha1),
            SigStatus::Unsupported { kind: "OpenPGP" }
        );
    }
}
