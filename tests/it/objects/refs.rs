//! Class 7: a ref update is judged as what it moves. Real pushes through a
//! symbolic ref on the server, into a `GIT_NAMESPACE`, and to a case variant
//! of a protected branch on a repository that says its file system ignores
//! case.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;

const MAIN: &str = "refs/heads/main";
const RULE: &str = "ai-needs-senior-approval";

fn protected() -> String {
    policy(&format!(
        "{SENIOR_RULE}{}",
        r#"
[[rule]]
name = "protect-main"
refs = ["refs/heads/main"]
deny = ["force-push", "delete"]
"#
    ))
}

#[test]
fn attack_push_through_a_symbolic_ref_moves_the_protected_branch() {
    let w = World::with_policy(&protected());
    w.server_git(&["symbolic-ref", "refs/heads/master", MAIN]);
    // A chain: trunk -> master -> main.
    w.server_git(&["symbolic-ref", "refs/heads/trunk", "refs/heads/master"]);
    let before = w.server_ref(MAIN);
    let oid = w.commit(&CAROL, &msg("Through the alias", &["AI-Assisted: yes"]));
    for alias in ["master", "trunk"] {
        let run = w.push(&["origin", &format!("main:{alias}")]);
        run.assert_rejected_with(1).assert_violation(
            "error",
            RULE,
            &format!("refs/heads/{alias}"),
            &oid,
            "Through the alias",
        );
        w.assert_server_ref(MAIN, before.as_deref());
    }
    // A force-push through the alias is a force-push of main.
    w.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let kept = w.commit(&ALICE, "Kept\n");
    w.push(&["origin", "main:master"])
        .assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&kept));
    w.git(&["reset", "-q", "--hard", "HEAD~1"]);
    w.commit(&ALICE, "Rewritten\n");
    let run = w.push(&["origin", "+main:master"]);
    run.assert_rejected();
    run.assert_says("error[protect-main]");
    w.assert_server_ref(MAIN, Some(&kept));
}

#[test]
fn a_push_through_a_symbolic_ref_that_the_rules_allow_is_accepted() {
    let w = World::with_policy(&protected());
    w.server_git(&["symbolic-ref", "refs/heads/master", MAIN]);
    let oid = w.commit(&ALICE, &msg("Senior work", &["AI-Assisted: yes"]));
    w.push(&["origin", "main:master"])
        .assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
}

#[test]
fn attack_push_into_a_namespace_is_judged_under_both_names() {
    let w = World::with_policy(&policy(&format!(
        "{SENIOR_RULE}{}",
        r#"
[[rule]]
name = "no-new-namespaced-branches"
refs = ["refs/namespaces/*/refs/heads/**"]
deny = ["create"]
"#
    )));
    let ns = [("GIT_NAMESPACE", "team")];
    // main of the namespace is main: the senior rule applies.
    let oid = w.commit(&CAROL, &msg("Namespaced", &["AI-Assisted: yes"]));
    let run = w.push_env(&["origin", "main"], &ns);
    run.assert_rejected();
    run.assert_says(&format!("error[{RULE}]"));
    run.assert_says(&oid[..7]);
    // ... and the full name is judged too: creating it is denied.
    w.reset_to_origin();
    w.commit(&ALICE, "Senior work\n");
    let run = w.push_env(&["origin", "main"], &ns);
    run.assert_rejected();
    run.assert_says("error[no-new-namespaced-branches]");
    assert_eq!(
        w.server_ref("refs/namespaces/team/refs/heads/main"),
        None,
        "nothing was created in the namespace"
    );
}

#[test]
fn attack_case_variant_of_a_protected_branch() {
    // On a case-insensitive file system (core.ignorecase = true), a loose
    // refs/heads/Main is the file of a packed refs/heads/main.
    let w = World::with_policy(&protected());
    w.server_config("core.ignorecase", "true");
    w.server_git(&["pack-refs", "--all"]);
    let before = w.server_ref(MAIN);
    w.git(&["checkout", "-q", "--orphan", "rewrite"]);
    w.commit(&ALICE, "Unrelated history\n");
    let run = w.push(&["origin", "rewrite:refs/heads/Main"]);
    run.assert_rejected();
    run.assert_says("error[protect-main]");
    w.assert_server_ref(MAIN, before.as_deref());
    assert_eq!(w.server_ref("refs/heads/Main"), None);

    // Where the repository says its file system knows case, Main is
    // another branch (and this push creates it).
    w.server_config("core.ignorecase", "false");
    w.push(&["origin", "rewrite:refs/heads/Main"])
        .assert_accepted_silently();
    w.assert_server_ref(MAIN, before.as_deref());
}

#[test]
fn a_push_to_head_cannot_move_the_branch_head_points_at() {
    // git sends `main:HEAD` as refs/heads/HEAD, a branch of its own; a bare
    // `HEAD` on stdin (no git sends one) cannot be judged.
    let w = World::with_policy(&protected());
    let before = w.server_ref(MAIN);
    w.commit(&CAROL, &msg("Via HEAD", &["AI-Assisted: yes"]));
    w.push(&["origin", "main:HEAD"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, before.as_deref());
    assert!(w.server_ref("refs/heads/HEAD").is_some());
    let new = w.git(&["rev-parse", "HEAD"]);
    let main = before.unwrap();
    let run = w.pre_receive(&[], &format!("{main} {new} HEAD\n"));
    run.assert_code(2);
    w.assert_server_ref(MAIN, Some(&main));
}

#[test]
fn attack_push_through_a_dangling_symbolic_ref_creates_the_protected_branch() {
    // `refs/heads/next` names a release branch that does not exist yet:
    // git follows it and creates `refs/heads/release/next`. Under reftable
    // refs `git for-each-ref` does not list such a ref at all.
    let w = World::with_policy(&policy(&SENIOR_RULE.replace(
        r#"refs = ["refs/heads/main"]"#,
        r#"refs = ["refs/heads/release/*"]"#,
    )));
    w.server_git(&["symbolic-ref", "refs/heads/next", "refs/heads/release/next"]);
    let oid = w.commit(&CAROL, &msg("Into the release", &["AI-Assisted: yes"]));
    let run = w.push(&["origin", "main:next"]);
    run.assert_rejected_with(1).assert_violation(
        "error",
        RULE,
        "refs/heads/next",
        &oid,
        "Into the release",
    );
    w.assert_server_ref("refs/heads/release/next", None);
    // Approved, the same push goes through the link, as git would take it.
    let approved = msg(
        "Into the release",
        &["AI-Assisted: yes", &approved_by(&ALICE)],
    );
    w.git(&["commit", "-q", "--amend", "-m", &approved]);
    w.push(&["origin", "+main:next"]).assert_accepted_silently();
    let now = w.git(&["rev-parse", "HEAD"]);
    w.assert_server_ref("refs/heads/release/next", Some(&now));
}
