//! `trailgate check`: validates a policy, and warns when anyone but their
//! owner may change the policy, the repository's hooks, their folders or the
//! binary a trailgate hook runs.

use std::path::{Path, PathBuf};

use super::install::{existing, Existing};
use super::*;
use crate::host;

pub(super) fn check(env: &HookEnv, config: Option<&Path>) -> Result<u8, Error> {
    let path = policy_path_for_tools(env, config)?;
    let policy = match crate::rules::load(&path) {
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
    if let Some(stamp) = &policy.settings.directory {
        warnings.extend(permission_warnings(&stamp.path));
    }
    if let Some(stale) = policy
        .settings
        .directory_staleness(std::time::SystemTime::now())
    {
        warnings.push(format!(
            "{stale} (settings.directory_stale = \"{}\")",
            match stale.action {
                policy::Stale::Reject => "reject",
                policy::Stale::Warn => "warn",
            }
        ));
    }
    if let Ok(repo) = Repo::discover() {
        warnings.extend(hook_permission_warnings(repo.path()));
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
    if let Some(stamp) = &policy.settings.directory {
        let _ = writeln!(
            std::io::stdout(),
            "directory {}: generated {}, sha256 {}",
            stamp.path.display(),
            stamp.generated,
            stamp.sha256
        );
    }
    Ok(EXIT_ACCEPT)
}

/// Anyone who can write the policy can switch it off.
fn permission_warnings(path: &Path) -> Vec<String> {
    writable_by_others(path)
        .map(|(who, mode)| {
            format!(
                "{} is writable by {who} (mode {mode:o}); anyone who can edit the policy can switch it off: chmod go-w {}",
                path.display(),
                path.display()
            )
        })
        .into_iter()
        .collect()
}

/// Hook files of a repository (every layout's place) that users other than
/// their owner may change: anyone who can edit the hook can switch trailgate
/// off. Also the binary a trailgate shim runs, and the folders holding them.
fn hook_permission_warnings(git_dir: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = host::LAYOUTS
        .iter()
        .flat_map(|l| l.hook_files)
        .map(|f| git_dir.join(f))
        .collect();
    for d in host::LAYOUTS.iter().flat_map(|l| l.hook_dirs) {
        if let Ok(entries) = std::fs::read_dir(git_dir.join(d)) {
            let mut list: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            list.sort();
            files.extend(list);
        }
    }
    let mut out = Vec::new();
    let mut seen_dirs: Vec<PathBuf> = Vec::new();
    let warn = |path: &Path, what: &str, out: &mut Vec<String>| {
        if let Some((who, mode)) = super::writable_by_others(path) {
            out.push(format!(
                "{what} {} is writable by {who} (mode {mode:o}); anyone who can change it can switch trailgate off: chmod go-w {}",
                path.display(),
                path.display()
            ));
        }
    };
    for file in files.iter().filter(|f| f.is_file()) {
        warn(file, "the hook", &mut out);
        if let Some(parent) = file.parent() {
            if !seen_dirs.iter().any(|d| d == parent) {
                seen_dirs.push(parent.to_owned());
                warn(parent, "the hook folder", &mut out);
            }
        }
        if let Ok(Existing::Ours(text)) = existing(file) {
            if let Some(bin) = text.lines().find_map(|l| l.strip_prefix("bin='")) {
                let bin = bin.trim_end_matches('\'').replace("'\\''", "'");
                warn(Path::new(&bin), "the binary the hook runs,", &mut out);
            }
        }
    }
    out
}
