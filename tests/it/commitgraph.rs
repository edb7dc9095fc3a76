//! The commit-graph reader (`trailgate::git::commitgraph`) against the commit
//! objects git wrote it from, as one file and as a split chain, and the walk
//! with the graph against the walk without it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use trailgate::git::commitgraph::CommitGraph;
use trailgate::git::object as commit;
use trailgate::git::walk::Walker;
use trailgate::git::{ObjectId, Repo as Repository};

use crate::support::hermetic;

fn git(dir: &Path, home: &Path, args: &[&str], stdin: Option<&[u8]>) -> String {
    let mut cmd = Command::new("git");
    hermetic(&mut cmd, home);
    cmd.current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.unwrap_or(b""))
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A history with merges, an octopus merge, dates past 2^32 and dates that
/// go backwards, on two branches: commits `first..first + count`.
fn stream(first: usize, count: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in first..first + count {
        // Every 7th commit jumps past 2^32 seconds; every 5th goes backwards.
        let date: u64 = if i % 7 == 0 {
            5_000_000_000 + i as u64
        } else if i % 5 == 0 {
            1_000_000_000 - i as u64
        } else {
            1_600_000_000 + 60 * i as u64
        };
        let branch = if i % 3 == 0 { "side" } else { "main" };
        write!(
            out,
            "commit refs/heads/{branch}\nmark :{i}\ncommitter C <c@example.com> {date} +0000\ndata 2\nc\n"
        )
        .unwrap();
        // Marks live for one fast-import run; the first commit of a later
        // run continues its branch's tip.
        if i > first {
            writeln!(out, "from :{}", i - 1).unwrap();
        }
        if i >= first + 3 && i % 11 == 0 {
            writeln!(out, "merge :{}", i - 3).unwrap();
        }
        if i >= first + 6 && i % 17 == 0 {
            // An octopus: four parents in all.
            for back in [2, 4, 6] {
                writeln!(out, "merge :{}", i - back).unwrap();
            }
        }
        writeln!(out, "M 644 inline f{}\ndata 2\n{}\n", i % 9, i % 10).unwrap();
    }
    out
}

fn every_commit_agrees_with_its_object(dir: &Path, home: &Path, graph: &CommitGraph) -> usize {
    let repo = Repository::open(dir).unwrap();
    let odb = repo.objects().unwrap();
    let mut n = 0;
    for line in git(dir, home, &["rev-list", "--all"], None).lines() {
        let oid = ObjectId::from_hex(line.as_bytes()).unwrap();
        let object = odb.read(oid).unwrap();
        let parsed = commit::parse(object.data(), oid.kind()).unwrap();
        let from_graph = graph.get(oid).expect("listed in the graph");
        assert_eq!(from_graph.parents, parsed.parents, "parents of {oid}");
        assert_eq!(from_graph.time, parsed.committer.time, "date of {oid}");
        n += 1;
    }
    n
}

#[test]
fn the_commit_graph_gives_each_commit_the_parents_and_date_of_its_object() {
    let tmp = tempfile::tempdir().unwrap();
    let (home, dir) = (tmp.path().join("home"), tmp.path().join("r.git"));
    std::fs::create_dir_all(&home).unwrap();
    git(tmp.path(), &home, &["init", "-q", "--bare", "r.git"], None);
    git(
        &dir,
        &home,
        &["fast-import", "--quiet"],
        Some(&stream(1, 300)),
    );
    git(&dir, &home, &["commit-graph", "write", "--reachable"], None);
    let graph = CommitGraph::open(&dir.join("objects")).expect("a commit-graph");
    assert_eq!(
        every_commit_agrees_with_its_object(&dir, &home, &graph),
        300
    );
    let missing = ObjectId::from_hex(crate::support::fake_id("1234567890").as_bytes()).unwrap();
    assert!(graph.get(missing).is_none());

    // A split chain: the older part of the history in a first layer, the
    // rest in a second one over it.
    std::fs::remove_file(dir.join("objects/info/commit-graph")).unwrap();
    let old = git(&dir, &home, &["rev-parse", "main~60"], None);
    git(
        &dir,
        &home,
        &["commit-graph", "write", "--split", "--stdin-commits"],
        Some(old.as_bytes()),
    );
    git(
        &dir,
        &home,
        &["commit-graph", "write", "--reachable", "--split=no-merge"],
        None,
    );
    let chain =
        std::fs::read_to_string(dir.join("objects/info/commit-graphs/commit-graph-chain")).unwrap();
    assert_eq!(chain.lines().count(), 2, "two layers");
    let graph = CommitGraph::open(&dir.join("objects")).expect("a chain");
    assert_eq!(
        every_commit_agrees_with_its_object(&dir, &home, &graph),
        300
    );
}

