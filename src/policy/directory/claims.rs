//! The index of one kind of claim (e-mails, logins or user ids) over every
//! person of a scanned directory file, for the hook's first lookup of that
//! kind.
//!
//! Every value is checked as it is indexed (an address that is no address,
//! one of two people or of a policy person is a problem, and a push judged
//! while any is known is rejected), so a lookup must see them all: but a
//! 10,000-person file has 20,000 addresses, and one `String` and one hash
//! map entry each cost more than the rest of the hook's start-up. Here each
//! value is read where it lies in the file (the scan recorded where each
//! list starts), hashed in its normal form without being copied, and kept
//! as (hash, position); values of equal hash are compared as text, so the
//! hash only narrows and never decides.

use std::borrow::Cow;

use super::fast::{self, Section};

/// How a kind of claim compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Trimmed and ASCII-lower-cased (`people::check_person`'s e-mails).
    Email,
    /// As written.
    Exact,
}

impl Kind {
    fn key(self, value: &str) -> &str {
        match self {
            Kind::Email => value.trim(),
            Kind::Exact => value,
        }
    }

    /// The normal form, for messages.
    fn normal(self, value: &str) -> String {
        match self {
            Kind::Email => value.trim().to_ascii_lowercase(),
            Kind::Exact => value.to_owned(),
        }
    }

