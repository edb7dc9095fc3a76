//! The catalogue, part 2: commit objects a pusher controls. Odd messages are
//! judged as git reads them (a decision, exit 0 or 1); objects git itself
//! could not have written are exit 2 naming the commit; nothing panics or
//! hangs. The objects are written with `git hash-object --literally`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use super::support::*;
use crate::support::*;

const RULE: &str = "ai-needs-senior-approval";

/// What git itself prints as the commit's trailers.
fn git_trailers(w: &World, oid: &str) -> String {
    w.server_git(&["log", "-1", "--format=%(trailers:only,unfold)", oid])
}

fn judge(w: &World, old: &str, new: &str) -> Run {
    hook(w, &[], &line(old, new, MAIN), &[])
}

#[test]
fn an_empty_message_is_judged_and_accepted() {
    let w = World::with_policy(&senior_policy());
    let (old, new) = carol_commit(&w, b"");
    let run = judge(&w, &old, &new);
    assert_no_crash(&run);
    run.assert_code(0);
}

#[test]
fn a_tip_commit_with_no_blank_line_and_no_message_is_judged_as_an_empty_message() {
    // git reads such an object as a commit with an empty message; so does
    // trailgate, at the tip as further down (it parses raw objects itself).
    // git fsck accepts it as long as the last header line ends in a newline.
    let tree_and_parent = |w: &World| {
        let main = w.server_ref(MAIN).unwrap();
        let tree = empty_tree(w);
        let data = format!(
            "tree {tree}\nparent {main}\nauthor Carol <carol@example.com> 1700000000 +0000\ncommitter Carol <carol@example.com> 1700000000 +0000\n"
        );
        (main, raw_object(w, "commit", data.as_bytes()))
    };
    let w = World::with_policy(&senior_policy());
    let (main, new) = tree_and_parent(&w);
    let run = judge(&w, &main, &new);
    assert_no_crash(&run);
    run.assert_code(0);

    // Judged, not skipped: a rule requiring a trailer rejects it.
    let w = World::with_policy(&policy(
        "[[rule]]\nname = \"declare\"\nrequire = { trailers = [ { key = \"AI-Assisted\" } ] }\n",
    ));
    let (main, new) = tree_and_parent(&w);
    let run = judge(&w, &main, &new);
    assert_no_crash(&run);
    run.assert_code(1);
    assert!(
        run.stderr.contains("error[declare]") && run.stderr.contains(&new[..7]),
        "{}",
        run.dump()
    );

    // Without that newline git fsck calls the header unterminated: refused.
    let w = World::with_policy(&senior_policy());
    let main = w.server_ref(MAIN).unwrap();
    let tree = empty_tree(&w);
    let data = format!(
        "tree {tree}\nparent {main}\nauthor Carol <carol@example.com> 1700000000 +0000\ncommitter Carol <carol@example.com> 1700000000 +0000"
    );
    let new = raw_object(&w, "commit", data.as_bytes());
    let run = judge(&w, &main, &new);
    assert_cannot_judge(&run, &new);
    run.assert_says("unterminatedHeader");
}

#[test]
fn a_20_mb_message_declaring_ai_is_rejected_within_seconds() {
    let w = World::with_policy(&senior_policy());
    let mut message = b"Huge\n\n".to_vec();
    while message.len() < 20 << 20 {
        message.extend_from_slice(b"lorem ipsum dolor sit amet, consectetur adipiscing elit\n");
    }
    message.extend_from_slice(b"\nAI-Assisted: yes\n");
    let (old, new) = carol_commit(&w, &message);
    let start = Instant::now();
    let run = judge(&w, &old, &new);
    assert_rejected_by(&run, RULE);
    assert!(start.elapsed() < WITHIN_SECONDS, "{:?}", start.elapsed());
    assert!(run.stderr.len() < 10_000, "the report stays short");
}