#[test]
fn a_damaged_commit_graph_is_not_used() {
    let tmp = tempfile::tempdir().unwrap();
    let (home, dir) = (tmp.path().join("home"), tmp.path().join("r.git"));
    std::fs::create_dir_all(&home).unwrap();
    git(tmp.path(), &home, &["init", "-q", "--bare", "r.git"], None);
    git(
        &dir,
        &home,
        &["fast-import", "--quiet"],
        Some(&stream(1, 50)),
    );
    git(&dir, &home, &["commit-graph", "write", "--reachable"], None);
    let path = dir.join("objects/info/commit-graph");
    let good = std::fs::read(&path).unwrap();
    crate::support::make_writable(&path);
    for cut in [0, 4, 8, 100, good.len() / 2] {
        std::fs::write(&path, &good[..cut]).unwrap();
        assert!(
            CommitGraph::open(&dir.join("objects")).is_none(),
            "cut at {cut}"
        );
    }
    let mut bad = good.clone();
    bad[4] = 2; // an unknown version
    std::fs::write(&path, &bad).unwrap();
    assert!(CommitGraph::open(&dir.join("objects")).is_none());
}

#[test]
fn the_walk_finds_the_same_commits_with_and_without_the_commit_graph() {
    let tmp = tempfile::tempdir().unwrap();
    let (home, dir) = (tmp.path().join("home"), tmp.path().join("r.git"));
    std::fs::create_dir_all(&home).unwrap();
    git(tmp.path(), &home, &["init", "-q", "--bare", "r.git"], None);
    git(
        &dir,
        &home,
        &["fast-import", "--quiet"],
        Some(&stream(1, 260)),
    );
    // Only part of the history is in the graph, as after pushes since the
    // last gc.
    let old = git(&dir, &home, &["rev-parse", "main~30", "side~20"], None);
    git(
        &dir,
        &home,
        &["commit-graph", "write", "--stdin-commits"],
        Some(old.as_bytes()),
    );
    let repo = Repository::open(&dir).unwrap();
    let revs = |spec: &str| -> Vec<ObjectId> {
        git(&dir, &home, &["rev-list", spec], None)
            .lines()
            .map(|l| ObjectId::from_hex(l.as_bytes()).unwrap())
            .collect()
    };
    let main = revs("main");
    let side = revs("side");
    let cases: Vec<(ObjectId, Vec<ObjectId>)> = vec![
        (main[0], vec![]),
        (main[0], vec![side[0]]),
        (side[0], vec![main[0]]),
        (main[0], vec![main[40], side[70]]),
        (main[0], main.iter().step_by(9).copied().collect()),
    ];
    for (tip, hidden) in cases {
        let mut plain = Walker::new(repo.objects().unwrap());
        let mut graphed =
            Walker::new(repo.objects().unwrap()).with_commit_graph(dir.join("objects"));
        let a = plain.walk(&[tip], &hidden, 0).unwrap();
        let b = graphed.walk(&[tip], &hidden, 0).unwrap();
        let mut a_sorted = a.clone();
        let mut b_sorted = b.clone();
        a_sorted.sort();
        b_sorted.sort();
        assert_eq!(a_sorted, b_sorted, "tip {tip}, {} hidden", hidden.len());
        assert!(graphed.commits_from_graph > 0);
        // And both agree with git.
        let mut args: Vec<String> = vec!["rev-list".into(), tip.to_string()];
        args.extend(hidden.iter().map(|h| format!("^{h}")));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut expected: Vec<ObjectId> = git(&dir, &home, &args, None)
            .lines()
            .map(|l| ObjectId::from_hex(l.as_bytes()).unwrap())
            .collect();
        expected.sort();
        assert_eq!(a_sorted, expected);
    }
}

