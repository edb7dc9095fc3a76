//! Smart HTTP (`git http-backend` behind a web server): the web server
//! authenticates and git hands the user to the hook as `REMOTE_USER`; a CGI
//! request (`GATEWAY_INTERFACE`, `REQUEST_METHOD`) says the protocol.

use super::{login, never, none, set, HookEnv, Host};

pub(super) const HOST: Host = Host {
    name: "http",
    pusher_variables: &["REMOTE_USER"],
    other_variables: &[],
    pusher: |env| login(env, "REMOTE_USER", "http"),
    repository_variables: &[],
    repository: none,
    protocol,
    runs_hook: never,
    line_prefix: "",
    layout: None,
};

fn protocol(env: &HookEnv) -> Option<String> {
    (set(env, "GATEWAY_INTERFACE").is_some() || set(env, "REQUEST_METHOD").is_some())
        .then(|| "http".to_owned())
}
