//! What a pusher sees when an approval is missing, under each proof mode,
//! when the host names no pusher, and when a break-glass override is
//! refused or used.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::{keygen, Key, Stage, Transcript};
use crate::support::*;

/// The senior rule with `count` approvals under `proof`.
fn approval_rule(count: u32, proof: &str) -> String {
    format!(
        r#"
[[rule]]
name = "ai-needs-senior-approval"
message = "AI-assisted changes from junior and mid-level engineers need a senior's sign-off."
refs = ["refs/heads/main"]
when = {{ ai_assisted = true, author_not_in = ["senior"] }}
require = {{ approvals = {{ from = ["senior"], count = {count}, proof = "{proof}" }} }}
"#
    )
}

/// One push of one commit by Carol with `trailers`, under `rules` (and the
/// shared people, plus Carol and Dave as `engineers`), with the hook's
/// environment `env`.
fn one_push(name: &str, about: &str, rules: &str, trailers: &[&str], env: &[(&str, &str)]) {
    let groups = "engineers = [\"carol@example.com\", \"dave@example.com\"]\n";
    let s = Stage::guarded(&policy_with_groups(groups, rules));
    s.commit(&CAROL, &msg("Add retries to the uploader", trailers));
    let run = s.push(&["origin", "main"], env);
    run.assert_rejected();
    Transcript::new(&s).push(about, &run).check(name, about);
}

#[test]
fn an_ai_commit_without_approval_under_trailer_proof_is_rejected() {
    one_push(
        "approval_missing_trailer_proof",
        "an AI-assisted commit by a junior with no Approved-By trailer (proof = \"trailer\")",
        SENIOR_RULE,
        &["AI-Assisted: yes"],
        &[],
    );
}

#[test]
fn an_approval_from_someone_outside_the_group_does_not_count() {
    let dave = approved_by(&DAVE);
    one_push(
        "approval_from_a_non_member",
        "Approved-By names Dave, who is not in `senior`",
        SENIOR_RULE,
        &["AI-Assisted: yes", &dave],
        &[],
    );
}

#[test]
fn two_approvals_needed_with_one_given_is_rejected() {
    let alice = approved_by(&ALICE);
    one_push(
        "approval_one_of_two",
        "count = 2 and only Alice approved (issue 14 item 4: the help must not suggest her again)",
        &approval_rule(2, "trailer"),
        &["AI-Assisted: yes", &alice],
        &[],
    );
}

#[test]
fn an_approval_trailer_without_a_senior_pushing_fails_pusher_proof() {
    let alice = approved_by(&ALICE);
    one_push(
        "approval_missing_pusher_proof",
        "proof = \"pusher\": Carol pushes her own commit that names Alice as approver",
        &approval_rule(1, "pusher"),
        &["AI-Assisted: yes", &alice],
        &[("REMOTE_USER", "carol")],
    );
}

#[test]
fn a_pusher_proof_rule_with_no_known_pusher_is_rejected() {
    let alice = approved_by(&ALICE);
    one_push(
        "approval_pusher_proof_without_pusher",
        "proof = \"pusher\" and the host names nobody (no pusher variable set)",
        &approval_rule(1, "pusher"),
        &["AI-Assisted: yes", &alice],
        &[],
    );
}

#[test]
fn a_pusher_condition_with_no_known_pusher_is_rejected() {
    one_push(
        "pusher_condition_without_pusher",
        "a rule with `pusher_not_in` and no pusher variable set",
        r#"
[[rule]]
name = "review-unless-senior-pushes"
message = "Unless a senior pushes, every commit on main names its reviewer."
refs = ["refs/heads/main"]
when = { pusher_not_in = ["senior"] }
require = { trailers = [ { key = "Reviewed-by", value = "." } ] }
"#,
        &[],
        &[],
    );
}

/// The shared people with an SSH key for Alice (and Bob, login `bob-s`).
fn people_with_keys(alice: &Key, bob: &Key) -> String {
    PEOPLE
        .replace(
            "logins = [\"alice-s\"]",
            &format!("logins = [\"alice-s\"]\nssh_keys = [\"{}\"]", alice.public),
        )
        .replace(
            "emails = [\"bob@example.com\"]",
            &format!(
                "emails = [\"bob@example.com\"]\nlogins = [\"bob-s\"]\nssh_keys = [\"{}\"]",
                bob.public
            ),
        )
}

