//! Appending records so that concurrent pushes never interleave, tear or
//! lose lines.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::*;
use crate::push::RefUpdate;

/// How often [`append`] reopens a log that was rotated away between its
/// open and its lock before it gives up (a rotation loop gone wild).
const MAX_REOPENS: usize = 16;

/// Appends `text` (whole lines) to the log at `path` as one write under an
/// exclusive lock, then syncs it to disk.
///
/// Rotation: the file is opened anew by every push, so a rotation that
/// renames the log (logrotate's default `create`) sends the next push to
/// the new file. A push that opened the old file just before the rename
/// would write into a file that no longer has the log's name (and that the
/// rotation may be compressing or deleting): so once the lock is held the
/// name is checked to still be this file (same device and inode), and if
/// it is not, the file is closed and the name opened again. `copytruncate`
/// needs nothing more: the file is opened with `O_APPEND`, so a write after
/// the truncation lands at the new end, not at the old offset behind a run
/// of zero bytes.
pub fn append(path: &Path, text: &str) -> Result<(), AuditError> {
    let err = |source| AuditError::Write {
        path: path.to_owned(),
        source,
    };
    for _ in 0..MAX_REOPENS {
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o640)
            .open(path)
            .map_err(err)?;
        file.lock().map_err(err)?;
        let result = match still_named(&file, path) {
            Ok(true) => append_locked(&file, text).map(|()| true),
            Ok(false) => Ok(false),
            Err(e) => Err(e),
        };
        // Closing the file releases the lock too; unlock explicitly for clarity.
        let _ = file.unlock();
        if result.map_err(err)? {
            return Ok(());
        }
    }
    Err(err(std::io::Error::other(format!(
        "the log was renamed or removed {MAX_REOPENS} times while this push waited to append to it"
    ))))
}

/// Whether `path` still names the open `file`: not renamed or removed
/// since it was opened.
fn still_named(file: &File, path: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::MetadataExt as _;
    let open = file.metadata()?;
    match std::fs::metadata(path) {
        Ok(named) => Ok(named.dev() == open.dev() && named.ino() == open.ino()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
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
        // Never leave half a record behind; but only ever shrink: a
        // `copytruncate` in between must not be undone as a run of zeros.
        if file.metadata().is_ok_and(|m| m.len() > len) {
            let _ = file.set_len(len);
        }
    }
    written
}

/// Whether a push's audit lines were written, for what the pusher is told
/// (an override "is recorded" only when a log records it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Appended to `settings.audit_log` (and sent to `settings.audit_syslog`).
    Written,
    /// The policy sets neither `settings.audit_log` nor `settings.audit_syslog`.
    NoLog,
    /// The log could not be written (and `settings.audit_required` is false).
    Failed,
}

/// What the hook does with the audit log after judging: appends the push's
/// records when `settings.audit_log` is set, and sends them to syslog when
/// `settings.audit_syslog` is. A failure is an error only when
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
    if settings.audit_log.is_none() && settings.audit_syslog.is_none() {
        return Ok(Recorded::NoLog);
    }
    let text = records(settings, info, updates, outcome, started, duration);
    let mut failed = None;
    if let Some(path) = &settings.audit_log {
        failed = append(path, &text).err();
    }
    if let Some(socket) = &settings.audit_syslog {
        let severity = match outcome {
            Outcome::Judged(j) if j.rejects() => super::syslog::Severity::Notice,
            Outcome::Judged(_) => super::syslog::Severity::Info,
            Outcome::Failed(_) => super::syslog::Severity::Err,
        };
        if let Err(source) = super::syslog::send(socket, &text, severity, started) {
            failed.get_or_insert(AuditError::Syslog {
                socket: socket.clone(),
                source,
            });
        }
    }
    match failed {
        None => Ok(Recorded::Written),
        Some(e) if settings.audit_required => Err(AuditError::Required(Box::new(e))),
        Some(e) => {
            let _ = std::io::stderr().write_all(
                format!("{prefix}trailgate: warning: {e} (the push was judged all the same; settings.audit_required is false)\n").as_bytes(),
            );
            Ok(Recorded::Failed)
        }
    }
}
