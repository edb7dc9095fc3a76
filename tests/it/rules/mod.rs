//! The rules in-process: a policy loaded from text, commits made by hand
//! (raw commit objects read by `trailgate::facts`), diffs and signatures
//! made by hand, and what `trailgate::rules` says of them. No repository,
//! no push: each condition and requirement, with its edge cases, at the
//! speed of a unit test. The real-push tests (`hook`, `blast`, `proof`,
//! `snapshots`) stay the proof that the engine asks these questions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod applies;
mod conditions;
mod load;
mod requirements;

use std::cell::Cell;
use std::path::Path;

use trailgate::facts::signature::SigStatus;
use trailgate::facts::{self, CommitFacts};
use trailgate::git::diff::{ChangeKind, DiffStats, FileChange};
use trailgate::git::ObjectId;
use trailgate::push::{Identified, Pusher};
use trailgate::rules::{self, Input, Outcome, Policy, PushedBy, Rule, Subject};
use trailgate::verdict::Finding;

/// People and groups: `senior` = alice (person id, two e-mails, login
/// `alice-s`) and bob (by e-mail); `juniors` = carol; `bots` = a glob.
pub const PEOPLE: &str = r#"
[people.alice]
name = "Alice Senior"
emails = ["alice@example.com", "alice@old.example.com"]
logins = ["alice-s"]

[people.bob]
name = "Bob Senior"
emails = ["bob@example.com"]
logins = ["bob"]

[groups]
senior = ["alice", "bob@example.com"]
juniors = ["carol@example.com"]
bots = ["*@bots.example"]
"#;

/// Index of alice among the people (they are sorted by id).
pub const ALICE: usize = 0;
/// Index of bob.
pub const BOB: usize = 1;

/// The variables the host was asked for the pusher.
pub const LOOKED_AT: &[&str] = &["GL_USERNAME", "REMOTE_USER"];

/// A policy of [`PEOPLE`] and `rules`; it must load.
pub fn policy(rules: &str) -> Policy {
    match rules::parse(
        Path::new("p.toml"),
        &format!("version = 1\n{PEOPLE}\n{rules}"),
    ) {
        Ok(p) => p,
        Err(e) => panic!("the policy does not load: {e}"),
    }
}

/// The rule called `name`.
pub fn rule<'p>(p: &'p Policy, name: &str) -> &'p Rule {
    p.rules.iter().find(|r| r.name == name).unwrap()
}

thread_local! {
    static NEXT_ID: Cell<u8> = const { Cell::new(1) };
}

/// A fresh object id.
pub fn id() -> ObjectId {
    let n = NEXT_ID.with(|c| {
        let n = c.get();
        c.set(n.wrapping_add(1));
        n
    });
    ObjectId::from_hex(format!("{n:02x}{}", "0".repeat(38)).as_bytes()).unwrap()
}

/// A commit by `author` (`Name <email>`) with `parents` parents and this
/// message, as `trailgate::facts` reads it under the policy.
pub fn commit(p: &Policy, author: &str, parents: usize, message: &str) -> CommitFacts {
    let mut raw = String::from("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n");
    for _ in 0..parents {
        raw.push_str(&format!("parent {}\n", id()));
    }
    raw.push_str(&format!("author {author} 1700000000 +0000\n"));
    raw.push_str(&format!("committer {author} 1700000000 +0000\n\n{message}"));
    facts::of_commit(id(), raw.as_bytes(), &p.facts()).unwrap()
}

/// A one-parent commit by Carol, a junior.
pub fn by_carol(p: &Policy, message: &str) -> CommitFacts {
    commit(p, "Carol <carol@example.com>", 1, message)
}

/// A diff of these changes: (path, status, lines added, lines deleted).
pub fn diff(files: &[(&str, ChangeKind, u64, u64)]) -> DiffStats {
    DiffStats {
        files: files
            .iter()
            .map(|&(path, status, added, deleted)| FileChange {
                status,
                old_path: (status != ChangeKind::Added).then(|| path.as_bytes().to_vec()),
                new_path: (status != ChangeKind::Deleted).then(|| path.as_bytes().to_vec()),
                old_mode: Some(0o100644),
                new_mode: Some(0o100644),
                added: Some(added),
                deleted: Some(deleted),
                binary_lines: None,
            })
            .collect(),
    }
}

/// A pusher known by a host login.
pub fn pusher(login: &str) -> Pusher {
    Pusher {
        login: login.to_owned(),
        email: None,
        source: "REMOTE_USER",
        by: Identified::Login,
        user_id: None,
        host: "http",
    }
}

/// What a rule's evaluation is given.
#[derive(Default, Clone, Copy)]
pub struct Given<'a> {
    pub diff: Option<&'a DiffStats>,
    pub signature: Option<&'a SigStatus>,
    pub merge_signers: Option<&'a [usize]>,
    pub pusher: Option<&'a Pusher>,
}

/// Evaluates rule `name` on a commit.
pub fn evaluate(p: &Policy, name: &str, c: &CommitFacts, given: Given<'_>) -> Outcome {
    let pushed = PushedBy::new(p, given.pusher, LOOKED_AT);
    rules::evaluate(
        rule(p, name),
        &Input {
            policy: p,
            subject: Subject::Commit(c),
            diff: given.diff,
            signature: given.signature,
            merge_signers: given.merge_signers,
            pushed: &pushed,
        },
    )
}

/// The findings of a failing evaluation; panics on anything else.
pub fn findings(outcome: Outcome) -> Vec<Finding> {
    match outcome {
        Outcome::Fail { findings, .. } => findings,
        other => panic!("expected the rule to fail, got {other:?}"),
    }
}

/// The one finding of a failing evaluation.
pub fn finding(outcome: Outcome) -> Finding {
    let mut all = findings(outcome);
    assert_eq!(all.len(), 1, "{all:?}");
    all.remove(0)
}
