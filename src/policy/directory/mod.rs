//! The directory file (`settings.directory`): people and groups kept
//! outside the policy, written by the organisation's tooling
//! (`trailgate directory sync`), validated as strictly as the policy and
//! merged with the policy's own `[people]` and `[groups]` (a clash is an
//! error). It records when it was generated; with
//! `settings.directory_max_age` an older file is stale, and its stamp
//! (path, generation time, content hash) goes into every audit line.
//!
//! The hook reads only this local file (and its index, [`index`]) and
//! never the network.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

mod claims;
mod fast;
#[cfg(test)]
mod fast_tests;
pub mod index;
#[cfg(test)]
mod index_tests;
mod indexed;
mod lazy;

pub(super) use lazy::Source;

use super::people::Builder;
use super::validate::{line_col, Validator};
use super::{raw, Problem, Stale};
use crate::facts::identity::Directory;
use crate::facts::signature::KeyRing;

type S<T> = toml::Spanned<T>;

/// Largest directory file read: 10,000 people with keys are about 10 MiB.
pub const MAX_DIRECTORY_BYTES: u64 = 256 << 20;

/// A directory file generated this far in the future (clock skew between
/// the machine that wrote it and this one) is still believed.
const FUTURE_SLACK: Duration = Duration::from_secs(300);

/// Which directory file a policy was loaded with, for audit lines and the
/// staleness check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryStamp {
    pub path: PathBuf,
    /// Its `generated` time, as written (RFC 3339).
    pub generated: String,
    /// The same, in seconds since the Unix epoch.
    pub generated_unix: i64,
    /// SHA-256 of the file's bytes, in hex.
    pub sha256: ContentHash,
    /// Whether the hook read it through its index ([`index`]) rather than
    /// in full.
    pub indexed: bool,
}

/// SHA-256 of a directory file, in hex. The hook's is computed on a second
/// thread from when the file is read and joined on first use: hashing
/// megabytes is a millisecond or more of start-up, and only the audit
/// line, written last, needs it.
#[derive(Clone)]
pub struct ContentHash(std::sync::Arc<HashState>);

struct HashState {
    hex: std::sync::OnceLock<String>,
    pending: std::sync::Mutex<Option<std::thread::JoinHandle<String>>>,
    /// What is hashed, should the thread not start or not finish.
    text: std::sync::Arc<String>,
}

impl ContentHash {
    /// Starts hashing `text` on another thread.
    fn start(text: std::sync::Arc<String>) -> Self {
        let for_thread = text.clone();
        let pending = std::thread::Builder::new()
            .name("directory-sha256".into())
            .spawn(move || sha256_hex(for_thread.as_bytes()))
            .ok();
        ContentHash(std::sync::Arc::new(HashState {
            hex: std::sync::OnceLock::new(),
            pending: std::sync::Mutex::new(pending),
            text,
        }))
    }

    /// A hash known already (the directory index's).
    fn known(hex: String) -> Self {
        ContentHash(std::sync::Arc::new(HashState {
            hex: std::sync::OnceLock::from(hex),
            pending: std::sync::Mutex::new(None),
            text: std::sync::Arc::default(),
        }))
    }

    /// The hash of `bytes`, computed now.
    fn now(bytes: &[u8]) -> Self {
        ContentHash(std::sync::Arc::new(HashState {
            hex: std::sync::OnceLock::from(sha256_hex(bytes)),
            pending: std::sync::Mutex::new(None),
            text: std::sync::Arc::default(),
        }))
    }

    /// The hash in hex, waiting for the thread computing it if need be.
    pub fn hex(&self) -> &str {
        self.0.hex.get_or_init(|| {
            let thread = self.0.pending.lock().ok().and_then(|mut p| p.take());
            thread
                .and_then(|t| t.join().ok())
                .unwrap_or_else(|| sha256_hex(self.0.text.as_bytes()))
        })
    }
}

/// The hex text, as the `String` this once was (audit records borrow it).
impl std::ops::Deref for ContentHash {
    type Target = str;
    fn deref(&self) -> &str {
        self.hex()
    }
}

impl std::fmt::Display for ContentHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.hex())
    }
}

impl std::fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.hex())
    }
}

impl PartialEq for ContentHash {
    fn eq(&self, other: &Self) -> bool {
        self.hex() == other.hex()
    }
}

impl Eq for ContentHash {}

impl serde::Serialize for ContentHash {
    fn serialize<Ser: serde::Serializer>(&self, s: Ser) -> Result<Ser::Ok, Ser::Error> {
        s.serialize_str(self.hex())
    }
}

/// A directory file older than `settings.directory_max_age`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staleness {
    pub path: PathBuf,
    pub generated: String,
    pub age: Duration,
    pub max_age: Duration,
    pub action: Stale,
}

