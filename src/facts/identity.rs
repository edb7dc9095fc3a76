//! Identities: the people and groups of the policy, and how a commit's
//! author, an approval trailer or the pusher is matched to them.
//!
//! E-mail addresses are compared ASCII-case-insensitively as bytes; a person
//! joins several e-mails and host logins into one identity, so that one human
//! is counted once. This module does not read commits or the environment
//! (the pusher comes from [`crate::host`]); it answers "who is this?" and
//! "is this one in that group?".

use std::collections::HashMap;
use std::sync::Arc;

use globset::GlobMatcher;

/// A person of the policy's `[people]` table.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub name: Option<String>,
    /// Lower-cased.
    pub emails: Vec<String>,
    pub logins: Vec<String>,
    pub ssh_keys: Vec<String>,
    /// Immutable user ids on a host, as `HOST:ID` (`gitlab:user-42`,
    /// `gitea:17`).
    pub user_ids: Vec<String>,
    /// How many OpenPGP keys (`gpg_keys`) the person has; the keys
    /// themselves live in the policy's key ring, parsed on first use.
    pub gpg_keys: usize,
}

/// One entry of a group.
#[derive(Debug, Clone)]
pub enum Member {
    Person(usize),
    /// Lower-cased.
    Email(String),
    Glob {
        pattern: String,
        matcher: GlobMatcher,
    },
}

#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub members: Vec<Member>,
}

/// Index of a group in [`Directory::groups`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupId(pub usize);

/// Who someone is, as far as the policy can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// A person of `[people]`.
    Person(usize),
    /// An e-mail address (lower-cased) that belongs to no person.
    Email(Vec<u8>),
    /// Nothing the policy can match (a name without an e-mail, an unknown login).
    Unknown,
}

/// People read on first use, from a directory file too large to read
/// whole when a hook starts (see `policy::directory::lazy`). Their indexes
/// follow those of the people read at once: person `i` of a lazy source is
/// `Who::Person(directory's own people + i)`.
pub trait LazyPeople: Send + Sync + std::fmt::Debug {
    /// How many people the source holds.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Person `i`, read when first asked for; `None` when it cannot be
    /// read (the problem is recorded for [`Self::problems`]).
    fn person(&self, i: usize) -> Option<&Person>;
    fn by_id(&self, id: &str) -> Option<usize>;
    /// By a lower-cased e-mail address.
    fn by_email(&self, email: &[u8]) -> Option<usize>;
    fn by_login(&self, login: &str) -> Option<usize>;
    /// By `HOST:ID`.
    fn by_user_id(&self, key: &str) -> Option<usize>;
    /// The SSH keys (`type base64 [comment]`) whose base64 blob is `blob`,
    /// with whose they are.
    fn ssh_keys_with_blob(&self, blob: &str) -> Vec<(String, usize)>;
    /// Every SSH key, with whose it is.
    fn all_ssh_keys(&self) -> Vec<(String, usize)>;
    /// Every OpenPGP key (armoured), with whose it is.
    fn all_gpg_keys(&self) -> Vec<(String, usize)>;
    /// What was wrong with the entries read so far: a push that needed
    /// one of them cannot be judged.
    fn problems(&self) -> Vec<String>;
}

/// People and groups, indexed for lookups.
#[derive(Debug, Default)]
pub struct Directory {
    people: Vec<Person>,
    pub groups: Vec<Group>,
    by_id: HashMap<String, usize>,
    by_email: HashMap<Vec<u8>, usize>,
    by_login: HashMap<String, usize>,
    group_by_name: HashMap<String, usize>,
    /// The directory file's people, when read on first use.
    lazy: Option<Arc<dyn LazyPeople>>,
}

