//! A path that stands for a directory (red team, after issue 13): a
//! symbolic link or a submodule (gitlink) named like a critical directory
//! is that directory for whatever reads the checkout. Bumping a submodule
//! at `infra` changes all of `infra/**`; a symlink `deploy -> src` makes
//! every later change under `src/` one under `deploy/`. `touches` globs
//! must select the commit that puts (or moves) such an entry at a path a
//! glob would match as a directory, while a regular file or an entry
//! elsewhere selects nothing more than before.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;

/// A rule that only a `touches` condition selects, with a trailer any
/// commit under test lacks: selected means rejected.
fn world() -> World {
    let w = World::with_policy(&policy(
        r#"
[[rule]]
name = "critical-paths"
refs = ["refs/heads/main"]
when = { touches = ["infra/**", "db/migrations/**", "deploy/*.yml"] }
require = { trailers = [ { key = "Reviewed-Critical", value = "." } ] }
"#,
    ));
    w.commit(&CAROL, "a plain file\n");
    w.push(&["origin", "main"]).assert_accepted_silently();
    w
}

/// A commit on the clone's `main` whose tree is its parent's plus `entry`
/// (`MODE TYPE OID\tNAME`), made with plumbing so that gitlinks need no
/// submodule.
fn commit_with_entry(w: &World, entry: &str, subject: &str) -> String {
    let listing = w.git(&["ls-tree", "HEAD"]);
    let tree_input = format!("{listing}\n{entry}\n");
    let tree = run_git_stdin(w, &["mktree"], &tree_input);
    let parent = w.git(&["rev-parse", "HEAD"]);
    let commit = w.git(&["commit-tree", &tree, "-p", &parent, "-m", subject]);
    w.git(&["update-ref", "refs/heads/main", &commit]);
    commit
}

fn run_git_stdin(w: &World, args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut cmd = std::process::Command::new("git");
    cmd.args(args)
        .current_dir(&w.work)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    hermetic(&mut cmd, &w.home);
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "git {args:?} failed");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn head(w: &World) -> String {
    w.git(&["rev-parse", "HEAD"])
}

#[test]
fn attack_bumping_a_submodule_named_like_a_critical_directory() {
    let w = world();
    let target = head(&w);
    commit_with_entry(
        &w,
        &format!("160000 commit {target}\tinfra"),
        "infra as a submodule",
    );
    let run = w.push(&["origin", "main"]);
    run.assert_rejected_with(1);
    run.assert_says("critical-paths");
}

#[test]
fn attack_symlink_named_like_a_critical_directory() {
    let w = world();
    let link = run_git_stdin(&w, &["hash-object", "-w", "--stdin"], "src");
    commit_with_entry(&w, &format!("120000 blob {link}\tdeploy"), "deploy -> src");
    w.push(&["origin", "main"]).assert_rejected_with(1);
    // Deeper: a link standing for `db/migrations` inside a real `db/`.
    let w = world();
    let link = run_git_stdin(&w, &["hash-object", "-w", "--stdin"], "../sql");
    let db = run_git_stdin(
        &w,
        &["mktree"],
        &format!("120000 blob {link}\tmigrations\n"),
    );
    commit_with_entry(&w, &format!("040000 tree {db}\tdb"), "db/migrations -> sql");
    w.push(&["origin", "main"]).assert_rejected_with(1);
}

#[test]
fn regular_files_and_links_elsewhere_select_nothing_more() {
    let w = world();
    // A regular file named `infra` cannot stand for a directory.
    let blob = run_git_stdin(&w, &["hash-object", "-w", "--stdin"], "text");
    commit_with_entry(
        &w,
        &format!("100644 blob {blob}\tinfra"),
        "a file named infra",
    );
    // A link and a submodule whose names no glob would enter.
    let link = run_git_stdin(&w, &["hash-object", "-w", "--stdin"], "infra");
    commit_with_entry(&w, &format!("120000 blob {link}\tdocs"), "docs link");
    let target = head(&w);
    commit_with_entry(&w, &format!("160000 commit {target}\tvendor"), "vendor");
    // `db` alone is no critical directory: only `db/migrations` is.
    let db_link = run_git_stdin(&w, &["hash-object", "-w", "--stdin"], "x");
    commit_with_entry(
        &w,
        &format!("120000 blob {db_link}\tdeployment"),
        "near miss",
    );
    w.push(&["origin", "main"]).assert_accepted_silently();
}
