//! `when` and `exempt.authors`: which commits a rule selects, asked of
//! `rules::selects` with what is known (the shape the walk read, the facts,
//! the diff), and `rules::looks_at_diff`.

use trailgate::git::diff::ChangeKind;
use trailgate::rules::{self, DiffNeed, Evidence, Known, Selects};

use super::*;

/// A rule with these conditions that requires a `Ticket` trailer.
fn with_when(when: &str) -> Policy {
    policy(&format!(
        "[[rule]]\nname = \"r\"\nwhen = {{ {when} }}\nrequire = {{ trailers = [{{ key = \"Ticket\" }}] }}\n"
    ))
}

fn selects(p: &Policy, c: &CommitFacts) -> Selects {
    rules::selects(rule(p, "r"), p, Known::Facts(c), None, Evidence::default())
}

const AI_YES: &str = "Change\n\nAI-Assisted: yes\n";
const AI_NO: &str = "Change\n\nAI-Assisted: no\n";
const PLAIN: &str = "Change\n\nBody.\n";
const CLAUDE: &str = "Change\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n";

#[test]
fn ai_assisted_selects_declared_and_detected_assistance() {
    let p = with_when("ai_assisted = true");
    assert_eq!(selects(&p, &by_carol(&p, AI_YES)), Selects::Yes);
    assert_eq!(selects(&p, &by_carol(&p, CLAUDE)), Selects::Yes);
    assert_eq!(selects(&p, &by_carol(&p, PLAIN)), Selects::No);
    // A negative value declares no assistance.
    assert_eq!(selects(&p, &by_carol(&p, AI_NO)), Selects::No);
    let p = with_when("ai_assisted = false");
    assert_eq!(selects(&p, &by_carol(&p, PLAIN)), Selects::Yes);
    assert_eq!(selects(&p, &by_carol(&p, CLAUDE)), Selects::No);
}

#[test]
fn every_default_negative_value_declares_no_assistance_and_other_values_do() {
    let p = with_when("ai_declared = true");
    for negative in ["no", "None", "FALSE", "0", "n/a", "N/A", "-"] {
        let message = format!("Change\n\nAI-Assisted: {negative}\n");
        assert_eq!(
            selects(&p, &by_carol(&p, &message)),
            Selects::No,
            "{negative}"
        );
    }
    for positive in ["yes", "n/a please", "--", "partly"] {
        let message = format!("Change\n\nAI-Assisted: {positive}\n");
        assert_eq!(
            selects(&p, &by_carol(&p, &message)),
            Selects::Yes,
            "{positive}"
        );
    }
}

