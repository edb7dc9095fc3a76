//! `trailgate demo`: a throwaway server and clone, pushes that pass and fail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;

#[test]
fn demo_runs_and_shows_a_rejection_and_an_acceptance() {
    let tmp = tempfile::tempdir().unwrap();
    let run = run_trailgate(tmp.path(), tmp.path(), &["demo"], b"", &[]);
    run.assert_code(0).assert_no_panic();
    let text = run.all_text();
    assert!(
        text.contains("push rejected") || text.contains("[remote rejected]"),
        "the demo should show a rejected push\n{}",
        run.dump()
    );
    assert!(
        text.lines()
            .any(|l| l.contains("->") && !l.contains("rejected"))
            || text.to_lowercase().contains("accepted"),
        "the demo should show an accepted push\n{}",
        run.dump()
    );
}
