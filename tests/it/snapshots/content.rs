//! What a pusher sees for rules about what commits are and what they
//! change: required trailers (warn mode), detected AI marks, blast-radius
//! limits per commit and per push, `max_commits`, repeated violations
//! grouped per rule and long reports cut after the limit, a failing commit
//! that is not the tip, and a declaration outside the trailer block.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::{Stage, Transcript};
use crate::support::*;

/// Pushes `main` under the guard already in place and checks the snapshot.
fn check_push(s: &Stage, name: &str, about: &str, accepted: bool) {
    let run = s.push(&["origin", "main"], &[]);
    if accepted {
        run.assert_accepted();
    } else {
        run.assert_rejected();
    }
    Transcript::new(s).push(about, &run).check(name, about);
}

#[test]
fn a_missing_required_trailer_in_warn_mode_is_a_warning_and_the_push_is_accepted() {
    let s = Stage::guarded(&policy(
        r#"
[[rule]]
name = "declare-ai-use"
mode = "warn"
message = "Say whether AI helped: add `AI-Assisted: yes` or `AI-Assisted: no`."
refs = ["refs/heads/main"]
require = { trailers = [ { key = "AI-Assisted", value = "(?i)^(yes|no)$" } ] }
"#,
    ));
    s.commit(&CAROL, &msg("Fix a typo", &[]));
    s.commit(&CAROL, &msg("Tune the cache", &["AI-Assisted: maybe"]));
    check_push(
        &s,
        "missing_trailer_warn_mode",
        "a warn-mode rule requiring `AI-Assisted: yes|no`: one commit without it, one with `maybe`",
        true,
    );
}

#[test]
fn an_ai_mark_without_a_declaration_is_rejected() {
    let s = Stage::guarded(&policy(
        r#"
[[rule]]
name = "declare-detected-ai"
message = "This commit carries the marks of an AI coding tool but does not declare it: add `AI-Assisted: yes`."
refs = ["refs/heads/main"]
when = { ai_detected = true, ai_declared = false }
require = { trailers = [ { key = "AI-Assisted", value = "(?i)^yes$" } ] }
"#,
    ));
    s.commit(
        &CAROL,
        &msg(
            "Speed up the importer",
            &["Co-Authored-By: Claude <noreply@anthropic.com>"],
        ),
    );
    s.commit(
        &DAVE,
        &msg(
            "Say it was not AI",
            &[
                "AI-Assisted: no",
                "Co-authored-by: Codex <noreply@openai.com>",
            ],
        ),
    );
    check_push(
        &s,
        "detected_but_undeclared_ai",
        "a Claude co-author mark with no declaration, and a Codex mark declared `AI-Assisted: no`",
        false,
    );
}

/// Seeds `count` files of `lines` lines each under `dir/` on the server
/// (before the guard is installed).
fn seed(s: &Stage, dir: &str, count: usize, lines: usize) {
    for i in 0..count {
        let body: String = (0..lines).map(|l| format!("line {l}\n")).collect();
        s.write(&format!("{dir}/f{i:03}.txt"), &body);
    }
    s.commit_all(&ALICE, &msg(&format!("Add {dir}"), &[]));
    s.push(&["origin", "main"], &[]).assert_code(0);
}

const BLAST: &str = r#"
[[rule]]
name = "ai-blast-radius"
message = "AI-assisted changes may not have a high blast radius: split them into smaller commits."
refs = ["refs/heads/main"]
when = { ai_assisted = true }
require = { max_files_deleted = 10, max_files_changed = 50, max_lines_added = 300, max_lines_deleted = 2000 }
"#;

#[test]
fn an_ai_commit_deleting_too_many_files_is_rejected() {
    let s = Stage::new();
    seed(&s, "legacy", 14, 2);
    s.install_hook();
    s.write_policy(&policy(BLAST));
    s.git(&["rm", "-q", "-r", "legacy"]);
    s.commit_all(
        &CAROL,
        &msg("Drop the legacy importer", &["AI-Assisted: yes"]),
    );
    check_push(
        &s,
        "blast_radius_files_deleted",
        "an AI-assisted commit deletes 14 files; the limit is 10",
        false,
    );
}

#[test]
fn an_ai_commit_over_two_line_limits_is_rejected() {
    let s = Stage::new();
    seed(&s, "docs", 1, 2500);
    s.install_hook();
    s.write_policy(&policy(BLAST));
    s.git(&["rm", "-q", "docs/f000.txt"]);
    let body: String = (0..400).map(|l| format!("new line {l}\n")).collect();
    s.write("docs/new.txt", &body);
    s.commit_all(&CAROL, &msg("Rewrite the docs", &["AI-Assisted: yes"]));
    check_push(
        &s,
        "blast_radius_lines",
        "one AI-assisted commit adds 400 lines (limit 300) and deletes 2500 (limit 2000)",
        false,
    );
}

