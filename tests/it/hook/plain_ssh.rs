//! The plain-ssh pusher: on a server where each engineer has a Unix account
//! and pushes over ssh, the pusher is the account of the hook's real uid.
//! Over the file transport git runs the hook as the pushing user, exactly as
//! sshd + git-receive-pack would; `SSH_CONNECTION` is set as sshd sets it.
//! (A real sshd with two accounts is a host test; see tests/it/hosts.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;

const MAIN: &str = "refs/heads/main";
const SSH: (&str, &str) = ("SSH_CONNECTION", "127.0.0.1 50022 127.0.0.1 22");

/// The account this test runs as, as `id -un` says (the oracle).
fn me() -> String {
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// `main` may be moved only by the `ops` group, whose one member has the
/// login `login`; the audit log at `log`.
fn ops_policy(login: &str, log: &std::path::Path) -> String {
    format!(
        r#"version = 1
[settings]
audit_log = "{}"

[people.op]
name = "Olivia Op"
emails = ["op@example.com"]
logins = ["{login}"]

[groups]
ops = ["op"]

[[rule]]
name = "only-ops-move-main"
refs = ["refs/heads/main"]
when = {{ pusher_not_in = ["ops"] }}
deny = ["update"]
"#,
        log.display()
    )
}

fn last_audit(log: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(log).unwrap();
    serde_json::from_str(text.lines().last().unwrap()).unwrap()
}

#[test]
fn over_ssh_the_pusher_is_the_account_of_the_real_uid() {
    let w = World::new();
    w.install_hook();
    let log = w.root.join("audit.jsonl");
    w.write_policy(&ops_policy(&me(), &log));
    w.commit(&CAROL, "Ops work\n");
    w.push_env(&["origin", "main"], &[SSH]).assert_accepted();
    let line = last_audit(&log);
    assert_eq!(line["pusher"], me().as_str(), "{line}");
    assert_eq!(
        line["pusher_source"], "SSH_CONNECTION (the account of the real uid)",
        "{line}"
    );
    assert_eq!(line["protocol"], "ssh", "{line}");
}

#[test]
fn user_and_logname_do_not_name_the_pusher() {
    // A client can send USER with SendEnv; it must change nothing. Here the
    // account is not in ops, whatever USER says.
    let w = World::new();
    w.install_hook();
    let log = w.root.join("audit.jsonl");
    w.write_policy(&ops_policy("olivia", &log));
    let before = w.server_ref(MAIN);
    w.commit(&CAROL, "Not ops\n");
    w.push_env(
        &["origin", "main"],
        &[SSH, ("USER", "olivia"), ("LOGNAME", "olivia")],
    )
    .assert_rejected_with(1)
    .assert_says("only-ops-move-main");
    w.assert_server_ref(MAIN, before.as_deref());
    assert_eq!(last_audit(&log)["pusher"], me().as_str());
}

#[test]
fn without_an_ssh_session_nobody_is_named() {
    // The file transport with no SSH_CONNECTION: no host says who pushed,
    // and a rule about the pusher fails closed.
    let w = World::new();
    w.install_hook();
    let log = w.root.join("audit.jsonl");
    w.write_policy(&ops_policy(&me(), &log));
    w.commit(&CAROL, "Ops work\n");
    w.push_env(&["origin", "main"], &[("USER", &me())])
        .assert_rejected_with(1)
        .assert_says("named nobody");
    assert!(last_audit(&log)["pusher"].is_null());
}

#[test]
fn a_host_variable_wins_over_the_account() {
    // gitolite runs every push as its one account, over ssh: GL_USER names
    // the pusher, not the account.
    let w = World::new();
    w.install_hook();
    let log = w.root.join("audit.jsonl");
    w.write_policy(&ops_policy(&me(), &log));
    w.commit(&CAROL, "Pushed through gitolite\n");
    w.push_env(&["origin", "main"], &[SSH, ("GL_USER", "carol")])
        .assert_rejected_with(1);
    let line = last_audit(&log);
    assert_eq!(line["pusher"], "carol");
    assert_eq!(line["pusher_source"], "GL_USER");
}
