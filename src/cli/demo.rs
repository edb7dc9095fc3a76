//! `trailgate demo`: the embedded default. A throwaway bare "server"
//! repository with this binary installed as its pre-receive hook and
//! `config.example.toml` as its policy, a clone, and real pushes that pass and
//! fail, printing what each pusher sees. Needs nothing but git.
//!
//! The demo checks its own outcomes: if a push that the example policy must
//! reject is accepted (or the other way round), it fails with exit 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use thiserror::Error;

/// The example policy, embedded so that the demo needs no files.
pub const EXAMPLE_POLICY: &str = include_str!("../../config.example.toml");

#[derive(Debug, Error)]
pub enum DemoError {
    #[error("demo: cannot create a temporary folder: {0}")]
    TempDir(#[source] std::io::Error),
    #[error("demo: cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("demo: cannot find this program's own path to install it as the hook: {0}")]
    SelfPath(#[source] std::io::Error),
    #[error("demo: cannot run git (is it installed and on PATH?): {0}")]
    Spawn(#[source] std::io::Error),
    #[error("demo: `git {command}` failed: {stderr}")]
    Git { command: String, stderr: String },
    #[error(
        "demo: step \"{step}\" should have been {expected}, but it was not; output:\n{output}"
    )]
    Unexpected {
        step: String,
        expected: &'static str,
        output: String,
    },
}

struct Demo {
    root: PathBuf,
    server: PathBuf,
    work: PathBuf,
}

/// A person of the example policy.
struct Who {
    name: &'static str,
    email: &'static str,
}

const JAMIE: Who = Who {
    name: "Jamie Junior",
    email: "jamie@example.com",
};

pub fn run(keep: bool) -> Result<u8, DemoError> {
    let dir = tempfile::Builder::new()
        .prefix("trailgate-demo-")
        .tempdir()
        .map_err(DemoError::TempDir)?;
    let demo = Demo {
        root: dir.path().to_owned(),
        server: dir.path().join("server.git"),
        work: dir.path().join("work"),
    };
    demo.setup()?;
    say("trailgate demo: a bare server repository with trailgate as its pre-receive hook,");
    say("the policy from config.example.toml, and a clone. Every push below is real.");
    say(&format!("  server: {}", demo.server.display()));
    say(&format!("  clone:  {}", demo.work.display()));
    say("Each push carries the pusher's login in REMOTE_USER, as a smart-HTTP server");
    say("(git http-backend behind a web server that authenticated them) sets it; the");
    say("policy has identity = \"proven\", so who pushed is what proves an approval.");

    demo.commit(
        &JAMIE,
        "Fix typo in README\n\nAI-Assisted: no\n",
        "README.md",
        "hello\n",
    )?;
    demo.step(
        "1. Jamie (junior) pushes a change made without AI",
        "jamie",
        &["push", "origin", "main"],
        true,
    )?;

    demo.commit(
        &JAMIE,
        "Add retry to the payment client\n\nAI-Assisted: yes\n",
        "payments.py",
        "retry = 3\n",
    )?;
    demo.step(
        "2. Jamie pushes an AI-assisted change without a senior's approval",
        "jamie",
        &["push", "origin", "main"],
        false,
    )?;

    demo.amend(
        &JAMIE,
        "Add retry to the payment client\n\nAI-Assisted: yes\nApproved-By: Alice Senior <alice@example.com>\n",
    )?;
    demo.step(
        "3. Jamie types an approval trailer naming Alice (a senior) himself",
        "jamie",
        &["push", "origin", "main"],
        false,
    )?;

    demo.step(
        "4. Alice reviews Jamie's branch and pushes it herself: her push is the approval",
        "alice",
        &["push", "origin", "main"],
        true,
    )?;

    demo.commit(
        &JAMIE,
        "Tidy payment client\n",
        "payments.py",
        "retry = 4\n",
    )?;
    demo.step(
        "5. Jamie pushes a commit that does not say whether AI was used (a warn-mode rule)",
        "jamie",
        &["push", "origin", "main"],
        true,
    )?;

    demo.git_ok(&["reset", "--hard", "HEAD~2"])?;
    demo.commit(
        &JAMIE,
        "Rewrite history\n\nAI-Assisted: no\n",
        "README.md",
        "rewritten\n",
    )?;
    demo.step(
        "6. Jamie force-pushes main",
        "jamie",
        &["push", "--force", "origin", "main"],
        false,
    )?;

    demo.step(
        "7. Jamie deletes main",
        "jamie",
        &["push", "origin", ":main"],
        false,
    )?;

    say("");
    say("Done: the example policy accepted 3 pushes and rejected 4, as it should.");
    if keep {
        let kept = dir.keep();
        say(&format!("The repositories are kept in {}", kept.display()));
    }
    Ok(0)
}

fn say(line: &str) {
    use std::io::Write;
    // println! panics when the reader has gone (`trailgate demo | head`).
    let _ = writeln!(std::io::stdout(), "{line}");
}

impl Demo {
    fn setup(&self) -> Result<(), DemoError> {
        self.git_in(
            &self.root,
            &[
                "init",
                "--bare",
                "--quiet",
                "--initial-branch=main",
                "server.git",
            ],
        )?;
        self.git_in(&self.server, &["config", "receive.denyDeletes", "false"])?;
        self.git_in(
            &self.server,
            &["config", "receive.denyNonFastForwards", "false"],
        )?;
        let policy = self.server.join("trailgate.toml");
        std::fs::write(&policy, EXAMPLE_POLICY).map_err(|source| DemoError::Write {
            path: policy,
            source,
        })?;
        let exe = std::env::current_exe().map_err(DemoError::SelfPath)?;
        let hook = self.server.join("hooks").join("pre-receive");
        install_hook(&exe, &hook)?;
        self.git_in(&self.root, &["clone", "--quiet", "server.git", "work"])?;
        self.git_ok(&["checkout", "--quiet", "-B", "main"])?;
        self.commit(
            &Who {
                name: "Alice Senior",
                email: "alice@example.com",
            },
            "Initial commit\n\nAI-Assisted: no\n",
            "README.md",
            "hi\n",
        )?;
        let mut push = self.command(&self.work, &["push", "--quiet", "origin", "main"]);
        push.env("REMOTE_USER", "alice");
        check(&["push"], push.output().map_err(DemoError::Spawn)?)?;
        Ok(())
    }