#[test]
fn the_readme_and_the_example_policy_list_the_negative_values_the_code_uses() {
    let code: Vec<String> = trailgate::facts::AI_NEGATIVE
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let example: toml::Table =
        toml::from_str(include_str!("../../../config.example.toml")).unwrap();
    let listed: Vec<String> = example["trailers"]["ai_negative"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, code, "config.example.toml's trailers.ai_negative");
    let readme = include_str!("../../../README.md");
    let row = readme
        .lines()
        .find(|l| l.starts_with("| `ai_negative` |"))
        .expect("the README's [trailers] table has an ai_negative row");
    let default = row.split('|').nth(2).unwrap().trim().trim_matches('`');
    let default: Vec<String> = toml::from_str::<toml::Table>(&format!("v = {default}")).unwrap()
        ["v"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(default, code, "the README's ai_negative default");
    // The detection table names the same values for the disclosure trailers.
    let disclosure = readme
        .lines()
        .find(|l| l.starts_with("| disclosure trailers |"))
        .expect("the README's detection table has a disclosure row");
    let quoted = code
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ");
    assert!(
        disclosure.contains(&quoted),
        "{disclosure} should list {quoted}"
    );
}

#[test]
fn ai_declared_and_ai_detected_are_told_apart() {
    let p = with_when("ai_declared = true");
    assert_eq!(selects(&p, &by_carol(&p, AI_YES)), Selects::Yes);
    assert_eq!(selects(&p, &by_carol(&p, CLAUDE)), Selects::No);
    let p = with_when("ai_detected = true");
    assert_eq!(selects(&p, &by_carol(&p, CLAUDE)), Selects::Yes);
    assert_eq!(selects(&p, &by_carol(&p, AI_YES)), Selects::No);
    // Detected but undeclared: the marks without `AI-Assisted: yes`.
    let p = with_when("ai_detected = true, ai_declared = false");
    assert_eq!(selects(&p, &by_carol(&p, CLAUDE)), Selects::Yes);
    let both = format!("{CLAUDE}AI-Assisted: yes\n");
    assert_eq!(selects(&p, &by_carol(&p, &both)), Selects::No);
}

#[test]
fn author_in_and_author_not_in_match_people_by_any_address_in_any_case() {
    let p = with_when("author_in = [\"senior\"]");
    let alice = commit(&p, "Alice <ALICE@old.example.com>", 1, PLAIN);
    let bob = commit(&p, "Bob <bob@example.com>", 1, PLAIN);
    assert_eq!(selects(&p, &alice), Selects::Yes);
    assert_eq!(selects(&p, &bob), Selects::Yes);
    assert_eq!(selects(&p, &by_carol(&p, PLAIN)), Selects::No);
    let p = with_when("author_not_in = [\"senior\"]");
    assert_eq!(selects(&p, &by_carol(&p, PLAIN)), Selects::Yes);
    assert_eq!(
        selects(&p, &commit(&p, "A <alice@example.com>", 1, PLAIN)),
        Selects::No
    );
    // The name on the author line identifies nobody.
    let named = commit(&p, "Alice Senior <mallory@example.com>", 1, PLAIN);
    assert_eq!(selects(&p, &named), Selects::Yes);
}

#[test]
fn a_glob_group_matches_addresses_and_nothing_longer() {
    let p = with_when("author_in = [\"bots\"]");
    let bot = commit(&p, "CI <ci@bots.example>", 1, PLAIN);
    let evil = commit(&p, "CI <ci@bots.example.evil>", 1, PLAIN);
    assert_eq!(selects(&p, &bot), Selects::Yes);
    assert_eq!(selects(&p, &evil), Selects::No);
}

#[test]
fn exempt_authors_are_not_selected_even_when_every_condition_holds() {
    let p = policy(
        "[[rule]]\nname = \"r\"\nwhen = { ai_assisted = true }\nexempt = { authors = [\"juniors\"] }\nrequire = { trailers = [{ key = \"Ticket\" }] }\n",
    );
    assert_eq!(selects(&p, &by_carol(&p, AI_YES)), Selects::No);
    let dave = commit(&p, "Dave <dave@example.com>", 1, AI_YES);
    assert_eq!(selects(&p, &dave), Selects::Yes);
}

#[test]
fn message_is_a_regex_over_the_whole_message() {
    let p = with_when("message = \"(?m)^Hotfix:\"");
    let body = "Change things\n\nHotfix: for INC-1\n";
    assert_eq!(selects(&p, &by_carol(&p, body)), Selects::Yes);
    assert_eq!(selects(&p, &by_carol(&p, "No hotfix: here\n")), Selects::No);
}

#[test]
fn merge_selects_by_the_number_of_parents_before_reading_any_facts() {
    let p = with_when("merge = true");
    let r = rule(&p, "r");
    assert_eq!(
        rules::selects(
            r,
            &p,
            Known::Shape { merge: false },
            None,
            Evidence::default()
        ),
        Selects::No
    );
    assert_eq!(
        rules::selects(
            r,
            &p,
            Known::Shape { merge: true },
            None,
            Evidence::default()
        ),
        Selects::Yes
    );
    let merge = commit(&p, "Carol <carol@example.com>", 2, PLAIN);
    assert_eq!(selects(&p, &merge), Selects::Yes);
    let p = with_when("merge = false");
    assert_eq!(selects(&p, &merge), Selects::No);
}

#[test]
fn conditions_on_a_commits_text_ask_for_its_facts_first() {
    for when in [
        "ai_assisted = true",
        "author_in = [\"senior\"]",
        "message = \"x\"",
    ] {
        let p = with_when(when);
        assert_eq!(
            rules::selects(
                rule(&p, "r"),
                &p,
                Known::Shape { merge: false },
                None,
                Evidence::default()
            ),
            Selects::NeedsFacts,
            "{when}"
        );
    }
    // A rule without conditions needs nothing.
    let p = policy("[[rule]]\nname = \"r\"\nrequire = { trailers = [{ key = \"Ticket\" }] }\n");
    assert_eq!(
        rules::selects(
            rule(&p, "r"),
            &p,
            Known::Shape { merge: false },
            None,
            Evidence::default()
        ),
        Selects::Yes
    );
}

#[test]
fn touches_asks_for_the_diff_and_matches_old_and_new_paths() {
    let p = with_when("touches = [\"infra/**\"]");
    let c = by_carol(&p, PLAIN);
    let r = rule(&p, "r");
    assert_eq!(selects(&p, &c), Selects::NeedsDiff(DiffNeed::Paths));
    let infra = diff(&[("infra/main.tf", ChangeKind::Modified, 1, 1)]);
    let docs = diff(&[("docs/infra.md", ChangeKind::Modified, 1, 1)]);
    assert_eq!(
        rules::selects(r, &p, Known::Facts(&c), Some(&infra), Evidence::default()),
        Selects::Yes
    );
    assert_eq!(
        rules::selects(r, &p, Known::Facts(&c), Some(&docs), Evidence::default()),
        Selects::No
    );
    // A rename out of the folder still touches it.
    let mut renamed = diff(&[(
        "attic/main.tf",
        ChangeKind::Renamed { similarity: 100 },
        0,
        0,
    )]);
    renamed.files[0].old_path = Some(b"infra/main.tf".to_vec());
    assert_eq!(
        rules::selects(r, &p, Known::Facts(&c), Some(&renamed), Evidence::default()),
        Selects::Yes
    );
}

#[test]
fn a_merges_own_diff_is_looked_at_by_every_rule_that_selects_it() {
    // A merge's diff is what the merge itself did (against the clean merge
    // of its parents), so `touches` asks for it like for any commit.
    let p = with_when("touches = [\"infra/**\"]");
    let merge = commit(&p, "Carol <carol@example.com>", 2, PLAIN);
    assert_eq!(selects(&p, &merge), Selects::NeedsDiff(DiffNeed::Paths));
    assert_eq!(rules::looks_at_diff(rule(&p, "r")), Some(DiffNeed::Paths));
    let p = with_when("merge = false, touches = [\"infra/**\"]");
    assert_eq!(
        selects(&p, &merge),
        Selects::No,
        "`when.merge` still selects"
    );
}

#[test]
fn wants_diff_follows_selection_for_merges_too() {
    let p = policy(
        "[[rule]]\nname = \"r\"\nwhen = { ai_assisted = true }\nrequire = { max_lines_added = 10 }\n",
    );
    let r = rule(&p, "r");
    assert_eq!(
        rules::wants_diff(r, &p, Known::Shape { merge: false }, Evidence::default()),
        None,
        "the facts decide"
    );
    let ai = by_carol(&p, AI_YES);
    assert_eq!(
        rules::wants_diff(r, &p, Known::Facts(&ai), Evidence::default()),
        Some(true)
    );
    let plain = by_carol(&p, PLAIN);
    assert_eq!(
        rules::wants_diff(r, &p, Known::Facts(&plain), Evidence::default()),
        Some(false)
    );
    let merge = commit(&p, "Carol <carol@example.com>", 2, AI_YES);
    assert_eq!(
        rules::wants_diff(r, &p, Known::Facts(&merge), Evidence::default()),
        Some(true)
    );
    assert_eq!(rules::needs(r).diff, Some(DiffNeed::Lines));
}

#[test]
fn what_made_a_commit_ai_assisted_is_named_first_the_declaration_before_the_marks() {
    use trailgate::verdict::AiMark;
    let p = policy(
        "[[rule]]\nname = \"r\"\nwhen = { ai_assisted = true }\nrequire = { trailers = [{ key = \"Ticket\" }] }\n",
    );
    match evaluate(&p, "r", &by_carol(&p, CLAUDE), Given::default()) {
        Outcome::Fail { detected, .. } => {
            let Some(AiMark::Detected(detected)) = detected else {
                panic!("the marks are named: {detected:?}");
            };
            assert!(detected.contains("noreply@anthropic.com"), "{detected}");
            assert!(detected.contains("Claude Code"), "{detected}");
        }
        other => panic!("{other:?}"),
    }
    // Declared and marked: the declaration is what the rule saw first.
    let both = format!("{CLAUDE}AI-Assisted: yes\n");
    match evaluate(&p, "r", &by_carol(&p, &both), Given::default()) {
        Outcome::Fail { detected, .. } => {
            assert_eq!(detected, Some(AiMark::Declared("AI-Assisted: yes".into())))
        }
        other => panic!("{other:?}"),
    }
    // A rule that is not about AI names neither.
    let p = policy("[[rule]]\nname = \"r\"\nrequire = { trailers = [{ key = \"Ticket\" }] }\n");
    match evaluate(&p, "r", &by_carol(&p, &both), Given::default()) {
        Outcome::Fail { detected, .. } => assert_eq!(detected, None),
        other => panic!("{other:?}"),
    }
}
