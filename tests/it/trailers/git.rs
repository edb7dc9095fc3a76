//! Running the installed git under an empty configuration, as SPEC section 5
//! defines the reference answer.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

/// Variables a surrounding git (a hook, `git rebase -x`) may have set that
/// would point our git at another repository or object store.
const LEAKY_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_QUARANTINE_PATH",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
];

/// A git with no system, global or user configuration.
pub struct Git {
    home: TempDir,
}

impl Git {
    pub fn new() -> Self {
        Git {
            home: tempfile::tempdir().unwrap(),
        }
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new("git");
        for var in LEAKY_ENV {
            cmd.env_remove(var);
        }
        cmd.env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path())
            .env("GIT_PAGER", "cat")
            .env("LC_ALL", "C")
            .current_dir(self.home.path());
        cmd
    }

    /// `git [config...] interpret-trailers --parse --no-divider` with `msg` on stdin.
    pub fn interpret_trailers(&self, config: &[&str], msg: &[u8]) -> Vec<u8> {
        let mut cmd = self.command();
        for c in config {
            cmd.args(["-c", c]);
        }
        let mut child = cmd
            .args(["interpret-trailers", "--parse", "--no-divider"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // Write from a thread: a long message must not deadlock against a full stdout pipe.
        let input = msg.to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        success(out, "git interpret-trailers")
    }

    /// A fresh bare repository in its own temporary directory.
    pub fn repo(&self) -> Repo<'_> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repo.git");
        let out = self
            .command()
            .args(["init", "-q", "--bare"])
            .arg(&path)
            .output()
            .unwrap();
        success(out, "git init");
        Repo {
            git: self,
            dir,
            path,
        }
    }
}

pub struct Repo<'g> {
    git: &'g Git,
    dir: TempDir,
    path: PathBuf,
}

impl Repo<'_> {
    pub fn command(&self) -> Command {
        let mut cmd = self.git.command();
        cmd.arg("--git-dir").arg(&self.path);
        cmd
    }

    /// Writes one commit per message, with an `encoding` header if asked, and
    /// returns their ids in order. fast-import stores the message bytes as
    /// they are (NUL included) and writes thousands of commits in a second,
    /// where one loose object per commit would take minutes on a slow disk.
    /// The commits form one chain, which `git log --no-walk` never looks at.
    pub fn commits(&self, messages: &[Vec<u8>], encoding: Option<&str>) -> Vec<String> {
        let mut stream = Vec::new();
        for (i, msg) in messages.iter().enumerate() {
            stream.extend_from_slice(
                format!(
                    "commit refs/heads/generated\nmark :{}\n\
                     author A U Thor <a@example.com> 1700000000 +0000\n\
                     committer A U Thor <a@example.com> 1700000000 +0000\n",
                    i + 1
                )
                .as_bytes(),
            );
            if let Some(encoding) = encoding {
                stream.extend_from_slice(format!("encoding {encoding}\n").as_bytes());
            }
            stream.extend_from_slice(format!("data {}\n", msg.len()).as_bytes());
            stream.extend_from_slice(msg);
            stream.push(b'\n');
        }
        let marks = self.dir.path().join("marks");
        let marks_arg = format!("--export-marks={}", marks.display());
        self.run_stdin(&["fast-import", "--quiet", &marks_arg], &stream);
        let mut ids = vec![String::new(); messages.len()];
        for line in std::fs::read_to_string(&marks).unwrap().lines() {
            let (mark, id) = line.split_once(' ').unwrap();
            let n: usize = mark.trim_start_matches(':').parse().unwrap();
            ids[n - 1] = id.to_owned();
        }
        assert!(
            ids.iter().all(|id| !id.is_empty()),
            "fast-import skipped a commit"
        );
        ids
    }

    /// `git log --no-walk --format=<placeholder>` for every id in one process,
    /// keyed by id. The placeholder's output must hold no NUL.
    /// `config` entries go to `git -c`.
    pub fn log(
        &self,
        config: &[&str],
        ids: &[String],
        placeholder: &str,
    ) -> HashMap<String, Vec<u8>> {
        let format = format!("--format=%H%x00{placeholder}%x00");
        let mut args: Vec<&str> = Vec::new();
        for c in config {
            args.extend(["-c", c]);
        }
        args.extend(["log", "--no-walk=unsorted", "--stdin", &format]);
        let mut stdin = Vec::new();
        for id in ids {
            stdin.extend_from_slice(id.as_bytes());
            stdin.push(b'\n');
        }
        let out = self.run_stdin(&args, &stdin);
        parse_records(&out)
    }

    fn run_stdin(&self, args: &[&str], input: &[u8]) -> Vec<u8> {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        success(out, &format!("git {}", args.join(" ")))
    }
}

/// Splits `<id>\0<text>\0\n` records (tformat puts the newline after each).
fn parse_records(mut out: &[u8]) -> HashMap<String, Vec<u8>> {
    let mut records = HashMap::new();
    while !out.is_empty() {
        let id_end = out.iter().position(|&b| b == 0).expect("record id");
        let id = String::from_utf8(out[..id_end].to_vec()).unwrap();
        let rest = &out[id_end + 1..];
        let text_end = rest.iter().position(|&b| b == 0).expect("record text");
        records.insert(id, rest[..text_end].to_vec());
        assert_eq!(rest.get(text_end + 1), Some(&b'\n'), "record terminator");
        out = &rest[text_end + 2..];
    }
    records
}

fn success(out: Output, what: &str) -> Vec<u8> {
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Message bytes as a readable, copy-pasteable Rust byte-string literal.
pub fn escaped(bytes: &[u8]) -> String {
    format!("b\"{}\"", bytes.escape_ascii())
}
