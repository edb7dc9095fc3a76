//! Running on real git hosts: `trailgate install` for each host's layout,
//! the audit log under concurrent pushes, the time budget, and real servers
//! on loopback (gitolite behind sshd, `git http-backend` behind lighttpd),
//! started and stopped by the tests themselves.
//!
//! The server tests need `gitolite`, `sshd`, `lighttpd` and root (they
//! create a throwaway system user). `.ci/run` installs the Debian packages
//! when they are missing. Without them these tests FAIL with a message
//! saying what to install; set `TRAILGATE_SKIP_HOST_TESTS=1` to skip them
//! on purpose (they then print that they were skipped).

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

mod audit;
mod budget;
mod conventions;
mod gitolite;
mod http;
mod install;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::*;

/// The server programs a test needs, found on PATH or in the sbin folders;
/// `None` when `TRAILGATE_SKIP_HOST_TESTS=1` asks to skip. Missing programs
/// (or not being root) fail the test: a skipped host test must be a choice.
pub fn host_tools(test: &str, tools: &[&str]) -> Option<Vec<PathBuf>> {
    if std::env::var("TRAILGATE_SKIP_HOST_TESTS").as_deref() == Ok("1") {
        eprintln!("{test}: SKIPPED because TRAILGATE_SKIP_HOST_TESTS=1");
        return None;
    }
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for tool in tools {
        match find_tool(tool) {
            Some(p) => found.push(p),
            None => missing.push(*tool),
        }
    }
    assert!(
        missing.is_empty(),
        "{test} needs {missing:?}, which are not installed. Install them (Debian: apt-get install -y gitolite3 openssh-server lighttpd; `.ci/run` does this when run as root), or set TRAILGATE_SKIP_HOST_TESTS=1 to skip the host tests"
    );
    let uid = std::process::Command::new("id").arg("-u").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "{test} must run as root (it starts sshd and creates a throwaway user); set TRAILGATE_SKIP_HOST_TESTS=1 to skip the host tests"
    );
    Some(found)
}

/// A program on PATH or in the usual sbin folders.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin", "/usr/bin"])
        .map(|d| Path::new(d).join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        });
    found
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts connections on the port.
pub fn wait_for_port(port: u16, what: &str, log: &Path) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{what} did not start listening on 127.0.0.1:{port}; its log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// Every file and folder under `dir`: relative path -> (mode, contents).
pub fn snapshot(dir: &Path) -> BTreeMap<String, (u32, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(dir).unwrap().display().to_string();
            let contents = if meta.is_file() {
                std::fs::read(&path).unwrap()
            } else if meta.file_type().is_symlink() {
                std::fs::read_link(&path)
                    .unwrap()
                    .display()
                    .to_string()
                    .into_bytes()
            } else {
                stack.push(path.clone());
                Vec::new()
            };
            out.insert(rel, (meta.permissions().mode(), contents));
        }
    }
    out
}

/// The audit log's lines, each parsed (a line that is not a JSON object fails).
pub fn read_audit(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read the audit log {}: {e}", path.display()));
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "the audit log must end with a newline:\n{text}"
    );
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("audit line is not JSON ({e}): {l:?}"));
            assert!(v.is_object(), "audit line is not an object: {l}");
            v
        })
        .collect()
}

/// Asserts an audit record has every documented field.
pub fn assert_record_shape(r: &serde_json::Value) {
    for key in [
        "time",
        "push_id",
        "repository",
        "pusher",
        "protocol",
        "ref",
        "old",
        "new",
        "decision",
        "violations",
        "warnings",
        "overrides",
        "commits_checked",
        "duration_ms",
    ] {
        assert!(r.get(key).is_some(), "audit record lacks `{key}`: {r}");
    }
    assert!(r["violations"].is_array() && r["warnings"].is_array());
    assert_eq!(r["overrides"], serde_json::json!([]), "{r}");
    let time = r["time"].as_str().unwrap();
    assert!(
        regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            .unwrap()
            .is_match(time),
        "{time}"
    );
}

/// `trailgate install ARGS...` (or any subcommand) run from the world's root.
pub fn tg(w: &World, args: &[&str]) -> Run {
    w.trailgate(&w.root, args, "", &[])
}

/// Writes `text` as `NAME` in the world's root and returns its path.
pub fn write_file(w: &World, name: &str, text: &str) -> String {
    let path = w.root.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn a_missing_host_program_fails_the_test_unless_skipping_is_asked_for() {
    let skipping = std::env::var("TRAILGATE_SKIP_HOST_TESTS").as_deref() == Ok("1");
    let outcome =
        std::panic::catch_unwind(|| host_tools("probe", &["trailgate-no-such-server-program"]));
    match outcome {
        Ok(found) => assert!(
            skipping && found.is_none(),
            "a missing program was not reported"
        ),
        Err(panic) => {
            assert!(!skipping, "TRAILGATE_SKIP_HOST_TESTS=1 must skip, not fail");
            let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
            assert!(
                message.contains("trailgate-no-such-server-program")
                    && message.contains("apt-get install")
                    && message.contains("TRAILGATE_SKIP_HOST_TESTS=1"),
                "{message}"
            );
        }
    }
}
