//! Which commits a push is judged on, per ref update: new objects read from
//! git's quarantine, commits that entered unchecked elsewhere, branch
//! creation, commits already judged, `deny`, tags, and all-or-nothing pushes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;

const RULE: &str = "ai-needs-senior-approval";
const MAIN: &str = "refs/heads/main";

/// The senior rule on `main` and every `release/**` branch.
const MAIN_AND_RELEASES: &str = r#"
[[rule]]
name = "ai-needs-senior-approval"
message = "AI-assisted changes from junior and mid-level engineers need a senior's sign-off."
refs = ["refs/heads/main", "refs/heads/release/**"]
when = { ai_assisted = true, author_not_in = ["senior"] }
require = { approvals = { from = ["senior"], count = 1 } }
"#;

const PROTECT_MAIN: &str = r#"
[[rule]]
name = "protect-main"
message = "main is shared history: no force-push, no deletion."
refs = ["refs/heads/main"]
deny = ["force-push", "delete"]
"#;

#[test]
fn new_commit_is_read_from_the_quarantine_directory() {
    let w = World::with_policy(&policy(SENIOR_RULE));
    let before = w.server_ref(MAIN).unwrap();
    let subject = "Brand-new commit only the quarantine holds";
    let oid = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));
    assert!(
        !w.server_has(&oid),
        "the server must not have the commit before the push"
    );

    // Naming the commit's subject is only possible if the hook read the
    // commit object, which during pre-receive exists only in the quarantine.
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_violation("error", RULE, MAIN, &oid, subject);
    w.assert_server_ref(MAIN, Some(&before));
    assert!(
        !w.server_has(&oid),
        "git drops the quarantine of a rejected push: the commit was never in the object store"
    );
}

#[test]
fn unapproved_ai_commit_fast_forwarded_from_an_unprotected_branch_into_main_is_rejected() {
    let w = World::with_policy(&policy(SENIOR_RULE));
    let before = w.server_ref(MAIN).unwrap();
    w.git(&["checkout", "-q", "-b", "feature"]);
    let subject = "Slipped in through a feature branch";
    let oid = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));
    w.push(&["origin", "feature"]).assert_accepted_silently();
    w.assert_server_ref("refs/heads/feature", Some(&oid));

    // No new objects now: the commit is already in the repository, unchecked.
    w.push(&["origin", "feature:main"])
        .assert_rejected_with(1)
        .assert_violation("error", RULE, MAIN, &oid, subject);
    w.assert_server_ref(MAIN, Some(&before));
}

#[test]
fn new_release_branch_created_from_unapproved_work_is_rejected() {
    let w = World::with_policy(&policy(MAIN_AND_RELEASES));
    w.git(&["checkout", "-q", "-b", "feature"]);
    let subject = "Unapproved work for the release";
    let oid = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));
    w.push(&["origin", "feature"]).assert_accepted_silently();

    w.push(&["origin", "feature:refs/heads/release/1.0"])
        .assert_rejected_with(1)
        .assert_violation("error", RULE, "refs/heads/release/1.0", &oid, subject);
    w.assert_server_ref("refs/heads/release/1.0", None);

    // The same with new objects: a commit on top, straight to a new branch.
    let subject2 = "More unapproved work";
    let oid2 = w.commit(&DAVE, &msg(subject2, &["AI-Assisted: yes"]));
    w.push(&["origin", "feature:refs/heads/release/2.0"])
        .assert_rejected_with(2)
        .assert_violation("error", RULE, "release/2.0", &oid, subject)
        .assert_violation("error", RULE, "release/2.0", &oid2, subject2);
    w.assert_server_ref("refs/heads/release/2.0", None);
}

#[test]
fn commit_already_on_main_before_the_policy_is_not_judged_again() {
    let w = World::new();
    // Pushed before trailgate was installed.
    let old = w.commit(
        &CAROL,
        &msg("Unapproved, from before the policy", &["AI-Assisted: yes"]),
    );
    w.push(&["origin", "main"]).assert_code(0);
    w.assert_server_ref(MAIN, Some(&old));

    w.install_hook();
    w.write_policy(&policy(MAIN_AND_RELEASES));
    let new = w.commit(
        &CAROL,
        &msg(
            "Approved follow-up",
            &["AI-Assisted: yes", &approved_by(&ALICE)],
        ),
    );
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&new));

    // A release branch cut from main brings nothing the same rule has not
    // already covered on main.
    w.push(&["origin", "main:refs/heads/release/1.0"])
        .assert_accepted_silently();
    w.assert_server_ref("refs/heads/release/1.0", Some(&new));
}