#[test]
fn signature_proof_fails_for_an_unsigned_commit_and_for_one_signed_by_someone_else() {
    let s = Stage::new();
    let (alice, bob) = (keygen(&s, "alice"), keygen(&s, "bob"));
    let carol = keygen(&s, "carol");
    let people = people_with_keys(&alice, &bob);
    assert!(people.contains(&alice.public));
    s.install_hook();
    s.write_policy(&format!(
        "version = 1\n{people}\n{}",
        approval_rule(1, "signature")
    ));
    let message = msg(
        "Add retries to the uploader",
        &["AI-Assisted: yes", &approved_by(&ALICE)],
    );
    s.commit(&CAROL, &message);
    let mut t = Transcript::new(&s);
    let unsigned = s.push(&["origin", "main"], &[]);
    unsigned.assert_rejected();
    t.push("the commit names Alice but carries no signature", &unsigned);

    // Carol signs it herself: her key belongs to nobody in [people], and
    // the trailer naming Alice is only text.
    let key = format!("user.signingkey={}", carol.private.display());
    let amend = [
        "-c",
        "gpg.format=ssh",
        "-c",
        &key,
        "commit",
        "-q",
        "--amend",
        "-S",
        "-m",
        &message,
    ];
    let env = [
        ("GIT_COMMITTER_NAME", CAROL.name),
        ("GIT_COMMITTER_EMAIL", CAROL.email),
    ];
    s.run_git(&s.work, &amend, &env).assert_code(0);
    let by_carol = s.push(&["origin", "main"], &[]);
    by_carol.assert_rejected();
    t.push(
        "the same commit signed by Carol, whose key nobody listed",
        &by_carol,
    );
    t.check(
        "approval_missing_signature_proof",
        "proof = \"signature\": Alice is named but never signed",
    );
}

const OVERRIDE: &str = r#"
[settings.override]
push_option = "trailgate.override"
by = ["senior"]
"#;

/// A stage whose senior rule Carol's unapproved commit breaks, with
/// overrides allowed for seniors and push options advertised.
fn override_stage() -> Stage {
    let s = Stage::guarded(&policy(&format!("{OVERRIDE}{SENIOR_RULE}")));
    s.server_config("receive.advertisePushOptions", "true");
    s.commit(
        &CAROL,
        &msg("Hotfix during the incident", &["AI-Assisted: yes"]),
    );
    s
}

const REASON: &str = "trailgate.override=INC-1234: checkout down";

#[test]
fn an_override_is_refused_without_a_reason_from_a_non_member_and_without_a_pusher() {
    let s = override_stage();
    let mut t = Transcript::new(&s);
    /// The step's title, the push option, the hook's environment.
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let cases: [Case<'_>; 3] = [
        (
            "no reason given",
            "trailgate.override",
            &[("REMOTE_USER", "alice-s")],
        ),
        (
            "Carol may not override",
            REASON,
            &[("REMOTE_USER", "carol")],
        ),
        ("no pusher known", REASON, &[]),
    ];
    for (title, option, env) in cases {
        let run = s.push(&["-o", option, "origin", "main"], env);
        run.assert_rejected();
        t.push(title, &run);
    }
    t.check(
        "override_refused",
        "break-glass refused three ways: no reason, a pusher outside `by`, no pusher",
    );
}

#[test]
fn an_override_by_a_senior_with_a_reason_lets_the_push_through() {
    let s = override_stage();
    let run = s.push(
        &["-o", REASON, "origin", "main"],
        &[("REMOTE_USER", "alice-s")],
    );
    run.assert_accepted();
    Transcript::new(&s)
        .push("Alice overrides with a reason", &run)
        .check(
            "override_used",
            "break-glass used by a senior; no audit log is configured, and the pusher is told that nothing records it",
        );
}

