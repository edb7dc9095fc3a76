//! `trailgate install` and `trailgate uninstall`: wiring the hook into the
//! places each git host runs pre-receive hooks from, and taking it out again.
//!
//! Where each host runs hooks from is its [`crate::host::Layout`]: `plain`
//! (`REPO.git/hooks/pre-receive`, or `FOLDER/pre-receive` of a
//! `core.hooksPath` folder), `gitlab` (`REPO.git/custom_hooks/pre-receive.d/`,
//! or the global `custom_hooks_dir`'s `pre-receive.d/`), `gitea`
//! (`REPO.git/hooks/pre-receive.d/`).
//!
//! What is written is a small `/bin/sh` shim that `exec`s this binary as
//! `trailgate pre-receive`; its second line is a marker
//! (`# trailgate-managed`) by which install and uninstall recognise their own
//! file. The shim also records the folders install had to create and where a
//! foreign hook replaced with `--force` was moved, so that uninstall undoes
//! exactly that and nothing else. Install validates the policy the hook will
//! use before it writes anything, plans every target before touching any, and
//! never replaces a file it did not write unless `--force` (then it keeps the
//! old one as `NAME.trailgate-backup`) or `--chain` (the same, and the shim
//! runs the old one after trailgate accepts: [`chain`]). Writes are atomic (a temporary file
//! renamed into place). This module does not judge pushes.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::Args;
use thiserror::Error;

use crate::host::{self, Layout};
use crate::policy::{self, PolicyError};

mod actions;
mod chain;
mod conflicts;

use actions::{execute, Action};

/// The marker line that makes a hook file trailgate's own.
pub const MARKER: &str = "# trailgate-managed";
const DIRS_TAG: &str = "# trailgate-created-dirs:";
const BACKUP_TAG: &str = "# trailgate-backup:";

/// `--layout`: the names of [`host::LAYOUTS`], each with its description.
fn layout_names() -> PossibleValuesParser {
    PossibleValuesParser::new(
        host::LAYOUTS
            .iter()
            .map(|l| PossibleValue::new(l.name).help(l.about)),
    )
}

/// The layout of a `--layout` value (which clap has checked).
fn layout_of(name: &str) -> Result<&'static Layout, InstallError> {
    host::layout(name).ok_or_else(|| InstallError::UnknownLayout(name.to_owned()))
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Policy the hook uses (written into the hook as --config, which the hook reads first).
    /// Without it, the hook searches at every push: $TRAILGATE_CONFIG (in the environment the
    /// git host gives the hook), then REPO.git/trailgate.toml, then /etc/trailgate/policy.toml;
    /// install checks the first of the last two that exists.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Which host's convention to follow.
    #[arg(long, default_value = "plain", value_parser = layout_names())]
    pub layout: String,
    /// Replace a hook that trailgate did not write (it is kept as NAME.trailgate-backup).
    #[arg(long)]
    pub force: bool,
    /// Keep running a hook that trailgate did not write: it is moved to
    /// NAME.trailgate-backup and runs after trailgate accepts, with the same stdin, arguments
    /// and environment; its exit status decides the push. Implies --force.
    #[arg(long)]
    pub chain: bool,
    /// Print what would be done and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The trailgate binary the hook runs (default: this one).
    #[arg(long, value_name = "PATH")]
    pub bin: Option<PathBuf>,
    /// Bare repositories (REPO.git), or folders of hooks (core.hooksPath, GitLab's
    /// custom_hooks_dir). Refused: the folder that holds the repositories, a clone with a
    /// working tree, --layout gitea on a repository that is not Gitea's. SHA-256 and reftable
    /// repositories are judged like any other.
    #[arg(value_name = "TARGET", required = true)]
    pub targets: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// Only remove what this layout installs (default: every layout).
    #[arg(long, value_parser = layout_names())]
    pub layout: Option<String>,
    /// Print what would be done and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Repositories or folders given to `trailgate install`.
    #[arg(value_name = "TARGET", required = true)]
    pub targets: Vec<PathBuf>,
}

