//! The catalogue, part 3: the policy file. Whatever is wrong with it, a push
//! is rejected with exit 2 and a message naming the file (and, for a problem
//! inside it, `file:line:column`); nothing panics or hangs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::support::*;
use crate::support::*;

/// A server with the hook, `policy` as its `trailgate.toml`, and a push of
/// one plain commit to judge.
fn judge_with_policy(policy: &str) -> Run {
    let w = World::with_policy(policy);
    judge_update(&w)
}

fn judge_update(w: &World) -> Run {
    let (old, new) = carol_commit(w, b"Plain change\n");
    hook(w, &[], &line(&old, &new, MAIN), &[])
}

#[test]
fn a_missing_policy_rejects_the_push_naming_every_path_tried() {
    let w = World::new();
    w.install_hook();
    let run = judge_update(&w);
    assert_cannot_judge(&run, "no policy found");
    run.assert_says(w.server.join("trailgate.toml").to_str().unwrap());
    run.assert_says("/etc/trailgate/policy.toml");
}

#[test]
fn a_policy_named_by_trailgate_config_that_does_not_exist_rejects_the_push() {
    let w = World::new();
    let run = {
        let (old, new) = carol_commit(&w, b"x\n");
        hook(
            &w,
            &[],
            &line(&old, &new, MAIN),
            &[("TRAILGATE_CONFIG", "/nonexistent/policy.toml")],
        )
    };
    assert_cannot_judge(&run, "/nonexistent/policy.toml");
}

#[test]
fn an_empty_policy_rejects_the_push_asking_for_a_version() {
    let run = judge_with_policy("");
    assert_cannot_judge(&run, "version");
}

#[test]
fn a_policy_of_only_comments_and_blank_lines_rejects_the_push() {
    let run = judge_with_policy("# nothing here\n\n   \n");
    assert_cannot_judge(&run, "version");
}

#[test]
fn a_directory_in_place_of_the_policy_rejects_the_push() {
    let w = World::new();
    w.install_hook();
    std::fs::create_dir(w.server.join("trailgate.toml")).unwrap();
    let run = judge_update(&w);
    assert_cannot_judge(&run, "cannot read policy file");
}

#[test]
fn an_unreadable_policy_rejects_the_push_unless_the_hook_runs_as_root() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::with_policy("this is = = not toml");
    let path = w.server.join("trailgate.toml");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    let run = judge_update(&w);
    if std::fs::read(&path).is_ok() {
        // Running as root, where mode 000 does not stop reading: the file is
        // read and judged on its content (here: invalid TOML).
        assert_cannot_judge(&run, "trailgate.toml:1:");
    } else {
        assert_cannot_judge(&run, "cannot read policy file");
        run.assert_says("ermission denied");
    }
}

#[test]
fn a_policy_that_is_not_toml_rejects_the_push_citing_line_and_column() {
    let w = World::with_policy("version = 1\n[settings\nmode = \"enforce\"\n");
    let run = judge_update(&w);
    assert_cannot_judge(&run, "is invalid");
    run.assert_cites("trailgate.toml", 2, &[1, 2, 10]);
}

#[test]
fn a_policy_that_is_binary_garbage_rejects_the_push_as_not_utf8() {
    let w = World::new();
    w.install_hook();
    std::fs::write(
        w.server.join("trailgate.toml"),
        b"version = 1\n\xff\xfe\x00\x01",
    )
    .unwrap();
    let run = judge_update(&w);
    assert_cannot_judge(&run, "not valid UTF-8");
    run.assert_cites("trailgate.toml", 2, &[1]);
}

#[test]
fn an_unknown_version_rejects_the_push() {
    let run = judge_with_policy(&format!("version = 2\n{PEOPLE}\n{SENIOR_RULE}"));
    assert_cannot_judge(&run, "version");
    run.assert_cites("trailgate.toml", 1, &[1, 11]);
}

#[test]
fn a_version_of_the_wrong_type_rejects_the_push() {
    let run = judge_with_policy(&format!("version = \"1\"\n{PEOPLE}\n{SENIOR_RULE}"));
    assert_cannot_judge(&run, "trailgate.toml:1:");
}

#[test]
fn an_unknown_key_rejects_the_push_naming_it() {
    let run = judge_with_policy(&policy(&format!("{SENIOR_RULE}requier = {{}}\n")));
    assert_cannot_judge(&run, "requier");
}

#[test]
fn an_unknown_top_level_table_rejects_the_push() {
    let run = judge_with_policy(&policy(&format!("{SENIOR_RULE}\n[rules]\nx = 1\n")));
    assert_cannot_judge(&run, "rules");
}

