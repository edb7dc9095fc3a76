//! `trailgate audit`: the summary of an audit log.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::*;

pub(super) fn audit_summary(
    env: &HookEnv,
    log: Option<PathBuf>,
    config: Option<&Path>,
    since: Option<&str>,
    format: Format,
) -> Result<u8, Error> {
    let since = since.map(since_time).transpose()?;
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
    let summary = crate::report::audit::summarise(&log, since.as_deref())?;
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

/// `--since`: a UTC date or time as the records write it (`2026-11-16`,
/// `2026-11-16T09:00`), or an age (`90m`, `24h`, `7d`, `2w`) turned into
/// the time that long ago.
fn since_time(value: &str) -> Result<String, Error> {
    let value = value.trim();
    let bad = || {
        Error::Usage(format!(
            "--since {value:?}: give a UTC date or time (2026-11-16, 2026-11-16T09:00) or an age (90m, 24h, 7d, 2w)"
        ))
    };
    let digits = value.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = value.get(digits.len()..).unwrap_or_default();
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && !unit.is_empty() {
        let n: u64 = digits.parse().map_err(|_| bad())?;
        let seconds = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 7 * 86_400,
            _ => return Err(bad()),
        };
        let ago = Duration::from_secs(n.checked_mul(seconds).ok_or_else(bad)?);
        let when = SystemTime::now().checked_sub(ago).ok_or_else(bad)?;
        return Ok(crate::report::audit::rfc3339(when));
    }
    // A prefix of the records' own format: YYYY-MM-DD[THH[:MM[:SS[.mmm]]]][Z].
    let shape = b"0000-00-00T00:00:00.000";
    let text = value.strip_suffix('Z').unwrap_or(value);
    let fits = text.len() >= 10
        && text.len() <= shape.len()
        && text.bytes().zip(shape.iter()).all(|(c, &s)| {
            if s == b'0' {
                c.is_ascii_digit()
            } else {
                c == s
            }
        });
    if fits {
        Ok(text.to_owned())
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_dates_times_and_ages() {
        assert_eq!(since_time("2026-11-16").unwrap(), "2026-11-16");
        assert_eq!(since_time("2026-11-16T09:00Z").unwrap(), "2026-11-16T09:00");
        let day = since_time("1d").unwrap();
        assert!(day.len() == 24 && day.ends_with('Z'), "{day}");
        for bad in ["yesterday", "16/11/2026", "7x", "2026-1-1", ""] {
            assert!(since_time(bad).is_err(), "{bad}");
        }
    }
}
