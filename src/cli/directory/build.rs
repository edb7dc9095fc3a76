//! From LDAP entries to the directory file's text: pure, deterministic
//! (people by id, every list sorted and without duplicates), and strict:
//! an entry with no id, two ids, an id trailgate cannot use, a value that
//! is not UTF-8 or holds control characters, or an id, e-mail or login
//! that another entry has too, is listed by DN; nothing is written unless
//! the configuration says to skip such entries. The text is in the plain
//! layout the hook's fast reader takes (src/policy/directory/fast.rs).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use super::config::{GroupMap, People};

/// One LDAP entry: its DN and its attributes (names lower-cased).
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub dn: String,
    pub attrs: BTreeMap<String, Vec<Vec<u8>>>,
}

impl Entry {
    fn values(&self, attr: &str) -> &[Vec<u8>] {
        self.attrs.get(attr).map_or(&[], Vec::as_slice)
    }
}

/// An LDAP group's members: DNs (`member`, `uniqueMember`) and ids
/// (`memberUid`).
#[derive(Debug, Clone, Default)]
pub struct GroupEntry {
    pub member_dns: Vec<Vec<u8>>,
    pub member_uids: Vec<Vec<u8>>,
}

/// A person as written.
#[derive(Debug, Default, PartialEq, Eq)]
struct Person {
    dn: String,
    name: Option<String>,
    emails: BTreeSet<String>,
    logins: BTreeSet<String>,
    ssh_keys: BTreeSet<String>,
    gpg_keys: BTreeSet<String>,
}

/// What a sync produced.
#[derive(Debug)]
pub struct Built {
    /// The directory file's text.
    pub text: String,
    pub people: usize,
    /// Group name -> member count, in the configuration's order.
    pub groups: Vec<(String, usize)>,
    /// Entries left out (with `invalid_entries = "skip"`), and group
    /// members that are not among the people (left, or outside the filter).
    pub warnings: Vec<String>,
    /// Entries that cannot become people (with `invalid_entries = "fail"`).
    pub invalid: Vec<String>,
    /// Groups that cannot be counted (nested too deep): nothing is written.
    pub errors: Vec<String>,
}

/// A DN compared as LDAP would for the common cases: ignoring ASCII case and
/// spaces around `,` and `=`.
pub fn normal_dn(dn: &str) -> String {
    let mut out = String::with_capacity(dn.len());
    for part in dn.split(',') {
        if !out.is_empty() {
            out.push(',');
        }
        match part.split_once('=') {
            Some((k, v)) => {
                out.push_str(&k.trim().to_ascii_lowercase());
                out.push('=');
                out.push_str(&v.trim().to_lowercase());
            }
            None => out.push_str(&part.trim().to_lowercase()),
        }
    }
    out
}

