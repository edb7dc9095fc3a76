//! The directory file's people read through its index ([`super::index`]),
//! for the hook: at start-up only the `generated` line and the `[groups]`
//! table are read from the file; a person's table is read (a few hundred
//! bytes) when a push needs that person, found through the index's hash
//! tables, and checked as [`super::lazy::Lazy`] checks it.
//!
//! The answers are [`super::lazy::Lazy`]'s for the same file: the index
//! only says where to look, and each answer is confirmed in the person's
//! own table (an e-mail is looked up, the candidates' tables are read, and
//! the first that has it is the answer). The file was validated in full
//! when the index was written, so what the hook would otherwise find by
//! building its indexes (an address of two people) cannot be there; what
//! depends on the policy can change without the file, and is checked as
//! the lazy reader checks it: the policy's people's addresses, logins and
//! user ids, against the index, on the first lookup of each kind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use super::fast;
use super::index::{self, Index, Place, Table};
use super::lazy::Source;
use crate::facts::identity::{LazyPeople, Person};
use crate::policy::people::{self, Claim};
use crate::policy::validate::{line_col, Validator};

type S<T> = toml::Spanned<T>;

/// What the hook reads at start-up through a trusted index.
pub(super) struct Start {
    pub people: Indexed,
    /// The `generated` line and the `[groups]` table, and which lines of
    /// the file they are (see `Validator::for_excerpt`).
    pub top: String,
    pub top_lines: Vec<(usize, usize)>,
    pub generated: S<toml::value::Datetime>,
    pub groups: BTreeMap<S<String>, Vec<S<String>>>,
    /// The file's SHA-256, in hex.
    pub sha256: String,
}

/// A person's table read: its text, its place, and where the id and the
/// body are in the text.
type Read = (
    String,
    Place,
    std::ops::Range<usize>,
    std::ops::Range<usize>,
);

/// After this many people's tables, [`Indexed`] reads the whole file.
const BULK: usize = 64;

/// The people of a directory file, through its index.
pub(crate) struct Indexed {
    index: Index,
    path: PathBuf,
    /// Each `[groups]` entry that is not an e-mail, by where it is in the
    /// text read at start-up, and the person it names as the index says
    /// (`u32::MAX`: none of the file's); sorted.
    group_at: Vec<(usize, u32)>,
    /// The same by a hash of the entry, to check each person read
    /// against it.
    group_ids: Vec<(u64, u32)>,
    people: Cells,
    policy_claims: Vec<(Claim, String, String)>,
    /// Whether the policy's claims of each kind were checked (emails,
    /// logins, user ids).
    checked: [OnceLock<()>; 3],
    /// The whole file and every person's place, for the lists of every
    /// key and for reading many people.
    whole: OnceLock<String>,
    places: OnceLock<Vec<Place>>,
    /// How many people's tables were read.
    reads: std::sync::atomic::AtomicUsize,
    problems: Mutex<Vec<String>>,
}

impl std::fmt::Debug for Indexed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Indexed")
            .field("path", &self.path)
            .field("people", &self.index.header.people)
            .finish_non_exhaustive()
    }
}

/// The directory file at `path` through its index, when it has one the
/// hook may trust and that agrees with the file's `[groups]`; `None` sends
/// the hook to the file itself.
pub(super) fn start(path: &Path) -> Option<Start> {
    let opened = index::open(path)?;
    let scan = fast::scan(&opened.top)?;
    if !scan.sections.is_empty() {
        return None;
    }
    let entries = index::id_entries(&scan.groups);
    if entries.len() != opened.group_people.len() {
        return None;
    }
    // Neither copied nor put in a hash map: a thousand seniors' ids would
    // cost more than the rest of reading the directory.
    let group_at: Vec<(usize, u32)> = entries
        .iter()
        .map(|e| e.span().start)
        .zip(opened.group_people.iter().copied())
        .collect();
    // Unsorted: it is only searched for the few people a push reads.
    let group_ids: Vec<(u64, u32)> = entries
        .iter()
        .map(|e| index::hash(e.get_ref().as_bytes()))
        .zip(opened.group_people.iter().copied())
        .collect();
    let header = &opened.index.header;
    let sha256 = header.sha256.iter().map(|b| format!("{b:02x}")).collect();
    let people = Cells::new(header.people);
    Some(Start {
        people: Indexed {
            index: opened.index,
            path: path.to_owned(),
            group_at,
            group_ids,
            people,
            policy_claims: Vec::new(),
            checked: Default::default(),
            whole: OnceLock::new(),
            places: OnceLock::new(),
            reads: Default::default(),
            problems: Mutex::new(Vec::new()),
        },
        top: opened.top,
        top_lines: opened.top_lines,
        generated: scan.generated,
        groups: scan.groups,
        sha256,
    })
}

impl Indexed {
    fn problem(&self, message: String) {
        if let Ok(mut problems) = self.problems.lock() {
            problems.push(message);
        }
    }