#[test]
fn a_message_with_100000_trailer_lines_is_judged_within_seconds() {
    let w = World::with_policy(&senior_policy());
    let mut message = b"Many trailers\n\nBody.\n\n".to_vec();
    for i in 0..100_000 {
        message.extend_from_slice(format!("X-Note-{i}: value {i}\n").as_bytes());
    }
    message.extend_from_slice(b"AI-Assisted: yes\n");
    let (old, new) = carol_commit(&w, &message);
    let start = Instant::now();
    let run = judge(&w, &old, &new);
    assert_rejected_by(&run, RULE);
    assert!(start.elapsed() < WITHIN_SECONDS, "{:?}", start.elapsed());
}

#[test]
fn attack_nul_byte_hides_a_declaration_from_git_log() {
    // git log (and its trailer parser) stops at a NUL, git cat-file does
    // not: a new commit with one is refused, whatever each reader sees.
    let w = World::with_policy(&senior_policy());
    let (old, new) = carol_commit(&w, b"Subject\n\nBody\0\n\nAI-Assisted: yes\n");
    assert_eq!(
        git_trailers(&w, &new),
        "",
        "git sees no trailer after a NUL"
    );
    let run = judge(&w, &old, &new);
    assert_cannot_judge(&run, &new);
    run.assert_says("nulInCommit");

    let w = World::with_policy(&senior_policy());
    let (old, new) = carol_commit(&w, b"Sub\0ject\n\nAI-Assisted: yes\n");
    assert_cannot_judge(&judge(&w, &old, &new), "NUL byte in its message");
}

#[test]
fn invalid_utf8_in_the_subject_and_a_trailer_value_still_declares_ai() {
    let w = World::with_policy(&senior_policy());
    let (old, new) = carol_commit(
        &w,
        b"Fix \xff\xfe bytes\n\nBody.\n\nAI-Assisted: \xc3\x28yes\n",
    );
    let run = judge(&w, &old, &new);
    assert_rejected_by(&run, RULE);
    run.assert_says("Fix \u{fffd}\u{fffd} bytes");
}

/// Carol's commit on main with an `encoding` header and `message` in that
/// encoding, judged as pushed.
fn judge_encoded(encoding: &[u8], message: &[u8]) -> Run {
    let w = World::with_policy(&senior_policy());
    let main = w.server_ref(MAIN).unwrap();
    let tree = empty_tree(&w);
    let header = [b"encoding ".as_slice(), encoding].concat();
    let mut headers: Vec<&[u8]> = CAROL_LINES.to_vec();
    headers.push(&header);
    let new = raw_object(
        &w,
        "commit",
        &commit_bytes(&tree, &[&main], &headers, message),
    );
    judge(&w, &main, &new)
}

#[test]
fn an_iso_8859_1_message_is_read_as_git_log_shows_it() {
    let run = judge_encoded(b"ISO-8859-1", b"Caf\xe9 cr\xe8me\n\nAI-Assisted: oui\n");
    assert_rejected_by(&run, RULE);
    run.assert_says("Café crème");
}

#[test]
fn a_shift_jis_message_is_read_as_git_log_shows_it() {
    // "日本語" in Shift-JIS.
    let run = judge_encoded(
        b"Shift_JIS",
        b"\x93\xfa\x96\x7b\x8c\xea\n\nAI-Assisted: yes\n",
    );
    assert_rejected_by(&run, RULE);
    run.assert_says("日本語");
}

#[test]
fn an_unknown_encoding_header_leaves_the_message_as_it_is() {
    let run = judge_encoded(b"x-no-such-charset\xff", b"Subject\n\nAI-Assisted: yes\n");
    assert_rejected_by(&run, RULE);
}

/// A commit by Carol's e-mail would be judged; these author lines are broken.
fn with_author_line(author: &[u8]) -> (World, String, String) {
    let w = World::with_policy(&senior_policy());
    let main = w.server_ref(MAIN).unwrap();
    let tree = empty_tree(&w);
    let new = raw_object(
        &w,
        "commit",
        &commit_bytes(
            &tree,
            &[&main],
            &[
                author,
                b"committer Carol <carol@example.com> 1700000000 +0000",
            ],
            b"Subject\n\nAI-Assisted: yes\n",
        ),
    );
    (w, main, new)
}