/// Builds the directory file from the people's entries and, for each group
/// with `members_of`, the LDAP groups' entries (by the DN configured).
pub fn build(
    generated: &str,
    people_map: &People,
    groups: &[GroupMap],
    entries: &[Entry],
    ldap_groups: &HashMap<String, GroupEntry>,
) -> Built {
    let mut invalid = Vec::new();
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.dn.cmp(&b.dn));
    let mut candidates = Vec::new();
    for entry in sorted {
        match person(people_map, entry) {
            Err(why) => invalid.push(format!("{}: {why}", entry.dn)),
            Ok(p) => candidates.push(p),
        }
    }
    // Every entry that shares an id, e-mail or login with another is
    // refused (all of them, not all but the first: which one is the real
    // person is not the sync's to guess).
    let mut holders: HashMap<(&str, String), Vec<usize>> = HashMap::new();
    for (i, (id, p)) in candidates.iter().enumerate() {
        let values = std::iter::once(("id", id.clone()))
            .chain(p.emails.iter().map(|e| ("e-mail", e.clone())))
            .chain(p.logins.iter().map(|l| ("login", l.clone())));
        for key in values {
            holders.entry(key).or_default().push(i);
        }
    }
    let mut refused = vec![None; candidates.len()];
    let mut shared: Vec<_> = holders.iter().filter(|(_, h)| h.len() > 1).collect();
    shared.sort();
    for ((kind, value), holders) in shared {
        for &i in holders {
            let (Some(None), Some((_, me))) = (refused.get(i), candidates.get(i)) else {
                continue;
            };
            let others: Vec<&str> = holders
                .iter()
                .filter(|&&j| j != i)
                .filter_map(|&j| candidates.get(j).map(|(_, p)| p.dn.as_str()))
                .collect();
            let what = if *kind == "id" {
                format!(
                    "{} `{value}` is also the id of {}; ids must be unique",
                    people_map.id,
                    others.join(", ")
                )
            } else {
                format!("{kind} `{value}` also belongs to {}; an e-mail or login can belong to one person only", others.join(", "))
            };
            let why = format!("{}: {what}", me.dn);
            if let Some(slot) = refused.get_mut(i) {
                *slot = Some(why);
            }
        }
    }
    let mut people: BTreeMap<String, Person> = BTreeMap::new();
    let mut by_dn: HashMap<String, String> = HashMap::new();
    for ((id, p), refused) in candidates.into_iter().zip(refused) {
        if let Some(why) = refused {
            invalid.push(why);
            continue;
        }
        by_dn.insert(normal_dn(&p.dn), id.clone());
        people.insert(id, p);
    }
    let entry_of: HashMap<&str, &Entry> = entries.iter().map(|e| (e.dn.as_str(), e)).collect();
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    let mut group_members: Vec<(String, BTreeSet<String>)> = Vec::new();
    for g in groups {
        let mut members = BTreeSet::new();
        let nested = super::nested::expand(&g.members_of, ldap_groups);
        for cycle in &nested.cycles {
            warnings.push(format!(
                "group {}: LDAP groups nest in a cycle: {cycle} (each member is counted once)",
                g.name
            ));
        }
        for chain in &nested.too_deep {
            errors.push(format!(
                "group {}: LDAP groups nest deeper than {} levels: {chain}",
                g.name,
                super::nested::MAX_DEPTH
            ));
        }
        for m in &nested.member_dns {
            match by_dn.get(&super::nested::member_dn(m)) {
                Some(id) => {
                    members.insert(id.clone());
                }
                None => warnings.push(format!(
                    "group {}: member {} is not among the people found (left out)",
                    g.name,
                    String::from_utf8_lossy(m)
                )),
            }
        }
        for uid in &nested.member_uids {
            let uid = String::from_utf8_lossy(uid).trim().to_owned();
            if people.contains_key(&uid) {
                members.insert(uid);
            } else {
                warnings.push(format!(
                    "group {}: memberUid {uid} is not among the people found (left out)",
                    g.name
                ));
            }
        }
        if let Some((attr, values)) = &g.attribute {
            for (id, p) in &people {
                let Some(entry) = entry_of.get(p.dn.as_str()) else {
                    continue;
                };
                let has = entry.values(attr).iter().any(|v| {
                    let v = String::from_utf8_lossy(v);
                    values
                        .iter()
                        .any(|want| want.eq_ignore_ascii_case(v.trim()))
                });
                if has {
                    members.insert(id.clone());
                }
            }
        }
        group_members.push((g.name.clone(), members));
    }
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# Written by `trailgate directory sync`; changes made here are overwritten."
    );
    let _ = writeln!(text, "generated = {generated}");
    for (id, p) in &people {
        let _ = writeln!(text, "\n[people.{}]", key(id));
        if let Some(name) = &p.name {
            let _ = writeln!(text, "name = {}", string(name));
        }
        for (k, list) in [
            ("emails", &p.emails),
            ("logins", &p.logins),
            ("ssh_keys", &p.ssh_keys),
            ("gpg_keys", &p.gpg_keys),
        ] {
            if !list.is_empty() {
                let items: Vec<String> = list.iter().map(|s| string(s)).collect();
                let _ = writeln!(text, "{k} = [{}]", items.join(", "));
            }
        }
    }
    text.push_str("\n[groups]\n");
    for (name, members) in &group_members {
        let items: Vec<String> = members.iter().map(|s| string(s)).collect();
        let _ = writeln!(text, "{name} = [{}]", items.join(", "));
    }
    Built {
        text,
        people: people.len(),
        groups: group_members
            .iter()
            .map(|(n, m)| (n.clone(), m.len()))
            .collect(),
        warnings,
        invalid,
        errors,
    }
}

