//! `install --chain`: a pre-receive hook that was there before trailgate (a
//! mail notifier, a CI trigger) keeps running after trailgate accepts, with
//! the same stdin and environment; its exit status and output reach the
//! pusher, and `uninstall` puts it back exactly.

use super::*;

/// A stand-in for a host's own hook: records its stdin and one variable of
/// its environment, says something, and exits with the number in
/// `$GIT_DIR/../notifier-exit` (0 when the file is missing).
const NOTIFIER: &str = r#"#!/bin/sh
root=$(cd "$(dirname "$0")/../.." && pwd)
cat >"$root/notifier-stdin"
printf '%s\n' "${NOTIFY_CHANNEL-unset}" >"$root/notifier-env"
echo "notifier: mail sent for $(wc -l <"$root/notifier-stdin") ref(s)"
code=$(cat "$root/notifier-exit" 2>/dev/null || echo 0)
[ "$code" = 0 ] || echo "notifier: refusing, as asked" >&2
exit "$code"
"#;

fn chained_world() -> (World, String, std::path::PathBuf) {
    let w = World::new();
    let policy = write_file(&w, "policy.toml", &policy(SENIOR_RULE));
    let hook = w.server.join("hooks/pre-receive");
    std::fs::write(&hook, NOTIFIER).unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o750)).unwrap();
    (w, policy, hook)
}

#[test]
fn a_chained_hook_runs_after_trailgate_accepts_with_the_same_stdin() {
    let (w, policy, hook) = chained_world();
    let before = snapshot(&w.server);
    tg(
        &w,
        &[
            "install",
            "--chain",
            "--config",
            &policy,
            w.server.to_str().unwrap(),
        ],
    )
    .assert_code(0)
    .assert_says("pre-receive.trailgate-backup");
    assert!(std::fs::read_to_string(&hook)
        .unwrap()
        .contains("# trailgate-managed"));

    // Accepted by trailgate: the old hook runs, sees the push's own line on
    // stdin and the pusher's environment, and its words reach the pusher.
    let old = w.server_ref("refs/heads/main").unwrap();
    let new = w.commit(&CAROL, &msg("Plain change", &[]));
    w.push_env(&["origin", "main"], &[("NOTIFY_CHANNEL", "#deploys")])
        .assert_code(0)
        .assert_says("notifier: mail sent for 1 ref(s)");
    let stdin = std::fs::read_to_string(w.root.join("notifier-stdin")).unwrap();
    assert_eq!(stdin, format!("{old} {new} refs/heads/main\n"));
    assert_eq!(
        std::fs::read_to_string(w.root.join("notifier-env")).unwrap(),
        "#deploys\n"
    );
    w.assert_server_ref("refs/heads/main", Some(&new));

    // The old hook's refusal counts: the push is rejected, its words shown.
    std::fs::write(w.root.join("notifier-exit"), "3\n").unwrap();
    let next = w.commit(&CAROL, &msg("Another plain change", &[]));
    let run = w.push(&["origin", "main"]);
    run.assert_code(1)
        .assert_says("notifier: refusing, as asked")
        .assert_says("pre-receive hook declined");
    w.assert_server_ref("refs/heads/main", Some(&new));
    assert!(!w.server_has(&next));

    // Rejected by trailgate: the old hook never runs.
    std::fs::remove_file(w.root.join("notifier-exit")).unwrap();
    std::fs::remove_file(w.root.join("notifier-stdin")).unwrap();
    w.reset_to_origin();
    w.commit(&CAROL, &msg("Unapproved", &["AI-Assisted: yes"]));
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_silent_about("notifier:");
    assert!(!w.root.join("notifier-stdin").exists());

    // Installing again (say, another --config) keeps the chain.
    tg(
        &w,
        &["install", "--config", &policy, w.server.to_str().unwrap()],
    )
    .assert_code(0);
    assert!(std::fs::read_to_string(&hook)
        .unwrap()
        .contains("# trailgate-chain:"));

    // Uninstall puts the original back, byte for byte and mode for mode.
    tg(&w, &["uninstall", w.server.to_str().unwrap()])
        .assert_code(0)
        .assert_says("restore");
    let _ = std::fs::remove_file(w.root.join("notifier-env"));
    assert_eq!(
        snapshot(&w.server).get("hooks/pre-receive"),
        before.get("hooks/pre-receive")
    );
    assert_eq!(
        std::fs::metadata(&hook).unwrap().permissions().mode() & 0o777,
        0o750
    );
}

#[test]
fn a_chained_hook_that_went_missing_rejects_the_push() {
    let (w, policy, _) = chained_world();
    tg(
        &w,
        &[
            "install",
            "--chain",
            "--config",
            &policy,
            w.server.to_str().unwrap(),
        ],
    )
    .assert_code(0);
    std::fs::remove_file(w.server.join("hooks/pre-receive.trailgate-backup")).unwrap();
    let before = w.server_ref("refs/heads/main");
    w.commit(&CAROL, &msg("Plain change", &[]));
    w.push(&["origin", "main"])
        .assert_code(1)
        .assert_says("chained hook")
        .assert_says("missing or not executable");
    w.assert_server_ref("refs/heads/main", before.as_deref());
}
