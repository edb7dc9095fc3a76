//! The audit log in production: rotation while pushes run, the syslog
//! sink (`settings.audit_syslog`) and the cap per line
//! (`settings.audit_line_max`), through real pushes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::*;

/// Every commit on every branch needs a `Ticket:` trailer.
fn ticket_policy(settings: &str) -> String {
    policy(&format!(
        r#"[settings]
{settings}

[[rule]]
name = "tickets"
refs = ["refs/heads/**"]
require = {{ trailers = [ {{ key = "Ticket", value = "^PAY-[0-9]+$" }} ] }}
"#
    ))
}

fn parse_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// What a log collector does after a rename (logrotate's `create`, then
/// compress or ship): waits for the writers that hold the renamed file,
/// reads it and removes it. Returns its lines.
fn rotate(log: &Path, n: usize) -> String {
    let rotated = log.with_extension(format!("jsonl.{n}"));
    if std::fs::rename(log, &rotated).is_err() {
        return String::new();
    }
    let file = std::fs::File::open(&rotated).unwrap();
    file.lock().unwrap();
    let text = std::fs::read_to_string(&rotated).unwrap();
    std::fs::remove_file(&rotated).unwrap();
    text
}

#[test]
fn rotating_the_log_during_concurrent_pushes_loses_no_line() {
    let w = World::new();
    w.install_hook();
    let log = w.root.join("audit.jsonl");
    w.write_policy(&ticket_policy(&format!(
        "audit_log = \"{}\"",
        log.display()
    )));
    const PUSHES: usize = 16;
    for i in 0..PUSHES {
        w.git(&["checkout", "-q", "-b", &format!("topic-{i}"), "main"]);
        w.commit(&CAROL, &msg(&format!("Change {i}"), &["Ticket: PAY-1"]));
    }
    let (work, home) = (&w.work, &w.home);
    let done = std::sync::atomic::AtomicBool::new(false);
    // Every hook run writes one line, also when git then fails to update
    // the ref: reftable in git < 2.48 takes one lock for all refs and does
    // not wait for it, so under load a concurrent push can fail after its
    // hook ran. Such a push is tried again, and every attempt counted.
    let attempts = std::sync::atomic::AtomicUsize::new(0);
    let attempts = &attempts;
    let mut collected = String::new();
    let mut failed = Vec::new();
    std::thread::scope(|s| {
        let pushes: Vec<_> = (0..PUSHES)
            .map(|i| {
                s.spawn(move || {
                    let mut last = String::new();
                    for _ in 0..5 {
                        let mut cmd = Command::new("git");
                        cmd.args(["push", "-q", "origin", &format!("topic-{i}")])
                            .current_dir(work)
                            .stdin(Stdio::null());
                        hermetic(&mut cmd, home);
                        attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        match cmd.output() {
                            Ok(out) if out.status.success() => return Ok(()),
                            Ok(out) => last = String::from_utf8_lossy(&out.stderr).into_owned(),
                            Err(e) => return Err(format!("push {i}: cannot run git: {e}")),
                        }
                        if !last.contains("lock") {
                            break;
                        }
                    }
                    Err(format!("push {i}: {last}"))
                })
            })
            .collect();
        let rotator = s.spawn(|| {
            let mut got = String::new();
            let mut n = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                n += 1;
                got.push_str(&rotate(&log, n));
                std::thread::sleep(Duration::from_millis(3));
            }
            got
        });
        // Whatever the pushes did, the rotator is stopped: a failed push
        // must fail the test, not hang it.
        for p in pushes {
            match p.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => failed.push(e),
                Err(_) => failed.push("a push thread panicked".to_owned()),
            }
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        collected = rotator.join().unwrap_or_default();
    });
    assert!(failed.is_empty(), "{failed:?}");
    if log.exists() {
        collected.push_str(&std::fs::read_to_string(&log).unwrap());
    }
    let lines = parse_lines(&collected);
    let mut refs: Vec<String> = lines
        .iter()
        .map(|l| l["ref"].as_str().unwrap().to_owned())
        .collect();
    refs.sort();
    refs.dedup();
    let attempts = attempts.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(lines.len(), attempts, "{collected}");
    assert_eq!(refs.len(), PUSHES, "{collected}");
}

