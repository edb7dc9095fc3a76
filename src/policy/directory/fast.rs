//! A fast reader for the plain layout of directory files, the one
//! `trailgate directory sync` writes: one `key = value` per line, values
//! that are basic strings, one-line arrays of basic strings, or the
//! `generated` time; `[people.ID]` and `[groups]` headers; comments and
//! blank lines.
//!
//! A 10,000-person directory is megabytes of TOML, and the general parser
//! takes far longer than a hook may spend starting up. This reader takes
//! a few milliseconds, and it never decides anything itself: on anything
//! outside that layout, or anything TOML would refuse (a duplicate key or
//! table, an unknown key, a bad escape), it gives up and the file is read
//! by the TOML parser, whose answer (or error, with its position) stands.
//! What it returns is what the TOML parser returns for the same file,
//! spans included; the tests check that against the parser.

use std::collections::BTreeMap;
use std::ops::Range;

use super::raw;

type S<T> = toml::Spanned<T>;

/// The directory file, if it is in the plain layout; `None` otherwise.
pub(super) fn parse(text: &str) -> Option<raw::DirectoryFile> {
    let mut generated = None;
    let mut people: BTreeMap<S<String>, S<raw::Person>> = BTreeMap::new();
    let mut groups: Option<BTreeMap<S<String>, Vec<S<String>>>> = None;
    enum Section {
        Top,
        Person(S<String>, Range<usize>, Fields),
        Groups,
    }
    let mut section = Section::Top;
    let finish = |section: Section, people: &mut BTreeMap<_, _>| -> Option<()> {
        if let Section::Person(id, span, fields) = section {
            let person = fields.into_person()?;
            if people.insert(id, S::new(span, person)).is_some() {
                return None;
            }
        }
        Some(())
    };
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let end = memchr::memchr(b'\n', bytes.get(at..)?).map_or(bytes.len(), |i| at + i);
        let line = Line {
            text,
            at: skip_ws(bytes, at, end),
            end,
        };
        at = end + 1;
        let start = line.at;
        if line.rest_is_blank(start) {
            continue;
        }
        match bytes.get(start) {
            Some(b'[') => {
                let (key, key_span) = header(&line)?;
                finish(std::mem::replace(&mut section, Section::Top), &mut people)?;
                section = match key {
                    Header::Person => {
                        // The table's span, as the TOML parser gives it for a
                        // table: the header line.
                        let id = text.get(key_span.clone())?.to_owned();
                        Section::Person(S::new(key_span, id), start..end, Fields::default())
                    }
                    Header::Groups => {
                        if groups.is_some() {
                            return None;
                        }
                        groups = Some(BTreeMap::new());
                        Section::Groups
                    }
                };
            }
            _ => {
                let (key, key_span, value_at) = key_value(&line)?;
                match &mut section {
                    Section::Top => {
                        if key != "generated" || generated.is_some() {
                            return None;
                        }
                        generated = Some(datetime(&line, value_at)?);
                    }
                    Section::Person(_, _, fields) => fields.set(key, &line, value_at)?,
                    Section::Groups => {
                        let groups = groups.as_mut()?;
                        let name = S::new(key_span, key.to_owned());
                        let entries = line.array(value_at)?;
                        if groups.insert(name, entries).is_some() {
                            return None;
                        }
                    }
                }
            }
        }
    }
    finish(section, &mut people)?;
    Some(raw::DirectoryFile {
        generated: generated?,
        people,
        groups: groups?,
    })
}

enum Header {
    Person,
    Groups,
}

/// `[people.ID]` (ID bare) or `[groups]`, and the span of the last key.
fn header(line: &Line<'_>) -> Option<(Header, Range<usize>)> {
    let bytes = line.text.as_bytes();
    let inner_start = line.at + 1;
    let close = inner_start
        + bytes
            .get(inner_start..line.end)?
            .iter()
            .position(|&b| b == b']')?;
    if !line.rest_is_blank(close + 1) {
        return None;
    }
    let inner = line.text.get(inner_start..close)?;
    if inner == "groups" {
        return Some((Header::Groups, inner_start..close));
    }
    let id = inner.strip_prefix("people.")?;
    if !id.bytes().all(is_bare) || id.is_empty() {
        return None;
    }
    let id_start = inner_start + "people.".len();
    Some((Header::Person, id_start..close))
}

