//! Plain bare repositories over ssh or the file transport: an ssh session
//! (`SSH_CONNECTION`, `SSH_CLIENT`) says the protocol, and git runs
//! `hooks/pre-receive` (or the one in the folder `core.hooksPath` names).
//!
//! No variable names the pusher. On a server where each engineer has a Unix
//! account and pushes over ssh, sshd authenticated them and git runs the
//! hook as their account: when the push came over ssh (`SSH_CONNECTION`
//! set, which sshd sets and a client cannot send), the pusher is the
//! account of the process's real uid, never `USER` or `LOGNAME` (a client
//! can send those with `SendEnv` where sshd accepts them). This host comes
//! last: any host variable, or a verified push certificate, names the
//! pusher first.

use super::{never, none, HookEnv, Host, Layout};
use crate::push::{Identified, Pusher};

/// What the audit log and messages name as the pusher's source.
pub(super) const SOURCE: &str = "ssh account (real uid)";

pub(super) const HOST: Host = Host {
    name: "ssh",
    pusher_variables: &[],
    pusher,
    repository_variables: &[],
    repository: none,
    protocol,
    runs_hook: never,
    line_prefix: "",
    layout: Some(&PLAIN),
};

/// The layout git itself runs hooks from; gitolite and smart HTTP use it too.
pub(super) const PLAIN: Layout = Layout {
    name: "plain",
    about: "A bare repository's hooks/pre-receive, or a core.hooksPath folder",
    in_repository: "hooks/pre-receive",
    in_folder: Some("pre-receive"),
    follows_hooks_path: true,
    hook_files: &["hooks/pre-receive"],
    hook_dirs: &[],
    line_prefix: "",
};

fn protocol(env: &HookEnv) -> Option<String> {
    (super::set(env, "SSH_CONNECTION").is_some() || super::set(env, "SSH_CLIENT").is_some())
        .then(|| "ssh".to_owned())
}

/// The account of the real uid, for a push that came over ssh.
fn pusher(env: &HookEnv) -> Option<Pusher> {
    super::set(env, "SSH_CONNECTION")?;
    let uid = real_uid()?;
    Some(Pusher {
        login: account_name(&std::fs::read_to_string("/etc/passwd").ok()?, uid)?,
        email: None,
        source: SOURCE,
        by: Identified::Login,
    })
}

/// The process's real uid, as `getuid(2)` returns it: the first field of
/// the `Uid:` line of `/proc/self/status` (real, effective, saved, file
/// system). `None` where there is no such file.
fn real_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The name of `uid` in a passwd file's text; `None` when no line has it
/// (an account known only to NSS, such as LDAP, is not found, and the push
/// then has no pusher rather than a made-up one).
fn account_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let _password = f.next()?;
        (f.next()?.parse() == Ok(uid) && !name.is_empty()).then(|| name.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_is_the_passwd_line_of_the_uid() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      # a comment\n\
                      alice:x:1001:1001::/home/alice:/bin/sh\n\
                      :x:1002:1002::/:/bin/sh\n";
        assert_eq!(account_name(passwd, 1001).as_deref(), Some("alice"));
        assert_eq!(account_name(passwd, 0).as_deref(), Some("root"));
        assert_eq!(account_name(passwd, 1002), None);
        assert_eq!(account_name(passwd, 7), None);
    }

    #[test]
    fn only_an_ssh_session_names_the_account_and_user_does_not() {
        let me = std::fs::read_to_string("/etc/passwd")
            .ok()
            .and_then(|p| account_name(&p, real_uid()?));
        let ssh = HookEnv::from_pairs([
            ("SSH_CONNECTION", "127.0.0.1 50000 127.0.0.1 22"),
            ("USER", "somebody-else"),
            ("LOGNAME", "somebody-else"),
        ]);
        assert_eq!(pusher(&ssh).map(|p| p.login), me);
        assert!(pusher(&HookEnv::from_pairs([("USER", "alice")])).is_none());
    }
}
