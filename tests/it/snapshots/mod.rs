//! Snapshot tests of exactly what a pusher sees: the `remote:` lines of real
//! pushes into a bare repository with trailgate installed as git runs it,
//! and the JSON of `verify --format json` and `pre-receive --format json`.
//!
//! They pin today's wording so that a restructure can prove it changes
//! nothing, and a deliberate change of the text shows up as a snapshot diff
//! to review. Each scenario is one [`Transcript`] (the steps, their exit
//! codes and what they printed), stored as `tests/it/snapshots/NAME.snap`
//! with a description of what it shows.
//!
//! Updating: `cargo test --test it snapshots` writes `NAME.snap.new` beside
//! each snapshot that differs and fails; accept or reject each diff with
//! `cargo insta review` (from `cargo install cargo-insta`), or accept all
//! with `INSTA_UPDATE=always cargo test --test it snapshots` and read
//! `git diff tests/it/snapshots/`. Under `CI=true` nothing is written and
//! a difference fails.
//!
//! The output is made deterministic twice over: every commit gets fixed
//! names, e-mails and dates (so ids are stable), and every object id is still
//! redacted to `<cN>` / `<cN:short>` by order of first appearance, so that the
//! same snapshots hold for a SHA-256 repository. Temporary paths, durations,
//! times, push ids and key fingerprints are redacted by insta filters.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod approvals;
mod client;
mod content;
mod example;
mod explain;
mod formats;
mod large;
mod refs;

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

use crate::support::{hermetic, run_trailgate, Person, Run, ALICE, TRAILGATE};

/// 2026-01-01T00:00:00Z: the first commit's date; each later commit is one
/// minute after the one before.
const EPOCH: u64 = 1_767_225_600;

/// A throwaway server (`server.git`, bare, `main`) and a clone (`work`)
/// whose every commit has a fixed date, so that the same scenario always
/// makes the same commit ids.
pub struct Stage {
    _tmp: TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
    pub server: PathBuf,
    pub work: PathBuf,
    /// Commits made so far: the next one's file number and date.
    tick: Cell<u64>,
}

impl Stage {
    /// A server whose `main` holds one commit by Alice, pushed before any
    /// hook is installed, and a clone on `main` tracking it.
    pub fn new() -> Stage {
        let tmp = tempfile::Builder::new()
            .prefix("trailgate-snap-")
            .tempdir()
            .unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let home = root.join("home");
        std::fs::create_dir_all(&home).unwrap();
        let s = Stage {
            server: root.join("server.git"),
            work: root.join("work"),
            home,
            root,
            _tmp: tmp,
            tick: Cell::new(0),
        };
        s.git_in(
            &s.root,
            &["init", "-q", "--bare", "-b", "main", "server.git"],
        );
        s.git_in(&s.root, &["init", "-q", "-b", "main", "work"]);
        s.git(&["remote", "add", "origin", s.server.to_str().unwrap()]);
        s.commit(&ALICE, "Initial commit\n");
        s.push(&["origin", "main"], &[]).assert_code(0);
        s.git(&["branch", "-q", "--set-upstream-to=origin/main"]);
        s
    }

    /// [`Stage::new`] with the hook installed and `policy` in force.
    pub fn guarded(policy: &str) -> Stage {
        let s = Stage::new();
        s.install_hook();
        s.write_policy(policy);
        s
    }

    /// `hooks/pre-receive` is a symlink to the binary, as `install` makes it.
    pub fn install_hook(&self) {
        let hook = self.server.join("hooks").join("pre-receive");
        let _ = std::fs::remove_file(&hook);
        std::os::unix::fs::symlink(TRAILGATE, &hook).unwrap();
    }

