//! The directory index against the reader it stands in for: the same
//! answers as [`super::lazy::Lazy`] over the same file, and no answer at
//! all (the hook reads the file) from an index it cannot trust.

use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::index::{self, Table};
use super::lazy::{Lazy, Source};
use super::{fast, indexed, sha256_hex};
use crate::facts::identity::LazyPeople;
use crate::policy::people::Claim;

const KEY_A: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOHpmRbJzq2mX4MmVGrBqT9OSkQaFRjv6zKMDmfWtkH1 a";
const KEY_B: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBqQ4dEiESGqmGbdN2EpHOTrbMEG2s1oyYcMxoTvDh0A b";

/// A directory in the plain layout with what the readers must agree on:
/// addresses in mixed case, with spaces and escapes; logins, user ids, two
/// people sharing an SSH key, a person with no lists, an OpenPGP key's
/// armour, and groups of ids, addresses and globs.
fn text() -> String {
    format!(
        r#"generated = 2026-01-02T03:04:05Z # by the tests

[people.alice]
name = "Alice"
emails = ["Alice@Example.com", " alice@home.example "]
logins = ["alice-s"]
ssh_keys = ["{KEY_A}"]
user_ids = ["gitlab:1"]

[people.bob]
emails = ["bob\u0040example.com"]
logins = ["bob"]
ssh_keys = ["{KEY_A}", "{KEY_B}"]
gpg_keys = ["-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----"]

[people.nobody]

[people.dave]
emails = ["dave@example.com"]
user_ids = ["gitea:7"]

[groups]
senior = ["alice", "bob@example.com"]
leads = ["dave", "alice", "*@contractor.example"]
"#
    )
}

