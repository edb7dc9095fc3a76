//! Which policy the admin's tools (`check`, `audit`, `verify`) read: the
//! one given, else, inside a repository, the one its installed trailgate
//! hook uses, else the hook's own search order.
//!
//! The repository is found the way git finds it (`$GIT_DIR`, else the
//! current folder and its parents), by looking at files only: the tools
//! must find the policy of a repository that libgit2 cannot open (SHA-256
//! objects, reftable refs). This module does not load the policy.

use std::path::{Path, PathBuf};

use super::install::{existing, Existing};
use crate::host::{self, HookEnv};
use crate::policy::{self, PolicyError};

/// A policy path, and why it is the one.
#[derive(Debug, Clone)]
pub struct Located {
    pub path: PathBuf,
    /// Where it came from, for people: "--config", "the hook installed at …".
    pub source: String,
    /// The git directory the tool runs in, if any.
    pub git_dir: Option<PathBuf>,
}

/// The git directory the tools run in: `$GIT_DIR`, else the current folder
/// or the nearest parent that is a git directory or holds `.git`.
pub fn git_dir(env: &HookEnv) -> Option<PathBuf> {
    if let Some(dir) = env.get_os("GIT_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        return is_git_dir(&dir).then_some(dir);
    }
    let cwd = std::env::current_dir().ok()?;
    for dir in cwd.ancestors() {
        if is_git_dir(dir) {
            return Some(dir.to_owned());
        }
        let dotgit = dir.join(".git");
        if is_git_dir(&dotgit) {
            return Some(dotgit);
        }
        // A linked worktree or submodule: `.git` is a file `gitdir: PATH`.
        if let Ok(text) = std::fs::read_to_string(&dotgit) {
            if let Some(target) = text.trim_end().strip_prefix("gitdir: ") {
                let target = dir.join(target);
                if is_git_dir(&target) {
                    return Some(target);
                }
            }
        }
    }
    None
}

/// `HEAD` and `objects/` inside: what git itself calls a git directory.
pub fn is_git_dir(path: &Path) -> bool {
    path.join("HEAD").is_file() && path.join("objects").is_dir()
}

/// The trailgate hooks installed in a repository (every layout's place,
/// and the `core.hooksPath` folder it names), with the `--config` each
/// passes (`None`: the hook searches).
pub fn installed_hooks(git_dir: &Path) -> Vec<(PathBuf, Option<PathBuf>)> {
    let mut places: Vec<PathBuf> = host::LAYOUTS
        .iter()
        .map(|l| git_dir.join(l.in_repository))
        .collect();
    if let Some(folder) = crate::git::repo::config_string(git_dir, "core.hooksPath") {
        places.push(git_dir.join(folder).join("pre-receive"));
    }
    places
        .into_iter()
        .filter_map(|hook| match existing(&hook) {
            Ok(Existing::Ours(text)) => Some((hook, shim_config(&text))),
            _ => None,
        })
        .collect()
}

/// The `--config` of a shim `trailgate install` wrote: the single-quoted
/// word after `--config` on its `exec` line.
pub fn shim_config(text: &str) -> Option<PathBuf> {
    let line = text.lines().find(|l| l.starts_with("exec "))?;
    let rest = line.split_once(" --config ")?.1;
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    // `'a'\''b'`: quoted runs joined by escaped quotes.
    loop {
        match chars.next()? {
            '\'' => loop {
                match chars.next()? {
                    '\'' => break,
                    c => out.push(c),
                }
            },
            '\\' => out.push(chars.next()?),
            ' ' => break,
            c => out.push(c),
        }
        if chars.peek().is_none() {
            break;
        }
    }
    (!out.is_empty()).then(|| PathBuf::from(out))
}

/// The policy a tool reads: `--config`; inside a repository, the
/// `--config` of the trailgate hook installed there; then
/// `$TRAILGATE_CONFIG`, `$GIT_DIR/trailgate.toml` and the system file, as
/// hook mode searches.
pub fn policy(env: &HookEnv, config: Option<&Path>) -> Result<Located, PolicyError> {
    let git_dir = git_dir(env);
    if let Some(path) = config {
        return Ok(Located {
            path: path.to_owned(),
            source: "--config".into(),
            git_dir,
        });
    }
    if let Some(dir) = &git_dir {
        if let Some((hook, Some(path))) = installed_hooks(dir)
            .into_iter()
            .find(|(_, config)| config.is_some())
        {
            return Ok(Located {
                path,
                source: format!("the --config of the hook installed at {}", hook.display()),
                git_dir,
            });
        }
    }
    let env_config = env.get_os("TRAILGATE_CONFIG").map(PathBuf::from);
    let from_env = env_config
        .as_ref()
        .is_some_and(|p| !p.as_os_str().is_empty());
    let search_dir = git_dir.clone().unwrap_or_else(|| env.git_dir());
    let path = policy::discover(None, env_config, &search_dir)?;
    let source = if from_env {
        "$TRAILGATE_CONFIG".to_owned()
    } else if path.starts_with(&search_dir) {
        "the repository's trailgate.toml".to_owned()
    } else {
        "the system policy".to_owned()
    };
    Ok(Located {
        path,
        source,
        git_dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shim_config_reads_the_quoted_path_back() {
        let text = "#!/bin/sh\nexec \"$bin\" pre-receive --config '/etc/it'\\''s/p.toml' \"$@\"\n";
        assert_eq!(shim_config(text), Some(PathBuf::from("/etc/it's/p.toml")));
        assert_eq!(shim_config("exec \"$bin\" pre-receive \"$@\"\n"), None);
    }
}
