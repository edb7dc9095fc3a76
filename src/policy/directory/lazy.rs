//! The directory file's people read on first use, for the hook, when the
//! file has no index it can trust ([`super::index`]; through one, the hook
//! reads even less, see [`super::indexed`]).
//!
//! A hook has a few milliseconds to start, and a 10,000-person directory
//! file is megabytes of TOML: building every person (their addresses,
//! logins and keys, indexed) took ~85 ms. At start-up the hook now checks
//! the file's syntax line by line without building anything
//! ([`fast::scan`]), reads `generated` and `[groups]` in full and indexes
//! the `[people.ID]` tables by id; a person's table is read and checked
//! when a push needs that person, the e-mail, login and user id indexes on
//! the first lookup of each kind, the keys when a signature needs them.
//!
//! Fail closed: a file the scan cannot vouch for (not in the plain layout,
//! a duplicate table or key, a bad escape) is read in full, as before, and a
//! syntax error rejects every push. What is wrong with an entry is found
//! when the entry is read (its own checks) or when an index is built (for
//! every entry: an address or login of two people, or one that is no
//! address): the problem is kept, and a push judged while any is known is
//! rejected (`engine::judge`). An entry no push reads is checked by
//! `trailgate check` and `trailgate directory sync`
//! ([`super::validate_directory`]), not by the hook; the audit line's
//! directory hash names the file each decision was made with.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use super::claims::{Claims, Kind};
use super::fast::{self, Section};
use crate::facts::identity::{LazyPeople, Person};
use crate::policy::people::{self, Claim};
use crate::policy::validate::{line_col, Validator};

type S<T> = toml::Spanned<T>;

/// What the policy's validation asks of a directory file's people read on
/// first use, besides [`LazyPeople`]: this module's [`Lazy`] (the file's
/// text in memory) or [`super::indexed::Indexed`] (through its index).
pub(in crate::policy) trait Source: LazyPeople {
    /// The person with id `id`, without reading their table if it can.
    fn index_of(&self, id: &str) -> Option<usize>;
    /// The person that an entry `entry` of the file's own `[groups]`,
    /// at `at` in the text its validator reads, names.
    fn group_entry(&self, entry: &str, at: usize) -> Option<usize> {
        let _ = at;
        self.index_of(entry)
    }
    /// The line and column of person `i`'s id in their table's header.
    fn id_at(&self, i: usize) -> Option<(usize, usize)>;
    /// The directory file.
    fn path(&self) -> &std::path::Path;
    /// Records what the policy's own people claim (kind, normal form,
    /// owner): the directory's people must not repeat it.
    fn policy_claims(&mut self, claims: Vec<(Claim, String, String)>);
}

/// The people of a scanned directory file.
pub(crate) struct Lazy {
    text: Arc<String>,
    path: PathBuf,
    sections: Vec<Section>,
    /// Indexes of `sections` by a hash of their id, sorted.
    sorted: Vec<(u64, usize)>,
    /// Boxed: 10,000 empty cells must be small to allocate.
    people: Vec<OnceLock<Option<Box<Person>>>>,
    emails: OnceLock<Claims>,
    logins: OnceLock<Claims>,
    user_ids: OnceLock<Claims>,
    /// SSH keys by base64 blob: the key's text and whose it is.
    blobs: OnceLock<HashMap<String, Vec<(String, usize)>>>,
    /// The policy's own people's e-mails, logins and user ids, and whose
    /// they are: the directory file's must not repeat them.
    policy_claims: HashMap<(ClaimKey, String), String>,
    problems: Mutex<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ClaimKey {
    Email,
    Login,
    UserId,
}

fn key(claim: Claim) -> ClaimKey {
    match claim {
        Claim::Email => ClaimKey::Email,
        Claim::Login => ClaimKey::Login,
        Claim::UserId => ClaimKey::UserId,
    }
}

/// FNV-1a, 64 bits: a person id's hash for [`Lazy`]'s index (not for
/// anything an attacker could choose: the organisation writes the file).
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl std::fmt::Debug for Lazy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lazy")
            .field("path", &self.path)
            .field("people", &self.sections.len())
            .finish_non_exhaustive()
    }
}