    /// Person `i`'s table, its place, and where its id and body are in it.
    fn table(&self, i: usize) -> Option<Read> {
        // A push reads a few people; whatever reads many (a typo's
        // suggestion looks at every address) reads the file once instead
        // of a few system calls per person.
        let bulk = self
            .reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            >= BULK;
        let read = if bulk {
            self.places().and_then(|places| {
                let place = *places.get(i).ok_or_else(|| self.index.damaged())?;
                let text = self.whole()?.get(place.start..place.end);
                Ok((text.ok_or_else(|| self.index.damaged())?.to_owned(), place))
            })
        } else {
            self.index
                .person(i)
                .and_then(|place| Ok((self.index.toml_text(place)?, place)))
        };
        let (text, place) = match read {
            Ok(read) => read,
            Err(message) => {
                self.problem(message);
                return None;
            }
        };
        let Some((id, body)) = fast::person_table(&text) else {
            self.mismatch(place);
            return None;
        };
        Some((text, place, id, body))
    }

    /// The whole file, read once.
    fn whole(&self) -> Result<&String, String> {
        match self.whole.get() {
            Some(text) => Ok(text),
            None => {
                let text = self.index.whole()?;
                Ok(self.whole.get_or_init(|| text))
            }
        }
    }

    /// Every person's place, read once.
    fn places(&self) -> Result<&Vec<Place>, String> {
        match self.places.get() {
            Some(places) => Ok(places),
            None => {
                let places = self.index.persons()?;
                Ok(self.places.get_or_init(|| places))
            }
        }
    }

    /// The index and the file disagree: the push cannot be judged.
    fn mismatch(&self, place: Place) {
        self.problem(format!(
            "{}:{}: the directory index {} does not match this file; run `trailgate check` to write it again",
            self.path.display(),
            place.line,
            index::path_for(&self.path).display()
        ));
    }

    fn read(&self, i: usize) -> Option<Person> {
        let (text, place, id_span, body) = self.table(i)?;
        let Some(raw) = fast::person(&text, body) else {
            self.mismatch(place);
            return None;
        };
        let mut v = Validator::for_excerpt(&text, &self.path, vec![(0, place.line)]);
        v.set_thorough(false);
        let id = S::new(id_span.clone(), text.get(id_span)?.to_owned());
        let (person, _) = people::check_person(&mut v, id, raw, |_, _| None);
        for p in v.into_problems() {
            let at = format!("{}:{}:{}", self.path.display(), p.line, p.column);
            self.problem(format!("{at}: {}", p.message));
        }
        // The groups were resolved by the index: a person it placed
        // elsewhere would be in the wrong groups.
        // Both ways: every entry that is their id names them, and every
        // entry that names them is their id.
        let hash = index::hash(person.id.as_bytes());
        let disagree = self
            .group_ids
            .iter()
            .any(|&(h, p)| (h == hash) != (p as usize == i));
        if disagree {
            self.mismatch(place);
            return None;
        }
        Some(person)
    }

    /// The candidates for `key` in `table`; a problem if it cannot be read.
    fn candidates(&self, table: Table, key: &str) -> Vec<usize> {
        match self.index.candidates(table, index::hash(key.as_bytes())) {
            Ok(c) => c,
            Err(message) => {
                self.problem(message);
                Vec::new()
            }
        }
    }

    /// The first person in the file whose `claim` list has `key` (in
    /// normal form), after the policy's claims of that kind are checked;
    /// none for a claim of the policy's own people (reported).
    fn claimed(&self, claim: Claim, table: Table, key: &str) -> Option<usize> {
        self.check_policy_claims(claim, table);
        if self
            .policy_claims
            .iter()
            .any(|(c, name, _)| *c == claim && name == key)
        {
            return None;
        }
        self.candidates(table, key).into_iter().find(|&i| {
            self.person(i)
                .is_some_and(|p| values(p, claim).iter().any(|v| v == key))
        })
    }

    /// Reports each of the policy's people's claims of this kind that a
    /// person of the file has too, where the file has it (in the order of
    /// the file), as the lazy reader's index of that kind does.
    fn check_policy_claims(&self, claim: Claim, table: Table) {
        let Some(cell) = self.checked.get(kind(claim)) else {
            return;
        };
        cell.get_or_init(|| {
            let mut found = Vec::new();
            for (c, name, owner) in &self.policy_claims {
                if *c != claim {
                    continue;
                }
                for i in self.candidates(table, name) {
                    let Some((text, place, _, body)) = self.table(i) else {
                        continue;
                    };
                    let Some(raw) = fast::person(&text, body) else {
                        continue;
                    };
                    let list = match claim {
                        Claim::Email => raw.emails,
                        Claim::Login => raw.logins,
                        Claim::UserId => raw.user_ids,
                    };
                    let normal = |v: &str| match claim {
                        Claim::Email => index::email_key(v),
                        _ => v.to_owned(),
                    };
                    for v in list.iter().filter(|v| normal(v.get_ref()) == *name) {
                        // The table starts a line: its lines follow `place.line`.
                        let (line, column) = line_col(&text, v.span().start);
                        let line = place.line + line - 1;
                        found.push((
                            (i, v.span().start),
                            format!(
                                "{}:{line}:{column}: `{name}` already belongs to person `{owner}` of the policy",
                                self.path.display()
                            ),
                        ));
                    }
                }
            }
            found.sort();
            for (_, message) in found {
                self.problem(message);
            }
        });
    }