/// One entry as a person, or why it cannot be one.
fn person(map: &People, entry: &Entry) -> Result<(String, Person), String> {
    let text = |attr: &str, v: &[u8], multiline: bool| -> Result<String, String> {
        let s = std::str::from_utf8(v)
            .map_err(|_| format!("{attr} holds a value that is not UTF-8 text"))?;
        let s = s.trim();
        if s.chars()
            .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\r')))
        {
            return Err(format!("{attr} value {s:?} holds control characters"));
        }
        Ok(s.to_owned())
    };
    let ids = entry.values(&map.id);
    let id = match ids {
        [one] => text(&map.id, one, false)?,
        [] => return Err(format!("it has no {} (the person id attribute)", map.id)),
        _ => {
            return Err(format!(
                "it has {} values of {}; the person id attribute must have one",
                ids.len(),
                map.id
            ))
        }
    };
    if id.is_empty()
        || id.contains('@')
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(format!("{} `{id}` cannot be a trailgate person id (ASCII letters, digits, `-`, `_` and `.` only); map people.id to another attribute", map.id));
    }
    let mut p = Person {
        dn: entry.dn.clone(),
        ..Person::default()
    };
    if let Some(attr) = &map.name {
        let mut names = BTreeSet::new();
        for v in entry.values(attr) {
            names.insert(text(attr, v, false)?);
        }
        // Several values (cn often has them): the first in order, so that
        // the same answer always writes the same name.
        p.name = names.into_iter().find(|n| !n.is_empty());
    }
    for attr in &map.emails {
        for v in entry.values(attr) {
            let e = text(attr, v, false)?;
            if !e.contains('@') || e.contains(char::is_whitespace) {
                return Err(format!("{attr} value `{e}` is not an e-mail address"));
            }
            p.emails.insert(e.to_ascii_lowercase());
        }
    }
    for attr in &map.logins {
        for v in entry.values(attr) {
            let l = text(attr, v, false)?;
            if !l.is_empty() {
                p.logins.insert(l);
            }
        }
    }
    for attr in &map.ssh_keys {
        for v in entry.values(attr) {
            let k = text(attr, v, false)?;
            if !k.is_empty() {
                p.ssh_keys.insert(k);
            }
        }
    }
    for attr in &map.gpg_keys {
        for v in entry.values(attr) {
            let k = text(attr, v, true)?.replace("\r\n", "\n");
            if !k.is_empty() {
                p.gpg_keys.insert(k);
            }
        }
    }
    Ok((id, p))
}

/// A person id as a TOML key: bare when it can be (the fast reader's
/// layout), quoted otherwise.
fn key(id: &str) -> String {
    if id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        id.to_owned()
    } else {
        string(id)
    }
}

