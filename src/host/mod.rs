//! The git hosts trailgate runs under, one file each: the variables a host
//! names the pusher in, its name for the repository, the protocol it says
//! was used, the prefix it wants on every line a pusher must read, and where
//! it runs hooks from (its install layout).
//!
//! [`HOSTS`] lists them in precedence order: the first host whose variables
//! name a pusher is the one believed. The hook's environment is read once,
//! at start, into a [`HookEnv`]; nothing else reads host variables.
//! A new host is one file here and one line in [`HOSTS`].

mod gitea;
mod github;
mod gitlab;
mod gitolite;
mod http;
mod push_cert;
mod ssh;

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::push::{PushInfo, Pusher};

/// What a host tells a hook, and where it runs hooks from.
pub struct Host {
    pub name: &'static str,
    /// The variables read for the pusher, in the order they are tried.
    pub pusher_variables: &'static [&'static str],
    /// Its other variables (the repository's name, ids), for reporting
    /// them when another host is configured.
    pub other_variables: &'static [&'static str],
    /// Who pushed, as this host says.
    pub pusher: fn(&HookEnv) -> Option<Pusher>,
    /// The variables this host names the repository in.
    pub repository_variables: &'static [&'static str],
    /// This host's name for the repository.
    pub repository: fn(&HookEnv) -> Option<String>,
    /// The protocol the push came over, as far as this host tells.
    pub protocol: fn(&HookEnv) -> Option<String>,
    /// Whether the hook runs under this host (for `line_prefix`).
    pub runs_hook: fn(&HookEnv) -> bool,
    /// What every line meant for the pusher starts with under this host.
    pub line_prefix: &'static str,
    /// Where `trailgate install --layout NAME` puts the hook for this host.
    pub layout: Option<&'static Layout>,
}

/// The hosts, in precedence order.
pub const HOSTS: &[&Host] = &[
    &gitlab::HOST,
    &github::HOST,
    &gitea::HOST,
    &gitolite::HOST,
    &http::HOST,
    &push_cert::HOST,
    // Last: the real uid's account names the pusher only when nothing else does.
    &ssh::HOST,
];

/// Where a host runs pre-receive hooks from.
pub struct Layout {
    /// The `--layout` value.
    pub name: &'static str,
    /// What it is, for `--help`.
    pub about: &'static str,
    /// The hook's path inside a repository's git directory.
    pub in_repository: &'static str,
    /// The hook's path inside a folder of hooks shared by many
    /// repositories; `None` when the host has no such folder.
    pub in_folder: Option<&'static str>,
    /// Whether git's `core.hooksPath` decides where a repository's hooks are
    /// (when git itself runs them).
    pub follows_hooks_path: bool,
    /// Hook files of a repository this host runs, and folders whose every
    /// file it runs (for `trailgate check`'s permission warnings).
    pub hook_files: &'static [&'static str],
    pub hook_dirs: &'static [&'static str],
    /// What every line the installed shim prints starts with.
    pub line_prefix: &'static str,
}

impl Layout {
    /// Whether the hook is the only one the host runs there (not one file
    /// of a `pre-receive.d` folder), so that a foreign file in its place is
    /// worth mentioning.
    pub fn is_sole_hook(&self) -> bool {
        !self.in_repository.contains(".d/")
    }
}

/// The install layouts, in the order `--layout` lists them.
pub const LAYOUTS: &[&Layout] = &[&ssh::PLAIN, &gitlab::LAYOUT, &gitea::LAYOUT];

/// The layout named `name`.
pub fn layout(name: &str) -> Option<&'static Layout> {
    LAYOUTS.iter().copied().find(|l| l.name == name)
}

/// The environment git and the host gave the hook, read once.
#[derive(Debug, Clone, Default)]
pub struct HookEnv {
    vars: BTreeMap<OsString, OsString>,
}

impl HookEnv {
    /// The process's environment, as it is now.
    pub fn capture() -> HookEnv {
        HookEnv {
            vars: std::env::vars_os().collect(),
        }
    }

    /// An environment of these variables (for tests and callers that have one).
    pub fn from_pairs<K: Into<OsString>, V: Into<OsString>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> HookEnv {
        HookEnv {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// A variable, if it is set and valid UTF-8 (as `std::env::var` reads it).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(OsStr::new(name))?.to_str()
    }

    /// A variable that is set to something other than blanks, trimmed.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// A variable as the operating system gave it (for paths).
    pub fn get_os(&self, name: &str) -> Option<&OsStr> {
        self.vars.get(OsStr::new(name)).map(OsString::as_os_str)
    }

    /// The object directories git announces to a pre-receive hook: the
    /// push's quarantine and the repository's own.
    pub fn object_dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        for var in ["GIT_QUARANTINE_PATH", "GIT_OBJECT_DIRECTORY"] {
            dirs.extend(self.get_os(var).map(PathBuf::from));
        }
        if let Some(list) = self.get_os("GIT_ALTERNATE_OBJECT_DIRECTORIES") {
            dirs.extend(std::env::split_paths(list));
        }
        dirs
    }

