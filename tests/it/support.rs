//! Test harness: hermetic git, throwaway bare "server" repositories with
//! trailgate installed exactly as git runs it (`hooks/pre-receive`), and
//! clones that commit and push for real over the file transport.
//!
//! Every test builds its own [`World`] in its own temporary folder, so tests
//! are independent and run in parallel. Every process (git, trailgate, the
//! hook git starts) gets a cleared environment: no system or global git
//! configuration, a private `HOME`, and nothing inherited from the caller
//! (`TRAILGATE_*`, `GIT_DIR`, ...).

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::cell::Cell;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

/// The binary under test.
pub const TRAILGATE: &str = env!("CARGO_BIN_EXE_trailgate");

/// The repository root (where `config.example.toml` and `hooks/` live).
pub const REPO_ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The all-zero object id git uses for "no object" (creation, deletion).
pub const ZERO: Zero = Zero;

/// Git's all-zero id ("no object") in the suite's object format
/// ([`test_object_format`]): prints as, and dereferences to, 40 or 64 zeros.
#[derive(Clone, Copy)]
pub struct Zero;

impl std::ops::Deref for Zero {
    type Target = str;
    fn deref(&self) -> &str {
        static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        ID.get_or_init(null_id)
    }
}

impl std::fmt::Display for Zero {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

/// Someone who writes commits.
#[derive(Clone, Copy, Debug)]
pub struct Person {
    pub name: &'static str,
    pub email: &'static str,
}

impl Person {
    /// `Name <email>`, as in an `Approved-By:` trailer.
    pub fn ident(&self) -> String {
        format!("{} <{}>", self.name, self.email)
    }
}

/// Senior, person id `alice`, two e-mail addresses, host login `alice-s`.
pub const ALICE: Person = Person {
    name: "Alice Senior",
    email: "alice@example.com",
};
/// Alice under her second address.
pub const ALICE_OLD: Person = Person {
    name: "Alice Senior",
    email: "alice@old.example.com",
};
/// Senior, listed in the group by e-mail.
pub const BOB: Person = Person {
    name: "Bob Senior",
    email: "bob@example.com",
};
/// Junior engineer.
pub const CAROL: Person = Person {
    name: "Carol",
    email: "carol@example.com",
};
/// Mid-level engineer.
pub const DAVE: Person = Person {
    name: "Dave",
    email: "dave@example.com",
};
/// A bot account.
pub const BOT: Person = Person {
    name: "CI Bot",
    email: "ci-bot@example.com",
};
/// An outside contractor.
pub const ERIN: Person = Person {
    name: "Erin Contractor",
    email: "erin@contractor.example",
};

/// People and groups shared by most policies: `senior` = alice (by person
/// id, two e-mails) and bob (by e-mail); `bots` = the CI bot.
pub const PEOPLE: &str = r#"
[people.alice]
name = "Alice Senior"
emails = ["alice@example.com", "alice@old.example.com"]
logins = ["alice-s"]

[people.bob]
name = "Bob Senior"
emails = ["bob@example.com"]

[groups]
senior = ["alice", "bob@example.com"]
bots = ["ci-bot@example.com"]
"#;

/// The senior-approval rule of `config.example.toml`, restricted to `main`.
pub const SENIOR_RULE: &str = r#"
[[rule]]
name = "ai-needs-senior-approval"
message = "AI-assisted changes from junior and mid-level engineers need a senior's sign-off."
refs = ["refs/heads/main"]
when = { ai_assisted = true, author_not_in = ["senior"] }
require = { approvals = { from = ["senior"], count = 1 } }
"#;

/// The message of [`SENIOR_RULE`], which the report must repeat.
pub const SENIOR_RULE_MESSAGE: &str =
    "AI-assisted changes from junior and mid-level engineers need a senior's sign-off.";

/// A version-1 policy with [`PEOPLE`] and the given rules (and settings).
pub fn policy(rest: &str) -> String {
    policy_with_groups("", rest)
}

/// [`policy`] with more lines in the `[groups]` table (`name = [...]`).
pub fn policy_with_groups(groups: &str, rest: &str) -> String {
    format!("version = 1\n{PEOPLE}{groups}\n{rest}")
}

/// A commit message: subject, a body paragraph, then the trailer block (if
/// any trailers are given) as the last paragraph.
pub fn msg(subject: &str, trailers: &[&str]) -> String {
    let mut m = format!("{subject}\n\nExplain why this change is needed.\n");
    if !trailers.is_empty() {
        m.push('\n');
        for t in trailers {
            m.push_str(t);
            m.push('\n');
        }
    }
    m
}

/// `Approved-By: Name <email>` for a person.
pub fn approved_by(p: &Person) -> String {
    format!("Approved-By: {}", p.ident())
}

/// Makes a file git wrote read-only (a pack, a loose object, the
/// commit-graph) writable by its owner, so that a test can damage it when it
/// does not run as root.
pub fn make_writable(path: &Path) {
    let mut permissions = std::fs::metadata(path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(path, permissions).unwrap();
}

/// The object format every repository a test creates uses:
/// `TRAILGATE_TEST_OBJECT_FORMAT` (`sha1`, the default, or `sha256`).
pub fn test_object_format() -> String {
    std::env::var("TRAILGATE_TEST_OBJECT_FORMAT")
        .ok()
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| "sha1".into())
}

/// The ref storage every repository a test creates uses:
/// `TRAILGATE_TEST_REF_FORMAT` (`files`, the default, or `reftable`).
pub fn test_ref_format() -> String {
    std::env::var("TRAILGATE_TEST_REF_FORMAT")
        .ok()
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| "files".into())
}