#[derive(Debug, Error)]
pub enum InstallError {
    #[error("{path}: no such directory; give a bare repository (REPO.git) or a folder of hooks")]
    NoTarget { path: PathBuf },
    #[error("{path} is not a git repository, and the {layout} layout installs only into repositories (REPO.git/{dir}/)")]
    NotARepository {
        path: PathBuf,
        layout: &'static str,
        dir: String,
    },
    #[error("no install layout is called `{0}`")]
    UnknownLayout(String),
    #[error("{repo} sets core.hooksPath = {hooks_path}, so git does not run {repo}/hooks/pre-receive; install into that folder instead: {command}")]
    HooksPath {
        repo: PathBuf,
        hooks_path: String,
        command: String,
    },
    #[error("{path} is not a repository but the folder of {count} repositor{}: git never runs a hook from it, so nothing was installed. Install into the repositories instead: {command}", if *count == 1 { "y" } else { "ies" })]
    ParentFolder {
        path: PathBuf,
        count: usize,
        command: String,
    },
    #[error("{path} is a clone with a working tree, not a bare repository: its hooks run only for pushes into this clone, never for pushes to the server, so nothing was installed. Install into the bare repository the team pushes to, for example: {command}")]
    NonBare { path: PathBuf, command: String },
    #[error("{path}/hooks/pre-receive does not run the hooks in hooks/pre-receive.d/ (Gitea's and Forgejo's own hook does), so git would never run trailgate from there and nothing was installed. For a plain bare repository use the plain layout: {command}")]
    NotGitea { path: PathBuf, command: String },
    #[error("nothing was installed: {} targets cannot take the hook:\n{}", .0.len(), .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Several(Vec<InstallError>),
    #[error("{path} exists and was not written by trailgate; nothing was changed. Pass --chain to keep running it after trailgate accepts, or --force to replace it (the old file is kept as {backup} either way)")]
    Foreign { path: PathBuf, backup: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the policy the hook would use is not valid, so nothing was installed:\n{0}")]
    Policy(#[source] PolicyError),
    #[error("no policy for {target}: trailgate looked at {}; the hook would reject every push. Pass --config PATH, or create one of those files", tried.join(" and "))]
    NoPolicy { target: PathBuf, tried: Vec<String> },
    #[error("cannot find the trailgate binary to install ({0}); pass --bin PATH")]
    SelfPath(#[source] std::io::Error),
    #[error("the trailgate binary {0} must be given as a path without a newline or NUL")]
    BadBin(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InstallError + '_ {
    move |source| InstallError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A git directory: `HEAD` and `objects/` inside.
fn git_dir_of(path: &Path) -> Option<PathBuf> {
    let is_git_dir = |p: &Path| p.join("HEAD").is_file() && p.join("objects").is_dir();
    if is_git_dir(path) {
        return Some(path.to_owned());
    }
    let dotgit = path.join(".git");
    is_git_dir(&dotgit).then_some(dotgit)
}

/// Where a layout puts the hook for a target, and the folders it needs,
/// relative to the target.
fn hook_location(
    layout: &Layout,
    target: &Path,
    args: Option<&InstallArgs>,
) -> Result<(PathBuf, PathBuf), InstallError> {
    if !target.is_dir() {
        return Err(InstallError::NoTarget {
            path: target.to_owned(),
        });
    }
    match git_dir_of(target) {
        Some(git_dir) => {
            if layout.follows_hooks_path {
                if let Some(hooks_path) = hooks_path_of(&git_dir) {
                    let folder = git_dir.join(&hooks_path);
                    let command = match args {
                        Some(args) => conflicts::suggest(args, None, &[folder]),
                        None => format!("trailgate install {}", folder.display()),
                    };
                    return Err(InstallError::HooksPath {
                        repo: target.to_owned(),
                        hooks_path,
                        command,
                    });
                }
            }
            Ok((git_dir, PathBuf::from(layout.in_repository)))
        }
        None => match layout.in_folder {
            Some(rel) => Ok((target.to_owned(), PathBuf::from(rel))),
            None => Err(InstallError::NotARepository {
                path: target.to_owned(),
                layout: layout.name,
                dir: Path::new(layout.in_repository)
                    .parent()
                    .map_or_else(String::new, |d| d.display().to_string()),
            }),
        },
    }
}

/// The repository's own `core.hooksPath`, if it sets one.
fn hooks_path_of(git_dir: &Path) -> Option<String> {
    crate::git::repo::config_string(git_dir, "core.hooksPath")
}

/// What is at a hook path now.
pub(super) enum Existing {
    Nothing,
    /// Ours, with its full text.
    Ours(String),
    Foreign,
}

pub(super) fn existing(path: &Path) -> Result<Existing, InstallError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Existing::Nothing),
        Err(e) => return Err(io(path)(e)),
    };
    if !meta.is_file() {
        return Ok(Existing::Foreign);
    }
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(64 * 1024).read_to_end(&mut head))
        .map_err(io(path))?;
    let text = String::from_utf8_lossy(&head).into_owned();
    if text.lines().take(3).any(|l| l.starts_with(MARKER)) {
        Ok(Existing::Ours(text))
    } else {
        Ok(Existing::Foreign)
    }
}

/// A value of a `# tag: a b c` line of one of our shims.
fn tag_values(text: &str, tag: &str) -> Vec<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(tag))
        .map(|rest| rest.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// `'...'` for /bin/sh.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn shim(
    layout: &Layout,
    bin: &str,
    config: Option<&str>,
    created: &[String],
    backup: Option<&str>,
    chained: Option<&Path>,
) -> String {
    let prefix = layout.line_prefix;
    let mut s = String::from("#!/bin/sh\n");
    s.push_str(&format!(
        "{MARKER}: written by `trailgate install --layout {}`; `trailgate uninstall` removes it.\n",
        layout.name
    ));
    s.push_str("# Do not edit: run `trailgate install` again to change it.\n");
    if !created.is_empty() {
        s.push_str(&format!("{DIRS_TAG} {}\n", created.join(" ")));
    }
    if let Some(b) = backup {
        s.push_str(&format!("{BACKUP_TAG} {b}\n"));
    }
    if let Some(name) = chained.and_then(|c| c.file_name()) {
        s.push_str(&format!(
            "{} {}\n",
            chain::CHAIN_TAG,
            name.to_string_lossy()
        ));
    }
    s.push_str(&format!("bin={}\n", sh_quote(bin)));
    s.push_str("if [ ! -x \"$bin\" ]; then\n");
    s.push_str(&format!("    echo \"{prefix}trailgate: error: $bin is missing or not executable; the push is rejected because it could not be judged (trailgate fails closed)\" >&2\n"));
    s.push_str("    exit 2\nfi\n");
    let run = match config {
        Some(c) => format!("\"$bin\" pre-receive --config {} \"$@\"", sh_quote(c)),
        None => "\"$bin\" pre-receive \"$@\"".to_owned(),
    };
    match chained {
        Some(c) => s.push_str(&chain::lines(prefix, &run, &c.display().to_string())),
        None => s.push_str(&format!("exec {run}\n")),
    }
    s
}

