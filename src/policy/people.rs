//! `[people]` and `[groups]`, of the policy and of the directory file:
//! validated into the directory that identities are matched against, with
//! the people's SSH keys parsed once.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use globset::GlobBuilder;

use super::directory::Source;
use super::validate::Validator;
use super::{raw, valid_rule_name};
use crate::facts::identity::{Directory, Group, LazyPeople, Member, Person};
use crate::facts::signature::KeyRing;

type S<T> = toml::Spanned<T>;

/// The hosts that give an immutable user id (`people.*.user_ids`).
const USER_ID_HOSTS: &[&str] = &["gitlab", "gitea"];

/// People and groups as they are validated, from the policy and then from
/// the directory file: ids, e-mails, logins and group names must be unique
/// across both, and a group may name a person of either.
#[derive(Default)]
pub(super) struct Builder {
    keys: KeyRing,
    people: Vec<Person>,
    groups: Vec<Group>,
    /// Where each person id, e-mail, login and group name was first
    /// defined (`file:line`), for clash messages.
    person_at: HashMap<String, String>,
    email_owner: HashMap<String, String>,
    login_owner: HashMap<String, String>,
    user_id_owner: HashMap<String, String>,
    group_at: HashMap<String, String>,
    /// The directory file's people, read on first use (the hook).
    lazy: Option<Box<dyn Source>>,
}

impl Builder {
    pub(super) fn finish(mut self) -> (Directory, KeyRing) {
        match self.lazy {
            Some(lazy) => {
                let lazy: Arc<dyn Source> = Arc::from(lazy);
                let lazy: Arc<dyn LazyPeople> = lazy;
                self.keys.set_lazy(lazy.clone(), self.people.len());
                (
                    Directory::with_lazy(self.people, self.groups, lazy),
                    self.keys,
                )
            }
            None => (Directory::new(self.people, self.groups), self.keys),
        }
    }

    /// The directory file's people, read when first needed, after the
    /// policy's (`v` is the directory file's validator): a person id of
    /// both is an error now, an address, login or user id of both when the
    /// index of its kind is built.
    pub(super) fn lazy_people(&mut self, v: &mut Validator<'_>, mut lazy: Box<dyn Source>) {
        for (id, at) in &self.person_at {
            if let Some((line, column)) = lazy.index_of(id).and_then(|i| lazy.id_at(i)) {
                v.extend(vec![super::Problem {
                    file: Some(lazy.path().to_owned()),
                    line,
                    column,
                    message: format!("person `{id}` is already defined at {at}; the policy's [people] and the directory file's must not share an id"),
                }]);
            }
        }
        let claims = [
            (Claim::Email, &self.email_owner),
            (Claim::Login, &self.login_owner),
            (Claim::UserId, &self.user_id_owner),
        ];
        lazy.policy_claims(
            claims
                .into_iter()
                .flat_map(|(claim, owners)| {
                    owners
                        .iter()
                        .map(move |(name, owner)| (claim, name.clone(), owner.clone()))
                })
                .collect(),
        );
        self.lazy = Some(lazy);
    }

    /// Adds the people of one file, reporting problems through `v`.
    pub(super) fn people(
        &mut self,
        v: &mut Validator<'_>,
        people: BTreeMap<S<String>, S<raw::Person>>,
    ) {
        for (id, person) in people {
            let id_span = id.span();
            let id = id.into_inner();
            if let Some(at) = self.person_at.get(&id) {
                v.error(
                    id_span,
                    format!("person `{id}` is already defined at {at}; the policy's [people] and the directory file's must not share an id"),
                );
                continue;
            }
            self.person_at.insert(id.clone(), v.place(&id_span));
            let index = self.people.len();
            let (email_owner, login_owner, user_id_owner) = (
                &mut self.email_owner,
                &mut self.login_owner,
                &mut self.user_id_owner,
            );
            let (person, gpg_keys) = check_person(
                v,
                S::new(id_span, id.clone()),
                person.into_inner(),
                |claim, name| {
                    let owners = match claim {
                        Claim::Email => &mut *email_owner,
                        Claim::Login => &mut *login_owner,
                        Claim::UserId => &mut *user_id_owner,
                    };
                    match owners.get(name) {
                        Some(owner) => Some(owner.clone()),
                        None => {
                            owners.insert(name.to_owned(), id.clone());
                            None
                        }
                    }
                },
            );
            for key in &person.ssh_keys {
                self.keys.add_text(key.clone(), index);
            }
            for key in gpg_keys {
                self.keys.add_pgp_text(key, index);
            }
            self.people.push(person);
        }
    }