    /// A hook that runs `trailgate pre-receive --format json` (its stdout
    /// reaches the pusher as `remote:` lines too).
    pub fn install_json_hook(&self) {
        use std::os::unix::fs::PermissionsExt as _;
        let hook = self.server.join("hooks").join("pre-receive");
        let _ = std::fs::remove_file(&hook);
        std::fs::write(
            &hook,
            format!("#!/bin/sh\nexec {TRAILGATE} pre-receive --format json\n"),
        )
        .unwrap();
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Writes the policy where hook mode finds it: `$GIT_DIR/trailgate.toml`.
    pub fn write_policy(&self, text: &str) {
        std::fs::write(self.server.join("trailgate.toml"), text).unwrap();
    }

    /// Sets a configuration variable of the server repository.
    pub fn server_config(&self, key: &str, value: &str) {
        self.git_in(&self.server, &["config", key, value]);
    }

    /// The fixed date of the current tick, for author and committer.
    fn date(&self) -> String {
        format!("@{} +0000", EPOCH + 60 * self.tick.get())
    }

    /// Runs git in `dir` (hermetic, dated), asserting nothing.
    pub fn run_git(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let date = self.date();
        let mut cmd = Command::new("git");
        cmd.args(args).current_dir(dir).stdin(Stdio::null());
        hermetic(&mut cmd, &self.home);
        cmd.env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        Run {
            what: shell_words("git", args),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let r = self.run_git(dir, args, &[]);
        r.assert_code(0);
        r.stdout.trim_end().to_owned()
    }

    /// Runs git in the clone, asserts success, returns trimmed stdout.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.work, args)
    }

    /// Writes `text` to `path` in the clone (creating folders).
    pub fn write(&self, path: &str, text: &str) {
        let file = self.work.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }

    /// Commits everything staged or changed in the clone, as `author` (who
    /// is also the committer), with exactly `message`; returns the full id.
    pub fn commit_all(&self, author: &Person, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.tick.set(self.tick.get() + 1);
        let msg_file = self.root.join(format!("msg-{}.txt", self.tick.get()));
        std::fs::write(&msg_file, message).unwrap();
        let env = [
            ("GIT_AUTHOR_NAME", author.name),
            ("GIT_AUTHOR_EMAIL", author.email),
            ("GIT_COMMITTER_NAME", author.name),
            ("GIT_COMMITTER_EMAIL", author.email),
        ];
        let args = [
            "commit",
            "-q",
            "--allow-empty",
            "-F",
            msg_file.to_str().unwrap(),
        ];
        self.run_git(&self.work, &args, &env).assert_code(0);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Commits a new one-line file, as [`Stage::commit_all`].
    pub fn commit(&self, author: &Person, message: &str) -> String {
        let n = self.tick.get() + 1;
        self.write(&format!("file-{n}.txt"), &format!("change {n}\n"));
        self.commit_all(author, message)
    }

    /// `git push ARGS...` from the clone, with `env` passed on to the hook.
    pub fn push(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut all = vec!["push"];
        all.extend_from_slice(args);
        self.run_git(&self.work, &all, env)
    }

    /// `trailgate ARGS...` in `dir`.
    pub fn trailgate_in(&self, dir: &Path, args: &[&str]) -> Run {
        let mut run = run_trailgate(&self.home, dir, args, b"", &[]);
        run.what = shell_words("trailgate", args);
        run
    }

    /// `trailgate ARGS...` in the clone.
    pub fn trailgate(&self, args: &[&str]) -> Run {
        self.trailgate_in(&self.work, args)
    }

    /// Every object id the clone and the server know, for redaction.
    fn known_ids(&self) -> Vec<String> {
        let mut ids = Vec::new();
        for dir in [&self.work, &self.server] {
            let out = self.git_in(
                dir,
                &[
                    "cat-file",
                    "--batch-all-objects",
                    "--batch-check=%(objectname)",
                ],
            );
            ids.extend(out.lines().map(str::to_owned));
        }
        ids.sort();
        ids.dedup();
        ids
    }
}

/// `program ARGS...` as one would type it: an argument with a space or a
/// quote in it is single-quoted.
fn shell_words(program: &str, args: &[&str]) -> String {
    let mut out = program.to_owned();
    for a in args {
        if a.is_empty() || a.contains([' ', '"', '\'', '$', '`', '\\']) {
            let _ = write!(out, " '{}'", a.replace('\'', "'\\''"));
        } else {
            let _ = write!(out, " {a}");
        }
    }
    out
}

/// Is `s` an object id made only of zeros (git's "no object")?
fn is_zero_id(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b == b'0')
}

/// Replaces object ids (full, or abbreviated to 7 or more digits) with
/// `<cN>` / `<cN:short>`, N counting ids in order of first appearance; the
/// all-zero id with `<zero>`, and a full-length id that names no object of
/// the stage with `<unknown-oid>`.
pub fn redact_ids(text: &str, known: &[String]) -> String {
    let hex = regex::Regex::new(r"\b[0-9a-f]{7,64}\b").unwrap();
    let mut numbers: HashMap<&str, usize> = HashMap::new();
    hex.replace_all(text, |c: &regex::Captures<'_>| {
        let token = &c[0];
        if is_zero_id(token) {
            return "<zero>".to_owned();
        }
        let mut matches = known.iter().filter(|id| id.starts_with(token));
        match (matches.next(), matches.next()) {
            (Some(id), None) => {
                let next = numbers.len() + 1;
                let n = *numbers.entry(id.as_str()).or_insert(next);
                if token.len() == id.len() {
                    format!("<c{n}>")
                } else {
                    format!("<c{n}:short>")
                }
            }
            _ if token.len() >= 40 => "<unknown-oid>".to_owned(),
            _ => token.to_owned(),
        }
    })
    .into_owned()
}