#[test]
fn a_per_push_limit_catches_a_net_deletion_made_of_small_commits() {
    let s = Stage::new();
    seed(&s, "old", 9, 1);
    s.install_hook();
    s.write_policy(&policy(
        r#"
[[rule]]
name = "no-mass-deletion"
message = "Deleting this much at once needs an administrator."
refs = ["refs/heads/main"]
per = "push"
require = { max_files_deleted = 5 }
"#,
    ));
    for step in 0..3 {
        for i in 0..3 {
            s.git(&["rm", "-q", &format!("old/f{:03}.txt", step * 3 + i)]);
        }
        s.commit_all(&CAROL, &msg(&format!("Tidy up, part {}", step + 1), &[]));
    }
    check_push(
        &s,
        "per_push_net_deletion",
        "per = \"push\": three commits delete 3 files each, 9 net; the limit is 5",
        false,
    );
}

#[test]
fn a_push_with_more_commits_than_max_commits_is_rejected() {
    let s = Stage::guarded(&policy(&format!(
        "[settings]\nmax_commits = 3\n{SENIOR_RULE}"
    )));
    for i in 1..=4 {
        s.commit(&ALICE, &msg(&format!("Step {i}"), &[]));
    }
    check_push(
        &s,
        "max_commits_exceeded",
        "settings.max_commits = 3 and the push brings 4 new commits",
        false,
    );
}

#[test]
fn many_violations_of_one_rule_are_one_block_with_the_commits_cut_after_ten_and_one_fix() {
    let s = Stage::guarded(&policy(SENIOR_RULE));
    for i in 1..=23 {
        s.commit(
            &CAROL,
            &msg(&format!("Generated change {i}"), &["AI-Assisted: yes"]),
        );
    }
    check_push(
        &s,
        "many_violations_truncated",
        "23 unapproved commits: one block for the rule, 10 commits listed and a count of the \
         rest, one fix that covers them all (issue 14 item 6)",
        false,
    );
}

#[test]
fn a_failing_commit_below_the_tip_is_fixed_by_a_rebase_not_by_amending_the_tip() {
    let s = Stage::guarded(&policy(SENIOR_RULE));
    s.commit(&CAROL, &msg("Unapproved groundwork", &["AI-Assisted: yes"]));
    s.commit(&CAROL, &msg("Plain follow-up", &[]));
    check_push(
        &s,
        "non_tip_commit_fails",
        "the failing commit is the tip's parent: the help is a rebase that rewords it, never \
         `git commit --amend`, which would change the tip (issue 14 item 5)",
        false,
    );
}

#[test]
fn errors_and_warnings_are_grouped_per_rule_errors_first_and_counted_apart() {
    let s = Stage::guarded(&policy(&format!(
        "{SENIOR_RULE}{}",
        r#"
[[rule]]
name = "declare-ai-use"
mode = "warn"
message = "Say whether AI helped."
refs = ["refs/heads/main"]
require = { trailers = [ { key = "AI-Assisted", value = "(?i)^(yes|no)$" } ] }
"#
    )));
    s.commit(&CAROL, &msg("Undeclared change", &[]));
    for i in 1..=20 {
        s.commit(
            &CAROL,
            &msg(&format!("Generated change {i}"), &["AI-Assisted: yes"]),
        );
    }
    s.commit(&DAVE, &msg("Another undeclared change", &[]));
    check_push(
        &s,
        "errors_and_warnings_truncated",
        "20 errors and 2 warnings: one block per rule, and the summary counts the warnings \
         apart from the violations (issue 14 item 6)",
        false,
    );
}

#[test]
fn past_twenty_blocks_the_rest_is_counted_as_violations_and_warnings_apart() {
    let mut rules = String::new();
    for i in 0..22 {
        rules.push_str(&format!(
            "[[rule]]\nname = \"ticket-{i:02}\"\nrequire = {{ trailers = [ {{ key = \"Ticket-{i:02}\" }} ] }}\n\n"
        ));
    }
    for i in 0..3 {
        rules.push_str(&format!(
            "[[rule]]\nname = \"note-{i}\"\nmode = \"warn\"\nrequire = {{ trailers = [ {{ key = \"Note-{i}\" }} ] }}\n\n"
        ));
    }
    let s = Stage::guarded(&policy(&rules));
    s.commit(&CAROL, &msg("One commit, many rules", &[]));
    let run = s.push(&["origin", "main"], &[]);
    run.assert_rejected_with(22);
    assert!(
        run.stderr
            .contains("... and 2 more violations and 3 more warnings not shown"),
        "{}",
        run.dump()
    );
    let about = "one commit breaking 22 rules and 3 warn-mode rules: 20 blocks shown, the rest \
                 counted as violations and warnings apart (issue 14 item 6)";
    Transcript::new(&s)
        .push(about, &run)
        .check("blocks_past_the_limit", about);
}

