//! Things a pusher could use to fool the hook. trailgate reads the real
//! objects (no replace refs, no grafts, no shallow boundary), reads trailers
//! exactly as `git log` does, identifies approvers by e-mail only, and
//! compares trailer keys as ASCII bytes: a look-alike key is another key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::support::*;
use crate::support::*;

const RULE: &str = "ai-needs-senior-approval";

fn carol_lines_at(time: u64) -> [Vec<u8>; 2] {
    [
        format!("author Carol <carol@example.com> {time} +0000").into_bytes(),
        format!("committer Carol <carol@example.com> {time} +0000").into_bytes(),
    ]
}

/// A commit by Carol with `parents` and `message`, committed at `time`.
fn carol_at(w: &World, parents: &[&str], time: u64, message: &str) -> String {
    let tree = empty_tree(w);
    let lines = carol_lines_at(time);
    let headers: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    raw_object(
        w,
        "commit",
        &commit_bytes(&tree, parents, &headers, message.as_bytes()),
    )
}

const UNAPPROVED: &str = "Sneaky change\n\nAI-Assisted: yes\n";

fn approved() -> String {
    format!(
        "Sneaky change\n\nAI-Assisted: yes\n{}\n",
        approved_by(&ALICE)
    )
}

#[test]
fn a_replace_ref_on_the_server_does_not_change_the_commit_that_is_judged() {
    let w = World::with_policy(&senior_policy());
    let main = w.server_ref(MAIN).unwrap();
    let bad = carol_at(&w, &[&main], 1_700_000_000, UNAPPROVED);
    let good_looking = carol_at(&w, &[&main], 1_700_000_000, &approved());
    w.server_git(&["replace", &bad, &good_looking]);
    // git itself now shows the approved message for the bad commit.
    assert!(w
        .server_git(&["log", "-1", "--format=%B", &bad])
        .contains("Approved-By"));
    let run = hook(&w, &[], &line(&main, &bad, MAIN), &[]);
    assert_rejected_by(&run, RULE);
    run.assert_says(&bad[..7]);
}

#[test]
fn a_replace_ref_pushed_with_the_commit_does_not_change_what_is_judged() {
    let w = World::with_policy(&senior_policy());
    let before = w.server_ref(MAIN).unwrap();
    let bad = w.commit(&CAROL, UNAPPROVED);
    w.git(&["checkout", "-q", "-b", "disguise", "HEAD~1"]);
    let disguise = w.commit(&CAROL, &approved());
    w.git(&["checkout", "-q", "main"]);
    w.git(&["replace", &bad, &disguise]);
    let run = w.push(&[
        "origin",
        "main",
        &format!("refs/replace/{bad}:refs/replace/{bad}"),
    ]);
    run.assert_rejected();
    run.assert_says(&format!("error[{RULE}]"));
    w.assert_server_ref(MAIN, Some(&before));
    w.assert_server_ref(&format!("refs/replace/{bad}"), None);
}

/// main <- bad (unapproved, AI) <- tip (plain): the history a graft or a
/// shallow boundary could cut at `tip`.
fn hidden_behind(w: &World) -> (String, String, String) {
    let main = w.server_ref(MAIN).unwrap();
    let bad = carol_at(w, &[&main], 1_700_000_000, UNAPPROVED);
    let tip = carol_at(w, &[&bad], 1_700_000_100, "Plain follow-up\n");
    (main, bad, tip)
}

#[test]
fn a_graft_on_the_server_does_not_hide_commits_from_the_walk() {
    let w = World::with_policy(&senior_policy());
    let (main, bad, tip) = hidden_behind(&w);
    // The graft claims `tip`'s parent is `main`: `bad` vanishes from git's view.
    std::fs::create_dir_all(w.server.join("info")).unwrap();
    std::fs::write(w.server.join("info/grafts"), format!("{tip} {main}\n")).unwrap();
    let run = hook(&w, &[], &line(&main, &tip, MAIN), &[]);
    assert_rejected_by(&run, RULE);
    run.assert_says(&bad[..7]);
}

