//! Targets where an installed hook would never run: found before anything is written, every target's at once, each
//! with what to do instead as a command that keeps the options given.
//!
//! Refused: the parent folder of repositories (git runs no hook from it),
//! a clone with a working tree (pushes go to the server's bare repository),
//! `--layout gitea` on a repository whose `hooks/pre-receive` does not run
//! `hooks/pre-receive.d/` (a plain bare repository: the hook would never
//! run). SHA-256 and reftable repositories are judged like any other
//! (README "SHA-256 and reftable repositories") and get no warning.

use std::path::{Path, PathBuf};

use super::{InstallArgs, InstallError};

/// `trailgate install` with the options of `args` and these targets, as
/// one can paste it into a shell.
pub fn suggest(args: &InstallArgs, layout: Option<&str>, targets: &[PathBuf]) -> String {
    let mut words = vec!["trailgate".to_owned(), "install".to_owned()];
    let layout = layout.unwrap_or(&args.layout);
    if layout != "plain" {
        words.push(format!("--layout {layout}"));
    }
    if let Some(c) = &args.config {
        words.push(format!("--config {}", shell_word(&c.display().to_string())));
    }
    if let Some(b) = &args.bin {
        words.push(format!("--bin {}", shell_word(&b.display().to_string())));
    }
    if args.force {
        words.push("--force".into());
    }
    if args.chain {
        words.push("--chain".into());
    }
    if args.dry_run {
        words.push("--dry-run".into());
    }
    words.extend(targets.iter().map(|t| shell_word(&t.display().to_string())));
    words.join(" ")
}

/// A word for the shell: as is when it is safe, else single-quoted.
fn shell_word(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+=:@,%".contains(&b));
    if safe {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The repositories directly inside a folder (`NAME/` that is a git
/// directory or holds `.git`), sorted.
fn repositories_in(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| super::git_dir_of(p).is_some())
        .collect();
    out.sort();
    out
}

/// Why installing into `target` would leave a hook that never runs; `None`
/// when it would run.
pub fn refusal(args: &InstallArgs, target: &Path) -> Option<InstallError> {
    if !target.is_dir() {
        return None;
    }
    let Some(git_dir) = super::git_dir_of(target) else {
        let repos = repositories_in(target);
        if repos.is_empty() {
            return None;
        }
        const SHOWN: usize = 20;
        let more = repos.len().saturating_sub(SHOWN);
        let shown: Vec<PathBuf> = repos.iter().take(SHOWN).cloned().collect();
        let mut command = suggest(args, None, &shown);
        if more > 0 {
            command.push_str(&format!(" ... ({more} more)"));
        }
        return Some(InstallError::ParentFolder {
            path: target.to_owned(),
            count: repos.len(),
            command,
        });
    };
    let bare = crate::git::repo::config_string(&git_dir, "core.bare");
    let non_bare = git_dir != target
        || bare.is_some_and(|b| {
            matches!(
                b.to_ascii_lowercase().as_str(),
                "false" | "no" | "off" | "0"
            )
        });
    if non_bare {
        // The clone's folder name (of `X`, given `X` or `X/.git`).
        let work_tree = target.canonicalize().ok().map(|p| {
            if p.file_name().is_some_and(|n| n == ".git") {
                p.parent().map(Path::to_owned).unwrap_or(p)
            } else {
                p
            }
        });
        let name = work_tree
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "REPO".into());
        let bare_copy = PathBuf::from(format!("/srv/git/{name}.git"));
        return Some(InstallError::NonBare {
            path: target.to_owned(),
            command: suggest(args, None, &[bare_copy]),
        });
    }
    if args.layout == "gitea" {
        let runner = git_dir.join("hooks/pre-receive");
        // Gitea's and Forgejo's own `hooks/pre-receive` runs every file of
        // `hooks/${hookname}.d/`; git alone runs nothing there.
        let runs_folder = std::fs::read_to_string(&runner).is_ok_and(|text| {
            let text = text.to_ascii_lowercase();
            ["pre-receive.d", "${hookname}.d", "gitea", "forgejo"]
                .iter()
                .any(|mark| text.contains(mark))
        });
        if !runs_folder {
            return Some(InstallError::NotGitea {
                path: target.to_owned(),
                command: suggest(args, Some("plain"), &[target.to_owned()]),
            });
        }
    }
    None
}
