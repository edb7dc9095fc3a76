//! Commit signatures: the signed payload and the signature of a commit object,
//! split exactly as git splits them, and SSH signatures (`gpg.format=ssh`)
//! and OpenPGP signatures ([`openpgp`], `gpg.format=openpgp`) verified
//! natively against the keys of the policy's people.
//!
//! A signature only proves something when its key belongs to a person of the
//! policy: git's own `%G?` says "good" for any key that verifies, even one in
//! no allowed-signers file. X.509 (gpgsm) signatures are recognised and
//! reported as not verifiable; they never count.

pub mod openpgp;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use ssh_key::{HashAlg, PublicKey, SshSig};

use crate::facts::identity::LazyPeople;
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
                format!("the commit has an {kind} signature, which trailgate cannot verify (use gpg.format=ssh or gpg.format=openpgp)")
            }
        }
    }
}

/// The people's SSH keys. Keys are kept as text and parsed when first
/// needed: a hook with a 10,000-person directory must not parse 10,000 keys
/// to start. A signature's key is found by its base64 blob, so verifying
/// one parses only the keys with that blob.
#[derive(Debug, Default)]
pub struct KeyRing {
    /// `type base64 [comment]`, and whose it is.
    entries: Vec<(String, usize)>,
    by_blob: HashMap<String, Vec<usize>>,
    /// A directory file's people read on first use, numbered from `.1`.
    lazy: Option<(Arc<dyn LazyPeople>, usize)>,
    /// Every key parsed (for lookups by fingerprint), on first use; a key
    /// that does not parse is `None` and matches nothing.
    parsed: OnceLock<Vec<(Option<PublicKey>, usize)>>,
    /// The people's OpenPGP keys.
    pgp: openpgp::PgpRing,
}

impl KeyRing {
    /// A key that was parsed (and so is valid).
    pub fn add(&mut self, key: PublicKey, person: usize) {
        let text = key.to_openssh().unwrap_or_default();
        self.add_text(text, person);
    }

    /// A key as text, parsed only when a signature needs it. Text that
    /// does not parse then is a key that matches nothing.
    pub fn add_text(&mut self, text: String, person: usize) {
        if let Some(blob) = blob(&text) {
            self.by_blob
                .entry(blob.to_owned())
                .or_default()
                .push(self.entries.len());
        }
        self.entries.push((text, person));
    }

    /// An ASCII-armoured OpenPGP public key, parsed when an OpenPGP
    /// signature needs it.
    pub fn add_pgp_text(&mut self, text: String, person: usize) {
        self.pgp.add_text(text, person);
    }

    /// The keys of a directory file's people (numbered from `base`), read
    /// when a signature needs them.
    pub fn set_lazy(&mut self, lazy: Arc<dyn LazyPeople>, base: usize) {
        self.pgp.set_lazy(lazy.clone(), base);
        self.lazy = Some((lazy, base));
    }

