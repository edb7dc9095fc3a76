//! `trailgate install` / `uninstall` on every layout: round trips that leave
//! the target exactly as it was, foreign hooks untouched, `--force` with a
//! backup, `--dry-run` changing nothing, and the policy validated first.

use std::os::unix::fs::PermissionsExt;

use super::*;

const FOREIGN: &str = "#!/bin/sh\n# the host's own hook\nexit 0\n";

/// Gitea's own `hooks/pre-receive`, which runs `hooks/pre-receive.d/`.
use super::conventions::GITEA_RUNNER;

fn write_exec(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A world with no hook and a valid policy file; returns the policy's path.
fn world() -> (World, String) {
    let w = World::new();
    let policy = write_file(&w, "policy.toml", &policy(SENIOR_RULE));
    (w, policy)
}

fn server(w: &World) -> &str {
    w.server.to_str().unwrap()
}

#[test]
fn plain_install_judges_pushes_and_uninstall_restores_the_repository() {
    let (w, policy) = world();
    let before = snapshot(&w.server);
    let run = tg(&w, &["install", "--config", &policy, server(&w)]);
    run.assert_code(0).assert_says("installed");
    let hook = w.server.join("hooks/pre-receive");
    let text = std::fs::read_to_string(&hook).unwrap();
    assert!(text.contains("# trailgate-managed"), "{text}");
    assert_eq!(
        std::fs::metadata(&hook).unwrap().permissions().mode() & 0o777,
        0o755
    );
    // Installed, it judges: an unapproved AI change is rejected.
    let oid = w.commit(&CAROL, &msg("Unapproved", &["AI-Assisted: yes"]));
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_violation(
            "error",
            "ai-needs-senior-approval",
            "main",
            &oid,
            "Unapproved",
        );
    w.reset_to_origin();
    // Idempotent.
    let again = tg(&w, &["install", "--config", &policy, server(&w)]);
    again.assert_code(0).assert_says("unchanged");
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), text);
    tg(&w, &["uninstall", server(&w)])
        .assert_code(0)
        .assert_says("remove");
    assert_eq!(snapshot(&w.server), before);
    // A second uninstall has nothing to do.
    tg(&w, &["uninstall", server(&w)])
        .assert_code(0)
        .assert_says("nothing of trailgate's");
}

#[test]
fn install_refuses_a_foreign_hook_and_force_keeps_it_as_a_backup() {
    let (w, policy) = world();
    let hook = w.server.join("hooks/pre-receive");
    write_exec(&hook, FOREIGN);
    let before = snapshot(&w.server);
    tg(&w, &["install", "--config", &policy, server(&w)])
        .assert_code(2)
        .assert_says("not written by trailgate")
        .assert_says("--force");
    assert_eq!(
        snapshot(&w.server),
        before,
        "a refused install changed files"
    );

    tg(&w, &["install", "--force", "--config", &policy, server(&w)])
        .assert_code(0)
        .assert_says("pre-receive.trailgate-backup");
    let backup = w.server.join("hooks/pre-receive.trailgate-backup");
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), FOREIGN);
    assert!(std::fs::read_to_string(&hook)
        .unwrap()
        .contains("# trailgate-managed"));
    // Installing again is idempotent and keeps the backup on record.
    tg(&w, &["install", "--config", &policy, server(&w)])
        .assert_code(0)
        .assert_says("unchanged");

    tg(&w, &["uninstall", server(&w)])
        .assert_code(0)
        .assert_says("restore");
    assert_eq!(
        snapshot(&w.server),
        before,
        "uninstall must put the foreign hook back"
    );
}

#[test]
fn dry_run_changes_nothing_on_any_layout() {
    let (w, policy) = world();
    // Foreign to the plain layout; Gitea's runner for the gitea layout.
    write_exec(&w.server.join("hooks/pre-receive"), GITEA_RUNNER);
    let before = snapshot(&w.server);
    for layout in ["plain", "gitlab", "gitea"] {
        let run = tg(
            &w,
            &[
                "install",
                "--dry-run",
                "--force",
                "--layout",
                layout,
                "--config",
                &policy,
                server(&w),
            ],
        );
        run.assert_code(0).assert_says("would");
        assert_eq!(
            snapshot(&w.server),
            before,
            "--dry-run ({layout}) changed files"
        );
    }
    tg(
        &w,
        &[
            "install",
            "--layout",
            "gitea",
            "--config",
            &policy,
            server(&w),
        ],
    )
    .assert_code(0);
    let installed = snapshot(&w.server);
    tg(&w, &["uninstall", "--dry-run", server(&w)])
        .assert_code(0)
        .assert_says("would");
    assert_eq!(
        snapshot(&w.server),
        installed,
        "uninstall --dry-run changed files"
    );
}

