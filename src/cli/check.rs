//! `trailgate check`: validates a policy and warns about who may change it.

use std::path::Path;

use super::*;

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
    if let Ok(repo) = Repo::discover() {
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