impl Lazy {
    /// The people of a scanned file; `Err` with the id of a person whose
    /// table appears twice (a TOML error: the caller reads the file in full
    /// to report it).
    pub(super) fn new(
        text: Arc<String>,
        path: PathBuf,
        sections: Vec<Section>,
    ) -> Result<Self, ()> {
        // By a hash of the id, sorted: integers sort far faster than
        // 10,000 strings, and a lookup compares strings only on a match.
        let mut sorted: Vec<(u64, usize)> = sections
            .iter()
            .enumerate()
            .map(|(i, s)| (fnv(text.get(s.id.clone()).unwrap_or_default()), i))
            .collect();
        sorted.sort_unstable();
        let id = |i: usize| sections.get(i).and_then(|s| text.get(s.id.clone()));
        for (n, &(hash, i)) in sorted.iter().enumerate() {
            let same = sorted.get(n + 1..).unwrap_or_default();
            if same
                .iter()
                .take_while(|(h, _)| *h == hash)
                .any(|&(_, j)| id(j) == id(i))
            {
                return Err(());
            }
        }
        let people = sections.iter().map(|_| OnceLock::new()).collect();
        Ok(Lazy {
            text,
            path,
            sections,
            sorted,
            people,
            emails: OnceLock::new(),
            logins: OnceLock::new(),
            user_ids: OnceLock::new(),
            blobs: OnceLock::new(),
            policy_claims: HashMap::new(),
            problems: Mutex::new(Vec::new()),
        })
    }

    /// The section of person id `id`, without reading it.
    fn section_of(&self, id: &str) -> Option<usize> {
        let hash = fnv(id);
        let from = self.sorted.partition_point(|&(h, _)| h < hash);
        self.sorted
            .get(from..)?
            .iter()
            .take_while(|&&(h, _)| h == hash)
            .map(|&(_, i)| i)
            .find(|&i| self.id(i) == id)
    }

    fn id(&self, i: usize) -> &str {
        self.sections
            .get(i)
            .and_then(|s| self.text.get(s.id.clone()))
            .unwrap_or_default()
    }

    fn problem(&self, offset: usize, message: &str) {
        let (line, column) = line_col(&self.text, offset);
        let text = format!("{}:{line}:{column}: {message}", self.path.display());
        if let Ok(mut problems) = self.problems.lock() {
            problems.push(text);
        }
    }

    fn read(&self, i: usize) -> Option<Person> {
        let section = self.sections.get(i)?;
        let Some(raw) = fast::person(&self.text, section.body.clone()) else {
            // The scan checked this table; reading it cannot fail.
            self.problem(section.header.start, "this table could not be read");
            return None;
        };
        let mut v = Validator::for_file(&self.text, &self.path);
        v.set_thorough(false);
        let id = S::new(section.id.clone(), self.id(i).to_owned());
        // Who else has an address or login is the indexes' question.
        let (person, _) = people::check_person(&mut v, id, raw, |_, _| None);
        for p in v.into_problems() {
            let text = format!(
                "{}:{}:{}: {}",
                self.path.display(),
                p.line,
                p.column,
                p.message
            );
            if let Ok(mut problems) = self.problems.lock() {
                problems.push(text);
            }
        }
        Some(person)
    }

    /// The index of one list (of [`fast::LISTS`]) over every person:
    /// each value checked by `problem`, each belonging to one person only
    /// (and to none of the policy's people).
    fn index(
        &self,
        list: usize,
        claim: Claim,
        kind: Kind,
        problem: impl Fn(&str) -> Option<String>,
    ) -> Claims {
        let policy: Vec<(String, String)> = self
            .policy_claims
            .iter()
            .filter(|((k, _), _)| *k == key(claim))
            .map(|((_, name), owner)| (name.clone(), owner.clone()))
            .collect();
        Claims::build(
            &self.text,
            &self.sections,
            list,
            kind,
            problem,
            &policy,
            &|at, message| self.problem(at, message),
        )
    }