#[test]
fn approved_commit_already_on_main_is_not_judged_again_under_a_stricter_policy() {
    let w = World::with_policy(&policy(SENIOR_RULE));
    let approved = w.commit(
        &CAROL,
        &msg(
            "Approved by one senior",
            &["AI-Assisted: yes", &approved_by(&ALICE)],
        ),
    );
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&approved));

    // Now two seniors are needed; the commit on main stays as it is.
    w.write_policy(&policy(&SENIOR_RULE.replace("count = 1", "count = 2")));
    let next = w.commit(&CAROL, &msg("Plain follow-up", &[]));
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&next));
}

#[test]
fn fast_forward_of_main_is_allowed_by_deny_force_push_and_delete() {
    let w = World::with_policy(&policy(PROTECT_MAIN));
    let oid = w.commit(&CAROL, &msg("Ordinary change", &[]));
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
}

#[test]
fn force_push_of_main_is_rejected_by_deny() {
    let w = World::with_policy(&policy(PROTECT_MAIN));
    w.server_config("receive.denyNonFastForwards", "false");
    let published = w.commit(&CAROL, &msg("Published change", &[]));
    w.push(&["origin", "main"]).assert_accepted_silently();

    w.git(&["reset", "-q", "--hard", "HEAD~1"]);
    w.commit(&CAROL, &msg("Rewritten history", &[]));
    w.push(&["origin", "+main:main"])
        .assert_rejected_with(1)
        .assert_line_with(&["error[protect-main]", "main"]);
    w.assert_server_ref(MAIN, Some(&published));
}

#[test]
fn deletion_of_main_is_rejected_by_deny() {
    let w = World::with_policy(&policy(PROTECT_MAIN));
    w.server_config("receive.denyDeletes", "false");
    w.server_config("receive.denyDeleteCurrent", "false");
    let before = w.server_ref(MAIN).unwrap();
    w.push(&["origin", "--delete", "main"])
        .assert_rejected_with(1)
        .assert_line_with(&["error[protect-main]", "main"]);
    w.assert_server_ref(MAIN, Some(&before));
}

#[test]
fn deletion_of_an_unprotected_branch_is_accepted() {
    let w = World::new();
    w.server_config("receive.denyDeletes", "false");
    w.git(&["checkout", "-q", "-b", "feature"]);
    let oid = w.commit(&CAROL, &msg("Unapproved experiment", &["AI-Assisted: yes"]));
    w.push(&["origin", "feature"]).assert_code(0);
    w.assert_server_ref("refs/heads/feature", Some(&oid));

    // The senior rule covers every ref, but a deletion judges no commits.
    w.install_hook();
    w.write_policy(&policy(&format!(
        "{}{PROTECT_MAIN}",
        SENIOR_RULE.replace("refs = [\"refs/heads/main\"]\n", "")
    )));
    w.push(&["origin", "--delete", "feature"])
        .assert_accepted_silently();
    w.assert_server_ref("refs/heads/feature", None);
}

#[test]
fn annotated_tag_is_peeled_to_the_commit_it_tags() {
    let w = World::with_policy(&policy(
        r#"
[[rule]]
name = "approved-tags"
message = "Only approved AI-assisted work may be tagged."
refs = ["refs/tags/**"]
when = { ai_assisted = true, author_not_in = ["senior"] }
require = { approvals = { from = ["senior"], count = 1 } }
"#,
    ));
    w.git(&["checkout", "-q", "-b", "topic"]);
    let subject = "Unapproved release candidate";
    let bad = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));
    w.git(&["tag", "-a", "v1", "-m", "Version 1", &bad]);
    let tag_object = w.git(&["rev-parse", "refs/tags/v1"]);
    assert_ne!(tag_object, bad, "an annotated tag is an object of its own");

    w.push(&["origin", "refs/tags/v1"])
        .assert_rejected_with(1)
        .assert_violation("error", "approved-tags", "v1", &bad, subject);
    w.assert_server_ref("refs/tags/v1", None);

    // An approved commit on main tags fine. (The rule covers no existing
    // ref, so all of the tag's history is judged: Alice's initial commit
    // and this one.)
    w.git(&["checkout", "-q", "main"]);
    let good_on_main = w.commit(
        &CAROL,
        &msg(
            "Approved release",
            &["AI-Assisted: yes", &approved_by(&BOB)],
        ),
    );
    w.git(&["tag", "-a", "v2", "-m", "Version 2", &good_on_main]);
    w.push(&["origin", "refs/tags/v2"])
        .assert_accepted_silently();
    w.assert_server_ref("refs/tags/v2", Some(&good_on_main));
}

