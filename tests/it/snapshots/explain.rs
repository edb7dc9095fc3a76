//! `trailgate explain`: what an engineer reads when asking "why does it
//! think my commit is AI-assisted?".

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::{Stage, Transcript};
use crate::support::*;

#[test]
fn explain_names_disclosures_marks_people_and_rules() {
    let s = Stage::new();
    let config = s.root.join("policy.toml");
    std::fs::write(
        &config,
        std::fs::read_to_string(format!("{REPO_ROOT}/config.example.toml")).unwrap(),
    )
    .unwrap();
    let config = config.display().to_string();
    s.commit(
        &CAROL,
        "mm: fix the reclaim accounting\n\n\
         The counter was read twice.\n\n\
         Assisted-by: Claude:claude-opus-4-6 coccinelle sparse\n\
         Assisted-by: Jane Doe <jane@example.com>\n\
         Co-authored-by: Copilot <copilot@github.com>\n\
         Approved-By: Alice Senior <alice@example.com>\n",
    );
    let kernel = s.trailgate(&["explain", "--config", &config, "HEAD"]);
    kernel.assert_code(0);
    s.commit(
        &CAROL,
        "Pair on the parser\n\n\
         Assisted-by: Jane Doe <jane@example.com>\n\
         Authored-by: Carol <carol@example.com>\n",
    );
    let human = s.trailgate(&["explain", "--config", &config, "--ref", "main", "HEAD"]);
    human.assert_code(0);
    let missing = s.trailgate(&["explain", "--config", &config, "no-such-commit"]);
    missing.assert_code(2);
    Transcript::new(&s)
        .command(
            "a kernel-style disclosure, human help and a weak mark, on main",
            &kernel,
        )
        .command("human help only: not AI-assisted", &human)
        .command("a commit that does not exist", &missing)
        .check(
            "explain",
            "`trailgate explain` under config.example.toml: disclosure trailers, marks and \
             their strength, people and rules",
        );
}