#[test]
fn gitlab_layout_round_trips_and_leaves_other_server_hooks_alone() {
    // A fresh repository: install creates custom_hooks/pre-receive.d/, uninstall removes it.
    let (w, policy) = world();
    let before = snapshot(&w.server);
    tg(
        &w,
        &[
            "install",
            "--layout",
            "gitlab",
            "--config",
            &policy,
            server(&w),
        ],
    )
    .assert_code(0);
    let hook = w.server.join("custom_hooks/pre-receive.d/trailgate");
    assert!(std::fs::read_to_string(&hook)
        .unwrap()
        .contains("GL-HOOK-ERR: "));
    tg(&w, &["uninstall", server(&w)]).assert_code(0);
    assert_eq!(snapshot(&w.server), before);

    // With the project's own hooks already there: they stay, byte for byte.
    write_exec(&w.server.join("custom_hooks/pre-receive"), FOREIGN);
    write_exec(
        &w.server.join("custom_hooks/pre-receive.d/10-other"),
        FOREIGN,
    );
    let before = snapshot(&w.server);
    tg(
        &w,
        &[
            "install",
            "--layout",
            "gitlab",
            "--config",
            &policy,
            server(&w),
        ],
    )
    .assert_code(0);
    assert!(hook.is_file());
    tg(&w, &["uninstall", "--layout", "gitlab", server(&w)]).assert_code(0);
    assert_eq!(snapshot(&w.server), before);
}

#[test]
fn gitlab_global_custom_hooks_dir_round_trips() {
    let (w, policy) = world();
    let dir = w.root.join("gitlab-custom-hooks");
    write_exec(&dir.join("pre-receive.d/other"), FOREIGN);
    let before = snapshot(&dir);
    let d = dir.to_str().unwrap();
    tg(
        &w,
        &["install", "--layout", "gitlab", "--config", &policy, d],
    )
    .assert_code(0);
    assert!(dir.join("pre-receive.d/trailgate").is_file());
    tg(&w, &["uninstall", d]).assert_code(0);
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn gitea_layout_round_trips_next_to_giteas_own_hook() {
    let (w, policy) = world();
    write_exec(&w.server.join("hooks/pre-receive"), GITEA_RUNNER);
    write_exec(&w.server.join("hooks/pre-receive.d/gitea"), FOREIGN);
    let before = snapshot(&w.server);
    tg(
        &w,
        &[
            "install",
            "--layout",
            "gitea",
            "--config",
            &policy,
            server(&w),
        ],
    )
    .assert_code(0);
    assert!(w.server.join("hooks/pre-receive.d/trailgate").is_file());
    tg(&w, &["uninstall", "--layout", "gitea", server(&w)]).assert_code(0);
    assert_eq!(snapshot(&w.server), before);
    // Gitea's hooks are per repository: a plain folder is refused.
    let folder = w.root.join("not-a-repo");
    std::fs::create_dir(&folder).unwrap();
    tg(
        &w,
        &[
            "install",
            "--layout",
            "gitea",
            "--config",
            &policy,
            folder.to_str().unwrap(),
        ],
    )
    .assert_code(2)
    .assert_says("not a git repository");
}

#[test]
fn a_core_hooks_path_folder_is_installed_into_and_the_repository_is_not() {
    let (w, policy) = world();
    let folder = w.root.join("shared-hooks");
    std::fs::create_dir(&folder).unwrap();
    w.server_config("core.hooksPath", folder.to_str().unwrap());
    // git would not run REPO.git/hooks/pre-receive: install says where to go instead.
    tg(&w, &["install", "--config", &policy, server(&w)])
        .assert_code(2)
        .assert_says("core.hooksPath");
    tg(
        &w,
        &["install", "--config", &policy, folder.to_str().unwrap()],
    )
    .assert_code(0);
    assert!(folder.join("pre-receive").is_file());
    let oid = w.commit(
        &CAROL,
        &msg("Through the shared folder", &["AI-Assisted: yes"]),
    );
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_violation(
            "error",
            "ai-needs-senior-approval",
            "main",
            &oid,
            "Through the shared folder",
        );
    tg(&w, &["uninstall", folder.to_str().unwrap()]).assert_code(0);
    assert!(std::fs::read_dir(&folder).unwrap().next().is_none());
}

#[test]
fn install_validates_the_policy_before_writing_anything() {
    let (w, _) = world();
    let bad = write_file(
        &w,
        "bad.toml",
        "version = 1\n[[rule]]\nname = \"x\"\nrequier = {}\n",
    );
    let before = snapshot(&w.server);
    tg(&w, &["install", "--config", &bad, server(&w)])
        .assert_code(2)
        .assert_cites("bad.toml", 4, &[1])
        .assert_says("nothing was installed");
    assert_eq!(snapshot(&w.server), before);
    // No --config and no policy where the hook would look: refused too.
    tg(&w, &["install", server(&w)])
        .assert_code(2)
        .assert_says("trailgate.toml");
    assert_eq!(snapshot(&w.server), before);
}

#[test]
fn check_warns_when_the_hook_is_writable_by_others() {
    let (w, policy) = world();
    tg(&w, &["install", "--config", &policy, server(&w)]).assert_code(0);
    let hook = w.server.join("hooks/pre-receive");
    let check = |w: &World| w.trailgate(&w.server, &["check", "--config", &policy], "", &[]);
    let quiet = check(&w);
    quiet.assert_code(0).assert_silent_about("writable");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o777)).unwrap();
    check(&w)
        .assert_code(0)
        .assert_says("hooks/pre-receive is writable by everyone")
        .assert_says("chmod go-w");
}