    /// Whether the push's objects are in git's quarantine.
    pub fn quarantined(&self) -> bool {
        self.get_os("GIT_QUARANTINE_PATH").is_some()
    }

    /// The repository's git directory as git told the hook (`GIT_DIR`, else
    /// the working directory), made absolute so that messages name a real
    /// path rather than git's `GIT_DIR=.`.
    pub fn git_dir(&self) -> PathBuf {
        let dir = self
            .get_os("GIT_DIR")
            .map_or_else(|| PathBuf::from("."), PathBuf::from);
        std::fs::canonicalize(&dir).unwrap_or(dir)
    }

    /// The push options (`git push -o ...`, which needs
    /// `receive.advertisePushOptions` on the server).
    pub fn push_options(&self) -> Vec<String> {
        let count = self
            .get("GIT_PUSH_OPTION_COUNT")
            .and_then(|c| c.trim().parse::<usize>().ok())
            .unwrap_or(0);
        // git caps push options far below this; a larger count is not git's.
        (0..count.min(1000))
            .filter_map(|i| self.get(&format!("GIT_PUSH_OPTION_{i}")).map(str::to_owned))
            .collect()
    }
}

/// Whether a host's variables are read when the policy names `only` as
/// its host (`settings.host`). A signed push certificate is read under
/// every host: trailgate verifies it itself, whatever the transport.
fn reads(h: &Host, only: Option<&str>) -> bool {
    only.is_none_or(|name| h.name == name) || h.name == push_cert::HOST.name
}

/// The pusher, as the first host (in precedence order) that names one says;
/// with `only` (`settings.host`), only that host is asked.
pub fn pusher(env: &HookEnv, only: Option<&str>) -> Option<Pusher> {
    HOSTS
        .iter()
        .filter(|h| reads(h, only))
        .find_map(|h| (h.pusher)(env))
}

/// Every variable read for the pusher, in the order they are tried.
pub fn pusher_variables(only: Option<&str>) -> Vec<&'static str> {
    HOSTS
        .iter()
        .filter(|h| reads(h, only))
        .flat_map(|h| h.pusher_variables.iter().copied())
        .collect()
}

/// The variables of other hosts than `only` that are set, and so were
/// ignored: worth reporting, since something in the hook's environment
/// claims to be a host it is not.
pub fn ignored_variables(env: &HookEnv, only: Option<&str>) -> Vec<&'static str> {
    if only.is_none() {
        return Vec::new();
    }
    HOSTS
        .iter()
        .filter(|h| !reads(h, only))
        .flat_map(|h| h.pusher_variables.iter().chain(h.other_variables))
        .copied()
        .filter(|v| env.value(v).is_some())
        .collect()
}

/// What every line meant for the pusher starts with (`GL-HOOK-ERR: `
/// under GitLab).
pub fn line_prefix(env: &HookEnv) -> &'static str {
    HOSTS
        .iter()
        .find(|h| !h.line_prefix.is_empty() && (h.runs_hook)(env))
        .map_or("", |h| h.line_prefix)
}

/// Every variable read for the repository's name, in the order they are
/// tried; with `only` (`settings.host`), that host's.
pub fn repository_variables(only: Option<&str>) -> Vec<&'static str> {
    HOSTS
        .iter()
        .filter(|h| reads(h, only))
        .flat_map(|h| h.repository_variables.iter().copied())
        .collect()
}

/// The repository's name, what `repos` is matched against and the audit
/// log records: the first host (in precedence order; with `only`, that
/// host) that names it, else the git directory relative to `repos_root`
/// without its `.git` (`/srv/git/acme/payments.git` under `/srv/git` is
/// `acme/payments`). `None` when neither says: a git directory outside
/// `repos_root`, or no `repos_root`. Both paths are compared as the file
/// system resolves them, so that a symlink or `..` does not name another
/// repository.
pub fn repository_name(
    env: &HookEnv,
    git_dir: &Path,
    repos_root: Option<&Path>,
    only: Option<&str>,
) -> Option<String> {
    if let Some(name) = HOSTS
        .iter()
        .filter(|h| reads(h, only))
        .find_map(|h| (h.repository)(env))
    {
        return Some(name);
    }
    let root = std::fs::canonicalize(repos_root?).ok()?;
    let dir = std::fs::canonicalize(git_dir).ok()?;
    let relative = dir.strip_prefix(&root).ok()?.to_str()?;
    let name = relative.strip_suffix(".git").unwrap_or(relative);
    let name = name.strip_suffix("/.git").unwrap_or(name);
    (!name.is_empty()).then(|| name.to_owned())
}