fn absolute(path: &Path) -> Result<PathBuf, InstallError> {
    std::fs::canonicalize(path).map_err(io(path))
}

/// The policy the installed hook will read, validated.
fn check_policy(
    config: Option<&Path>,
    repo: Option<&Path>,
    target: &Path,
) -> Result<(), InstallError> {
    let path = match config {
        Some(c) => c.to_owned(),
        None => {
            let mut tried = Vec::new();
            if let Some(repo) = repo {
                tried.push(repo.join("trailgate.toml"));
            }
            tried.push(PathBuf::from(policy::SYSTEM_POLICY));
            match tried.iter().find(|p| p.is_file()) {
                Some(p) => p.clone(),
                None => {
                    return Err(InstallError::NoPolicy {
                        target: target.to_owned(),
                        tried: tried.iter().map(|p| p.display().to_string()).collect(),
                    })
                }
            }
        }
    };
    crate::rules::load(&path)
        .map(|_| ())
        .map_err(InstallError::Policy)
}

fn plan_install(
    args: &InstallArgs,
    bin: &str,
    config: Option<&str>,
    target: &Path,
) -> Result<Vec<Action>, InstallError> {
    let layout = layout_of(&args.layout)?;
    if let Some(refused) = conflicts::refusal(args, target) {
        return Err(refused);
    }
    let (base, rel) = hook_location(layout, target, Some(args))?;
    let repo = git_dir_of(target);
    check_policy(args.config.as_deref(), repo.as_deref(), target)?;
    let hook = base.join(&rel);
    let mut actions = Vec::new();
    // Folders to create, outermost first, recorded relative to `base`.
    let mut created = Vec::new();
    let mut missing = Vec::new();
    let mut dir = rel.parent();
    while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
        if !base.join(d).exists() {
            missing.push(d.to_owned());
        }
        dir = d.parent();
    }
    for d in missing.into_iter().rev() {
        created.push(d.display().to_string());
        actions.push(Action::CreateDir(base.join(d)));
    }
    let name = hook
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match existing(&hook)? {
        Existing::Nothing => actions.push(Action::Write {
            text: shim(layout, bin, config, &created, None, None),
            path: hook,
            verb: "installed",
        }),
        Existing::Ours(old) => {
            // Keep what the first install recorded, so uninstall still knows.
            let dirs = tag_values(&old, DIRS_TAG);
            let backup = tag_values(&old, BACKUP_TAG).into_iter().next();
            // A chained hook keeps running: installing again (a new
            // --config) must not silently drop it.
            let chained = tag_values(&old, chain::CHAIN_TAG)
                .into_iter()
                .next()
                .map(|c| hook.parent().unwrap_or(&base).join(c));
            let text = shim(
                layout,
                bin,
                config,
                &dirs,
                backup.as_deref(),
                chained.as_deref(),
            );
            if text == old {
                actions.push(Action::Unchanged(hook));
            } else {
                actions.push(Action::Write {
                    text,
                    path: hook,
                    verb: "updated",
                });
            }
        }
        Existing::Foreign => {
            let parent = hook.parent().unwrap_or(&base).to_owned();
            let mut backup_name = format!("{name}.trailgate-backup");
            let mut n = 1;
            while std::fs::symlink_metadata(parent.join(&backup_name)).is_ok() {
                backup_name = format!("{name}.trailgate-backup.{n}");
                n += 1;
            }
            let backup = parent.join(&backup_name);
            if !args.force && !args.chain {
                return Err(InstallError::Foreign { path: hook, backup });
            }
            let chained = args.chain.then(|| backup.clone());
            actions.push(Action::Backup {
                from: hook.clone(),
                to: backup,
            });
            actions.push(Action::Write {
                text: shim(
                    layout,
                    bin,
                    config,
                    &created,
                    Some(&backup_name),
                    chained.as_deref(),
                ),
                path: hook,
                verb: "installed",
            });
        }
    }
    Ok(actions)
}

