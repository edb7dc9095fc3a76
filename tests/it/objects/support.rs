//! Helpers for the object tests: raw commits in the clone, pushed for real.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use crate::hardening::support::raw_object_in;
use crate::support::*;

pub const MAIN: &str = "refs/heads/main";

/// Carol (a junior) as author and committer.
pub const CAROL_AUTHOR: &str = "author Carol <carol@example.com> 1700000000 +0000";
pub const CAROL_COMMITTER: &str = "committer Carol <carol@example.com> 1700000000 +0000";
pub const ALICE_AUTHOR: &str = "author Alice Senior <alice@example.com> 1700000000 +0000";

/// Writes a raw object into the clone and returns its id.
pub fn raw(w: &World, kind: &str, data: &[u8]) -> String {
    raw_object_in(w, &w.work, kind, data)
}

/// The clone's current tree and `main`.
pub fn tip(w: &World) -> (String, String) {
    (
        w.git(&["rev-parse", "HEAD^{tree}"]),
        w.git(&["rev-parse", "HEAD"]),
    )
}

/// A commit object from header lines and a message.
pub fn commit_of(lines: &[&str], message: &str) -> Vec<u8> {
    let mut out = String::new();
    for l in lines {
        out.push_str(l);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(message);
    out.into_bytes()
}

/// Points the clone's `branch` at `oid` and pushes it to the server.
pub fn push_as(w: &World, oid: &str, branch: &str) -> Run {
    w.git(&["update-ref", &format!("refs/heads/{branch}"), oid]);
    w.push(&[
        "origin",
        &format!("refs/heads/{branch}:refs/heads/{branch}"),
    ])
}

/// A push trailgate refused as unjudgeable: the remote says the commit or
/// tag is malformed (naming it and `what`), and the server's `refname` has
/// not moved.
pub fn assert_refused(
    w: &World,
    run: &Run,
    before: Option<&str>,
    refname: &str,
    oid: &str,
    what: &str,
) {
    run.assert_rejected();
    run.assert_says(&format!("{oid} is malformed"));
    run.assert_says(what);
    w.assert_server_ref(refname, before);
}

/// The policy of the attacks: the senior rule and force-push protection on
/// `main`, and a blast radius of one deleted file.
pub fn attack_policy() -> String {
    policy(&format!(
        "{SENIOR_RULE}{}",
        r#"
[[rule]]
name = "protect-main"
refs = ["refs/heads/main"]
deny = ["force-push", "delete"]

[[rule]]
name = "small-deletes"
refs = ["refs/heads/main"]
require = { max_files_deleted = 1 }
"#
    ))
}
