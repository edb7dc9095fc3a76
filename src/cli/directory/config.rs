//! The sync configuration (`trailgate directory sync --config SYNC.toml`):
//! which LDAP server to ask, how to bind, where the people are and which
//! of their attributes make a trailgate person, and how LDAP groups or an
//! attribute (a job level) map to trailgate groups. Validated strictly:
//! unknown keys, bad URLs, bad filters and bad names are errors at the
//! file's `line:column`, before any connection is made.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::policy::{line_col, valid_rule_name, Problem};

type S<T> = toml::Spanned<T>;

/// Largest sync configuration read; it is a few hundred bytes.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    output: S<String>,
    #[serde(default)]
    min_people: Option<S<i64>>,
    #[serde(default)]
    invalid_entries: Option<S<String>>,
    ldap: S<RawLdap>,
    people: S<RawPeople>,
    #[serde(default)]
    groups: BTreeMap<S<String>, S<RawGroup>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLdap {
    url: S<String>,
    #[serde(default)]
    starttls: bool,
    ca_file: Option<S<String>>,
    bind_dn: Option<S<String>>,
    password_file: Option<S<String>>,
    timeout_seconds: Option<S<i64>>,
    page_size: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeople {
    bases: S<Vec<S<String>>>,
    filter: Option<S<String>>,
    id: Option<S<String>>,
    name: Option<S<String>>,
    emails: Option<Vec<S<String>>>,
    logins: Option<Vec<S<String>>>,
    ssh_keys: Option<Vec<S<String>>>,
    gpg_keys: Option<Vec<S<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    members_of: Vec<S<String>>,
    attribute: Option<S<String>>,
    #[serde(default)]
    values: Vec<S<String>>,
}

/// What to do with an LDAP entry that cannot become a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidEntries {
    /// Nothing is written; every such entry is listed (the default).
    Fail,
    /// The entry is left out, with a warning naming it.
    Skip,
}

/// A validated sync configuration.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// The directory file written (relative paths: to the config's folder).
    pub output: PathBuf,
    pub min_people: usize,
    pub invalid_entries: InvalidEntries,
    pub ldap: Ldap,
    pub people: People,
    pub groups: Vec<GroupMap>,
}

#[derive(Debug, Clone)]
pub struct Ldap {
    pub url: String,
    pub starttls: bool,
    /// `ca_file` and its certificates (DER): the only CAs trusted for the
    /// server's certificate; the system's CA store when absent.
    pub ca: Option<(PathBuf, Vec<Vec<u8>>)>,
    /// The bind DN and the file holding its password; anonymous when absent.
    pub bind: Option<(String, PathBuf)>,
    pub timeout_seconds: u64,
    pub page_size: i32,
}

/// Where the people are and which attributes (lower-case) make a person.
#[derive(Debug, Clone)]
pub struct People {
    pub bases: Vec<String>,
    pub filter: String,
    pub id: String,
    pub name: Option<String>,
    pub emails: Vec<String>,
    pub logins: Vec<String>,
    pub ssh_keys: Vec<String>,
    pub gpg_keys: Vec<String>,
}