    /// FNV-1a of the normal form (not for anything an attacker could
    /// choose: the organisation writes the file).
    fn hash(self, value: &str) -> u64 {
        let fold = self == Kind::Email;
        self.key(value).bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            let b = if fold { b.to_ascii_lowercase() } else { b };
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    /// Whether two values have the same normal form.
    fn same(self, a: &str, b: &str) -> bool {
        match self {
            Kind::Email => a.trim().eq_ignore_ascii_case(b.trim()),
            Kind::Exact => a == b,
        }
    }

    /// Whether `value`'s normal form is `query` (as a hash map of normal
    /// forms would answer).
    fn is(self, value: &str, query: &str) -> bool {
        match self {
            Kind::Email => {
                !query.bytes().any(|b| b.is_ascii_uppercase())
                    && value.trim().eq_ignore_ascii_case(query)
            }
            Kind::Exact => value == query,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    hash: u64,
    /// Its place in the file, which decides who has a value first.
    order: usize,
    person: usize,
    /// Where its string starts (at the quote).
    at: usize,
}

/// One kind of claim of every person, by hash.
pub(super) struct Claims {
    kind: Kind,
    /// Sorted by (hash, order).
    entries: Vec<Entry>,
}

/// A problem found while indexing: where, and what.
pub(super) type Report<'a> = &'a dyn Fn(usize, &str);

impl Claims {
    /// Indexes list `list` (of [`fast::LISTS`]) of every section. Each
    /// value `problem` finds wrong, that the policy's `policy` people
    /// (normal form, owner) claim, or that an earlier person has, is
    /// reported and not indexed.
    pub(super) fn build(
        text: &str,
        sections: &[Section],
        list: usize,
        kind: Kind,
        problem: impl Fn(&str) -> Option<String>,
        policy: &[(String, String)],
        report: Report<'_>,
    ) -> Claims {
        let policy: Vec<(u64, &str, &str)> = policy
            .iter()
            .map(|(name, owner)| (kind.hash(name), name.as_str(), owner.as_str()))
            .collect();
        let mut entries = Vec::with_capacity(sections.len() * 2);
        for (person, section) in sections.iter().enumerate() {
            let Some(&value_at) = section.lists.get(list).filter(|&&at| at != usize::MAX) else {
                continue;
            };
            let read = each_value(text, value_at, |value, at| {
                let key = kind.key(&value);
                // Case does not change what `problem` finds (it looks for
                // `@` and spaces): the normal form is built only to say so.
                if problem(key).is_some() {
                    if let Some(message) = problem(&kind.normal(key)) {
                        report(at, &message);
                    }
                    return;
                }
                let hash = kind.hash(key);
                if let Some((_, _, owner)) = policy
                    .iter()
                    .find(|(h, name, _)| *h == hash && kind.same(name, key))
                {
                    report(
                        at,
                        &format!(
                            "`{}` already belongs to person `{owner}` of the policy",
                            kind.normal(key)
                        ),
                    );
                    return;
                }
                let order = entries.len();
                entries.push(Entry {
                    hash,
                    order,
                    person,
                    at,
                });
            });
            if read.is_none() {
                // The scan checked this list; reading it cannot fail.
                report(value_at, "this list could not be read");
            }
        }
        entries.sort_unstable_by_key(|e| (e.hash, e.order));
        let claims = Claims { kind, entries };
        let id = |i: usize| {
            sections
                .get(i)
                .and_then(|s| text.get(s.id.clone()))
                .unwrap_or_default()
        };
        claims.report_shared(text, &id, report);
        claims
    }

    /// Reports each value that an earlier person has too.
    fn report_shared<'t>(&self, text: &'t str, id: &dyn Fn(usize) -> &'t str, report: Report<'_>) {
        for (n, later) in self.entries.iter().enumerate() {
            let run = self
                .entries
                .get(..n)
                .unwrap_or_default()
                .iter()
                .rev()
                .take_while(|e| e.hash == later.hash);
            let mut run = run.peekable();
            if run.peek().is_none() {
                continue;
            }
            let value = value_at(text, later.at);
            // The run is newest first: the owner is the last match.
            let Some(first) = run
                .filter(|e| self.kind.same(&value_at(text, e.at), &value))
                .last()
            else {
                continue;
            };
            if first.person != later.person {
                report(
                    later.at,
                    &format!(
                        "`{}` already belongs to person `{}`; it can belong to one person only",
                        self.kind.normal(&value),
                        id(first.person)
                    ),
                );
            }
        }
    }

    /// The person whose value's normal form is `query` (the first in the
    /// file when several have it: the others were reported).
    pub(super) fn find(&self, text: &str, query: &str) -> Option<usize> {
        let hash = self.kind.hash(query);
        let from = self.entries.partition_point(|e| e.hash < hash);
        self.entries
            .get(from..)?
            .iter()
            .take_while(|e| e.hash == hash)
            .find(|e| self.kind.is(&value_at(text, e.at), query))
            .map(|e| e.person)
    }
}

/// The string at `at` (its quote), decoded: borrowed unless it has an
/// escape. Empty if it cannot be read (the scan checked it).
fn value_at(text: &str, at: usize) -> Cow<'_, str> {
    let inner = at + 1;
    let rest = text.as_bytes().get(inner..).unwrap_or_default();
    match memchr::memchr2(b'"', b'\\', rest) {
        Some(len) if rest.get(len) == Some(&b'"') => {
            Cow::Borrowed(text.get(inner..inner + len).unwrap_or_default())
        }
        _ => Cow::Owned(
            fast::string_at(text, at)
                .map(|(s, _)| s)
                .unwrap_or_default(),
        ),
    }
}

/// Calls `f` with each string of the one-line array at `value_at` (which
/// [`fast::scan`] checked) and where it starts; `None` if it is not one.
fn each_value(text: &str, value_at: usize, mut f: impl FnMut(Cow<'_, str>, usize)) -> Option<()> {
    let bytes = text.as_bytes();
    let ws = |mut i: usize| {
        while matches!(bytes.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        i
    };
    if bytes.get(value_at) != Some(&b'[') {
        return None;
    }
    let mut i = ws(value_at + 1);
    loop {
        match bytes.get(i)? {
            b']' => return Some(()),
            b'"' => {
                let rest = bytes.get(i + 1..)?;
                let len = memchr::memchr3(b'"', b'\\', b'\n', rest)?;
                let after = if rest.get(len) == Some(&b'"') {
                    f(Cow::Borrowed(text.get(i + 1..i + 1 + len)?), i);
                    i + 1 + len + 1
                } else {
                    let (value, after) = fast::string_at(text, i)?;
                    f(Cow::Owned(value), i);
                    after
                };
                i = ws(after);
                match bytes.get(i)? {
                    b',' => i = ws(i + 1),
                    b']' => return Some(()),
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashMap;

    /// What a map of normal forms, built value by value in file order,
    /// answers and reports: the index this one replaced.
    fn reference(
        people: &[Vec<String>],
        kind: Kind,
        policy: &[(String, String)],
    ) -> (HashMap<String, usize>, Vec<String>) {
        let (mut map, mut problems) = (HashMap::new(), Vec::new());
        for (i, values) in people.iter().enumerate() {
            for v in values {
                let v = kind.normal(v);
                if crate::policy::people::email_problem(&v).is_some() && kind == Kind::Email {
                    problems.push(format!("bad {v}"));
                } else if policy.iter().any(|(name, _)| *name == v) {
                    problems.push(format!("policy {v}"));
                } else {
                    match map.get(&v) {
                        Some(&first) if first != i => problems.push(format!("shared {v} p{first}")),
                        Some(_) => {}
                        None => {
                            map.insert(v, i);
                        }
                    }
                }
            }
        }
        (map, problems)
    }

    #[test]
    fn the_index_answers_and_reports_as_a_map_of_normal_forms_does() {
        let emails = [
            r#"["a@example.com", " B@Example.com "]"#,
            r#"["b@example.com", "c\u0040example.com"]"#,
            r#"["C@EXAMPLE.COM", "a@example.com", "not an address"]"#,
            r#"[]"#,
            r#"["p@example.com", "d\"x@example.com" , "e@example.com"]"#,
        ];
        let mut text = String::from("generated = 2026-12-02T03:00:00Z\n");
        for (i, list) in emails.iter().enumerate() {
            text.push_str(&format!("[people.p{i}]\nemails = {list}\n"));
        }
        text.push_str("[people.none]\nname = \"n@example.com\"\n[groups]\n");
        let scan = fast::scan(&text).expect("the plain layout");
        let people: Vec<Vec<String>> = scan
            .sections
            .iter()
            .map(|s| {
                fast::list(&text, s.body.clone(), "emails")
                    .into_iter()
                    .map(|v| v.into_inner())
                    .collect()
            })
            .collect();
        let policy = [("p@example.com".to_owned(), "owner".to_owned())];
        let (map, expected) = reference(&people, Kind::Email, &policy);
        let reported = RefCell::new(Vec::new());
        let report = |_: usize, message: &str| {
            let m = message;
            let v = m.split('`').nth(1).unwrap_or_default().to_owned();
            let what = if m.contains("of the policy") {
                format!("policy {v}")
            } else if m.contains("already belongs") {
                let first = m.split('`').nth(3).unwrap_or_default();
                format!("shared {v} {first}")
            } else {
                format!("bad {v}")
            };
            reported.borrow_mut().push(what);
        };
        let claims = Claims::build(
            &text,
            &scan.sections,
            fast::EMAILS,
            Kind::Email,
            crate::policy::people::email_problem,
            &policy,
            &report,
        );
        let (mut got, mut want) = (reported.into_inner(), expected);
        got.sort();
        want.sort();
        assert_eq!(got, want);
        assert_eq!(want.len(), 5, "{want:?}");
        for query in [
            "a@example.com",
            "b@example.com",
            "c@example.com",
            "d\"x@example.com",
            "e@example.com",
            "p@example.com",
            "n@example.com",
            "B@example.com",
            " b@example.com",
            "z@example.com",
        ] {
            assert_eq!(
                claims.find(&text, query),
                map.get(query).copied(),
                "{query}"
            );
        }
        // Exact claims are not folded or trimmed.
        let logins = Claims::build(
            &text,
            &scan.sections,
            fast::EMAILS,
            Kind::Exact,
            |_| None,
            &[],
            &|_, _| {},
        );
        assert_eq!(logins.find(&text, " B@Example.com "), Some(0));
        assert_eq!(logins.find(&text, "b@example.com"), Some(1));
        assert_eq!(logins.find(&text, "B@Example.com"), None);
    }
}
