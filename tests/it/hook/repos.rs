//! Rules for some repositories (`repos`): matched against the host's name
//! for the repository, or the git directory relative to
//! `settings.repos_root`; a repository whose name trailgate cannot tell is
//! judged by every rule with `repos`, which rejects ("repository name
//! unknown") rather than silently not applying.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;

const MAIN: &str = "refs/heads/main";

/// A rule for the repositories `repos` names: every commit on main needs a
/// `Ticket:` trailer.
fn ticket_rule(repos: &str) -> String {
    format!(
        r#"
[[rule]]
name = "payments-need-tickets"
refs = ["refs/heads/main"]
repos = {repos}
require = {{ trailers = [ {{ key = "Ticket", value = "^PAY-[0-9]+$" }} ] }}
"#
    )
}

/// A policy with `settings` (TOML lines, may be empty) and [`ticket_rule`].
fn repos_policy(settings: &str, repos: &str) -> String {
    policy(&format!("[settings]\n{settings}\n{}", ticket_rule(repos)))
}

fn root_setting(w: &World) -> String {
    format!("repos_root = \"{}\"", w.root.display())
}

#[test]
fn a_rule_judges_the_repository_its_repos_name_under_repos_root() {
    // server.git directly under repos_root is named "server".
    let w = World::new();
    w.install_hook();
    w.write_policy(&repos_policy(
        &root_setting(&w),
        r#"["server", "infra/**"]"#,
    ));
    let (_, run) = w.push_rejected(&CAROL, "No ticket\n", 1);
    run.assert_says("payments-need-tickets")
        .assert_says("Ticket");
    // With the trailer it passes: the rule judged the commit, nothing else.
    w.reset_to_origin();
    w.push_accepted(&CAROL, &msg("With a ticket", &["Ticket: PAY-12"]));
}

#[test]
fn a_rule_leaves_repositories_its_repos_do_not_name_alone() {
    let w = World::new();
    w.install_hook();
    w.write_policy(&repos_policy(
        &root_setting(&w),
        r#"["acme/payments", "serv", "server/**", "*/server"]"#,
    ));
    w.push_accepted(&CAROL, "No ticket, and no rule for this repository\n");
}

