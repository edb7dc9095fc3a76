//! The merge-request flow on GitLab, GitHub Enterprise Server and Gitea,
//! emulated: each host merges in a clone of its own and pushes the result
//! with the merging user as the pusher (GitLab: `GL_USERNAME`, `GL_PROTOCOL
//! = web`; GHES: `GITHUB_USER_LOGIN`, `GITHUB_VIA = pull request merge
//! button` and the pull-request variables; Gitea: `GITEA_PUSHER_NAME` of the
//! doer, `GITEA_PR_ID`, `GITEA_PUSH_TRIGGER = pr-merge-to-base`). Under
//! `proof = "pusher"` the senior who merges a junior's request is the
//! approval; the junior merging their own is not. Each scenario runs for
//! every host: a merge commit, a squash (whose trailers survive only if the
//! host's squash template keeps them), a rebase merge.

use super::*;

/// A host's variables for a web merge of request 5 by `login`.
struct Host {
    name: &'static str,
    env: fn(&'static str) -> Vec<(&'static str, &'static str)>,
}

const HOSTS: &[Host] = &[
    Host {
        name: "gitlab",
        env: |login| {
            vec![
                (
                    "GL_ID",
                    if login == "alice-s" {
                        "user-1"
                    } else {
                        "user-3"
                    },
                ),
                ("GL_USERNAME", login),
                ("GL_PROTOCOL", "web"),
                ("GL_REPOSITORY", "project-7"),
                ("GL_PROJECT_PATH", "acme/payments"),
            ]
        },
    },
    Host {
        name: "github",
        env: |login| {
            vec![
                ("GITHUB_USER_LOGIN", login),
                ("GITHUB_REPO_NAME", "acme/payments"),
                ("GITHUB_VIA", "pull request merge button"),
                ("GITHUB_PULL_REQUEST_AUTHOR_LOGIN", "carol-j"),
                ("GITHUB_PULL_REQUEST_HEAD", "carol-j:feature"),
                ("GITHUB_PULL_REQUEST_BASE", "acme:main"),
            ]
        },
    },
    Host {
        name: "gitea",
        env: |login| {
            vec![
                ("GITEA_PUSHER_NAME", login),
                (
                    "GITEA_PUSHER_ID",
                    if login == "alice-s" { "1" } else { "3" },
                ),
                ("GITEA_REPO_USER_NAME", "acme"),
                ("GITEA_REPO_NAME", "payments"),
                ("GITEA_PR_ID", "5"),
                ("GITEA_PUSH_TRIGGER", "pr-merge-to-base"),
                ("SSH_ORIGINAL_COMMAND", "gitea-internal"),
                ("GITEA_DEPLOY_KEY_ID", "0"),
            ]
        },
    },
];

const SENIOR: &str = "alice-s";
const JUNIOR: &str = "carol-j";

fn mr_policy(host: &str, log: &Path, extra: &str) -> String {
    format!(
        r#"version = 1
[settings]
host = "{host}"
audit_log = "{}"

[people.alice]
name = "Alice Senior"
emails = ["alice@example.com"]
logins = ["{SENIOR}"]

[people.carol]
name = "Carol"
emails = ["carol@example.com"]
logins = ["{JUNIOR}"]

[groups]
senior = ["alice"]

[[rule]]
name = "ai-needs-a-senior"
refs = ["refs/heads/main"]
when = {{ ai_assisted = true }}
require = {{ approvals = {{ from = ["senior"], proof = "pusher" }} }}
{extra}"#,
        log.display()
    )
}

/// A world under `host`'s rules whose `feature` branch (pushed by the
/// junior, unjudged: only main is guarded) holds two AI-assisted commits of
/// the junior's; the clone is back on `main`. Returns the two commits.
fn request(host: &Host, extra: &str) -> (World, PathBuf, [String; 2]) {
    let w = World::new();
    w.install_hook();
    let log = w.root.join("audit.jsonl");
    w.write_policy(&mr_policy(host.name, &log, extra));
    w.git(&["checkout", "-q", "-b", "feature"]);
    let a = w.commit(&CAROL, &msg("Add the parser", &["AI-Assisted: yes"]));
    let b = w.commit(&CAROL, &msg("Wire the parser in", &["AI-Assisted: yes"]));
    w.push_env(&["origin", "feature"], &(host.env)(JUNIOR))
        .assert_accepted_silently();
    w.git(&["checkout", "-q", "main"]);
    (w, log, [a, b])
}

/// The host's committer for a web merge by `login`.
fn merger(login: &str) -> Person {
    if login == SENIOR {
        ALICE
    } else {
        CAROL
    }
}

fn as_committer(p: &Person) -> [(&'static str, &'static str); 2] {
    [
        ("GIT_COMMITTER_NAME", p.name),
        ("GIT_COMMITTER_EMAIL", p.email),
    ]
}

/// The web interface's merge commit (author and committer: the merging user).
fn merge_commit(w: &World, login: &str) -> String {
    w.merge(
        &merger(login),
        "feature",
        "Merge branch 'feature' into 'main'\n\nAdd the parser\n\nSee merge request acme/payments!5\n",
    )
}

/// The web interface's squash: the request's author keeps authorship, the
/// merging user commits, and the message is what the squash template makes.
fn squash(w: &World, login: &str, message: &str) -> String {
    w.git(&["merge", "-q", "--squash", "feature"]);
    let file = w.root.join("squash-message.txt");
    std::fs::write(&file, message).unwrap();
    let mut env = vec![
        ("GIT_AUTHOR_NAME", CAROL.name),
        ("GIT_AUTHOR_EMAIL", CAROL.email),
    ];
    env.extend(as_committer(&merger(login)));
    w.run_git_env(
        &w.work,
        &["commit", "-q", "-F", file.to_str().unwrap()],
        &env,
    )
    .assert_code(0);
    w.git(&["rev-parse", "HEAD"])
}

/// The web interface's rebase merge: main moved on (a senior's commit),
/// the request's commits are replayed onto it with the merging user as
/// committer, and main fast-forwards to them.
fn rebase_merge(w: &World, host: &Host, login: &str) -> String {
    w.commit(&ALICE, &msg("Meanwhile on main", &[]));
    w.push_env(&["origin", "main"], &(host.env)(SENIOR))
        .assert_accepted_silently();
    w.git(&["checkout", "-q", "feature"]);
    w.run_git_env(
        &w.work,
        &["rebase", "-q", "main"],
        &as_committer(&merger(login)),
    )
    .assert_code(0);
    let tip = w.git(&["rev-parse", "HEAD"]);
    w.git(&["checkout", "-q", "main"]);
    w.git(&["merge", "-q", "--ff-only", "feature"]);
    tip
}

fn last_pusher(log: &Path) -> serde_json::Value {
    read_audit(log).pop().unwrap()["pusher"].clone()
}

/// Trailers kept: GitLab `%{title}\n\n%{description}` with the trailers at
/// the end of the description, GitHub "Pull request title and
/// description", Gitea's `.gitea/default_merge_message/SQUASH_TEMPLATE.md`
/// with `${PullRequestDescription}`.
const SQUASH_KEEPING_TRAILERS: &str =
    "Add the parser (!5)\n\nParses the new format.\n\nAI-Assisted: yes\n";
/// GitLab's default squash template (`%{title}`): the trailers are gone.
const SQUASH_TITLE_ONLY: &str = "Add the parser (!5)\n";

#[test]
fn a_senior_merging_a_juniors_request_is_the_approval_and_the_junior_merging_it_is_not() {
    for host in HOSTS {
        let (w, log, [a, b]) = request(host, "");
        let before = w.server_ref("refs/heads/main");
        merge_commit(&w, JUNIOR);
        let refused = w.push_env(&["origin", "main"], &(host.env)(JUNIOR));
        refused
            .assert_rejected_with(2)
            .assert_violation("error", "ai-needs-a-senior", "main", &a, "Add the parser")
            .assert_violation(
                "error",
                "ai-needs-a-senior",
                "main",
                &b,
                "Wire the parser in",
            );
        w.assert_server_ref("refs/heads/main", before.as_deref());
        assert_eq!(last_pusher(&log), JUNIOR, "{}", host.name);

        w.git(&["reset", "-q", "--hard", "origin/main"]);
        let merged = merge_commit(&w, SENIOR);
        w.push_env(&["origin", "main"], &(host.env)(SENIOR))
            .assert_accepted_silently();
        w.assert_server_ref("refs/heads/main", Some(&merged));
        assert_eq!(last_pusher(&log), SENIOR, "{}", host.name);
    }
}

#[test]
fn a_squash_keeps_the_declaration_only_if_the_template_keeps_the_trailers() {
    for host in HOSTS {
        // The template keeps the trailers: judged as AI-assisted, so only
        // a senior's merge goes through.
        let (w, _log, _) = request(host, "");
        let before = w.server_ref("refs/heads/main");
        let squashed = squash(&w, JUNIOR, SQUASH_KEEPING_TRAILERS);
        w.push_env(&["origin", "main"], &(host.env)(JUNIOR))
            .assert_rejected_with(1)
            .assert_violation(
                "error",
                "ai-needs-a-senior",
                "main",
                &squashed,
                "Add the parser (!5)",
            );
        w.assert_server_ref("refs/heads/main", before.as_deref());
        w.git(&["reset", "-q", "--hard", "origin/main"]);
        let squashed = squash(&w, SENIOR, SQUASH_KEEPING_TRAILERS);
        w.push_env(&["origin", "main"], &(host.env)(SENIOR))
            .assert_accepted_silently();
        w.assert_server_ref("refs/heads/main", Some(&squashed));

        // The default template drops them: the squash no longer declares AI
        // use and the junior's own merge passes this rule. Why the README
        // asks for a template that keeps them, or the rule below.
        let (w, _log, _) = request(host, "");
        let squashed = squash(&w, JUNIOR, SQUASH_TITLE_ONLY);
        w.push_env(&["origin", "main"], &(host.env)(JUNIOR))
            .assert_accepted_silently();
        w.assert_server_ref("refs/heads/main", Some(&squashed));
    }
}

/// The README's recommendation for a merge-request flow: on the protected
/// branch, every new commit needs a senior as its pusher, whatever its
/// message says, so a template that drops trailers opens nothing.
const MERGED_BY_A_SENIOR: &str = r#"
[[rule]]
name = "main-is-merged-by-seniors"
refs = ["refs/heads/main"]
require = { approvals = { from = ["senior"], proof = "pusher" } }
"#;

#[test]
fn requiring_a_senior_pusher_on_main_closes_the_squash_template_gap() {
    for host in HOSTS {
        let (w, _log, _) = request(host, MERGED_BY_A_SENIOR);
        let before = w.server_ref("refs/heads/main");
        let squashed = squash(&w, JUNIOR, SQUASH_TITLE_ONLY);
        w.push_env(&["origin", "main"], &(host.env)(JUNIOR))
            .assert_rejected_with(1)
            .assert_violation(
                "error",
                "main-is-merged-by-seniors",
                "main",
                &squashed,
                "Add the parser (!5)",
            );
        w.assert_server_ref("refs/heads/main", before.as_deref());
        w.git(&["reset", "-q", "--hard", "origin/main"]);
        let squashed = squash(&w, SENIOR, SQUASH_TITLE_ONLY);
        w.push_env(&["origin", "main"], &(host.env)(SENIOR))
            .assert_accepted_silently();
        w.assert_server_ref("refs/heads/main", Some(&squashed));
    }
}

#[test]
fn a_rebase_merge_is_approved_by_the_senior_who_merges_it() {
    for host in HOSTS {
        let (w, log, _) = request(host, "");
        let before = w.server_ref("refs/heads/main");
        let tip = rebase_merge(&w, host, JUNIOR);
        let refused = w.push_env(&["origin", "main"], &(host.env)(JUNIOR));
        // Both replayed commits, the junior's, have no approval.
        let first = w.git(&["rev-parse", &format!("{tip}~1")]);
        refused
            .assert_rejected_with(2)
            .assert_violation(
                "error",
                "ai-needs-a-senior",
                "main",
                &first,
                "Add the parser",
            )
            .assert_violation(
                "error",
                "ai-needs-a-senior",
                "main",
                &tip,
                "Wire the parser in",
            );
        assert_ne!(
            w.server_ref("refs/heads/main").as_deref(),
            Some(tip.as_str())
        );
        assert_ne!(
            w.server_ref("refs/heads/main"),
            before,
            "main moved on first"
        );
        assert_eq!(last_pusher(&log), JUNIOR, "{}", host.name);

        let (w, log, _) = request(host, "");
        let tip = rebase_merge(&w, host, SENIOR);
        w.push_env(&["origin", "main"], &(host.env)(SENIOR))
            .assert_accepted_silently();
        w.assert_server_ref("refs/heads/main", Some(&tip));
        assert_eq!(last_pusher(&log), SENIOR, "{}", host.name);
    }
}
