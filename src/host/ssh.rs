//! Plain bare repositories over ssh or the file transport: an ssh session
//! (`SSH_CONNECTION`, `SSH_CLIENT`) says the protocol, and git runs
//! `hooks/pre-receive` (or the one in the folder `core.hooksPath` names).
//!
//! On plain ssh with one Unix account per engineer no variable names the
//! pusher: the account does. The pusher is the account of the process's
//! real uid (read from `/proc/self/status` and `/etc/passwd`), which no
//! variable can change; with one shared account (`git`) it names that
//! account, which is nobody's login unless a policy says so. Such accounts
//! need `git-shell` or a forced command, or the pusher can write the
//! repository directly (README "Identities"). Never `USER` or `LOGNAME`:
//! a client can send those with `SendEnv` where sshd accepts them. An
//! account known only to NSS (such as LDAP), with no `/etc/passwd` line,
//! is not found, and the push then has no pusher rather than a made-up one.
//! This host comes last: any host variable, or a verified push
//! certificate, names the pusher first.

use super::{never, none, HookEnv, Host, Layout};
use crate::push::{Identified, Pusher};

pub(super) const HOST: Host = Host {
    name: "ssh",
    pusher_variables: &["SSH_CONNECTION"],
    other_variables: &["SSH_CLIENT"],
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

/// The ssh session's account, by the real uid.
fn pusher(env: &HookEnv) -> Option<Pusher> {
    protocol(env)?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    Some(Pusher {
        login: account(&passwd, real_uid(&status)?)?,
        email: None,
        source: "SSH_CONNECTION (the account of the real uid)",
        by: Identified::Login,
        user_id: None,
        host: "ssh",
    })
}

/// The real uid of a `/proc/PID/status` text (`Uid: real effective ...`).
fn real_uid(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The account name of `uid` in an `/etc/passwd` text; `None` when no
/// line has it (an account known only to NSS).
fn account(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|l| {
        let mut fields = l.split(':');
        let name = fields.next()?;
        let _password = fields.next()?;
        let id: u32 = fields.next()?.parse().ok()?;
        (id == uid && !name.is_empty()).then(|| name.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_is_found_by_the_real_uid() {
        let status = "Name:\ttrailgate\nUid:\t1001\t0\t0\t0\nGid:\t1001\t1001\t1001\t1001\n";
        assert_eq!(real_uid(status), Some(1001));
        let passwd =
            "root:x:0:0:root:/root:/bin/bash\nalice:x:1001:1001::/home/alice:/usr/bin/git-shell\n";
        assert_eq!(account(passwd, 1001).as_deref(), Some("alice"));
        assert_eq!(account(passwd, 7), None);
        assert_eq!(real_uid("Uid: x\n"), None);
    }

    #[test]
    fn only_an_ssh_session_names_the_account() {
        assert!(pusher(&HookEnv::from_pairs([("X", "1")])).is_none());
        let p = pusher(&HookEnv::from_pairs([(
            "SSH_CONNECTION",
            "127.0.0.1 5 127.0.0.1 22",
        )]));
        // Wherever /proc and /etc/passwd exist, the account is this process's.
        if let Some(p) = p {
            assert_eq!(p.host, "ssh");
            assert!(!p.login.is_empty());
        }
    }

    #[test]
    fn the_account_is_the_passwd_line_of_the_uid() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      # a comment\n\
                      alice:x:1001:1001::/home/alice:/bin/sh\n\
                      :x:1002:1002::/:/bin/sh\n";
        assert_eq!(account(passwd, 1001).as_deref(), Some("alice"));
        assert_eq!(account(passwd, 0).as_deref(), Some("root"));
        assert_eq!(account(passwd, 1002), None);
        assert_eq!(account(passwd, 7), None);
    }

    #[test]
    fn user_and_logname_do_not_name_the_account() {
        let me = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| real_uid(&s))
            .and_then(|uid| account(&std::fs::read_to_string("/etc/passwd").ok()?, uid));
        let ssh = HookEnv::from_pairs([
            ("SSH_CONNECTION", "127.0.0.1 50000 127.0.0.1 22"),
            ("USER", "somebody-else"),
            ("LOGNAME", "somebody-else"),
        ]);
        assert_eq!(pusher(&ssh).map(|p| p.login), me);
        assert!(pusher(&HookEnv::from_pairs([("USER", "alice")])).is_none());
    }
}