impl People {
    /// Every attribute a person entry is asked for.
    pub fn attributes(&self, groups: &[GroupMap]) -> Vec<String> {
        let mut out: Vec<String> = std::iter::once(&self.id)
            .chain(self.name.iter())
            .chain(&self.emails)
            .chain(&self.logins)
            .chain(&self.ssh_keys)
            .chain(&self.gpg_keys)
            .chain(
                groups
                    .iter()
                    .filter_map(|g| g.attribute.as_ref().map(|(a, _)| a)),
            )
            .cloned()
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// One trailgate group: the members of LDAP groups (by DN), and the people
/// whose `attribute` has one of `values` (compared ignoring ASCII case).
#[derive(Debug, Clone)]
pub struct GroupMap {
    pub name: String,
    pub members_of: Vec<String>,
    pub attribute: Option<(String, Vec<String>)>,
}

/// The configuration could not be read, or is invalid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the sync configuration {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", render(path, problems))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

fn render(path: &Path, problems: &[Problem]) -> String {
    let mut out = format!(
        "sync configuration {} is invalid ({} problem{}):",
        path.display(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        out.push_str(&format!(
            "\n  {}:{}:{}: {}",
            path.display(),
            p.line,
            p.column,
            p.message
        ));
    }
    out
}

/// Reads and validates a sync configuration.
pub fn load(path: &Path) -> Result<SyncConfig, ConfigError> {
    use std::io::Read;
    let read_err = |source| ConfigError::Read {
        path: path.to_owned(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes))
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(read_err(std::io::Error::other(
            "the file is larger than 1 MiB",
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        read_err(std::io::Error::other(
            "the file is not UTF-8 (TOML must be UTF-8)",
        ))
    })?;
    parse(path, &text)
}

/// Validates configuration text; `path` names it in messages and anchors
/// relative paths.
pub fn parse(path: &Path, text: &str) -> Result<SyncConfig, ConfigError> {
    let mut p = Problems {
        text,
        out: Vec::new(),
    };
    let raw: Raw = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            p.at(
                e.span().unwrap_or(0..0),
                crate::policy::words::humane(e.message()),
            );
            return Err(p.into_error(path));
        }
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let output = base.join(raw.output.get_ref());
    if raw.output.get_ref().trim().is_empty() {
        p.at(raw.output.span(), "output is empty; name the directory file to write, the one the policy's settings.directory names");
    }
    let min_people = match &raw.min_people {
        None => 1,
        Some(n) if *n.get_ref() >= 1 => usize::try_from(*n.get_ref()).unwrap_or(usize::MAX),
        Some(n) => {
            p.at(
                n.span(),
                "min_people must be at least 1: an answer with no people is never written",
            );
            1
        }
    };
    let invalid_entries = match raw
        .invalid_entries
        .as_ref()
        .map(|s| (s.get_ref().as_str(), s.span()))
    {
        None | Some(("fail", _)) => InvalidEntries::Fail,
        Some(("skip", _)) => InvalidEntries::Skip,
        Some((other, span)) => {
            p.at(span, format!("invalid_entries = \"{other}\" is not allowed; use \"fail\" (nothing is written) or \"skip\" (the entry is left out, with a warning)"));
            InvalidEntries::Fail
        }
    };
    let ldap = ldap(&mut p, base, raw.ldap.into_inner());
    let groups = groups(&mut p, raw.groups);
    let people = people(&mut p, raw.people);
    if p.out.is_empty() {
        Ok(SyncConfig {
            output,
            min_people,
            invalid_entries,
            ldap,
            people,
            groups,
        })
    } else {
        Err(p.into_error(path))
    }
}

struct Problems<'t> {
    text: &'t str,
    out: Vec<Problem>,
}

impl Problems<'_> {
    fn at(&mut self, span: std::ops::Range<usize>, message: impl Into<String>) {
        let (line, column) = line_col(self.text, span.start);
        self.out.push(Problem {
            file: None,
            line,
            column,
            message: message.into(),
        });
    }

    fn into_error(mut self, path: &Path) -> ConfigError {
        self.out.sort_by_key(|p| (p.line, p.column));
        ConfigError::Invalid {
            path: path.to_owned(),
            problems: self.out,
        }
    }

    /// An LDAP filter, checked by the client's own parser.
    fn filter(&mut self, filter: &S<String>) {
        if !filter_ok(filter.get_ref()) {
            self.at(filter.span(), format!("`{}` is not an LDAP search filter (RFC 4515), for example \"(&(objectClass=inetOrgPerson)(!(employeeType=former)))\"", filter.get_ref()));
        }
    }

    /// An attribute name (RFC 4512 descr or numeric OID), lower-cased.
    fn attribute(&mut self, name: &S<String>) -> String {
        let n = name.get_ref();
        let descr = n.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        let oid = !n.is_empty()
            && n.split('.')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
        if !(descr || oid) {
            self.at(name.span(), format!("`{n}` is not an LDAP attribute name (letters, digits and `-`, starting with a letter, such as \"mail\" or \"sshPublicKey\")"));
        }
        n.to_ascii_lowercase()
    }

    fn dn(&mut self, dn: &S<String>) {
        let d = dn.get_ref();
        if d.trim().is_empty() || !d.contains('=') || d.chars().any(char::is_control) {
            self.at(
                dn.span(),
                format!(
                    "`{d}` is not a distinguished name, such as \"ou=people,dc=example,dc=com\""
                ),
            );
        }
    }
}

#[cfg(feature = "ldap")]
fn filter_ok(filter: &str) -> bool {
    ldap3::parse_filter(filter).is_ok()
}

#[cfg(feature = "ldap")]
fn read_ca(path: &Path) -> Result<Vec<Vec<u8>>, Vec<String>> {
    super::ca::read(path)
}

/// Without the LDAP client there is no sync to use the file for.
#[cfg(not(feature = "ldap"))]
fn read_ca(_: &Path) -> Result<Vec<Vec<u8>>, Vec<String>> {
    Ok(Vec::new())
}

#[cfg(not(feature = "ldap"))]
fn filter_ok(filter: &str) -> bool {
    filter.starts_with('(') && filter.ends_with(')')
}

fn ldap(p: &mut Problems<'_>, base: &Path, raw: RawLdap) -> Ldap {
    let url = raw.url.get_ref().clone();
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("ldaps://")
        .or_else(|| lower.strip_prefix("ldap://"));
    match rest {
        Some(host)
            if !host.is_empty()
                && !host.starts_with('/')
                && !host.contains(char::is_whitespace) =>
        {
            if lower.starts_with("ldaps://") && raw.starttls {
                p.at(raw.url.span(), "starttls = true is for ldap:// URLs; an ldaps:// connection is TLS from the start");
            }
        }
        _ => p.at(
            raw.url.span(),
            format!("url `{url}` is not ldap://HOST[:PORT] or ldaps://HOST[:PORT]"),
        ),
    }
    let tls = lower.starts_with("ldaps://") || raw.starttls;
    let ca = raw.ca_file.and_then(|file| {
        let path = base.join(file.get_ref());
        if !tls {
            p.at(file.span(), "ca_file is for TLS: use an ldaps:// URL or starttls = true (over plain ldap:// the password and the answer would cross the network unencrypted)");
            return None;
        }
        match read_ca(&path) {
            Ok(certs) => Some((path, certs)),
            Err(problems) => {
                for why in problems {
                    p.at(file.span(), format!("ca_file {}: {why}", path.display()));
                }
                None
            }
        }
    });
    let bind = match (raw.bind_dn, raw.password_file) {
        (Some(dn), Some(file)) => {
            p.dn(&dn);
            Some((dn.into_inner(), base.join(file.get_ref())))
        }
        (Some(dn), None) => {
            p.at(
                dn.span(),
                "bind_dn needs password_file, a file (mode 0600) holding the bind password",
            );
            None
        }
        (None, Some(file)) => {
            p.at(
                file.span(),
                "password_file needs bind_dn, the DN to bind as",
            );
            None
        }
        (None, None) => None,
    };
    let timeout_seconds = match raw.timeout_seconds {
        None => 30,
        Some(t) if (1..=3600).contains(t.get_ref()) => u64::try_from(*t.get_ref()).unwrap_or(30),
        Some(t) => {
            p.at(t.span(), "timeout_seconds must be from 1 to 3600");
            30
        }
    };
    let page_size = match raw.page_size {
        None => 500,
        Some(n) if (1..=100_000).contains(n.get_ref()) => {
            i32::try_from(*n.get_ref()).unwrap_or(500)
        }
        Some(n) => {
            p.at(n.span(), "page_size must be from 1 to 100000");
            500
        }
    };
    Ldap {
        url,
        starttls: raw.starttls,
        ca,
        bind,
        timeout_seconds,
        page_size,
    }
}

fn people(p: &mut Problems<'_>, raw: S<RawPeople>) -> People {
    let span = raw.span();
    let raw = raw.into_inner();
    if raw.bases.get_ref().is_empty() {
        p.at(
            raw.bases.span(),
            "bases is empty; name where the people are, such as [\"ou=people,dc=example,dc=com\"]",
        );
    }
    for b in raw.bases.get_ref() {
        p.dn(b);
    }
    let filter = match raw.filter {
        Some(f) => {
            p.filter(&f);
            f.into_inner()
        }
        None => "(objectClass=*)".to_owned(),
    };
    let list = |p: &mut Problems<'_>, l: Option<Vec<S<String>>>, default: &[&str]| match l {
        Some(l) => l.iter().map(|a| p.attribute(a)).collect(),
        None => default.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
    };
    let id = raw.id.map_or_else(|| "uid".to_owned(), |a| p.attribute(&a));
    let name = match raw.name {
        Some(n) if n.get_ref().is_empty() => None,
        Some(n) => Some(p.attribute(&n)),
        None => Some("cn".to_owned()),
    };
    let emails = list(p, raw.emails, &["mail"]);
    let logins = list(p, raw.logins, &["uid"]);
    let ssh_keys = list(p, raw.ssh_keys, &["sshpublickey"]);
    let gpg_keys = list(p, raw.gpg_keys, &[]);
    if emails.is_empty() && logins.is_empty() {
        p.at(span, "people need `emails` or `logins` attributes: without them nobody can be matched to a commit or a push");
    }
    People {
        bases: raw
            .bases
            .into_inner()
            .into_iter()
            .map(S::into_inner)
            .collect(),
        filter,
        id,
        name,
        emails,
        logins,
        ssh_keys,
        gpg_keys,
    }
}

