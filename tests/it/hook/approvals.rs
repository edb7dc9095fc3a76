//! Approvals: who may approve an AI-assisted commit, and what counts as an
//! approval (trailers parsed as git parses them).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;

const RULE: &str = "ai-needs-senior-approval";
const MAIN: &str = "refs/heads/main";

fn senior_world() -> World {
    World::with_policy(&policy(SENIOR_RULE))
}

#[test]
fn ai_commit_approved_by_a_senior_is_accepted() {
    let w = senior_world();
    let oid = w.commit(
        &CAROL,
        &msg(
            "Add retries to the uploader",
            &["AI-Assisted: yes", &approved_by(&ALICE)],
        ),
    );
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
}

#[test]
fn ai_commit_approved_by_a_senior_listed_by_email_is_accepted() {
    let w = senior_world();
    let oid = w.commit(
        &DAVE,
        &msg("Cache the index", &["AI-Assisted: yes", &approved_by(&BOB)]),
    );
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
}

#[test]
fn ai_commit_approved_by_a_non_member_is_rejected_naming_rule_and_commit() {
    let w = senior_world();
    let before = w.server_ref(MAIN).unwrap();
    let subject = "Add retries to the uploader";
    let oid = w.commit(
        &CAROL,
        &msg(subject, &["AI-Assisted: yes", &approved_by(&DAVE)]),
    );
    let out = w.push(&["origin", "main"]);
    out.assert_rejected_with(1)
        .assert_violation("error", RULE, MAIN, &oid, subject)
        .assert_line_with(&["found:", "Dave <dave@example.com>", "senior"])
        .assert_says(SENIOR_RULE_MESSAGE)
        .assert_line_with(&["help:", "git commit --amend --trailer \"Approved-By:"]);
    w.assert_server_ref(MAIN, Some(&before));
}

#[test]
fn ai_commit_without_any_approval_is_rejected() {
    let w = senior_world();
    let before = w.server_ref(MAIN).unwrap();
    let subject = "Rewrite the parser";
    let oid = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_violation("error", RULE, MAIN, &oid, subject)
        .assert_line_with(&["help:", "git commit --amend --trailer \"Approved-By:"]);
    w.assert_server_ref(MAIN, Some(&before));
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
    let before = w.server_ref(MAIN).unwrap();
    let subject = "Approve my own work";
    let oid = w.commit(
        &CAROL,
        &msg(subject, &["AI-Assisted: yes", &approved_by(&CAROL)]),
    );
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_violation("error", "peer-review", MAIN, &oid, subject)
        .assert_line_with(&["found:", "carol@example.com"]);
    w.assert_server_ref(MAIN, Some(&before));

    // The same change approved by the other engineer goes through.
    w.reset_to_origin();
    let oid = w.commit(
        &CAROL,
        &msg(subject, &["AI-Assisted: yes", &approved_by(&DAVE)]),
    );
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
}

#[test]
fn commit_without_ai_declaration_needs_no_approval() {
    let w = senior_world();
    let oid = w.commit(
        &CAROL,
        &msg("Fix a typo", &["Signed-off-by: Carol <carol@example.com>"]),
    );
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
}

#[test]
fn commit_declaring_no_ai_assistance_needs_no_approval() {
    let w = senior_world();
    let oid = w.commit(&CAROL, &msg("Fix a typo", &["AI-Assisted: no"]));
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
}

#[test]
fn ai_commit_by_a_senior_needs_no_approval() {
    let w = senior_world();
    let oid = w.commit(&ALICE, &msg("Senior work", &["AI-Assisted: yes"]));
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
}

#[test]
fn trailer_keys_are_matched_case_insensitively() {
    let w = senior_world();
    let before = w.server_ref(MAIN).unwrap();

    // `ai-assisted` in lower case still declares assistance...
    let subject = "Lower-case declaration";
    let oid = w.commit(&CAROL, &msg(subject, &["ai-assisted: yes"]));
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_violation("error", RULE, MAIN, &oid, subject);
    w.assert_server_ref(MAIN, Some(&before));

    // ...and `approved-by` in lower case still approves.
    w.reset_to_origin();
    let oid = w.commit(
        &CAROL,
        &msg(
            subject,
            &[
                "ai-assisted: yes",
                "approved-by: Alice Senior <alice@example.com>",
            ],
        ),
    );
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));

    // Shouting works too.
    let oid = w.commit(
        &CAROL,
        &msg(
            "Upper-case keys",
            &[
                "AI-ASSISTED: yes",
                "APPROVED-BY: Bob Senior <bob@example.com>",
            ],
        ),
    );
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
}

#[test]
fn approved_by_outside_the_last_paragraph_does_not_approve() {
    let w = senior_world();
    let before = w.server_ref(MAIN).unwrap();
    let subject = "Approval in the wrong place";
    let message = format!(
        "{subject}\n\nApproved-By: Alice Senior <alice@example.com>\n\n\
         This paragraph comes after the key-value line above,\nso that line is not a trailer.\n\n\
         AI-Assisted: yes\n"
    );
    let oid = w.commit(&CAROL, &message);
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_violation("error", RULE, MAIN, &oid, subject);
    w.assert_server_ref(MAIN, Some(&before));
}

#[test]
fn ai_declaration_outside_the_last_paragraph_is_not_a_trailer() {
    let w = senior_world();
    let message = "Mention the trailer in prose\n\nAI-Assisted: yes\n\n\
                   The line above is in the middle of the message, not in the trailer block.\n";
    let oid = w.commit(&CAROL, message);
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
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
    let before = w.server_ref(MAIN).unwrap();
    let subject = "Alice approves twice";
    let oid = w.commit(
        &CAROL,
        &msg(
            subject,
            &[
                "AI-Assisted: yes",
                &approved_by(&ALICE),
                &approved_by(&ALICE_OLD),
            ],
        ),
    );
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_violation("error", "two-seniors", MAIN, &oid, subject);
    w.assert_server_ref(MAIN, Some(&before));

    // Two different seniors do meet the count.
    w.reset_to_origin();
    let oid = w.commit(
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
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
}

#[test]
fn approver_named_by_bare_email_or_person_id_counts() {
    let w = senior_world();
    w.commit(
        &CAROL,
        &msg(
            "Bare e-mail",
            &["AI-Assisted: yes", "Approved-By: bob@example.com"],
        ),
    );
    let oid = w.commit(
        &CAROL,
        &msg("Person id", &["AI-Assisted: yes", "Approved-By: alice"]),
    );
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
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

#[test]
fn approver_email_is_matched_case_insensitively() {
    let w = senior_world();
    let oid = w.commit(
        &CAROL,
        &msg(
            "Shouted approval",
            &[
                "AI-Assisted: yes",
                "Approved-By: Alice Senior <ALICE@Example.COM>",
            ],
        ),
    );
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
}

#[test]
fn approver_named_by_host_login_counts() {
    let w = senior_world();
    let oid = w.commit(
        &CAROL,
        &msg(
            "Login approval",
            &["AI-Assisted: yes", "Approved-By: alice-s"],
        ),
    );
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
}
