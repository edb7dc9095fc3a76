//! GitLab (self-managed) server hooks: the pusher is `GL_USERNAME`, the
//! repository `GL_PROJECT_PATH`, the protocol `GL_PROTOCOL`; only lines
//! starting with `GL-HOOK-ERR: ` reach the pusher (in the terminal and the
//! web interface). Hooks live in a repository's `custom_hooks/pre-receive.d/`
//! or in the global folder Gitaly's `custom_hooks_dir` names.
//!
//! `GL_ID` is GitLab's immutable id for the user (`user-42`), which a
//! renamed account keeps and a reused login does not get; a deploy key
//! pushes as `key-7`, and names nobody.

use super::{login, set, HookEnv, Host, Layout};
use crate::push::{Identified, Pusher};

pub(super) const HOST: Host = Host {
    name: "gitlab",
    pusher_variables: &["GL_USERNAME"],
    other_variables: &["GL_ID", "GL_PROJECT_PATH", "GL_PROTOCOL", "GL_REPOSITORY"],
    pusher,
    repository_variables: &["GL_PROJECT_PATH"],
    repository: |env| set(env, "GL_PROJECT_PATH"),
    protocol: |env| set(env, "GL_PROTOCOL"),
    runs_hook,
    line_prefix: "GL-HOOK-ERR: ",
    layout: Some(&LAYOUT),
};

pub(super) const LAYOUT: Layout = Layout {
    name: "gitlab",
    about:
        "GitLab server hooks: REPO.git/custom_hooks/pre-receive.d/, or the global custom_hooks_dir",
    in_repository: "custom_hooks/pre-receive.d/trailgate",
    in_folder: Some("pre-receive.d/trailgate"),
    follows_hooks_path: false,
    hook_files: &["custom_hooks/pre-receive"],
    hook_dirs: &["custom_hooks/pre-receive.d"],
    line_prefix: "GL-HOOK-ERR: ",
};

fn pusher(env: &HookEnv) -> Option<Pusher> {
    let mut p = login(env, "GL_USERNAME", "gitlab")?;
    match env.value("GL_ID") {
        Some(id) if id.starts_with("key-") => p.by = Identified::DeployKey,
        Some(id) => p.user_id = Some(id.to_owned()),
        None => {}
    }
    Some(p)
}

/// GitLab sets `GL_ID` (and `GL_PROTOCOL`) for every hook it runs.
fn runs_hook(env: &HookEnv) -> bool {
    env.get("GL_ID").is_some() || env.get("GL_PROTOCOL").is_some()
}