/// Author lines git never writes (`git fsck` would flag them).
const MALFORMED_AUTHORS: [&[u8]; 9] = [
    b"author Nobody 1700000000 +0000",
    b"author Open <bracket 1700000000 +0000",
    b"author <> 1700000000 +0000",
    b"author",
    b"author Carol <carol@example.com>",
    b"author Carol <carol@example.com> notatime +0000",
    b"author Carol <carol@example.com> 99999999999999999999999999 +0000",
    b"author Carol <carol@example.com> -5 +9999",
    b"author Alice Senior alice@example.com 1700000000 +0000",
];

#[test]
fn a_pushed_tip_with_a_malformed_author_line_is_never_accepted() {
    for author in MALFORMED_AUTHORS {
        let (w, main, new) = with_author_line(author);
        let run = judge(&w, &main, &new);
        assert_no_crash(&run);
        // Judged as an unknown author (1), or refused as unreadable by
        // libgit2, which reads the pushed tip (2): never accepted.
        match run.code {
            Some(1) => run.assert_says(&format!("error[{RULE}]")),
            Some(2) => run.assert_says(&new),
            _ => panic!(
                "{:?} was not rejected\n{}",
                String::from_utf8_lossy(author),
                run.dump()
            ),
        };
    }
}

#[test]
fn a_tip_commit_without_an_author_line_is_never_accepted() {
    let w = World::with_policy(&senior_policy());
    let main = w.server_ref(MAIN).unwrap();
    let tree = empty_tree(&w);
    let new = raw_object(
        &w,
        "commit",
        &commit_bytes(&tree, &[&main], &[], b"Subject\n\nAI-Assisted: yes\n"),
    );
    let run = judge(&w, &main, &new);
    assert_no_crash(&run);
    assert!(matches!(run.code, Some(1) | Some(2)), "{}", run.dump());
}

#[test]
fn attack_two_author_lines_pick_the_author() {
    // git log shows the last author line, git show both, and git fsck calls
    // the object malformed (multipleAuthors): a new one is refused, whichever
    // comes last.
    let w = World::with_policy(&senior_policy());
    let main = w.server_ref(MAIN).unwrap();
    let tree = empty_tree(&w);
    let two = |first: &[u8], second: &[u8]| {
        raw_object(
            &w,
            "commit",
            &commit_bytes(
                &tree,
                &[&main],
                &[
                    first,
                    second,
                    b"committer Carol <carol@example.com> 1700000000 +0000",
                ],
                b"Subject\n\nAI-Assisted: yes\n",
            ),
        )
    };
    let carol_last = two(
        b"author Alice Senior <alice@example.com> 1700000000 +0000",
        b"author Carol <carol@example.com> 1700000000 +0000",
    );
    let shown = w.server_git(&["log", "-1", "--format=%ae", &carol_last]);
    assert_eq!(shown, "carol@example.com");
    let run = judge(&w, &main, &carol_last);
    assert_cannot_judge(&run, &carol_last);
    run.assert_says("multipleAuthors");
    let alice_last = two(
        b"author Carol <carol@example.com> 1700000000 +0000",
        b"author Alice Senior <alice@example.com> 1700000000 +0000",
    );
    let shown = w.server_git(&["log", "-1", "--format=%ae", &alice_last]);
    assert_eq!(shown, "alice@example.com");
    assert_cannot_judge(&judge(&w, &main, &alice_last), "multipleAuthors");
}

#[test]
fn a_commit_without_a_tree_line_exits_2_naming_it() {
    let w = World::with_policy(&senior_policy());
    let main = w.server_ref(MAIN).unwrap();
    let data = format!(
        "parent {main}\nauthor Carol <carol@example.com> 1 +0000\ncommitter Carol <carol@example.com> 1 +0000\n\nSubject\n"
    );
    let new = raw_object(&w, "commit", data.as_bytes());
    assert_cannot_judge(&judge(&w, &main, &new), &new);
}

#[test]
fn a_commit_with_a_parent_line_that_is_not_an_id_exits_2() {
    let w = World::with_policy(&senior_policy());
    let main = w.server_ref(MAIN).unwrap();
    let tree = empty_tree(&w);
    let data = format!("tree {tree}\nparent {main}\nparent nothex\n\nSubject\n");
    let new = raw_object(&w, "commit", data.as_bytes());
    assert_cannot_judge(&judge(&w, &main, &new), &new);
}

