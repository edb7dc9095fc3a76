//! GitHub Enterprise Server pre-receive hooks: the pusher is
//! `GITHUB_USER_LOGIN`, the repository `GITHUB_REPO_NAME`, the protocol
//! `GITHUB_VIA`. Hooks are uploaded through the site admin settings, not
//! installed into repositories, so there is no install layout.

use super::{login, never, set, Host};

pub(super) const HOST: Host = Host {
    name: "github",
    pusher_variables: &["GITHUB_USER_LOGIN"],
    other_variables: &["GITHUB_REPO_NAME", "GITHUB_VIA"],
    pusher: |env| login(env, "GITHUB_USER_LOGIN", "github"),
    repository_variables: &["GITHUB_REPO_NAME"],
    repository: |env| set(env, "GITHUB_REPO_NAME"),
    protocol: |env| set(env, "GITHUB_VIA"),
    runs_hook: never,
    line_prefix: "",
    layout: None,
};