fn plan_uninstall(layout: Option<&str>, target: &Path) -> Result<Vec<Action>, InstallError> {
    if !target.is_dir() {
        return Err(InstallError::NoTarget {
            path: target.to_owned(),
        });
    }
    let layouts: Vec<&Layout> = match layout {
        Some(name) => vec![layout_of(name)?],
        None => host::LAYOUTS.to_vec(),
    };
    let base = git_dir_of(target).unwrap_or_else(|| target.to_owned());
    let mut actions = Vec::new();
    for layout in layouts {
        let rel = match hook_location(layout, target, None) {
            Ok((_, rel)) => rel,
            // A plain repository with core.hooksPath, or a folder under the
            // gitea layout: install never wrote there.
            Err(InstallError::HooksPath { .. } | InstallError::NotARepository { .. }) => continue,
            Err(e) => return Err(e),
        };
        let hook = base.join(&rel);
        match existing(&hook)? {
            Existing::Nothing => {}
            Existing::Foreign => {
                if layout.is_sole_hook() {
                    actions.push(Action::LeaveForeign(hook));
                }
            }
            Existing::Ours(text) => {
                actions.push(Action::Remove(hook.clone()));
                if let Some(b) = tag_values(&text, BACKUP_TAG).into_iter().next() {
                    let from = hook.parent().unwrap_or(&base).join(b);
                    if std::fs::symlink_metadata(&from).is_ok() {
                        actions.push(Action::Restore { from, to: hook });
                    }
                }
                for d in tag_values(&text, DIRS_TAG).into_iter().rev() {
                    actions.push(Action::RemoveDir(base.join(d)));
                }
            }
        }
    }
    if actions.is_empty() {
        actions.push(Action::Nothing(target.to_owned()));
    }
    Ok(actions)
}