    /// Person `i` found by an index: read now, so that whatever is wrong
    /// with their entry is known while the push is judged.
    fn found(&self, i: Option<usize>) -> Option<usize> {
        let i = i?;
        self.person(i)?;
        Some(i)
    }
}

impl LazyPeople for Lazy {
    fn len(&self) -> usize {
        self.sections.len()
    }

    fn person(&self, i: usize) -> Option<&Person> {
        self.people
            .get(i)?
            .get_or_init(|| self.read(i).map(Box::new))
            .as_deref()
    }

    fn by_id(&self, id: &str) -> Option<usize> {
        self.found(self.section_of(id))
    }

    fn by_email(&self, email: &[u8]) -> Option<usize> {
        let email = std::str::from_utf8(email).ok()?;
        let claims = self.emails.get_or_init(|| {
            self.index(
                fast::EMAILS,
                Claim::Email,
                Kind::Email,
                people::email_problem,
            )
        });
        self.found(claims.find(&self.text, email))
    }

    fn by_login(&self, login: &str) -> Option<usize> {
        let claims = self.logins.get_or_init(|| {
            self.index(
                fast::LOGINS,
                Claim::Login,
                Kind::Exact,
                people::login_problem,
            )
        });
        self.found(claims.find(&self.text, login))
    }

    fn by_user_id(&self, key: &str) -> Option<usize> {
        let claims = self.user_ids.get_or_init(|| {
            self.index(
                fast::USER_IDS,
                Claim::UserId,
                Kind::Exact,
                people::user_id_problem,
            )
        });
        self.found(claims.find(&self.text, key))
    }

    fn ssh_keys_with_blob(&self, blob: &str) -> Vec<(String, usize)> {
        let map = self.blobs.get_or_init(|| {
            let mut map: HashMap<String, Vec<(String, usize)>> = HashMap::new();
            for (i, section) in self.sections.iter().enumerate() {
                for key in fast::list(&self.text, section.body.clone(), "ssh_keys") {
                    let span = key.span();
                    let text = key.into_inner();
                    match crate::facts::signature::blob(&text) {
                        Some(b) => map.entry(b.to_owned()).or_default().push((text, i)),
                        None => self.problem(span.start, people::SSH_KEY_PROBLEM),
                    }
                }
            }
            map
        });
        let keys = map.get(blob).cloned().unwrap_or_default();
        for &(_, i) in &keys {
            self.person(i);
        }
        keys
    }

    fn all_ssh_keys(&self) -> Vec<(String, usize)> {
        self.all("ssh_keys")
    }

    fn all_gpg_keys(&self) -> Vec<(String, usize)> {
        self.all("gpg_keys")
    }

    fn problems(&self) -> Vec<String> {
        self.problems.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

impl Source for Lazy {
    fn index_of(&self, id: &str) -> Option<usize> {
        self.section_of(id)
    }

    fn id_at(&self, i: usize) -> Option<(usize, usize)> {
        let span = self.sections.get(i)?.id.clone();
        Some(line_col(&self.text, span.start))
    }

    fn path(&self) -> &std::path::Path {
        &self.path
    }

    fn policy_claims(&mut self, claims: Vec<(Claim, String, String)>) {
        for (claim, name, owner) in claims {
            self.policy_claims.insert((key(claim), name), owner);
        }
    }
}

impl Lazy {
    fn all(&self, list: &str) -> Vec<(String, usize)> {
        self.sections
            .iter()
            .enumerate()
            .flat_map(|(i, section)| {
                fast::list(&self.text, section.body.clone(), list)
                    .into_iter()
                    .map(move |key| (key.into_inner(), i))
            })
            .collect()
    }
}
