//! Appending records so that concurrent pushes never interleave, tear or
//! lose lines.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::*;
use crate::push::RefUpdate;

/// Appends `text` (whole lines) to the log at `path` as one write under an
/// exclusive lock, then syncs it to disk.
pub fn append(path: &Path, text: &str) -> Result<(), AuditError> {
    let err = |source| AuditError::Write {
        path: path.to_owned(),
        source,
    };
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o640)
        .open(path)
        .map_err(err)?;
    file.lock().map_err(err)?;
    let result = append_locked(&file, text);
    // Closing the file releases the lock too; unlock explicitly for clarity.
    let _ = file.unlock();
    result.map_err(err)
}

fn append_locked(mut file: &File, text: &str) -> std::io::Result<()> {
    let len = file.metadata()?.len();
    let mut data = Vec::with_capacity(text.len() + 1);
    if len > 0 {
        let mut last = [0u8; 1];
        file.read_exact_at(&mut last, len - 1)?;
        if last[0] != b'\n' {
            data.push(b'\n');
        }
    }
    data.extend_from_slice(text.as_bytes());
    let written = file.write_all(&data).and_then(|()| file.sync_data());
    if written.is_err() {
        // Never leave half a record behind.
        let _ = file.set_len(len);
    }
    written
}

/// Whether a push's audit lines were written, for what the pusher is told
/// (an override "is recorded" only when a log records it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Appended to `settings.audit_log`.
    Written,
    /// The policy sets no `settings.audit_log`.
    NoLog,
    /// The log could not be written (and `settings.audit_required` is false).
    Failed,
}

/// What the hook does with the audit log after judging: appends the push's
/// records when `settings.audit_log` is set. A failure is an error only when
/// `settings.audit_required` is true; otherwise it is printed as a warning
/// (with `prefix`, for GitLab) and the push's fate is left to the judgement.
pub fn record_push(
    settings: &crate::policy::Settings,
    info: &PushInfo,
    updates: &[RefUpdate],
    outcome: Outcome<'_>,
    started: SystemTime,
    duration: Duration,
    prefix: &str,
) -> Result<Recorded, AuditError> {
    let Some(path) = &settings.audit_log else {
        return Ok(Recorded::NoLog);
    };
    match append(
        path,
        &records(settings, info, updates, outcome, started, duration),
    ) {
        Ok(()) => Ok(Recorded::Written),
        Err(e) if settings.audit_required => Err(AuditError::Required(Box::new(e))),
        Err(e) => {
            let _ = std::io::stderr().write_all(
                format!("{prefix}trailgate: warning: {e} (the push was judged all the same; settings.audit_required is false)\n").as_bytes(),
            );
            Ok(Recorded::Failed)
        }
    }
}
