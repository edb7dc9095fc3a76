//! Plain ssh with one Unix account per engineer: a real sshd on loopback,
//! two throwaway accounts (login shell `git-shell`, as the README asks) in
//! one group, pushing to one group-writable bare repository
//! (`core.sharedRepository=group`). No host variable names the pusher, so
//! trailgate takes the account of the hook's real uid, which sshd
//! authenticated: each push is judged as its own account (`proof =
//! "pusher"`, `pusher_not_in`, the override's `by`), and `USER` sent with
//! `SendEnv` (which this sshd accepts) or set in `~/.ssh/environment`
//! (which it reads) changes nothing.

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use super::unix::*;
use super::*;

const TEST: &str = "plain_ssh_judges_each_push_as_the_account_sshd_authenticated";

/// The policy: AI changes need a senior (a senior who pushes is the
/// approval), non-seniors cite tickets, seniors may override.
fn shared_policy(senior: &str, junior: &str, audit: &Path) -> String {
    format!(
        r#"version = 1
[settings]
audit_log = "{audit}"
audit_required = true

[settings.override]
by = ["senior"]

[people.alice]
name = "Alice Senior"
emails = ["alice@example.com"]
logins = ["{senior}"]

[people.carol]
name = "Carol"
emails = ["carol@example.com"]
logins = ["{junior}"]

[groups]
senior = ["alice"]

[[rule]]
name = "ai-needs-a-senior"
refs = ["refs/heads/**"]
when = {{ ai_assisted = true }}
require = {{ approvals = {{ from = ["senior"], proof = "pusher" }} }}

[[rule]]
name = "juniors-cite-tickets"
refs = ["refs/heads/**"]
when = {{ pusher_not_in = ["senior"] }}
require = {{ trailers = [ {{ key = "Ticket", value = "^T-[0-9]+$" }} ] }}

[[rule]]
name = "protect-main"
refs = ["refs/heads/main"]
deny = ["force-push"]
"#,
        audit = audit.display()
    )
}

/// `path` and everything under it: group `group`, group-writable.
fn share_with(group: &str, path: &Path) {
    run("chgrp", &["-R", group, path.to_str().unwrap()]);
    run("chmod", &["-R", "g+rwX", path.to_str().unwrap()]);
}