fn is_bare(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn skip_ws(bytes: &[u8], mut at: usize, end: usize) -> usize {
    while at < end && matches!(bytes.get(at), Some(b' ' | b'\t')) {
        at += 1;
    }
    at
}

/// `key = ` with a bare key: the key, its span and where the value starts.
fn key_value<'t>(line: &Line<'t>) -> Option<(&'t str, Range<usize>, usize)> {
    let bytes = line.text.as_bytes();
    let mut at = line.at;
    while at < line.end && bytes.get(at).copied().is_some_and(is_bare) {
        at += 1;
    }
    let key_span = line.at..at;
    let key = line.text.get(key_span.clone())?;
    if key.is_empty() {
        return None;
    }
    at = skip_ws(bytes, at, line.end);
    if bytes.get(at) != Some(&b'=') {
        return None;
    }
    Some((key, key_span, skip_ws(bytes, at + 1, line.end)))
}

struct Line<'t> {
    text: &'t str,
    /// The first byte that is not a space or tab.
    at: usize,
    /// The newline (or the end of the text).
    end: usize,
}

impl<'t> Line<'t> {
    /// Only spaces, tabs, a comment or a `\r` before the newline from `at`.
    fn rest_is_blank(&self, at: usize) -> bool {
        let bytes = self.text.as_bytes();
        let at = skip_ws(bytes, at, self.end);
        // A CRLF file's lines end in `\r`.
        let end = if at < self.end && bytes.get(self.end - 1) == Some(&b'\r') {
            self.end - 1
        } else {
            self.end
        };
        match bytes.get(at..end) {
            None | Some([]) => true,
            Some([b'#', rest @ ..]) => !rest.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f),
            _ => false,
        }
    }

    /// The end of a bare value (a date-time) starting at `at`.
    fn value_end(&self, at: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let mut end = at;
        while end < self.end && !matches!(bytes.get(end), Some(b' ' | b'\t' | b'#' | b'\r')) {
            end += 1;
        }
        self.rest_is_blank(end).then_some(end)
    }

    /// A basic string at `at`: its value and where it ends (after the quote).
    fn string(&self, at: usize) -> Option<(S<String>, usize)> {
        let bytes = self.text.as_bytes();
        if bytes.get(at) != Some(&b'"') {
            return None;
        }
        let mut out = String::new();
        let mut i = at + 1;
        loop {
            let run_end = i + bytes
                .get(i..self.end)?
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20 || b == 0x7f)?;
            out.push_str(self.text.get(i..run_end)?);
            i = run_end;
            match bytes.get(i)? {
                b'"' => return Some((S::new(at..i + 1, out), i + 1)),
                b'\\' => {
                    let (c, len) = escape(self.text.get(i + 1..self.end)?)?;
                    out.push(c);
                    i += 1 + len;
                }
                _ => return None,
            }
        }
    }

    /// Where a basic string at `at` ends (after the quote), checked as
    /// [`Self::string`] checks it, but not built.
    fn skip_string(&self, at: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        if bytes.get(at) != Some(&b'"') {
            return None;
        }
        let mut i = at + 1;
        loop {
            // The run to the next quote or backslash, then a check that it
            // has no control character: both vectorise, unlike one
            // byte-by-byte search for any of them.
            let rest = bytes.get(i..self.end)?;
            let run = memchr::memchr2(b'"', b'\\', rest)?;
            let controls = rest
                .get(..run)?
                .iter()
                .fold(false, |acc, &b| acc | (b < 0x20) | (b == 0x7f));
            if controls {
                return None;
            }
            i += run;
            match bytes.get(i)? {
                b'"' => return Some(i + 1),
                b'\\' => {
                    let (_, len) = escape(self.text.get(i + 1..self.end)?)?;
                    i += 1 + len;
                }
                _ => return None,
            }
        }
    }

    /// A one-line array of basic strings at `at`, to the end of the line,
    /// checked as [`Self::array`] checks it, but not built.
    fn skip_array(&self, at: usize) -> Option<()> {
        let bytes = self.text.as_bytes();
        if bytes.get(at) != Some(&b'[') {
            return None;
        }
        let mut i = skip_ws(bytes, at + 1, self.end);
        loop {
            match bytes.get(i)? {
                b']' => break,
                b'"' => {
                    i = skip_ws(bytes, self.skip_string(i)?, self.end);
                    match bytes.get(i)? {
                        b',' => i = skip_ws(bytes, i + 1, self.end),
                        b']' => break,
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
        self.rest_is_blank(i + 1).then_some(())
    }

    /// A one-line array of basic strings at `at`, to the end of the line.
    fn array(&self, at: usize) -> Option<Vec<S<String>>> {
        let bytes = self.text.as_bytes();
        if bytes.get(at) != Some(&b'[') {
            return None;
        }
        let mut out = Vec::new();
        let mut i = skip_ws(bytes, at + 1, self.end);
        loop {
            match bytes.get(i)? {
                b']' => break,
                b'"' => {
                    let (s, after) = self.string(i)?;
                    out.push(s);
                    i = skip_ws(bytes, after, self.end);
                    match bytes.get(i)? {
                        b',' => i = skip_ws(bytes, i + 1, self.end),
                        b']' => break,
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
        self.rest_is_blank(i + 1).then_some(out)
    }
}

/// A basic string's escape after the backslash: the character and how many
/// bytes it took.
fn escape(rest: &str) -> Option<(char, usize)> {
    let first = *rest.as_bytes().first()?;
    let simple = match first {
        b'"' => Some('"'),
        b'\\' => Some('\\'),
        b'n' => Some('\n'),
        b't' => Some('\t'),
        b'r' => Some('\r'),
        b'b' => Some('\u{8}'),
        b'f' => Some('\u{c}'),
        _ => None,
    };
    if let Some(c) = simple {
        return Some((c, 1));
    }
    let digits = match first {
        b'u' => 4,
        b'U' => 8,
        _ => return None,
    };
    let hex = rest.get(1..1 + digits)?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
    Some((c, 1 + digits))
}

/// The keys of one `[people.ID]` table, each at most once.
#[derive(Default)]
struct Fields {
    name: Option<String>,
    emails: Option<Vec<S<String>>>,
    logins: Option<Vec<S<String>>>,
    ssh_keys: Option<Vec<S<String>>>,
    gpg_keys: Option<Vec<S<String>>>,
    user_ids: Option<Vec<S<String>>>,
}

impl Fields {
    fn set(&mut self, key: &str, line: &Line<'_>, value_at: usize) -> Option<()> {
        let list = match key {
            "name" => {
                let (s, after) = line.string(value_at)?;
                if self.name.is_some() || !line.rest_is_blank(after) {
                    return None;
                }
                self.name = Some(s.into_inner());
                return Some(());
            }
            "emails" => &mut self.emails,
            "logins" => &mut self.logins,
            "ssh_keys" => &mut self.ssh_keys,
            "gpg_keys" => &mut self.gpg_keys,
            "user_ids" => &mut self.user_ids,
            _ => return None,
        };
        if list.is_some() {
            return None;
        }
        *list = Some(line.array(value_at)?);
        Some(())
    }

    fn into_person(self) -> Option<raw::Person> {
        Some(raw::Person {
            name: self.name,
            emails: self.emails.unwrap_or_default(),
            logins: self.logins.unwrap_or_default(),
            ssh_keys: self.ssh_keys.unwrap_or_default(),
            gpg_keys: self.gpg_keys.unwrap_or_default(),
            user_ids: self.user_ids.unwrap_or_default(),
        })
    }
}

/// A directory file in the plain layout, checked line by line as
/// [`parse`] reads it but with the people not built: where each
/// `[people.ID]` table is, to be read when needed ([`person`], [`list`]).
pub(super) struct Scan {
    pub generated: S<toml::value::Datetime>,
    pub groups: BTreeMap<S<String>, Vec<S<String>>>,
    /// The `[groups]` table: from the start of its header's line to the
    /// next header's line (or the end).
    pub groups_at: Range<usize>,
    pub sections: Vec<Section>,
}

/// One `[people.ID]` table of a [`Scan`].
#[derive(Debug, Clone)]
pub(super) struct Section {
    /// The ID in the header.
    pub id: Range<usize>,
    /// The header line, for the table's span.
    pub header: Range<usize>,
    /// From after the header to the next header (or the end).
    pub body: Range<usize>,
    /// Where the value of each of [`LISTS`] starts, `usize::MAX` when the
    /// table has none: the claims' indexes go straight to it.
    pub lists: [usize; 3],
}

/// The lists of a person's table that claim something no one else may
/// (indexes [`EMAILS`], [`LOGINS`], [`USER_IDS`]).
pub(super) const LISTS: [&str; 3] = ["emails", "logins", "user_ids"];
pub(super) const EMAILS: usize = 0;
pub(super) const LOGINS: usize = 1;
pub(super) const USER_IDS: usize = 2;

/// The keys a person's table may have, each at most once.
const PERSON_KEYS: [&str; 6] = [
    "name", "emails", "logins", "ssh_keys", "gpg_keys", "user_ids",
];

/// Checks a directory file as [`parse`] does (every line in the plain
/// layout, each key known and set once, strings and escapes well formed,
/// `generated` and `[groups]` there once) without building the people;
/// `None` where [`parse`] would give up. Duplicate person ids are left to
/// the caller (the sections are sorted by id there).
pub(super) fn scan(text: &str) -> Option<Scan> {
    let mut generated = None;
    let mut groups: Option<BTreeMap<S<String>, Vec<S<String>>>> = None;
    let mut sections: Vec<Section> = Vec::new();
    let mut groups_at = 0..usize::MAX;
    enum In {
        Top,
        Person(u8),
        Groups,
    }
    let mut section = In::Top;
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let end = memchr::memchr(b'\n', bytes.get(at..)?).map_or(bytes.len(), |i| at + i);
        let line = Line {
            text,
            at: skip_ws(bytes, at, end),
            end,
        };
        let line_start = at;
        at = end + 1;
        let start = line.at;
        if line.rest_is_blank(start) {
            continue;
        }
        if bytes.get(start) == Some(&b'[') {
            let (key, key_span) = header(&line)?;
            if let Some(last) = sections.last_mut() {
                if last.body.end == usize::MAX {
                    last.body.end = line_start;
                }
            }
            if matches!(section, In::Groups) {
                groups_at.end = line_start;
            }
            section = match key {
                Header::Person => {
                    sections.push(Section {
                        id: key_span,
                        header: start..end,
                        body: at.min(bytes.len())..usize::MAX,
                        lists: [usize::MAX; 3],
                    });
                    In::Person(0)
                }
                Header::Groups => {
                    if groups.is_some() {
                        return None;
                    }
                    groups = Some(BTreeMap::new());
                    groups_at.start = line_start;
                    In::Groups
                }
            };
            continue;
        }
        let (key, key_span, value_at) = key_value(&line)?;
        match &mut section {
            In::Top => {
                if key != "generated" || generated.is_some() {
                    return None;
                }
                generated = Some(datetime(&line, value_at)?);
            }
            In::Person(seen) => {
                let k = PERSON_KEYS.iter().position(|&k| k == key)?;
                let bit = 1u8 << k;
                if *seen & bit != 0 {
                    return None;
                }
                *seen |= bit;
                if let (Some(list), Some(last)) =
                    (LISTS.iter().position(|&l| l == key), sections.last_mut())
                {
                    if let Some(slot) = last.lists.get_mut(list) {
                        *slot = value_at;
                    }
                }
                if key == "name" {
                    let after = line.skip_string(value_at)?;
                    if !line.rest_is_blank(after) {
                        return None;
                    }
                } else {
                    line.skip_array(value_at)?;
                }
            }
            In::Groups => {
                let groups = groups.as_mut()?;
                let name = S::new(key_span, key.to_owned());
                let entries = line.array(value_at)?;
                if groups.insert(name, entries).is_some() {
                    return None;
                }
            }
        }
    }
    if let Some(last) = sections.last_mut() {
        if last.body.end == usize::MAX {
            last.body.end = bytes.len();
        }
    }
    if matches!(section, In::Groups) {
        groups_at.end = bytes.len();
    }
    Some(Scan {
        generated: generated?,
        groups: groups?,
        groups_at,
        sections,
    })
}

/// The basic string at `at` (which [`scan`] checked), decoded, and where
/// it ends (after the quote).
pub(super) fn string_at(text: &str, at: usize) -> Option<(String, usize)> {
    let end = memchr::memchr(b'\n', text.as_bytes().get(at..)?).map_or(text.len(), |i| at + i);
    let line = Line { text, at, end };
    line.string(at).map(|(s, after)| (s.into_inner(), after))
}

/// The `generated = <time>` value at `value_at`.
fn datetime(line: &Line<'_>, value_at: usize) -> Option<S<toml::value::Datetime>> {
    let value_end = line.value_end(value_at)?;
    let raw = line.text.get(value_at..value_end)?;
    if !raw
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-:.+".contains(&b))
    {
        return None;
    }
    let datetime: toml::value::Datetime = raw.parse().ok()?;
    Some(S::new(value_at..value_end, datetime))
}

/// The key-value lines of a section's body (the [`scan`] checked them).
fn lines<'t>(
    text: &'t str,
    body: Range<usize>,
) -> impl Iterator<Item = (&'t str, Line<'t>, usize)> {
    let bytes = text.as_bytes();
    let mut at = body.start;
    std::iter::from_fn(move || {
        while at < body.end.min(bytes.len()) {
            let end = memchr::memchr(b'\n', bytes.get(at..)?).map_or(bytes.len(), |i| at + i);
            let line = Line {
                text,
                at: skip_ws(bytes, at, end),
                end,
            };
            at = end + 1;
            if line.rest_is_blank(line.at) {
                continue;
            }
            if let Some((key, _, value_at)) = key_value(&line) {
                return Some((key, line, value_at));
            }
        }
        None
    })
}

/// A `[people.ID]` table on its own, from its header's line (as the
/// directory index finds it): the span of the ID and the table's body.
pub(super) fn person_table(text: &str) -> Option<(Range<usize>, Range<usize>)> {
    let bytes = text.as_bytes();
    let end = memchr::memchr(b'\n', bytes).unwrap_or(bytes.len());
    let line = Line {
        text,
        at: skip_ws(bytes, 0, end),
        end,
    };
    if bytes.get(line.at) != Some(&b'[') {
        return None;
    }
    match header(&line)? {
        (Header::Person, id) => Some((id, (end + 1).min(bytes.len())..bytes.len())),
        (Header::Groups, _) => None,
    }
}

/// The person of a [`scan`]ned section, with the spans [`parse`] gives.
pub(super) fn person(text: &str, body: Range<usize>) -> Option<raw::Person> {
    let mut fields = Fields::default();
    for (key, line, value_at) in lines(text, body) {
        fields.set(key, &line, value_at)?;
    }
    fields.into_person()
}

/// One list (`emails`, `logins`, ...) of a [`scan`]ned section; empty
/// when it has none.
pub(super) fn list(text: &str, body: Range<usize>, wanted: &str) -> Vec<S<String>> {
    lines(text, body)
        .find(|(key, _, _)| *key == wanted)
        .and_then(|(_, line, value_at)| line.array(value_at))
        .unwrap_or_default()
}
