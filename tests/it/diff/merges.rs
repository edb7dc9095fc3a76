//! A merge's own changes (`trailgate::git::diff::merge_diffs`) against git:
//! `git show --remerge-diff --numstat` for two-parent merges, and
//! `git merge-tree --write-tree` for the clean merge they are measured
//! against. Octopus merges, which remerge-diff skips, against the rule
//! trailgate documents (the sequential merge).

use trailgate::git::diff::{self, DiffOptions, DiffStats, Merge};
use trailgate::git::ObjectId;

use crate::support::*;

/// A clone whose `main` has a base history: `a.txt`, `b.txt`, `lib/x.txt`
/// and `security/auth.txt`, ten lines each.
fn base() -> World {
    let w = World::new();
    for path in ["a.txt", "b.txt", "lib/x.txt", "security/auth.txt"] {
        write(&w, path, &lines(path, 10));
    }
    commit_all(&w, "Base");
    w
}

pub fn lines(tag: &str, n: usize) -> String {
    (0..n).map(|i| format!("{tag} line {i}\n")).collect()
}

pub fn write(w: &World, path: &str, content: &str) {
    let path = w.work.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

pub fn commit_all(w: &World, message: &str) -> String {
    w.git(&["add", "-A"]);
    w.git(&["commit", "-q", "--allow-empty", "-m", message]);
    w.git(&["rev-parse", "HEAD"])
}

fn oid(hex: &str) -> ObjectId {
    ObjectId::from_hex(hex.trim().as_bytes()).unwrap()
}

/// trailgate's measure of a merge in the clone.
fn measure(w: &World, merge: &str, renames: bool) -> DiffStats {
    let repo = trailgate::git::Repo::open(&w.work.join(".git")).unwrap();
    let parents = w.git(&["rev-parse", &format!("{merge}^@")]);
    let m = Merge {
        commit: oid(merge),
        parents: parents.lines().map(oid).collect(),
        tree: oid(&w.git(&["rev-parse", &format!("{merge}^{{tree}}")])),
    };
    let opts = DiffOptions {
        renames,
        deadline: None,
    };
    let mut out = diff::merge_diffs(&repo, &[m], true, &opts).unwrap();
    assert_eq!(out.len(), 1);
    out.remove(0).1
}

/// `(added, deleted, path)` sorted, numstat's way (`None` for `-`).
type Numstat = Vec<(Option<u64>, Option<u64>, String)>;

fn ours(stats: &DiffStats) -> Numstat {
    let mut v: Numstat = stats
        .files
        .iter()
        .map(|f| {
            (
                f.added,
                f.deleted,
                String::from_utf8_lossy(f.path()).into_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

/// `git show --remerge-diff --numstat --no-renames` of a merge.
fn remerge_diff(w: &World, merge: &str) -> Numstat {
    let out = w.git(&[
        "show",
        "--remerge-diff",
        "--numstat",
        "--no-renames",
        "--format=",
        merge,
    ]);
    let mut v: Numstat = out
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut parts = l.splitn(3, '\t');
            let n = |s: Option<&str>| s.and_then(|s| s.parse().ok());
            (
                n(parts.next()),
                n(parts.next()),
                parts.next().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

/// trailgate agrees with remerge-diff, and (with rename detection) with
/// `git diff-tree` from `git merge-tree --write-tree`'s tree to the merge's.
fn assert_agrees_with_git(w: &World, merge: &str) -> DiffStats {
    let stats = measure(w, merge, false);
    assert_eq!(ours(&stats), remerge_diff(w, merge), "merge {merge}");
    let clean = w
        .run_git(
            &w.work,
            &[
                "merge-tree",
                "--write-tree",
                "--allow-unrelated-histories",
                &format!("{merge}^1"),
                &format!("{merge}^2"),
            ],
        )
        .stdout
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let git = w.git(&["diff-tree", "-r", "-M", "--numstat", &clean, merge]);
    let with_renames = measure(w, merge, true);
    let (added, deleted) = git.lines().fold((0, 0), |(a, d), l| {
        let mut p = l.split('\t');
        let n = |s: Option<&str>| s.and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
        (a + n(p.next()), d + n(p.next()))
    });
    assert_eq!(with_renames.files.len(), git.lines().count(), "{git}");
    assert_eq!(
        (with_renames.lines_added(), with_renames.lines_deleted()),
        (added, deleted)
    );
    stats
}

/// Merges `branch` into the current branch without committing, lets
/// `resolve` change the result, and commits it. Conflicts are allowed.
pub fn merge_with(w: &World, branch: &str, resolve: impl FnOnce(&World)) -> String {
    let _ = w.run_git(&w.work, &["merge", "-q", "--no-ff", "--no-commit", branch]);
    resolve(w);
    w.git(&["add", "-A"]);
    w.git(&["commit", "-q", "--no-edit", "--allow-empty"]);
    w.git(&["rev-parse", "HEAD"])
}

/// A side branch off the current commit with one change, then back to main.
fn side(w: &World, branch: &str, path: &str, content: &str) -> String {
    w.git(&["checkout", "-q", "-b", branch]);
    write(w, path, content);
    let c = commit_all(w, &format!("Change {path}"));
    w.git(&["checkout", "-q", "main"]);
    c
}

#[test]
fn a_clean_merge_left_as_git_made_it_measures_nothing() {
    let w = base();
    side(&w, "topic", "a.txt", &lines("topic", 30));
    write(&w, "b.txt", &lines("main", 12));
    commit_all(&w, "Main moves on");
    let merge = merge_with(&w, "topic", |_| {});
    let stats = assert_agrees_with_git(&w, &merge);
    assert!(stats.files.is_empty(), "{stats:?}");
    // Its first-parent diff is the whole topic: what the old measure saw.
    let first = w.git(&["diff", "--numstat", &format!("{merge}^1"), &merge]);
    assert!(first.contains("a.txt"));
}

#[test]
fn a_resolution_that_deletes_and_rewrites_files_neither_side_changed_counts_them() {
    let w = base();
    side(&w, "topic", "a.txt", &lines("topic", 12));
    write(&w, "b.txt", &lines("main", 12));
    commit_all(&w, "Main moves on");
    let merge = merge_with(&w, "topic", |w| {
        w.git(&["rm", "-q", "security/auth.txt"]);
        write(w, "lib/x.txt", &lines("evil", 10));
    });
    let stats = assert_agrees_with_git(&w, &merge);
    assert_eq!(stats.files_deleted(), 1);
    assert_eq!(stats.files_changed(), 2);
    assert_eq!((stats.lines_added(), stats.lines_deleted()), (10, 20));
}

#[test]
fn a_merge_that_keeps_one_sides_tree_counts_the_dropped_security_fix() {
    let w = base();
    let mut fixed = lines("security/auth.txt", 10);
    fixed.push_str("check the token's signature\n");
    side(&w, "fix", "security/auth.txt", &fixed);
    write(&w, "b.txt", &lines("main", 12));
    commit_all(&w, "Main moves on");
    // `-s ours`: the merge records the fix as merged and drops it.
    w.git(&[
        "merge",
        "-q",
        "--no-ff",
        "-s",
        "ours",
        "-m",
        "Merge fix",
        "fix",
    ]);
    let merge = w.git(&["rev-parse", "HEAD"]);
    let stats = assert_agrees_with_git(&w, &merge);
    assert_eq!(
        ours(&stats),
        vec![(Some(0), Some(1), "security/auth.txt".to_owned())]
    );
}

#[test]
fn a_merge_of_an_unrelated_history_that_replaces_the_tree_counts_every_dropped_file() {
    let w = base();
    w.git(&["checkout", "-q", "--orphan", "other"]);
    w.git(&["rm", "-q", "-r", "-f", "."]);
    write(&w, "README", "replaced\n");
    let other = commit_all(&w, "Another history");
    w.git(&["checkout", "-q", "main"]);
    let main = w.git(&["rev-parse", "main"]);
    // The merge's tree is the other history's: every file of main is gone.
    let tree = w.git(&["rev-parse", &format!("{other}^{{tree}}")]);
    let merge = w.git(&[
        "commit-tree",
        &tree,
        "-p",
        &main,
        "-p",
        &other,
        "-m",
        "Merge another history",
    ]);
    let stats = assert_agrees_with_git(&w, &merge);
    // Initial commit's file, plus the four of the base.
    assert_eq!(stats.files_deleted(), 5, "{stats:?}");
    assert_eq!(stats.lines_added(), 0);
}

#[test]
fn a_conflicted_path_is_measured_against_the_file_with_conflict_markers() {
    let w = base();
    let mut theirs = lines("a.txt", 10);
    theirs = theirs.replace("a.txt line 4\n", "theirs 4\n");
    side(&w, "topic", "a.txt", &theirs);
    write(
        &w,
        "a.txt",
        &lines("a.txt", 10).replace("a.txt line 4\n", "ours 4\n"),
    );
    commit_all(&w, "Main changes line 4");
    let merge = merge_with(&w, "topic", |w| {
        write(
            w,
            "a.txt",
            &lines("a.txt", 10).replace("a.txt line 4\n", "both 4\n"),
        );
    });
    let stats = assert_agrees_with_git(&w, &merge);
    // The five marker lines and two sides go, the resolution comes.
    assert_eq!(ours(&stats), vec![(Some(1), Some(5), "a.txt".to_owned())]);
}

#[test]
fn an_ordinary_feature_merge_with_a_small_resolution_measures_only_the_resolution() {
    let w = base();
    w.git(&["checkout", "-q", "-b", "feature"]);
    for i in 0..5 {
        write(&w, &format!("feature/f{i}.txt"), &lines("feature", 40));
        commit_all(&w, &format!("Feature part {i}"));
    }
    write(
        &w,
        "a.txt",
        &lines("a.txt", 10).replace("line 9", "feature 9"),
    );
    commit_all(&w, "Feature touches a");
    w.git(&["checkout", "-q", "main"]);
    write(&w, "a.txt", &lines("a.txt", 10).replace("line 9", "main 9"));
    commit_all(&w, "Main touches a");
    let merge = merge_with(&w, "feature", |w| {
        write(
            w,
            "a.txt",
            &lines("a.txt", 10).replace("line 9", "merged 9"),
        );
    });
    let stats = assert_agrees_with_git(&w, &merge);
    assert_eq!(stats.files_changed(), 1);
    assert!(stats.lines_added() + stats.lines_deleted() <= 6);
}

/// An octopus merge of `main` and two topics, with the tree `tree` (`None`:
/// git's own octopus result).
fn octopus(w: &World, tree: Option<&str>) -> String {
    side(w, "t1", "a.txt", &lines("t1", 10));
    side(w, "t2", "b.txt", &lines("t2", 10));
    w.git(&["merge", "-q", "--no-ff", "-m", "Octopus", "t1", "t2"]);
    let merge = w.git(&["rev-parse", "HEAD"]);
    match tree {
        None => merge,
        Some(tree) => w.git(&[
            "commit-tree",
            tree,
            "-p",
            &format!("{merge}^1"),
            "-p",
            "t1",
            "-p",
            "t2",
            "-m",
            "Octopus",
        ]),
    }
}

#[test]
fn an_octopus_merge_is_measured_against_the_sequential_merge_of_its_parents() {
    let w = base();
    let merge = octopus(&w, None);
    assert_eq!(
        w.git(&["rev-parse", &format!("{merge}^@")]).lines().count(),
        3
    );
    assert!(
        measure(&w, &merge, true).files.is_empty(),
        "git's octopus result measures 0"
    );

    // Keeping the first parent's tree drops both topics: never "nothing".
    let w = base();
    let first = w.git(&["rev-parse", "main^{tree}"]);
    let merge = octopus(&w, Some(&first));
    let stats = measure(&w, &merge, true);
    assert_eq!(ours(&stats).len(), 2, "{stats:?}");
    assert_eq!(stats.lines_deleted(), 20);
}

#[test]
fn a_conflict_git_cannot_mark_is_measured_against_the_parents() {
    // Binary: both sides change it, the merge keeps ours. The clean tree
    // holds ours too (no markers in a binary file), so the path is measured
    // against the parent whose change it dropped.
    let w = base();
    side(&w, "topic", "logo.bin", "\0theirs\n");
    write(&w, "logo.bin", "\0ours\n");
    commit_all(&w, "Main's logo");
    let merge = merge_with(&w, "topic", |w| write(w, "logo.bin", "\0ours\n"));
    assert!(remerge_diff(&w, &merge).is_empty(), "git shows nothing");
    let stats = measure(&w, &merge, true);
    assert_eq!(ours(&stats), vec![(None, None, "logo.bin".to_owned())]);

    // Modify/delete: the fix deletes a file main changed; keeping it drops
    // the deletion, which counts as the file's lines added.
    let w = base();
    w.git(&["checkout", "-q", "-b", "fix"]);
    w.git(&["rm", "-q", "security/auth.txt"]);
    commit_all(&w, "Remove the legacy auth");
    w.git(&["checkout", "-q", "main"]);
    write(&w, "security/auth.txt", &lines("kept", 10));
    commit_all(&w, "Main edits the legacy auth");
    let merge = merge_with(&w, "fix", |w| {
        w.git(&["add", "security/auth.txt"]);
    });
    assert!(remerge_diff(&w, &merge).is_empty(), "git shows nothing");
    let stats = measure(&w, &merge, true);
    assert_eq!(
        ours(&stats),
        vec![(Some(10), Some(0), "security/auth.txt".to_owned())]
    );
}

#[test]
fn a_merge_of_more_than_64_parents_cannot_be_measured() {
    let w = base();
    let head = oid(&w.git(&["rev-parse", "HEAD"]));
    let tree = oid(&w.git(&["rev-parse", "HEAD^{tree}"]));
    let repo = trailgate::git::Repo::open(&w.work.join(".git")).unwrap();
    let m = Merge {
        commit: head,
        parents: vec![head; 65],
        tree,
    };
    let err = diff::merge_diffs(&repo, &[m], true, &DiffOptions::renames()).unwrap_err();
    assert!(err.to_string().contains("65 parents"), "{err}");
}