impl std::fmt::Display for Staleness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the directory file {} was generated at {}, {} ago, longer ago than settings.directory_max_age ({}); renew it (re-run whatever writes it, and check its cron job or timer)",
            self.path.display(),
            self.generated,
            human(self.age),
            human(self.max_age)
        )
    }
}

impl super::Settings {
    /// The directory file's staleness at `now`, if it is stale.
    pub fn directory_staleness(&self, now: SystemTime) -> Option<Staleness> {
        let stamp = self.directory.as_ref()?;
        let max_age = self.directory_max_age?;
        let now = unix(now);
        let age = Duration::from_secs(u64::try_from(now - stamp.generated_unix).unwrap_or(0));
        (age > max_age).then(|| Staleness {
            path: stamp.path.clone(),
            generated: stamp.generated.clone(),
            age,
            max_age,
            action: self.directory_stale,
        })
    }
}

/// SHA-256 of some bytes, in hex.
pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Validator<'_> {
    /// The policy's people and groups merged with those of the directory
    /// file it names (relative paths are relative to the policy's folder).
    /// A directory file that cannot be read is a problem at the
    /// `directory = ...` line; its own problems are reported in it.
    pub(super) fn people_and_groups(
        &mut self,
        policy: &Path,
        named: Option<S<String>>,
        people: BTreeMap<S<String>, S<raw::Person>>,
        groups: BTreeMap<S<String>, Vec<S<String>>>,
    ) -> (Directory, KeyRing, Option<DirectoryStamp>) {
        let mut builder = Builder::default();
        builder.people(self, people);
        let mut stamp = None;
        let mut directory_groups = None;
        let mut text = String::new();
        let mut path = PathBuf::new();
        let mut read_ok = false;
        if let Some(named) = named {
            let base = policy.parent().unwrap_or(Path::new("."));
            path = base.join(named.get_ref());
            if !self.directory_thorough() {
                if let Some(start) = indexed::start(&path) {
                    return self.through_index(builder, start, groups, path);
                }
            }
            match read(&path) {
                Ok(t) => {
                    text = t;
                    read_ok = true;
                }
                Err(message) => self.error(named.span(), message),
            }
        }
        let text = std::sync::Arc::new(text);
        let mut dv = Validator::for_file(&text, &path);
        dv.set_thorough(self.directory_thorough());
        if read_ok {
            let file = if dv.thorough() {
                parse(&mut dv, &text)
            } else {
                lazily(&mut dv, &mut builder, &text, &path)
            };
            if let Some(file) = file {
                builder.people(&mut dv, file.people);
                directory_groups = Some(file.groups);
                if let Some(generated) = generated(&mut dv, &file.generated) {
                    stamp = Some(DirectoryStamp {
                        path: path.clone(),
                        generated: file.generated.get_ref().to_string(),
                        generated_unix: generated,
                        sha256: ContentHash::start(text.clone()),
                        indexed: false,
                    });
                }
            }
        }
        builder.groups(self, groups, false);
        if let Some(groups) = directory_groups {
            builder.groups(&mut dv, groups, true);
        }
        let problems = dv.into_problems();
        self.directory_failed(!path.as_os_str().is_empty() && (!read_ok || !problems.is_empty()));
        self.extend(problems);
        let (directory, keys) = builder.finish();
        (directory, keys, stamp)
    }
}

impl Validator<'_> {
    /// [`Self::people_and_groups`] through the directory file's index: the
    /// same checks, in the same order, of the pieces the index points at.
    fn through_index(
        &mut self,
        mut builder: Builder,
        start: indexed::Start,
        groups: BTreeMap<S<String>, Vec<S<String>>>,
        path: PathBuf,
    ) -> (Directory, KeyRing, Option<DirectoryStamp>) {
        let indexed::Start {
            people,
            top,
            top_lines,
            generated: at,
            groups: directory_groups,
            sha256,
        } = start;
        let mut dv = Validator::for_excerpt(&top, &path, top_lines);
        dv.set_thorough(false);
        builder.lazy_people(&mut dv, Box::new(people));
        let stamp = generated(&mut dv, &at).map(|unix| DirectoryStamp {
            path: path.clone(),
            generated: at.get_ref().to_string(),
            generated_unix: unix,
            sha256: ContentHash::known(sha256),
            indexed: true,
        });
        builder.groups(self, groups, false);
        builder.groups(&mut dv, directory_groups, true);
        let problems = dv.into_problems();
        self.directory_failed(!problems.is_empty());
        self.extend(problems);
        let (directory, keys) = builder.finish();
        (directory, keys, stamp)
    }
}