/// The record of one scenario: each step's command, exit code and what it
/// printed, redacted and compared with its snapshot by [`Transcript::check`].
pub struct Transcript<'a> {
    stage: &'a Stage,
    text: String,
    /// Every object id seen at any step (a later step may drop objects,
    /// `git gc` may prune them).
    known: Vec<String>,
}

impl<'a> Transcript<'a> {
    pub fn new(stage: &'a Stage) -> Self {
        Transcript {
            stage,
            text: String::new(),
            known: Vec::new(),
        }
    }

    fn heading(&mut self, title: &str, run: &Run) {
        self.remember_ids();
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        let _ = writeln!(self.text, "## {title}");
        let _ = writeln!(self.text, "$ {}", run.what);
        let _ = writeln!(self.text, "exit: {}", code(run));
    }

    fn remember_ids(&mut self) {
        self.known.extend(self.stage.known_ids());
        self.known.sort();
        self.known.dedup();
    }

    /// A push: git's `remote:` lines (what the hook said), as the pusher
    /// sees them but without git's trailing padding.
    pub fn push(&mut self, title: &str, run: &Run) -> &mut Self {
        run.assert_no_panic();
        self.heading(title, run);
        for line in run.stderr.lines().filter(|l| l.starts_with("remote:")) {
            let _ = writeln!(self.text, "{}", line.trim_end());
        }
        self
    }

    /// A push judged on the client (the `pre-push` shim): everything git
    /// and the hook wrote to stderr.
    pub fn client(&mut self, title: &str, run: &Run) -> &mut Self {
        run.assert_no_panic();
        self.heading(title, run);
        for line in run.stderr.lines() {
            let _ = writeln!(self.text, "{}", line.trim_end());
        }
        self
    }

