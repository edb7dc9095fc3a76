//! Asking the LDAP server (ldap3 over rustls): bind, search the people
//! with paged results (a server's size limit must never cut the answer
//! short), read the configured LDAP groups' members. Any failure, a
//! referral, or a result code other than success is an error: a partial
//! answer is never written.
//!
//! This is the only code that starts a tokio runtime (inside ldap3's
//! synchronous connection), and it runs only for `trailgate directory sync`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use ldap3::adapters::{Adapter, PagedResults};
use ldap3::{LdapConn, LdapConnSettings, ResultEntry, Scope};

use super::build::{normal_dn, Entry, GroupEntry};
use super::config::SyncConfig;
use super::SyncError;
use super::{nested, ranged};

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
    let mut level = Vec::new();
    for dn in config.groups.iter().flat_map(|g| &g.members_of) {
        let key = normal_dn(dn);
        if groups.contains_key(&key) {
            continue;
        }
        let group = read_group(&mut conn, timeout, dn, true)?.unwrap_or_default();
        groups.insert(key.clone(), group);
        level.push(key);
    }
    // Nested groups, a level at a time: every member DN that is not a
    // person found is asked about once; those that are groups are read.
    // One level past the bound is read so that build can say a group is
    // nested too deep rather than leave its members out unsaid.
    let people_dns: HashSet<String> = people.iter().map(|e| normal_dn(&e.dn)).collect();
    let mut asked: HashSet<String> = HashSet::new();
    for _ in 0..=nested::MAX_DEPTH {
        let mut candidates = Vec::new();
        for key in &level {
            for raw in groups
                .get(key)
                .map_or(&[][..], |g: &GroupEntry| &g.member_dns)
            {
                let member = nested::member_dn(raw);
                if !people_dns.contains(&member)
                    && !groups.contains_key(&member)
                    && asked.insert(member.clone())
                {
                    let text = String::from_utf8_lossy(raw);
                    let dn = text.rsplit_once("#'").map_or(&*text, |(d, _)| d).to_owned();
                    candidates.push((member, dn));
                }
            }
        }
        let mut next = Vec::new();
        for (key, dn) in candidates {
            if let Some(group) = read_group(&mut conn, timeout, &dn, false)? {
                groups.insert(key.clone(), group);
                next.push(key);
            }
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    // The answer is complete; a failed unbind changes nothing.
    let _ = conn.unbind();
    Ok((people, groups))
}

/// The object classes of a group whose members may be groups.
const GROUP_FILTER: &str = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=group)(objectClass=posixGroup))";

/// An LDAP group's members. `configured`: a `members_of` DN, which must
/// exist; otherwise a member DN that may be a group: `None` when it is
/// not one (a person outside the filter, or an entry that is gone).
fn read_group(
    conn: &mut LdapConn,
    timeout: Duration,
    dn: &str,
    configured: bool,
) -> Result<Option<GroupEntry>, SyncError> {
    let search_err = |e: ldap3::LdapError| SyncError::Group {
        dn: dn.to_owned(),
        message: e.to_string(),
    };
    let filter = if configured {
        "(objectClass=*)"
    } else {
        GROUP_FILTER
    };
    let result = conn
        .with_timeout(timeout)
        .search(
            dn,
            Scope::Base,
            filter,
            vec!["member", "uniqueMember", "memberUid"],
        )
        .map_err(search_err)?;
    // noSuchObject: the member is gone (reported by build as not found).
    if !configured && result.1.rc == 32 {
        return Ok(None);
    }
    let (found, _) = result.success().map_err(search_err)?;
    if found.is_empty() && !configured {
        return Ok(None);
    }
    let mut group = GroupEntry::default();
    for raw in found {
        let e = entry(raw).ok_or_else(|| SyncError::Malformed {
            base: dn.to_owned(),
        })?;
        // Active Directory sends a big group's members in ranges.
        let attrs = ranged::complete(e.attrs, |request| {
            let (found, _) = conn
                .with_timeout(timeout)
                .search(dn, Scope::Base, "(objectClass=*)", vec![request])
                .and_then(|r| r.success())
                .map_err(|e| e.to_string())?;
            let mut out = ranged::Attrs::new();
            for raw in found {
                out.extend(entry(raw).ok_or("the server sent a malformed entry")?.attrs);
            }
            Ok::<_, String>(out)
        })
        .map_err(|message| SyncError::Group {
            dn: dn.to_owned(),
            message,
        })?;
        for (attr, values) in attrs {
            match attr.as_str() {
                "member" | "uniquemember" => group.member_dns.extend(values),
                "memberuid" => group.member_uids.extend(values),
                _ => {}
            }
        }
    }
    Ok(Some(group))
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
