//! The audit log (`settings.audit_log`): one JSON line per ref update judged,
//! appended by every push, and `trailgate audit`, which summarises a log.
//!
//! This module owns the record format, the append discipline and the
//! summary. It does not judge anything: the hook hands it the
//! [`Judgement`] (or the error that prevented one) after judging.
//!
//! Appends from concurrent pushes never interleave, tear or vanish: the file
//! is opened with `O_APPEND`, every record of one push is written with one
//! `write()` while an exclusive `flock(2)` is held (std's `File::lock`), then
//! `fsync`ed. A write that fails half-way is cut back to the length the file
//! had before, so a reader never sees half a line; a log whose last line lacks
//! its newline (a crash elsewhere) gets one before the next record. A log
//! renamed away between a push's open and its lock (rotation) is opened
//! again by name ([`append`]). Each line is at most
//! `settings.audit_line_max` bytes ([`records`]), and may also go to syslog
//! (`settings.audit_syslog`, [`syslog`]).

mod append;
mod record;
mod summary;
mod syslog;

use std::path::PathBuf;

use thiserror::Error;

pub use append::{append, record_push, Recorded};
pub use record::{records, rfc3339, Outcome};
pub use summary::{summarise, summarise_since, summarise_text, RepoCounts, Summary};

#[derive(Debug, Error)]
pub enum AuditError {
    #[error("cannot write the audit log {path}: {source}; check that its folder exists and that the user git runs hooks as may append to it")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot send the audit lines to syslog at {socket}: {source}; check that a syslog daemon (journald, rsyslog) listens there on a datagram socket")]
    Syslog {
        socket: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the audit log {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}; settings.audit_required = true, so the push is rejected")]
    Required(#[source] Box<AuditError>),
    #[error("no audit log to read: pass --log PATH, or a policy (--config) whose settings.audit_log names one")]
    NoLog,
}

pub use crate::push::PushInfo;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789);
        assert_eq!(rfc3339(t), "2024-02-29T12:34:56.789Z");
    }

    #[test]
    fn summary_counts_pushes_rejections_by_rule_and_malformed_lines() {
        let text = concat!(
            r#"{"push_id":"a","decision":"reject","pusher":"carol","violations":[{"rule":"r1"},{"rule":"r1"}],"warnings":[],"overrides":[]}"#,
            "\n",
            r#"{"push_id":"a","decision":"reject","pusher":"carol","violations":[{"rule":"r2"}],"warnings":[],"overrides":[]}"#,
            "\n",
            r#"{"push_id":"b","decision":"accept","pusher":"alice","violations":[],"warnings":[{"rule":"w"}],"overrides":[]}"#,
            "\nnot json\n"
        );
        let s = summarise_text("log", text);
        assert_eq!((s.pushes, s.ref_updates), (2, 3));
        assert_eq!(
            (s.accepted, s.rejected, s.accepted_with_warnings),
            (1, 1, 1)
        );
        assert_eq!(s.rejections_by_rule.get("r1"), Some(&1));
        assert_eq!(s.rejections_by_rule.get("r2"), Some(&1));
        assert_eq!(s.rejections_by_pusher.get("carol"), Some(&1));
        assert_eq!(s.malformed, vec![4]);
    }

    #[test]
    fn append_adds_a_missing_newline_before_the_next_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, "{\"torn\":").unwrap();
        append(&path, "{\"a\":1}\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"torn\":\n{\"a\":1}\n"
        );
    }

    /// Waits until this process has `path` open at least `n` times (the
    /// appending thread has opened it and waits for the lock).
    fn wait_for_open(path: &std::path::Path, n: usize) {
        for _ in 0..2000 {
            let open = std::fs::read_dir("/proc/self/fd")
                .unwrap()
                .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter(|target| target == path)
                .count();
            if open >= n {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("the appending thread never opened {}", path.display());
    }

    #[test]
    fn a_log_renamed_while_a_push_waits_for_the_lock_is_reopened_by_name() {
        // logrotate's `create`: the log is renamed between a push's open
        // and its lock. The line must go to the file that has the log's
        // name, not to the renamed one (which rotation compresses or drops).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let rotated = dir.path().join("audit.jsonl.1");
        std::fs::write(&path, "{\"old\":1}\n").unwrap();
        let holder = std::fs::File::open(&path).unwrap();
        holder.lock().unwrap();
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || append(&path, "{\"new\":1}\n"))
        };
        wait_for_open(&path, 2);
        std::fs::rename(&path, &rotated).unwrap();
        holder.unlock().unwrap();
        writer.join().unwrap().unwrap();
        assert_eq!(std::fs::read_to_string(&rotated).unwrap(), "{\"old\":1}\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"new\":1}\n");
    }

    #[test]
    fn a_log_truncated_by_copytruncate_gets_the_line_at_its_new_end() {
        // logrotate's `copytruncate` while a push waits for the lock: the
        // line lands at offset 0 of the emptied file, with no zeros before it.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, "{\"old\":1}\n{\"old\":2}\n").unwrap();
        let holder = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        holder.lock().unwrap();
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || append(&path, "{\"new\":1}\n"))
        };
        wait_for_open(&path, 2);
        holder.set_len(0).unwrap();
        holder.unlock().unwrap();
        writer.join().unwrap().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"new\":1}\n");
    }
}