#[test]
fn a_shallow_file_on_the_server_does_not_hide_commits_from_the_walk() {
    let w = World::with_policy(&senior_policy());
    let (main, bad, tip) = hidden_behind(&w);
    // A shallow boundary at `tip`: git treats it as having no parents.
    std::fs::write(w.server.join("shallow"), format!("{tip}\n")).unwrap();
    let run = hook(&w, &[], &line(&main, &tip, MAIN), &[]);
    assert_rejected_by(&run, RULE);
    run.assert_says(&bad[..7]);
}

const PROTECT_MAIN: &str = r#"
[[rule]]
name = "protect-main"
refs = ["refs/heads/main"]
deny = ["force-push", "delete"]
"#;

#[test]
fn a_shallow_boundary_cannot_make_a_force_push_look_like_a_fast_forward() {
    let w = World::with_policy(&policy(PROTECT_MAIN));
    let main = w.server_ref(MAIN).unwrap();
    let unrelated = carol_at(&w, &[], 1_700_000_000, "Unrelated root\n");
    std::fs::write(w.server.join("shallow"), format!("{main}\n")).unwrap();
    let run = hook(&w, &[], &line(&main, &unrelated, MAIN), &[]);
    assert_rejected_by(&run, "protect-main");
}

#[test]
fn a_push_from_a_shallow_clone_is_judged_and_rejected() {
    let w = World::with_policy(&senior_policy());
    w.commit(&ALICE, "Second commit\n");
    w.git(&["push", "-q", "origin", "main"]);
    let shallow = w.root.join("shallow-clone");
    w.run_git(
        &w.root,
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &format!("file://{}", w.server.display()),
            shallow.to_str().unwrap(),
        ],
    )
    .assert_code(0);
    assert!(shallow.join(".git/shallow").exists());
    std::fs::write(shallow.join("ai.txt"), "generated\n").unwrap();
    w.run_git(&shallow, &["add", "ai.txt"]).assert_code(0);
    let env = [
        ("GIT_AUTHOR_NAME", CAROL.name),
        ("GIT_AUTHOR_EMAIL", CAROL.email),
    ];
    w.run_git_env(
        &shallow,
        &[
            "commit",
            "-q",
            "-m",
            "From a shallow clone\n\nAI-Assisted: yes",
        ],
        &env,
    )
    .assert_code(0);
    let before = w.server_ref(MAIN).unwrap();
    let run = w.run_git(&shallow, &["push", "origin", "main"]);
    run.assert_rejected();
    run.assert_says(&format!("error[{RULE}]"));
    w.assert_server_ref(MAIN, Some(&before));

    // The same clone can push an approved commit.
    w.run_git(&shallow, &["reset", "-q", "--hard", "origin/main"])
        .assert_code(0);
    std::fs::write(shallow.join("ai.txt"), "generated\n").unwrap();
    w.run_git(&shallow, &["add", "ai.txt"]).assert_code(0);
    let message = format!("Approved\n\nAI-Assisted: yes\n{}", approved_by(&ALICE));
    w.run_git_env(&shallow, &["commit", "-q", "-m", &message], &env)
        .assert_code(0);
    w.run_git(&shallow, &["push", "origin", "main"])
        .assert_accepted();
}

/// What `git log` shows as the commit's trailers, one per line.
fn git_view(w: &World, oid: &str) -> String {
    w.server_git(&["log", "-1", "--format=%(trailers:only,unfold)", oid])
}