/// A commit written only to a separate object directory, as git's
/// quarantine holds a push's new objects.
fn quarantined_commit(
    dir: &Path,
    home: &Path,
    quarantine: &Path,
    parent: &str,
    message: &str,
) -> ObjectId {
    let mut cmd = Command::new("git");
    hermetic(&mut cmd, home);
    let out = cmd
        .current_dir(dir)
        .env("GIT_OBJECT_DIRECTORY", quarantine)
        .env("GIT_ALTERNATE_OBJECT_DIRECTORIES", dir.join("objects"))
        .args([
            "commit-tree",
            &format!("{parent}^{{tree}}"),
            "-p",
            parent,
            "-m",
            message,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ObjectId::from_hex(String::from_utf8(out.stdout).unwrap().trim().as_bytes()).unwrap()
}

#[test]
fn a_walk_that_finds_only_new_commits_stops_without_the_slop_and_agrees_with_git() {
    let tmp = tempfile::tempdir().unwrap();
    let (home, dir) = (tmp.path().join("home"), tmp.path().join("r.git"));
    let quarantine = tmp.path().join("incoming");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&quarantine).unwrap();
    git(tmp.path(), &home, &["init", "-q", "--bare", "r.git"], None);
    git(
        &dir,
        &home,
        &["fast-import", "--quiet"],
        Some(&stream(1, 120)),
    );
    let main = git(&dir, &home, &["rev-parse", "main"], None)
        .trim()
        .to_owned();
    // An old commit no ref reaches (pushed once to a branch since deleted).
    let dangling = git(
        &dir,
        &home,
        &[
            "commit-tree",
            "main^{tree}",
            "-p",
            "main~3",
            "-m",
            "dangling",
        ],
        None,
    )
    .trim()
    .to_owned();
    let new = quarantined_commit(&dir, &home, &quarantine, &main, "new");
    let on_dangling = quarantined_commit(&dir, &home, &quarantine, &dangling, "on dangling");

    let hook_view = || Repository::open_with(&dir, std::slice::from_ref(&quarantine)).unwrap();
    let walk = |tip: ObjectId, with_store: bool| {
        let repo = hook_view();
        let mut walker = Walker::new(repo.objects().unwrap());
        if with_store {
            walker = walker.with_store(Some(Repository::open(&dir).unwrap()));
        }
        let hidden = [
            ObjectId::from_hex(main.as_bytes()).unwrap(),
            ObjectId::from_hex(
                git(&dir, &home, &["rev-parse", "side"], None)
                    .trim()
                    .as_bytes(),
            )
            .unwrap(),
        ];
        let mut handed = Vec::new();
        let walked = walker
            .walk_with(&[tip], &hidden, 0, true, &mut |oid, _| handed.push(oid))
            .unwrap();
        // Every commit found was read by this walk, so its bytes were handed
        // over; a second walk of the same walker reads nothing and says so.
        assert!(walked.not_handed.is_empty(), "{:?}", walked.not_handed);
        assert!(walked.commits.iter().all(|c| handed.contains(&c)));
        let again = walker
            .walk_with(&[tip], &hidden, 0, true, &mut |oid, _| {
                panic!("{oid} read twice")
            })
            .unwrap();
        assert_eq!(again.not_handed, again.commits);
        assert_eq!(again.commits, walked.commits);
        let mut found = walked.commits.to_vec();
        found.sort();
        (found, walker.commits_read)
    };

    // Only new commits: the same answer, with fewer commits read.
    let (plain, plain_reads) = walk(new, false);
    let (early, early_reads) = walk(new, true);
    assert_eq!(plain, vec![new]);
    assert_eq!(early, plain);
    assert!(
        early_reads < plain_reads,
        "{early_reads} reads with the store, {plain_reads} without"
    );

    // An old commit among those found: git's rule stands, and the dangling
    // commit (no ref reaches it) is judged.
    let (early, _) = walk(on_dangling, true);
    let mut expected = vec![
        on_dangling,
        ObjectId::from_hex(dangling.as_bytes()).unwrap(),
    ];
    expected.sort();
    assert_eq!(early, expected);

    // The shortcut that looks at no hidden tip: the same answer when every
    // old commit the new ones lead to is hidden, and no answer otherwise.
    let new_only = |tip: ObjectId, hidden: &[ObjectId]| {
        let repo = hook_view();
        let mut walker =
            Walker::new(repo.objects().unwrap()).with_store(Some(Repository::open(&dir).unwrap()));
        let mut handed = 0;
        let walked = walker
            .walk_new_only(&[tip], hidden, 0, &mut |_, _| handed += 1)
            .unwrap();
        walked.map(|w| {
            assert_eq!(handed, w.commits.len());
            assert!(w.not_handed.is_empty());
            w.commits.to_vec()
        })
    };
    let main_oid = ObjectId::from_hex(main.as_bytes()).unwrap();
    let second = {
        let hex = new.to_string();
        quarantined_commit(&dir, &home, &quarantine, &hex, "second new")
    };
    assert_eq!(new_only(second, &[main_oid]), Some(vec![second, new]));
    assert_eq!(new_only(new, &[main_oid]), Some(plain));
    // main~1 hidden instead: main itself is old and not hidden, so the
    // answer would also hold main; the shortcut gives none.
    let below = ObjectId::from_hex(
        git(&dir, &home, &["rev-parse", "main~1"], None)
            .trim()
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(new_only(new, &[below]), None);
    // Only the dangling commit leads on, and nothing hides it.
    assert_eq!(new_only(on_dangling, &[main_oid]), None);
    // An old tip is not a new commit.
    assert_eq!(new_only(main_oid, &[below]), None);
}