/// Hex digits in an object id of [`test_object_format`] (40 or 64).
pub fn test_hex_len() -> usize {
    if test_object_format() == "sha256" {
        64
    } else {
        40
    }
}

/// An object id of the suite's format that names no object: `pattern`
/// repeated (and cut) to the right length, e.g. `fake_id("1234567890")`.
pub fn fake_id(pattern: &str) -> String {
    pattern
        .repeat(test_hex_len())
        .chars()
        .take(test_hex_len())
        .collect()
}

/// Git's all-zero id in the suite's format ("no object").
pub fn null_id() -> String {
    fake_id("0")
}

/// Applies the hermetic environment to a command.
///
/// Every git a test runs goes through here, so the formats of
/// [`test_object_format`] and [`test_ref_format`] reach every `git init` and
/// `git clone` as git's own defaults (`GIT_DEFAULT_HASH`,
/// `GIT_DEFAULT_REF_FORMAT`): the whole suite runs against each kind of
/// repository.
pub fn hermetic(cmd: &mut Command, home: &Path) {
    cmd.env_clear();
    cmd.env("GIT_DEFAULT_HASH", test_object_format())
        .env("GIT_DEFAULT_REF_FORMAT", test_ref_format());
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    if let Some(tmp) = std::env::var_os("TMPDIR") {
        cmd.env("TMPDIR", tmp);
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ADVICE", "0")
        .env("LANG", "C")
        .env("LC_ALL", "C")
        .env("TZ", "UTC")
        .env("GIT_COMMITTER_NAME", "Pat Pusher")
        .env("GIT_COMMITTER_EMAIL", "pat@example.com")
        .env("GIT_AUTHOR_NAME", "Pat Pusher")
        .env("GIT_AUTHOR_EMAIL", "pat@example.com");
}

/// What a process did.
#[derive(Debug)]
pub struct Run {
    /// What was run, for failure messages.
    pub what: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from_output(what: String, out: Output) -> Run {
        Run {
            what,
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Everything the process said, for failure messages.
    pub fn dump(&self) -> String {
        format!(
            "`{}` exited with {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.what, self.code, self.stdout, self.stderr
        )
    }

    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// The lines git relays from the hook, without the `remote: ` prefix
    /// and without git's trailing padding.
    pub fn remote_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter_map(|l| l.strip_prefix("remote:"))
            .map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end())
            .collect()
    }

    /// The hook's words joined back into text.
    pub fn remote_text(&self) -> String {
        self.remote_lines().join("\n")
    }

    /// Asserts the exit code.
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit code\n{}",
            self.dump()
        );
        self
    }

    /// Asserts that nothing panicked.
    pub fn assert_no_panic(&self) -> &Self {
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("RUST_BACKTRACE"),
            "trailgate panicked\n{}",
            self.dump()
        );
        self
    }

    /// Asserts a push went through, the hook said nothing.
    pub fn assert_accepted_silently(&self) -> &Self {
        self.assert_accepted();
        assert!(
            self.remote_lines().iter().all(|l| l.is_empty()),
            "an accepted push with no warnings must print nothing\n{}",
            self.dump()
        );
        self
    }

    /// Asserts a push went through.
    pub fn assert_accepted(&self) -> &Self {
        assert_eq!(
            self.code,
            Some(0),
            "push should be accepted\n{}",
            self.dump()
        );
        assert!(
            !self.stderr.contains("hook declined"),
            "push should be accepted\n{}",
            self.dump()
        );
        self.assert_no_panic()
    }

    /// Asserts the pre-receive hook declined the push and says so in a
    /// `push rejected` summary.
    pub fn assert_rejected(&self) -> &Self {
        assert_ne!(
            self.code,
            Some(0),
            "push should be rejected\n{}",
            self.dump()
        );
        assert!(
            self.stderr.contains("pre-receive hook declined"),
            "the pre-receive hook should have declined the push\n{}",
            self.dump()
        );
        self.assert_no_panic()
    }

    /// Asserts a rejection by policy, with `push rejected` and the number of
    /// violations on the summary line.
    pub fn assert_rejected_with(&self, violations: usize) -> &Self {
        self.assert_rejected();
        let re = regex::Regex::new(&format!(r"\b{violations}\b")).unwrap();
        assert!(
            self.remote_lines()
                .iter()
                .any(|l| l.contains("push rejected") && re.is_match(l)),
            "expected a `push rejected` line counting {violations} violation(s)\n{}",
            self.dump()
        );
        self
    }

    /// Asserts one line of the hook's report names all of `parts` (for a
    /// violation: `error[rule]`, the ref, the short id, the subject).
    pub fn assert_line_with(&self, parts: &[&str]) -> &Self {
        let text = self.all_text();
        assert!(
            text.lines().any(|l| parts.iter().all(|p| l.contains(p))),
            "expected one line containing all of {parts:?}\n{}",
            self.dump()
        );
        self
    }

    /// Asserts a violation `error[rule]` (or `warning[rule]`) of the ref
    /// naming the commit's 7-character short id and its subject: on the
    /// violation's own line, or in the list of commits of a block that
    /// groups the rule's violations (`error[rule]: REF: N commits`).
    pub fn assert_violation(
        &self,
        level: &str,
        rule: &str,
        refname: &str,
        oid: &str,
        subject: &str,
    ) -> &Self {
        let tag = format!("{level}[{rule}]");
        let short = &oid[..7];
        let refname = refname.strip_prefix("refs/heads/").unwrap_or(refname);
        let text = self.all_text();
        let lines: Vec<&str> = text.lines().collect();
        let names = |l: &str| l.contains(short) && l.contains(subject);
        let found = lines.iter().enumerate().any(|(i, head)| {
            head.contains(&tag)
                && head.contains(refname)
                && (names(head)
                    || lines[i + 1..]
                        .iter()
                        .take_while(|l| !l.trim().is_empty() && !l.contains("found:"))
                        .any(|l| names(l)))
        });
        assert!(
            found,
            "expected {tag} on {refname} naming {short} {subject:?}\n{}",
            self.dump()
        );
        self
    }

    /// The short ids a block of `tag` (`error[rule]`) lists, in order: its
    /// own, or those of its list of commits.
    pub fn listed_commits(&self, tag: &str) -> Vec<String> {
        let lines = self.remote_lines();
        let short = |l: &str| {
            l.split_whitespace()
                .find(|w| w.len() == 7 && w.bytes().all(|b| b.is_ascii_hexdigit()))
                .map(str::to_owned)
        };
        let mut out = Vec::new();
        for (i, head) in lines.iter().enumerate() {
            if !head.starts_with(tag) {
                continue;
            }
            if !head.ends_with(" commits") {
                out.extend(short(head));
                continue;
            }
            out.extend(
                lines[i + 1..]
                    .iter()
                    .take_while(|l| !l.contains("found:"))
                    .filter_map(|l| short(l)),
            );
        }
        out
    }

    /// Everything said: the hook's `remote:` lines without the prefix, then
    /// stdout and stderr.
    pub fn all_text(&self) -> String {
        format!("{}\n{}\n{}", self.remote_text(), self.stdout, self.stderr)
    }

    /// Asserts the report (stdout, stderr or `remote:` lines) contains `needle`.
    pub fn assert_says(&self, needle: &str) -> &Self {
        assert!(
            self.all_text().contains(needle),
            "expected the output to contain {needle:?}\n{}",
            self.dump()
        );
        self
    }

    /// Asserts the report (stdout, stderr or `remote:` lines) does not contain `needle`.
    pub fn assert_silent_about(&self, needle: &str) -> &Self {
        assert!(
            !self.all_text().contains(needle),
            "expected the output not to contain {needle:?}\n{}",
            self.dump()
        );
        self
    }

    /// Asserts `file:line:col` is cited, `file` ending in `file_name`, at
    /// `line`, with a column among `cols` (the start of the offending key or
    /// value; both are "the right place").
    pub fn assert_cites(&self, file_name: &str, line: usize, cols: &[usize]) -> &Self {
        let re = regex::Regex::new(&format!(r"{}:(\d+):(\d+)", regex::escape(file_name))).unwrap();
        let text = format!("{}\n{}", self.stderr, self.stdout);
        let found: Vec<(usize, usize)> = re
            .captures_iter(&text)
            .map(|c| (c[1].parse().unwrap(), c[2].parse().unwrap()))
            .collect();
        assert!(
            found.iter().any(|&(l, c)| l == line && cols.contains(&c)),
            "expected {file_name}:{line}:<one of {cols:?}>, found {found:?}\n{}",
            self.dump()
        );
        self
    }
}