#[test]
fn duplicate_rule_names_reject_the_push() {
    let run = judge_with_policy(&policy(&format!("{SENIOR_RULE}{SENIOR_RULE}")));
    assert_cannot_judge(&run, "ai-needs-senior-approval");
    run.assert_says("duplicate");
}

#[test]
fn an_unknown_group_rejects_the_push_naming_it() {
    let run = judge_with_policy(&policy(
        r#"
[[rule]]
name = "r"
when = { ai_assisted = true, author_not_in = ["seniors"] }
require = { approvals = { from = ["senior"], count = 1 } }
"#,
    ));
    assert_cannot_judge(&run, "seniors");
}

#[test]
fn an_invalid_regex_rejects_the_push() {
    let run = judge_with_policy(&policy(
        r#"
[[rule]]
name = "r"
require = { trailers = [ { key = "AI-Assisted", value = "(unclosed" } ] }
"#,
    ));
    assert_cannot_judge(&run, "(unclosed");
    run.assert_cites("trailgate.toml", 19, &[1, 57]);
}

#[test]
fn a_regex_that_would_compile_huge_rejects_the_push_quickly() {
    let run = judge_with_policy(&policy(
        r#"
[[rule]]
name = "r"
when = { message = "(a{1000}){1000}" }
require = { approvals = { from = ["senior"], count = 1 } }
"#,
    ));
    assert_cannot_judge(&run, "too large");
}

#[test]
fn an_invalid_ref_glob_rejects_the_push() {
    let run = judge_with_policy(&policy(
        r#"
[[rule]]
name = "r"
refs = ["refs/heads/[unclosed"]
deny = ["delete"]
"#,
    ));
    assert_cannot_judge(&run, "[unclosed");
}

#[test]
fn an_invalid_group_glob_rejects_the_push() {
    let run = judge_with_policy(&policy_with_groups(
        "contractors = [\"*@{a,b\"]\n",
        SENIOR_RULE,
    ));
    assert_cannot_judge(&run, "*@{a,b");
}

#[test]
fn a_rule_that_can_never_apply_rejects_the_push() {
    for rule in [
        "[[rule]]\nname = \"r\"\nrefs = []\ndeny = [\"delete\"]\n",
        "[[rule]]\nname = \"r\"\nrefs = [\"heads/main\"]\ndeny = [\"delete\"]\n",
        "[[rule]]\nname = \"r\"\nwhen = { author_in = [\"senior\"], author_not_in = [\"senior\"] }\nrequire = { approvals = { from = [\"senior\"], count = 1 } }\n",
        "[[rule]]\nname = \"r\"\nwhen = { ai_assisted = false, ai_declared = true }\nrequire = { approvals = { from = [\"senior\"], count = 1 } }\n",
        "[[rule]]\nname = \"r\"\nrequire = { approvals = { from = [\"senior\"], count = 3 } }\n",
        "[[rule]]\nname = \"r\"\n",
    ] {
        let run = judge_with_policy(&policy(rule));
        assert_cannot_judge(&run, "trailgate.toml:");
    }
}

#[test]
fn a_rule_name_with_odd_characters_rejects_the_push() {
    let run = judge_with_policy(&policy(
        "[[rule]]\nname = \"Bad Name\u{1b}[31m\"\ndeny = [\"delete\"]\n",
    ));
    assert_cannot_judge(&run, "trailgate.toml:");
    assert!(!run.stderr.contains('\u{1b}'), "{}", run.dump());
}

#[test]
fn a_negative_or_absurd_max_commits_rejects_the_push() {
    for value in ["-1", "1e99", "\"many\"", "99999999999999999999999"] {
        let run = judge_with_policy(&policy(&format!(
            "[settings]\nmax_commits = {value}\n{SENIOR_RULE}"
        )));
        assert_cannot_judge(&run, "trailgate.toml:");
    }
}

#[test]
fn a_deeply_nested_policy_rejects_the_push_without_overflowing_the_stack() {
    let depth = 100_000;
    let text = format!(
        "version = 1\nx = {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let run = judge_with_policy(&text);
    assert_cannot_judge(&run, "trailgate.toml:");
    let text = format!(
        "version = 1\nx = {}1{}\n",
        "{a=".repeat(depth),
        "}".repeat(depth)
    );
    let run = judge_with_policy(&text);
    assert_cannot_judge(&run, "trailgate.toml:");
}

#[test]
fn a_policy_of_ten_megabytes_of_comments_rejects_the_push_quickly() {
    let mut text = String::from("version = 1\n");
    while text.len() < 10 << 20 {
        text.push_str("# a comment line that says nothing at all, again and again\n");
    }
    let run = judge_with_policy(&text);
    // No rule at all: the policy is valid and checks nothing, or is refused.
    assert_no_crash(&run);
    assert!(matches!(run.code, Some(0) | Some(2)), "{}", run.dump());
}