    /// Adds the groups of one file; their entries may name the people of
    /// every file (so the people of all files come first). `of_directory`:
    /// the groups are the directory file's own.
    pub(super) fn groups(
        &mut self,
        v: &mut Validator<'_>,
        groups: BTreeMap<S<String>, Vec<S<String>>>,
        of_directory: bool,
    ) {
        let people_index: HashMap<&str, usize> = self
            .people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.as_str(), i))
            .collect();
        for (name, entries) in groups {
            let name_span = name.span();
            let name = name.into_inner();
            if !valid_rule_name(&name) {
                v.error(
                    name_span.clone(),
                    format!("group name `{name}` may only use a-z, 0-9 and `-`"),
                );
            }
            if let Some(at) = self.group_at.get(&name) {
                v.error(
                    name_span,
                    format!("group `{name}` is already defined at {at}; the policy's [groups] and the directory file's must not share a name"),
                );
                continue;
            }
            self.group_at.insert(name.clone(), v.place(&name_span));
            let mut members = Vec::new();
            for entry in entries {
                let span = entry.span();
                let entry = entry.into_inner();
                if entry.contains('@') {
                    let lower = entry.trim().to_ascii_lowercase();
                    if lower.contains(['*', '?', '[', '{']) {
                        match GlobBuilder::new(&lower).literal_separator(false).build() {
                            Ok(glob) => members.push(Member::Glob {
                                pattern: lower,
                                matcher: glob.compile_matcher(),
                            }),
                            Err(e) => v.error(
                                span,
                                format!("invalid e-mail glob `{entry}`: {}", e.kind()),
                            ),
                        }
                    } else {
                        members.push(Member::Email(lower));
                    }
                } else if let Some(i) = people_index.get(entry.as_str()).copied().or_else(|| {
                    let lazy = self.lazy.as_ref()?;
                    let found = if of_directory {
                        lazy.group_entry(&entry, span.start)
                    } else {
                        lazy.index_of(&entry)
                    };
                    Some(self.people.len() + found?)
                }) {
                    members.push(Member::Person(i));
                } else {
                    v.error(
                        span,
                        format!("unknown person `{entry}` in group `{name}`; group entries are person ids from [people], e-mail addresses, or e-mail globs (\"*@example.com\")"),
                    );
                }
            }
            self.groups.push(Group { name, members });
        }
    }
}

/// What a person claims that no one else may: for [`check_person`]'s
/// question "who has this already?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Claim {
    Email,
    Login,
    UserId,
}

