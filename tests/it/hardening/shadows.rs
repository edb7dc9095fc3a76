//! Refs that shadow a protected branch (red team, after issue 13). git
//! resolves a short name `main` as `refs/tags/main` before
//! `refs/heads/main` (`git help revisions`: the tag wins, with only a
//! warning), so a tag named like a protected branch puts unjudged commits
//! wherever the server's scripts, or a clone that fetched tags, say
//! `git archive main`, `git log main` or `git merge main`. receive-pack
//! itself refuses `refs/main` ("funny refname"), not `refs/tags/main`.
//! Such a tag is judged under the branch's rules too.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;

#[test]
fn attack_tag_named_like_the_protected_branch_shadows_it() {
    let w = World::with_policy(&policy(SENIOR_RULE));
    let oid = w.commit(&CAROL, &msg("Unreviewed", &["AI-Assisted: yes"]));
    let run = w.push(&["origin", &format!("{oid}:refs/tags/main")]);
    // What git on the server now means by `main`: the unapproved commit.
    if run.success() {
        let short = w.server_git(&["rev-parse", "main"]);
        eprintln!("`git rev-parse main` on the server: {short}");
    }
    run.assert_rejected();
    assert_eq!(w.server_ref("refs/tags/main"), None);
}

#[test]
fn a_tag_named_like_a_branch_of_judged_commits_and_other_tags_pass() {
    let w = World::with_policy(&policy(SENIOR_RULE));
    // A tag at main's own tip brings nothing new.
    let tip = w.server_ref("refs/heads/main").unwrap();
    w.push(&["origin", &format!("{tip}:refs/tags/main")])
        .assert_accepted_silently();
    // A tag named like no protected branch is judged as before (the
    // senior rule covers only main).
    let oid = w.commit(&CAROL, &msg("Unreviewed", &["AI-Assisted: yes"]));
    w.push(&["origin", &format!("{oid}:refs/tags/v1")])
        .assert_accepted_silently();
    // Nor does a tag named like a branch that does not exist.
    w.push(&["origin", &format!("{oid}:refs/tags/release")])
        .assert_accepted_silently();
}