/// A temporary folder with a bare "server" repository (`server.git`), a
/// working clone (`work`) whose remote `origin` is the server, and a
/// private `HOME`.
pub struct World {
    _tmp: TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
    pub server: PathBuf,
    pub work: PathBuf,
    files: Cell<u32>,
}

impl World {
    /// A server with a `main` branch holding one plain commit by Alice, pushed
    /// before any hook was installed, and a clone on `main` tracking it.
    pub fn new() -> World {
        World::with_object_format(&test_object_format())
    }

    /// [`World::new`] with repositories in the given object format
    /// (`sha1` or `sha256`).
    pub fn with_object_format(format: &str) -> World {
        World::with_formats(format, &test_ref_format())
    }

    /// [`World::new`] with repositories in the given object format (`sha1`,
    /// `sha256`) and ref storage (`files`, `reftable`).
    pub fn with_formats(format: &str, refs: &str) -> World {
        World::with_formats_and_config(format, refs, &[])
    }

    /// [`World::with_formats`], with `config` set in the clone before its
    /// first object (`extensions.compatObjectFormat` must be).
    pub fn with_formats_and_config(format: &str, refs: &str, config: &[(&str, &str)]) -> World {
        let tmp = tempfile::Builder::new()
            .prefix("trailgate-it-")
            .tempdir()
            .unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let home = root.join("home");
        std::fs::create_dir_all(&home).unwrap();
        let w = World {
            server: root.join("server.git"),
            work: root.join("work"),
            home,
            root,
            _tmp: tmp,
            files: Cell::new(0),
        };
        let format = format!("--object-format={format}");
        let refs = format!("--ref-format={refs}");
        w.run_git(
            &w.root,
            &[
                "init",
                "-q",
                "--bare",
                "-b",
                "main",
                &format,
                &refs,
                "server.git",
            ],
        )
        .assert_code(0);
        w.run_git(
            &w.root,
            &["init", "-q", "-b", "main", &format, &refs, "work"],
        )
        .assert_code(0);
        for (key, value) in config {
            w.git(&["config", key, value]);
        }
        w.git(&["config", "user.name", "Pat Pusher"]);
        w.git(&["config", "user.email", "pat@example.com"]);
        w.git(&["remote", "add", "origin", w.server.to_str().unwrap()]);
        w.commit(&ALICE, "Initial commit\n");
        w.push(&["origin", "main"]).assert_code(0);
        w.git(&["branch", "-q", "--set-upstream-to=origin/main"]);
        w
    }

