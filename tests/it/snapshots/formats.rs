//! The other forms of the report: GitLab's `GL-HOOK-ERR: ` prefix, the JSON
//! of `pre-receive --format json` and `verify --format json`, `verify`'s
//! text, and what a pusher sees when the policy itself is broken.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::{Stage, Transcript};
use crate::support::*;

#[test]
fn under_gitlab_every_line_of_a_rejection_and_a_warning_carries_the_prefix() {
    let s = Stage::guarded(&policy(&format!(
        "{SENIOR_RULE}{}",
        r#"
[[rule]]
name = "declare-ai-use"
mode = "warn"
message = "Say whether AI helped."
refs = ["refs/heads/main"]
require = { trailers = [ { key = "AI-Assisted", value = "(?i)^(yes|no)$" } ] }
"#
    )));
    s.commit(
        &CAROL,
        &msg("Unapproved under GitLab", &["AI-Assisted: yes"]),
    );
    s.commit(&CAROL, &msg("Undeclared under GitLab", &[]));
    let env = [("GL_ID", "user-1"), ("GL_PROTOCOL", "ssh")];
    let run = s.push(&["origin", "main"], &env);
    run.assert_rejected();
    Transcript::new(&s)
        .push("GL_ID and GL_PROTOCOL set", &run)
        .check(
            "gitlab_prefixed",
            "GitLab: every line for the pusher starts with `GL-HOOK-ERR: `",
        );
}

#[test]
fn pre_receive_json_reports_a_rejection_and_an_acceptance() {
    let s = Stage::new();
    s.install_json_hook();
    s.write_policy(&policy(SENIOR_RULE));
    s.commit(
        &CAROL,
        &msg(
            "Approved change",
            &["AI-Assisted: yes", &approved_by(&ALICE)],
        ),
    );
    s.commit(&DAVE, &msg("Unapproved change", &["AI-Assisted: yes"]));
    let mut t = Transcript::new(&s);
    let rejected = s.push(&["origin", "main"], &[]);
    rejected.assert_rejected();
    t.json_push("rejected: one approved commit, one not", &rejected);

    s.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let accepted = s.push(&["origin", "main"], &[]);
    accepted.assert_accepted();
    t.json_push("accepted: the approved commit alone", &accepted);

    // Cannot judge (exit 2): the text on stderr for the pusher, and the one
    // JSON object `{"decision": "error", "error": ...}` on stdout.
    s.write_policy("version = 1\n[settings\n");
    s.commit(&DAVE, &msg("Any change", &[]));
    let failed = s.push(&["origin", "main"], &[]);
    failed.assert_rejected();
    t.push("cannot judge: the policy does not parse", &failed);
    t.check(
        "pre_receive_json",
        "`trailgate pre-receive --format json` as the hook, its stdout relayed by git: \
         a rejection, an acceptance, and a push it cannot judge",
    );
}

/// The senior rule in `policy.toml` beside the clone, for `verify`.
fn verify_stage() -> (Stage, String) {
    let s = Stage::new();
    let path = s.root.join("policy.toml");
    std::fs::write(&path, policy(SENIOR_RULE)).unwrap();
    (s, path.display().to_string())
}

#[test]
fn verify_json_reports_a_rejection_and_an_acceptance() {
    let (s, config) = verify_stage();
    s.commit(
        &CAROL,
        &msg(
            "Approved change",
            &["AI-Assisted: yes", &approved_by(&ALICE)],
        ),
    );
    s.commit(&DAVE, &msg("Unapproved change", &["AI-Assisted: yes"]));
    let mut t = Transcript::new(&s);
    for (title, range, code) in [
        ("rejected: both commits", "origin/main..HEAD", 1),
        (
            "accepted: the approved commit alone",
            "origin/main..HEAD~1",
            0,
        ),
    ] {
        let run = s.trailgate(&["verify", "--config", &config, "--format", "json", range]);
        run.assert_code(code);
        assert!(run.stderr.is_empty(), "{}", run.dump());
        t.json(title, &run, &run.stdout);
    }
    t.check("verify_json", "`trailgate verify --format json` in a clone");
}

#[test]
fn verify_text_speaks_of_commits_rather_than_a_push() {
    let (s, config) = verify_stage();
    s.commit(&DAVE, &msg("Unapproved change", &["AI-Assisted: yes"]));
    let run = s.trailgate(&["verify", "--config", &config, "origin/main..HEAD"]);
    run.assert_code(1);
    Transcript::new(&s)
        .command("verify in a clone", &run)
        .check("verify_text", "`trailgate verify` text report in a clone");
}

#[test]
fn a_broken_policy_rejects_the_push_naming_each_problem() {
    let s = Stage::guarded(&policy(SENIOR_RULE));
    s.commit(&CAROL, &msg("Any change", &[]));
    let mut t = Transcript::new(&s);
    let cases = [
        (
            "a TOML syntax error",
            "version = 1\n[settings\nmode = \"enforce\"\n".to_owned(),
        ),
        (
            "a misspelled key",
            policy(&SENIOR_RULE.replace("require = ", "requires = ")),
        ),
        (
            "an unknown group, a bad regex and a duplicate rule name, all at once",
            policy(&format!(
                "{}{}",
                SENIOR_RULE.replace(
                    "author_not_in = [\"senior\"]",
                    "author_not_in = [\"seniors\"]"
                ),
                SENIOR_RULE.replace(
                    "require = { approvals = { from = [\"senior\"], count = 1 } }",
                    "require = { trailers = [ { key = \"AI-Assisted\", value = \"(yes\" } ] }",
                ),
            )),
        ),
    ];
    for (title, text) in cases {
        s.write_policy(&text);
        let run = s.push(&["origin", "main"], &[]);
        run.assert_rejected();
        t.push(title, &run);
    }
    let policy_file = s.server.join("trailgate.toml");
    let check = s.trailgate_in(
        &s.server,
        &["check", "--config", policy_file.to_str().unwrap()],
    );
    check.assert_code(2);
    t.command("`trailgate check` on the last one", &check);
    t.check(
        "invalid_policy",
        "broken policies: the push fails closed and names file:line:column",
    );
}

#[test]
fn no_policy_anywhere_rejects_the_push_naming_the_paths_tried() {
    let s = Stage::new();
    s.install_hook();
    s.commit(&CAROL, &msg("Any change", &[]));
    let run = s.push(&["origin", "main"], &[]);
    run.assert_rejected();
    Transcript::new(&s)
        .push("no trailgate.toml, no TRAILGATE_CONFIG", &run)
        .check("no_policy", "the hook finds no policy and fails closed");
}
