//! Loading: the requirement kinds read their part of `require` with
//! positions, and the checks that span the policy and the kinds.

use trailgate::policy::{PolicyError, Problem};

use super::*;

fn problems(rules: &str) -> Vec<Problem> {
    let text = format!("version = 1\n{PEOPLE}\n{rules}");
    match rules::parse(Path::new("p.toml"), &text) {
        Err(PolicyError::Invalid { problems, .. }) => problems,
        Ok(_) => panic!("the policy loaded"),
        Err(e) => panic!("{e}"),
    }
}

/// Line `n` of the rules, after the `version` line and `PEOPLE`.
fn line(n: usize) -> usize {
    PEOPLE.lines().count() + 2 + n
}

#[test]
fn an_unknown_require_key_names_the_keys_there_are_at_its_place() {
    let p = problems("[[rule]]\nname = \"r\"\nrequire = { max_file_changed = 3 }\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!((p[0].line, p[0].column), (line(3), 13), "{p:?}");
    for key in ["`max_file_changed`", "`approvals`", "`max_lines_changed`"] {
        assert!(p[0].message.contains(key), "{p:?}");
    }
}

#[test]
fn a_requirement_of_the_wrong_shape_is_reported_where_it_is() {
    let p = problems(
        "[[rule]]\nname = \"r\"\nrequire = { approvals = { from = [\"senior\"], count = \"two\" } }\n",
    );
    assert_eq!(p[0].line, line(3), "{p:?}");
    assert!(p[0].message.contains("expected a whole number"), "{p:?}");
    let p = problems(
        "[[rule]]\nname = \"r\"\nrequire = { approvals = { from = [\"seniors\"], cont = 1 } }\n",
    );
    assert!(
        p.iter().any(|p| p
            .message
            .contains("unknown key `cont`; did you mean `count`?")),
        "{p:?}"
    );
}

#[test]
fn requirement_problems_are_collected_with_the_policys_own() {
    let p = problems(
        "[[rule]]\nname = \"r\"\nwhen = { author_in = [\"nobody\"] }\n\
         require = { approvals = { from = [\"ghosts\"], count = 0 }, max_lines_added = -1, trailers = [{ key = \"Bad Key\", value = \"(\" }] }\n",
    );
    let messages: Vec<&str> = p.iter().map(|p| p.message.as_str()).collect();
    for expected in [
        "unknown group `nobody`",
        "unknown group `ghosts`",
        "approvals.count must be 1 or more",
        "`max_lines_added` must be 0 or more",
        "is not a trailer key git would read",
        "invalid regex",
    ] {
        assert!(
            messages.iter().any(|m| m.contains(expected)),
            "{expected}: {messages:#?}"
        );
    }
    // In the order of the file.
    assert!(p
        .windows(2)
        .all(|w| (w[0].line, w[0].column) <= (w[1].line, w[1].column)));
}

#[test]
fn the_table_form_of_require_is_read_too() {
    let p = policy(
        "[[rule]]\nname = \"r\"\n[rule.require]\nmax_files_changed = 2\n[rule.require.approvals]\nfrom = [\"senior\"]\ncount = 2\n",
    );
    let r = rule(&p, "r");
    assert_eq!(r.require.iter().count(), 2);
    assert_eq!(rules::needs(r).diff, Some(rules::DiffNeed::Paths));
}

#[test]
fn a_net_change_rule_takes_only_size_limits() {
    for require in [
        "approvals = { from = [\"senior\"] }",
        "trailers = [{ key = \"Ticket\" }]",
        "signed = true",
    ] {
        let p = problems(&format!(
            "[[rule]]\nname = \"r\"\nper = \"push\"\nrequire = {{ {require} }}\n"
        ));
        assert_eq!(p.len(), 1, "{require}: {p:?}");
        assert_eq!(p[0].line, line(3), "{p:?}");
        assert!(p[0].message.contains("only size limits"), "{p:?}");
    }
    policy("[[rule]]\nname = \"r\"\nper = \"push\"\nrequire = { max_files_deleted = 1 }\n");
}

#[test]
fn deny_with_commit_conditions_and_rules_that_check_nothing_are_refused() {
    let p = problems("[[rule]]\nname = \"r\"\nwhen = { merge = true }\ndeny = [\"delete\"]\n");
    assert!(p[0].message.contains("mixes `deny`"), "{p:?}");
    // A condition on the pusher is about the update, not its commits.
    policy(
        "[[rule]]\nname = \"r\"\nwhen = { pusher_not_in = [\"senior\"] }\ndeny = [\"delete\"]\n",
    );
    let p = problems("[[rule]]\nname = \"r\"\nrequire = {}\n");
    assert!(p[0].message.contains("checks nothing"), "{p:?}");
    let p = problems("[[rule]]\nname = \"r\"\nrequire = 3\n");
    assert!(p[0].message.contains("expected a table"), "{p:?}");
}
