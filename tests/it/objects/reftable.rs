//! trailgate's reftable reader against git: every ref of a stack git wrote
//! (direct refs, peeled tags, symbolic refs, dangling ones, deletions and
//! updates spread over several tables, small blocks with an index, a
//! compacted stack) reads as `git for-each-ref` and `git symbolic-ref`
//! read it, in both object formats.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Command;

use trailgate::git::reftable::{read_stack, RefValue};

fn git(dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write;
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("GIT_COMMITTER_NAME", "C")
        .env("GIT_COMMITTER_EMAIL", "c@example.com")
        .env("GIT_AUTHOR_NAME", "A")
        .env("GIT_AUTHOR_EMAIL", "a@example.com")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.unwrap_or_default().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

/// What git says the refs are: direct refs by `for-each-ref`, and the
/// symbolic target of every name in `names` by `symbolic-ref`.
fn gits_answer(
    repo: &Path,
    names: &[String],
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut direct = BTreeMap::new();
    let listing = git(
        repo,
        &[
            "for-each-ref",
            "--format=%(objectname) %(symref) %(refname)",
        ],
        None,
    );
    for line in listing.lines() {
        let mut f = line.splitn(3, ' ');
        let (oid, symref, name) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        if symref.is_empty() {
            direct.insert(name.to_owned(), oid.to_owned());
        }
    }
    let mut symbolic = BTreeMap::new();
    for name in names {
        let out = Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(["symbolic-ref", "-q", "--no-recurse", name])
            .output()
            .unwrap();
        if out.status.success() {
            let target = String::from_utf8(out.stdout).unwrap().trim_end().to_owned();
            symbolic.insert(name.clone(), target);
        }
    }
    (direct, symbolic)
}

fn ours(repo: &Path, hash_len: usize) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let stack: HashMap<String, RefValue> = read_stack(&repo.join("reftable"), hash_len).unwrap();
    let mut direct = BTreeMap::new();
    let mut symbolic = BTreeMap::new();
    for (name, value) in stack {
        match value {
            RefValue::Object(raw) => {
                let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
                direct.insert(name, hex);
            }
            RefValue::Symbolic(target) => {
                symbolic.insert(name, target);
            }
        }
    }
    (direct, symbolic)
}

fn assert_reads_as_git(repo: &Path, hash_len: usize, stage: &str) {
    let (direct, symbolic) = ours(repo, hash_len);
    let mut names: Vec<String> = direct.keys().chain(symbolic.keys()).cloned().collect();
    // Names git knows and trailgate might have missed, and some that no
    // longer exist.
    names.extend(
        [
            "HEAD",
            "refs/heads/alias",
            "refs/heads/dangling",
            "refs/heads/b7",
            "refs/heads/gone",
        ]
        .map(String::from),
    );
    names.sort();
    names.dedup();
    let (git_direct, git_symbolic) = gits_answer(repo, &names);
    assert_eq!(direct, git_direct, "{stage}: direct refs");
    assert_eq!(symbolic, git_symbolic, "{stage}: symbolic refs");
}

