//! The catalogue, part 1: what git hands the hook on stdin. Every bad line is
//! exit 2 with a message naming the line and what is wrong; nothing panics or
//! hangs; a flood of valid lines is judged quickly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use super::support::*;
use crate::support::*;

fn world() -> (World, String) {
    let w = World::with_policy(&senior_policy());
    let main = w.server_ref(MAIN).unwrap();
    (w, main)
}

#[test]
fn empty_stdin_is_a_push_of_nothing_and_is_accepted_silently() {
    let (w, _) = world();
    let run = hook(&w, &[], b"", &[]);
    assert_no_crash(&run);
    run.assert_code(0);
    assert_eq!(run.stderr, "");
}

#[test]
fn a_lone_newline_is_not_a_push_of_nothing_but_a_malformed_line() {
    let (w, _) = world();
    assert_cannot_judge(&hook(&w, &[], b"\n", &[]), "stdin line 1");
}

#[test]
fn a_line_truncated_inside_the_new_id_exits_2() {
    let (w, main) = world();
    let stdin = format!("{main} {}", &main[..17]);
    assert_cannot_judge(&hook(&w, &[], stdin.as_bytes(), &[]), "stdin line 1");
}

#[test]
fn a_line_truncated_after_the_ids_without_a_ref_name_exits_2() {
    let (w, main) = world();
    let stdin = format!("{main} {main}\n");
    assert_cannot_judge(&hook(&w, &[], stdin.as_bytes(), &[]), "expected `<old-oid>");
}

#[test]
fn an_id_that_is_not_hex_exits_2_naming_it() {
    let (w, main) = world();
    let bad = "g".repeat(40);
    let stdin = format!("{main} {bad} {MAIN}\n");
    assert_cannot_judge(&hook(&w, &[], stdin.as_bytes(), &[]), "is not an object id");
}

#[test]
fn an_extra_field_after_the_ref_name_exits_2() {
    let (w, main) = world();
    let stdin = format!("{main} {main} {MAIN} extra\n");
    assert_cannot_judge(
        &hook(&w, &[], stdin.as_bytes(), &[]),
        "is not a valid ref name",
    );
}

#[test]
fn a_missing_field_exits_2() {
    let (w, main) = world();
    let stdin = format!("{main} {MAIN}\n");
    assert_cannot_judge(&hook(&w, &[], stdin.as_bytes(), &[]), "stdin line 1");
}

#[test]
fn crlf_line_endings_exit_2() {
    let (w, main) = world();
    let stdin = format!("{main} {main} {MAIN}\r\n");
    assert_cannot_judge(
        &hook(&w, &[], stdin.as_bytes(), &[]),
        "is not a valid ref name",
    );
}

#[test]
fn nul_bytes_in_a_line_exit_2() {
    let (w, main) = world();
    let mut stdin = format!("{main} {main} refs/heads/ma").into_bytes();
    stdin.extend_from_slice(b"\0in\n");
    assert_cannot_judge(&hook(&w, &[], &stdin, &[]), "stdin line 1");
    let mut stdin = b"\0\0\0".to_vec();
    stdin.extend_from_slice(&line(&main, &main, MAIN));
    assert_cannot_judge(&hook(&w, &[], &stdin, &[]), "stdin line 1");
}

#[test]
fn invalid_utf8_in_a_ref_name_exits_2() {
    let (w, main) = world();
    let mut stdin = format!("{main} {main} refs/heads/").into_bytes();
    stdin.extend_from_slice(b"\xff\xfe\n");
    assert_cannot_judge(&hook(&w, &[], &stdin, &[]), "stdin line 1");
}

#[test]
fn tabs_or_doubled_spaces_as_separators_exit_2() {
    let (w, main) = world();
    for stdin in [
        format!("{main}\t{main}\t{MAIN}\n"),
        format!("{main}  {main} {MAIN}\n"),
        format!(" {main} {main} {MAIN}\n"),
    ] {
        assert_cannot_judge(&hook(&w, &[], stdin.as_bytes(), &[]), "stdin line 1");
    }
}