#[test]
fn a_declaration_outside_the_trailer_block_is_named_as_ignored_with_the_fix() {
    let s = Stage::guarded(&policy(
        r#"
[[rule]]
name = "declare-ai-use"
message = "Say whether AI helped: add `AI-Assisted: yes` or `AI-Assisted: no`."
refs = ["refs/heads/main"]
require = { trailers = [ { key = "AI-Assisted", value = "(?i)^(yes|no)$" } ] }
"#,
    ));
    s.commit(
        &CAROL,
        "Tune the cache\n\nAI-Assisted: yes\n\n\
         This paragraph comes last, so the line above is not a trailer.\n",
    );
    // git is the oracle: it reads no trailer there.
    assert_eq!(s.git(&["log", "-1", "--format=%(trailers:only)"]), "");
    check_push(
        &s,
        "declaration_outside_trailer_block",
        "`AI-Assisted: yes` in a middle paragraph, which git does not read as a trailer: the \
         report says it was seen outside the trailer block and is ignored, and how to fix it \
         (issue 14 item 7)",
        false,
    );
}

#[test]
fn control_characters_and_bidi_overrides_in_a_subject_are_neutralised() {
    let s = Stage::guarded(&policy(SENIOR_RULE));
    s.commit(
        &CAROL,
        &msg(
            "Fix \u{202E}txt.exe\u{202C} and \x1b[31mred\x1b[0m text",
            &[
                "AI-Assisted: yes",
                "Approved-By: Dave\u{200B}\x07 <dave@example.com>",
            ],
        ),
    );
    check_push(
        &s,
        "untrusted_text_neutralised",
        "a subject with a right-to-left override and ANSI escapes (controls dropped, the \
         override shown as U+FFFD); an approver with a zero-width space (U+FFFD) and a BEL (a space)",
        false,
    );
}

#[test]
fn a_new_malformed_commit_is_refused_naming_it_and_the_problem() {
    let s = Stage::guarded(&policy(SENIOR_RULE));
    let tree = s.git(&["rev-parse", "HEAD^{tree}"]);
    let main = s.git(&["rev-parse", "HEAD"]);
    let data = format!(
        "tree {tree}\nparent {main}\nauthor {} <{}> 1700000000 +0000\ncommitter {} <{}> 1700000000 +0000\nauthor {} <{}> 1700000000 +0000\n\nAdd retries\n\nAI-Assisted: yes\n",
        CAROL.name, CAROL.email, CAROL.name, CAROL.email, ALICE.name, ALICE.email
    );
    let file = s.root.join("malformed-commit");
    std::fs::write(&file, data).unwrap();
    let oid = s.git(&[
        "hash-object",
        "-t",
        "commit",
        "--literally",
        "-w",
        file.to_str().unwrap(),
    ]);
    s.git(&["update-ref", "refs/heads/main", &oid]);
    check_push(
        &s,
        "malformed_commit_refused",
        "a commit with a second author line after the committer line (git log shows the \
         last, git show both): refused as malformed, naming the commit and the problem",
        false,
    );
}

#[test]
fn a_merge_that_deletes_files_in_its_resolution_is_rejected_for_what_it_did_itself() {
    let s = Stage::new();
    seed(&s, "legacy", 14, 2);
    s.install_hook();
    s.write_policy(&policy(BLAST));
    s.git(&["checkout", "-q", "-b", "topic"]);
    s.write("topic.txt", "topic\n");
    s.commit_all(&CAROL, &msg("Add the topic", &["AI-Assisted: yes"]));
    s.git(&["checkout", "-q", "main"]);
    s.write("main.txt", "main\n");
    s.commit_all(&ALICE, &msg("Main moves on", &[]));
    s.git(&["merge", "-q", "--no-ff", "--no-commit", "topic"]);
    s.git(&["rm", "-q", "-r", "legacy"]);
    s.commit_all(&CAROL, &msg("Merge the topic", &["AI-Assisted: yes"]));
    check_push(
        &s,
        "blast_radius_evil_merge",
        "an AI-assisted merge whose resolution deletes 14 files neither side deleted; git's clean merge of its parents is what it is measured against",
        false,
    );
}