fn check(object_format: &str, hash_len: usize, block_size: Option<&str>) {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("r.git");
    let repo_s = repo.to_str().unwrap();
    git(
        tmp.path(),
        &[
            "init",
            "-q",
            "--bare",
            "--ref-format=reftable",
            &format!("--object-format={object_format}"),
            repo_s,
        ],
        None,
    );
    git(&repo, &["config", "reftable.autoCompaction", "false"], None);
    if let Some(size) = block_size {
        git(&repo, &["config", "reftable.blockSize", size], None);
        git(&repo, &["config", "reftable.restartInterval", "3"], None);
    }
    let tree = git(&repo, &["mktree"], Some(""));
    let one = git(&repo, &["commit-tree", "-m", "one", &tree], None);
    let two = git(
        &repo,
        &["commit-tree", "-m", "two", "-p", &one, &tree],
        None,
    );
    let mut batch = String::new();
    for i in 0..600 {
        let long = "x".repeat(i % 90);
        let target = if i % 2 == 0 { &one } else { &two };
        batch.push_str(&format!(
            "create refs/heads/b{i} {target}\ncreate refs/tags/t{i}-{long} {target}\n"
        ));
    }
    git(&repo, &["update-ref", "--stdin"], Some(&batch));
    git(
        &repo,
        &["tag", "-a", "-m", "annotated", "annotated", &one],
        None,
    );
    git(
        &repo,
        &["symbolic-ref", "refs/heads/alias", "refs/heads/b1"],
        None,
    );
    git(
        &repo,
        &[
            "symbolic-ref",
            "refs/heads/dangling",
            "refs/heads/release/none",
        ],
        None,
    );
    git(&repo, &["symbolic-ref", "HEAD", "refs/heads/b0"], None);
    assert_reads_as_git(&repo, hash_len, "after the first tables");

    // Deletions and updates in newer tables override older records.
    git(&repo, &["update-ref", "-d", "refs/heads/b7"], None);
    git(&repo, &["update-ref", "refs/heads/b8", &one], None);
    git(&repo, &["update-ref", "refs/heads/gone", &two], None);
    git(&repo, &["update-ref", "-d", "refs/heads/gone"], None);
    git(
        &repo,
        &["symbolic-ref", "refs/heads/alias", "refs/heads/b2"],
        None,
    );
    git(
        &repo,
        &["update-ref", "--no-deref", "refs/heads/b9", "refs/heads/b8"],
        None,
    );
    let tables = std::fs::read_to_string(repo.join("reftable/tables.list")).unwrap();
    assert!(tables.lines().count() > 1, "several tables: {tables}");
    assert_reads_as_git(&repo, hash_len, "with updates and deletions stacked");

    git(&repo, &["pack-refs"], None);
    let tables = std::fs::read_to_string(repo.join("reftable/tables.list")).unwrap();
    assert_eq!(tables.lines().count(), 1, "compacted: {tables}");
    assert_reads_as_git(&repo, hash_len, "compacted");
}

#[test]
fn a_reftable_stack_reads_as_git_reads_it_in_sha1() {
    check("sha1", 20, None);
}

#[test]
fn a_reftable_stack_reads_as_git_reads_it_in_sha256() {
    check("sha256", 32, None);
}

#[test]
fn a_reftable_stack_of_small_blocks_with_an_index_reads_as_git_reads_it() {
    check("sha1", 20, Some("256"));
    check("sha256", 32, Some("512"));
}

#[test]
fn a_table_cut_short_is_an_error_not_a_different_set_of_refs() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("r.git");
    git(
        tmp.path(),
        &[
            "init",
            "-q",
            "--bare",
            "--ref-format=reftable",
            repo.to_str().unwrap(),
        ],
        None,
    );
    let tree = git(&repo, &["mktree"], Some(""));
    let one = git(&repo, &["commit-tree", "-m", "one", &tree], None);
    git(&repo, &["update-ref", "refs/heads/main", &one], None);
    git(&repo, &["pack-refs"], None);
    let list = std::fs::read_to_string(repo.join("reftable/tables.list")).unwrap();
    let table = repo.join("reftable").join(list.trim());
    let data = std::fs::read(&table).unwrap();
    assert!(read_stack(&repo.join("reftable"), 20).is_ok());
    for cut in [1, 10, data.len() / 2] {
        std::fs::write(&table, &data[..data.len() - cut]).unwrap();
        let err = read_stack(&repo.join("reftable"), 20)
            .unwrap_err()
            .to_string();
        assert!(err.contains(list.trim()), "{err}");
    }
    // Object names of the wrong length for the repository: an error too.
    std::fs::write(&table, &data).unwrap();
    let err = read_stack(&repo.join("reftable"), 32)
        .unwrap_err()
        .to_string();
    assert!(err.contains("20-byte"), "{err}");
}
