//! Smart HTTP: `git http-backend` behind lighttpd (mod_cgi) with basic
//! authentication (mod_auth, mod_authn_file's plain user file), on a free
//! loopback port. The web server authenticates the pusher; git passes the
//! user on to the hook as `REMOTE_USER`, which is who trailgate judges.

use std::process::{Child, Command, Stdio};

use super::*;

/// lighttpd in the foreground, killed when dropped.
struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn git_exec_path() -> PathBuf {
    let out = Command::new("git").arg("--exec-path").output().unwrap();
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Serves the world's root (which holds `server.git`) at `/git/`.
fn start(lighttpd: &Path, w: &World) -> (Server, u16) {
    let port = free_port();
    let conf = w.root.join("lighttpd.conf");
    let users = w.root.join("users.txt");
    std::fs::write(&users, "alice:alice-secret\ncarol:carol-secret\n").unwrap();
    let docroot = w.root.join("www");
    std::fs::create_dir_all(&docroot).unwrap();
    let backend = git_exec_path().join("git-http-backend");
    std::fs::write(
        &conf,
        format!(
            r#"server.modules = ("mod_alias", "mod_setenv", "mod_auth", "mod_authn_file", "mod_cgi")
server.document-root = "{docroot}"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{root}/lighttpd-error.log"
alias.url = ( "/git/" => "{backend}/" )
$HTTP["url"] =~ "^/git/" {{
    cgi.assign = ( "" => "" )
    setenv.add-environment = (
        "GIT_PROJECT_ROOT" => "{root}",
        "GIT_HTTP_EXPORT_ALL" => "1"
    )
}}
auth.backend = "plain"
auth.backend.plain.userfile = "{users}"
auth.require = ( "/git/" => ( "method" => "basic", "realm" => "git", "require" => "valid-user" ) )
"#,
            docroot = docroot.display(),
            root = w.root.display(),
            backend = backend.display(),
            users = users.display(),
        ),
    )
    .unwrap();
    let child = Command::new(lighttpd)
        .args(["-D", "-f", conf.to_str().unwrap()])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server { child };
    wait_for_port(port, "lighttpd", &w.root.join("lighttpd-error.log"));
    (server, port)
}

#[test]
fn smart_http_behind_lighttpd_judges_the_authenticated_remote_user() {
    let Some(tools) = host_tools(
        "smart_http_behind_lighttpd_judges_the_authenticated_remote_user",
        &["lighttpd"],
    ) else {
        return;
    };
    let w = World::new();
    let log = w.root.join("audit.jsonl");
    let policy = write_file(
        &w,
        "policy.toml",
        &format!(
            r#"version = 1
[settings]
audit_log = "{}"

[people.alice]
name = "Alice Senior"
emails = ["alice@example.com"]
logins = ["alice"]

[groups]
senior = ["alice"]

[[rule]]
name = "non-seniors-need-approval"
refs = ["refs/heads/**"]
when = {{ pusher_not_in = ["senior"] }}
require = {{ approvals = {{ from = ["senior"] }} }}
"#,
            log.display()
        ),
    );
    tg(
        &w,
        &["install", "--config", &policy, w.server.to_str().unwrap()],
    )
    .assert_code(0);
    let (server, port) = start(&tools[0], &w);
    let url = |user: &str| format!("http://{user}:{user}-secret@127.0.0.1:{port}/git/server.git");

    // Without credentials, http-backend does not accept a push at all.
    let before = w.server_ref("refs/heads/main");
    w.git(&[
        "remote",
        "set-url",
        "origin",
        &format!("http://127.0.0.1:{port}/git/server.git"),
    ]);
    let subject = "Carol's change";
    let oid = w.commit(&CAROL, &msg(subject, &[]));
    let run = w.push(&["origin", "main"]);
    assert!(
        !run.success(),
        "an anonymous push must fail\n{}",
        run.dump()
    );
    w.assert_server_ref("refs/heads/main", before.as_deref());

    // Carol is authenticated but not a senior: rejected, told why.
    w.git(&["remote", "set-url", "origin", &url("carol")]);
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_violation("error", "non-seniors-need-approval", "main", &oid, subject);
    w.assert_server_ref("refs/heads/main", before.as_deref());

    // Alice is a senior: the same commit goes through.
    w.git(&["remote", "set-url", "origin", &url("alice")]);
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref("refs/heads/main", Some(&oid));

    let records = read_audit(&log);
    let who: Vec<(&str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["pusher"].as_str().unwrap(),
                r["decision"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(who, vec![("carol", "reject"), ("alice", "accept")]);
    for r in &records {
        assert_record_shape(r);
        assert_eq!(r["pusher_source"], "REMOTE_USER");
        assert_eq!(r["protocol"], "http");
    }
    drop(server);
}