impl Directory {
    /// Builds the indexes. The caller (policy validation) has already checked
    /// that ids, e-mails and logins are unique.
    pub fn new(people: Vec<Person>, groups: Vec<Group>) -> Self {
        let mut dir = Directory {
            people,
            groups,
            ..Directory::default()
        };
        for (i, p) in dir.people.iter().enumerate() {
            dir.by_id.insert(p.id.clone(), i);
            for e in &p.emails {
                dir.by_email.insert(e.as_bytes().to_vec(), i);
            }
            for l in &p.logins {
                dir.by_login.insert(l.clone(), i);
            }
        }
        for (i, g) in dir.groups.iter().enumerate() {
            dir.group_by_name.insert(g.name.clone(), i);
        }
        dir
    }

    /// [`Self::new`] with more people read on first use, numbered after
    /// `people`.
    pub fn with_lazy(people: Vec<Person>, groups: Vec<Group>, lazy: Arc<dyn LazyPeople>) -> Self {
        Directory {
            lazy: Some(lazy),
            ..Directory::new(people, groups)
        }
    }

    /// How many people there are.
    pub fn len(&self) -> usize {
        self.people.len() + self.lazy.as_ref().map_or(0, |l| l.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Person `i` (a directory file's person is read now if not yet).
    pub fn person(&self, i: usize) -> Option<&Person> {
        match self.people.get(i) {
            Some(p) => Some(p),
            None => self.lazy.as_ref()?.person(i - self.people.len()),
        }
    }

    /// Every person, reading every one of a directory file (for messages
    /// and `check`, not for judging).
    pub fn people(&self) -> impl Iterator<Item = &Person> + '_ {
        (0..self.len()).filter_map(|i| self.person(i))
    }

    /// What was wrong with the directory file's entries that were read on
    /// first use; a push judged with any of them must be rejected.
    pub fn problems(&self) -> Vec<String> {
        self.lazy.as_ref().map_or_else(Vec::new, |l| l.problems())
    }

    fn lazy_index(&self, found: Option<usize>) -> Option<usize> {
        found.map(|i| i + self.people.len())
    }

    pub fn person_by_id(&self, id: &str) -> Option<usize> {
        self.by_id
            .get(id)
            .copied()
            .or_else(|| self.lazy_index(self.lazy.as_ref()?.by_id(id)))
    }

    fn person_by_login(&self, login: &str) -> Option<usize> {
        self.by_login
            .get(login)
            .copied()
            .or_else(|| self.lazy_index(self.lazy.as_ref()?.by_login(login)))
    }

    fn person_by_email(&self, lower: &[u8]) -> Option<usize> {
        self.by_email
            .get(lower)
            .copied()
            .or_else(|| self.lazy_index(self.lazy.as_ref()?.by_email(lower)))
    }

    fn person_by_user_id(&self, key: &str) -> Option<usize> {
        self.people
            .iter()
            .position(|p| p.user_ids.iter().any(|u| u == key))
            .or_else(|| self.lazy_index(self.lazy.as_ref()?.by_user_id(key)))
    }

    /// Whether the person has keys to sign commits (or pushes) with.
    pub fn has_keys(&self, person: usize) -> bool {
        self.person(person)
            .is_some_and(|p| !p.ssh_keys.is_empty() || p.gpg_keys > 0)
    }

    /// Whether a git host could name the person as the pusher: by a login,
    /// an immutable user id, or a key that signed the push.
    pub fn can_be_pusher(&self, person: usize) -> bool {
        self.person(person).is_some_and(|p| {
            !p.logins.is_empty() || !p.user_ids.is_empty() || !p.ssh_keys.is_empty()
        })
    }

    pub fn group(&self, name: &str) -> Option<GroupId> {
        self.group_by_name.get(name).copied().map(GroupId)
    }

    pub fn group_name(&self, id: GroupId) -> &str {
        self.groups.get(id.0).map_or("?", |g| g.name.as_str())
    }

    /// The identity behind an e-mail address from a commit.
    pub fn by_email(&self, email: &[u8]) -> Who {
        let email = trim(email).to_ascii_lowercase();
        if email.is_empty() {
            return Who::Unknown;
        }
        match self.person_by_email(&email) {
            Some(i) => Who::Person(i),
            None => Who::Email(email),
        }
    }

    /// The identity an approval trailer's value names: `Name <email>`, a bare
    /// e-mail, or a person id or host login. The name part is ignored: only
    /// the e-mail (or id) identifies, so `Alice <mallory@example.com>` is
    /// Mallory.
    pub fn approver(&self, value: &[u8]) -> Who {
        let value = trim(value);
        if let Some(lt) = value.iter().position(|&b| b == b'<') {
            let rest = value.get(lt + 1..).unwrap_or_default();
            return match rest.iter().position(|&b| b == b'>') {
                Some(gt) => self.by_email(rest.get(..gt).unwrap_or_default()),
                None => Who::Unknown,
            };
        }
        if value.contains(&b'@') {
            if value.iter().any(|b| b.is_ascii_whitespace()) {
                return Who::Unknown;
            }
            return self.by_email(value);
        }
        let Ok(token) = std::str::from_utf8(value) else {
            return Who::Unknown;
        };
        self.person_by_id(token)
            .or_else(|| self.person_by_login(token))
            .map_or(Who::Unknown, Who::Person)
    }

    /// The identity of a pusher known by host login, the host's immutable
    /// user id (`(host, id)`) where it gives one, and an e-mail address the
    /// caller trusts. The id wins: a person whose `user_ids` list one for
    /// this host is that pusher only with that id, so that a departed
    /// senior's login taken by someone else names nobody, and a renamed
    /// login still names its person.
    pub fn pusher(&self, login: &str, email: Option<&str>, user_id: Option<(&str, &str)>) -> Who {
        if let Some((host, id)) = user_id {
            let key = format!("{host}:{id}");
            if let Some(i) = self.person_by_user_id(&key) {
                return Who::Person(i);
            }
        }
        if let Some(i) = self.person_by_login(login) {
            let pinned = user_id.is_some_and(|(host, _)| {
                self.person(i).is_some_and(|p| {
                    p.user_ids
                        .iter()
                        .any(|u| u.split_once(':').is_some_and(|(h, _)| h == host))
                })
            });
            return if pinned { Who::Unknown } else { Who::Person(i) };
        }
        match email {
            Some(e) => self.by_email(e.as_bytes()),
            None => Who::Unknown,
        }
    }

    /// Whether `who` belongs to the group. A person belongs when the group
    /// names them, or names or matches any one of their e-mail addresses.
    pub fn in_group(&self, who: &Who, group: GroupId) -> bool {
        let Some(group) = self.groups.get(group.0) else {
            return false;
        };
        if let Who::Person(q) = who {
            // A directory file's person is read (and checked) before
            // anything is decided about them.
            if self.person(*q).is_none() {
                return false;
            }
        }
        group.members.iter().any(|m| match (m, who) {
            (_, Who::Unknown) => false,
            (Member::Person(p), Who::Person(q)) => p == q,
            (Member::Person(_), Who::Email(_)) => false,
            (Member::Email(e), Who::Person(q)) => self
                .person(*q)
                .is_some_and(|p| p.emails.iter().any(|x| x == e)),
            (Member::Email(e), Who::Email(x)) => e.as_bytes() == x.as_slice(),
            (Member::Glob { matcher, .. }, Who::Person(q)) => self
                .person(*q)
                .is_some_and(|p| p.emails.iter().any(|x| matcher.is_match(x))),
            (Member::Glob { matcher, .. }, Who::Email(x)) => {
                matcher.is_match(String::from_utf8_lossy(x).as_ref())
            }
        })
    }

    pub fn in_any(&self, who: &Who, groups: &[GroupId]) -> bool {
        groups.iter().any(|&g| self.in_group(who, g))
    }

    /// A short description for messages: the person's id and name, or the e-mail.
    pub fn describe(&self, who: &Who) -> String {
        match who {
            Who::Person(i) => match self.person(*i) {
                Some(p) => match &p.name {
                    Some(name) => format!("{} ({name})", p.id),
                    None => p.id.clone(),
                },
                None => "?".into(),
            },
            Who::Email(e) => format!("<{}>", String::from_utf8_lossy(e)),
            Who::Unknown => "nobody the policy knows".into(),
        }
    }
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    s.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> Directory {
        let people = vec![
            Person {
                id: "alice".into(),
                name: Some("Alice Example".into()),
                emails: vec!["alice@example.com".into(), "alice@home.example".into()],
                logins: vec!["alice1".into()],
                ssh_keys: vec![],
                user_ids: vec!["gitlab:user-1".into()],
                gpg_keys: 0,
            },
            Person {
                id: "bob".into(),
                name: None,
                emails: vec!["bob@contractor.example".into()],
                logins: vec![],
                ssh_keys: vec![],
                user_ids: vec![],
                gpg_keys: 0,
            },
        ];
        let glob = globset::Glob::new("*@contractor.example")
            .unwrap()
            .compile_matcher();
        let groups = vec![
            Group {
                name: "senior".into(),
                members: vec![Member::Person(0), Member::Email("carol@example.com".into())],
            },
            Group {
                name: "contractors".into(),
                members: vec![Member::Glob {
                    pattern: "*@contractor.example".into(),
                    matcher: glob,
                }],
            },
        ];
        Directory::new(people, groups)
    }

    #[test]
    fn emails_match_people_case_insensitively() {
        let d = dir();
        assert_eq!(d.by_email(b"ALICE@Example.COM"), Who::Person(0));
        assert_eq!(d.by_email(b"alice@home.example"), Who::Person(0));
        assert_eq!(d.by_email(b"x@y"), Who::Email(b"x@y".to_vec()));
        assert_eq!(d.by_email(b""), Who::Unknown);
    }

    #[test]
    fn approvers_are_identified_by_email_not_by_name() {
        let d = dir();
        assert_eq!(
            d.approver(b"Alice Example <alice@example.com>"),
            Who::Person(0)
        );
        assert_eq!(
            d.approver(b"Alice Example <mallory@evil.example>"),
            Who::Email(b"mallory@evil.example".to_vec())
        );
        assert_eq!(d.approver(b"alice@home.example"), Who::Person(0));
        assert_eq!(d.approver(b"alice"), Who::Person(0));
        assert_eq!(d.approver(b"alice1"), Who::Person(0));
        assert_eq!(d.approver(b"Alice Example"), Who::Unknown);
        assert_eq!(d.approver(b"Alice <unterminated"), Who::Unknown);
    }

    #[test]
    fn group_membership_by_person_email_and_glob() {
        let d = dir();
        let senior = d.group("senior").unwrap();
        let contractors = d.group("contractors").unwrap();
        assert!(d.in_group(&Who::Person(0), senior));
        assert!(d.in_group(&d.by_email(b"carol@example.com"), senior));
        assert!(!d.in_group(&Who::Person(1), senior));
        assert!(d.in_group(&Who::Person(1), contractors));
        assert!(d.in_group(&d.by_email(b"eve@contractor.example"), contractors));
        assert!(!d.in_group(&d.by_email(b"eve@contractor.example.evil"), contractors));
        assert!(!d.in_group(&Who::Unknown, senior));
    }

    #[test]
    fn a_pusher_is_matched_by_user_id_then_login_then_email() {
        let d = dir();
        assert_eq!(d.pusher("alice1", None, None), Who::Person(0));
        assert_eq!(
            d.pusher("someone", Some("alice@example.com"), None),
            Who::Person(0)
        );
        assert_eq!(d.pusher("alice", None, None), Who::Unknown);
        assert_eq!(
            d.pusher("x", Some("x@y.example"), None),
            Who::Email(b"x@y.example".to_vec())
        );
        // Renamed: the id still names Alice.
        assert_eq!(
            d.pusher("alice-new", None, Some(("gitlab", "user-1"))),
            Who::Person(0)
        );
        // Her old login, now someone else's account on GitLab: nobody.
        assert_eq!(
            d.pusher("alice1", None, Some(("gitlab", "user-99"))),
            Who::Unknown
        );
        // Another host's id says nothing about her GitLab pin.
        assert_eq!(
            d.pusher("alice1", None, Some(("gitea", "5"))),
            Who::Person(0)
        );
    }
}
