//! What pushers see under the shipped `config.example.toml`, unchanged: a
//! junior's and a mid-level engineer's everyday mistakes in one push, and
//! the protected refs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::{Stage, Transcript};
use crate::support::*;

/// The example policy's junior engineer.
const JAMIE: Person = Person {
    name: "Jamie Junior",
    email: "jamie@example.com",
};

fn example_stage() -> Stage {
    let s = Stage::new();
    let example = std::fs::read_to_string(format!("{REPO_ROOT}/config.example.toml")).unwrap();
    s.install_hook();
    s.write_policy(&example);
    s
}

#[test]
fn a_push_breaking_several_rules_of_the_example_policy_lists_errors_then_warnings() {
    let s = example_stage();
    s.commit(&JAMIE, &msg("Add a retry loop", &["AI-Assisted: yes"]));
    s.commit(&CAROL, &msg("Fix a typo in the docs", &[]));
    s.write("infra/terraform/main.tf", "resource \"x\" \"y\" {}\n");
    s.commit_all(
        &JAMIE,
        &msg(
            "Resize the database",
            &[
                "AI-Assisted: yes",
                "Approved-By: Alice Senior <alice@example.com>",
            ],
        ),
    );
    s.commit(
        &CAROL,
        &msg(
            "Speed up the importer",
            &["Co-Authored-By: Claude <noreply@anthropic.com>"],
        ),
    );
    let run = s.push(&["origin", "main"], &[]);
    run.assert_rejected();
    Transcript::new(&s)
        .push("four commits by Jamie (junior) and Carol (mid)", &run)
        .check(
            "example_policy_mixed_push",
            "config.example.toml: an unapproved AI commit, an undeclared one (warning), \
             infra with one of two approvals, a Claude mark without declaration",
        );
}

#[test]
fn the_example_policy_protects_main_release_branches_and_tags() {
    let s = Stage::new();
    s.git(&["tag", "v1.0"]);
    s.git(&["branch", "release/1.0"]);
    s.commit(&ALICE, &msg("Published change", &["AI-Assisted: no"]));
    s.push(&["origin", "main", "v1.0", "release/1.0"], &[])
        .assert_code(0);
    let example = std::fs::read_to_string(format!("{REPO_ROOT}/config.example.toml")).unwrap();
    s.install_hook();
    s.write_policy(&example);
    for (key, value) in [
        ("receive.denyNonFastForwards", "false"),
        ("receive.denyDeletes", "false"),
    ] {
        s.server_config(key, value);
    }
    s.git(&["reset", "-q", "--hard", "HEAD~1"]);
    s.commit(&ALICE, &msg("Rewritten history", &["AI-Assisted: no"]));
    s.git(&["tag", "-f", "v1.0"]);

    let mut t = Transcript::new(&s);
    let cases: [(&str, &[&str]); 3] = [
        ("force-push main", &["origin", "+main:main"]),
        ("delete release/1.0", &["origin", "--delete", "release/1.0"]),
        ("move the tag v1.0", &["origin", "--force", "v1.0"]),
    ];
    for (title, args) in cases {
        let run = s.push(args, &[]);
        run.assert_rejected();
        t.push(title, &run);
    }
    t.check(
        "example_policy_protected_refs",
        "config.example.toml: protect-main, keep-release-branches, immutable-tags",
    );
}
