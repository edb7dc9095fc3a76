//! gitolite: the pusher is `GL_USER` (the name of the key that
//! authenticated), the repository `GL_REPO`. Pushes come over ssh (see
//! [`super::ssh`] for the protocol); hooks go into
//! `~git/.gitolite/hooks/common`, which is a plain hooks folder.

use super::{login, never, none, set, Host};

pub(super) const HOST: Host = Host {
    name: "gitolite",
    pusher_variables: &["GL_USER"],
    other_variables: &["GL_REPO"],
    pusher: |env| login(env, "GL_USER", "gitolite"),
    repository_variables: &["GL_REPO"],
    repository: |env| set(env, "GL_REPO"),
    protocol: none,
    runs_hook: never,
    line_prefix: "",
    layout: None,
};
