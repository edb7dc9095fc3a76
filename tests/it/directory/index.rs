//! The directory index (`directory.toml.index`), which `trailgate check`
//! and `trailgate directory sync` write beside a directory file they have
//! validated, and through which the hook reads only what a push needs:
//! every verdict must be the one the hook gives without it.

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::support::*;

/// Alice, Bob, Dave and Erin (ids of the same length, so that the group
/// can be edited in place without changing the file's size), `senior`
/// holding `seniors`, and `leads` naming people by id, e-mail and glob.
fn directory(seniors: &str) -> String {
    format!(
        r#"generated = 2026-01-02T03:04:05Z

[people.alice]
name = "Alice Senior"
emails = ["alice@example.com", "Alice@Old.Example.com"]
logins = ["alice-s"]

[people.bobby]
name = "Bob Senior"
emails = ["bob@example.com"]
logins = ["bob"]

[people.dave_]
name = "Dave"
emails = ["dave@example.com"]

[people.erin_]
emails = ["erin@contractor.example"]

[groups]
senior = [{seniors}]
leads = ["dave_", "bob@example.com", "*@contractor.example"]
"#
    )
}

const RULES: &str = r#"
[[rule]]
name = "ai-needs-senior-approval"
refs = ["refs/heads/main"]
when = { ai_assisted = true, author_not_in = ["senior"] }
require = { approvals = { from = ["senior"], count = 1 } }

[[rule]]
name = "leads-sign-infra"
refs = ["refs/heads/main"]
when = { message = "(?i)infra", author_not_in = ["leads"] }
require = { approvals = { from = ["leads"], count = 1 } }
"#;

fn world(people: &str) -> World {
    let w = World::with_policy(&format!(
        "version = 1\n[settings]\ndirectory = \"directory.toml\"\naudit_log = \"audit.jsonl\"\n{people}\n{RULES}"
    ));
    std::fs::write(w.server.join("directory.toml"), directory("\"alice\"")).unwrap();
    w
}

fn index(w: &World) -> std::path::PathBuf {
    w.server.join("directory.toml.index")
}

fn check(w: &World) -> Run {
    let config = w.server.join("trailgate.toml");
    w.trailgate(
        &w.root,
        &["check", "--config", config.to_str().unwrap()],
        "",
        &[],
    )
}

/// Commits on top of each other, each with one thing to judge: approvals
/// by e-mail (in any case), by login, by id, by someone unknown, by a
/// lead, a senior's own change, a glob-matched author.
fn commits(w: &World) -> Vec<String> {
    let ai = |who: &str| {
        msg(
            "Add retry",
            &["AI-Assisted: yes", &format!("Approved-By: {who}")],
        )
    };
    vec![
        w.commit(&CAROL, &ai("Alice <alice@example.com>")),
        w.commit(&CAROL, &ai("alice@old.example.com")),
        w.commit(&CAROL, &ai("alice-s")),
        w.commit(&CAROL, &ai("alice")),
        w.commit(&CAROL, &ai("Dave <dave@example.com>")),
        w.commit(&CAROL, &ai("bob")),
        w.commit(&CAROL, &ai("mallory@example.com")),
        w.commit(&ALICE, &msg("Add cache", &["AI-Assisted: yes"])),
        w.commit(&CAROL, &msg("infra: more disks", &["Approved-By: dave_"])),
        w.commit(&ERIN, &msg("infra: fewer disks", &[])),
        w.commit(&CAROL, &msg("infra: lb", &["Approved-By: bob@example.com"])),
    ]
}

/// Each commit judged on its own by `trailgate verify` (JSON), and the
/// range of them all: exit codes and reports.
fn verdicts(w: &World, commits: &[String]) -> Vec<(i32, String)> {
    let config = w.server.join("trailgate.toml");
    let config = config.to_str().unwrap();
    let mut ranges: Vec<String> = commits.iter().map(|c| format!("{c}~1..{c}")).collect();
    ranges.push("origin/main..HEAD".into());
    ranges
        .iter()
        .map(|range| {
            let run = w.trailgate(
                &w.work,
                &[
                    "verify",
                    "--config",
                    config,
                    "--ref",
                    "refs/heads/main",
                    "--format",
                    "json",
                    range,
                ],
                "",
                &[],
            );
            run.assert_no_panic();
            (run.code.unwrap_or(-1), run.stdout.clone())
        })
        .collect()
}

/// The last audit line's decision and `directory` (its `index` apart), and
/// whether the hook read the directory through its index.
fn last_push(w: &World) -> (String, bool) {
    let log = std::fs::read_to_string(w.server.join("audit.jsonl")).unwrap();
    let mut line: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    let indexed = line["directory"]["index"].as_bool().unwrap();
    line["directory"].as_object_mut().unwrap().remove("index");
    (
        format!(
            "{} {} {}",
            line["decision"], line["violations"], line["directory"]
        ),
        indexed,
    )
}

/// A push of everything, through the hook; the server is put back.
fn push(w: &World) -> (String, bool) {
    let before = w.server_ref("refs/heads/main").unwrap();
    w.push(&["origin", "main"]).assert_no_panic();
    w.server_git(&["update-ref", "refs/heads/main", &before]);
    last_push(w)
}

fn edit_in_place(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let edited = text.replacen(from, to, 1);
    assert_eq!(edited.len(), text.len());
    assert_ne!(edited, text);
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.write_all_at(edited.as_bytes(), 0).unwrap();
}

