//! Gitea and Forgejo: the pusher is `GITEA_PUSHER_NAME`, with the immutable
//! user id `GITEA_PUSHER_ID` and the address `GITEA_PUSHER_EMAIL` (which
//! identifies only under `settings.trust_host_emails`: users set their own
//! addresses), the repository `GITEA_REPO_USER_NAME/GITEA_REPO_NAME`. A push
//! with a deploy key (`GITEA_DEPLOY_KEY_ID` not 0) reports the repository's
//! owner as the pusher, so it names nobody.
//! Gitea runs every executable in a repository's `hooks/pre-receive.d/`,
//! next to its own `gitea` hook there; it has no shared hooks folder.

use super::{never, none, set, HookEnv, Host, Layout};
use crate::push::{Identified, Pusher};

pub(super) const HOST: Host = Host {
    name: "gitea",
    pusher_variables: &["GITEA_PUSHER_NAME"],
    other_variables: &[
        "GITEA_PUSHER_ID",
        "GITEA_PUSHER_EMAIL",
        "GITEA_REPO_USER_NAME",
        "GITEA_REPO_NAME",
    ],
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
    let deploy_key = env.value("GITEA_DEPLOY_KEY_ID").is_some_and(|id| id != "0");
    Some(Pusher {
        login: env.value("GITEA_PUSHER_NAME")?.to_owned(),
        email: set(env, "GITEA_PUSHER_EMAIL"),
        source: "GITEA_PUSHER_NAME",
        by: if deploy_key {
            Identified::DeployKey
        } else {
            Identified::Login
        },
        user_id: env.value("GITEA_PUSHER_ID").map(str::to_owned),
        host: "gitea",
    })
}

fn repository(env: &HookEnv) -> Option<String> {
    let owner = set(env, "GITEA_REPO_USER_NAME")?;
    let name = set(env, "GITEA_REPO_NAME")?;
    Some(format!("{owner}/{name}"))
}