/// Judges a commit by Carol with exactly `message` and checks the decision
/// against git's own reading of its trailers: rejected exactly when git sees
/// an AI declaration and no senior's approval.
fn judged_as_git_reads_it(message: &str) -> (Run, String) {
    let w = World::with_policy(&senior_policy());
    let main = w.server_ref(MAIN).unwrap();
    let oid = carol_at(&w, &[&main], 1_700_000_000, message);
    let seen = git_view(&w, &oid);
    let declared = seen
        .lines()
        .any(|l| l.eq_ignore_ascii_case("ai-assisted: yes"));
    let approved = seen.lines().any(|l| {
        l.to_ascii_lowercase().starts_with("approved-by: ")
            && (l.contains("<alice@example.com>") || l.ends_with(": alice"))
    });
    let run = hook(&w, &[], &line(&main, &oid, MAIN), &[]);
    assert_no_crash(&run);
    let expected = if declared && !approved { 1 } else { 0 };
    assert_eq!(
        run.code,
        Some(expected),
        "git sees {seen:?} for {message:?}\n{}",
        run.dump()
    );
    (run, seen)
}

#[test]
fn a_declaration_after_a_dashes_line_is_still_read_because_git_log_reads_it() {
    let (run, seen) = judged_as_git_reads_it("Subject\n\nBody\n---\n\nAI-Assisted: yes\n");
    assert_eq!(seen, "AI-Assisted: yes");
    assert_rejected_by(&run, RULE);
}

#[test]
fn an_approval_after_a_dashes_line_in_the_trailer_block_is_read_as_git_reads_it() {
    judged_as_git_reads_it(&format!(
        "Subject\n\nAI-Assisted: yes\n---\n{}\n",
        approved_by(&ALICE)
    ));
    judged_as_git_reads_it(&format!(
        "Subject\n\nAI-Assisted: yes\n\n---\n{}\n",
        approved_by(&ALICE)
    ));
}

#[test]
fn an_approval_inside_a_comment_line_does_not_count() {
    let (run, _) = judged_as_git_reads_it(&format!(
        "Subject\n\nAI-Assisted: yes\n# {}\n",
        approved_by(&ALICE)
    ));
    assert_rejected_by(&run, RULE);
}

#[test]
fn an_approval_in_an_earlier_paragraph_does_not_count() {
    let (run, _) = judged_as_git_reads_it(&format!(
        "Subject\n\n{}\n\nAI-Assisted: yes\n",
        approved_by(&ALICE)
    ));
    assert_rejected_by(&run, RULE);
}

#[test]
fn an_approval_below_a_scissors_line_is_read_as_git_reads_it() {
    judged_as_git_reads_it(&format!(
        "Subject\n\nAI-Assisted: yes\n\n# ------------------------ >8 ------------------------\n{}\n",
        approved_by(&ALICE)
    ));
}

#[test]
fn an_approval_with_a_seniors_name_but_someone_elses_email_does_not_count() {
    for value in [
        "Alice Senior <carol@example.com>",
        "Alice Senior <mallory@evil.example>",
        "alice <dave@example.com>",
        "alice@example.com <dave@example.com>",
        "Alice Senior <alice@example.com.evil.example>",
        "Alice Senior <alice@example.com",
        "Alice Senior alice@example.com",
    ] {
        let (run, _) = judged_as_git_reads_it(&format!(
            "Subject\n\nAI-Assisted: yes\nApproved-By: {value}\n"
        ));
        assert_rejected_by(&run, RULE);
    }
}

#[test]
fn an_approval_with_someone_elses_name_but_a_seniors_email_counts_as_the_senior() {
    // Only the e-mail identifies (README, "Approvals").
    let (run, _) = judged_as_git_reads_it(
        "Subject\n\nAI-Assisted: yes\nApproved-By: Carol <alice@example.com>\n",
    );
    run.assert_code(0);
}

