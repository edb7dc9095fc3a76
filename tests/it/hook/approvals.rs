//! Approvals: who may approve an AI-assisted commit, and what counts as an
//! approval (trailers parsed as git parses them), through real pushes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;

const RULE: &str = "ai-needs-senior-approval";
const MAIN: &str = "refs/heads/main";

fn senior_world() -> World {
    World::with_policy(&policy(SENIOR_RULE))
}

#[test]
fn commits_the_senior_rule_accepts() {
    let alice = approved_by(&ALICE);
    let bob = approved_by(&BOB);
    let cases: &[(&str, &Person, String)] = &[
        (
            "approved by a senior",
            &CAROL,
            msg("Add retries", &["AI-Assisted: yes", &alice]),
        ),
        (
            "approved by a senior listed by e-mail",
            &DAVE,
            msg("Cache the index", &["AI-Assisted: yes", &bob]),
        ),
        (
            "approved by bare e-mail",
            &CAROL,
            msg(
                "Bare e-mail",
                &["AI-Assisted: yes", "Approved-By: bob@example.com"],
            ),
        ),
        (
            "approved by person id",
            &CAROL,
            msg("Person id", &["AI-Assisted: yes", "Approved-By: alice"]),
        ),
        (
            "approved by host login",
            &CAROL,
            msg("Login", &["AI-Assisted: yes", "Approved-By: alice-s"]),
        ),
        (
            "approver's e-mail in another case",
            &CAROL,
            msg(
                "Shouted approval",
                &[
                    "AI-Assisted: yes",
                    "Approved-By: Alice Senior <ALICE@Example.COM>",
                ],
            ),
        ),
        (
            "no AI declaration",
            &CAROL,
            msg("Fix a typo", &["Signed-off-by: Carol <carol@example.com>"]),
        ),
        (
            "AI assistance declared absent",
            &CAROL,
            msg("Fix a typo", &["AI-Assisted: no"]),
        ),
        (
            "written by a senior",
            &ALICE,
            msg("Senior work", &["AI-Assisted: yes"]),
        ),
        (
            "a declaration in the middle of the message, not in the trailer block",
            &CAROL,
            "Mention the trailer in prose\n\nAI-Assisted: yes\n\n\
             The line above is in the middle of the message, not in the trailer block.\n"
                .to_owned(),
        ),
    ];
    let w = senior_world();
    for (case, author, message) in cases {
        eprintln!("case: {case}");
        w.push_accepted(author, message);
    }
}

#[test]
fn ai_commit_approved_by_a_non_member_is_rejected_naming_rule_and_commit() {
    let w = senior_world();
    let subject = "Add retries to the uploader";
    let (oid, out) = w.push_rejected(
        &CAROL,
        &msg(subject, &["AI-Assisted: yes", &approved_by(&DAVE)]),
        1,
    );
    out.assert_violation("error", RULE, MAIN, &oid, subject)
        .assert_line_with(&["found:", "Dave <dave@example.com>", "senior"])
        .assert_says(SENIOR_RULE_MESSAGE)
        .assert_line_with(&["help:", "git commit --amend --trailer \"Approved-By:"]);
}

#[test]
fn ai_commit_without_any_approval_is_rejected() {
    let w = senior_world();
    let subject = "Rewrite the parser";
    let (oid, out) = w.push_rejected(&CAROL, &msg(subject, &["AI-Assisted: yes"]), 1);
    out.assert_violation("error", RULE, MAIN, &oid, subject)
        .assert_line_with(&["help:", "git commit --amend --trailer \"Approved-By:"]);
}