#[test]
fn a_commit_whose_parent_is_missing_exits_2_naming_the_parent() {
    let w = World::with_policy(&senior_policy());
    let main = w.server_ref(MAIN).unwrap();
    let tree = empty_tree(&w);
    let ghost = &fake_id("dead0000beef");
    let new = raw_object(
        &w,
        "commit",
        &commit_bytes(&tree, &[ghost], &CAROL_LINES, b"Orphan\n"),
    );
    let run = judge(&w, &main, &new);
    assert_cannot_judge(&run, ghost);
}

#[test]
fn a_commit_whose_parent_is_a_blob_exits_2() {
    let w = World::with_policy(&senior_policy());
    let main = w.server_ref(MAIN).unwrap();
    let tree = empty_tree(&w);
    let blob = raw_object(&w, "blob", b"x");
    let new = raw_object(
        &w,
        "commit",
        &commit_bytes(&tree, &[&blob], &CAROL_LINES, b"Odd parent\n"),
    );
    assert_cannot_judge(&judge(&w, &main, &new), "is a blob");
}

#[test]
fn an_object_stored_as_a_commit_that_is_garbage_exits_2() {
    let w = World::with_policy(&senior_policy());
    let main = w.server_ref(MAIN).unwrap();
    let new = raw_object(&w, "commit", b"\xff\xfe\x00garbage\n\n\n");
    assert_cannot_judge(&judge(&w, &main, &new), &new);
}

#[test]
fn a_tag_chain_deeper_than_64_levels_exits_2() {
    let w = World::with_policy(&senior_policy());
    let mut target = w.server_ref(MAIN).unwrap();
    let mut kind = "commit";
    for i in 0..70 {
        let data = format!(
            "object {target}\ntype {kind}\ntag t{i}\ntagger T <t@example.com> 1 +0000\n\nt\n"
        );
        target = raw_object(&w, "tag", data.as_bytes());
        kind = "tag";
    }
    let run = hook(&w, &[], &line(&ZERO, &target, "refs/tags/deep"), &[]);
    assert_cannot_judge(&run, "deeper than 64");
}

#[test]
fn a_tag_that_is_garbage_exits_2_or_is_judged_without_a_panic() {
    let w = World::with_policy(&senior_policy());
    let tag = raw_object(&w, "tag", b"object nothex\ntype commit\n\n");
    let run = hook(&w, &[], &line(&ZERO, &tag, "refs/tags/bad"), &[]);
    assert_cannot_judge(&run, &tag);
}

#[test]
fn malformed_author_lines_below_the_tip_exit_2_naming_the_commit() {
    // A name that is not UTF-8 is no fsck error: judged, as Carol.
    let (w, main, odd) = with_author_line(b"author Carol \xff <carol@example.com> 1 +0000");
    assert_rejected_by(&judge(&w, &main, &odd), RULE);
    for author in MALFORMED_AUTHORS {
        let (w, main, bad) = with_author_line(author);
        let tree = empty_tree(&w);
        let tip = raw_object(
            &w,
            "commit",
            &commit_bytes(&tree, &[&bad], &CAROL_LINES, b"Well-formed tip\n"),
        );
        let run = judge(&w, &main, &tip);
        assert_cannot_judge(&run, &bad);
        run.assert_says("is malformed");
    }
}
#[test]
fn a_100000_line_list_of_non_senior_approvals_is_rejected_with_a_short_report() {
    let w = World::with_policy(&senior_policy());
    let mut message = b"Many approvals\n\nBody.\n\nAI-Assisted: yes\n".to_vec();
    for i in 0..100_000 {
        message.extend_from_slice(format!("Approved-By: Someone <p{i}@example.com>\n").as_bytes());
    }
    let (old, new) = carol_commit(&w, &message);
    let run = judge(&w, &old, &new);
    assert_rejected_by(&run, RULE);
    assert!(
        run.stderr.len() < 20_000,
        "the report lists a few approvers, not 100,000 ({} bytes)",
        run.stderr.len()
    );
}
