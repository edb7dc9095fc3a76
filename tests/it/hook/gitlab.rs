//! Under GitLab (`GL_ID` or `GL_PROTOCOL` set), every line for the pusher
//! starts with `GL-HOOK-ERR: `, the only way GitLab shows a hook's words.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;

#[test]
fn under_gitlab_every_report_line_starts_with_gl_hook_err() {
    let w = World::with_policy(&policy(SENIOR_RULE));
    let subject = "Unapproved under GitLab";
    let oid = w.commit(&CAROL, &msg(subject, &["AI-Assisted: yes"]));
    let run = w.push_env(
        &["origin", "main"],
        &[("GL_ID", "user-1"), ("GL_PROTOCOL", "ssh")],
    );
    run.assert_rejected_with(1).assert_violation(
        "error",
        "ai-needs-senior-approval",
        "main",
        &oid,
        subject,
    );
    // `remote_lines` trims git's padding, and with it the space of a bare prefix.
    for line in run.remote_lines() {
        assert!(
            line.is_empty() || line == "GL-HOOK-ERR:" || line.starts_with("GL-HOOK-ERR: "),
            "line {line:?} lacks the GitLab prefix\n{}",
            run.dump()
        );
    }
}