    /// No SSH and no OpenPGP keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.pgp.is_empty() && self.lazy.is_none()
    }

    fn all(&self) -> &[(Option<PublicKey>, usize)] {
        self.parsed.get_or_init(|| {
            let lazy = self.lazy.iter().flat_map(|(lazy, base)| {
                lazy.all_ssh_keys()
                    .into_iter()
                    .map(move |(text, person)| (text, person + base))
            });
            self.entries
                .iter()
                .cloned()
                .chain(lazy)
                .map(|(text, person)| (PublicKey::from_openssh(text.trim()).ok(), person))
                .collect()
        })
    }

    /// The person with this key, by git's `SHA256:...` fingerprint (what
    /// a verified push certificate names the pusher by).
    pub fn person_by_fingerprint(&self, fingerprint: &str) -> Option<usize> {
        self.all()
            .iter()
            .find(|(k, _)| {
                k.as_ref().is_some_and(|k| {
                    k.fingerprint(HashAlg::Sha256).to_string() == fingerprint.trim()
                })
            })
            .map(|&(_, p)| p)
    }

    /// The people's parsed keys whose data is `data`.
    fn matching(&self, data: &ssh_key::public::KeyData) -> Vec<(PublicKey, usize)> {
        let text = PublicKey::from(data.clone())
            .to_openssh()
            .unwrap_or_default();
        let Some(blob) = blob(&text) else {
            return Vec::new();
        };
        let own = self
            .by_blob
            .get(blob)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.entries.get(i))
            .cloned();
        let lazy = self.lazy.iter().flat_map(|(lazy, base)| {
            lazy.ssh_keys_with_blob(blob)
                .into_iter()
                .map(move |(text, person)| (text, person + base))
        });
        own.chain(lazy)
            .filter_map(|(text, person)| {
                let key = PublicKey::from_openssh(text.trim()).ok()?;
                (key.key_data() == data).then_some((key, person))
            })
            .collect()
    }

    /// Verifies the signature of a commit object of a repository whose
    /// objects are named with `hash`.
    pub fn verify_commit(&self, raw: &[u8], hash: HashKind) -> SigStatus {
        let Some((payload, signature, headers)) = split_signed(raw, hash) else {
            return SigStatus::Unsigned;
        };
        // git hands the signature of several own headers to gpg or
        // ssh-keygen as one text. Two armoured signatures in it are read
        // differently by each (ssh-keygen checks the first, gpg both, and
        // git then calls the result an error): refused, never guessed.
        let armours = signature
            .split(|&b| b == b'\n')
            .filter(|line| line.starts_with(b"-----BEGIN "))
            .count();
        if armours > 1 {
            return SigStatus::Bad {
                reason: format!(
                    "{armours} signatures in {headers} `{}` headers: git verifies them as one text, which gpg and ssh-keygen read differently, so none counts",
                    signature_header(hash)
                ),
            };
        }
        self.verify_payload(&payload, &signature)
    }

    /// Verifies a signature (ASCII-armoured) over `payload` in git's
    /// namespace, as for a commit or a signed push certificate.
    pub fn verify_payload(&self, payload: &[u8], signature: &[u8]) -> SigStatus {
        if signature.starts_with(b"-----BEGIN PGP SIGNATURE-----") {
            return self
                .pgp
                .verify(payload, signature, std::time::SystemTime::now());
        }
        if signature.starts_with(b"-----BEGIN SIGNED MESSAGE-----") {
            return SigStatus::Unsupported { kind: "X.509" };
        }
        let sig = match SshSig::from_pem(signature) {
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
        let Some((key, person)) = self.matching(sig.public_key()).into_iter().next() else {
            return SigStatus::UnknownKey { fingerprint };
        };
        match key.verify(GIT_NAMESPACE, payload, &sig) {
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

/// The base64 field of an OpenSSH public key line (`type base64 [comment]`).
pub fn blob(text: &str) -> Option<&str> {
    text.split_ascii_whitespace().nth(1)
}

/// The header a commit's signature is in, in a repository of `hash`.
pub fn signature_header(hash: HashKind) -> &'static str {
    match hash {
        HashKind::Sha1 => "gpgsig",
        HashKind::Sha256 => "gpgsig-sha256",
    }
}

/// Splits a commit object into the payload that was signed and the
/// signature, line for line as git's `parse_buffer_signed_by_header`
/// (commit.c) does, so that trailgate verifies exactly what
/// `git verify-commit` verifies:
///
/// - every header line `<ours> <value>` (`gpgsig` for SHA-1,
///   `gpgsig-sha256` for SHA-256) and the continuation lines (starting with
///   a space) after it are the signature, *all of them appended*: a second
///   header of our own kind continues the signature, it is not payload;
/// - any other header starting with `gpgsig` (the other hash's signature of
///   a `compatObjectFormat` clone, `gpgsig` without a value, `gpgsigx`) and
///   its continuation lines are in neither;
/// - everything else, and the whole message after the first empty line, is
///   the payload.
///
/// Returns the payload, the signature, and how many own signature headers
/// there were (a new object with more than one is refused by
/// [`crate::git::object::fsck`]; for one already in the repository
/// [`KeyRing::verify_commit`] says so). `None` when unsigned.
pub fn split_signed(raw: &[u8], hash: HashKind) -> Option<(Vec<u8>, Vec<u8>, usize)> {
    let ours = signature_header(hash).as_bytes();
    let mut payload = Vec::with_capacity(raw.len());
    let mut signature = Vec::new();
    let (mut in_signature, mut other_signature, mut headers) = (false, false, 0usize);
    let mut rest = raw;
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let (line, after) = rest.split_at(end);
        rest = after;
        let mut sig = None;
        if in_signature && line.first() == Some(&b' ') {
            sig = line.get(1..);
        } else if let Some(value) = line
            .strip_prefix(ours)
            .and_then(|after| after.strip_prefix(b" "))
        {
            sig = Some(value);
            headers += 1;
            other_signature = false;
        } else if line.starts_with(b"gpgsig") {
            other_signature = true;
        } else if other_signature && line.first() != Some(&b' ') {
            other_signature = false;
        }
        if let Some(sig) = sig {
            signature.extend_from_slice(sig);
            in_signature = true;
        } else {
            if line.first() == Some(&b'\n') {
                // The message: all payload.
                payload.extend_from_slice(line);
                payload.extend_from_slice(rest);
                break;
            }
            if !other_signature {
                payload.extend_from_slice(line);
            }
            in_signature = false;
        }
    }
    if headers == 0 {
        return None;
    }
    if signature.last() != Some(&b'\n') {
        signature.push(b'\n');
    }
    Some((payload, signature, headers))
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
        let (payload, sig, _) = split_signed(raw, HashKind::Sha1).unwrap();
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
        let (payload, sig, _) = split_signed(raw, HashKind::Sha256).unwrap();
        assert_eq!(payload, b"tree t\nauthor a\n\nmsg\n");
        assert_eq!(
            sig,
            b"-----BEGIN SSH SIGNATURE-----\nTWO\n-----END SSH SIGNATURE-----\n"
        );
        let (payload, sig, _) = split_signed(raw, HashKind::Sha1).unwrap();
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
        assert!(matches!(
            ring.verify_commit(raw, HashKind::Sha1),
            SigStatus::Bad { .. }
        ));
        let raw = b"tree t\ngpgsig -----BEGIN SIGNED MESSAGE-----\n x\n -----END SIGNED MESSAGE-----\n\nm\n";
        assert_eq!(
            ring.verify_commit(raw, HashKind::Sha1),
            SigStatus::Unsupported { kind: "X.509" }
        );
    }

    #[test]
    fn a_second_own_signature_header_continues_the_signature_as_in_git() {
        // git's parse_buffer_signed_by_header appends every own header to
        // the signature; before, the second one was read as payload.
        let raw = b"tree t\nauthor a\ngpgsig-sha256 -----BEGIN SSH SIGNATURE-----\n ONE\ngpgsig-sha256 TWO\n -----END SSH SIGNATURE-----\ncommitter c\n\nmsg\ngpgsig-sha256 body\n";
        let (payload, sig, headers) = split_signed(raw, HashKind::Sha256).unwrap();
        assert_eq!(
            payload,
            b"tree t\nauthor a\ncommitter c\n\nmsg\ngpgsig-sha256 body\n"
        );
        assert_eq!(
            sig,
            b"-----BEGIN SSH SIGNATURE-----\nONE\nTWO\n-----END SSH SIGNATURE-----\n"
        );
        assert_eq!(headers, 2);
        // In a SHA-1 repository those are the other hash's: no signature.
        assert_eq!(split_signed(raw, HashKind::Sha1), None);
    }

    #[test]
    fn other_gpgsig_headers_and_their_continuations_are_in_neither_part() {
        // `gpgsig-sha256` without a value is not ours (git wants a space);
        // `gpgsigx` is another header; each one's continuation goes with it.
        let raw = b"tree t\ngpgsig-sha256\n lost\ngpgsigx y\n lost too\ngpgsig-sha256 S\n T\nauthor a\n\nm\n";
        let (payload, sig, headers) = split_signed(raw, HashKind::Sha256).unwrap();
        assert_eq!(payload, b"tree t\nauthor a\n\nm\n");
        assert_eq!(sig, b"S\nT\n");
        assert_eq!(headers, 1);
    }

    #[test]
    fn two_armoured_signatures_in_own_headers_are_bad_not_one_of_them() {
        let ring = KeyRing::default();
        let one = "-----BEGIN SSH SIGNATURE-----\n AAAA\n -----END SSH SIGNATURE-----\n";
        for (hash, header) in [
            (HashKind::Sha1, "gpgsig"),
            (HashKind::Sha256, "gpgsig-sha256"),
        ] {
            let raw = format!("tree t\n{header} {one}{header} {one}author a\n\nm\n");
            match ring.verify_commit(raw.as_bytes(), hash) {
                SigStatus::Bad { reason } => {
                    assert!(
                        reason.contains(&format!("2 signatures in 2 `{header}` headers")),
                        "{reason}"
                    )
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
