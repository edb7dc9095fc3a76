//! Running on real git hosts: `trailgate install` for each host's layout,
//! the audit log under concurrent pushes, the time budget, and real servers
//! on loopback (gitolite behind sshd, plain sshd with two Unix accounts,
//! `git http-backend` behind lighttpd),
//! started and stopped by the tests themselves.
//!
//! The server tests need `gitolite`, `sshd`, `lighttpd` and root (they
//! create a throwaway system user). `scripts/test` runs them only under
//! `CI=true` or with `--install` (installing the Debian packages when they
//! are missing); otherwise it sets `TRAILGATE_SKIP_HOST_TESTS=1` and each
//! of them returns at once. Either way each one writes whether it ran or
//! was skipped to `$TRAILGATE_HOST_TESTS_REPORT`, and the script's summary
//! lists them. Without the programs and without that variable they FAIL
//! with a message saying what to install: a skipped host test is always a
//! choice, and always reported.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

mod audit;
mod budget;
mod chain;
mod conventions;
mod ghes;
mod gitlab;
mod gitolite;
mod http;
mod install;
mod install_refusals;
mod merge_requests;
mod plain_ssh;
mod unix;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::*;

/// Whether the host tests are to be skipped, and where each host test
/// writes one `run|skipped<TAB>TEST<TAB>PROGRAMS` line for `scripts/test`'s
/// summary.
pub struct HostTestMode {
    pub skip: bool,
    pub report: Option<PathBuf>,
}

impl HostTestMode {
    /// `TRAILGATE_SKIP_HOST_TESTS=1` and `TRAILGATE_HOST_TESTS_REPORT`.
    pub fn from_env() -> Self {
        HostTestMode {
            skip: std::env::var("TRAILGATE_SKIP_HOST_TESTS").as_deref() == Ok("1"),
            report: std::env::var_os("TRAILGATE_HOST_TESTS_REPORT").map(PathBuf::from),
        }
    }

    pub fn record(&self, outcome: &str, test: &str, tools: &[&str]) {
        let Some(report) = &self.report else { return };
        // One write per line, in append mode: tests running on other
        // threads never interleave within a line.
        let line = format!("{outcome}\t{test}\t{}\n", tools.join(" "));
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(report)
            .and_then(|mut f| std::io::Write::write_all(&mut f, line.as_bytes()))
            .unwrap_or_else(|e| panic!("cannot write to {}: {e}", report.display()));
    }
}

/// The server programs a test needs, found on PATH or in the sbin folders;
/// `None` when `TRAILGATE_SKIP_HOST_TESTS=1` asks to skip. Missing programs
/// (or not being root) fail the test: a skipped host test must be a choice.
pub fn host_tools(test: &str, tools: &[&str]) -> Option<Vec<PathBuf>> {
    host_tools_in(&HostTestMode::from_env(), test, tools)
}

/// [`host_tools`] under an explicit mode (so that its own test does not
/// depend on the environment the suite runs in).
pub fn host_tools_in(mode: &HostTestMode, test: &str, tools: &[&str]) -> Option<Vec<PathBuf>> {
    if mode.skip {
        eprintln!("{test}: SKIPPED because TRAILGATE_SKIP_HOST_TESTS=1");
        mode.record("skipped", test, tools);
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
        "{test} needs {missing:?}, which are not installed. Run `sudo scripts/test --install` (it installs the Debian packages gitolite3 openssh-server lighttpd busybox-static), or set TRAILGATE_SKIP_HOST_TESTS=1 to skip the host tests"
    );
    let uid = std::process::Command::new("id").arg("-u").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "{test} must run as root (it starts sshd and creates a throwaway user): run `sudo scripts/test --install`, or set TRAILGATE_SKIP_HOST_TESTS=1 to skip the host tests"
    );
    mode.record("run", test, tools);
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
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("skipped");
    let missing = "trailgate-no-such-server-program";

    let skipping = HostTestMode {
        skip: true,
        report: Some(report.clone()),
    };
    assert!(host_tools_in(&skipping, "probe", &[missing, "sshd"]).is_none());
    assert!(host_tools_in(&skipping, "other", &["lighttpd"]).is_none());
    assert_eq!(
        std::fs::read_to_string(&report).unwrap(),
        format!("skipped\tprobe\t{missing} sshd\nskipped\tother\tlighttpd\n"),
        "each skipped test must be recorded for the summary"
    );

    let running = HostTestMode {
        skip: false,
        report: Some(report.clone()),
    };
    let outcome = std::panic::catch_unwind(|| host_tools_in(&running, "probe", &[missing]));
    let Err(panic) = outcome else {
        panic!("a missing program was not reported");
    };
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains(missing)
            && message.contains("sudo scripts/test --install")
            && message.contains("TRAILGATE_SKIP_HOST_TESTS=1"),
        "{message}"
    );
    assert_eq!(
        std::fs::read_to_string(&report).unwrap().lines().count(),
        2,
        "a failing host test is neither run nor skipped"
    );
}

#[test]
fn a_host_test_that_finds_its_programs_is_recorded_as_run() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report");
    let running = HostTestMode {
        skip: false,
        report: Some(report.clone()),
    };
    let root = String::from_utf8_lossy(
        &std::process::Command::new("id")
            .arg("-u")
            .output()
            .unwrap()
            .stdout,
    )
    .trim()
        == "0";
    // `sh` is everywhere; only root may run host tests.
    let outcome = std::panic::catch_unwind(|| host_tools_in(&running, "probe", &["sh"]));
    let recorded = std::fs::read_to_string(&report).unwrap_or_default();
    if root {
        let found = outcome.unwrap().unwrap();
        assert!(found[0].ends_with("sh"), "{found:?}");
        assert_eq!(recorded, "run\tprobe\tsh\n");
    } else {
        assert!(outcome.is_err(), "not root, yet the host test was let run");
        assert_eq!(recorded, "", "a host test that may not run was recorded");
    }
}