#[test]
fn audit_syslog_sends_each_line_as_one_datagram() {
    let w = World::new();
    w.install_hook();
    let socket = w.root.join("log.sock");
    let server = UnixDatagram::bind(&socket).unwrap();
    server
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let log = w.root.join("audit.jsonl");
    w.write_policy(&ticket_policy(&format!(
        "audit_log = \"{}\"\naudit_syslog = \"{}\"",
        log.display(),
        socket.display()
    )));
    w.push_rejected(&CAROL, "No ticket\n", 1);
    let mut buf = vec![0u8; 65_536];
    let n = server.recv(&mut buf).unwrap();
    let datagram = String::from_utf8(buf[..n].to_vec()).unwrap();
    // `<PRI>Mmm dd hh:mm:ss trailgate[PID]: JSON`, authpriv.notice (10*8+5).
    let header =
        regex::Regex::new(r"^<85>[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d trailgate\[\d+\]: ")
            .unwrap();
    let found = header
        .find(&datagram)
        .unwrap_or_else(|| panic!("{datagram}"));
    let file_line = std::fs::read_to_string(&log).unwrap();
    assert_eq!(&datagram[found.end()..], file_line.trim_end());
    // An accepted push is authpriv.info.
    w.reset_to_origin();
    w.push_accepted(&CAROL, &msg("Ticketed", &["Ticket: PAY-3"]));
    let n = server.recv(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"<86>"), "{:?}", &buf[..n]);
}

#[test]
fn an_unreachable_syslog_warns_or_with_audit_required_rejects() {
    let w = World::new();
    w.install_hook();
    let socket = w.root.join("nobody-listens.sock");
    w.write_policy(&ticket_policy(&format!(
        "audit_syslog = \"{}\"",
        socket.display()
    )));
    w.reset_to_origin();
    let oid = w.commit(&CAROL, &msg("Ticketed", &["Ticket: PAY-3"]));
    let run = w.push(&["origin", "main"]);
    run.assert_code(0)
        .assert_says("cannot send the audit lines to syslog")
        .assert_says("nobody-listens.sock");
    w.assert_server_ref("refs/heads/main", Some(&oid));
    w.write_policy(&ticket_policy(&format!(
        "audit_syslog = \"{}\"\naudit_required = true",
        socket.display()
    )));
    w.commit(&CAROL, &msg("Ticketed too", &["Ticket: PAY-4"]));
    w.push(&["origin", "main"])
        .assert_code(1)
        .assert_says("settings.audit_required = true");
    w.assert_server_ref("refs/heads/main", Some(&oid));
}

#[test]
fn an_audit_line_never_exceeds_audit_line_max_and_counts_what_it_left_out() {
    // Forty violations, and a pusher's subject line of 20,000 bytes: the
    // line stays within 2048 bytes, valid JSON, and `truncated` plus the
    // violations listed is every violation found.
    let w = World::new();
    w.install_hook();
    let log = w.root.join("audit.jsonl");
    w.write_policy(&ticket_policy(&format!(
        "audit_log = \"{}\"\naudit_line_max = 2048",
        log.display()
    )));
    let long = format!("{}é\n", "x".repeat(20_000));
    w.commit(&CAROL, &long);
    for i in 0..39 {
        w.commit(&CAROL, &format!("No ticket {i}\n"));
    }
    w.push(&["origin", "main"]).assert_code(1);
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text.lines().next().unwrap();
    assert!(line.len() <= 2048, "{} bytes: {line}", line.len());
    let record: serde_json::Value = serde_json::from_str(line).unwrap();
    let listed = record["violations"].as_array().unwrap().len();
    let truncated = record["truncated"].as_u64().unwrap() as usize;
    assert!(truncated > 0, "{record}");
    assert_eq!(listed + truncated, 40, "{record}");
    assert_eq!(record["decision"], "reject", "{record}");
    assert_eq!(record["commits_checked"], 40);
    // Without the cap (the default, 64 KiB) the same push lists all 40.
    w.write_policy(&ticket_policy(&format!(
        "audit_log = \"{}\"",
        log.display()
    )));
    w.push(&["origin", "main"]).assert_code(1);
    let text = std::fs::read_to_string(&log).unwrap();
    let record: serde_json::Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    assert_eq!(record["violations"].as_array().unwrap().len(), 40);
    assert!(record.get("truncated").is_none(), "{record}");
}

