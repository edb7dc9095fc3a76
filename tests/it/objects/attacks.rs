//! Class 1 attacks: commit and tag objects git's readers read differently,
//! or that git's fsck calls malformed, pushed for real. Each is refused
//! (exit 2, the remote naming the object and the problem) and the server's
//! ref does not move. Several pass `receive.fsckObjects = true`: git itself
//! does not stop them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::support::*;
use crate::hardening::support::{hook, line, raw_object};
use crate::support::*;

/// A world with the attack policy, the server checking objects as strictly
/// as git can (`receive.fsckObjects`).
fn world() -> World {
    let w = World::with_policy(&attack_policy());
    w.server_config("receive.fsckObjects", "true");
    w
}

/// Writes a commit on top of the work tree's tip with `headers` after its
/// `tree` and `parent` lines, pushes it to main, and asserts it is refused
/// for `problem` with main left where it was. Returns the commit.
fn refused_on_main(w: &World, headers: &[&str], message: &str, problem: &str) -> String {
    let (tree, main) = tip(w);
    let (tree, parent) = (format!("tree {tree}"), format!("parent {main}"));
    let mut lines = vec![tree.as_str(), parent.as_str()];
    lines.extend_from_slice(headers);
    let new = raw(w, "commit", &commit_of(&lines, message));
    let run = push_as(w, &new, "main");
    assert_refused(w, &run, Some(&main), MAIN, &new, problem);
    new
}

#[test]
fn attack_parent_line_after_the_committer_makes_a_force_push_look_like_a_fast_forward() {
    let w = world();
    let base = w.git(&["rev-parse", "HEAD"]);
    let kept = w.push_accepted(&ALICE, "Second commit\n");
    let (tree, _) = tip(&w);
    // git reads one parent (base): main loses `kept`. A reader that took
    // every `parent` line saw `kept` as a parent, so a fast-forward.
    let data = commit_of(
        &[
            &format!("tree {tree}"),
            &format!("parent {base}"),
            CAROL_AUTHOR,
            CAROL_COMMITTER,
            &format!("parent {kept}"),
        ],
        "Rewrite main\n",
    );
    let new = raw(&w, "commit", &data);
    assert_eq!(w.git(&["log", "-1", "--format=%P", &new]), base);
    w.git(&["update-ref", MAIN, &new]);
    let run = w.push(&["origin", "+main"]);
    assert_refused(
        &w,
        &run,
        Some(&kept),
        MAIN,
        &new,
        "`parent` line after the committer line",
    );
}

#[test]
fn attack_tree_line_after_the_committer_hides_deleted_files() {
    let w = world();
    w.commit(&ALICE, "One\n");
    w.commit(&ALICE, "Two\n");
    let before = w.push_accepted(&ALICE, "Three\n");
    let (full_tree, _) = tip(&w);
    let empty = raw(&w, "tree", b"");
    // git's tree is the empty one (every file deleted); a reader that took
    // the last `tree` line saw no change at all.
    let data = commit_of(
        &[
            &format!("tree {empty}"),
            &format!("parent {before}"),
            CAROL_AUTHOR,
            CAROL_COMMITTER,
            &format!("tree {full_tree}"),
        ],
        "Tidy up\n",
    );
    let new = raw(&w, "commit", &data);
    assert_eq!(w.git(&["log", "-1", "--format=%T", &new]), empty);
    let run = push_as(&w, &new, "main");
    assert_refused(
        &w,
        &run,
        Some(&before),
        MAIN,
        &new,
        "`tree` line after the committer line",
    );
}

#[test]
fn attack_author_line_after_the_committer_claims_a_senior() {
    let w = world();
    let (tree, main) = tip(&w);
    let data = commit_of(
        &[
            &format!("tree {tree}"),
            &format!("parent {main}"),
            CAROL_AUTHOR,
            CAROL_COMMITTER,
            ALICE_AUTHOR,
        ],
        "Add retries\n\nAI-Assisted: yes\n",
    );
    let new = raw(&w, "commit", &data);
    // git log shows Alice, git show both: the readers disagree.
    assert_eq!(
        w.git(&["log", "-1", "--format=%ae", &new]),
        "alice@example.com"
    );
    assert_eq!(w.git(&["show", "-s", &new]).matches("Author:").count(), 2);
    let run = push_as(&w, &new, "main");
    assert_refused(
        &w,
        &run,
        Some(&main),
        MAIN,
        &new,
        "`author` line after the committer line",
    );
}

#[test]
fn attack_two_author_lines_before_the_committer() {
    // git fsck calls this multipleAuthors; receive-pack takes it without
    // receive.fsckObjects, the default.
    let w = World::with_policy(&attack_policy());
    refused_on_main(
        &w,
        &[CAROL_AUTHOR, ALICE_AUTHOR, CAROL_COMMITTER],
        "Add retries\n\nAI-Assisted: yes\n",
        "multipleAuthors",
    );
}

