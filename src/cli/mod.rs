//! The command line: argument parsing, the environment read once
//! ([`crate::host::HookEnv`]), and one file per command, each returning an
//! exit code. `main.rs` only calls [`run`].
//!
//! Exit codes everywhere: 0 accepted / valid, 1 rejected by policy, 2 cannot
//! judge (bad policy, bad input, missing object, internal error).

mod audit;
mod check;
pub mod demo;
pub mod install;
mod pre_receive;
mod trailers;
mod verify;

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};
use thiserror::Error;

use crate::engine::{self, Baseline, Context, Deadline, JudgeError};
use crate::facts::encoding;
use crate::git::object as commit;
use crate::git::revision::{self, Ranges, RevisionError};
use crate::git::{Repo, RepoError};
use crate::host::{self, HookEnv};
use crate::policy::{self, Mode, PolicyError};
use crate::push::{self, PushError, RefUpdate};
use crate::report::{self, TextOptions};

pub const EXIT_ACCEPT: u8 = 0;
pub const EXIT_REJECT: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

/// Largest pre-receive input read; git sends one short line per ref.
const MAX_STDIN: u64 = 64 << 20;

#[derive(Debug, Parser)]
#[command(
    name = "trailgate",
    version,
    about = "A git pre-receive hook that enforces an AI-assistance and approval policy",
    long_about = "trailgate judges the commits a push brings into each ref: it reads their trailers \
exactly as git does (AI-Assisted: yes, Approved-By: Alice <alice@example.com>) and rejects the \
whole push when a commit or ref update breaks the TOML policy.\n\n\
Exit codes: 0 accepted/valid, 1 rejected by policy, 2 cannot judge (bad policy, bad input, \
missing object). In hook mode both 1 and 2 reject the push.\n\n\
Installed as REPO.git/hooks/pre-receive (a symlink to or copy of the binary) it behaves as \
`trailgate pre-receive`; `trailgate install --layout plain|gitlab|gitea` writes the hook where \
each git host looks for it.\n\n\
On a host: settings.audit_log appends one JSON line per ref update judged (summarise it with \
`trailgate audit`; settings.audit_required = true rejects a push that cannot be logged); \
settings.time_budget_ms rejects a push that takes longer to judge, with a message naming the \
budget (GitHub Enterprise Server gives all pre-receive hooks 5 s together). Roll a policy out \
with settings.mode = \"warn\", read the audit log, then enforce."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Hook mode: read git's pre-receive input on stdin, judge the push, report on stderr.
    ///
    /// The policy is the first of: --config, $TRAILGATE_CONFIG, $GIT_DIR/trailgate.toml,
    /// /etc/trailgate/policy.toml.
    ///
    /// After judging, every ref update is appended to settings.audit_log (if set); past
    /// settings.time_budget_ms the push is rejected (exit 2) with a message naming the budget.
    PreReceive {
        /// Policy file (overrides the search).
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
        /// `json` prints one JSON object on stdout instead of the text report on stderr.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Also report an accepted push that has nothing to say.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Validate a policy file; every problem is reported as file:line:column.
    ///
    /// Also warns when the policy, or (run inside a repository) its pre-receive hooks, their
    /// folders or the binary a trailgate hook runs, are writable by users other than the owner.
    Check {
        /// Policy file (default: $TRAILGATE_CONFIG, then the repository's trailgate.toml,
        /// then /etc/trailgate/policy.toml).
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
    },
    /// Judge the commits of a revision range as if they were pushed to a ref.
    ///
    /// For a client-side pre-push hook and for CI: same engine, same output, same exit codes
    /// as hook mode. `A..B` judges the commits of B not in A, as an update of the ref from A;
    /// a lone `B` judges all of B's history as the creation of the ref.
    Verify {
        /// Policy file (default: $TRAILGATE_CONFIG, then the repository's trailgate.toml,
        /// then /etc/trailgate/policy.toml).
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
        /// The ref the commits would be pushed to (default: the current branch).
        #[arg(long = "ref", value_name = "REFNAME")]
        refname: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Also report when everything passes.
        #[arg(long, short)]
        verbose: bool,
        /// Revision ranges, e.g. origin/main..HEAD.
        #[arg(value_name = "REV-RANGE", required = true)]
        ranges: Vec<String>,
    },
    /// Print the trailers trailgate sees, byte for byte as git prints them.
    ///
    /// For a commit: as `git log -1 --format='%(trailers:only,unfold)' COMMIT`. With no commit,
    /// for a message on stdin: as `git interpret-trailers --parse --no-divider`. With several
    /// commits, each one's lines follow a `commit <oid>` line. Git's trailer.* and
    /// core.commentChar settings are deliberately ignored.
    Trailers {
        #[arg(value_name = "COMMIT")]
        commits: Vec<String>,
    },
    /// Wire the hook into repositories or hook folders, the way each git host expects.
    ///
    /// Layouts: plain (REPO.git/hooks/pre-receive, or a core.hooksPath folder's pre-receive),
    /// gitlab (REPO.git/custom_hooks/pre-receive.d/trailgate, or the global custom_hooks_dir's
    /// pre-receive.d/trailgate), gitea (REPO.git/hooks/pre-receive.d/trailgate, for Gitea and
    /// Forgejo). Validates the policy first; idempotent; never replaces a hook it did not write
    /// unless --force, and then keeps the old one as NAME.trailgate-backup.
    Install(crate::cli::install::InstallArgs),
    /// Remove exactly what `trailgate install` wrote (and put back what --force moved aside).
    Uninstall(crate::cli::install::UninstallArgs),
    /// Summarise an audit log: pushes, rejections by rule and by pusher, warnings, overrides.
    ///
    /// The log is --log, else the settings.audit_log of the policy (--config, $TRAILGATE_CONFIG,
    /// the repository's trailgate.toml, /etc/trailgate/policy.toml).
    Audit {
        /// The audit log (JSON lines).
        #[arg(long, value_name = "PATH")]
        log: Option<PathBuf>,
        /// Policy whose settings.audit_log to read.
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Try it: a throwaway server repository with the hook and the example policy, and
    /// pushes that pass and fail, showing what each pusher sees. Needs only git.
    Demo {
        /// Keep the temporary folder and print its path.
        #[arg(long)]
        keep: bool,
    },
}

/// Everything that makes trailgate unable to judge (exit 2).
#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Push(#[from] PushError),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Revision(#[from] RevisionError),
    #[error(transparent)]
    Judge(#[from] JudgeError),
    #[error("cannot read standard input: {0}")]
    Stdin(#[source] std::io::Error),
    #[error("standard input is larger than {} MiB; git's pre-receive input is one short line per ref", MAX_STDIN >> 20)]
    StdinTooLarge,
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Demo(#[from] crate::cli::demo::DemoError),
    #[error(transparent)]
    Install(#[from] crate::cli::install::InstallError),
    #[error(transparent)]
    Audit(#[from] crate::report::audit::AuditError),
}

/// Warns (on stderr, with the host's prefix) when the directory file is
/// stale and `settings.directory_stale = "warn"`; `"reject"` is the
/// engine's to enforce.
fn warn_stale_directory(policy: &crate::rules::Policy, prefix: &str) {
    if let Some(stale) = policy
        .settings
        .directory_staleness(std::time::SystemTime::now())
        .filter(|s| s.action == policy::Stale::Warn)
    {
        eprintln!("{prefix}trailgate: warning: {stale}");
    }
}

/// Runs trailgate with these arguments (argv[0] included) and returns the exit code.
pub fn run(args: Vec<OsString>) -> u8 {
    let invoked_as = args
        .first()
        .and_then(|a| {
            Path::new(a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    let args = if invoked_as == "pre-receive" {
        // Installed as hooks/pre-receive: behave as `trailgate pre-receive`.
        let mut rewritten = vec![OsString::from("trailgate"), OsString::from("pre-receive")];
        rewritten.extend(args.into_iter().skip(1));
        rewritten
    } else {
        args
    };
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                EXIT_ERROR
            } else {
                EXIT_ACCEPT
            };
        }
    };
    // The environment git and the host set for the hook, read once.
    let env = HookEnv::capture();
    let hook = matches!(cli.command, Command::PreReceive { .. });
    let prefix = if hook { host::line_prefix(&env) } else { "" };
    let result = match cli.command {
        Command::PreReceive {
            config,
            format,
            verbose,
        } => pre_receive::pre_receive(&env, config.as_deref(), format, verbose, prefix),
        Command::Check { config } => check::check(&env, config.as_deref()),
        Command::Verify {
            config,
            refname,
            format,
            verbose,
            ranges,
        } => verify::verify(&env, config.as_deref(), refname, format, verbose, &ranges),
        Command::Trailers { commits } => trailers::print_trailers(&commits),
        Command::Demo { keep } => crate::cli::demo::run(keep).map_err(Error::from),
        Command::Install(args) => crate::cli::install::install(&args)
            .map(|out| print!("{out}"))
            .map(|()| EXIT_ACCEPT)
            .map_err(Error::from),
        Command::Uninstall(args) => crate::cli::install::uninstall(&args)
            .map(|out| print!("{out}"))
            .map(|()| EXIT_ACCEPT)
            .map_err(Error::from),
        Command::Audit {
            log,
            config,
            format,
        } => audit::audit_summary(&env, log, config.as_deref(), format),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let _ = std::io::stderr()
                .write_all(report::failure(&e.to_string(), prefix, hook).as_bytes());
            EXIT_ERROR
        }
    }
}

pub(super) fn read_stdin() -> Result<Vec<u8>, Error> {
    let mut input = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_STDIN + 1)
        .read_to_end(&mut input)
        .map_err(Error::Stdin)?;
    if input.len() as u64 > MAX_STDIN {
        return Err(Error::StdinTooLarge);
    }
    Ok(input)
}

pub(super) fn emit(judgement: &crate::verdict::Judgement, format: Format, opts: &TextOptions) {
    match format {
        Format::Json => {
            let mut out = report::json(judgement);
            out.push('\n');
            let _ = std::io::stdout().write_all(out.as_bytes());
        }
        Format::Text => {
            let _ = std::io::stderr().write_all(report::text(judgement, opts).as_bytes());
        }
    }
}

/// The policy for `check` and `verify`: `--config`, `$TRAILGATE_CONFIG`, the
/// repository's `trailgate.toml` when run inside one, then the system file.
pub(super) fn policy_path_for_tools(
    env: &HookEnv,
    config: Option<&Path>,
) -> Result<PathBuf, Error> {
    let git_dir = Repo::discover()
        .map(|r| r.path().to_owned())
        .unwrap_or_else(|_| env.git_dir());
    Ok(policy::discover(
        config,
        env.get_os("TRAILGATE_CONFIG").map(PathBuf::from),
        &git_dir,
    )?)
}

/// Who besides its owner may write `path` ("everyone" or "its group"), and
/// its permission bits; `None` when nobody else may (or it cannot be read).
pub(super) fn writable_by_others(path: &Path) -> Option<(&'static str, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o022 != 0).then(|| {
        let who = if mode & 0o002 != 0 {
            "everyone"
        } else {
            "its group"
        };
        (who, mode & 0o777)
    })
}
