//! The command line: argument parsing, the environment read once
//! ([`crate::host::HookEnv`]), and one file per command, each returning an
//! exit code. `main.rs` only calls [`run`].
//!
//! Exit codes everywhere: 0 accepted / valid, 1 rejected by policy, 2 cannot
//! judge (bad policy, bad input, missing object, internal error).

mod account;
mod audit;
mod check;
pub mod demo;
pub mod directory;
mod explain;
pub mod install;
mod locate;
mod pre_receive;
mod status;
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
with settings.mode = \"warn\", read the audit log, then enforce.\n\n\
Identities: an author line is whatever the pusher typed. settings.identity = \"proven\" (and any \
rule whose approvals use proof = \"pusher\" or \"signature\") counts an author as a person only \
when the commit is signed by one of their keys or they push it. The pusher is what the host \
authenticated (settings.host restricts which host's variables are read); a signed push counts \
only when trailgate verifies its certificate itself."
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
    /// Run inside a repository, it checks the policy the trailgate hook installed there uses.
    /// Also warns when the policy, its folder, or (inside a repository) its pre-receive hooks,
    /// their folders or the binary a trailgate hook runs, are writable by users other than the
    /// owner; when the audit log's folder is missing or the hook's user (the repository's
    /// owner, or --as USER) cannot write it; when settings.audit_syslog names no socket; when no
    /// rule is active; and when overrides are
    /// enabled without an audit log or without receive.advertisePushOptions; and when a rule asks
    /// for proof (proof = "pusher" or "signature") while settings.identity is "claimed".
    /// When the policy names a directory file (settings.directory) and it is valid, writes its
    /// index beside it (directory.toml.index), through which the hook reads only what a push
    /// needs; a folder it cannot write to is only a note, and the hook then reads the whole file.
    Check {
        /// Policy file (default: inside a repository, the --config of the trailgate hook
        /// installed there; then $TRAILGATE_CONFIG, the repository's trailgate.toml,
        /// /etc/trailgate/policy.toml).
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
        /// `json` prints one JSON object on stdout: the policy, `valid`, its problems or
        /// warnings.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// The user the hook runs as (git, gitolite3, www-data), whose access to the audit log
        /// is checked (default: the repository's owner, else you).
        #[arg(long = "as", value_name = "USER")]
        as_user: Option<String>,
        /// List which rules apply to the repository of this name (acme/payments; the name
        /// `repos` is matched against).
        #[arg(long = "repo", value_name = "NAME")]
        repo: Option<String>,
    },
    /// List the repositories under a folder whose pushes trailgate does not judge.
    ///
    /// For each git directory under ROOT: `ok` (git runs a trailgate hook with the expected
    /// policy), `missing` (no pre-receive hook), `bypassed` (a core.hooksPath, in the
    /// repository's, the global or the system configuration, makes git run another folder's
    /// hooks), `foreign` (git runs another pre-receive hook), `not-executable`, `other-policy`
    /// (not --config's) or `no-policy` (the hook finds none and rejects every push). Where git
    /// looks is asked of git (`git rev-parse --git-path hooks`): run it as the user git runs
    /// hooks as. Exit 0 when every repository is ok, 1 when one is not, 2 when it cannot tell.
    Status {
        /// The policy every hook should use; another one is `other-policy`.
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
        /// `json` prints one JSON object on stdout.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// The folder that holds the repositories (/srv/git).
        #[arg(value_name = "ROOT")]
        root: PathBuf,
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
        /// Judge rules about the pusher (proof = "pusher", pusher_in, exempt.pushers) as if
        /// LOGIN pushed. Default: a git host's pusher variable if one is set, else
        /// `git config trailgate.pusher`, else the local account ($USER, $LOGNAME). Only the
        /// server knows who really pushes: it decides these rules.
        #[arg(long, value_name = "LOGIN")]
        pusher: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Also report when everything passes.
        #[arg(long, short)]
        verbose: bool,
        /// The server's name for the repository (acme/payments), for rules with `repos`
        /// (default: as the host or settings.repos_root names it, else unknown).
        #[arg(long = "repo", value_name = "NAME")]
        repo: Option<String>,
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
    /// Explain what trailgate concludes about commits, and why.
    ///
    /// For each commit: whether it is AI-assisted (declared, detected), each disclosure trailer
    /// and what it says (AI assistance, help from a person, a human-only declaration), every AI
    /// mark found with its strength (weak marks count only under ai.detect = "all"), who the
    /// author, committer and approvers are to the policy and whether a signature proves it,
    /// and which rules select the commit.
    Explain {
        /// Policy file (default: $TRAILGATE_CONFIG, then the repository's trailgate.toml,
        /// then /etc/trailgate/policy.toml).
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
        /// The ref whose rules apply (default: the current branch).
        #[arg(long = "ref", value_name = "REFNAME")]
        refname: Option<String>,
        #[arg(value_name = "COMMIT", required = true)]
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
    /// Summarise an audit log: pushes, rejections by rule, by pusher and by repository,
    /// warnings, overrides, pushes that could not be judged (with their errors), the slowest push.
    ///
    /// The log is --log, else the settings.audit_log of the policy (--config; inside a
    /// repository, the --config of the trailgate hook installed there; $TRAILGATE_CONFIG, the
    /// repository's trailgate.toml, /etc/trailgate/policy.toml). A log that does not exist yet
    /// is 0 pushes.
    Audit {
        /// The audit log (JSON lines).
        #[arg(long, value_name = "PATH")]
        log: Option<PathBuf>,
        /// Policy whose settings.audit_log to read.
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
        /// Only records from this time on: a UTC date or time (2026-11-16,
        /// 2026-11-16T09:00) or an age (90m, 24h, 7d, 2w).
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// The directory file (settings.directory): people and groups from the organisation's
    /// directory.
    Directory {
        #[command(subcommand)]
        command: DirectoryCommand,
    },
    /// Try it: a throwaway server repository with the hook and the example policy, and
    /// pushes that pass and fail, showing what each pusher sees. Needs only git.
    Demo {
        /// Keep the temporary folder and print its path.
        #[arg(long)]
        keep: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DirectoryCommand {
    /// Write the directory file from an LDAP server, atomically.
    ///
    /// Reads people (id, name, e-mails, logins, SSH and OpenPGP keys) and groups (members of
    /// LDAP groups, or people whose attribute has one of some values) as SYNC.toml says
    /// (see directory-sync.example.toml), writes the new file beside the old one, validates it
    /// as the hook reads it and renames it into place. When the server cannot be reached, the
    /// bind fails, the answer has no people (or fewer than min_people) or an entry cannot
    /// become a person, nothing is written, the old file stays and the exit code is 2. After
    /// the rename it writes the file's index beside it (directory.toml.index), through which
    /// the hook reads only what a push needs; an index it cannot write is a warning (the hook
    /// then reads the whole file). Meant for cron or a systemd timer, more often than
    /// settings.directory_max_age.
    Sync {
        /// The sync configuration (TOML).
        #[arg(long, value_name = "SYNC.toml")]
        config: PathBuf,
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
    #[error(transparent)]
    Sync(#[from] directory::SyncError),
    /// A push that could not be judged, from a policy that says whom to ask.
    #[error("{error}\n{}", report::contact_line(contact))]
    WithContact { error: Box<Error>, contact: String },
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
    let asked_json = asks_for_json(&args);
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            if !e.use_stderr() {
                return EXIT_ACCEPT;
            }
            if asked_json {
                print_json_error(&e.render().to_string());
            }
            return EXIT_ERROR;
        }
    };
    let json = cli.command.wants_json();
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
        Command::Check {
            config,
            format,
            as_user,
            repo,
        } => check::check(
            &env,
            &check::CheckArgs {
                config: config.as_deref(),
                format,
                as_user: as_user.as_deref(),
                repo: repo.as_deref(),
            },
        ),
        Command::Verify {
            config,
            refname,
            pusher,
            format,
            verbose,
            repo,
            ranges,
        } => verify::verify(
            &env,
            &verify::Args {
                config: config.as_deref(),
                refname,
                pusher,
                format,
                verbose,
                ranges: &ranges,
                repo: repo.as_deref(),
            },
        ),
        Command::Status {
            config,
            format,
            root,
        } => status::status(&root, config.as_deref(), format),
        Command::Trailers { commits } => trailers::print_trailers(&commits),
        Command::Explain {
            config,
            refname,
            commits,
        } => explain::explain(&env, config.as_deref(), refname, &commits),
        Command::Directory {
            command: DirectoryCommand::Sync { config },
        } => directory::sync(&config).map_err(Error::from),
        Command::Demo { keep } => crate::cli::demo::run(keep).map_err(Error::from),
        Command::Install(args) => crate::cli::install::install(&args)
            .map(|done| {
                let _ = std::io::stdout().write_all(done.out.as_bytes());
                for w in &done.warnings {
                    let _ = writeln!(std::io::stderr(), "WARNING: {w}");
                }
                EXIT_ACCEPT
            })
            .map_err(Error::from),
        Command::Uninstall(args) => crate::cli::install::uninstall(&args)
            .map(|out| print!("{out}"))
            .map(|()| EXIT_ACCEPT)
            .map_err(Error::from),
        Command::Audit {
            log,
            config,
            since,
            format,
        } => audit::audit_summary(&env, log, config.as_deref(), since.as_deref(), format),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let message = e.to_string();
            // The words for people still go to stderr (a hook's pusher sees
            // them); a machine asking for JSON gets its one object too.
            let mut text = match &e {
                Error::WithContact { error, .. } => {
                    report::failure(&error.to_string(), prefix, hook)
                }
                _ => report::failure(&message, prefix, hook),
            };
            if let Error::WithContact { contact, .. } = &e {
                text.push_str(&format!("{prefix}{}\n", report::contact_line(contact)));
            }
            let _ = std::io::stderr().write_all(text.as_bytes());
            if json {
                print_json_error(&message);
            }
            EXIT_ERROR
        }
    }
}

impl Command {
    /// Whether the command was asked for `--format json`.
    fn wants_json(&self) -> bool {
        matches!(
            self,
            Command::PreReceive {
                format: Format::Json,
                ..
            } | Command::Verify {
                format: Format::Json,
                ..
            } | Command::Check {
                format: Format::Json,
                ..
            } | Command::Audit {
                format: Format::Json,
                ..
            } | Command::Status {
                format: Format::Json,
                ..
            }
        )
    }
}

/// Whether raw arguments that clap refused asked for JSON (`--format json`
/// or `--format=json`): even a usage error then prints one JSON object.
fn asks_for_json(args: &[OsString]) -> bool {
    args.iter().any(|a| a == "--format=json")
        || args
            .windows(2)
            .any(|w| matches!(w, [flag, value] if flag == "--format" && value == "json"))
}

/// `{"decision": "error", "error": MESSAGE}` on stdout (README "What the
/// pusher sees"): exit 2 under `--format json`.
pub(super) fn print_json_error(message: &str) {
    let mut out = report::json_error(message.trim_end());
    out.push('\n');
    let _ = std::io::stdout().write_all(out.as_bytes());
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

/// The policy for `check`, `verify` and `audit`: `--config`; inside a
/// repository, the `--config` of the trailgate hook installed there; then
/// `$TRAILGATE_CONFIG`, the repository's `trailgate.toml`, the system file.
pub(super) fn policy_path_for_tools(
    env: &HookEnv,
    config: Option<&Path>,
) -> Result<PathBuf, Error> {
    Ok(locate::policy(env, config)?.path)
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
