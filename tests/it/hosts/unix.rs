//! What the server tests that log in over ssh share: commands run as root
//! with a plain environment, throwaway system users and groups (removed when
//! dropped), ssh keys, and an sshd of the test's own on a free loopback port.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use super::*;

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A name no other test (or run) uses: `PREFIX-PID-N`, short enough for
/// useradd's 32 characters.
pub fn unique_name(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    )
}

/// Runs a command as root with a plain environment; asserts success.
pub fn sh(program: &Path, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("LANG", "C")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "`{} {}` failed: {}{}",
        program.display(),
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// [`sh`] for a program found on PATH.
pub fn run(program: &str, args: &[&str]) -> String {
    sh(Path::new(program), args)
}

/// A system user that exists for one test; removed when dropped.
pub struct ThrowawayUser {
    pub name: String,
}

impl ThrowawayUser {
    /// `useradd -m -d HOME -s SHELL NAME [-G GROUP]`, unlocked (with
    /// `UsePAM no`, sshd refuses a locked account).
    pub fn create(name: &str, home: &Path, shell: &str, group: Option<&str>) -> ThrowawayUser {
        let mut args = vec!["-m", "-d", home.to_str().unwrap(), "-s", shell];
        if let Some(g) = group {
            args.extend(["-G", g]);
        }
        args.push(name);
        run("useradd", &args);
        let user = ThrowawayUser {
            name: name.to_owned(),
        };
        run("usermod", &["-p", "*", name]);
        user
    }
}

impl Drop for ThrowawayUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel")
            .args(["-f", &self.name])
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .output();
    }
}

/// A system group that exists for one test; removed when dropped (after
/// its members: declare it before them).
pub struct ThrowawayGroup {
    pub name: String,
}

impl ThrowawayGroup {
    pub fn create(name: &str) -> ThrowawayGroup {
        run("groupadd", &[name]);
        ThrowawayGroup {
            name: name.to_owned(),
        }
    }
}

impl Drop for ThrowawayGroup {
    fn drop(&mut self) {
        let _ = Command::new("groupdel")
            .arg(&self.name)
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .output();
    }
}

/// A daemon known by its pid file; killed when dropped.
pub struct Daemon {
    pub pid_file: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.pid_file) {
            let _ = Command::new("kill").arg(pid.trim()).output();
        }
    }
}

/// An ed25519 key pair without passphrase at `path` (and `path.pub`).
pub fn keygen(path: &Path, comment: &str) {
    run(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            comment,
            "-f",
            path.to_str().unwrap(),
        ],
    );
}

/// Starts `sshd` as root on a free loopback port with a configuration of
/// its own in `dir` (host key, pid file, log), letting in only `users`, plus
/// `extra` configuration lines. Returns the daemon and its port.
pub fn start_sshd(sshd: &Path, dir: &Path, users: &[&str], extra: &str) -> (Daemon, u16) {
    let port = free_port();
    let host_key = dir.join("host_key");
    keygen(&host_key, "host");
    let daemon = Daemon {
        pid_file: dir.join("sshd.pid"),
    };
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\nStrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\nAllowUsers {}\n{extra}",
            host_key.display(),
            daemon.pid_file.display(),
            users.join(" ")
        ),
    )
    .unwrap();
    std::fs::create_dir_all("/run/sshd").unwrap();
    let log = dir.join("sshd.log");
    sh(
        sshd,
        &["-f", config.to_str().unwrap(), "-E", log.to_str().unwrap()],
    );
    wait_for_port(port, "sshd", &log);
    (daemon, port)
}

/// The `GIT_SSH_COMMAND` that logs in with `key` on `port`.
pub fn ssh_command(key: &Path, port: u16, extra: &str) -> String {
    format!(
        "ssh -i {} -p {port} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR {extra}",
        key.display()
    )
}