#[test]
fn pushes_are_judged_alike_with_the_index_without_it_and_with_a_stale_one() {
    let w = world("");
    let commits = commits(&w);
    let without = verdicts(&w, &commits);
    let (pushed_without, indexed) = push(&w);
    assert!(!indexed);
    assert!(!index(&w).exists());
    // Some pass and some fail, for the comparison to mean anything.
    assert!(
        without.iter().any(|(code, _)| *code == 0) && without.iter().any(|(code, _)| *code == 1),
        "{without:?}"
    );

    check(&w).assert_code(0).assert_says("directory index ");
    assert!(index(&w).exists());
    assert_eq!(verdicts(&w, &commits), without);
    let (pushed, indexed) = push(&w);
    assert!(indexed, "the hook read the directory through its index");
    assert_eq!(pushed, pushed_without);

    // Dave is promoted in place, the file's size unchanged: the index is
    // stale, and the hook reads the edited file.
    edit_in_place(
        &w.server.join("directory.toml"),
        "[\"alice\"]",
        "[\"dave_\"]",
    );
    let stale = verdicts(&w, &commits);
    assert_ne!(stale, without, "the edit changes verdicts");
    let (pushed_stale, indexed) = push(&w);
    assert!(!indexed, "a stale index is not used");
    std::fs::remove_file(index(&w)).unwrap();
    assert_eq!(verdicts(&w, &commits), stale);
    assert_eq!(push(&w), (pushed_stale.clone(), false));
    // Indexed again, the same verdicts as the edited file's.
    check(&w).assert_code(0);
    assert_eq!(verdicts(&w, &commits), stale);
    assert_eq!(push(&w), (pushed_stale, true));
}

#[test]
fn the_policy_may_not_take_a_directory_address_or_id_after_the_index_was_written() {
    let w = world("");
    check(&w).assert_code(0);
    w.commit(
        &CAROL,
        &msg(
            "Add retry",
            &["AI-Assisted: yes", "Approved-By: alice@example.com"],
        ),
    );
    // The policy changes, the directory does not: the index still holds,
    // and the clashes are found through it, as without it.
    let clashes = [
        "[people.robert]\nemails = [\"bob@example.com\"]\n",
        "[people.dave_]\nemails = [\"dave@other.example.com\"]\n",
        "[people.al]\nlogins = [\"alice-s\"]\n",
    ];
    for people in clashes {
        w.write_policy(&format!(
            "version = 1\n[settings]\ndirectory = \"directory.toml\"\naudit_log = \"audit.jsonl\"\n{people}\n{RULES}"
        ));
        let with = w.push(&["origin", "main"]);
        with.assert_no_panic();
        assert!(!with.success(), "{}", with.dump());
        assert!(index(&w).exists());
        let index_bytes = std::fs::read(index(&w)).unwrap();
        std::fs::remove_file(index(&w)).unwrap();
        let without = w.push(&["origin", "main"]);
        assert!(!without.success(), "{}", without.dump());
        assert_eq!(with.remote_text(), without.remote_text(), "{people}");
        assert!(
            with.remote_text().contains("directory.toml:"),
            "{}",
            with.dump()
        );
        std::fs::write(index(&w), index_bytes).unwrap();
    }
}

#[test]
fn check_says_when_it_cannot_write_the_index_and_stays_valid() {
    let w = world("");
    // A folder where the index would go: it cannot be replaced.
    std::fs::create_dir(index(&w)).unwrap();
    let run = check(&w);
    run.assert_code(0);
    run.assert_says("note: cannot write the directory index");
    run.assert_says("the hook reads the whole directory file");
    w.commit(
        &CAROL,
        &msg("Add retry", &["AI-Assisted: yes", &approved_by(&ALICE)]),
    );
    w.push(&["origin", "main"]).assert_accepted();
    assert!(!last_push(&w).1);
    // JSON says the same.
    let config = w.server.join("trailgate.toml");
    let check = || -> serde_json::Value {
        let args = [
            "check",
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
        ];
        let json = w.trailgate(&w.root, &args, "", &[]);
        serde_json::from_str(json.stdout.trim()).unwrap()
    };
    let out = check();
    assert_eq!(out["directory"]["index"]["written"], false, "{out}");
    std::fs::remove_dir(index(&w)).unwrap();
    let out = check();
    assert_eq!(out["directory"]["index"]["written"], true, "{out}");
}

#[test]
fn an_invalid_directory_file_gets_no_index_and_an_old_index_is_not_used_for_it() {
    let w = world("");
    check(&w).assert_code(0);
    // Alice's login gets a space, in place (same size): `check` refuses
    // the file and writes nothing; the hook reads the file and refuses
    // the push that needs Alice, naming the place.
    edit_in_place(
        &w.server.join("directory.toml"),
        "\"alice-s\"",
        "\" alice-\"",
    );
    let before = std::fs::read(index(&w)).unwrap();
    check(&w).assert_code(2);
    assert_eq!(std::fs::read(index(&w)).unwrap(), before);
    w.commit(
        &CAROL,
        &msg("Add retry", &["AI-Assisted: yes", "Approved-By: alice-s"]),
    );
    let run = w.push(&["origin", "main"]);
    assert!(!run.success(), "{}", run.dump());
    run.assert_says("directory.toml:6:11:");
}