#[test]
fn an_unknown_repository_name_makes_rules_with_repos_reject() {
    // No host variable and no repos_root: trailgate cannot tell which
    // repository this is. Even a commit the rule would accept is refused,
    // and only the rule with `repos` says so.
    let w = World::new();
    w.install_hook();
    let text = policy(&format!(
        "{}{}",
        ticket_rule(r#"["acme/payments"]"#),
        r#"
[[rule]]
name = "everywhere"
refs = ["refs/heads/main"]
deny = ["delete"]
"#
    ));
    w.write_policy(&text);
    let (_, run) = w.push_rejected(&CAROL, &msg("Has a ticket", &["Ticket: PAY-1"]), 1);
    run.assert_says("repository name unknown")
        .assert_says("payments-need-tickets")
        .assert_says("GL_PROJECT_PATH")
        .assert_says("settings.repos_root")
        .assert_silent_about("everywhere");
}

#[test]
fn a_repository_outside_repos_root_is_unknown_and_rejected() {
    let w = World::new();
    w.install_hook();
    let elsewhere = w.root.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    w.write_policy(&repos_policy(
        &format!("repos_root = \"{}\"", elsewhere.display()),
        r#"["**"]"#,
    ));
    let (_, run) = w.push_rejected(&CAROL, &msg("Has a ticket", &["Ticket: PAY-1"]), 1);
    run.assert_says("repository name unknown")
        .assert_says("not under settings.repos_root");
}

#[test]
fn the_hosts_name_for_the_repository_wins_over_its_path() {
    // GitLab names the repository GL_PROJECT_PATH (its git directory is a
    // hashed path); git push over the file transport hands the variable to
    // the hook as GitLab would.
    let w = World::new();
    w.install_hook();
    w.write_policy(&repos_policy(&root_setting(&w), r#"["acme/**"]"#));
    let before = w.server_ref(MAIN);
    w.commit(&CAROL, "No ticket\n");
    w.push_env(&["origin", "main"], &[("GL_PROJECT_PATH", "acme/payments")])
        .assert_rejected_with(1)
        .assert_says("payments-need-tickets");
    w.assert_server_ref(MAIN, before.as_deref());
    // Another project of the same server is not covered; "server", the
    // path's name, no longer counts once the host names the repository.
    w.push_env(&["origin", "main"], &[("GL_PROJECT_PATH", "tools/lint")])
        .assert_accepted();
    // gitolite's GL_REPO and Gitea's owner/name are read the same way.
    w.commit(&CAROL, "Still no ticket\n");
    w.push_env(&["origin", "main"], &[("GL_REPO", "acme/cli")])
        .assert_rejected_with(1);
    w.push_env(
        &["origin", "main"],
        &[("GITEA_REPO_USER_NAME", "acme"), ("GITEA_REPO_NAME", "web")],
    )
    .assert_rejected_with(1);
}

#[test]
fn a_symlink_or_dotdot_path_does_not_rename_the_repository() {
    // A pusher who may push to a path under repos_root cannot dodge the
    // rule for `server` by pushing through another name for it.
    let w = World::new();
    w.install_hook();
    w.write_policy(&repos_policy(&root_setting(&w), r#"["server"]"#));
    std::os::unix::fs::symlink(&w.server, w.root.join("alias.git")).unwrap();
    std::fs::create_dir_all(w.root.join("sub")).unwrap();
    w.commit(&CAROL, "No ticket\n");
    for url in [
        w.root.join("alias.git"),
        w.root.join("sub").join("..").join("server.git"),
    ] {
        w.push(&[url.to_str().unwrap(), "main"])
            .assert_rejected_with(1)
            .assert_says("payments-need-tickets");
    }
}

#[test]
fn the_audit_log_records_the_name_rules_are_matched_against() {
    let w = World::new();
    w.install_hook();
    let log = w.root.join("audit.jsonl");
    w.write_policy(&repos_policy(
        &format!("{}\naudit_log = \"{}\"", root_setting(&w), log.display()),
        r#"["server"]"#,
    ));
    w.push_rejected(&CAROL, "No ticket\n", 1);
    let text = std::fs::read_to_string(&log).unwrap();
    let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(line["repository"], "server", "{text}");
}

#[test]
fn check_repo_lists_the_rules_that_apply_to_a_repository() {
    let w = World::new();
    let text = policy(&format!(
        "{}{}",
        ticket_rule(r#"["acme/payments", "infra/**"]"#),
        r#"
[[rule]]
name = "everywhere"
deny = ["delete"]

[[rule]]
name = "switched-off"
mode = "off"
deny = ["delete"]
"#
    ));
    let path = w.root.join("policy.toml");
    std::fs::write(&path, text).unwrap();
    let path = path.to_str().unwrap();
    let check = |name: &str| {
        w.trailgate(
            &w.root,
            &["check", "--config", path, "--repo", name],
            "",
            &[],
        )
    };
    let run = check("acme/payments");
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("rules for repository acme/payments: payments-need-tickets, everywhere\n"),
        "{}",
        run.dump()
    );
    let run = check("infra/dns/zones");
    assert!(
        run.stdout.contains("payments-need-tickets, everywhere"),
        "{}",
        run.dump()
    );
    let run = check("acme/web");
    assert!(
        run.stdout
            .contains("rules for repository acme/web: everywhere\n"),
        "{}",
        run.dump()
    );
    let run = w.trailgate(
        &w.root,
        &[
            "check", "--config", path, "--repo", "infra/x", "--format", "json",
        ],
        "",
        &[],
    );
    let out: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(out["repository"], "infra/x");
    assert_eq!(
        out["repository_rules"],
        serde_json::json!(["payments-need-tickets", "everywhere"])
    );
}

#[test]
fn repos_that_can_never_match_are_errors_at_their_place() {
    let w = World::new();
    let path = w.root.join("policy.toml");
    let cases: [(&str, &str); 4] = [
        ("repos = []", "matches no repository"),
        (r#"repos = ["/acme/payments"]"#, "starts with `/`"),
        (r#"repos = ["acme/payments.git"]"#, "ends in `.git`"),
        (r#"repos = ["acme/[pay"]"#, "invalid repository glob"),
    ];
    for (line, says) in cases {
        let text = format!("version = 1\n\n[[rule]]\nname = \"r\"\n{line}\ndeny = [\"delete\"]\n");
        std::fs::write(&path, text).unwrap();
        w.trailgate(
            &w.root,
            &["check", "--config", path.to_str().unwrap()],
            "",
            &[],
        )
        .assert_code(2)
        .assert_says(says)
        .assert_cites("policy.toml", 5, &[9, 10]);
    }
    std::fs::write(&path, "version = 1\n[settings]\nrepos_root = \"srv/git\"\n").unwrap();
    w.trailgate(
        &w.root,
        &["check", "--config", path.to_str().unwrap()],
        "",
        &[],
    )
    .assert_code(2)
    .assert_says("repos_root must be an absolute path")
    .assert_cites("policy.toml", 3, &[14]);
}