fn setup(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("directory.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn lazy(text: &str, path: &Path) -> Lazy {
    let scan = fast::scan(text).unwrap();
    Lazy::new(Arc::new(text.to_owned()), path.to_owned(), scan.sections).unwrap()
}

/// Every answer of one reader, as text.
fn answers(p: &dyn Source) -> Vec<String> {
    let mut out = vec![format!("len {}", p.len())];
    for i in 0..p.len() + 1 {
        out.push(format!("person {i} {:?}", p.person(i)));
    }
    for e in [
        "alice@example.com",
        "alice@home.example",
        "Alice@Example.com",
        "bob@example.com",
        "dave@example.com",
        " dave@example.com",
        "zed@example.com",
    ] {
        out.push(format!("email {e} {:?}", p.by_email(e.as_bytes())));
    }
    for l in ["alice-s", "bob", "Bob", "dave", ""] {
        out.push(format!("login {l} {:?}", p.by_login(l)));
    }
    for u in ["gitlab:1", "gitea:7", "gitlab:7"] {
        out.push(format!("user id {u} {:?}", p.by_user_id(u)));
    }
    for id in ["alice", "bob", "nobody", "dave", "carol", "Alice"] {
        out.push(format!("id {id} {:?} {:?}", p.by_id(id), p.index_of(id)));
    }
    for key in [KEY_A, KEY_B] {
        let blob = crate::facts::signature::blob(key).unwrap();
        out.push(format!("blob {:?}", p.ssh_keys_with_blob(blob)));
    }
    out.push(format!("ssh {:?}", p.all_ssh_keys()));
    out.push(format!("gpg {:?}", p.all_gpg_keys()));
    out.push(format!("problems {:?}", p.problems()));
    out
}

#[test]
fn the_index_answers_as_the_lazy_reader_does() {
    let text = text();
    let (_dir, path) = setup(&text);
    let written = index::write(&path, &sha256_hex(text.as_bytes())).unwrap();
    assert_eq!(written, path.with_file_name("directory.toml.index"));
    let start = indexed::start(&path).expect("a fresh index is trusted");
    assert_eq!(start.sha256, sha256_hex(text.as_bytes()));
    let scan = fast::scan(&text).unwrap();
    assert_eq!(start.generated.get_ref(), scan.generated.get_ref());
    let groups = |g: &std::collections::BTreeMap<
        toml::Spanned<String>,
        Vec<toml::Spanned<String>>,
    >|
     -> Vec<(String, Vec<String>)> {
        g.iter()
            .map(|(k, v)| {
                (
                    k.get_ref().clone(),
                    v.iter().map(|e| e.get_ref().clone()).collect(),
                )
            })
            .collect()
    };
    assert_eq!(groups(&start.groups), groups(&scan.groups));
    // Each group entry resolves as the lazy reader's ids do.
    let reference = lazy(&text, &path);
    for entry in start.groups.values().flatten() {
        if !entry.get_ref().contains('@') {
            assert_eq!(
                start
                    .people
                    .group_entry(entry.get_ref(), entry.span().start),
                reference.index_of(entry.get_ref()),
                "{entry:?}"
            );
        }
    }
    let (got, want) = (answers(&start.people), answers(&reference));
    assert_eq!(got, want);
    assert!(want
        .iter()
        .any(|a| a.starts_with("email alice@example.com Some(0)")));
}

#[test]
fn the_policys_claims_are_reported_where_the_file_has_them_as_without_the_index() {
    let text = text();
    let (_dir, path) = setup(&text);
    index::write(&path, &sha256_hex(text.as_bytes())).unwrap();
    let claims = || {
        vec![
            (
                Claim::Email,
                "alice@home.example".to_owned(),
                "al".to_owned(),
            ),
            (Claim::Login, "bob".to_owned(), "robert".to_owned()),
            (Claim::UserId, "gitea:7".to_owned(), "d".to_owned()),
        ]
    };
    let mut with = indexed::start(&path).unwrap().people;
    with.policy_claims(claims());
    let mut without = lazy(&text, &path);
    without.policy_claims(claims());
    // Each kind is checked on its first lookup, in both.
    assert_eq!(with.by_login("alice-s"), Some(0));
    assert_eq!(without.by_login("alice-s"), Some(0));
    assert_eq!(with.problems(), without.problems());
    assert_eq!(with.problems().len(), 1, "{:?}", with.problems());
    assert!(with.problems()[0]
        .ends_with(":12:11: `bob` already belongs to person `robert` of the policy"));
    assert_eq!(answers(&with), answers(&without));
}

/// Whether the hook would trust the index beside `path`.
fn trusted(path: &Path) -> bool {
    indexed::start(path).is_some()
}

#[test]
fn an_index_of_another_state_of_the_file_is_not_used() {
    let text = text();
    let (dir, path) = setup(&text);
    let sha = sha256_hex(text.as_bytes());
    let index_path = index::write(&path, &sha).unwrap();
    assert!(trusted(&path));
    // Edited in place, the same size: the change time moves on.
    let edited = text.replace("senior = [\"alice\"", "senior = [\"dave\" ");
    assert_eq!(edited.len(), text.len());
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .write_all_at(edited.as_bytes(), 0)
        .unwrap();
    assert!(!trusted(&path));
    // The same bytes in another file, with the index copied beside it.
    let other = dir.path().join("other.toml");
    std::fs::write(&other, &text).unwrap();
    std::fs::copy(&index_path, index::path_for(&other)).unwrap();
    assert!(!trusted(&other));
    // Written again for the edited file: trusted again.
    index::write(&path, &sha256_hex(edited.as_bytes())).unwrap();
    assert!(trusted(&path));
    // A hash that is not the file's writes nothing.
    assert!(matches!(
        index::write(&path, &sha),
        Err(index::IndexError::Changed { .. })
    ));
}

#[test]
fn a_damaged_racy_or_open_index_is_not_used_and_nothing_panics() {
    let text = text();
    let (_dir, path) = setup(&text);
    let index_path = index::write(&path, &sha256_hex(text.as_bytes())).unwrap();
    let good = std::fs::read(&index_path).unwrap();
    let put = |bytes: &[u8]| std::fs::write(&index_path, bytes).unwrap();
    for cut in [0, 7, 8, 100, 300, good.len() / 2, good.len() - 1] {
        put(&good[..cut]);
        assert!(!trusted(&path), "cut at {cut}");
    }
    let mut magic = good.clone();
    magic[7] = 2;
    put(&magic);
    assert!(!trusted(&path), "another format");
    // Racy: the file's change not strictly before the index's time stamp
    // (the header's ctime at 48..64, the stamp at 64..80).
    let mut racy = good.clone();
    racy.copy_within(48..64, 64);
    put(&racy);
    assert!(!trusted(&path), "racy");
    put(&good);
    assert!(trusted(&path));
    // Writable by others when the file is not.
    std::fs::set_permissions(&index_path, std::fs::Permissions::from_mode(0o666)).unwrap();
    assert!(!trusted(&path), "writable by others");
    std::fs::set_permissions(&index_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(trusted(&path));
    std::fs::remove_file(&index_path).unwrap();
    assert!(!trusted(&path), "no index");
}

#[test]
fn a_group_entry_the_index_resolves_wrongly_rejects_the_push_that_reads_the_person() {
    let text = text();
    let (_dir, path) = setup(&text);
    let index_path = index::write(&path, &sha256_hex(text.as_bytes())).unwrap();
    let mut bytes = std::fs::read(&index_path).unwrap();
    let (off, len) = index::table_at(&bytes, Table::GroupPeople).unwrap();
    // senior = ["alice"], leads = ["dave", "alice"]: both of Alice's
    // entries (person 0) now say Dave (person 3).
    assert_eq!(len, 12);
    let off = off as usize;
    bytes[off..off + 4].copy_from_slice(&3u32.to_le_bytes());
    bytes[off + 8..off + 12].copy_from_slice(&3u32.to_le_bytes());
    std::fs::write(&index_path, &bytes).unwrap();
    let start = indexed::start(&path).expect("a consistent-looking index");
    // Dave's table is read: the index put him where the file has Alice.
    assert!(start.people.person(3).is_none());
    let problems = start.people.problems();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("does not match this file")),
        "{problems:?}"
    );
    // And Alice's, whose entry the index took away.
    let start = indexed::start(&path).unwrap();
    assert!(start.people.person(0).is_none());
    assert!(!start.people.problems().is_empty());
    // A person's place damaged: a problem, not a panic or another person.
    let (off, _) = index::table_at(&bytes, Table::Persons).unwrap();
    let mut damaged = std::fs::read(&index_path).unwrap();
    let off = off as usize;
    damaged[off..off + 4].copy_from_slice(&5u32.to_le_bytes());
    std::fs::write(&index_path, &damaged).unwrap();
    let start = indexed::start(&path).unwrap();
    assert!(start.people.person(0).is_none());
    assert!(!start.people.problems().is_empty());
}