#[test]
fn multi_ref_push_with_one_bad_ref_updates_no_ref() {
    let w = World::with_policy(&policy(MAIN_AND_RELEASES));
    let before = w.server_ref(MAIN).unwrap();
    let good = w.commit(
        &CAROL,
        &msg(
            "Approved change",
            &["AI-Assisted: yes", &approved_by(&ALICE)],
        ),
    );
    w.git(&["checkout", "-q", "-b", "release", "origin/main"]);
    let subject = "Unapproved release fix";
    let bad = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));

    w.push(&["origin", "main", "release:refs/heads/release/1.0"])
        .assert_rejected_with(1)
        .assert_violation("error", RULE, "release/1.0", &bad, subject)
        .assert_silent_about(&good[..7]);
    w.assert_server_ref(MAIN, Some(&before));
    w.assert_server_ref("refs/heads/release/1.0", None);
}

#[test]
fn tag_pointing_at_a_tree_is_judged_by_deny_rules_only() {
    // The senior rule covers every ref, but a tree has no commits to judge.
    let w = World::with_policy(&policy(
        &SENIOR_RULE.replace("refs = [\"refs/heads/main\"]\n", ""),
    ));
    let tree = w.git(&["rev-parse", "HEAD^{tree}"]);
    w.push(&["origin", &format!("{tree}:refs/tags/just-a-tree")])
        .assert_accepted_silently();
    w.assert_server_ref("refs/tags/just-a-tree", Some(&tree));

    w.write_policy(&policy(
        r#"
[[rule]]
name = "no-new-tags"
message = "Tags are made by the release manager."
refs = ["refs/tags/**"]
deny = ["create"]
"#,
    ));
    w.push(&["origin", &format!("{tree}:refs/tags/another-tree")])
        .assert_rejected_with(1)
        .assert_line_with(&["error[no-new-tags]", "another-tree"]);
    w.assert_server_ref("refs/tags/another-tree", None);
}

#[test]
fn sha256_and_reftable_repositories_are_judged_like_any_other() {
    // Git 3.0's defaults. Each combination, whatever the suite's switch
    // says: an approved commit passes, an unapproved one is rejected by name.
    for (objects, refs) in [
        ("sha256", "files"),
        ("sha1", "reftable"),
        ("sha256", "reftable"),
    ] {
        let w = World::with_formats(objects, refs);
        w.install_hook();
        w.write_policy(&policy(SENIOR_RULE));
        let before = w.server_ref(MAIN).unwrap();
        assert_eq!(before.len(), if objects == "sha256" { 64 } else { 40 });

        let subject = "Approved in a Git 3.0 repository";
        let good = w.commit(
            &CAROL,
            &msg(subject, &["AI-Assisted: yes", &approved_by(&ALICE)]),
        );
        w.push(&["origin", "main"]).assert_accepted();
        w.assert_server_ref(MAIN, Some(&good));

        let bad = w.commit(&CAROL, &msg("Unapproved", &["AI-Assisted: yes"]));
        w.push(&["origin", "main"])
            .assert_rejected_with(1)
            .assert_line_with(&["error[ai-needs-senior-approval]", &bad[..7]]);
        w.assert_server_ref(MAIN, Some(&good));
    }
}

#[test]
fn commits_brought_in_by_a_merge_are_judged() {
    let w = World::with_policy(&policy(SENIOR_RULE));
    let before = w.server_ref(MAIN).unwrap();
    w.git(&["checkout", "-q", "-b", "topic"]);
    let subject = "Unapproved work on a topic";
    let bad = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));
    w.git(&["checkout", "-q", "main"]);
    w.commit(&ALICE, &msg("Senior work on main", &[]));
    // The merge itself is by a senior and declares nothing.
    w.merge(&ALICE, "topic", "Merge branch 'topic'\n");
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_violation("error", RULE, MAIN, &bad, subject);
    w.assert_server_ref(MAIN, Some(&before));
}

