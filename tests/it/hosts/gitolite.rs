//! gitolite (gitolite3) behind sshd on a free loopback port, with test keys:
//! a push by a user in the senior group and by one who is not, the pusher
//! taken from gitolite's `GL_USER`, the rejection reaching the client as
//! `remote:` lines. gitolite runs as a throwaway system user (unique per run,
//! removed at the end); the hook is installed with `trailgate install` into
//! gitolite's `hooks/common` folder, as gitolite's documentation asks.

use std::os::unix::fs::PermissionsExt;

use super::unix::*;
use super::*;

/// Everything the test runs against; fields drop in order: sshd, then the
/// user, then the folder.
struct Gitolite {
    _sshd: Daemon,
    user: ThrowawayUser,
    base: tempfile::TempDir,
    home: PathBuf,
    port: u16,
    keys: PathBuf,
    audit: PathBuf,
}

impl Gitolite {
    fn as_user(&self, command: &str) {
        let script = format!(
            "cd '{}' && HOME='{}' {command}",
            self.home.display(),
            self.home.display()
        );
        run("su", &[&self.user.name, "-s", "/bin/sh", "-c", &script]);
    }

    fn url(&self, repo: &str) -> String {
        format!("ssh://{}@127.0.0.1:{}/{repo}", self.user.name, self.port)
    }

    /// The environment that makes git speak ssh as `key`'s owner.
    fn ssh_env(&self, key: &str) -> String {
        format!(
            "ssh -i {} -p {} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
            self.keys.join(key).display(),
            self.port
        )
    }

    fn repo(&self, name: &str) -> PathBuf {
        self.home.join("repositories").join(format!("{name}.git"))
    }
}

fn start(tools: &[PathBuf]) -> Gitolite {
    let (gitolite, sshd) = (&tools[0], &tools[1]);
    let base = tempfile::Builder::new()
        .prefix("trailgate-gitolite-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let root = base.path().to_owned();
    let name = unique_name("tg");
    let home = root.join("home");
    let user = ThrowawayUser::create(&name, &home, "/bin/sh", None);

    let keys = root.join("keys");
    std::fs::create_dir(&keys).unwrap();
    for who in ["admin", "alice", "carol"] {
        keygen(&keys.join(who), who);
    }
    std::fs::copy(keys.join("admin.pub"), home.join("admin.pub")).unwrap();
    run("chown", &["-R", &name, home.to_str().unwrap()]);

    // The binary and the policy where the gitolite user can read them.
    let bin = root.join("trailgate");
    std::fs::copy(TRAILGATE, &bin).unwrap();
    let audit_dir = root.join("audit");
    std::fs::create_dir(&audit_dir).unwrap();
    run("chown", &[&name, audit_dir.to_str().unwrap()]);
    let audit = audit_dir.join("audit.jsonl");
    let policy = root.join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            r#"version = 1
[settings]
audit_log = "{}"

[people.alice]
name = "Alice Senior"
emails = ["alice@example.com"]
logins = ["alice"]

[people.carol]
name = "Carol"
emails = ["carol@example.com"]
logins = ["carol"]

[groups]
senior = ["alice"]

[[rule]]
name = "non-seniors-need-approval"
message = "Pushes by anyone but a senior need a senior's approval on every commit."
refs = ["refs/heads/**"]
when = {{ pusher_not_in = ["senior"] }}
require = {{ approvals = {{ from = ["senior"] }} }}
"#,
            audit.display()
        ),
    )
    .unwrap();

    let mut g = Gitolite {
        // Replaced by the real one once gitolite is set up.
        _sshd: Daemon {
            pid_file: root.join("no-sshd-yet.pid"),
        },
        user,
        home: home.clone(),
        port: 0,
        keys,
        audit,
        base,
    };
    g.as_user(&format!("{} setup -pk admin.pub", gitolite.display()));
    let admin = home.join(".gitolite");
    for who in ["alice", "carol"] {
        std::fs::copy(
            g.keys.join(format!("{who}.pub")),
            admin.join("keydir").join(format!("{who}.pub")),
        )
        .unwrap();
    }
    std::fs::write(
        admin.join("conf/gitolite.conf"),
        "repo gitolite-admin\n    RW+ = admin\n\nrepo trail\n    RW+ = @all\n",
    )
    .unwrap();
    let common = admin.join("hooks/common");
    std::fs::create_dir_all(&common).unwrap();
    let installed = run_trailgate(
        &root,
        &root,
        &[
            "install",
            "--config",
            policy.to_str().unwrap(),
            "--bin",
            bin.to_str().unwrap(),
            common.to_str().unwrap(),
        ],
        b"",
        &[],
    );
    installed.assert_code(0);
    run("chown", &["-R", &name, home.to_str().unwrap()]);
    // Compiles the conf (creating `trail`), writes authorized_keys and
    // links hooks/common into every repository.
    g.as_user(&format!("{} setup", gitolite.display()));

    let (sshd, port) = start_sshd(sshd, &root, &[&name], "");
    g._sshd = sshd;
    g.port = port;
    g
}

