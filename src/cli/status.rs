//! `trailgate status ROOT`: for every repository under a folder, whether a
//! push to it is judged by trailgate, for monitoring. A repository is
//! `ok` when git runs a trailgate hook for it that uses the expected
//! policy; otherwise it is `missing` (no pre-receive hook), `bypassed`
//! (trailgate's hook is there but a `core.hooksPath`, from the
//! repository's, the global or the system configuration, makes git run
//! another folder's hooks), `foreign` (git runs another pre-receive hook),
//! `not-executable` (git skips a hook file it cannot execute),
//! `other-policy` (the hook uses another policy than `--config`) or
//! `no-policy` (the hook finds no policy and rejects every push).
//!
//! Where git looks for hooks is asked of git itself
//! (`git rev-parse --git-path hooks`), run as the user who runs `status`:
//! run it as the user git runs hooks as, whose global configuration counts.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::json;

use super::install::{existing, Existing};
use super::locate::{is_git_dir, shim_config};
use super::{Error, Format, EXIT_ACCEPT, EXIT_REJECT};
use crate::host;
use crate::policy;

/// Folders deeper than this under ROOT are not searched (a loop of bind
/// mounts, a mistaken `/`).
const MAX_DEPTH: usize = 16;

/// What one repository's status is.
struct Status {
    /// The git directory, relative to ROOT.
    path: String,
    kind: &'static str,
    /// The hook git runs, when it is trailgate's.
    hook: Option<PathBuf>,
    policy: Option<PathBuf>,
    detail: String,
}

pub(super) fn status(root: &Path, config: Option<&Path>, format: Format) -> Result<u8, Error> {
    if !root.is_dir() {
        return Err(Error::Usage(format!(
            "{}: no such folder; give the folder that holds the repositories (/srv/git)",
            root.display()
        )));
    }
    let expected = config.map(|c| std::fs::canonicalize(c).unwrap_or_else(|_| c.to_owned()));
    let mut repos = Vec::new();
    find_repositories(root, 0, &mut repos);
    repos.sort();
    if repos.is_empty() {
        return Err(Error::Usage(format!(
            "{} holds no git repository (a folder with HEAD and objects/): nothing to check",
            root.display()
        )));
    }
    let me = std::env::current_exe().and_then(std::fs::canonicalize).ok();
    let mut out = Vec::new();
    for git_dir in &repos {
        let mut s = repository_status(git_dir, expected.as_deref(), me.as_deref())?;
        s.path = git_dir
            .strip_prefix(root)
            .unwrap_or(git_dir)
            .display()
            .to_string();
        out.push(s);
    }
    let bad = out.iter().filter(|s| s.kind != "ok").count();
    match format {
        Format::Json => {
            let list: Vec<_> = out
                .iter()
                .map(|s| {
                    json!({
                        "path": s.path,
                        "status": s.kind,
                        "hook": s.hook.as_ref().map(|h| h.display().to_string()),
                        "policy": s.policy.as_ref().map(|p| p.display().to_string()),
                        "detail": s.detail,
                    })
                })
                .collect();
            println!(
                "{}",
                json!({
                    "root": root.display().to_string(),
                    "repositories": list,
                    "ok": out.len() - bad,
                    "not_ok": bad,
                })
            );
        }
        Format::Text => {
            let mut text = format!(
                "{}: {} repositor{}, {} judged by trailgate, {} not\n",
                root.display(),
                out.len(),
                if out.len() == 1 { "y" } else { "ies" },
                out.len() - bad,
                bad
            );
            for s in &out {
                text.push_str(&format!("{:<15}{}: {}\n", s.kind, s.path, s.detail));
            }
            print!("{text}");
        }
    }
    Ok(if bad == 0 { EXIT_ACCEPT } else { EXIT_REJECT })
}

/// Every git directory under `dir` (not descending into one, nor through
/// symbolic links).
fn find_repositories(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if is_git_dir(dir) {
        out.push(dir.to_owned());
        return;
    }
    if depth >= MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            find_repositories(&entry.path(), depth + 1, out);
        }
    }
}

