//! Who wrote a commit: exemptions and `author_in` / `author_not_in`, with
//! group entries given as e-mail addresses, person ids and e-mail globs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;

const MAIN: &str = "refs/heads/main";

/// A rule on `main` that needs a senior's approval for AI-assisted commits
/// whose author is in `group` (`author_in`, or `author_not_in` when `negate`).
fn rule_for(group: &str, negate: bool) -> String {
    let cond = if negate { "author_not_in" } else { "author_in" };
    format!(
        r#"
[[rule]]
name = "watched-authors"
message = "AI-assisted changes from these authors need a senior's sign-off."
refs = ["refs/heads/main"]
when = {{ ai_assisted = true, {cond} = ["{group}"] }}
require = {{ approvals = {{ from = ["senior"], count = 1 }} }}
"#
    )
}

/// Pushes an unapproved AI-assisted commit by `ok` (accepted), then one by
/// `caught` (rejected by `watched-authors`).
fn assert_caught(w: &World, ok: &Person, caught: &Person) {
    w.push_accepted(ok, &msg("Not watched", &["AI-Assisted: yes"]));

    let subject = "Watched author";
    let (oid, out) = w.push_rejected(caught, &msg(subject, &["AI-Assisted: yes"]), 1);
    out.assert_violation("error", "watched-authors", MAIN, &oid, subject);
}

#[test]
fn authors_in_an_exempt_group_are_skipped() {
    let w = World::with_policy(&policy(&format!(
        "{SENIOR_RULE}exempt = {{ authors = [\"bots\"] }}\n"
    )));
    let subject = "Not exempt";
    let (oid, out) = w.push_rejected(&CAROL, &msg(subject, &["AI-Assisted: yes"]), 1);
    out.assert_violation("error", "ai-needs-senior-approval", MAIN, &oid, subject);

    w.reset_to_origin();
    w.push_accepted(&BOT, &msg("Bump dependencies", &["AI-Assisted: yes"]));
}

#[test]
fn author_in_matches_an_email_address_case_insensitively() {
    let w = World::with_policy(&policy_with_groups(
        "juniors = [\"carol@example.com\"]\n",
        &rule_for("juniors", false),
    ));
    let shouting_carol = Person {
        name: "Carol",
        email: "Carol@Example.COM",
    };
    assert_caught(&w, &DAVE, &shouting_carol);
}

#[test]
fn author_in_matches_any_email_of_a_person_id() {
    let w = World::with_policy(&policy_with_groups(
        "mids = [\"dave\"]\n",
        &format!(
            "[people.dave]\nname = \"Dave\"\nemails = [\"dave@example.com\", \"dave@home.example\"]\n{}",
            rule_for("mids", false)
        ),
    ));
    let dave_at_home = Person {
        name: "Dave",
        email: "dave@home.example",
    };
    assert_caught(&w, &CAROL, &dave_at_home);
}

#[test]
fn author_in_matches_an_email_glob() {
    let w = World::with_policy(&policy_with_groups(
        "contractors = [\"*@contractor.example\"]\n",
        &rule_for("contractors", false),
    ));
    assert_caught(&w, &CAROL, &ERIN);
}

#[test]
fn author_not_in_matches_an_email_glob() {
    let w = World::with_policy(&policy_with_groups(
        "staff = [\"*@example.com\"]\n",
        &rule_for("staff", true),
    ));
    assert_caught(&w, &CAROL, &ERIN);
}

#[test]
fn author_not_in_matches_a_person_id_and_an_email() {
    // `senior` holds alice by person id and bob by e-mail; Alice's second
    // address is hers too.
    let w = World::with_policy(&policy(&rule_for("senior", true)));
    let a = w.commit(
        &ALICE_OLD,
        &msg("Alice, second address", &["AI-Assisted: yes"]),
    );
    let b = w.push_accepted(&BOB, &msg("Bob", &["AI-Assisted: yes"]));
    assert_ne!(a, b);

    let subject = "Carol is not senior";
    let (oid, out) = w.push_rejected(&CAROL, &msg(subject, &["AI-Assisted: yes"]), 1);
    out.assert_violation("error", "watched-authors", MAIN, &oid, subject);
}

#[test]
fn pushers_in_an_exempt_group_are_skipped() {
    // The pusher comes from the host; behind a web server that is REMOTE_USER.
    let w = World::with_policy(&policy(&format!(
        "{SENIOR_RULE}exempt = {{ pushers = [\"senior\"] }}\n"
    )));
    let before = w.server_ref(MAIN).unwrap();
    let subject = "Pushed by a junior";
    let oid = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));
    w.push_env(&["origin", "main"], &[("REMOTE_USER", "carol")])
        .assert_rejected_with(1)
        .assert_violation("error", "ai-needs-senior-approval", MAIN, &oid, subject);
    w.assert_server_ref(MAIN, Some(&before));

    // Alice (login alice-s) pushes the same commit: exempt.
    w.push_env(&["origin", "main"], &[("REMOTE_USER", "alice-s")])
        .assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
}
