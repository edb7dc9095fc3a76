//! OpenPGP commit signatures (`gpg.format=openpgp`, git's default),
//! verified in-process against the people's ASCII-armoured public keys.
//!
//! The rules, all judged at push time and never at the time the signature
//! claims (its creation time is the signer's to choose):
//! - the signature names its key (issuer fingerprint or key id), and that
//!   key is a person's primary key or one of its subkeys;
//! - a subkey counts only with a valid binding signature of its primary
//!   key that allows signing (and the subkey's own back-signature, which
//!   rPGP checks), and a primary key only with a valid self-signature;
//! - a key or subkey that has expired by now does not count;
//! - any valid revocation of the primary key voids every signature made
//!   with it or its subkeys, and a subkey's revocation voids the subkey's:
//!   since the signature's own time cannot be trusted, a revocation is
//!   treated as hard whatever reason it gives.

use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey};
use pgp::packet::{Signature, SignatureType};
use pgp::types::{KeyDetails, Timestamp};

use super::SigStatus;
use crate::facts::identity::LazyPeople;

/// The people's OpenPGP keys: kept as text, parsed on the first OpenPGP
/// signature to verify.
#[derive(Debug, Default)]
pub struct PgpRing {
    entries: Vec<(String, usize)>,
    /// A directory file's people read on first use, numbered from `.1`.
    lazy: Option<(Arc<dyn LazyPeople>, usize)>,
    parsed: OnceLock<Vec<(Option<SignedPublicKey>, usize)>>,
}

/// Parses an ASCII-armoured public key and checks its self-signatures and
/// bindings; the message says what is wrong.
pub fn parse_key(text: &str) -> Result<SignedPublicKey, String> {
    let (key, _) = SignedPublicKey::from_string(text.trim()).map_err(|e| e.to_string())?;
    key.verify_bindings()
        .map_err(|e| format!("its self-signatures do not verify: {e}"))?;
    Ok(key)
}

impl PgpRing {
    pub fn add_text(&mut self, text: String, person: usize) {
        self.entries.push((text, person));
    }

    /// The keys of a directory file's people, read when first needed.
    pub fn set_lazy(&mut self, lazy: Arc<dyn LazyPeople>, base: usize) {
        self.lazy = Some((lazy, base));
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.lazy.is_none()
    }

    fn all(&self) -> &[(Option<SignedPublicKey>, usize)] {
        self.parsed.get_or_init(|| {
            let lazy = self.lazy.iter().flat_map(|(lazy, base)| {
                lazy.all_gpg_keys()
                    .into_iter()
                    .map(move |(text, person)| (text, person + base))
            });
            self.entries
                .iter()
                .cloned()
                .chain(lazy)
                .map(|(text, person)| (parse_key(&text).ok(), person))
                .collect()
        })
    }

