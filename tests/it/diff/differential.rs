//! Every commit of a generated history, diffed by trailgate and by git.

use std::fmt::Write as _;
use trailgate::git::ObjectId;

use trailgate::git::diff::{self, DiffOptions, DiffStats};

use super::generator::{Generator, Rng};
use super::oracle::{GitFile, Repo};

/// Commits in the generated history (`TRAILGATE_DIFF_COMMITS` raises it).
fn commit_count() -> usize {
    std::env::var("TRAILGATE_DIFF_COMMITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
        .max(2000)
}

/// trailgate's answer in git's shape.
fn as_git(stats: &DiffStats) -> Vec<GitFile> {
    stats
        .files
        .iter()
        .map(|f| GitFile {
            status: f.status.git_status(),
            old_path: f.old_path.clone(),
            new_path: f.new_path.clone(),
            old_mode: f.old_mode,
            new_mode: f.new_mode,
            added: f.added,
            deleted: f.deleted,
        })
        .collect()
}

fn without_counts(files: &[GitFile]) -> Vec<GitFile> {
    files
        .iter()
        .map(|f| GitFile {
            added: None,
            deleted: None,
            ..f.clone()
        })
        .collect()
}

/// Appends a readable difference report for one diff.
fn report(out: &mut String, what: &str, ours: &[GitFile], git: &[GitFile]) {
    let _ = writeln!(out, "{what}:");
    for f in git.iter().filter(|f| !ours.contains(f)) {
        let _ = writeln!(out, "  git only:       {f}");
    }
    for f in ours.iter().filter(|f| !git.contains(f)) {
        let _ = writeln!(out, "  trailgate only: {f}");
    }
    if ours.len() == git.len() && ours.iter().all(|f| git.contains(f)) {
        let _ = writeln!(out, "  (same files, different order)");
    }
}

/// What git's answers covered, so a generator change cannot quietly stop
/// exercising a case.
#[derive(Debug, Default)]
struct Coverage {
    added: usize,
    deleted: usize,
    modified: usize,
    type_changes: usize,
    exact_renames: usize,
    inexact_renames: usize,
    renames_near_threshold: usize,
    moved_between_directories: usize,
    binary: usize,
    mode_only: usize,
    gitlinks: usize,
    symlinks: usize,
    empty_commits: usize,
}

impl Coverage {
    fn tally(&mut self, files: &[GitFile]) {
        if files.is_empty() {
            self.empty_commits += 1;
        }
        for f in files {
            match f.status.as_bytes()[0] {
                b'A' => self.added += 1,
                b'D' => self.deleted += 1,
                b'M' => self.modified += 1,
                b'T' => self.type_changes += 1,
                _ if f.status == "R100" => self.exact_renames += 1,
                _ => {
                    self.inexact_renames += 1;
                    let score: u32 = f.status[1..].parse().unwrap();
                    if (50..60).contains(&score) {
                        self.renames_near_threshold += 1;
                    }
                }
            }
            let dir = |p: &Option<Vec<u8>>| {
                p.as_ref().map(|p| {
                    p.iter()
                        .rposition(|&c| c == b'/')
                        .map_or(&p[..0], |i| &p[..i])
                        .to_vec()
                })
            };
            if f.status.starts_with('R') && dir(&f.old_path) != dir(&f.new_path) {
                self.moved_between_directories += 1;
            }
            if f.added.is_none() {
                self.binary += 1;
            }
            if f.status == "M"
                && f.old_mode != f.new_mode
                && f.added == Some(0)
                && f.deleted == Some(0)
            {
                self.mode_only += 1;
            }
            if f.old_mode == Some(0o160000) || f.new_mode == Some(0o160000) {
                self.gitlinks += 1;
            }
            if f.old_mode == Some(0o120000) || f.new_mode == Some(0o120000) {
                self.symlinks += 1;
            }
        }
    }

    fn assert_broad(&self, renames: bool) {
        let mut counts = vec![
            ("added", self.added),
            ("deleted", self.deleted),
            ("modified", self.modified),
            ("type changes", self.type_changes),
            ("binary", self.binary),
            ("mode-only changes", self.mode_only),
            ("gitlinks", self.gitlinks),
            ("symlinks", self.symlinks),
            ("empty commits", self.empty_commits),
        ];
        if renames {
            counts.extend([
                ("exact renames", self.exact_renames),
                ("inexact renames", self.inexact_renames),
                ("renames at 50-59%", self.renames_near_threshold),
                ("moves between directories", self.moved_between_directories),
            ]);
        }
        for (what, n) in counts {
            assert!(
                n >= 10,
                "the generated history has only {n} {what}: {self:?}"
            );
        }
    }
}

fn check_all_commits(repo: &Repo, commits: &[ObjectId], renames: bool) -> (usize, usize) {
    let git = repo.diff_tree_commits(commits, renames);
    let mut coverage = Coverage::default();
    let r = repo.open();
    let opts = DiffOptions {
        renames,
        deadline: None,
    };
    let mut failures = String::new();
    let mut failed = 0;
    let mut files = 0;
    for &c in commits {
        let expected = git.get(&c).cloned().unwrap_or_default();
        files += expected.len();
        coverage.tally(&expected);
        let stats = diff::commit_stats(&r, c, &opts).unwrap();
        let ours = as_git(&stats);
        let mut bad = false;
        if ours != expected {
            report(
                &mut failures,
                &format!("commit {c} (stats)"),
                &ours,
                &expected,
            );
            bad = true;
        } else {
            let sum = |f: fn(&GitFile) -> Option<u64>| expected.iter().filter_map(f).sum::<u64>();
            // The limits count numstat's lines plus, where numstat says `-`
            // for a file turned binary (or back), its text side's lines.
            let text_side = |pick: fn((u64, u64)) -> u64| {
                stats
                    .files
                    .iter()
                    .filter_map(|f| f.binary_lines.map(pick))
                    .sum::<u64>()
            };
            assert!(stats
                .files
                .iter()
                .all(|f| f.binary_lines.is_none() || f.added.is_none()));
            assert_eq!(
                stats.lines_added(),
                sum(|f| f.added) + text_side(|(a, _)| a)
            );
            assert_eq!(
                stats.lines_deleted(),
                sum(|f| f.deleted) + text_side(|(_, d)| d)
            );
            assert_eq!(stats.files_changed(), expected.len());
            assert_eq!(
                stats.files_deleted(),
                expected.iter().filter(|f| f.status == "D").count()
            );
        }
        let paths = as_git(&diff::commit_paths(&r, c, &opts).unwrap());
        if paths != without_counts(&expected) {
            report(
                &mut failures,
                &format!("commit {c} (paths)"),
                &paths,
                &without_counts(&expected),
            );
            bad = true;
        }
        if bad {
            failed += 1;
            if failed >= 20 {
                break;
            }
        }
    }
    assert!(
        failed == 0,
        "trailgate and git disagree on {failed} of {} commits ({}):\n{failures}",
        commits.len(),
        if renames { "-M" } else { "--no-renames" }
    );
    eprintln!(
        "{}: {coverage:?}",
        if renames { "-M" } else { "--no-renames" }
    );
    coverage.assert_broad(renames);
    (commits.len(), files)
}

fn history() -> (Repo, Vec<ObjectId>) {
    let stream = Generator::new(0x7ea1_6a7e).history(commit_count());
    let repo = Repo::from_fast_import(&stream);
    let commits = repo.commits();
    assert!(commits.len() >= commit_count(), "{} commits", commits.len());
    (repo, commits)
}

#[test]
fn every_commit_agrees_with_git_diff_tree_numstat_with_and_without_renames() {
    let (repo, commits) = history();
    let (n, files) = check_all_commits(&repo, &commits, false);
    let (_, renamed_files) = check_all_commits(&repo, &commits, true);
    eprintln!("compared {n} commits: {files} file changes (--no-renames), {renamed_files} (-M)");

    // Net diffs between arbitrary trees, and from the empty tree.
    let r = repo.open();
    let mut rng = Rng::new(99);
    let mut failures = String::new();
    for k in 0..40 {
        let a = commits[rng.below(commits.len())];
        let b = commits[rng.below(commits.len())];
        let ta = tree_of(&r, a);
        let tb = tree_of(&r, b);
        let renames = k % 2 == 0;
        let opts = DiffOptions {
            renames,
            deadline: None,
        };
        let expected = repo.diff_tree_trees(ta, tb, renames);
        let ours = as_git(&diff::tree_stats(&r, Some(ta), tb, &opts).unwrap());
        if ours != expected {
            report(
                &mut failures,
                &format!("tree {ta} -> {tb} (renames: {renames})"),
                &ours,
                &expected,
            );
        }
        let paths = as_git(&diff::tree_paths(&r, Some(ta), tb, &opts).unwrap());
        if paths != without_counts(&expected) {
            report(
                &mut failures,
                &format!("paths {ta} -> {tb}"),
                &paths,
                &without_counts(&expected),
            );
        }
    }
    assert!(
        failures.is_empty(),
        "net diffs disagree with git:\n{failures}"
    );
}

#[test]
fn the_empty_tree_diff_lists_every_file_as_added() {
    let (repo, commits) = history_small();
    let r = repo.open();
    let last = *commits.last().unwrap();
    let tree = tree_of(&r, last);
    let stats = diff::tree_stats(&r, None, tree, &DiffOptions::renames()).unwrap();
    let listed = repo.run(&["ls-tree", "-r", "-z", "--name-only", &tree.to_string()]);
    let expected: Vec<&[u8]> = listed
        .split(|&c| c == 0)
        .filter(|p| !p.is_empty())
        .collect();
    assert_eq!(stats.paths().collect::<Vec<_>>(), expected);
    assert!(stats
        .files
        .iter()
        .all(|f| f.status == diff::ChangeKind::Added));
    assert_eq!(stats.files_deleted(), 0);
}

#[test]
fn a_missing_commit_is_an_error_that_names_it() {
    let (repo, _) = history_small();
    let r = repo.open();
    let missing = ObjectId::from_hex(crate::support::fake_id("1234567890").as_bytes()).unwrap();
    let err = diff::commit_stats(&r, missing, &DiffOptions::default()).unwrap_err();
    assert!(err.to_string().contains(&missing.to_string()), "{err}");
}

#[test]
fn a_gitlink_counts_as_one_line_and_a_mode_flip_on_a_binary_file_has_no_counts() {
    let stream = format!(
        "commit refs/heads/main\nmark :1\ncommitter a <a@b> 1 +0000\ndata 2\nc1\n\
M 160000 {one} sub\n\
M 100644 inline bin\ndata 3\na\0b\n\
M 100644 inline text\ndata 2\nt\n\n\
commit refs/heads/main\nmark :2\ncommitter a <a@b> 2 +0000\ndata 2\nc2\nfrom :1\n\
M 160000 {two} sub\n\
M 100755 inline bin\ndata 3\na\0b\n\
M 100755 inline text\ndata 2\nt\n\n",
        one = crate::support::fake_id("1"),
        two = crate::support::fake_id("2"),
    );
    let repo = Repo::from_fast_import(stream.as_bytes());
    let r = repo.open();
    let commits = repo.commits();
    let first = diff::commit_stats(&r, commits[0], &DiffOptions::default()).unwrap();
    let counts = |s: &DiffStats| {
        s.files
            .iter()
            .map(|f| (f.added, f.deleted))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        counts(&first),
        vec![(None, None), (Some(1), Some(0)), (Some(1), Some(0))]
    );
    let second = diff::commit_stats(&r, commits[1], &DiffOptions::default()).unwrap();
    assert_eq!(
        counts(&second),
        vec![(None, None), (Some(1), Some(1)), (Some(0), Some(0))]
    );
    assert_eq!(second.lines_added(), 1);
}

fn history_small() -> (Repo, Vec<ObjectId>) {
    let stream = Generator::new(7).history(60);
    let repo = Repo::from_fast_import(&stream);
    let commits = repo.commits();
    (repo, commits)
}

/// A commit's tree, from its raw object.
fn tree_of(repo: &trailgate::git::Repo, commit: ObjectId) -> ObjectId {
    let objects = repo.objects().unwrap();
    let object = objects.read(commit).unwrap();
    trailgate::git::object::parse(object.data(), commit.kind())
        .unwrap()
        .tree
        .unwrap()
}