#[test]
fn a_file_not_in_the_plain_layout_gets_no_index() {
    let text = "generated = 2026-01-02T03:04:05Z\n[people.a]\nemails = [\n  \"a@example.com\",\n]\n[groups]\n";
    let (_dir, path) = setup(text);
    let err = index::write(&path, &sha256_hex(text.as_bytes())).unwrap_err();
    assert!(matches!(err, index::IndexError::Layout { .. }), "{err}");
    assert!(!index::path_for(&path).exists());
}

#[test]
fn reading_many_people_through_the_index_reads_as_without_it() {
    // Past the first 64 tables the index reads the whole file once.
    let mut text = String::from("generated = 2026-01-02T03:04:05Z\n");
    for i in 0..150 {
        text.push_str(&format!(
            "\n[people.u{i}]\nemails = [\"u{i}@example.com\"]\nlogins = [\"u{i}\"]\nssh_keys = [\"{KEY_A}\"]\n"
        ));
    }
    text.push_str("\n[groups]\nsenior = [\"u1\", \"u140\", \"u2@example.com\"]\n");
    let (_dir, path) = setup(&text);
    index::write(&path, &sha256_hex(text.as_bytes())).unwrap();
    let with = indexed::start(&path).unwrap().people;
    let without = lazy(&text, &path);
    for i in 0..150 {
        assert_eq!(
            format!("{:?}", with.person(i)),
            format!("{:?}", without.person(i)),
            "{i}"
        );
        let email = format!("u{i}@example.com");
        assert_eq!(with.by_email(email.as_bytes()), Some(i));
    }
    let blob = crate::facts::signature::blob(KEY_A).unwrap();
    assert_eq!(
        with.ssh_keys_with_blob(blob),
        without.ssh_keys_with_blob(blob)
    );
    assert_eq!(with.ssh_keys_with_blob(blob).len(), 150);
    assert_eq!(with.problems(), Vec::<String>::new());
}

#[test]
fn groups_between_people_and_crlf_lines_read_as_without_the_index() {
    let text = text();
    let (head, groups) = text.split_at(text.find("[groups]").unwrap());
    let moved = head.replacen("[people.dave]", &format!("{groups}\n[people.dave]"), 1);
    for text in [moved.clone(), moved.replace('\n', "\r\n")] {
        let (_dir, path) = setup(&text);
        index::write(&path, &sha256_hex(text.as_bytes())).unwrap();
        let start = indexed::start(&path).expect("trusted");
        assert_eq!(start.groups.len(), 2);
        assert_eq!(answers(&start.people), answers(&lazy(&text, &path)));
    }
}

