//! The command line: argument parsing and the commands, each returning an
//! exit code. `main.rs` only calls [`run`].
//!
//! Exit codes everywhere: 0 accepted / valid, 1 rejected by policy, 2 cannot
//! judge (bad policy, bad input, missing object, internal error).

pub mod demo;
pub mod install;

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};
use git2::Oid;
use thiserror::Error;

use crate::engine::{self, Baseline, Context, Deadline, JudgeError};
use crate::facts::identity;
use crate::facts::{encoding, trailers};
use crate::git::object as commit;
use crate::git::repo::{self, RepoError};
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
    // Objects already in the repository were hashed by git when they
    // arrived; checking each one again on read doubles the cost of the walk.
    git2::opts::strict_hash_verification(false);
    let env = |k: &str| std::env::var(k).ok();
    let hook = matches!(cli.command, Command::PreReceive { .. });
    let prefix = if hook && report::is_gitlab(env) {
        "GL-HOOK-ERR: "
    } else {
        ""
    };
    let result = match cli.command {
        Command::PreReceive {
            config,
            format,
            verbose,
        } => pre_receive(config.as_deref(), format, verbose, prefix),
        Command::Check { config } => check(config.as_deref()),
        Command::Verify {
            config,
            refname,
            format,
            verbose,
            ranges,
        } => verify(config.as_deref(), refname, format, verbose, &ranges),
        Command::Trailers { commits } => print_trailers(&commits),
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
        } => audit_summary(log, config.as_deref(), format),
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