/// Writes the index of a directory file validated in full (see [`index`]).
pub fn write_index(path: &Path, sha256: &str) -> Result<PathBuf, index::IndexError> {
    index::write(path, sha256)
}

/// Validates a directory file completely: the one full check, used by
/// `trailgate check` (through the policy) and by whatever writes the file
/// (`trailgate directory sync`, before it renames the new file into place).
/// Syntax and types; every person (id, e-mails, logins, user ids, each SSH
/// key parsed, each OpenPGP key parsed and its self-signatures verified);
/// no address, login or user id of two people; groups naming only people
/// of the file, e-mails or valid globs; `generated` a full time, not in the
/// future. `path` is only used in messages (problems carry it with their
/// line and column). On success, the file's stamp (generation time and
/// SHA-256 of `text`). Clashes with a policy's own `[people]`/`[groups]`
/// are the policy's check (`trailgate check`), not this one's.
pub fn validate_directory(path: &Path, text: &str) -> Result<DirectoryStamp, Vec<Problem>> {
    let mut dv = Validator::for_file(text, path);
    let mut builder = Builder::default();
    let mut stamp = None;
    if let Some(file) = parse(&mut dv, text) {
        builder.people(&mut dv, file.people);
        builder.groups(&mut dv, file.groups, true);
        if let Some(generated) = generated(&mut dv, &file.generated) {
            stamp = Some(DirectoryStamp {
                path: path.to_owned(),
                generated: file.generated.get_ref().to_string(),
                generated_unix: generated,
                sha256: ContentHash::now(text.as_bytes()),
                indexed: false,
            });
        }
    }
    let mut problems = dv.into_problems();
    match stamp {
        Some(stamp) if problems.is_empty() => Ok(stamp),
        _ => {
            problems.sort_by_key(|p| (p.line, p.column));
            Err(problems)
        }
    }
}

/// Reads a directory file: bounded, UTF-8. The message says what is wrong.
fn read(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            // Sized once: growing a buffer of megabytes by doubling copies it.
            let size = f.metadata().map_or(0, |m| m.len().min(MAX_DIRECTORY_BYTES));
            bytes.reserve_exact(usize::try_from(size).unwrap_or(0).saturating_add(1));
            f.take(MAX_DIRECTORY_BYTES + 1).read_to_end(&mut bytes)
        })
        .map_err(|e| {
            format!(
                "cannot read the directory file {}: {e}; pushes cannot be judged without it",
                path.display()
            )
        })?;
    if bytes.len() as u64 > MAX_DIRECTORY_BYTES {
        return Err(format!(
            "the directory file {} is larger than {} MiB",
            path.display(),
            MAX_DIRECTORY_BYTES >> 20
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(e.as_bytes());
        let (line, column) = line_col(&text, offset);
        format!(
            "the directory file {} is not valid UTF-8 (TOML must be UTF-8) at {line}:{column}",
            path.display()
        )
    })
}

/// The hook's reading of the directory file: checked line by line and its
/// people left to be read when a push needs them ([`lazy`]), or, when the
/// file is not in the plain layout, read in full ([`parse`]). The file's
/// people are in `builder` or, read in full, in what is returned.
fn lazily(
    dv: &mut Validator<'_>,
    builder: &mut Builder,
    text: &std::sync::Arc<String>,
    path: &Path,
) -> Option<raw::DirectoryFile> {
    let Some(scan) = fast::scan(text) else {
        return parse(dv, text);
    };
    let Ok(lazy) = lazy::Lazy::new(text.clone(), path.to_owned(), scan.sections) else {
        // A person's table twice: the TOML parser says where.
        return parse(dv, text);
    };
    builder.lazy_people(dv, Box::new(lazy));
    Some(raw::DirectoryFile {
        generated: scan.generated,
        people: BTreeMap::new(),
        groups: scan.groups,
    })
}

/// Parses the directory file's TOML, reporting a syntax or type error at
/// its position (with a hint when the file looks cut short).
fn parse(dv: &mut Validator<'_>, text: &str) -> Option<raw::DirectoryFile> {
    // The plain layout is read fast; the TOML parser has the last word on
    // everything else (fast::parse gives up rather than decide).
    if let Some(file) = fast::parse(text) {
        return Some(file);
    }
    match toml::from_str::<raw::DirectoryFile>(text) {
        Ok(file) => Some(file),
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let mut message = e.message().trim().to_owned();
            if message.contains("missing field `groups`")
                || message.contains("missing field `generated`")
            {
                message.push_str("; a directory file starts with `generated = <time>` and ends with a `[groups]` table (it may be empty): was it cut short while being written?");
            }
            dv.error(span, message);
            None
        }
    }
}