    /// A trailgate command run directly: its stdout, then its stderr.
    pub fn command(&mut self, title: &str, run: &Run) -> &mut Self {
        run.assert_no_panic();
        self.heading(title, run);
        for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            if !text.is_empty() {
                let _ = writeln!(self.text, "--- {name}");
                self.text.push_str(text);
                if !text.ends_with('\n') {
                    self.text.push('\n');
                }
            }
        }
        self
    }

    /// A JSON report (the one object of `text`), pretty-printed.
    pub fn json(&mut self, title: &str, run: &Run, text: &str) -> &mut Self {
        run.assert_no_panic();
        self.heading(title, run);
        let value: serde_json::Value = serde_json::from_str(text.trim())
            .unwrap_or_else(|e| panic!("not one JSON object ({e}): {text:?}\n{}", run.dump()));
        let _ = writeln!(
            self.text,
            "{}",
            serde_json::to_string_pretty(&value).unwrap()
        );
        self
    }

    /// A push through [`Stage::install_json_hook`]: the JSON object it
    /// printed (on one `remote:` line), then any other `remote:` lines.
    pub fn json_push(&mut self, title: &str, run: &Run) -> &mut Self {
        let lines = run.remote_lines();
        let json = lines
            .iter()
            .find(|l| l.starts_with('{'))
            .unwrap_or_else(|| panic!("no JSON report\n{}", run.dump()));
        self.json(title, run, json);
        for other in lines.iter().filter(|l| !l.starts_with('{')) {
            let _ = writeln!(self.text, "remote: {other}");
        }
        self
    }

    /// The lines of an audit log, as written (one JSON object each, fields
    /// in the log's own order).
    pub fn audit_log(&mut self, title: &str, path: &Path) -> &mut Self {
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        let _ = writeln!(self.text, "## {title}");
        let log = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read the audit log {}: {e}", path.display()));
        for line in log.lines() {
            serde_json::from_str::<serde_json::Value>(line)
                .unwrap_or_else(|e| panic!("audit line is not JSON ({e}): {line}"));
            let _ = writeln!(self.text, "{line}");
        }
        self
    }

    /// Redacts the transcript and compares it with snapshot `name`, which
    /// `about` describes for the reviewer.
    pub fn check(&mut self, name: &str, about: &str) {
        self.remember_ids();
        let text = redact_ids(&self.text, &self.known);
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(".");
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_description(about);
        settings.add_filter(
            &regex::escape(&self.stage.root.display().to_string()),
            "<tmp>",
        );
        settings.add_filter(&regex::escape(TRAILGATE), "<trailgate>");
        settings.add_filter(r"tmp_objdir-incoming-[A-Za-z0-9]+", "<quarantine>");
        settings.add_filter(
            r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
            "<time>",
        );
        settings.add_filter(
            r#""duration_ms":( ?)\d+"#,
            r#""duration_ms":$1"<duration>""#,
        );
        settings.add_filter(r#""push_id":( ?)"[^"]*""#, r#""push_id":$1"<push-id>""#);
        settings.add_filter(r#""slowest_ms":( ?)\d+"#, r#""slowest_ms":$1"<duration>""#);
        // Which push is the slowest depends on the machine's load.
        settings.add_filter(
            r"slowest: \d+ ms.*",
            "slowest: <duration>, <the slowest push>",
        );
        settings.add_filter(
            r#""slowest": \{[^}]*\}"#,
            r#""slowest": "<the slowest push>""#,
        );
        settings.add_filter(r"SHA256:[A-Za-z0-9+/]{43}", "<key-fingerprint>");
        settings.add_filter(r"ssh-ed25519 AAAA[A-Za-z0-9+/=]+", "<ssh-key>");
        settings.bind(|| insta::assert_snapshot!(name, text));
    }
}

fn code(run: &Run) -> String {
    run.code
        .map_or_else(|| "killed by a signal".to_owned(), |c| c.to_string())
}

/// An SSH key pair made with the real ssh-keygen; the public key in the
/// form `[people]` takes.
pub struct Key {
    pub private: PathBuf,
    pub public: String,
}

pub fn keygen(stage: &Stage, name: &str) -> Key {
    let private = stage.root.join(format!("{name}_ed25519"));
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&private)
        .output()
        .expect("ssh-keygen is needed for the signature snapshots (package openssh-client)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = std::fs::read_to_string(format!("{}.pub", private.display())).unwrap();
    Key {
        private,
        public: public.trim().to_owned(),
    }
}

#[test]
fn ids_are_numbered_by_first_appearance_whatever_their_length() {
    let a = "a".repeat(40);
    let b = format!("b{}", "0".repeat(63));
    let known = vec![a.clone(), b.clone()];
    let text = format!(
        "{} then {a} and {}, {} {}",
        &b[..7],
        &a[..9],
        "0".repeat(40),
        "c".repeat(40)
    );
    assert_eq!(
        redact_ids(&text, &known),
        "<c1:short> then <c2> and <c2:short>, <zero> <unknown-oid>"
    );
}