/// One person's entry checked, each problem reported through `v` (an
/// entry with a problem is left out; the file is invalid anyway), and the
/// person with their OpenPGP keys' text. `taken(claim, name)` names the
/// person who already has that e-mail (lower-cased), login or user id, and
/// otherwise records this one's. With `v.thorough()`, every key is parsed;
/// otherwise (the hook) only its shape is checked.
pub(super) fn check_person(
    v: &mut Validator<'_>,
    id: S<String>,
    person: raw::Person,
    mut taken: impl FnMut(Claim, &str) -> Option<String>,
) -> (Person, Vec<String>) {
    let id_span = id.span();
    let id = id.into_inner();
    if !valid_person_id(&id) {
        v.error(
            id_span,
            format!("person id `{id}` may only use letters, digits, `-`, `_` and `.` (it must not look like an e-mail)"),
        );
    }
    let mut emails = Vec::new();
    for email in person.emails {
        let span = email.span();
        let lower = email.into_inner().trim().to_ascii_lowercase();
        if let Some(message) = email_problem(&lower) {
            v.error(span, message);
            continue;
        }
        if let Some(owner) = taken(Claim::Email, &lower) {
            v.error(span, format!("e-mail `{lower}` already belongs to person `{owner}`; an address can belong to one person only"));
            continue;
        }
        emails.push(lower);
    }
    let mut logins = Vec::new();
    for login in person.logins {
        let span = login.span();
        let login = login.into_inner();
        if let Some(message) = login_problem(&login) {
            v.error(span, message);
            continue;
        }
        if let Some(owner) = taken(Claim::Login, &login) {
            v.error(
                span,
                format!("login `{login}` already belongs to person `{owner}`"),
            );
            continue;
        }
        logins.push(login);
    }
    let mut ssh_keys = Vec::new();
    for key in person.ssh_keys {
        let span = key.span();
        let text = key.into_inner();
        if !v.thorough() {
            // The hook: the file was validated when it was written
            // (`sync`, `check`); keys are parsed when a signature
            // needs them, and one that does not parse matches nothing.
            if crate::facts::signature::blob(&text).is_none() {
                v.error(span, SSH_KEY_PROBLEM);
                continue;
            }
            ssh_keys.push(text);
            continue;
        }
        match ssh_key::PublicKey::from_openssh(text.trim()) {
            Ok(_) => ssh_keys.push(text),
            Err(e) => v.error(span, format!("{SSH_KEY_PROBLEM}: {e}")),
        }
    }
    let mut gpg_keys = Vec::new();
    for key in person.gpg_keys {
        let span = key.span();
        let text = key.into_inner();
        let trimmed = text.trim();
        if !(trimmed.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----")
            && trimmed.ends_with("-----END PGP PUBLIC KEY BLOCK-----"))
        {
            v.error(span, "not an ASCII-armoured OpenPGP public key (`gpg --armor --export KEYID`: from `-----BEGIN PGP PUBLIC KEY BLOCK-----` to `-----END PGP PUBLIC KEY BLOCK-----`)");
            continue;
        }
        if v.thorough() {
            if let Err(e) = crate::facts::signature::openpgp::parse_key(trimmed) {
                v.error(span, format!("not a usable OpenPGP public key: {e}"));
                continue;
            }
        }
        gpg_keys.push(text);
    }
    let mut user_ids = Vec::new();
    for uid in person.user_ids {
        let span = uid.span();
        let text = uid.into_inner();
        if let Some(message) = user_id_problem(&text) {
            v.error(span, message);
            continue;
        }
        if let Some(owner) = taken(Claim::UserId, &text) {
            v.error(
                span,
                format!("user id `{text}` already belongs to person `{owner}`"),
            );
            continue;
        }
        user_ids.push(text);
    }
    let person = Person {
        id,
        name: person.name,
        emails,
        logins,
        ssh_keys,
        user_ids,
        gpg_keys: gpg_keys.len(),
    };
    (person, gpg_keys)
}

pub(super) const SSH_KEY_PROBLEM: &str =
    "not an OpenSSH public key (`ssh-ed25519 AAAA... comment`, as in a .pub file)";

/// What is wrong with a (lower-cased, trimmed) e-mail address of a person.
pub(super) fn email_problem(lower: &str) -> Option<String> {
    (!lower.contains('@') || lower.contains(char::is_whitespace))
        .then(|| format!("`{lower}` is not an e-mail address"))
}

/// What is wrong with a person's host login.
pub(super) fn login_problem(login: &str) -> Option<String> {
    (login.trim().is_empty() || login.trim() != login)
        .then(|| format!("login `{login}` is empty or has surrounding spaces"))
}

/// What is wrong with a person's `HOST:ID` user id.
pub(super) fn user_id_problem(text: &str) -> Option<String> {
    match text.split_once(':') {
        Some((host, uid))
            if USER_ID_HOSTS.contains(&host) && !uid.trim().is_empty() && uid.trim() == uid =>
        {
            None
        }
        _ => Some(format!("user id `{text}` is not `HOST:ID` with HOST one of {} (for example \"gitlab:user-42\", GitLab's GL_ID, or \"gitea:17\", Gitea's GITEA_PUSHER_ID)", USER_ID_HOSTS.join(", "))),
    }
}

fn valid_person_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
