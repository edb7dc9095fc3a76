//! The syslog sink (`settings.audit_syslog`): each audit line also goes,
//! as one datagram, to the local syslog socket (`/dev/log`, where journald
//! or rsyslog listen), for hosts whose logs are collected centrally.
//!
//! The message is the form glibc's `syslog(3)` sends to `/dev/log` (RFC
//! 3164's, without the host name, which the local daemon adds):
//! `<PRI>Mmm dd hh:mm:ss trailgate[PID]: {json}`, facility `authpriv`
//! (an audit trail of who pushed what), severity `info` for an accepted
//! push, `notice` for a rejected one and `err` for one that could not be
//! judged. Both journald and rsyslog parse it; the time is UTC (journald
//! and rsyslog keep their own receive time anyway).

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::SystemTime;

/// `LOG_AUTHPRIV`, in the units of the priority value (facility * 8).
const AUTHPRIV: u8 = 10 << 3;

/// How severe a push's lines are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// `LOG_INFO`: accepted.
    Info = 6,
    /// `LOG_NOTICE`: rejected by the policy.
    Notice = 5,
    /// `LOG_ERR`: could not be judged.
    Err = 3,
}

/// Sends each line of `lines` (audit records, one per line) as one
/// datagram to the Unix datagram socket at `socket`.
pub fn send(
    socket: &Path,
    lines: &str,
    severity: Severity,
    time: SystemTime,
) -> std::io::Result<()> {
    let sock = UnixDatagram::unbound()?;
    let header = format!(
        "<{}>{} trailgate[{}]: ",
        AUTHPRIV | severity as u8,
        timestamp(time),
        std::process::id()
    );
    for line in lines.lines() {
        let mut message = Vec::with_capacity(header.len() + line.len());
        message.extend_from_slice(header.as_bytes());
        message.extend_from_slice(line.as_bytes());
        sock.send_to(&message, socket)?;
    }
    Ok(())
}

/// RFC 3164's `Mmm dd hh:mm:ss` (the day padded with a space), in UTC.
fn timestamp(time: SystemTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // `YYYY-MM-DDTHH:MM:SS.mmmZ`
    let full = super::rfc3339(time);
    let month = full
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
        .copied()
        .unwrap_or("Jan");
    let day = full
        .get(8..10)
        .and_then(|d| d.parse::<u8>().ok())
        .unwrap_or(1);
    let clock = full.get(11..19).unwrap_or("00:00:00");
    format!("{month} {day:>2} {clock}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timestamps_are_rfc_3164s() {
        let t = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789);
        assert_eq!(timestamp(t), "Feb 29 12:34:56");
        assert_eq!(timestamp(UNIX_EPOCH), "Jan  1 00:00:00");
    }

    #[test]
    fn each_line_is_one_datagram_with_priority_and_tag() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.sock");
        let server = UnixDatagram::bind(&path).unwrap();
        send(
            &path,
            "{\"a\":1}\n{\"b\":2}\n",
            Severity::Notice,
            UNIX_EPOCH,
        )
        .unwrap();
        let mut buf = [0u8; 256];
        let pid = std::process::id();
        for want in ["{\"a\":1}", "{\"b\":2}"] {
            let n = server.recv(&mut buf).unwrap();
            assert_eq!(
                std::str::from_utf8(&buf[..n]).unwrap(),
                format!("<85>Jan  1 00:00:00 trailgate[{pid}]: {want}")
            );
        }
    }
}