#[test]
fn ai_commit_approved_only_by_its_own_author_is_rejected() {
    // Carol and Dave are both engineers, so Carol's group would let her
    // approve; only being the author stops her.
    let w = World::with_policy(&policy_with_groups(
        "engineers = [\"carol@example.com\", \"dave@example.com\"]\n",
        r#"
[[rule]]
name = "peer-review"
message = "AI-assisted changes need a second pair of eyes."
refs = ["refs/heads/main"]
when = { ai_assisted = true }
require = { approvals = { from = ["engineers"], count = 1 } }
"#,
    ));
    let subject = "Approve my own work";
    let (oid, out) = w.push_rejected(
        &CAROL,
        &msg(subject, &["AI-Assisted: yes", &approved_by(&CAROL)]),
        1,
    );
    out.assert_violation("error", "peer-review", MAIN, &oid, subject)
        .assert_line_with(&["found:", "carol@example.com"]);
    // The same change approved by the other engineer goes through.
    w.reset_to_origin();
    w.push_accepted(
        &CAROL,
        &msg(subject, &["AI-Assisted: yes", &approved_by(&DAVE)]),
    );
}

#[test]
fn trailer_keys_are_matched_case_insensitively() {
    let w = senior_world();
    // `ai-assisted` in lower case still declares assistance...
    let subject = "Lower-case declaration";
    let (oid, out) = w.push_rejected(&CAROL, &msg(subject, &["ai-assisted: yes"]), 1);
    out.assert_violation("error", RULE, MAIN, &oid, subject);
    // ...and `approved-by` in lower case still approves.
    w.reset_to_origin();
    w.push_accepted(
        &CAROL,
        &msg(
            subject,
            &[
                "ai-assisted: yes",
                "approved-by: Alice Senior <alice@example.com>",
            ],
        ),
    );
    // Shouting works too.
    w.push_accepted(
        &CAROL,
        &msg(
            "Upper-case keys",
            &[
                "AI-ASSISTED: yes",
                "APPROVED-BY: Bob Senior <bob@example.com>",
            ],
        ),
    );
}

#[test]
fn approved_by_outside_the_last_paragraph_does_not_approve() {
    let w = senior_world();
    let subject = "Approval in the wrong place";
    let message = format!(
        "{subject}\n\nApproved-By: Alice Senior <alice@example.com>\n\n\
         This paragraph comes after the key-value line above,\nso that line is not a trailer.\n\n\
         AI-Assisted: yes\n"
    );
    let (oid, out) = w.push_rejected(&CAROL, &message, 1);
    out.assert_violation("error", RULE, MAIN, &oid, subject);
}

#[test]
fn one_person_with_two_emails_counts_once_among_approvers() {
    let w = World::with_policy(&policy(
        r#"
[[rule]]
name = "two-seniors"
message = "AI-assisted changes need two seniors."
refs = ["refs/heads/main"]
when = { ai_assisted = true }
require = { approvals = { from = ["senior"], count = 2 } }
"#,
    ));
    let subject = "Alice approves twice";
    let (oid, out) = w.push_rejected(
        &CAROL,
        &msg(
            subject,
            &[
                "AI-Assisted: yes",
                &approved_by(&ALICE),
                &approved_by(&ALICE_OLD),
            ],
        ),
        1,
    );
    out.assert_violation("error", "two-seniors", MAIN, &oid, subject);
    // Two different seniors do meet the count.
    w.reset_to_origin();
    w.push_accepted(
        &CAROL,
        &msg(
            "Alice and Bob approve",
            &[
                "AI-Assisted: yes",
                &approved_by(&ALICE_OLD),
                &approved_by(&BOB),
            ],
        ),
    );
}

#[test]
fn every_violating_commit_in_a_push_is_reported() {
    let w = senior_world();
    let before = w.server_ref(MAIN).unwrap();
    let first = w.commit(
        &CAROL,
        &msg("First unapproved change", &["AI-Assisted: yes"]),
    );
    w.commit(
        &CAROL,
        &msg(
            "Approved change",
            &["AI-Assisted: yes", &approved_by(&ALICE)],
        ),
    );
    let third = w.commit(
        &DAVE,
        &msg("Second unapproved change", &["AI-Assisted: yes"]),
    );
    w.commit(&CAROL, &msg("Plain change", &[]));
    w.push(&["origin", "main"])
        .assert_rejected_with(2)
        .assert_violation("error", RULE, MAIN, &first, "First unapproved change")
        .assert_violation("error", RULE, MAIN, &third, "Second unapproved change")
        .assert_silent_about("Approved change")
        .assert_silent_about("Plain change");
    w.assert_server_ref(MAIN, Some(&before));
}
