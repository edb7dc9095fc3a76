//! `[people]` and `[groups]`, of the policy and of the directory file:
//! validated into the directory that identities are matched against, with
//! the people's SSH keys parsed once.

use std::collections::{BTreeMap, HashMap};

use globset::GlobBuilder;

use super::validate::Validator;
use super::{raw, valid_rule_name};
use crate::facts::identity::{Directory, Group, Member, Person};
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
}

impl Builder {
    pub(super) fn finish(self) -> (Directory, KeyRing) {
        (Directory::new(self.people, self.groups), self.keys)
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
            if !valid_person_id(&id) {
                v.error(
                    id_span.clone(),
                    format!("person id `{id}` may only use letters, digits, `-`, `_` and `.` (it must not look like an e-mail)"),
                );
            }
            if let Some(at) = self.person_at.get(&id) {
                v.error(
                    id_span,
                    format!("person `{id}` is already defined at {at}; the policy's [people] and the directory file's must not share an id"),
                );
                continue;
            }
            self.person_at.insert(id.clone(), v.place(&id_span));
            let person = person.into_inner();
            let mut emails = Vec::new();
            for email in person.emails {
                let span = email.span();
                let lower = email.into_inner().trim().to_ascii_lowercase();
                if !lower.contains('@') || lower.contains(char::is_whitespace) {
                    v.error(span, format!("`{lower}` is not an e-mail address"));
                    continue;
                }
                if let Some(owner) = self.email_owner.get(&lower) {
                    v.error(span, format!("e-mail `{lower}` already belongs to person `{owner}`; an address can belong to one person only"));
                    continue;
                }
                self.email_owner.insert(lower.clone(), id.clone());
                emails.push(lower);
            }
            let mut logins = Vec::new();
            for login in person.logins {
                let span = login.span();
                let login = login.into_inner();
                if login.trim().is_empty() || login.trim() != login {
                    v.error(
                        span,
                        format!("login `{login}` is empty or has surrounding spaces"),
                    );
                    continue;
                }
                if let Some(owner) = self.login_owner.get(&login) {
                    v.error(
                        span,
                        format!("login `{login}` already belongs to person `{owner}`"),
                    );
                    continue;
                }
                self.login_owner.insert(login.clone(), id.clone());
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
                        v.error(span, "not an OpenSSH public key (`ssh-ed25519 AAAA... comment`, as in a .pub file)");
                        continue;
                    }
                    self.keys.add_text(text.clone(), self.people.len());
                    ssh_keys.push(text);
                    continue;
                }
                match ssh_key::PublicKey::from_openssh(text.trim()) {
                    Ok(_) => {
                        self.keys.add_text(text.clone(), self.people.len());
                        ssh_keys.push(text);
                    }
                    Err(e) => v.error(span, format!("not an OpenSSH public key (`ssh-ed25519 AAAA... comment`, as in a .pub file): {e}")),
                }
            }
            let mut gpg_keys = 0;
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
                self.keys.add_pgp_text(text, self.people.len());
                gpg_keys += 1;
            }
            let mut user_ids = Vec::new();
            for uid in person.user_ids {
                let span = uid.span();
                let text = uid.into_inner();
                match text.split_once(':') {
                    Some((host, uid))
                        if USER_ID_HOSTS.contains(&host) && !uid.trim().is_empty() && uid.trim() == uid =>
                    {
                        if let Some(owner) = self.user_id_owner.get(&text) {
                            v.error(span, format!("user id `{text}` already belongs to person `{owner}`"));
                            continue;
                        }
                        self.user_id_owner.insert(text.clone(), id.clone());
                        user_ids.push(text);
                    }
                    _ => v.error(span, format!("user id `{text}` is not `HOST:ID` with HOST one of {} (for example \"gitlab:user-42\", GitLab's GL_ID, or \"gitea:17\", Gitea's GITEA_PUSHER_ID)", USER_ID_HOSTS.join(", "))),
                }
            }
            self.people.push(Person {
                id,
                name: person.name,
                emails,
                logins,
                ssh_keys,
                user_ids,
                gpg_keys,
            });
        }
    }

    /// Adds the groups of one file; their entries may name the people of
    /// every file (so the people of all files come first).
    pub(super) fn groups(
        &mut self,
        v: &mut Validator<'_>,
        groups: BTreeMap<S<String>, Vec<S<String>>>,
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
                } else if let Some(&i) = people_index.get(entry.as_str()) {
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

fn valid_person_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