fn groups(p: &mut Problems<'_>, raw: BTreeMap<S<String>, S<RawGroup>>) -> Vec<GroupMap> {
    let mut out = Vec::new();
    for (name, group) in raw {
        if !valid_rule_name(name.get_ref()) {
            p.at(
                name.span(),
                format!(
                    "group name `{}` may only use a-z, 0-9 and `-`",
                    name.get_ref()
                ),
            );
        }
        let span = group.span();
        let group = group.into_inner();
        for dn in &group.members_of {
            p.dn(dn);
        }
        let attribute = match group.attribute {
            Some(a) => {
                if group.values.is_empty() {
                    p.at(a.span(), "attribute needs values: the values that put a person in this group, such as [\"senior\", \"staff\"]");
                }
                Some((
                    p.attribute(&a),
                    group
                        .values
                        .iter()
                        .map(|v| v.get_ref().trim().to_owned())
                        .collect(),
                ))
            }
            None => {
                if let Some(v) = group.values.first() {
                    p.at(v.span(), "values needs attribute, the people's attribute to compare them with (such as \"employeeType\")");
                }
                None
            }
        };
        if group.members_of.is_empty() && attribute.is_none() {
            p.at(
                span,
                format!(
                    "group `{}` needs members_of (LDAP group DNs) or attribute and values",
                    name.get_ref()
                ),
            );
        }
        out.push(GroupMap {
            name: name.into_inner(),
            members_of: group.members_of.into_iter().map(S::into_inner).collect(),
            attribute,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_configuration_is_valid() {
        let text = include_str!("../../../directory-sync.example.toml");
        let config = parse(Path::new("/etc/trailgate/directory-sync.toml"), text).unwrap();
        assert_eq!(
            config.output,
            Path::new("/var/lib/trailgate/directory.toml")
        );
        assert_eq!(config.people.id, "uid");
        assert_eq!(config.people.ssh_keys, ["sshpublickey"]);
        let names: Vec<&str> = config.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["senior", "staff-plus"]);
        assert_eq!(config.min_people, 1);
        assert!(config.ldap.ca.is_none());
    }

    #[test]
    fn the_example_ca_file_line_reads_the_pem_it_names() {
        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("ldap-ca.pem");
        std::fs::write(&pem, super::super::ca::tests::CA).unwrap();
        let example = include_str!("../../../directory-sync.example.toml");
        let line = "# ca_file = \"/etc/trailgate/ldap-ca.pem\"";
        assert!(example.contains(line));
        let text = example.replace(line, &format!("ca_file = {:?}", pem.display().to_string()));
        let config = parse(Path::new("/etc/trailgate/directory-sync.toml"), &text).unwrap();
        let (path, certs) = config.ldap.ca.unwrap();
        assert_eq!((path, certs.len()), (pem, 1));
        // The same line naming a file that is not there: an error at it.
        let missing = example.replace(line, "ca_file = \"/nonexistent/ca.pem\"");
        let err = parse(Path::new("/etc/trailgate/s.toml"), &missing)
            .unwrap_err()
            .to_string();
        let at = missing
            .lines()
            .position(|l| l.starts_with("ca_file"))
            .unwrap()
            + 1;
        assert!(
            err.contains(&format!(
                "/etc/trailgate/s.toml:{at}:11: ca_file /nonexistent/ca.pem: cannot read it"
            )),
            "{err}"
        );
    }
}