/// `generated` in seconds since the epoch: a full RFC 3339 time with an
/// offset, not in the future.
fn generated(dv: &mut Validator<'_>, value: &S<toml::value::Datetime>) -> Option<i64> {
    let dt = value.get_ref();
    let (Some(date), Some(time), Some(offset)) = (dt.date, dt.time, dt.offset) else {
        dv.error(value.span(), format!("generated = {dt} is not a full time with a time zone; write it as RFC 3339 in UTC, for example 2026-12-02T03:00:00Z"));
        return None;
    };
    let offset_minutes = match offset {
        toml::value::Offset::Z => 0,
        toml::value::Offset::Custom { minutes } => i64::from(minutes),
    };
    let days = days_from_civil(
        i64::from(date.year),
        i64::from(date.month),
        i64::from(date.day),
    );
    let secs = days * 86_400
        + i64::from(time.hour) * 3600
        + i64::from(time.minute) * 60
        + i64::from(time.second.unwrap_or(0))
        - offset_minutes * 60;
    let now = unix(SystemTime::now());
    if secs > now + FUTURE_SLACK.as_secs() as i64 {
        dv.error(value.span(), format!("generated = {dt} is in the future (this machine's clock says {}); the clock of the machine that wrote the file, or of this one, is wrong", rfc3339(now)));
        return None;
    }
    Some(secs)
}

fn unix(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` of seconds since the epoch.
fn rfc3339(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's days_from_civil: days since 1970-01-01.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `settings.directory_max_age`: a number and a unit (`s`, `m`, `h`, `d`).
pub(super) fn parse_age(text: &str) -> Option<Duration> {
    let text = text.trim();
    let unit_at = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(unit_at);
    let n: u64 = number.parse().ok()?;
    let scale = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(scale)
        .filter(|_| n > 0)
        .map(Duration::from_secs)
}

/// `26h`, `3d 2h`, `90s`: roughly, for messages (exactly for whole units).
fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s < 120 {
        format!("{s}s")
    } else if s.is_multiple_of(86_400) {
        format!("{}d", s / 86_400)
    } else if s < 172_800 && (s >= 7200 || s.is_multiple_of(3600)) {
        format!("{}h", s / 3600)
    } else if s < 7200 {
        format!("{}m", s / 60)
    } else {
        format!("{}d {}h", s / 86_400, s % 86_400 / 3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_take_one_unit() {
        assert_eq!(parse_age("26h"), Some(Duration::from_secs(26 * 3600)));
        assert_eq!(parse_age("90m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_age("2d"), Some(Duration::from_secs(172_800)));
        assert_eq!(parse_age("0h"), None);
        assert_eq!(parse_age("26"), None);
        assert_eq!(parse_age("h"), None);
        assert_eq!(parse_age("1w"), None);
    }

    #[test]
    fn durations_read_in_whole_units() {
        let h = |s| human(Duration::from_secs(s));
        assert_eq!(
            [
                h(90),
                h(3600),
                h(5400),
                h(26 * 3600),
                h(172_800),
                h(200_000)
            ],
            ["90s", "1h", "90m", "26h", "2d", "2d 7h"]
        );
    }

    #[test]
    fn validate_directory_checks_everything_and_gives_the_stamp() {
        let path = Path::new("/var/lib/trailgate/directory.toml");
        let good = "generated = 2026-01-02T03:04:05Z\n[people.a]\nemails = [\"a@example.com\"]\n[groups]\nsenior = [\"a\"]\n";
        let stamp = validate_directory(path, good).unwrap();
        assert_eq!(stamp.generated, "2026-01-02T03:04:05Z");
        assert_eq!(stamp.sha256.hex(), sha256_hex(good.as_bytes()));
        // What the hook leaves until an entry is read is checked here: a
        // key that is not armour, an address of two people, an unknown
        // person in a group, each at its line and column.
        let bad = "generated = 2026-01-02T03:04:05Z\n[people.a]\nemails = [\"a@example.com\"]\ngpg_keys = [\"x\"]\n[people.b]\nemails = [\"A@example.com\"]\n[groups]\nsenior = [\"c\"]\n";
        let problems = validate_directory(path, bad).unwrap_err();
        let at: Vec<(usize, usize)> = problems.iter().map(|p| (p.line, p.column)).collect();
        assert_eq!(at, [(4, 13), (6, 11), (8, 11)], "{problems:?}");
        assert!(problems.iter().all(|p| p.file.as_deref() == Some(path)));
        // Syntax: one problem, where TOML says.
        let cut = &good[..good.len() - 8];
        assert_eq!(validate_directory(path, cut).unwrap_err().len(), 1);
    }

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(rfc3339(1_709_210_096), "2024-02-29T12:34:56Z");
    }
}
