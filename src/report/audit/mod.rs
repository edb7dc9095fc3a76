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
//! its newline (a crash elsewhere) gets one before the next record.

mod append;
mod record;
mod summary;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use thiserror::Error;

use crate::facts::identity::Pusher;

pub use append::{append, record_push};
pub use record::{records, rfc3339, Outcome};
pub use summary::{summarise, summarise_text, Summary};

#[derive(Debug, Error)]
pub enum AuditError {
    #[error("cannot write the audit log {path}: {source}; check that its folder exists and that the user git runs hooks as may append to it")]
    Write {
        path: PathBuf,
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

/// Who pushed where, as the host told the hook.
#[derive(Debug, Clone)]
pub struct PushInfo {
    /// The host's name for the repository (`GL_PROJECT_PATH`, `GL_REPO`, ...),
    /// else its git directory.
    pub repository: String,
    pub git_dir: String,
    pub pusher: Option<Pusher>,
    /// `ssh`, `http`, `web`, ... as far as the host tells; `unknown` otherwise.
    pub protocol: String,
    /// Shared by the lines of one push.
    pub push_id: String,
}

impl PushInfo {
    /// Reads what the host set for the hook.
    pub fn from_env(git_dir: &Path, get: impl Fn(&str) -> Option<String>) -> PushInfo {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let repository = get("GL_PROJECT_PATH")
            .or_else(|| get("GITHUB_REPO_NAME"))
            .or_else(|| {
                let owner = get("GITEA_REPO_USER_NAME")?;
                let name = get("GITEA_REPO_NAME")?;
                Some(format!("{owner}/{name}"))
            })
            .or_else(|| get("GL_REPO"))
            .unwrap_or_else(|| git_dir.display().to_string());
        let protocol = get("GL_PROTOCOL")
            .or_else(|| get("GITHUB_VIA"))
            .or_else(|| {
                (get("SSH_CONNECTION").is_some() || get("SSH_CLIENT").is_some())
                    .then(|| "ssh".to_owned())
            })
            .or_else(|| {
                (get("GATEWAY_INTERFACE").is_some() || get("REQUEST_METHOD").is_some())
                    .then(|| "http".to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        PushInfo {
            repository,
            git_dir: git_dir.display().to_string(),
            pusher: crate::facts::identity::pusher_from_env(get),
            protocol,
            push_id: format!("{:x}-{:x}", now.as_nanos(), std::process::id()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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

    fn info(vars: &[(&str, &str)]) -> PushInfo {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        PushInfo::from_env(Path::new("/srv/git/a.git"), |k| {
            vars.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn push_info_reads_each_hosts_names_for_repository_and_protocol() {
        let gitlab = info(&[
            ("GL_USERNAME", "carol"),
            ("GL_PROTOCOL", "web"),
            ("GL_PROJECT_PATH", "acme/pay"),
        ]);
        assert_eq!(
            (gitlab.repository.as_str(), gitlab.protocol.as_str()),
            ("acme/pay", "web")
        );
        let gitea = info(&[
            ("GITEA_PUSHER_NAME", "c"),
            ("GITEA_REPO_USER_NAME", "acme"),
            ("GITEA_REPO_NAME", "pay"),
        ]);
        assert_eq!(gitea.repository, "acme/pay");
        let gitolite = info(&[
            ("GL_USER", "alice"),
            ("GL_REPO", "trail"),
            ("SSH_CONNECTION", "127.0.0.1 5 127.0.0.1 22"),
        ]);
        assert_eq!(
            (gitolite.repository.as_str(), gitolite.protocol.as_str()),
            ("trail", "ssh")
        );
        assert_eq!(gitolite.pusher.map(|p| p.login), Some("alice".to_owned()));
        let http = info(&[("REMOTE_USER", "bob"), ("GATEWAY_INTERFACE", "CGI/1.1")]);
        assert_eq!(
            (http.repository.as_str(), http.protocol.as_str()),
            ("/srv/git/a.git", "http")
        );
        assert_eq!(info(&[]).protocol, "unknown");
        assert!(info(&[]).pusher.is_none());
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
}