/// A TOML basic string.
fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> People {
        People {
            bases: vec!["ou=people,dc=x".into()],
            filter: "(objectClass=*)".into(),
            id: "uid".into(),
            name: Some("cn".into()),
            emails: vec!["mail".into()],
            logins: vec!["uid".into()],
            ssh_keys: vec!["sshpublickey".into()],
            gpg_keys: vec![],
        }
    }

    fn entry(dn: &str, attrs: &[(&str, &[u8])]) -> Entry {
        let mut e = Entry {
            dn: dn.into(),
            ..Entry::default()
        };
        for (k, v) in attrs {
            e.attrs.entry((*k).to_owned()).or_default().push(v.to_vec());
        }
        e
    }

    #[test]
    fn the_same_answer_in_any_order_writes_the_same_file() {
        let a = entry(
            "uid=a,ou=people,dc=x",
            &[
                ("uid", b"a"),
                ("mail", b"A@x.org"),
                ("cn", b"Zed"),
                ("cn", b"Ann \"Q\" \\ A"),
            ],
        );
        let b = entry(
            "uid=b,ou=people,dc=x",
            &[("uid", b"b"), ("mail", b"b@x.org"), ("title", b"Senior")],
        );
        let groups = vec![GroupMap {
            name: "senior".into(),
            members_of: vec![],
            attribute: Some(("title".into(), vec!["senior".into()])),
        }];
        let one = build(
            "2026-01-01T00:00:00Z",
            &map(),
            &groups,
            &[a.clone(), b.clone()],
            &HashMap::new(),
        );
        let two = build(
            "2026-01-01T00:00:00Z",
            &map(),
            &groups,
            &[b, a],
            &HashMap::new(),
        );
        assert_eq!(one.text, two.text);
        assert!(
            one.text.contains("name = \"Ann \\\"Q\\\" \\\\ A\""),
            "{}",
            one.text
        );
        assert!(one.text.contains("emails = [\"a@x.org\"]"), "{}", one.text);
        assert!(one.text.contains("senior = [\"b\"]"), "{}", one.text);
        let parsed: toml::Value = toml::from_str(&one.text).unwrap();
        assert_eq!(
            parsed["people"]["a"]["name"].as_str(),
            Some("Ann \"Q\" \\ A")
        );
    }

    #[test]
    fn bad_entries_are_listed_by_dn() {
        let entries = [
            entry("uid=a,dc=x", &[("uid", b"a"), ("mail", b"a@x.org")]),
            entry("uid=a2,dc=x", &[("uid", b"a"), ("mail", b"a2@x.org")]),
            entry("uid=c,dc=x", &[("uid", b"c"), ("mail", b"A@x.org")]),
            entry("uid=d,dc=x", &[("uid", "dé".as_bytes())]),
            entry("uid=e,dc=x", &[("uid", b"e"), ("cn", b"line\nbreak")]),
            entry("uid=f,dc=x", &[("uid", b"f"), ("uid", b"g")]),
            entry("uid=h,dc=x", &[("uid", b"h"), ("mail", b"\xff@x")]),
            entry("cn=nobody,dc=x", &[]),
        ];
        let built = build(
            "2026-01-01T00:00:00Z",
            &map(),
            &[],
            &entries,
            &HashMap::new(),
        );
        assert_eq!(built.people, 0, "{:#?}", built.invalid);
        let all = built.invalid.join("\n");
        for needle in [
            "uid=a2,dc=x: uid `a` is also the id of uid=a,dc=x",
            "uid=a,dc=x: e-mail `a@x.org` also belongs to uid=c,dc=x",
            "uid=c,dc=x: e-mail `a@x.org` also belongs to uid=a,dc=x",
            "uid=d,dc=x: uid `dé` cannot be a trailgate person id",
            "uid=e,dc=x: cn value \"line\\nbreak\" holds control characters",
            "uid=f,dc=x: it has 2 values of uid",
            "uid=h,dc=x: mail holds a value that is not UTF-8",
            "cn=nobody,dc=x: it has no uid",
        ] {
            assert!(all.contains(needle), "missing {needle:?} in\n{all}");
        }
    }

    #[test]
    fn group_members_match_by_dn_ignoring_case_and_spaces() {
        let entries = [entry(
            "uid=a,ou=People,dc=x",
            &[("uid", b"a"), ("mail", b"a@x.org")],
        )];
        let groups = vec![GroupMap {
            name: "senior".into(),
            members_of: vec!["cn=Senior, ou=groups,dc=x".into()],
            attribute: None,
        }];
        let mut ldap = HashMap::new();
        ldap.insert(
            normal_dn("cn=senior,ou=groups,dc=x"),
            GroupEntry {
                member_dns: vec![b"UID=a, ou=people,DC=x".to_vec(), b"uid=gone,dc=x".to_vec()],
                member_uids: vec![],
            },
        );
        let built = build("2026-01-01T00:00:00Z", &map(), &groups, &entries, &ldap);
        assert!(built.text.contains("senior = [\"a\"]"), "{}", built.text);
        assert_eq!(built.groups, vec![("senior".to_owned(), 1)]);
        assert!(
            built.warnings.iter().any(|w| w.contains("uid=gone,dc=x")),
            "{:?}",
            built.warnings
        );
    }
}
