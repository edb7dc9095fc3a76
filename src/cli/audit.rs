//! `trailgate audit`: the summary of an audit log.

use std::path::{Path, PathBuf};

use super::*;

pub(super) fn audit_summary(
    env: &HookEnv,
    log: Option<PathBuf>,
    config: Option<&Path>,
    format: Format,
) -> Result<u8, Error> {
    let log = match log {
        Some(log) => log,
        None => {
            let path = policy_path_for_tools(env, config)?;
            crate::rules::load(&path)?
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
