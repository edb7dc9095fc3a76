//! Plain bare repositories over ssh or the file transport: an ssh session
//! (`SSH_CONNECTION`, `SSH_CLIENT`) says the protocol, and git runs
//! `hooks/pre-receive` (or the one in the folder `core.hooksPath` names).
//! No variable names the pusher.

use super::{never, no_pusher, none, HookEnv, Host, Layout};

pub(super) const HOST: Host = Host {
    name: "ssh",
    pusher_variables: &[],
    pusher: no_pusher,
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