    /// [`World::new`], then the hook installed and `policy` written to
    /// `server.git/trailgate.toml`.
    pub fn with_policy(policy: &str) -> World {
        let w = World::new();
        w.install_hook();
        w.write_policy(policy);
        w
    }

    /// Installs trailgate as git runs it: `hooks/pre-receive` is a symlink to
    /// the binary.
    pub fn install_hook(&self) {
        let hook = self.server.join("hooks").join("pre-receive");
        let _ = std::fs::remove_file(&hook);
        std::os::unix::fs::symlink(TRAILGATE, &hook).unwrap();
    }

    /// Writes the policy where hook mode finds it: `$GIT_DIR/trailgate.toml`.
    pub fn write_policy(&self, text: &str) {
        std::fs::write(self.server.join("trailgate.toml"), text).unwrap();
    }

    /// Sets a configuration variable of the server repository.
    pub fn server_config(&self, key: &str, value: &str) {
        self.server_git(&["config", key, value]);
    }

    /// Runs git in `dir` with the hermetic environment.
    pub fn run_git(&self, dir: &Path, args: &[&str]) -> Run {
        self.run_git_env(dir, args, &[])
    }

    /// Runs git in `dir` with the hermetic environment plus `env`.
    pub fn run_git_env(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new("git");
        cmd.args(args).current_dir(dir).stdin(Stdio::null());
        hermetic(&mut cmd, &self.home);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        Run::from_output(format!("git {}", args.join(" ")), out)
    }

