//! GitLab the supported way (15.11 and later): `scripts/gitlab-custom-hooks`
//! builds the tarball `gitaly hooks set` takes, which replaces all of a
//! repository's server hooks. Gitaly cannot run here: the test does what
//! its SetCustomHooks does with the tarball (the old `custom_hooks/` goes,
//! the archive's `custom_hooks/` takes its place) and then runs the hooks
//! as Gitaly does (see conventions.rs), with GitLab's variables. GitLab
//! shows the pusher only lines that start with `GL-HOOK-ERR: `.

use std::process::Command;

use super::conventions::{write_exec, GITLAB_ENV, GITLAB_RUNNER};
use super::*;

/// `scripts/gitlab-custom-hooks ARGS...`; asserts success.
fn build_tarball(w: &World, args: &[&str]) -> PathBuf {
    let out = w.root.join("custom_hooks.tar");
    let script = Path::new(REPO_ROOT).join("scripts/gitlab-custom-hooks");
    let run = Command::new(script)
        .args(args)
        .args(["--bin", TRAILGATE, "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    out
}

/// What Gitaly's SetCustomHooks does with the tarball: replace the
/// repository's `custom_hooks/` by the archive's.
fn gitaly_hooks_set(repo: &Path, tarball: &Path) {
    let _ = std::fs::remove_dir_all(repo.join("custom_hooks"));
    let out = Command::new("tar")
        .args([
            "-xf",
            tarball.to_str().unwrap(),
            "-C",
            repo.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

fn members(tarball: &Path) -> Vec<String> {
    let out = Command::new("tar")
        .args(["-tf", tarball.to_str().unwrap()])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn assert_every_line_prefixed(run: &Run) {
    let lines = run.remote_lines();
    assert!(!lines.is_empty(), "{}", run.dump());
    for line in lines {
        assert!(
            line == "GL-HOOK-ERR:" || line.starts_with("GL-HOOK-ERR: "),
            "GitLab would not show {line:?}\n{}",
            run.dump()
        );
    }
}

#[test]
fn the_gitaly_tarball_keeps_existing_hooks_and_trailgate_rejects_with_gl_hook_err() {
    let w = World::new();
    let policy = write_file(
        &w,
        "policy.toml",
        &policy(&format!("[settings]\nhost = \"gitlab\"\n{SENIOR_RULE}")),
    );
    write_exec(&w.server.join("hooks/pre-receive"), GITLAB_RUNNER);
    // The repository's current server hook (a notifier), which `hooks set`
    // would drop unless the tarball carries it.
    let ran = w.root.join("notifier-ran");
    let current = w.root.join("current_custom_hooks");
    write_exec(
        &current.join("pre-receive"),
        &format!(
            "#!/bin/sh\ncat >/dev/null\necho ran >>'{}'\n",
            ran.display()
        ),
    );
    let tarball = build_tarball(
        &w,
        &["--config", &policy, "--from", current.to_str().unwrap()],
    );
    let names = members(&tarball);
    assert!(
        names.iter().all(|n| n.starts_with("custom_hooks/")),
        "{names:?}"
    );
    for needed in [
        "custom_hooks/pre-receive",
        "custom_hooks/pre-receive.d/trailgate",
    ] {
        assert!(names.iter().any(|n| n == needed), "{needed}: {names:?}");
    }
    gitaly_hooks_set(&w.server, &tarball);

    let subject = "AI change under GitLab";
    let oid = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));
    let refused = w.push_env(&["origin", "main"], GITLAB_ENV);
    refused.assert_rejected_with(1).assert_violation(
        "error",
        "ai-needs-senior-approval",
        "main",
        &oid,
        subject,
    );
    assert_every_line_prefixed(&refused);
    assert_eq!(std::fs::read_to_string(&ran).unwrap(), "ran\n");

    w.git(&[
        "commit",
        "-q",
        "--amend",
        "-m",
        &msg(subject, &["AI-Assisted: yes", &approved_by(&ALICE)]),
    ]);
    w.push_env(&["origin", "main"], GITLAB_ENV)
        .assert_accepted_silently();
    assert_eq!(std::fs::read_to_string(&ran).unwrap(), "ran\nran\n");

    // An empty tarball is how GitLab removes a repository's server hooks.
    let empty = w.root.join("empty");
    std::fs::create_dir_all(empty.join("custom_hooks")).unwrap();
    let empty_tar = w.root.join("empty.tar");
    let out = Command::new("tar")
        .args([
            "-C",
            empty.to_str().unwrap(),
            "-cf",
            empty_tar.to_str().unwrap(),
            "custom_hooks",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    gitaly_hooks_set(&w.server, &empty_tar);
    w.commit(&CAROL, &msg("Unjudged", &["AI-Assisted: yes"]));
    w.push_env(&["origin", "main"], GITLAB_ENV)
        .assert_accepted_silently();
}

#[test]
fn under_settings_host_gitlab_every_line_of_a_rejection_carries_gl_hook_err() {
    // The rejection, the note about another host's variable, the contact
    // line and the closing advice: all of it reaches GitLab's UI.
    let w = World::new();
    let policy = write_file(
        &w,
        "policy.toml",
        &policy(&format!(
            "[settings]\nhost = \"gitlab\"\ncontact = \"#git-help\"\n{SENIOR_RULE}"
        )),
    );
    write_exec(&w.server.join("hooks/pre-receive"), GITLAB_RUNNER);
    gitaly_hooks_set(&w.server, &build_tarball(&w, &["--config", &policy]));
    let mut env = GITLAB_ENV.to_vec();
    env.push(("GITHUB_USER_LOGIN", "alice-s"));
    let first = w.commit(&CAROL, &msg("First", &["AI-Assisted: yes"]));
    let second = w.commit(&CAROL, &msg("Second", &["Assisted-by: a model"]));
    let refused = w.push_env(&["origin", "main"], &env);
    refused
        .assert_rejected_with(2)
        .assert_violation("error", "ai-needs-senior-approval", "main", &first, "First")
        .assert_violation(
            "error",
            "ai-needs-senior-approval",
            "main",
            &second,
            "Second",
        )
        .assert_says("GITHUB_USER_LOGIN")
        .assert_says("#git-help");
    assert_every_line_prefixed(&refused);

    // A policy that does not load: the error reaches the UI too.
    std::fs::write(&policy, "version = 1\n[[rule]]\nname = \"Bad Name\"\n").unwrap();
    w.git(&["reset", "-q", "--hard", "HEAD~2"]);
    w.commit(&ALICE, &msg("Harmless", &[]));
    let broken = w.push_env(&["origin", "main"], GITLAB_ENV);
    broken.assert_rejected().assert_says("policy.toml");
    assert_every_line_prefixed(&broken);
}
