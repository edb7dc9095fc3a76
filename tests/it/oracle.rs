//! git as the oracle, shared by the differential tests: a hermetic bare
//! repository to write histories into and ask git about, and the seeded
//! random numbers the generators of messages and histories draw from.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use tempfile::TempDir;
use trailgate::git::ObjectId;

use crate::support::hermetic;

/// SplitMix64: tiny, seedable, the same everywhere, good enough to pick
/// pieces. The same seed always gives the same choices, so a mismatch found
/// once can be found again.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`%.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A throwaway bare repository and a git with no system, global or user
/// configuration (and nothing of the caller's environment) to ask about it.
pub struct GitRepo {
    pub home: TempDir,
    pub path: PathBuf,
}

impl GitRepo {
    /// An empty bare repository whose first branch is `main`.
    pub fn new() -> GitRepo {
        let home = tempfile::tempdir().unwrap();
        let path = home.path().join("repo.git");
        let repo = GitRepo { home, path };
        let init = repo
            .outside(&["init", "-q", "--bare", "--initial-branch=main"])
            .arg(&repo.path)
            .output()
            .unwrap();
        assert!(init.status.success(), "git init: {init:?}");
        repo
    }

    /// A bare repository holding what `stream` (fast-import) describes.
    pub fn from_fast_import(stream: &[u8]) -> GitRepo {
        let repo = GitRepo::new();
        let out = repo.run_with_input(&["fast-import", "--quiet"], stream);
        assert!(
            out.is_empty(),
            "fast-import said: {}",
            String::from_utf8_lossy(&out)
        );
        repo
    }

    /// git about this repository.
    pub fn git(&self, args: &[&str]) -> Command {
        let mut cmd = self.outside(&[]);
        cmd.arg("--git-dir").arg(&self.path).args(args);
        cmd
    }

    /// git outside any repository (in the private home folder).
    pub fn outside(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        hermetic(&mut cmd, self.home.path());
        cmd.current_dir(self.home.path()).args(args);
        cmd
    }

    /// Runs git about this repository with `input` on stdin; returns
    /// stdout, fails on error.
    pub fn run_with_input(&self, args: &[&str], input: &[u8]) -> Vec<u8> {
        feed(self.git(args), input, &format!("git {}", args.join(" ")))
    }

    pub fn run(&self, args: &[&str]) -> Vec<u8> {
        self.run_with_input(args, b"")
    }

    /// Every commit of `main`, parents first.
    pub fn commits(&self) -> Vec<ObjectId> {
        let out = self.run(&["rev-list", "--reverse", "--topo-order", "main"]);
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| ObjectId::from_hex(l.as_bytes()).unwrap())
            .collect()
    }

    /// The repository as trailgate opens it.
    pub fn open(&self) -> trailgate::git::Repo {
        trailgate::git::Repo::open(&self.path).unwrap()
    }
}

/// Runs `cmd` with `input` on stdin; returns stdout, fails on error. The
/// input is written from a thread: a long one must not deadlock against a
/// full stdout pipe.
pub fn feed(mut cmd: Command, input: &[u8], what: &str) -> Vec<u8> {
    let mut child = cmd
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
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
