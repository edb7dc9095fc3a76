//! Gitea and Forgejo: the pusher is `GITEA_PUSHER_NAME` (with
//! `GITEA_PUSHER_EMAIL`), the repository `GITEA_REPO_USER_NAME/GITEA_REPO_NAME`.
//! Gitea runs every executable in a repository's `hooks/pre-receive.d/`,
//! next to its own `gitea` hook there; it has no shared hooks folder.

use super::{never, none, set, HookEnv, Host, Layout};
use crate::push::{Identified, Pusher};

pub(super) const HOST: Host = Host {
    name: "gitea",
    pusher_variables: &["GITEA_PUSHER_NAME"],
    pusher,
    repository_variables: &["GITEA_REPO_USER_NAME", "GITEA_REPO_NAME"],
    repository,
    protocol: none,
    runs_hook: never,
    line_prefix: "",
    layout: Some(&LAYOUT),
};

pub(super) const LAYOUT: Layout = Layout {
    name: "gitea",
    about: "Gitea and Forgejo: REPO.git/hooks/pre-receive.d/",
    in_repository: "hooks/pre-receive.d/trailgate",
    in_folder: None,
    follows_hooks_path: false,
    hook_files: &[],
    hook_dirs: &["hooks/pre-receive.d"],
    line_prefix: "",
};

fn pusher(env: &HookEnv) -> Option<Pusher> {
    Some(Pusher {
        login: env.value("GITEA_PUSHER_NAME")?.to_owned(),
        email: set(env, "GITEA_PUSHER_EMAIL"),
        source: "GITEA_PUSHER_NAME",
        by: Identified::Login,
    })
}

fn repository(env: &HookEnv) -> Option<String> {
    let owner = set(env, "GITEA_REPO_USER_NAME")?;
    let name = set(env, "GITEA_REPO_NAME")?;
    Some(format!("{owner}/{name}"))
}