/// Where git runs this repository's hooks from, and the `core.hooksPath`
/// that moved it there with the file that sets it.
fn hooks_dir(git_dir: &Path) -> Result<(PathBuf, Option<String>), Error> {
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("--git-dir")
            .arg(git_dir)
            .args(args)
            .current_dir(git_dir)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
    };
    let out = git(&["rev-parse", "--git-path", "hooks"]).map_err(|e| {
        Error::Usage(format!(
            "cannot run git to ask where {} runs its hooks from: {e}",
            git_dir.display()
        ))
    })?;
    if !out.status.success() {
        return Err(Error::Usage(format!(
            "git rev-parse --git-path hooks failed in {}",
            git_dir.display()
        )));
    }
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim_end());
    let path = if path.is_absolute() {
        path
    } else {
        git_dir.join(path)
    };
    let origin = git(&["config", "--show-origin", "--get", "core.hooksPath"])
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            let text = String::from_utf8_lossy(&o.stdout).trim_end().to_owned();
            match text.split_once('\t') {
                Some((from, value)) => format!(
                    "core.hooksPath = {value} (set in {})",
                    from.trim_start_matches("file:")
                ),
                None => format!("core.hooksPath = {text}"),
            }
        });
    Ok((path, origin))
}

/// Whether `a` and `b` are the same folder.
fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// A trailgate hook at `path`: a shim `install` wrote (with its `--config`)
/// or a symbolic link to this binary (which searches for its policy).
fn trailgate_hook(path: &Path, me: Option<&Path>) -> Option<Option<PathBuf>> {
    match existing(path) {
        Ok(Existing::Ours(text)) => Some(shim_config(&text)),
        _ => {
            let target = std::fs::canonicalize(path).ok()?;
            (Some(target.as_path()) == me).then_some(None)
        }
    }
}

fn repository_status(
    git_dir: &Path,
    expected: Option<&Path>,
    me: Option<&Path>,
) -> Result<Status, Error> {
    let (hooks, hooks_path) = hooks_dir(git_dir)?;
    let own_hooks = git_dir.join("hooks");
    let moved = !same_dir(&hooks, &own_hooks);
    let mut running = None;
    let mut bypassed = None;
    for layout in host::LAYOUTS {
        let own = git_dir.join(layout.in_repository);
        let place = match Path::new(layout.in_repository).strip_prefix("hooks") {
            Ok(rest) if layout.follows_hooks_path => hooks.join(rest),
            _ => own.clone(),
        };
        if let Some(config) = trailgate_hook(&place, me) {
            running.get_or_insert((place, config));
        } else if place != own {
            if let Some(config) = trailgate_hook(&own, me) {
                bypassed.get_or_insert((own, config));
            }
        }
    }
    let status = |kind, hook: Option<PathBuf>, policy, detail: String| Status {
        path: String::new(),
        kind,
        hook,
        policy,
        detail,
    };
    let Some((hook, config)) = running else {
        let runs = hooks.join("pre-receive");
        return Ok(match (bypassed, moved) {
            (Some((own, _)), true) => status(
                "bypassed",
                None,
                None,
                format!(
                    "{} makes git run {}, not trailgate's {}",
                    hooks_path.unwrap_or_else(|| format!("core.hooksPath = {}", hooks.display())),
                    runs.display(),
                    own.display()
                ),
            ),
            _ if std::fs::symlink_metadata(&runs).is_ok() => status(
                "foreign",
                None,
                None,
                format!("git runs {}, which is not trailgate", runs.display()),
            ),
            _ => status(
                "missing",
                None,
                None,
                format!(
                    "no pre-receive hook ({}): pushes are not judged",
                    runs.display()
                ),
            ),
        });
    };
    if std::fs::metadata(&hook).is_ok_and(|m| m.permissions().mode() & 0o111 == 0) {
        return Ok(status(
            "not-executable",
            Some(hook.clone()),
            None,
            format!(
                "{} is trailgate's but not executable, so git skips it: chmod +x it",
                hook.display()
            ),
        ));
    }
    let policy = config.or_else(|| {
        [
            git_dir.join("trailgate.toml"),
            PathBuf::from(policy::SYSTEM_POLICY),
        ]
        .into_iter()
        .find(|p| p.is_file())
    });
    let Some(policy) = policy else {
        return Ok(status(
            "no-policy",
            Some(hook.clone()),
            None,
            format!(
                "{} finds no policy ({}/trailgate.toml, {}): it rejects every push",
                hook.display(),
                git_dir.display(),
                policy::SYSTEM_POLICY
            ),
        ));
    };
    let canonical = std::fs::canonicalize(&policy).unwrap_or_else(|_| policy.clone());
    if let Some(expected) = expected.filter(|e| *e != canonical) {
        return Ok(status(
            "other-policy",
            Some(hook.clone()),
            Some(policy.clone()),
            format!(
                "{} uses {}, not {}",
                hook.display(),
                policy.display(),
                expected.display()
            ),
        ));
    }
    Ok(status(
        "ok",
        Some(hook.clone()),
        Some(policy.clone()),
        format!("{} with {}", hook.display(), policy.display()),
    ))
}
