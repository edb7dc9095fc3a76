//! `[people]` and `[groups]`: validated into the directory that identities
//! are matched against, with the people's SSH keys parsed once.

use std::collections::{BTreeMap, HashMap};

use globset::GlobBuilder;

use super::validate::Validator;
use super::{raw, valid_rule_name};
use crate::facts::identity::{Directory, Group, Member, Person};
use crate::facts::signature::KeyRing;

type S<T> = toml::Spanned<T>;

/// The hosts that give an immutable user id (`people.*.user_ids`).
const USER_ID_HOSTS: &[&str] = &["gitlab", "gitea"];

impl Validator<'_> {
    pub(super) fn directory(
        &mut self,
        people: BTreeMap<S<String>, S<raw::Person>>,
        groups: BTreeMap<S<String>, Vec<S<String>>>,
    ) -> (Directory, KeyRing) {
        let mut keys = KeyRing::default();
        let mut out_people = Vec::new();
        let mut email_owner: HashMap<String, String> = HashMap::new();
        let mut login_owner: HashMap<String, String> = HashMap::new();
        let mut user_id_owner: HashMap<String, String> = HashMap::new();
        for (id, person) in people {
            let id_span = id.span();
            let id = id.into_inner();
            if !valid_person_id(&id) {
                self.error(
                    id_span.clone(),
                    format!("person id `{id}` may only use letters, digits, `-`, `_` and `.` (it must not look like an e-mail)"),
                );
            }
            let person = person.into_inner();
            let id_of_person = id.clone();
            let mut emails = Vec::new();
            for email in person.emails {
                let span = email.span();
                let lower = email.into_inner().trim().to_ascii_lowercase();
                if !lower.contains('@') || lower.contains(char::is_whitespace) {
                    self.error(span, format!("`{lower}` is not an e-mail address"));
                    continue;
                }
                if let Some(owner) = email_owner.get(&lower) {
                    self.error(span, format!("e-mail `{lower}` already belongs to person `{owner}`; an address can belong to one person only"));
                    continue;
                }
                email_owner.insert(lower.clone(), id.clone());
                emails.push(lower);
            }
            let mut logins = Vec::new();
            for login in person.logins {
                let span = login.span();
                let login = login.into_inner();
                if login.trim().is_empty() || login.trim() != login {
                    self.error(
                        span,
                        format!("login `{login}` is empty or has surrounding spaces"),
                    );
                    continue;
                }
                if let Some(owner) = login_owner.get(&login) {
                    self.error(
                        span,
                        format!("login `{login}` already belongs to person `{owner}`"),
                    );
                    continue;
                }
                login_owner.insert(login.clone(), id.clone());
                logins.push(login);
            }
            let mut ssh_keys = Vec::new();
            for key in person.ssh_keys {
                let span = key.span();
                let text = key.into_inner();
                match ssh_key::PublicKey::from_openssh(text.trim()) {
                    Ok(parsed) => {
                        keys.add(parsed, out_people.len());
                        ssh_keys.push(text);
                    }
                    Err(e) => self.error(span, format!("not an OpenSSH public key (`ssh-ed25519 AAAA... comment`, as in a .pub file): {e}")),
                }
            }
            let mut user_ids = Vec::new();
            for uid in person.user_ids {
                let span = uid.span();
                let text = uid.into_inner();
                match text.split_once(':') {
                    Some((host, id))
                        if USER_ID_HOSTS.contains(&host) && !id.trim().is_empty() && id.trim() == id =>
                    {
                        if let Some(owner) = user_id_owner.get(&text) {
                            self.error(span, format!("user id `{text}` already belongs to person `{owner}`"));
                            continue;
                        }
                        user_id_owner.insert(text.clone(), id_of_person.clone());
                        user_ids.push(text);
                    }
                    _ => self.error(span, format!("user id `{text}` is not `HOST:ID` with HOST one of {} (for example \"gitlab:user-42\", GitLab's GL_ID, or \"gitea:17\", Gitea's GITEA_PUSHER_ID)", USER_ID_HOSTS.join(", "))),
                }
            }
            out_people.push(Person {
                id,
                name: person.name,
                emails,
                logins,
                ssh_keys,
                user_ids,
            });
        }
        let people_index: HashMap<String, usize> = out_people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();
        let mut out_groups = Vec::new();
        for (name, entries) in groups {
            let name_span = name.span();
            let name = name.into_inner();
            if !valid_rule_name(&name) {
                self.error(
                    name_span.clone(),
                    format!("group name `{name}` may only use a-z, 0-9 and `-`"),
                );
            }
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
                            Err(e) => self.error(
                                span,
                                format!("invalid e-mail glob `{entry}`: {}", e.kind()),
                            ),
                        }
                    } else {
                        members.push(Member::Email(lower));
                    }
                } else if let Some(&i) = people_index.get(&entry) {
                    members.push(Member::Person(i));
                } else {
                    self.error(
                        span,
                        format!("unknown person `{entry}` in group `{name}`; group entries are person ids from [people], e-mail addresses, or e-mail globs (\"*@example.com\")"),
                    );
                }
            }
            out_groups.push(Group { name, members });
        }
        (Directory::new(out_people, out_groups), keys)
    }
}

fn valid_person_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
