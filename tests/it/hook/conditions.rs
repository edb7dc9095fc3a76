//! The other `when` conditions and `require.trailers` of issue 2:
//! `ai_declared`, `message`, `merge`, and required trailers with a value regex.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;

const MAIN: &str = "refs/heads/main";

fn rule(name: &str, when: &str, require: &str) -> String {
    format!(
        r#"
[[rule]]
name = "{name}"
message = "Rule {name} says no."
refs = ["refs/heads/main"]
when = {when}
require = {require}
"#
    )
}

const SENIOR_APPROVAL: &str = r#"{ approvals = { from = ["senior"], count = 1 } }"#;

#[test]
fn required_trailer_must_be_present_with_a_matching_value() {
    let w = World::with_policy(&policy(
        r#"
[[rule]]
name = "declare-ai-use"
message = "Say whether AI helped: AI-Assisted: yes or no."
refs = ["refs/heads/main"]
require = { trailers = [ { key = "AI-Assisted", value = "(?i)^(yes|no)$" } ] }
"#,
    ));
    w.push_accepted(&CAROL, &msg("Declared", &["ai-assisted: No"]));

    let (missing, out) = w.push_rejected(&CAROL, &msg("Undeclared", &[]), 1);
    out.assert_violation("error", "declare-ai-use", MAIN, &missing, "Undeclared");

    w.reset_to_origin();
    let (wrong, out) = w.push_rejected(&CAROL, &msg("Vague", &["AI-Assisted: maybe"]), 1);
    out.assert_violation("error", "declare-ai-use", MAIN, &wrong, "Vague");
}

#[test]
fn when_ai_declared_selects_commits_with_a_positive_ai_trailer() {
    let w = World::with_policy(&policy(&rule(
        "declared-ai",
        "{ ai_declared = true }",
        SENIOR_APPROVAL,
    )));
    w.commit(&CAROL, &msg("Declared no", &["AI-Assisted: no"]));
    w.push_accepted(&CAROL, &msg("Nothing declared", &[]));

    let (bad, out) = w.push_rejected(&CAROL, &msg("Declared yes", &["AI-Assisted: yes"]), 1);
    out.assert_violation("error", "declared-ai", MAIN, &bad, "Declared yes");
}

#[test]
fn when_message_selects_commits_by_regex() {
    let w = World::with_policy(&policy(&rule(
        "hotfix-needs-approval",
        r#"{ message = "(?m)^hotfix:" }"#,
        SENIOR_APPROVAL,
    )));
    w.push_accepted(&CAROL, &msg("Ordinary fix", &[]));

    let subject = "hotfix: stop the bleeding";
    let (bad, out) = w.push_rejected(&CAROL, &msg(subject, &[]), 1);
    out.assert_violation("error", "hotfix-needs-approval", MAIN, &bad, subject);

    w.reset_to_origin();
    w.push_accepted(&CAROL, &msg(subject, &[&approved_by(&BOB)]));
}

#[test]
fn when_merge_selects_merge_commits_only() {
    let w = World::with_policy(&policy(&rule(
        "merges-need-approval",
        "{ merge = true }",
        SENIOR_APPROVAL,
    )));
    let base = w.server_ref(MAIN).unwrap();
    w.git(&["checkout", "-q", "-b", "topic"]);
    let topic = w.commit(&CAROL, &msg("Topic work", &[]));
    w.git(&["checkout", "-q", "main"]);
    w.commit(&CAROL, &msg("Work on main", &[]));
    let subject = "Merge branch 'topic'";
    let merge = w.merge(&CAROL, "topic", &format!("{subject}\n"));
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_violation("error", "merges-need-approval", MAIN, &merge, subject)
        .assert_silent_about(&topic[..7]);
    w.assert_server_ref(MAIN, Some(&base));

    w.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let merge = w.merge(
        &CAROL,
        "topic",
        &format!("{subject}\n\n{}\n", approved_by(&ALICE)),
    );
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&merge));
}