    /// Verifies an armoured OpenPGP signature over `payload` at `now`.
    pub fn verify(&self, payload: &[u8], signature: &[u8], now: SystemTime) -> SigStatus {
        let Ok(text) = std::str::from_utf8(signature) else {
            return bad("the OpenPGP signature is not ASCII armour");
        };
        let sig = match DetachedSignature::from_string(text) {
            Ok((sig, _)) => sig.signature,
            Err(e) => return bad(&format!("unreadable OpenPGP signature: {e}")),
        };
        let now = Timestamp::try_from(now).unwrap_or_else(|_| Timestamp::now());
        let fingerprints: Vec<String> = sig
            .issuer_fingerprint()
            .iter()
            .map(|f| format!("{f:x}"))
            .collect();
        let key_ids: Vec<String> = sig
            .issuer_key_id()
            .iter()
            .map(|id| hex(id.as_ref()))
            .collect();
        let named = fingerprints
            .first()
            .or(key_ids.first())
            .cloned()
            .unwrap_or_else(|| "(none named)".into());
        let matches = |fp: String, id: String| fingerprints.contains(&fp) || key_ids.contains(&id);
        for (key, person) in self.all() {
            let person = *person;
            let Some(key) = key else { continue };
            let primary = &key.primary_key;
            let primary_fp = format!("{:x}", primary.fingerprint());
            if matches(primary_fp.clone(), hex(primary.legacy_key_id().as_ref())) {
                if let Err(reason) = primary_usable(key, now) {
                    return bad(&format!("key {primary_fp} {reason}"));
                }
                return check(&sig, primary, payload, person, primary_fp);
            }
            for sub in &key.public_subkeys {
                let fp = format!("{:x}", sub.key.fingerprint());
                if !matches(fp.clone(), hex(sub.key.legacy_key_id().as_ref())) {
                    continue;
                }
                if let Err(reason) = primary_usable(key, now) {
                    return bad(&format!(
                        "subkey {fp} belongs to key {primary_fp}, which {reason}"
                    ));
                }
                if let Err(reason) = subkey_usable(key, sub, now) {
                    return bad(&format!("subkey {fp} {reason}"));
                }
                return check(&sig, &sub.key, payload, person, fp);
            }
        }
        SigStatus::UnknownKey { fingerprint: named }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn bad(reason: &str) -> SigStatus {
    SigStatus::Bad {
        reason: reason.to_owned(),
    }
}

fn check(
    sig: &Signature,
    key: &impl pgp::types::VerifyingKey,
    payload: &[u8],
    person: usize,
    fingerprint: String,
) -> SigStatus {
    if !matches!(sig.typ(), Some(SignatureType::Binary | SignatureType::Text)) {
        return bad("the OpenPGP signature is not a signature of a document");
    }
    match sig.verify(key, payload) {
        Ok(()) => SigStatus::Good {
            person,
            fingerprint,
        },
        Err(_) => bad(&format!(
            "key {fingerprint} does not verify it: the signature was made over other content (another commit?)"
        )),
    }
}

/// Whether a key's primary key may sign now: not revoked, a valid
/// self-signature, not expired.
fn primary_usable(key: &SignedPublicKey, now: Timestamp) -> Result<(), String> {
    let primary = &key.primary_key;
    if key
        .details
        .revocation_signatures
        .iter()
        .any(|r| r.verify_key(primary).is_ok())
    {
        return Err("has been revoked".into());
    }
    // The newest self-signature (user ID certification or direct key
    // signature) that verifies says when the key expires.
    let mut newest: Option<&Signature> = None;
    for user in &key.details.users {
        for s in &user.signatures {
            if s.verify_certification(primary, pgp::types::Tag::UserId, &user.id)
                .is_ok()
            {
                newest = newer(newest, s);
            }
        }
    }
    for s in &key.details.direct_signatures {
        if s.verify_key(primary).is_ok() {
            newest = newer(newest, s);
        }
    }
    let Some(selfsig) = newest else {
        return Err("has no valid self-signature".into());
    };
    expired(primary.created_at(), selfsig, now)
}

/// Whether a subkey may sign now: bound by a valid binding signature that
/// allows signing, not revoked, not expired.
fn subkey_usable(
    key: &SignedPublicKey,
    sub: &pgp::composed::SignedPublicSubKey,
    now: Timestamp,
) -> Result<(), String> {
    let primary = &key.primary_key;
    let valid: Vec<&Signature> = sub
        .signatures
        .iter()
        .filter(|s| s.verify_subkey_binding(primary, &sub.key).is_ok())
        .collect();
    if valid
        .iter()
        .any(|s| s.typ() == Some(SignatureType::SubkeyRevocation))
    {
        return Err("has been revoked".into());
    }
    let binding = valid
        .iter()
        .filter(|s| s.typ() == Some(SignatureType::SubkeyBinding))
        .fold(None, |acc, s| newer(acc, s))
        .ok_or("has no valid binding signature")?;
    if !binding.key_flags().sign() {
        return Err("is not a signing subkey".into());
    }
    if sub.verify_bindings(primary).is_err() {
        return Err(
            "has a binding that does not verify (a signing subkey needs its back-signature)".into(),
        );
    }
    expired(sub.key.created_at(), binding, now)
}

fn newer<'s>(acc: Option<&'s Signature>, s: &'s Signature) -> Option<&'s Signature> {
    match acc {
        Some(a) if a.created().map(Timestamp::as_secs) >= s.created().map(Timestamp::as_secs) => {
            Some(a)
        }
        _ => Some(s),
    }
}

fn expired(created: Timestamp, selfsig: &Signature, now: Timestamp) -> Result<(), String> {
    match selfsig.key_expiration_time().map(|d| d.as_secs()) {
        Some(secs) if secs > 0 => {
            let until = u64::from(created.as_secs()) + u64::from(secs);
            if u64::from(now.as_secs()) >= until {
                Err("has expired".into())
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}