#[test]
fn an_empty_line_between_updates_exits_2_naming_its_line() {
    let (w, main) = world();
    let stdin = format!("{main} {main} {MAIN}\n\n{ZERO} {main} refs/heads/x\n");
    assert_cannot_judge(&hook(&w, &[], stdin.as_bytes(), &[]), "stdin line 2");
}

#[test]
fn a_ref_named_twice_exits_2() {
    let (w, main) = world();
    let stdin = format!("{main} {main} {MAIN}\n{main} {main} {MAIN}\n");
    assert_cannot_judge(&hook(&w, &[], stdin.as_bytes(), &[]), "appears twice");
}

#[test]
fn both_ids_zero_exits_2() {
    let (w, _) = world();
    let stdin = format!("{ZERO} {ZERO} {MAIN}\n");
    assert_cannot_judge(
        &hook(&w, &[], stdin.as_bytes(), &[]),
        "both object ids are zero",
    );
}

#[test]
fn ids_of_the_other_hash_exit_2_naming_both_formats() {
    // SHA-256 ids in a SHA-1 repository, or SHA-1 ids in a SHA-256 one:
    // nothing in the repository has such a name.
    let (w, _) = world();
    let (other, theirs, ours) = if test_object_format() == "sha256" {
        ("a".repeat(40), "SHA-1", "SHA-256")
    } else {
        ("a".repeat(64), "SHA-256", "SHA-1")
    };
    let stdin = format!("{other} {other} {MAIN}\n");
    let run = hook(&w, &[], stdin.as_bytes(), &[]);
    assert_cannot_judge(&run, &format!("the push names {theirs} object ids"));
    run.assert_says(&format!("names its objects with {ours}"));
}

#[test]
fn a_repository_in_an_object_format_trailgate_cannot_read_exits_2_naming_it() {
    // Git refuses to run in such a repository, so a real push never gets
    // here; the hook still fails closed if its configuration says so.
    let (w, main) = world();
    let config = w.server.join("config");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replace("repositoryformatversion = 0", "repositoryformatversion = 1");
    let text = if text.contains("objectformat") {
        text.replace("objectformat = sha256", "objectformat = sha512")
    } else {
        format!("{text}[extensions]\n\tobjectFormat = sha512\n")
    };
    std::fs::write(&config, text).unwrap();
    let stdin = format!("{main} {main} {MAIN}\n");
    let run = hook(&w, &[], stdin.as_bytes(), &[]);
    assert_cannot_judge(&run, "`sha512` (extensions.objectFormat)");
}

#[test]
fn refs_with_odd_characters_exit_2_naming_the_ref() {
    let (w, main) = world();
    for bad in [
        "main",
        "HEAD",
        "refs/",
        "refs/heads/a..b",
        "refs/heads/a~1",
        "refs/heads/a^b",
        "refs/heads/a:b",
        "refs/heads/a?b",
        "refs/heads/a*b",
        "refs/heads/a[b",
        "refs/heads/a\\b",
        "refs/heads/x.lock",
        "refs/heads/@{0}",
        "refs/heads/end.",
        "refs/heads//double",
        "refs/heads/.hidden",
        "refs/heads/\u{1b}[31mred",
        "refs/heads/\u{7f}",
    ] {
        let stdin = format!("{ZERO} {main} {bad}\n");
        let run = hook(&w, &[], stdin.as_bytes(), &[]);
        assert_cannot_judge(&run, "is not a valid ref name");
        assert!(
            !run.stderr.contains('\u{1b}'),
            "control characters must not reach the terminal\n{}",
            run.dump()
        );
    }
}