    /// Feeds `script` to `git fast-import --force` in the clone, then checks
    /// `main` out: for histories too long to commit one by one.
    pub fn fast_import(&self, script: &str) {
        let mut cmd = Command::new("git");
        cmd.args(["fast-import", "--quiet", "--force"])
            .current_dir(&self.work)
            .stdin(Stdio::piped());
        hermetic(&mut cmd, &self.home);
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "git fast-import failed");
        self.git(&["reset", "-q", "--hard", "main"]);
    }

    /// Runs git in the clone, asserts success, returns trimmed stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let r = self.run_git(&self.work, args);
        r.assert_code(0);
        r.stdout.trim_end().to_owned()
    }

    /// Runs git in the server repository, asserts success, returns trimmed stdout.
    pub fn server_git(&self, args: &[&str]) -> String {
        let r = self.run_git(&self.server, args);
        r.assert_code(0);
        r.stdout.trim_end().to_owned()
    }

    /// Where `refname` points in the server repository, if it exists.
    pub fn server_ref(&self, refname: &str) -> Option<String> {
        let r = self.run_git(
            &self.server,
            &["rev-parse", "-q", "--verify", &format!("{refname}^{{}}")],
        );
        r.success().then(|| r.stdout.trim().to_owned())
    }

    /// Asserts where `refname` points in the server repository (`None`: absent).
    pub fn assert_server_ref(&self, refname: &str, expected: Option<&str>) {
        assert_eq!(
            self.server_ref(refname).as_deref(),
            expected,
            "{refname} in the server repository"
        );
    }

    /// Forgets local commits: the clone's `main` goes back to `origin/main`.
    pub fn reset_to_origin(&self) {
        self.git(&["reset", "-q", "--hard", "origin/main"]);
    }

    /// Whether the server repository has the object (outside any quarantine).
    pub fn server_has(&self, oid: &str) -> bool {
        self.run_git(&self.server, &["cat-file", "-e", oid])
            .success()
    }

    /// Commits a new file on the clone's current branch, written by `author`
    /// (who is also the committer), with exactly `message`. Returns the full id.
    pub fn commit(&self, author: &Person, message: &str) -> String {
        let n = self.files.get() + 1;
        self.files.set(n);
        let file = format!("file-{n}.txt");
        std::fs::write(self.work.join(&file), format!("change {n}\n")).unwrap();
        self.git(&["add", &file]);
        let msg_file = self.root.join(format!("msg-{n}.txt"));
        std::fs::write(&msg_file, message).unwrap();
        let env = [
            ("GIT_AUTHOR_NAME", author.name),
            ("GIT_AUTHOR_EMAIL", author.email),
            ("GIT_COMMITTER_NAME", author.name),
            ("GIT_COMMITTER_EMAIL", author.email),
        ];
        self.run_git_env(
            &self.work,
            &["commit", "-q", "-F", msg_file.to_str().unwrap()],
            &env,
        )
        .assert_code(0);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Merges `branch` into the current branch with a merge commit (never a
    /// fast-forward) written by `author`. Returns the merge's full id.
    pub fn merge(&self, author: &Person, branch: &str, message: &str) -> String {
        let n = self.files.get() + 1;
        self.files.set(n);
        let msg_file = self.root.join(format!("msg-{n}.txt"));
        std::fs::write(&msg_file, message).unwrap();
        let env = [
            ("GIT_AUTHOR_NAME", author.name),
            ("GIT_AUTHOR_EMAIL", author.email),
            ("GIT_COMMITTER_NAME", author.name),
            ("GIT_COMMITTER_EMAIL", author.email),
        ];
        self.run_git_env(
            &self.work,
            &[
                "merge",
                "-q",
                "--no-ff",
                "-F",
                msg_file.to_str().unwrap(),
                branch,
            ],
            &env,
        )
        .assert_code(0);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Commits on the clone's branch as `author` and pushes `main`: the push
    /// must go through without a word, and the server's `main` must be the
    /// new commit, which is returned.
    pub fn push_accepted(&self, author: &Person, message: &str) -> String {
        let oid = self.commit(author, message);
        self.push(&["origin", "main"]).assert_accepted_silently();
        self.assert_server_ref("refs/heads/main", Some(&oid));
        oid
    }

    /// Commits as `author` and pushes `main`: the push must be rejected for
    /// `violations` violations, and the server's `main` must not move.
    /// Returns the commit and what the push printed.
    pub fn push_rejected(
        &self,
        author: &Person,
        message: &str,
        violations: usize,
    ) -> (String, Run) {
        let before = self.server_ref("refs/heads/main");
        let oid = self.commit(author, message);
        let run = self.push(&["origin", "main"]);
        run.assert_rejected_with(violations);
        self.assert_server_ref("refs/heads/main", before.as_deref());
        (oid, run)
    }

    /// `git push ARGS...` from the clone.
    pub fn push(&self, args: &[&str]) -> Run {
        self.push_env(args, &[])
    }

    /// `git push ARGS...` from the clone with extra environment (which git
    /// passes on to the hook).
    pub fn push_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut all = vec!["push"];
        all.extend_from_slice(args);
        self.run_git_env(&self.work, &all, env)
    }

    /// Runs `trailgate ARGS...` in `dir` with the hermetic environment plus
    /// `env`, feeding `stdin`.
    pub fn trailgate(&self, dir: &Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
        run_trailgate(&self.home, dir, args, stdin.as_bytes(), env)
    }

    /// Runs `trailgate pre-receive ARGS...` the way git would: in the server
    /// repository, `GIT_DIR` set, the ref updates on stdin.
    pub fn pre_receive(&self, args: &[&str], stdin: &str) -> Run {
        let mut all = vec!["pre-receive"];
        all.extend_from_slice(args);
        let git_dir = self.server.to_str().unwrap().to_owned();
        self.trailgate(&self.server, &all, stdin, &[("GIT_DIR", &git_dir)])
    }
}

/// Runs the binary with the hermetic environment.
pub fn run_trailgate<S: AsRef<OsStr>>(
    home: &Path,
    dir: &Path,
    args: &[S],
    stdin: &[u8],
    env: &[(&str, &str)],
) -> Run {
    let mut cmd = Command::new(TRAILGATE);
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    hermetic(&mut cmd, home);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        // The binary may exit before reading everything (bad input): ignore EPIPE.
        let _ = input.write_all(stdin);
    }
    let out = child.wait_with_output().unwrap();
    let mut what = String::from("trailgate");
    for a in args {
        let _ = write!(what, " {}", a.as_ref().to_string_lossy());
    }
    Run::from_output(what, out)
}