/// Where in the header the table's (offset, length) pair is kept.
fn table_entry(bytes: &[u8], table: Table) -> usize {
    let (off, len) = index::table_at(bytes, table).unwrap();
    let mut pair = off.to_le_bytes().to_vec();
    pair.extend_from_slice(&len.to_le_bytes());
    bytes.windows(16).position(|w| w == pair).unwrap()
}

#[test]
fn counts_the_file_cannot_hold_are_not_trusted_and_cost_nothing() {
    // The red team's index: a people count whose table size wraps
    // (a panic in debug, a 576 PB allocation in release), and counts kept
    // within a sparse index file of gigabytes (400 MB, 1 GB allocated).
    let text = text();
    let (_dir, path) = setup(&text);
    let index_path = index::write(&path, &sha256_hex(text.as_bytes())).unwrap();
    let good = std::fs::read(&index_path).unwrap();
    let persons = table_entry(&good, Table::Persons);
    let (_, persons_len) = index::table_at(&good, Table::Persons).unwrap();
    // The header's people count, found by its value.
    let count = (persons_len / 12).to_le_bytes();
    let people = good[..persons].windows(8).position(|w| w == count).unwrap();
    let put = |bytes: &[u8], len: u64| {
        std::fs::write(&index_path, bytes).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&index_path)
            .unwrap()
            .set_len(len.max(bytes.len() as u64))
            .unwrap();
    };
    let started = std::time::Instant::now();
    let mut wraps = good.clone();
    wraps[people..people + 8].copy_from_slice(&((u64::MAX / 12) + 2).to_le_bytes());
    wraps[persons + 8..persons + 16].copy_from_slice(&8u64.to_le_bytes());
    put(&wraps, 0);
    assert!(!trusted(&path), "a people count whose table size wraps");
    let mut many = good.clone();
    let (off, _) = index::table_at(&good, Table::Persons).unwrap();
    many[people..people + 8].copy_from_slice(&(1u64 << 30).to_le_bytes());
    many[persons + 8..persons + 16].copy_from_slice(&(12u64 << 30).to_le_bytes());
    put(&many, off + (12 << 30));
    assert!(!trusted(&path), "a billion people in a file of a few");
    let group = table_entry(&good, Table::GroupPeople);
    let (off, _) = index::table_at(&good, Table::GroupPeople).unwrap();
    let mut members = good.clone();
    members[group + 8..group + 16].copy_from_slice(&(512u64 << 20).to_le_bytes());
    put(&members, off + (512 << 20));
    assert!(
        !trusted(&path),
        "group entries the [groups] table cannot hold"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    std::fs::remove_file(&index_path).unwrap();
    std::fs::write(&index_path, &good).unwrap();
    assert!(trusted(&path));
}

#[test]
fn a_directory_file_on_another_file_system_gets_no_index() {
    // The file a symlink onto another file system (here tmpfs), whose time
    // stamps need not step as finely as the index folder's: the stamp
    // would say nothing about the file's changes (the red team's stale
    // index, trusted after a same-second edit on a file system of whole
    // seconds).
    use std::os::unix::fs::MetadataExt;
    let Ok(shm) = tempfile::tempdir_in("/dev/shm") else {
        return;
    };
    let text = text();
    let (dir, path) = setup(&text);
    if std::fs::metadata(shm.path()).unwrap().dev() == std::fs::metadata(dir.path()).unwrap().dev()
    {
        return;
    }
    let real = shm.path().join("directory.toml");
    std::fs::write(&real, &text).unwrap();
    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink(&real, &path).unwrap();
    let err = index::write(&path, &sha256_hex(text.as_bytes())).unwrap_err();
    assert!(err.to_string().contains("another file system"), "{err}");
    // An index written beside the real file and copied beside the link is
    // not trusted either.
    let beside = index::write(&real, &sha256_hex(text.as_bytes())).unwrap();
    std::fs::copy(&beside, index::path_for(&path)).unwrap();
    assert!(trusted(&real));
    assert!(!trusted(&path));
}