#[test]
fn an_override_and_the_refusal_before_it_are_audited_and_summarised() {
    let s = Stage::new();
    let log = s.root.join("audit.jsonl");
    s.install_hook();
    s.write_policy(&policy(&format!(
        "[settings]\naudit_log = \"{}\"\n{OVERRIDE}{SENIOR_RULE}",
        log.display()
    )));
    s.server_config("receive.advertisePushOptions", "true");
    s.commit(
        &CAROL,
        &msg("Hotfix during the incident", &["AI-Assisted: yes"]),
    );
    let mut t = Transcript::new(&s);
    let refused = s.push(
        &["-o", REASON, "origin", "main"],
        &[("REMOTE_USER", "carol")],
    );
    refused.assert_rejected();
    t.push("Carol may not override", &refused);
    let used = s.push(
        &["-o", REASON, "origin", "main"],
        &[("REMOTE_USER", "alice-s")],
    );
    used.assert_accepted();
    t.push("Alice overrides", &used);
    t.audit_log("the audit log", &log);
    let summary = s.trailgate(&["audit", "--log", log.to_str().unwrap()]);
    summary.assert_code(0);
    t.command("`trailgate audit` of that log", &summary);
    let json = s.trailgate(&["audit", "--log", log.to_str().unwrap(), "--format", "json"]);
    json.assert_code(0);
    t.json(
        "`trailgate audit --format json` of that log",
        &json,
        &json.stdout,
    );
    t.check(
        "override_audited",
        "an override refused then used, with an audit log: the lines written and `trailgate audit`",
    );
}

#[test]
fn a_misspelled_approver_address_names_nobody_and_suggests_the_known_one() {
    one_push(
        "approval_misspelled_address",
        "Approved-By names alice@exmaple.com: it names nobody the policy knows, \
         and alice@example.com is suggested",
        SENIOR_RULE,
        &[
            "AI-Assisted: yes",
            "Approved-By: Alice Senior <alice@exmaple.com>",
        ],
        &[],
    );
}

#[test]
fn an_approval_by_the_author_does_not_count() {
    one_push(
        "approval_by_the_author",
        "peer review where Carol approves her own commit",
        r#"
[[rule]]
name = "peer-review"
message = "AI-assisted changes need a second pair of eyes."
refs = ["refs/heads/main"]
when = { ai_assisted = true }
require = { approvals = { from = ["engineers"], count = 1 } }
"#,
        &["AI-Assisted: yes", "Approved-By: Carol <carol@example.com>"],
        &[],
    );
}

#[test]
fn a_rejection_ends_with_the_policys_contact() {
    one_push(
        "contact_ends_a_rejection",
        "settings.contact says whom to ask, as the last line of the rejection",
        &format!(
            "[settings]\ncontact = \"#git-help on chat, or git-admins@example.com\"\n{SENIOR_RULE}"
        ),
        &["AI-Assisted: yes"],
        &[],
    );
}

#[test]
fn a_commit_pushed_by_someone_other_than_its_author_is_rejected() {
    one_push(
        "author_is_pusher",
        "Carol's commit pushed by Alice, where the author must be the pusher",
        r#"
[[rule]]
name = "push-your-own"
message = "Push your own commits; an author line is not an identity."
refs = ["refs/heads/main"]
require = { author_is_pusher = true }
"#,
        &[],
        &[("REMOTE_USER", "alice-s")],
    );
}

#[test]
fn mixed_proof_help_offers_a_push_or_a_signature_and_no_trailer() {
    let s = Stage::new();
    let (alice, bob) = (keygen(&s, "alice"), keygen(&s, "bob"));
    let people = people_with_keys(&alice, &bob);
    s.install_hook();
    s.write_policy(&format!(
        "version = 1\n[settings]\nidentity = \"proven\"\n{people}\n{}",
        approval_rule(2, "pusher")
            .replace("proof = \"pusher\"", "proof = [\"pusher\", \"signature\"]")
    ));
    s.commit(
        &CAROL,
        &msg(
            "Add retries to the uploader",
            &["AI-Assisted: yes", &approved_by(&ALICE)],
        ),
    );
    let run = s.push(&["origin", "main"], &[("REMOTE_USER", "carol")]);
    run.assert_rejected();
    let about = "proof = [\"pusher\", \"signature\"], count = 2: Carol pushes with a typed trailer";
    Transcript::new(&s)
        .push(about, &run)
        .check("approval_missing_mixed_proof", about);
}