#[test]
fn gitolite_over_ssh_judges_by_gl_user_and_the_rejection_reaches_the_client() {
    let Some(tools) = host_tools(
        "gitolite_over_ssh_judges_by_gl_user_and_the_rejection_reaches_the_client",
        &["gitolite", "sshd", "useradd", "ssh-keygen"],
    ) else {
        return;
    };
    let g = start(&tools);
    let w = World::new();
    w.git(&["remote", "set-url", "origin", &g.url("trail")]);
    let as_alice = g.ssh_env("alice");
    let as_carol = g.ssh_env("carol");

    // Alice is a senior: her unapproved commit goes through.
    let first = w.commit(&ALICE, &msg("Alice's change", &[]));
    w.push_env(&["origin", "main"], &[("GIT_SSH_COMMAND", &as_alice)])
        .assert_accepted_silently();

    // Carol is not: the same kind of commit is rejected, and she is told why.
    let subject = "Carol's change";
    let oid = w.commit(&CAROL, &msg(subject, &[]));
    let run = w.push_env(&["origin", "main"], &[("GIT_SSH_COMMAND", &as_carol)]);
    run.assert_rejected_with(1)
        .assert_violation("error", "non-seniors-need-approval", "main", &oid, subject)
        .assert_says("Pushes by anyone but a senior need a senior's approval");
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with("remote: error[non-seniors-need-approval]")),
        "the report must reach the client as remote: lines\n{}",
        run.dump()
    );
    let server_main = w.run_git(
        &g.repo("trail"),
        &["-c", "safe.directory=*", "rev-parse", "refs/heads/main"],
    );
    assert_eq!(server_main.stdout.trim(), first);

    // With Alice's approval, Carol's push is accepted.
    w.git(&[
        "commit",
        "-q",
        "--amend",
        "-m",
        &msg(subject, &[&approved_by(&ALICE)]),
    ]);
    let approved = w.git(&["rev-parse", "HEAD"]);
    w.push_env(&["origin", "main"], &[("GIT_SSH_COMMAND", &as_carol)])
        .assert_accepted_silently();
    let server_main = w.run_git(
        &g.repo("trail"),
        &["-c", "safe.directory=*", "rev-parse", "refs/heads/main"],
    );
    assert_eq!(server_main.stdout.trim(), approved);

    let records = read_audit(&g.audit);
    assert_eq!(records.len(), 3, "{records:?}");
    let who: Vec<(&str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["pusher"].as_str().unwrap(),
                r["decision"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        who,
        vec![
            ("alice", "accept"),
            ("carol", "reject"),
            ("carol", "accept")
        ]
    );
    for r in &records {
        assert_record_shape(r);
        assert_eq!(r["pusher_source"], "GL_USER");
        assert_eq!(r["protocol"], "ssh");
        assert_eq!(r["repository"], "trail");
    }
    drop(g);
}
