//! `trailgate status ROOT`: real repositories of every kind under one
//! folder (trailgate installed, no hook, a core.hooksPath that bypasses
//! it, another hook, another policy, ...), and the exit code a monitoring
//! check reads.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use crate::support::*;

struct Server {
    w: World,
    root: PathBuf,
    policy: PathBuf,
}

impl Server {
    fn new() -> Server {
        let w = World::new();
        let root = w.root.join("srv");
        std::fs::create_dir_all(&root).unwrap();
        let policy = w.root.join("policy.toml");
        std::fs::write(&policy, policy_text()).unwrap();
        Server { w, root, policy }
    }

    /// A bare repository `NAME.git` under the root (folders allowed).
    fn repo(&self, name: &str) -> PathBuf {
        let path = self.root.join(format!("{name}.git"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        self.w
            .run_git(
                &self.w.root,
                &["init", "-q", "--bare", path.to_str().unwrap()],
            )
            .assert_code(0);
        path
    }

    fn install(&self, repo: &Path, extra: &[&str]) {
        let mut args = vec!["install"];
        args.extend_from_slice(extra);
        args.push(repo.to_str().unwrap());
        self.w
            .trailgate(&self.w.root, &args, "", &[])
            .assert_code(0);
    }

    fn status(&self, extra: &[&str], env: &[(&str, &str)]) -> Run {
        let mut args = vec!["status"];
        args.extend_from_slice(extra);
        args.push(self.root.to_str().unwrap());
        self.w.trailgate(&self.w.root, &args, "", env)
    }
}

fn policy_text() -> String {
    policy("[[rule]]\nname = \"protect-main\"\nrefs = [\"refs/heads/main\"]\ndeny = [\"delete\"]\n")
}

fn write_hook(path: &Path, text: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Every kind of repository, each named after the status it must get.
fn every_kind(s: &Server) {
    let config = s.policy.to_str().unwrap();
    let ok = s.repo("acme/ok");
    s.install(&ok, &["--config", config]);
    let gitlab = s.repo("acme/ok-gitlab");
    s.install(&gitlab, &["--layout", "gitlab", "--config", config]);
    // A symbolic link to the binary; the repository's trailgate.toml is
    // a link to the policy.
    let linked = s.repo("ok-symlink");
    std::os::unix::fs::symlink(&s.policy, linked.join("trailgate.toml")).unwrap();
    std::os::unix::fs::symlink(TRAILGATE, linked.join("hooks/pre-receive")).unwrap();
    s.repo("missing");
    let foreign = s.repo("foreign");
    write_hook(
        &foreign.join("hooks/pre-receive"),
        "#!/bin/sh\nexit 0\n",
        0o755,
    );
    // trailgate is installed, but the repository's own config sends git
    // to another folder of hooks, which has a harmless-looking hook.
    let bypassed = s.repo("bypassed");
    s.install(&bypassed, &["--config", config]);
    let elsewhere = s.w.root.join("other-hooks");
    write_hook(&elsewhere.join("pre-receive"), "#!/bin/sh\nexit 0\n", 0o755);
    s.w.run_git(
        &bypassed,
        &["config", "core.hooksPath", elsewhere.to_str().unwrap()],
    )
    .assert_code(0);
    let unexecutable = s.repo("not-executable");
    s.install(&unexecutable, &["--config", config]);
    let hook = unexecutable.join("hooks/pre-receive");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o644)).unwrap();
    let other = s.repo("other-policy");
    let other_policy = s.w.root.join("other.toml");
    std::fs::write(&other_policy, policy_text()).unwrap();
    s.install(&other, &["--config", other_policy.to_str().unwrap()]);
    let none = s.repo("no-policy");
    std::os::unix::fs::symlink(TRAILGATE, none.join("hooks/pre-receive")).unwrap();
}

#[test]
fn status_names_every_repository_that_a_push_would_not_be_judged_in() {
    let s = Server::new();
    every_kind(&s);
    let run = s.status(&["--config", s.policy.to_str().unwrap()], &[]);
    run.assert_code(1);
    for line in run.stdout.lines().skip(1) {
        let (kind, rest) = line.split_once(' ').unwrap();
        let name = rest.trim_start().split(':').next().unwrap();
        let expected = Path::new(name)
            .file_stem()
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches("-gitlab")
            .trim_end_matches("-symlink");
        assert_eq!(kind, expected, "{line}\n{}", run.stdout);
    }
    assert_eq!(run.stdout.lines().count(), 10, "{}", run.stdout);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
        .set_description("trailgate status ROOT --config POLICY over one repository of each kind");
    settings.add_filter(&regex::escape(&s.w.root.display().to_string()), "<tmp>");
    settings.add_filter(&regex::escape(TRAILGATE), "<trailgate>");
    settings.bind(|| insta::assert_snapshot!("status", run.stdout));

    let json = s.status(&["--format", "json"], &[]);
    json.assert_code(1);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["repositories"].as_array().unwrap().len(), 9);
    // Without --config another policy is no problem: the three ok ones
    // and other-policy.
    assert_eq!(v["ok"], 4, "{v}");
}

#[test]
fn a_server_where_every_repository_is_judged_exits_0() {
    let s = Server::new();
    let repo = s.repo("acme/payments");
    s.install(&repo, &["--config", s.policy.to_str().unwrap()]);
    s.status(&[], &[])
        .assert_code(0)
        .assert_says("1 repository, 1 judged by trailgate, 0 not");
    // A push really is judged there: the status is not a guess.
    let url = repo.to_str().unwrap();
    s.w.run_git(&s.w.work, &["push", url, "main"])
        .assert_code(0);
    s.w.run_git(&s.w.work, &["push", url, ":main"])
        .assert_code(1)
        .assert_says("protect-main");
}

#[test]
fn a_global_core_hooks_path_bypasses_every_repository() {
    // The user's global configuration (git config --global) counts too:
    // git's own answer, for the user status runs as.
    let s = Server::new();
    let repo = s.repo("acme/payments");
    s.install(&repo, &["--config", s.policy.to_str().unwrap()]);
    let global = s.w.root.join("global.gitconfig");
    std::fs::write(&global, "[core]\n\thooksPath = /nonexistent/hooks\n").unwrap();
    let run = s.status(&[], &[("GIT_CONFIG_GLOBAL", global.to_str().unwrap())]);
    run.assert_code(1)
        .assert_says("bypassed")
        .assert_says("core.hooksPath = /nonexistent/hooks")
        .assert_says("global.gitconfig");
}

#[test]
fn status_of_a_folder_without_repositories_cannot_tell() {
    let s = Server::new();
    s.status(&[], &[])
        .assert_code(2)
        .assert_says("holds no git repository");
    let missing = s.w.root.join("nope");
    s.w.trailgate(&s.w.root, &["status", missing.to_str().unwrap()], "", &[])
        .assert_code(2)
        .assert_says("no such folder");
}
