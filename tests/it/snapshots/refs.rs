//! What a pusher sees when a `deny` rule forbids a ref update: a force-push
//! or deletion of a protected branch, a moved or deleted tag.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::{Stage, Transcript};
use crate::support::*;

#[test]
fn a_force_push_and_a_deletion_of_main_are_denied() {
    let s = Stage::guarded(&policy(
        r#"
[[rule]]
name = "protect-main"
message = "main is shared history: no force-push, no deletion."
refs = ["refs/heads/main"]
deny = ["force-push", "delete"]
"#,
    ));
    s.server_config("receive.denyNonFastForwards", "false");
    s.server_config("receive.denyDeletes", "false");
    s.server_config("receive.denyDeleteCurrent", "false");
    s.commit(&CAROL, &msg("Published change", &[]));
    s.push(&["origin", "main"], &[]).assert_accepted_silently();
    s.git(&["reset", "-q", "--hard", "HEAD~1"]);
    s.commit(&CAROL, &msg("Rewritten history", &[]));

    let mut t = Transcript::new(&s);
    let forced = s.push(&["origin", "+main:main"], &[]);
    forced.assert_rejected();
    t.push("a force-push over the published change", &forced);
    let deleted = s.push(&["origin", "--delete", "main"], &[]);
    deleted.assert_rejected();
    t.push("a deletion of main", &deleted);
    t.check(
        "force_push_and_delete_denied",
        "deny = [\"force-push\", \"delete\"] on main",
    );
}

#[test]
fn moving_or_deleting_a_pushed_tag_is_denied() {
    let s = Stage::guarded(&policy(
        r#"
[[rule]]
name = "immutable-tags"
refs = ["refs/tags/**"]
deny = ["update", "force-push", "delete"]
"#,
    ));
    s.server_config("receive.denyDeletes", "false");
    s.git(&["tag", "v1"]);
    s.push(&["origin", "v1"], &[]).assert_accepted_silently();
    s.commit(&ALICE, &msg("Later work", &[]));
    s.git(&["tag", "-f", "-a", "-m", "Release 1, again", "v1"]);

    let mut t = Transcript::new(&s);
    let moved = s.push(&["origin", "--force", "v1"], &[]);
    moved.assert_rejected();
    t.push("v1 moved to an annotated tag of a later commit", &moved);
    let deleted = s.push(&["origin", ":refs/tags/v1"], &[]);
    deleted.assert_rejected();
    t.push("v1 deleted", &deleted);
    t.check(
        "tag_update_denied",
        "deny = [\"update\", \"force-push\", \"delete\"] on refs/tags/** (a rule with no message)",
    );
}

#[test]
fn a_push_of_two_refs_names_the_ref_of_each_violation() {
    let s = Stage::guarded(&policy(
        r#"
[[rule]]
name = "ai-needs-senior-approval"
message = "AI-assisted changes from junior and mid-level engineers need a senior's sign-off."
refs = ["refs/heads/main", "refs/heads/release/**"]
when = { ai_assisted = true, author_not_in = ["senior"] }
require = { approvals = { from = ["senior"], count = 1 } }
"#,
    ));
    s.commit(&CAROL, &msg("Unapproved on main", &["AI-Assisted: yes"]));
    s.git(&["checkout", "-q", "-b", "release", "origin/main"]);
    s.commit(&DAVE, &msg("Unapproved release fix", &["AI-Assisted: yes"]));
    let run = s.push(&["origin", "main", "release:refs/heads/release/1.0"], &[]);
    run.assert_rejected();
    Transcript::new(&s)
        .push("main and a new release/1.0 in one push", &run)
        .check(
            "two_refs_in_one_push",
            "one push updates main and creates release/1.0, each with an unapproved commit",
        );
}

#[test]
fn a_rule_for_some_repositories_rejects_where_the_name_is_unknown() {
    // No host variable names the repository and the policy sets no
    // repos_root: the rule with `repos` applies and says why.
    let s = Stage::guarded(&policy(
        r#"
[[rule]]
name = "payments-need-tickets"
refs = ["refs/heads/main"]
repos = ["acme/payments"]
require = { trailers = [ { key = "Ticket", value = "^PAY-[0-9]+$" } ] }
"#,
    ));
    s.commit(&CAROL, &msg("Has a ticket", &["Ticket: PAY-7"]));
    let mut t = Transcript::new(&s);
    let run = s.push(&["origin", "main"], &[]);
    run.assert_rejected();
    t.push("a push to a repository trailgate cannot name", &run);
    let gitlab = s.push(&["origin", "main"], &[("GL_PROJECT_PATH", "acme/web")]);
    gitlab.assert_accepted_silently();
    t.push("the same push where GitLab names another project", &gitlab);
    t.check(
        "repository_name_unknown",
        "repos = [\"acme/payments\"] with no host variable and no settings.repos_root",
    );
}

#[test]
fn a_baseline_accepts_old_history_and_cannot_be_pushed() {
    // The first release branch would judge main's old commits; the
    // baseline (missing at first, then set on the server) accepts them,
    // the audit log records it, and a push to the baseline ref is refused.
    let log = "audit.jsonl";
    let s = Stage::new();
    s.commit(&CAROL, "Old work without a ticket\n");
    s.push(&["origin", "main"], &[]).assert_code(0);
    s.install_hook();
    s.write_policy(&policy(&format!(
        r#"[settings]
baseline = "refs/trailgate/baseline"
audit_log = "{log}"

[[rule]]
name = "releases-need-tickets"
refs = ["refs/heads/release/**"]
require = {{ trailers = [ {{ key = "Ticket", value = "^PAY-[0-9]+$" }} ] }}
"#
    )));
    let mut t = Transcript::new(&s);
    let missing = s.push(&["origin", "main:refs/heads/release/1"], &[]);
    missing.assert_code(1);
    t.push("before the administrator sets the baseline ref", &missing);
    s.git_in(
        &s.server,
        &["update-ref", "refs/trailgate/baseline", "main"],
    );
    let accepted = s.push(&["origin", "main:refs/heads/release/1"], &[]);
    accepted.assert_accepted_silently();
    t.push(
        "after `git update-ref refs/trailgate/baseline main` on the server",
        &accepted,
    );
    s.commit(&CAROL, "New work without a ticket\n");
    let moved = s.push(&["origin", "HEAD:refs/trailgate/baseline"], &[]);
    moved.assert_code(1);
    t.push("a pusher moving the baseline", &moved);
    t.audit_log("the audit log", &s.server.join(log)).check(
        "baseline",
        "settings.baseline = \"refs/trailgate/baseline\": missing, set, then pushed to",
    );
}