#[test]
fn commits_on_a_ref_another_rule_covers_are_still_judged_by_this_rule() {
    // "Already reachable from a ref the *same* rule covers": main is covered
    // by a different rule than release/**, so cutting a release from main
    // judges main's unchecked history under the release rule.
    let w = World::new();
    let subject = "Unapproved, from before the policy";
    let old = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));
    w.push(&["origin", "main"]).assert_code(0);

    w.install_hook();
    w.write_policy(&policy(
        r#"
[[rule]]
name = "main-approval"
refs = ["refs/heads/main"]
when = { ai_assisted = true, author_not_in = ["senior"] }
require = { approvals = { from = ["senior"], count = 1 } }

[[rule]]
name = "release-approval"
refs = ["refs/heads/release/**"]
when = { ai_assisted = true, author_not_in = ["senior"] }
require = { approvals = { from = ["senior"], count = 1 } }
"#,
    ));
    w.push(&["origin", "main:refs/heads/release/1.0"])
        .assert_rejected_with(1)
        .assert_violation("error", "release-approval", "release/1.0", &old, subject)
        .assert_silent_about("main-approval");
    w.assert_server_ref("refs/heads/release/1.0", None);
}

#[test]
fn an_existing_annotated_tag_hides_its_history_when_the_hook_lists_the_refs() {
    // Without a quarantine the hook hides every existing ref's history,
    // listed without peeling (git would read every ref's object for it):
    // the walk must peel an annotated tag to the commit it tags itself.
    let w = World::new();
    let main = w.server_ref("refs/heads/main").unwrap();
    let subject = "Unapproved but already tagged";
    let tagged = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));
    w.git(&["tag", "-a", "v1", "-m", "Version 1", &tagged]);
    let new = w.commit(&CAROL, &msg("Plain follow-up", &[]));
    // Before any hook: the tag, and the new commit's objects under a ref
    // that is then deleted (so only the tag names old history).
    w.push(&["origin", "refs/tags/v1", "HEAD:refs/heads/tmp"])
        .assert_code(0);
    w.server_git(&["update-ref", "-d", "refs/heads/tmp"]);
    assert_eq!(w.server_git(&["cat-file", "-t", "refs/tags/v1"]), "tag");
    w.install_hook();
    w.write_policy(&policy(
        &SENIOR_RULE.replace("refs = [\"refs/heads/main\"]\n", ""),
    ));
    let stdin = format!("{main} {new} refs/heads/main\n");
    w.pre_receive(&["--format", "json"], &stdin)
        .assert_code(0)
        .assert_says("\"commits_checked\":1");
    // The same commits without the tag: both judged, the tagged one fails.
    w.server_git(&["update-ref", "-d", "refs/tags/v1"]);
    w.pre_receive(&["--format", "json"], &stdin)
        .assert_code(1)
        .assert_says("\"commits_checked\":2")
        .assert_says(&tagged);
}

#[test]
fn a_ref_name_of_over_1024_bytes_is_judged_like_any_other() {
    // git takes a ref name of any length (each component within the file
    // system's 255 bytes); libgit2 cannot look one of 1024 bytes or more
    // up, so trailgate asks git. Before, every push to such a ref was
    // refused as "could not be judged", compliant or not.
    let w = World::with_policy(&policy(MAIN_AND_RELEASES));
    let segments: Vec<String> = (0..6).map(|i| format!("{i}{}", "r".repeat(199))).collect();
    let refname = format!("refs/heads/release/{}", segments.join("/"));
    assert!(refname.len() > 1024, "{} bytes", refname.len());
    w.commit(
        &CAROL,
        &msg("AI change, not approved", &["AI-Assisted: yes"]),
    );
    w.push(&["origin", &format!("HEAD:{refname}")])
        .assert_code(1)
        .assert_says(&format!("error[{RULE}]"));
    assert_eq!(w.server_ref(&refname), None);
    w.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let ok = w.commit(&CAROL, &msg("Human change", &["AI-Assisted: no"]));
    w.push(&["origin", &format!("HEAD:{refname}")])
        .assert_code(0);
    assert_eq!(w.server_ref(&refname).as_deref(), Some(ok.as_str()));
}