    /// The file's lists `list` of every person, in the order of the file.
    fn all(&self, list: &str) -> Vec<(String, usize)> {
        let (text, persons) = match self.whole().and_then(|t| Ok((t, self.places()?))) {
            Ok(read) => read,
            Err(message) => {
                self.problem(message);
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for (i, &place) in persons.iter().enumerate() {
            let Some((_, body)) = text
                .get(place.start..place.end)
                .and_then(fast::person_table)
            else {
                self.mismatch(place);
                continue;
            };
            let body = place.start + body.start..place.start + body.end;
            out.extend(
                fast::list(text, body, list)
                    .into_iter()
                    .map(|key| (key.into_inner(), i)),
            );
        }
        out
    }
}

/// A person's values of one kind of claim, in normal form.
fn values(p: &Person, claim: Claim) -> &[String] {
    match claim {
        Claim::Email => &p.emails,
        Claim::Login => &p.logins,
        Claim::UserId => &p.user_ids,
    }
}

fn kind(claim: Claim) -> usize {
    match claim {
        Claim::Email => 0,
        Claim::Login => 1,
        Claim::UserId => 2,
    }
}

impl LazyPeople for Indexed {
    fn len(&self) -> usize {
        self.index.header.people
    }

    fn person(&self, i: usize) -> Option<&Person> {
        if i >= self.len() {
            return None;
        }
        self.people.get_or_init(i, || self.read(i).map(Box::new))
    }

    fn by_id(&self, id: &str) -> Option<usize> {
        let i = self.index_of(id)?;
        self.person(i)?;
        Some(i)
    }

    fn by_email(&self, email: &[u8]) -> Option<usize> {
        let email = std::str::from_utf8(email).ok()?;
        self.claimed(Claim::Email, Table::Emails, email)
    }

    fn by_login(&self, login: &str) -> Option<usize> {
        self.claimed(Claim::Login, Table::Logins, login)
    }

    fn by_user_id(&self, key: &str) -> Option<usize> {
        self.claimed(Claim::UserId, Table::UserIds, key)
    }

    fn ssh_keys_with_blob(&self, blob: &str) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        for i in self.candidates(Table::Blobs, blob) {
            let Some(p) = self.person(i) else { continue };
            out.extend(
                p.ssh_keys
                    .iter()
                    .filter(|k| crate::facts::signature::blob(k) == Some(blob))
                    .map(|k| (k.clone(), i)),
            );
        }
        out
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

impl Source for Indexed {
    fn group_entry(&self, entry: &str, at: usize) -> Option<usize> {
        // As the index resolved it (each person read is checked against
        // it, see `read`).
        let found = self
            .group_at
            .binary_search_by_key(&at, |&(a, _)| a)
            .ok()
            .and_then(|n| self.group_at.get(n));
        match found {
            Some(&(_, p)) if (p as usize) < self.index.header.people => Some(p as usize),
            _ => self.index_of(entry),
        }
    }

    fn index_of(&self, id: &str) -> Option<usize> {
        self.candidates(Table::Ids, id)
            .into_iter()
            .find(|&i| self.person(i).is_some_and(|p| p.id == id))
    }

    fn id_at(&self, i: usize) -> Option<(usize, usize)> {
        let (text, place, id, _) = self.table(i)?;
        let column = text.get(..id.start)?.chars().count() + 1;
        Some((place.line, column))
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn policy_claims(&mut self, claims: Vec<(Claim, String, String)>) {
        self.policy_claims = claims;
    }
}

/// People read on first use, in cells allocated a chunk at a time: a
/// push reads a handful of 10,000 people, and 10,000 empty cells would
/// cost more than the rest of the start-up.
struct Cells {
    chunks: Vec<OnceLock<Box<[Cell]>>>,
}

/// A person once read (`None`: their table could not be).
type Cell = OnceLock<Option<Box<Person>>>;

const CHUNK: usize = 64;

impl Cells {
    fn new(n: usize) -> Self {
        Cells {
            chunks: (0..n.div_ceil(CHUNK)).map(|_| OnceLock::new()).collect(),
        }
    }

    fn get_or_init(&self, i: usize, f: impl FnOnce() -> Option<Box<Person>>) -> Option<&Person> {
        let chunk = self
            .chunks
            .get(i / CHUNK)?
            .get_or_init(|| (0..CHUNK).map(|_| OnceLock::new()).collect());
        chunk.get(i % CHUNK)?.get_or_init(f).as_deref()
    }
}
