//! `trailgate install` refuses targets where the hook would never run, and
//! warns loudly about repositories where it would reject every push: each
//! with what to do instead, as a command that keeps the options given, and
//! every target's problem reported at once. Nothing is written when any
//! target is refused.

use super::*;

fn world() -> (World, String) {
    let w = World::new();
    let policy = write_file(&w, "policy.toml", &policy(SENIOR_RULE));
    (w, policy)
}

#[test]
fn install_refuses_the_parent_folder_of_the_repositories_and_names_them() {
    let (w, policy) = world();
    let root = w.root.join("srv-git");
    std::fs::create_dir(&root).unwrap();
    for name in ["a.git", "b.git"] {
        w.run_git(&root, &["init", "-q", "--bare", name])
            .assert_code(0);
    }
    let before = snapshot(&root);
    let r = root.to_str().unwrap();
    tg(&w, &["install", "--config", &policy, r])
        .assert_code(2)
        .assert_says("folder of 2 repositories")
        .assert_says("git never runs a hook from it")
        // What to run instead keeps --config.
        .assert_says(&format!(
            "trailgate install --config {policy} {r}/a.git {r}/b.git"
        ));
    assert_eq!(snapshot(&root), before, "a refused install wrote files");
}

#[test]
fn install_refuses_the_gitea_layout_on_a_plain_bare_repository() {
    let (w, policy) = world();
    let before = snapshot(&w.server);
    let s = w.server.to_str().unwrap();
    tg(
        &w,
        &["install", "--layout", "gitea", "--config", &policy, s],
    )
    .assert_code(2)
    .assert_says("does not run the hooks in hooks/pre-receive.d/")
    .assert_says(&format!("trailgate install --config {policy} {s}"));
    assert_eq!(snapshot(&w.server), before);
    // Had it been written, a force-push to main would go through unchecked:
    // git runs no hooks/pre-receive.d/ of its own.
    let oid = w.commit(&CAROL, &msg("Unapproved", &["AI-Assisted: yes"]));
    tg(&w, &["install", "--config", &policy, s]).assert_code(0);
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_violation(
            "error",
            "ai-needs-senior-approval",
            "main",
            &oid,
            "Unapproved",
        );
}

#[test]
fn install_refuses_a_clone_with_a_working_tree() {
    let (w, policy) = world();
    let before = snapshot(&w.work.join(".git"));
    let work = w.work.to_str().unwrap();
    tg(&w, &["install", "--config", &policy, work])
        .assert_code(2)
        .assert_says("is a clone with a working tree, not a bare repository")
        .assert_says(&format!(
            "trailgate install --config {policy} /srv/git/work.git"
        ));
    // Its git directory given directly is refused the same way.
    let dotgit = w.work.join(".git");
    tg(
        &w,
        &["install", "--config", &policy, dotgit.to_str().unwrap()],
    )
    .assert_code(2)
    .assert_says("working tree");
    assert_eq!(snapshot(&w.work.join(".git")), before);
}

#[test]
fn install_reports_every_refused_target_and_installs_none() {
    let (w, policy) = world();
    let root = w.root.join("srv-git");
    std::fs::create_dir(&root).unwrap();
    w.run_git(&root, &["init", "-q", "--bare", "a.git"])
        .assert_code(0);
    let before = snapshot(&w.server);
    let run = tg(
        &w,
        &[
            "install",
            "--config",
            &policy,
            w.server.to_str().unwrap(),
            root.to_str().unwrap(),
            w.work.to_str().unwrap(),
        ],
    );
    run.assert_code(2)
        .assert_says("2 targets cannot take the hook")
        .assert_says("folder of 1 repository")
        .assert_says("working tree");
    // The good target is not installed either: all or nothing.
    assert_eq!(snapshot(&w.server), before);
}

#[test]
fn install_keeps_the_options_in_the_core_hooks_path_suggestion() {
    let (w, policy) = world();
    let folder = w.root.join("shared-hooks");
    std::fs::create_dir(&folder).unwrap();
    w.server_config("core.hooksPath", folder.to_str().unwrap());
    tg(
        &w,
        &[
            "install",
            "--config",
            &policy,
            "--dry-run",
            w.server.to_str().unwrap(),
        ],
    )
    .assert_code(2)
    .assert_says(&format!(
        "trailgate install --config {policy} --dry-run {}",
        folder.display()
    ));
}

#[test]
fn install_treats_sha256_and_reftable_repositories_like_any_other() {
    // trailgate reads both formats (issue 19): no warning, the hook written.
    let (w, policy) = world();
    for (name, args) in [
        ("sha.git", &["--object-format=sha256"][..]),
        ("reftable.git", &["--ref-format=reftable"][..]),
        (
            "both.git",
            &["--object-format=sha256", "--ref-format=reftable"][..],
        ),
    ] {
        let mut init = vec!["init", "-q", "--bare"];
        init.extend_from_slice(args);
        init.push(name);
        w.run_git(&w.root, &init).assert_code(0);
        let repo = w.root.join(name);
        let run = tg(
            &w,
            &["install", "--config", &policy, repo.to_str().unwrap()],
        );
        run.assert_code(0)
            .assert_silent_about("WARNING")
            .assert_silent_about("cannot read")
            .assert_silent_about("rejects every push");
        assert!(repo.join("hooks/pre-receive").is_file());
    }
}