/// `trailgate install`: plans every target (validating the policy), then
/// carries the plan out. Returns what was done, one line per change.
pub fn install(args: &InstallArgs) -> Result<Installed, InstallError> {
    let bin = match &args.bin {
        Some(b) => absolute(b)?,
        None => std::env::current_exe()
            .and_then(std::fs::canonicalize)
            .map_err(InstallError::SelfPath)?,
    };
    let bin_str = bin.to_str().unwrap_or_default();
    if bin_str.is_empty() || bin_str.contains(['\n', '\0']) {
        return Err(InstallError::BadBin(bin));
    }
    let config = match &args.config {
        Some(c) => Some(absolute(c)?.display().to_string()),
        None => None,
    };
    // Every target is planned before any is touched, and every target's
    // problem is reported, not just the first.
    let mut plans = Vec::new();
    let mut refused = Vec::new();
    let warnings = Vec::new();
    for target in &args.targets {
        match plan_install(args, bin_str, config.as_deref(), target) {
            Ok(plan) => {
                plans.push(plan);
            }
            // One invalid policy is one problem, however many targets.
            Err(e) => {
                let text = e.to_string();
                if !refused.iter().any(|r: &InstallError| r.to_string() == text) {
                    refused.push(e);
                }
            }
        }
    }
    if refused.len() > 1 {
        return Err(InstallError::Several(refused));
    }
    if let Some(e) = refused.pop() {
        return Err(e);
    }
    let mut out = String::new();
    for plan in &plans {
        execute(plan, args.dry_run, &mut out)?;
    }
    Ok(Installed { out, warnings })
}

/// What `trailgate install` did: one line per change, and the warnings
/// about targets where the hook will not yet work (printed loudly on stderr).
pub struct Installed {
    pub out: String,
    pub warnings: Vec<String>,
}

/// `trailgate uninstall`: removes the hooks install wrote (recognised by
/// their marker), puts back what `--force` moved aside, and removes the
/// folders install created if they are empty.
pub fn uninstall(args: &UninstallArgs) -> Result<String, InstallError> {
    let mut plans = Vec::new();
    for target in &args.targets {
        plans.push(plan_uninstall(args.layout.as_deref(), target)?);
    }
    let mut out = String::new();
    for plan in &plans {
        execute(plan, args.dry_run, &mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sh_quote_survives_single_quotes() {
        assert_eq!(sh_quote("/a b/it's"), "'/a b/it'\\''s'");
    }

    #[test]
    fn shim_carries_marker_and_records() {
        let s = shim(
            crate::host::layout("gitlab").unwrap(),
            "/usr/bin/trailgate",
            Some("/etc/p.toml"),
            &["custom_hooks".into()],
            Some("trailgate.trailgate-backup"),
            None,
        );
        assert!(s.lines().nth(1).unwrap().starts_with(MARKER));
        assert_eq!(tag_values(&s, DIRS_TAG), vec!["custom_hooks".to_owned()]);
        assert_eq!(
            tag_values(&s, BACKUP_TAG),
            vec!["trailgate.trailgate-backup".to_owned()]
        );
        assert!(s.contains("GL-HOOK-ERR: trailgate: error"));
        assert!(s.contains("exec \"$bin\" pre-receive --config '/etc/p.toml' \"$@\""));
    }
}