#[test]
fn look_alike_or_invisible_characters_in_an_approval_key_never_approve() {
    for key in [
        "\u{410}pproved-By",   // Cyrillic capital A
        "Appr\u{43e}ved-By",   // Cyrillic small o
        "Approved\u{200d}-By", // zero-width joiner
        "Approved-By\u{200b}", // zero-width space before the colon
        "\u{feff}Approved-By", // byte-order mark
        "Approved\u{2010}By",  // Unicode hyphen
        "Approved-B\u{443}",   // Cyrillic small u
        "Ａpproved-By",        // full-width A
    ] {
        // With a Signed-off-by line the block stays a trailer block under
        // git's 25% rule, so the AI declaration is read and the look-alike
        // line is just a non-trailer line inside it.
        let (run, seen) = judged_as_git_reads_it(&format!(
            "Subject\n\nAI-Assisted: yes\nSigned-off-by: Carol <carol@example.com>\n{key}: {}\n",
            ALICE.ident()
        ));
        assert_rejected_by(&run, RULE);
        assert!(!seen.contains("Approved-By"), "{seen:?}");
    }
    let (run, _) = judged_as_git_reads_it(&format!(
        "Subject\n\nAI-Assisted: yes\nSigned-off-by: Carol <carol@example.com>\nApproved-By\u{ff1a} {}\n",
        ALICE.ident()
    ));
    assert_rejected_by(&run, RULE);
}

#[test]
fn look_alike_or_invisible_characters_in_an_approvers_email_never_approve() {
    for approver in [
        "Alice Senior <alic\u{435}@example.com>",
        "Alice Senior <alice\u{200b}@example.com>",
        "Alice Senior <alice@example.com\u{200b}>",
        "Alice Senior <\u{202e}alice@example.com>",
        "\u{430}lice",
        "alice\u{200b}",
    ] {
        let (run, _) = judged_as_git_reads_it(&format!(
            "Subject\n\nAI-Assisted: yes\nApproved-By: {approver}\n"
        ));
        assert_rejected_by(&run, RULE);
    }
}

#[test]
fn a_look_alike_ai_key_declares_nothing_and_the_ascii_key_in_any_case_declares() {
    // `АI-Assisted` with a Cyrillic А is not the policy's key (nor, for
    // git, a trailer): it declares nothing.
    let (run, seen) = judged_as_git_reads_it("Subject\n\n\u{410}I-Assisted: yes\n");
    run.assert_code(0);
    assert_eq!(seen, "");
    let (run, _) = judged_as_git_reads_it("Subject\n\nAI\u{200d}-Assisted: yes\n");
    run.assert_code(0);
    // ASCII case does not matter.
    let (run, _) = judged_as_git_reads_it("Subject\n\nai-ASSISTED: yes\n");
    assert_rejected_by(&run, RULE);
}
#[test]
fn a_graft_cannot_make_a_force_push_look_like_a_fast_forward() {
    let w = World::with_policy(&policy(PROTECT_MAIN));
    let main = w.server_ref(MAIN).unwrap();
    let unrelated = carol_at(&w, &[], 1_700_000_000, "Unrelated root\n");
    std::fs::create_dir_all(w.server.join("info")).unwrap();
    std::fs::write(
        w.server.join("info/grafts"),
        format!("{unrelated} {main}\n"),
    )
    .unwrap();
    let run = hook(&w, &[], &line(&main, &unrelated, MAIN), &[]);
    assert_rejected_by(&run, "protect-main");
    run.assert_says("force-pushed");
}

#[test]
fn a_fast_forward_of_commits_dated_before_the_old_tip_is_not_a_force_push() {
    // Dates only order the walk: 40 commits on top of main, all dated years
    // before it (clock skew, an old import), are still a fast-forward.
    let w = World::with_policy(&policy(PROTECT_MAIN));
    let main = w.server_ref(MAIN).unwrap();
    let mut tip = main.clone();
    for i in 0..40 {
        tip = carol_at(&w, &[&tip], 1_000_000_000 + i, &format!("Old commit {i}\n"));
    }
    let run = hook(&w, &[], &line(&main, &tip, MAIN), &[]);
    assert_no_crash(&run);
    run.assert_code(0);

    // And a real force-push with equally old dates is still one.
    let other = carol_at(&w, &[], 1_000_000_000, "Unrelated root\n");
    let run = hook(&w, &[], &line(&main, &other, MAIN), &[]);
    assert_rejected_by(&run, "protect-main");
}
