//! `settings.contact` ends every rejection: one by the policy, and one
//! because the push could not be judged; an accepted push does not say it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;

const CONTACT: &str = "#git-help on chat, or git-admins@example.com";

fn world() -> World {
    World::with_policy(&policy(&format!(
        "[settings]\ncontact = \"{CONTACT}\"\n{SENIOR_RULE}"
    )))
}

fn last_line(run: &Run) -> String {
    run.stderr.lines().last().unwrap_or_default().to_owned()
}

#[test]
fn a_policy_rejection_ends_with_the_contact() {
    let w = world();
    let (_, run) = w.push_rejected(&CAROL, &msg("Unapproved", &["AI-Assisted: yes"]), 1);
    let remote: Vec<&str> = run.remote_lines();
    assert_eq!(
        remote.last().map(|l| l.trim()),
        Some(format!("trailgate: questions about this policy: {CONTACT}").as_str()),
        "{}",
        run.dump()
    );
    w.reset_to_origin();
    w.push_accepted(&ALICE, &msg("Plain", &[]));
}

#[test]
fn a_push_that_cannot_be_judged_ends_with_the_contact() {
    let w = world();
    let head = w.server_ref("refs/heads/main").unwrap();
    let missing = fake_id("1234567890");
    let run = w.pre_receive(&[], &format!("{head} {missing} refs/heads/main\n"));
    run.assert_code(2).assert_no_panic();
    assert_eq!(
        last_line(&run),
        format!("trailgate: questions about this policy: {CONTACT}"),
        "{}",
        run.dump()
    );
}