#[test]
fn audit_settings_that_cannot_work_are_load_errors() {
    let w = World::new();
    let path = w.root.join("policy.toml");
    for (settings, says) in [
        (
            "audit_syslog = \"dev/log\"",
            "absolute path of a Unix datagram socket",
        ),
        ("audit_line_max = 100", "at least 1024"),
        ("audit_required = true", "or settings.audit_syslog"),
    ] {
        std::fs::write(&path, ticket_policy(settings)).unwrap();
        w.trailgate(
            &w.root,
            &["check", "--config", path.to_str().unwrap()],
            "",
            &[],
        )
        .assert_code(2)
        .assert_says(says)
        .assert_says("policy.toml:");
    }
    std::fs::write(
        &path,
        ticket_policy("audit_syslog = true\naudit_required = true"),
    )
    .unwrap();
    w.trailgate(
        &w.root,
        &["check", "--config", path.to_str().unwrap()],
        "",
        &[],
    )
    .assert_code(0);
}

#[test]
fn a_ref_name_longer_than_the_cap_is_cut_and_the_line_stays_json() {
    // The pusher chooses the ref name: about 900 bytes, cut to fit.
    let w = World::new();
    w.install_hook();
    let log = w.root.join("audit.jsonl");
    w.write_policy(&ticket_policy(&format!(
        "audit_log = \"{}\"\naudit_line_max = 1024",
        log.display()
    )));
    let segments: Vec<String> = (0..8).map(|i| format!("{i}{}", "é".repeat(55))).collect();
    let refname = format!("refs/heads/{}", segments.join("/"));
    w.commit(&CAROL, "No ticket\n");
    let run = w.push(&["origin", &format!("HEAD:{refname}")]);
    run.assert_code(1).assert_says("error[tickets]");
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text.lines().next().unwrap();
    assert!(line.len() <= 1024, "{} bytes: {line}", line.len());
    let record: serde_json::Value = serde_json::from_str(line).unwrap();
    let logged = record["ref"].as_str().unwrap();
    assert!(
        logged.ends_with('…') && refname.starts_with(logged.trim_end_matches('…')),
        "{record}"
    );
    assert_eq!(record["decision"], "reject", "{record}");
    // The violation itself did not fit; its rule is still counted, in the
    // line and by `trailgate audit`.
    assert_eq!(record["violations"], serde_json::json!([]), "{record}");
    assert_eq!(
        record["rule_counts"],
        serde_json::json!([{"rule": "tickets", "mode": "enforce", "violations": 1}]),
        "{record}"
    );
    let summary = w.trailgate(
        &w.root,
        &["audit", "--log", log.to_str().unwrap(), "--format", "json"],
        "",
        &[],
    );
    summary.assert_code(0);
    let summary: serde_json::Value = serde_json::from_str(&summary.stdout).unwrap();
    assert_eq!(
        summary["rejections_by_rule"],
        serde_json::json!({"tickets": 1}),
        "{summary}"
    );
}

#[test]
fn check_warns_when_no_syslog_socket_listens() {
    let w = World::new();
    let path = w.root.join("policy.toml");
    let socket = w.root.join("log.sock");
    std::fs::write(
        &path,
        ticket_policy(&format!("audit_syslog = \"{}\"", socket.display())),
    )
    .unwrap();
    let check = || {
        w.trailgate(
            &w.root,
            &["check", "--config", path.to_str().unwrap()],
            "",
            &[],
        )
    };
    check()
        .assert_code(0)
        .assert_says("settings.audit_syslog: no socket at");
    let _server = UnixDatagram::bind(&socket).unwrap();
    check()
        .assert_code(0)
        .assert_silent_about("settings.audit_syslog");
}