/// Who pushed where, as the host told the hook (with `only`,
/// `settings.host`, as that host told it); the repository is named as
/// [`repository_name`] says, else by its git directory.
pub fn push_info(
    env: &HookEnv,
    git_dir: &Path,
    repos_root: Option<&Path>,
    only: Option<&str>,
) -> PushInfo {
    let repository = repository_name(env, git_dir, repos_root, only)
        .unwrap_or_else(|| git_dir.display().to_string());
    let protocol = HOSTS
        .iter()
        .filter(|h| reads(h, only))
        .find_map(|h| (h.protocol)(env))
        .unwrap_or_else(|| "unknown".to_owned());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    PushInfo {
        repository,
        git_dir: git_dir.display().to_string(),
        pusher: pusher(env, only),
        pusher_key: None,
        protocol,
        push_id: format!("{:x}-{:x}", now.as_nanos(), std::process::id()),
        notes: Vec::new(),
    }
}

/// A pusher named by a login in `var` (trimmed), as most hosts do.
fn login(env: &HookEnv, var: &'static str, host: &'static str) -> Option<Pusher> {
    Some(Pusher {
        login: env.value(var)?.to_owned(),
        email: None,
        source: var,
        by: crate::push::Identified::Login,
        user_id: None,
        host,
    })
}

/// A variable that is set to something other than blanks, as it is.
fn set(env: &HookEnv, var: &str) -> Option<String> {
    env.get(var)
        .filter(|v| !v.trim().is_empty())
        .map(str::to_owned)
}

fn none(_: &HookEnv) -> Option<String> {
    None
}