#[test]
fn attack_malformed_commit_through_an_unprotected_branch() {
    // No rule covers `feature`, but the commit would be old history once
    // accepted there, never checked again when main is moved onto it.
    let w = world();
    let (tree, main) = tip(&w);
    let data = commit_of(
        &[
            &format!("tree {tree}"),
            &format!("parent {main}"),
            CAROL_AUTHOR,
            CAROL_COMMITTER,
            ALICE_AUTHOR,
        ],
        "Add retries\n\nAI-Assisted: yes\n",
    );
    let new = raw(&w, "commit", &data);
    let run = push_as(&w, &new, "feature");
    assert_refused(
        &w,
        &run,
        None,
        "refs/heads/feature",
        &new,
        "`author` line after the committer line",
    );
}

#[test]
fn attack_second_encoding_header_changes_the_message() {
    // git reads the first encoding header, libgit2 the last.
    let w = world();
    refused_on_main(
        &w,
        &[
            CAROL_AUTHOR,
            CAROL_COMMITTER,
            "encoding UTF-8",
            "encoding UTF-16LE",
        ],
        "Add retries\n\nAI-Assisted: yes\n",
        "second `encoding` header",
    );
}

#[test]
fn attack_second_signature_header() {
    let w = world();
    refused_on_main(
        &w,
        &[
            CAROL_AUTHOR,
            CAROL_COMMITTER,
            "gpgsig -----BEGIN SSH SIGNATURE-----",
            " AAAA",
            " -----END SSH SIGNATURE-----",
            "gpgsig -----BEGIN SSH SIGNATURE-----",
            " BBBB",
            " -----END SSH SIGNATURE-----",
        ],
        "Signed twice\n",
        "second `gpgsig` header",
    );
}

#[test]
fn attack_continuation_line_after_the_committer() {
    let w = world();
    refused_on_main(
        &w,
        &[
            CAROL_AUTHOR,
            CAROL_COMMITTER,
            " Alice Senior <alice@example.com> 1700000000 +0000",
        ],
        "Continued\n",
        "continuation line",
    );
}

#[test]
fn attack_crlf_header_lines() {
    // git log reads Alice's line with its CR as Alice; git fsck calls the
    // time zone bad.
    let w = World::with_policy(&attack_policy());
    let (tree, main) = tip(&w);
    let data = format!(
        "tree {tree}\nparent {main}\n{ALICE_AUTHOR}\r\n{CAROL_COMMITTER}\r\n\r\nCRLF\r\n\r\nAI-Assisted: yes\r\n"
    );
    let new = raw(&w, "commit", data.as_bytes());
    assert_eq!(
        w.git(&["log", "-1", "--format=%ae", &new]),
        "alice@example.com"
    );
    let run = push_as(&w, &new, "main");
    assert_refused(&w, &run, Some(&main), MAIN, &new, "badTimezone");
}

#[test]
fn attack_nul_in_a_header() {
    let w = World::with_policy(&attack_policy());
    refused_on_main(
        &w,
        &[CAROL_AUTHOR, CAROL_COMMITTER, "x-note a\0b"],
        "NUL\n",
        "nulInHeader",
    );
}

#[test]
fn attack_ident_without_a_space_before_the_date() {
    let w = World::with_policy(&attack_policy());
    refused_on_main(
        &w,
        &[
            "author Alice Senior <alice@example.com>1700000000 +0000",
            CAROL_COMMITTER,
        ],
        "No space\n\nAI-Assisted: yes\n",
        "missingSpaceBeforeDate",
    );
}

#[test]
fn attack_tag_that_names_an_object_of_another_type() {
    // git refuses to peel a tag whose `type` line lies; trailgate followed
    // the object line to whatever it named.
    let w = World::with_policy(&attack_policy());
    let tree = raw_object(&w, "tree", b"");
    let data =
        format!("object {tree}\ntype commit\ntag v1\ntagger T <t@example.com> 1 +0000\n\nx\n");
    let tag = raw_object(&w, "tag", data.as_bytes());
    let run = hook(&w, &[], &line(&ZERO, &tag, "refs/tags/v1"), &[]);
    run.assert_code(2);
    run.assert_says(&format!("tag {tag} is malformed"));
    run.assert_says("it says it tags a commit, but the object it names is a tree");
}

#[test]
fn attack_tag_with_a_malformed_tagger() {
    let w = World::with_policy(&attack_policy());
    let main = w.server_ref(MAIN).unwrap();
    let data = format!("object {main}\ntype commit\ntag v1\ntagger Alice Senior 1 +0000\n\nx\n");
    let tag = raw_object(&w, "tag", data.as_bytes());
    let run = hook(&w, &[], &line(&ZERO, &tag, "refs/tags/v1"), &[]);
    run.assert_code(2);
    run.assert_says(&format!("tag {tag} is malformed"));
    run.assert_says("missingEmail");
}
