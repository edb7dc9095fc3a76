//! `trailgate trailers`: what trailgate sees, compared with what git prints.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::support::*;

/// Messages whose trailers git finds (or not) in interesting ways.
const MESSAGES: &[&str] = &[
    // Plain block, mixed-case keys, a git-generated line.
    "Subject\n\nBody.\n\nSigned-off-by: Carol <carol@example.com>\nai-assisted: yes\nApproved-By: Alice Senior <alice@example.com>\n",
    // A continuation line is unfolded.
    "Subject\n\nBody.\n\nApproved-By: Alice Senior\n  <alice@example.com>\nAI-Assisted: yes\n",
    // A key-value line in a middle paragraph is not a trailer.
    "Subject\n\nApproved-By: Alice Senior <alice@example.com>\n\nMore prose.\n",
    // Mostly not trailers: the 25% rule applies only with a git-generated line.
    "Subject\n\nBody.\n\nApproved-By: Alice Senior <alice@example.com>\nthis line is prose\nand so is this\nand this\n",
    "Subject\n\nBody.\n\nSigned-off-by: Carol <carol@example.com>\nApproved-By: Bob <bob@example.com>\nprose\n",
    // No body at all.
    "Subject only\n",
];

#[test]
fn trailers_of_a_commit_match_git_log() {
    let w = World::new();
    for message in MESSAGES {
        let oid = w.commit(&CAROL, message);
        let git = w.git(&["log", "-1", "--format=%(trailers:only,unfold)", &oid]);
        let run = w.trailgate(&w.work, &["trailers", &oid], "", &[]);
        run.assert_code(0).assert_no_panic();
        assert_eq!(
            run.stdout.trim_end_matches('\n'),
            git.trim_end_matches('\n'),
            "for message {message:?}\n{}",
            run.dump()
        );
    }
}

#[test]
fn trailers_of_a_message_on_stdin_match_git_interpret_trailers() {
    let w = World::new();
    let mut extra = MESSAGES.to_vec();
    // Without a commit the divider is not special either (`--no-divider`).
    extra.push("Subject\n\nBody.\n---\nnot a divider\n\nAI-Assisted: yes\n");
    extra.push("Subject\n\nBody.\n\nAI-Assisted: yes\n---\n");
    for message in extra {
        let mut cmd = Command::new("git");
        cmd.args(["interpret-trailers", "--parse", "--no-divider"])
            .current_dir(&w.work)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        hermetic(&mut cmd, &w.home);
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(message.as_bytes())
            .unwrap();
        let git = child.wait_with_output().unwrap();
        assert!(git.status.success());
        let run = w.trailgate(&w.work, &["trailers"], message, &[]);
        run.assert_code(0).assert_no_panic();
        assert_eq!(
            run.stdout,
            String::from_utf8(git.stdout).unwrap(),
            "for message {message:?}\n{}",
            run.dump()
        );
    }
}