fn never(_: &HookEnv) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> HookEnv {
        HookEnv::from_pairs(vars.iter().copied())
    }

    #[test]
    fn the_pusher_is_read_in_host_order() {
        let p = pusher(
            &env(&[("GL_USER", "gitolite-user"), ("REMOTE_USER", "http-user")]),
            None,
        )
        .unwrap();
        assert_eq!((p.login.as_str(), p.source), ("gitolite-user", "GL_USER"));
        assert!(pusher(&env(&[]), None).is_none());
        let p = pusher(
            &env(&[
                ("GITEA_PUSHER_NAME", "alice1"),
                ("GITEA_PUSHER_EMAIL", "alice@example.com"),
                ("GITEA_PUSHER_ID", "17"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(p.email.as_deref(), Some("alice@example.com"));
        assert_eq!((p.user_id.as_deref(), p.host), (Some("17"), "gitea"));
        assert_eq!(
            pusher_variables(None),
            [
                "GL_USERNAME",
                "GITHUB_USER_LOGIN",
                "GITEA_PUSHER_NAME",
                "GL_USER",
                "REMOTE_USER",
                "GIT_PUSH_CERT",
                "SSH_CONNECTION"
            ]
        );
    }

    #[test]
    fn with_settings_host_only_that_hosts_variables_are_read_and_the_others_reported() {
        let e = env(&[
            ("GL_USERNAME", "alice"),
            ("GL_PROJECT_PATH", "acme/pay"),
            ("REMOTE_USER", "carol"),
        ]);
        assert_eq!(pusher(&e, None).unwrap().login, "alice");
        assert_eq!(pusher(&e, Some("http")).unwrap().login, "carol");
        assert_eq!(
            ignored_variables(&e, Some("http")),
            ["GL_USERNAME", "GL_PROJECT_PATH"]
        );
        assert!(ignored_variables(&e, None).is_empty());
        assert_eq!(
            pusher_variables(Some("http")),
            ["REMOTE_USER", "GIT_PUSH_CERT"]
        );
        // The repository's name is that host's too: GL_PROJECT_PATH cannot
        // dodge a `repos` rule on an http server.
        let info = push_info(&e, Path::new("/srv/git/a.git"), None, Some("http"));
        assert_eq!(info.repository, "/srv/git/a.git");
        assert!(pusher(&e, Some("gitolite")).is_none());
    }

    #[test]
    fn deploy_keys_and_immutable_ids() {
        let gitlab = pusher(&env(&[("GL_USERNAME", "a"), ("GL_ID", "user-42")]), None).unwrap();
        assert_eq!(gitlab.user_id.as_deref(), Some("user-42"));
        let key = pusher(&env(&[("GL_USERNAME", "a"), ("GL_ID", "key-7")]), None).unwrap();
        assert_eq!(key.by, crate::push::Identified::DeployKey);
        let gitea = |id: &str| {
            pusher(
                &env(&[("GITEA_PUSHER_NAME", "owner"), ("GITEA_DEPLOY_KEY_ID", id)]),
                None,
            )
            .unwrap()
            .by
        };
        assert_eq!(gitea("0"), crate::push::Identified::Login);
        assert_eq!(gitea("3"), crate::push::Identified::DeployKey);
    }

    #[test]
    fn blank_variables_name_nobody() {
        assert!(pusher(&env(&[("GL_USERNAME", "  ")]), None).is_none());
        let p = pusher(&env(&[("GL_USERNAME", " carol ")]), None).unwrap();
        assert_eq!(p.login, "carol");
    }

    #[test]
    fn a_push_certificate_is_only_named_until_verified_and_gits_verdict_is_never_read() {
        let claimed = [
            ("GIT_PUSH_CERT_KEY", "SHA256:abc"),
            ("GIT_PUSH_CERT_STATUS", "G"),
            ("GIT_PUSH_CERT_NONCE_STATUS", "OK"),
        ];
        assert!(pusher(&env(&claimed), None).is_none());
        let mut with_cert = claimed.to_vec();
        with_cert.push(("GIT_PUSH_CERT", "1111111111111111111111111111111111111111"));
        let p = pusher(&env(&with_cert), None).unwrap();
        assert_eq!(p.by, crate::push::Identified::Certificate);
        // Read under any settings.host.
        assert!(pusher(&env(&with_cert), Some("gitlab")).is_some());
        // A host variable wins over a certificate.
        with_cert.push(("REMOTE_USER", "bob"));
        assert_eq!(
            pusher(&env(&with_cert), None).unwrap().source,
            "REMOTE_USER"
        );
    }

    #[test]
    fn gitlab_wants_its_prefix_and_no_other_host_does() {
        assert_eq!(line_prefix(&env(&[("GL_ID", "user-1")])), "GL-HOOK-ERR: ");
        assert_eq!(
            line_prefix(&env(&[("GL_PROTOCOL", "web")])),
            "GL-HOOK-ERR: "
        );
        assert_eq!(line_prefix(&env(&[("GL_USER", "gitolite")])), "");
        assert_eq!(line_prefix(&env(&[])), "");
    }

    fn info(vars: &[(&str, &str)]) -> PushInfo {
        push_info(&env(vars), Path::new("/srv/git/a.git"), None, None)
    }

    #[test]
    fn push_info_reads_each_hosts_names_for_repository_and_protocol() {
        let gitlab = info(&[
            ("GL_USERNAME", "carol"),
            ("GL_PROTOCOL", "web"),
            ("GL_PROJECT_PATH", "acme/pay"),
        ]);
        assert_eq!(
            (gitlab.repository.as_str(), gitlab.protocol.as_str()),
            ("acme/pay", "web")
        );
        let github = info(&[("GITHUB_REPO_NAME", "acme/pay"), ("GITHUB_VIA", "git")]);
        assert_eq!(
            (github.repository.as_str(), github.protocol.as_str()),
            ("acme/pay", "git")
        );
        let gitea = info(&[
            ("GITEA_PUSHER_NAME", "c"),
            ("GITEA_REPO_USER_NAME", "acme"),
            ("GITEA_REPO_NAME", "pay"),
        ]);
        assert_eq!(gitea.repository, "acme/pay");
        let gitolite = info(&[
            ("GL_USER", "alice"),
            ("GL_REPO", "trail"),
            ("SSH_CONNECTION", "127.0.0.1 5 127.0.0.1 22"),
        ]);
        assert_eq!(
            (gitolite.repository.as_str(), gitolite.protocol.as_str()),
            ("trail", "ssh")
        );
        assert_eq!(gitolite.pusher.map(|p| p.login), Some("alice".to_owned()));
        let http = info(&[("REMOTE_USER", "bob"), ("GATEWAY_INTERFACE", "CGI/1.1")]);
        assert_eq!(
            (http.repository.as_str(), http.protocol.as_str()),
            ("/srv/git/a.git", "http")
        );
        assert_eq!(info(&[]).protocol, "unknown");
        assert!(info(&[]).pusher.is_none());
    }

    #[test]
    fn push_options_are_read_up_to_their_count() {
        let e = env(&[
            ("GIT_PUSH_OPTION_COUNT", "2"),
            ("GIT_PUSH_OPTION_0", "a"),
            ("GIT_PUSH_OPTION_1", "b=c"),
            ("GIT_PUSH_OPTION_2", "not counted"),
        ]);
        assert_eq!(e.push_options(), ["a", "b=c"]);
        assert!(env(&[("GIT_PUSH_OPTION_0", "a")]).push_options().is_empty());
    }

    #[test]
    fn every_layout_is_found_by_its_name() {
        for l in LAYOUTS {
            assert_eq!(layout(l.name).map(|f| f.name), Some(l.name));
        }
        assert!(layout("nope").is_none());
    }
}