#[test]
fn a_ref_name_longer_than_4096_bytes_exits_2() {
    let (w, main) = world();
    let name = format!("refs/heads/{}", "a".repeat(5000));
    let run = hook(&w, &[], format!("{ZERO} {main} {name}\n").as_bytes(), &[]);
    assert_cannot_judge(&run, "5011 bytes in all");
}

#[test]
fn odd_but_valid_ref_names_are_judged_like_any_other() {
    let (w, main) = world();
    for good in [
        "refs/heads/ünïcödé",
        "refs/heads/-leading-dash",
        "refs/heads/with@sign",
        "refs/tags/v1.0+build",
    ] {
        let run = hook(&w, &[], format!("{ZERO} {main} {good}\n").as_bytes(), &[]);
        assert_no_crash(&run);
        run.assert_code(0);
    }
}

#[test]
fn an_unknown_new_id_exits_2_naming_the_object() {
    let (w, main) = world();
    let missing = &fake_id("1234567890abcdef");
    let run = hook(&w, &[], &line(&main, missing, MAIN), &[]);
    assert_cannot_judge(&run, missing);
    run.assert_says("not in the repository");
}

#[test]
fn an_unknown_old_id_exits_2_naming_the_object() {
    let (w, main) = world();
    let missing = &fake_id("1234567890abcdef");
    let run = hook(&w, &[], &line(missing, &main, MAIN), &[]);
    assert_cannot_judge(&run, missing);
}

#[test]
fn a_branch_set_to_a_blob_exits_2_saying_it_is_a_blob() {
    let (w, main) = world();
    let blob = raw_object(&w, "blob", b"not a commit\n");
    let run = hook(&w, &[], &line(&main, &blob, MAIN), &[]);
    assert_cannot_judge(&run, "is a blob");
}

#[test]
fn a_tag_pointing_at_a_tree_is_judged_by_deny_rules_only_and_accepted() {
    let (w, _) = world();
    let tree = empty_tree(&w);
    let run = hook(&w, &[], &line(&ZERO, &tree, "refs/tags/just-a-tree"), &[]);
    assert_no_crash(&run);
    run.assert_code(0);
}

#[test]
fn five_thousand_updates_of_refs_that_do_not_exist_are_judged_within_seconds() {
    // Every rule covers every ref: each update is walked.
    let w = World::with_policy(&policy(
        r#"
[[rule]]
name = "ai-needs-senior-approval"
when = { ai_assisted = true, author_not_in = ["senior"] }
require = { approvals = { from = ["senior"], count = 1 } }
"#,
    ));
    let main = w.server_ref(MAIN).unwrap();
    let mut stdin = Vec::new();
    for i in 0..5000 {
        stdin.extend_from_slice(&line(&ZERO, &main, &format!("refs/heads/new/b{i}")));
    }
    let start = Instant::now();
    let run = hook_within(&w, &[], &stdin, &[], Duration::from_secs(30));
    let took = start.elapsed();
    assert_no_crash(&run);
    run.assert_code(0);
    assert!(
        took < Duration::from_secs(15),
        "5,000 updates took {took:?}"
    );
}

#[test]
fn five_thousand_updates_naming_a_missing_object_are_rejected_at_once() {
    let (w, _) = world();
    let missing = &fake_id("1234567890abcdef");
    let mut stdin = Vec::new();
    for i in 0..5000 {
        stdin.extend_from_slice(&line(&ZERO, missing, &format!("refs/heads/b{i}")));
    }
    let run = hook_within(&w, &[], &stdin, &[], Duration::from_secs(30));
    assert_cannot_judge(&run, missing);
}

#[test]
fn stdin_larger_than_64_mib_exits_2_without_reading_it_all() {
    let (w, main) = world();
    let one = line(&main, &main, MAIN);
    let mut stdin = Vec::with_capacity((65 << 20) + one.len());
    while stdin.len() <= 65 << 20 {
        stdin.extend_from_slice(&one);
    }
    let run = hook(&w, &[], &stdin, &[]);
    assert_cannot_judge(&run, "larger than 64 MiB");
}