    fn commit(&self, who: &Who, message: &str, file: &str, content: &str) -> Result<(), DemoError> {
        let path = self.work.join(file);
        std::fs::write(&path, content).map_err(|source| DemoError::Write { path, source })?;
        self.git_ok(&["add", file])?;
        self.git_as(who, &["commit", "--quiet", "-m", message])
    }

    fn amend(&self, who: &Who, message: &str) -> Result<(), DemoError> {
        self.git_as(who, &["commit", "--quiet", "--amend", "-m", message])
    }

    fn git_as(&self, who: &Who, args: &[&str]) -> Result<(), DemoError> {
        let mut cmd = self.command(&self.work, args);
        cmd.env("GIT_AUTHOR_NAME", who.name)
            .env("GIT_AUTHOR_EMAIL", who.email)
            .env("GIT_COMMITTER_NAME", who.name)
            .env("GIT_COMMITTER_EMAIL", who.email);
        check(args, cmd.output().map_err(DemoError::Spawn)?)
    }

    fn git_ok(&self, args: &[&str]) -> Result<(), DemoError> {
        self.git_in(&self.work, args)
    }

    fn git_in(&self, dir: &Path, args: &[&str]) -> Result<(), DemoError> {
        check(
            args,
            self.command(dir, args).output().map_err(DemoError::Spawn)?,
        )
    }

    /// A git command isolated from the user's configuration.
    fn command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("HOME", &self.root)
            .env("GIT_AUTHOR_NAME", "Demo")
            .env("GIT_AUTHOR_EMAIL", "demo@example.com")
            .env("GIT_COMMITTER_NAME", "Demo")
            .env("GIT_COMMITTER_EMAIL", "demo@example.com")
            .env_remove("TRAILGATE_CONFIG")
            .env_remove("REMOTE_USER")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE");
        cmd
    }

    /// Runs a push by `pusher` (their login in `REMOTE_USER`, as a
    /// smart-HTTP server sets it), prints what the pusher sees, and checks
    /// the outcome.
    fn step(
        &self,
        title: &str,
        pusher: &str,
        args: &[&str],
        accepted: bool,
    ) -> Result<(), DemoError> {
        let output = self
            .command(&self.work, args)
            .env("REMOTE_USER", pusher)
            .output()
            .map_err(DemoError::Spawn)?;
        say("");
        say(&format!("== {title}"));
        say(&format!("$ REMOTE_USER={pusher} git {}", args.join(" ")));
        let stderr = String::from_utf8_lossy(&output.stderr);
        for line in stderr
            .lines()
            .filter(|l| l.starts_with("remote:") || l.starts_with(" ! ") || l.contains("->"))
        {
            say(&format!("  {}", line.trim_end()));
        }
        let ok = output.status.success();
        say(if ok { "=> accepted" } else { "=> rejected" });
        if ok != accepted {
            return Err(DemoError::Unexpected {
                step: title.to_owned(),
                expected: if accepted { "accepted" } else { "rejected" },
                output: stderr.into_owned(),
            });
        }
        Ok(())
    }
}

pub(super) fn check(args: &[&str], output: Output) -> Result<(), DemoError> {
    if output.status.success() {
        Ok(())
    } else {
        Err(DemoError::Git {
            command: args.join(" "),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

/// Installs the binary as the hook: a symlink named `pre-receive`, so that
/// it runs in hook mode.
fn install_hook(exe: &Path, hook: &Path) -> Result<(), DemoError> {
    let write_err = |source| DemoError::Write {
        path: hook.to_owned(),
        source,
    };
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(exe, hook).map_err(write_err)
    }
    #[cfg(not(unix))]
    {
        std::fs::copy(exe, hook).map(|_| ()).map_err(write_err)
    }
}