#[test]
fn plain_ssh_judges_each_push_as_the_account_sshd_authenticated() {
    let Some(tools) = host_tools(
        TEST,
        &["sshd", "useradd", "groupadd", "ssh-keygen", "git-shell"],
    ) else {
        return;
    };
    let (sshd, git_shell) = (&tools[0], &tools[4]);
    let base = tempfile::Builder::new()
        .prefix("trailgate-plain-ssh-")
        .tempdir()
        .unwrap();
    let root = base.path().canonicalize().unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();

    // Dropped in reverse: the users, then their group.
    let group = ThrowawayGroup::create(&unique_name("tgs"));
    let senior = ThrowawayUser::create(
        &unique_name("tgs-a"),
        &root.join("home-a"),
        git_shell.to_str().unwrap(),
        Some(&group.name),
    );
    let junior = ThrowawayUser::create(
        &unique_name("tgs-c"),
        &root.join("home-c"),
        git_shell.to_str().unwrap(),
        Some(&group.name),
    );
    // OpenSSH sets USER after the variables a client sends, so SendEnv
    // alone cannot change it; a user's ~/.ssh/environment (read under
    // PermitUserEnvironment) comes later and can. The junior's says USER
    // is the senior.
    std::fs::create_dir_all(root.join("home-c/.ssh")).unwrap();
    std::fs::write(
        root.join("home-c/.ssh/environment"),
        format!("USER={0}\nLOGNAME={0}\n", senior.name),
    )
    .unwrap();
    let keys = root.join("keys");
    std::fs::create_dir(&keys).unwrap();
    for (user, home) in [(&senior, "home-a"), (&junior, "home-c")] {
        let key = keys.join(&user.name);
        keygen(&key, &user.name);
        let ssh_dir = root.join(home).join(".ssh");
        std::fs::create_dir_all(&ssh_dir).unwrap();
        std::fs::copy(key.with_extension("pub"), ssh_dir.join("authorized_keys")).unwrap();
        // git (2.45.1 on) refuses a repository another account owns unless
        // it is a safe.directory; one owner cannot be every engineer.
        std::fs::write(
            root.join(home).join(".gitconfig"),
            format!(
                "[safe]\n\tdirectory = {}\n\tdirectory = {}\n",
                root.join("shared.git").display(),
                root.join("probe.git").display()
            ),
        )
        .unwrap();
        run(
            "chown",
            &["-R", &user.name, root.join(home).to_str().unwrap()],
        );
    }

    // The shared repository, its hook, the policy and the audit log, each
    // readable by both and writable (repository, log) by the group only.
    let w = World::new();
    let shared = root.join("shared.git");
    let format = format!("--object-format={}", test_object_format());
    let refs = format!("--ref-format={}", test_ref_format());
    w.run_git(
        &root,
        &[
            "init",
            "-q",
            "--bare",
            "--shared=group",
            "-b",
            "main",
            &format,
            &refs,
            "shared.git",
        ],
    )
    .assert_code(0);
    w.run_git(&shared, &["config", "receive.advertisePushOptions", "true"])
        .assert_code(0);
    // `init --shared` also denies every non-fast-forward; here trailgate's
    // protect-main (and its override) decide.
    w.run_git(&shared, &["config", "receive.denyNonFastForwards", "false"])
        .assert_code(0);
    w.git(&["remote", "set-url", "origin", shared.to_str().unwrap()]);
    w.push(&["origin", "main"]).assert_code(0);
    let bin = root.join("trailgate");
    std::fs::copy(TRAILGATE, &bin).unwrap();
    let audit = root.join("audit.jsonl");
    std::fs::write(&audit, "").unwrap();
    std::fs::set_permissions(&audit, std::fs::Permissions::from_mode(0o660)).unwrap();
    let policy = root.join("policy.toml");
    std::fs::write(&policy, shared_policy(&senior.name, &junior.name, &audit)).unwrap();
    run_trailgate(
        &w.home,
        &root,
        &[
            "install",
            "--config",
            policy.to_str().unwrap(),
            "--bin",
            bin.to_str().unwrap(),
            shared.to_str().unwrap(),
        ],
        b"",
        &[],
    )
    .assert_code(0);
    share_with(&group.name, &shared);
    share_with(&group.name, &audit);
    assert_eq!(
        w.run_git(&shared, &["config", "core.sharedRepository"])
            .stdout
            .trim(),
        "1",
        "git init --shared=group writes core.sharedRepository = 1"
    );

    // A probe repository whose hook records what USER the session had.
    let probe = root.join("probe.git");
    w.run_git(
        &root,
        &["init", "-q", "--bare", "--shared=group", "probe.git"],
    )
    .assert_code(0);
    let probe_hook = probe.join("hooks/pre-receive");
    std::fs::write(
        &probe_hook,
        "#!/bin/sh\nprintf '%s %s\\n' \"$USER\" \"$(id -un)\" >\"$GIT_DIR/seen\"\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&probe_hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    share_with(&group.name, &probe);

    let (_sshd, port) = start_sshd(
        sshd,
        &root,
        &[&senior.name, &junior.name],
        "AcceptEnv USER LOGNAME\nPermitUserEnvironment USER,LOGNAME\n",
    );
    let url = |user: &ThrowawayUser, repo: &Path| {
        format!("ssh://{}@127.0.0.1:{port}{}", user.name, repo.display())
    };
    let as_senior = ssh_command(&keys.join(&senior.name), port, "");
    // The junior's client sends USER and LOGNAME naming the senior.
    let as_junior_claiming_senior = ssh_command(
        &keys.join(&junior.name),
        port,
        "-o SendEnv=USER -o SendEnv=LOGNAME",
    );
    let junior_env: [(&str, &str); 3] = [
        ("GIT_SSH_COMMAND", &as_junior_claiming_senior),
        ("USER", &senior.name),
        ("LOGNAME", &senior.name),
    ];
    let senior_env = [("GIT_SSH_COMMAND", as_senior.as_str())];

    // sshd really hands the junior's USER to the session...
    w.git(&["remote", "add", "probe", &url(&junior, &probe)]);
    w.push_env(&["probe", "main"], &junior_env).assert_code(1);
    assert_eq!(
        std::fs::read_to_string(probe.join("seen")).unwrap().trim(),
        format!("{} {}", senior.name, junior.name),
        "the probe hook must see USER naming the senior, run as the junior's account"
    );

    // ... yet the junior's AI change is judged as the junior's: no approval.
    w.git(&["remote", "set-url", "origin", &url(&junior, &shared)]);
    let ai = w.commit(
        &CAROL,
        &msg("AI change", &["AI-Assisted: yes", "Ticket: T-1"]),
    );
    let refused = w.push_env(&["origin", "main"], &junior_env);
    refused.assert_rejected_with(1).assert_violation(
        "error",
        "ai-needs-a-senior",
        "main",
        &ai,
        "AI change",
    );
    let server_main = |w: &World| {
        w.run_git(&shared, &["rev-parse", "refs/heads/main"])
            .stdout
            .trim()
            .to_owned()
    };
    assert_ne!(server_main(&w), ai);

    // The senior pushes the same commit: the senior who pushes is the approval.
    w.git(&["remote", "set-url", "origin", &url(&senior, &shared)]);
    w.push_env(&["origin", "main"], &senior_env)
        .assert_accepted_silently();
    assert_eq!(server_main(&w), ai);

    // pusher_not_in: the junior's commit without a ticket is refused, the
    // senior's is not; with a ticket the junior's goes through.
    w.git(&["remote", "set-url", "origin", &url(&junior, &shared)]);
    let plain = w.commit(&CAROL, &msg("Plain change", &[]));
    w.push_env(&["origin", "main"], &junior_env)
        .assert_rejected_with(1)
        .assert_violation(
            "error",
            "juniors-cite-tickets",
            "main",
            &plain,
            "Plain change",
        );
    w.git(&[
        "commit",
        "-q",
        "--amend",
        "-m",
        &msg("Plain change", &["Ticket: T-2"]),
    ]);
    let ticketed = w.git(&["rev-parse", "HEAD"]);
    w.push_env(&["origin", "main"], &junior_env)
        .assert_accepted_silently();
    assert_eq!(server_main(&w), ticketed);

    // The override's `by`: the junior cannot force main back, the senior can.
    w.git(&["reset", "-q", "--hard", &ai]);
    let force = [
        "push",
        "--force",
        "-o",
        "trailgate.override=INC-7: undo the plain change",
        "origin",
        "main",
    ];
    let refused_force = w.run_git_env(&w.work, &force, &junior_env);
    refused_force.assert_rejected().assert_says("protect-main");
    assert_eq!(server_main(&w), ticketed);
    w.git(&["remote", "set-url", "origin", &url(&senior, &shared)]);
    w.run_git_env(&w.work, &force, &senior_env)
        .assert_accepted()
        .assert_says("push accepted by override");
    assert_eq!(server_main(&w), ai);

    // Both accounts wrote objects into the one repository.
    let mut owners = std::collections::BTreeSet::new();
    let mut stack = vec![shared.join("objects")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                owners.insert(meta.uid());
            }
        }
    }
    let uid = |name: &str| -> u32 { run("id", &["-u", name]).trim().parse().unwrap() };
    assert!(
        owners.contains(&uid(&senior.name)) && owners.contains(&uid(&junior.name)),
        "both accounts must have written objects: {owners:?}"
    );

    // The audit log names the account of each push, never USER.
    let records = read_audit(&audit);
    let who: Vec<(String, String)> = records
        .iter()
        .map(|r| {
            assert_record_shape_but_overrides(r);
            assert_eq!(r["protocol"], "ssh", "{r}");
            assert_eq!(
                r["pusher_source"], "SSH_CONNECTION (the account of the real uid)",
                "{r}"
            );
            (
                r["pusher"].as_str().unwrap().to_owned(),
                r["decision"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let s = senior.name.clone();
    let j = junior.name.clone();
    assert_eq!(
        who,
        vec![
            (j.clone(), "reject".to_owned()),
            (s.clone(), "accept".to_owned()),
            (j.clone(), "reject".to_owned()),
            (j.clone(), "accept".to_owned()),
            (j, "reject".to_owned()),
            (s, "accept".to_owned()),
        ]
    );
    assert!(
        records[5]["overrides"]
            .as_array()
            .is_some_and(|o| !o.is_empty()),
        "the senior's override must be recorded: {}",
        records[5]
    );
    drop(junior);
    drop(senior);
    drop(group);
}

/// [`assert_record_shape`] without its "no overrides" check.
fn assert_record_shape_but_overrides(r: &serde_json::Value) {
    for key in ["time", "push_id", "pusher", "ref", "decision", "violations"] {
        assert!(r.get(key).is_some(), "audit record lacks `{key}`: {r}");
    }
}
