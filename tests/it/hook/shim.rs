//! The shell shim an administrator copies to `REPO.git/hooks/pre-receive`
//! (`hooks/pre-receive` in this repository): it finds `trailgate` through
//! `TRAILGATE_BIN` or `PATH` and runs it in hook mode.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::*;

const MAIN: &str = "refs/heads/main";

/// Copies the shim into the server's hooks and writes the policy.
fn world_with_shim() -> World {
    let shim = Path::new(REPO_ROOT).join("hooks").join("pre-receive");
    assert!(
        shim.is_file(),
        "the shim {} does not exist (yet)",
        shim.display()
    );
    let w = World::new();
    let hook = w.server.join("hooks").join("pre-receive");
    std::fs::copy(&shim, &hook).unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    w.write_policy(&policy(SENIOR_RULE));
    w
}

/// One unapproved push (rejected), then an approved one (accepted).
fn assert_shim_judges(w: &World, env: &[(&str, &str)]) {
    let before = w.server_ref(MAIN).unwrap();
    let subject = "Unapproved, judged through the shim";
    let oid = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));
    w.push_env(&["origin", "main"], env)
        .assert_rejected_with(1)
        .assert_violation("error", "ai-needs-senior-approval", MAIN, &oid, subject);
    w.assert_server_ref(MAIN, Some(&before));

    w.reset_to_origin();
    let oid = w.commit(
        &CAROL,
        &msg(
            "Approved, judged through the shim",
            &["AI-Assisted: yes", &approved_by(&ALICE)],
        ),
    );
    w.push_env(&["origin", "main"], env)
        .assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
}

#[test]
fn shim_finds_trailgate_through_trailgate_bin() {
    let w = world_with_shim();
    assert_shim_judges(&w, &[("TRAILGATE_BIN", TRAILGATE)]);
}

#[test]
fn shim_finds_trailgate_on_path() {
    let w = world_with_shim();
    let bin = w.root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(TRAILGATE, bin.join("trailgate")).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    assert_shim_judges(&w, &[("PATH", &path)]);
}

#[test]
fn shim_without_trailgate_rejects_the_push() {
    // Fail closed: no binary, no push.
    if Path::new("/usr/local/bin/trailgate").exists() {
        eprintln!("skipped: the shim's last resort /usr/local/bin/trailgate exists here");
        return;
    }
    let w = world_with_shim();
    let before = w.server_ref(MAIN).unwrap();
    w.commit(&ALICE, &msg("Harmless change", &[]));
    let missing = w.root.join("no-such-trailgate");
    // A PATH with git but without trailgate.
    let git = std::fs::canonicalize(w.git(&["--exec-path"])).unwrap();
    let path = format!("{}:/usr/bin:/bin", git.display());
    w.push_env(
        &["origin", "main"],
        &[
            ("TRAILGATE_BIN", missing.to_str().unwrap()),
            ("PATH", &path),
        ],
    )
    .assert_rejected();
    w.assert_server_ref(MAIN, Some(&before));
}
