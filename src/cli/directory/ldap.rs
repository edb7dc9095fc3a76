//! Asking the LDAP server (ldap3 over rustls): bind, search the people
//! with paged results (a server's size limit must never cut the answer
//! short), read the configured LDAP groups' members. Any failure, a
//! referral, or a result code other than success is an error: a partial
//! answer is never written.
//!
//! This is the only code that starts a tokio runtime (inside ldap3's
//! synchronous connection), and it runs only for `trailgate directory sync`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use ldap3::adapters::{Adapter, PagedResults};
use ldap3::{LdapConn, LdapConnSettings, ResultEntry, Scope};

use super::build::{normal_dn, Entry, GroupEntry};
use super::config::SyncConfig;
use super::SyncError;

/// The people's entries and the configured LDAP groups' members (by
/// normalised DN).
pub fn fetch(
    config: &SyncConfig,
    password: Option<&str>,
) -> Result<(Vec<Entry>, HashMap<String, GroupEntry>), SyncError> {
    let l = &config.ldap;
    let timeout = Duration::from_secs(l.timeout_seconds);
    let unreachable = |e: ldap3::LdapError| SyncError::Unreachable {
        url: l.url.clone(),
        message: tls_hint(&e.to_string(), l.ca.is_some()),
    };
    let mut settings = LdapConnSettings::new()
        .set_conn_timeout(timeout)
        .set_starttls(l.starttls);
    if let Some((path, certs)) = &l.ca {
        settings = settings.set_config(tls_config(path, certs)?);
    }
    let mut conn = LdapConn::with_settings(settings, &l.url).map_err(unreachable)?;
    if let (Some((dn, _)), Some(password)) = (&l.bind, password) {
        conn.with_timeout(timeout)
            .simple_bind(dn, password)
            .and_then(|r| r.success())
            .map_err(|e| SyncError::Bind {
                dn: dn.clone(),
                message: e.to_string(),
            })?;
    }
    let attrs = config.people.attributes(&config.groups);
    let mut people = Vec::new();
    for base in &config.people.bases {
        // No `EntriesOnly`: it would drop referrals silently, and a
        // referral means part of the answer is elsewhere.
        let adapters: Vec<Box<dyn Adapter<_, _>>> = vec![Box::new(PagedResults::new(l.page_size))];
        let search_err = |e: ldap3::LdapError| SyncError::Search {
            base: base.clone(),
            filter: config.people.filter.clone(),
            message: e.to_string(),
        };
        let mut search = conn
            .with_timeout(timeout)
            .streaming_search_with(
                adapters,
                base,
                Scope::Subtree,
                &config.people.filter,
                attrs.clone(),
            )
            .map_err(search_err)?;
        while let Some(raw) = search.next().map_err(search_err)? {
            if raw.is_intermediate() {
                continue;
            }
            if raw.is_ref() {
                return Err(SyncError::Referral { base: base.clone() });
            }
            people.push(entry(raw).ok_or_else(|| SyncError::Malformed { base: base.clone() })?);
        }
        search.result().success().map_err(search_err)?;
    }
    let mut groups = HashMap::new();
    for dn in config.groups.iter().flat_map(|g| &g.members_of) {
        let key = normal_dn(dn);
        if groups.contains_key(&key) {
            continue;
        }
        let search_err = |e: ldap3::LdapError| SyncError::Group {
            dn: dn.clone(),
            message: e.to_string(),
        };
        let (found, _) = conn
            .with_timeout(timeout)
            .search(
                dn,
                Scope::Base,
                "(objectClass=*)",
                vec!["member", "uniqueMember", "memberUid"],
            )
            .and_then(|r| r.success())
            .map_err(search_err)?;
        let mut group = GroupEntry::default();
        for raw in found {
            let e = entry(raw).ok_or_else(|| SyncError::Malformed { base: dn.clone() })?;
            for (attr, values) in e.attrs {
                match attr.as_str() {
                    "member" | "uniquemember" => group.member_dns.extend(values),
                    "memberuid" => group.member_uids.extend(values),
                    _ => {}
                }
            }
        }
        groups.insert(key, group);
    }
    // The answer is complete; a failed unbind changes nothing.
    let _ = conn.unbind();
    Ok((people, groups))
}

/// A rustls configuration that trusts only the CA file's certificates
/// (checked already when the configuration was read). The provider is
/// named, not looked up, so that nothing here can panic for want of one.
fn tls_config(
    path: &std::path::Path,
    certs: &[Vec<u8>],
) -> Result<Arc<rustls::ClientConfig>, SyncError> {
    let tls = |message: String| SyncError::Tls {
        path: path.to_owned(),
        message,
    };
    let mut roots = rustls::RootCertStore::empty();
    for der in certs {
        roots
            .add(rustls::pki_types::CertificateDer::from(der.clone()))
            .map_err(|e| tls(e.to_string()))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| tls(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

/// What to do about the certificate failures an administrator meets
/// first, appended to rustls's own words. `BadSignature`: a CA of the same
/// name as the issuer, but not the one that signed.
fn tls_hint(message: &str, has_ca_file: bool) -> String {
    if message.contains("UnknownIssuer") || message.contains("BadSignature") {
        let fix = if has_ca_file {
            "ca_file does not hold the CA that signed the server's certificate (or one between them)"
        } else {
            "the server's certificate is signed by a CA the system does not trust; set ca_file to the organisation's CA certificate (PEM)"
        };
        format!("{message}; {fix}")
    } else if message.contains("NotValidForName") || message.contains("not valid for name") {
        format!("{message}; url must name a host the server's certificate is for (its subjectAltName), not an alias or an address it does not list")
    } else {
        message.to_owned()
    }
}

/// A search result entry, read without panicking on a malformed answer
/// (ldap3's own `SearchEntry::construct` panics on one). Values stay
/// bytes: which must be text is decided per attribute.
fn entry(raw: ResultEntry) -> Option<Entry> {
    let mut tags = raw.0.match_id(4)?.expect_constructed()?.into_iter();
    let dn = String::from_utf8(tags.next()?.expect_primitive()?).ok()?;
    let mut attrs: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    for partial in tags.next()?.expect_constructed()? {
        let mut parts = partial.expect_constructed()?.into_iter();
        let name = String::from_utf8(parts.next()?.expect_primitive()?).ok()?;
        let values = attrs.entry(name.to_ascii_lowercase()).or_default();
        for v in parts.next()?.expect_constructed()? {
            values.push(v.expect_primitive()?);
        }
    }
    Some(Entry { dn, attrs })
}