fn read_stdin() -> Result<Vec<u8>, Error> {
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

/// The repository's git directory as the hook sees it, made absolute so that
/// messages name a real path rather than git's `GIT_DIR=.`.
fn git_dir_from_env() -> PathBuf {
    let dir = std::env::var_os("GIT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::canonicalize(&dir).unwrap_or(dir)
}

fn pre_receive(
    config: Option<&Path>,
    format: Format,
    verbose: bool,
    prefix: &str,
) -> Result<u8, Error> {
    let started = std::time::Instant::now();
    let wall = std::time::SystemTime::now();
    let input = read_stdin()?;
    let updates = push::parse(&input)?;
    if updates.is_empty() {
        return Ok(EXIT_ACCEPT);
    }
    let git_dir = git_dir_from_env();
    let path = policy::discover(
        config,
        std::env::var_os("TRAILGATE_CONFIG").map(PathBuf::from),
        &git_dir,
    )?;
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    let policy = policy::load(&path)?;
    let pusher = identity::pusher_from_env(|k| std::env::var(k).ok());
    let ctx = Context {
        pusher: pusher.as_ref(),
        baseline: Baseline::ExistingRefs,
        deadline: Deadline::from_budget(started, policy.settings.time_budget_ms),
        quarantined: std::env::var_os("GIT_QUARANTINE_PATH").is_some(),
    };
    let judged = repo::open_for_hook()
        .map_err(Error::from)
        .and_then(|repo| Ok(engine::judge(&repo, &policy, &updates, &ctx)?))
        .map(|mut judgement| {
            engine::apply_override(&mut judgement, &policy, pusher.as_ref(), &push_options());
            judgement
        });
    // Every ref update judged goes to the audit log, rejected or not, and so
    // does a push that could not be judged once a policy was loaded.
    let info = crate::report::audit::PushInfo::from_env(&git_dir, |k| std::env::var(k).ok());
    let failure = judged.as_ref().err().map(ToString::to_string);
    let outcome = match (&judged, &failure) {
        (Ok(j), _) => crate::report::audit::Outcome::Judged(j),
        (Err(_), f) => crate::report::audit::Outcome::Failed(f.as_deref().unwrap_or_default()),
    };
    let audited = crate::report::audit::record_push(
        &policy.settings,
        &info,
        &updates,
        outcome,
        wall,
        started.elapsed(),
        prefix,
    );
    let judgement = judged?;
    emit(
        &judgement,
        format,
        &TextOptions {
            prefix: prefix.to_owned(),
            policy: path.display().to_string(),
            verify: false,
            verbose,
        },
    );
    audited?;
    Ok(if judgement.rejects() {
        EXIT_REJECT
    } else {
        EXIT_ACCEPT
    })
}

/// The push options git passes to the hook (`git push -o ...`, which needs
/// `receive.advertisePushOptions` on the server).
fn push_options() -> Vec<String> {
    let count = std::env::var("GIT_PUSH_OPTION_COUNT")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .unwrap_or(0);
    // git caps push options far below this; a larger count is not git's.
    (0..count.min(1000))
        .filter_map(|i| std::env::var(format!("GIT_PUSH_OPTION_{i}")).ok())
        .collect()
}

fn audit_summary(log: Option<PathBuf>, config: Option<&Path>, format: Format) -> Result<u8, Error> {
    let log = match log {
        Some(log) => log,
        None => {
            let path = policy_path_for_tools(config)?;
            policy::load(&path)?
                .settings
                .audit_log
                .ok_or(crate::report::audit::AuditError::NoLog)?
        }
    };
    let summary = crate::report::audit::summarise(&log)?;
    let out = match format {
        Format::Json => format!("{}\n", summary.to_json()),
        Format::Text => summary.to_text(),
    };
    let _ = std::io::stdout().write_all(out.as_bytes());
    if !summary.malformed.is_empty() {
        let _ = writeln!(
            std::io::stderr(),
            "warning: {} line(s) of {} are not audit records",
            summary.malformed.len(),
            log.display()
        );
    }
    Ok(EXIT_ACCEPT)
}

fn emit(judgement: &engine::Judgement, format: Format, opts: &TextOptions) {
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
fn policy_path_for_tools(config: Option<&Path>) -> Result<PathBuf, Error> {
    let git_dir = repo::open_for_verify()
        .map(|r| r.path().to_owned())
        .unwrap_or_else(|_| git_dir_from_env());
    Ok(policy::discover(
        config,
        std::env::var_os("TRAILGATE_CONFIG").map(PathBuf::from),
        &git_dir,
    )?)
}

fn check(config: Option<&Path>) -> Result<u8, Error> {
    let path = policy_path_for_tools(config)?;
    let policy = match policy::load(&path) {
        Ok(p) => p,
        Err(e @ PolicyError::Invalid { .. }) => {
            // A reader that went away (`| head`) must not turn the verdict
            // into a panic: print!/eprintln! panic on EPIPE.
            let _ = writeln!(std::io::stderr(), "{e}");
            return Ok(EXIT_ERROR);
        }
        Err(e) => return Err(e.into()),
    };
    let mut warnings = permission_warnings(&path);
    if let Ok(repo) = repo::open_for_verify() {
        warnings.extend(crate::cli::install::hook_permission_warnings(repo.path()));
    }
    for warning in warnings {
        let _ = writeln!(std::io::stderr(), "warning: {warning}");
    }
    let active = policy.rules.iter().filter(|r| r.mode != Mode::Off).count();
    let _ = writeln!(
        std::io::stdout(),
        "{}: valid ({} rule{}, {} active; {} people, {} groups; default mode {})",
        path.display(),
        policy.rules.len(),
        if policy.rules.len() == 1 { "" } else { "s" },
        active,
        policy.directory.people.len(),
        policy.directory.groups.len(),
        policy.settings.mode
    );
    Ok(EXIT_ACCEPT)
}

/// Anyone who can write the policy can switch it off.
fn permission_warnings(path: &Path) -> Vec<String> {
    let mut out = Vec::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode();
            if mode & 0o022 != 0 {
                out.push(format!(
                    "{} is writable by {} (mode {:o}); anyone who can edit the policy can switch it off: chmod go-w {}",
                    path.display(),
                    if mode & 0o002 != 0 { "everyone" } else { "its group" },
                    mode & 0o777,
                    path.display()
                ));
            }
        }
    }
    out
}

fn verify(
    config: Option<&Path>,
    refname: Option<String>,
    format: Format,
    verbose: bool,
    ranges: &[String],
) -> Result<u8, Error> {
    let repo = repo::open_for_verify()?;
    let path = policy_path_for_tools(config)?;
    let policy = policy::load(&path)?;
    let refname = match refname {
        Some(name) if name.starts_with("refs/") => name,
        Some(name) => format!("refs/heads/{name}"),
        None => {
            let head = repo
                .head()
                .map_err(|e| Error::Usage(format!("cannot read HEAD ({e}); pass --ref REFNAME")))?;
            match head.name() {
                Ok(name) if head.is_branch() => name.to_owned(),
                _ => {
                    return Err(Error::Usage(
                        "HEAD is not on a branch; pass --ref REFNAME".into(),
                    ))
                }
            }
        }
    };
    let resolve = |spec: &str| -> Result<Oid, Error> {
        let object = repo
            .revparse_single(spec)
            .map_err(|source| RepoError::Revision {
                spec: spec.to_owned(),
                source,
            })?;
        let oid = object.id();
        repo::peel_to_commit(&repo, oid)?
            .ok_or_else(|| Error::Usage(format!("`{spec}` does not name a commit")))
    };
    let mut positive = Vec::new();
    let mut negative = Vec::new();
    // The ref's old value: the left side of the first `A..B`. Without one,
    // the ref is being created.
    let mut old = None;
    for range in ranges {
        if range.contains("...") {
            return Err(Error::Usage(format!(
                "`{range}`: symmetric ranges (A...B) are not supported; use A..B"
            )));
        }
        if let Some((from, to)) = range.split_once("..") {
            let from = resolve(if from.is_empty() { "HEAD" } else { from })?;
            old = old.or(Some(from));
            negative.push(from);
            positive.push(resolve(if to.is_empty() { "HEAD" } else { to })?);
        } else if let Some(rev) = range.strip_prefix('^') {
            negative.push(resolve(rev)?);
        } else {
            positive.push(resolve(range)?);
        }
    }
    if positive.is_empty() {
        return Err(Error::Usage(
            "no commit to judge: give a range such as origin/main..HEAD".into(),
        ));
    }
    let updates: Vec<RefUpdate> = positive
        .iter()
        .map(|&new| RefUpdate {
            old,
            new: Some(new),
            name: refname.clone(),
        })
        .collect();
    let pusher = identity::pusher_from_env(|k| std::env::var(k).ok());
    let ctx = Context {
        pusher: pusher.as_ref(),
        baseline: Baseline::Explicit(negative),
        deadline: None,
        quarantined: false,
    };
    let judgement = engine::judge(&repo, &policy, &updates, &ctx)?;
    emit(
        &judgement,
        format,
        &TextOptions {
            prefix: String::new(),
            policy: path.display().to_string(),
            verify: true,
            verbose,
        },
    );
    Ok(if judgement.rejects() {
        EXIT_REJECT
    } else {
        EXIT_ACCEPT
    })
}

fn print_trailers(commits: &[String]) -> Result<u8, Error> {
    let mut out = Vec::new();
    if commits.is_empty() {
        let input = read_stdin()?;
        trailers::render(&trailers::from_text(&input), &mut out);
    } else {
        let repo = repo::open_for_verify()?;
        let odb = repo
            .odb()
            .map_err(|source| RepoError::Discover { source })?;
        for spec in commits {
            let object = repo
                .revparse_single(spec)
                .map_err(|source| RepoError::Revision {
                    spec: spec.clone(),
                    source,
                })?;
            let oid = repo::peel_to_commit(&repo, object.id())?
                .ok_or_else(|| Error::Usage(format!("`{spec}` does not name a commit")))?;
            let data = odb.read(oid).map_err(|e| repo::missing(oid, e))?;
            let raw = commit::parse(data.data())
                .map_err(|reason| RepoError::BadCommit { oid, reason })?;
            let message = encoding::message_as_utf8(raw.encoding, raw.message);
            if commits.len() > 1 {
                out.extend_from_slice(format!("commit {oid}\n").as_bytes());
            }
            trailers::render(&trailers::from_commit_message(&message), &mut out);
        }
    }
    let _ = std::io::stdout().write_all(&out);
    Ok(EXIT_ACCEPT)
}
