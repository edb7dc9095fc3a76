//! Identities as strong as the rule asks (`settings.identity`, proof-aware
//! approvals): a junior with push access and plain `git` tries to pass as a
//! senior or a bot, or to make one senior count twice. Each `attack_` test
//! pushes for real and fails when its defence is removed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::proof::{amend_signed, approval_rule, policy_with_keys, world_with_keys};
use crate::support::*;

const MAIN: &str = "refs/heads/main";
const AS_CAROL: &[(&str, &str)] = &[("REMOTE_USER", "carol")];
const AS_ALICE: &[(&str, &str)] = &[("REMOTE_USER", "alice-s")];
const AS_BOB: &[(&str, &str)] = &[("REMOTE_USER", "bob-s")];

/// Carol's AI-assisted commit written with `git commit --author "Alice
/// Senior <alice@example.com>"`: the author line is hers to type.
fn as_alice(w: &World, subject: &str) -> String {
    w.commit(&ALICE, &msg(subject, &["AI-Assisted: yes"]))
}

#[test]
fn attack_claiming_a_seniors_author_line_under_signature_proof() {
    let (w, keys) = world_with_keys();
    w.write_policy(&policy_with_keys(&keys, "", &approval_rule("signature")));
    let before = w.server_ref(MAIN).unwrap();
    let oid = as_alice(&w, "Pretend to be Alice");
    // Alice's author line, unsigned, pushed by Carol: the author is unknown,
    // so the rule for non-seniors applies and asks for a senior's signature.
    w.push_env(&["origin", "main"], AS_CAROL)
        .assert_rejected_with(1)
        .assert_violation(
            "error",
            "ai-needs-senior-approval",
            MAIN,
            &oid,
            "Pretend to be Alice",
        );
    w.assert_server_ref(MAIN, Some(&before));
    // Alice really signs it: then it is hers, and the rule does not apply.
    let signed = amend_signed(
        &w,
        &ALICE,
        &keys.alice,
        &msg("Pretend to be Alice", &["AI-Assisted: yes"]),
    );
    w.push_env(&["origin", "main"], AS_CAROL)
        .assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&signed));
}

#[test]
fn attack_claiming_a_seniors_author_line_under_pusher_proof() {
    let (w, keys) = world_with_keys();
    w.write_policy(&policy_with_keys(&keys, "", &approval_rule("pusher")));
    let oid = as_alice(&w, "Pretend to be Alice");
    w.push_env(&["origin", "main"], AS_CAROL)
        .assert_rejected_with(1)
        .assert_violation(
            "error",
            "ai-needs-senior-approval",
            MAIN,
            &oid,
            "Pretend to be Alice",
        )
        .assert_line_with(&["help:", "push it", "themselves"]);
    // Alice pushing it is the proof that it is hers.
    w.push_env(&["origin", "main"], AS_ALICE)
        .assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
}

#[test]
fn attack_approval_trailer_typed_by_a_junior_under_pusher_proof() {
    let (w, keys) = world_with_keys();
    w.write_policy(&policy_with_keys(&keys, "", &approval_rule("pusher")));
    w.commit(
        &CAROL,
        &msg(
            "Approve myself",
            &["AI-Assisted: yes", &approved_by(&ALICE), &approved_by(&BOB)],
        ),
    );
    w.push_env(&["origin", "main"], AS_CAROL)
        .assert_rejected_with(1)
        .assert_line_with(&["the push by carol (REMOTE_USER)", "a trailer is only text"]);
    // Bob merging it is the approval, trailer or not.
    w.push_env(&["origin", "main"], AS_BOB)
        .assert_accepted_silently();
}

#[test]
fn attack_one_senior_counting_twice_by_pushing_what_they_signed() {
    let (w, keys) = world_with_keys();
    let rule = approval_rule("pusher").replace(
        "count = 1, proof = \"pusher\"",
        "count = 2, proof = [\"pusher\", \"signature\"]",
    );
    assert!(rule.contains("[\"pusher\", \"signature\"]"));
    w.write_policy(&policy_with_keys(&keys, "", &rule));
    w.commit(&CAROL, &msg("Needs two", &["AI-Assisted: yes"]));
    let signed = amend_signed(
        &w,
        &ALICE,
        &keys.alice,
        &msg("Needs two", &["AI-Assisted: yes"]),
    );
    // Alice signed and Alice pushes: one person, one approval.
    w.push_env(&["origin", "main"], AS_ALICE)
        .assert_rejected_with(1)
        .assert_line_with(&[
            "needs 2 approvals",
            "the push by alice-s (REMOTE_USER) (counted)",
            "a signature by alice (Alice Senior), who was already counted once",
        ]);
    // Bob pushes what Alice signed: two seniors.
    w.push_env(&["origin", "main"], AS_BOB)
        .assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&signed));
}

/// People for `settings.identity = "proven"`: the seniors with logins and
/// keys, and the CI bot as a person with a login.
fn proven_policy(keys: &crate::proof::Keys, identity: &str) -> String {
    let bot = "[people.ci-bot]\nname = \"CI Bot\"\nemails = [\"ci-bot@example.com\"]\nlogins = [\"ci-bot\"]\n";
    let rules = r#"
[[rule]]
name = "ai-blast-radius"
refs = ["refs/heads/main"]
when = { ai_assisted = true }
exempt = { authors = ["bots"] }
require = { max_files_changed = 0 }
"#;
    policy_with_keys(
        keys,
        &format!("[settings]\nidentity = \"{identity}\"\n"),
        "",
    )
    .replace("[groups]", &format!("{bot}\n[groups]"))
    .replace("bots = [\"ci-bot@example.com\"]", "bots = [\"ci-bot\"]")
        + rules
}

#[test]
fn attack_claiming_the_bots_author_line_to_be_exempt_under_proven_identity() {
    let (w, keys) = world_with_keys();
    let oid = w.commit(&BOT, &msg("Pretend to be the bot", &["AI-Assisted: yes"]));
    // Under "proven" Carol's push of the bot's author line is nobody's.
    w.write_policy(&proven_policy(&keys, "proven"));
    w.push_env(&["origin", "main"], AS_CAROL)
        .assert_rejected_with(1)
        .assert_violation(
            "error",
            "ai-blast-radius",
            MAIN,
            &oid,
            "Pretend to be the bot",
        );
    // The bot's own push is exempt.
    w.push_env(&["origin", "main"], &[("REMOTE_USER", "ci-bot")])
        .assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
    // Under "claimed" the author line alone exempts it: the hole that
    // "proven" closes.
    let again = w.commit(&BOT, &msg("Pretend again", &["AI-Assisted: yes"]));
    w.write_policy(&proven_policy(&keys, "claimed"));
    w.push_env(&["origin", "main"], AS_CAROL)
        .assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&again));
}

#[test]
fn a_count_the_proof_can_never_reach_is_a_load_error_with_its_position() {
    let (w, keys) = world_with_keys();
    let rule = approval_rule("pusher").replace("count = 1", "count = 2");
    w.write_policy(&policy_with_keys(&keys, "", &rule));
    let policy = w.server.join("trailgate.toml");
    let text = std::fs::read_to_string(&policy).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("proof = \"pusher\""))
        .unwrap()
        + 1;
    let run = w.trailgate(
        &w.root,
        &["check", "--config", policy.to_str().unwrap()],
        "",
        &[],
    );
    run.assert_code(2)
        .assert_says(&format!("trailgate.toml:{line}:"))
        .assert_says("at most 1 can ever be counted")
        .assert_says("[\"pusher\", \"signature\"]");
    // With a signature as the second proof it loads.
    w.write_policy(&policy_with_keys(
        &keys,
        "",
        &rule.replace("proof = \"pusher\"", "proof = [\"pusher\", \"signature\"]"),
    ));
    w.trailgate(
        &w.root,
        &["check", "--config", policy.to_str().unwrap()],
        "",
        &[],
    )
    .assert_code(0);
}

#[test]
fn check_warns_when_a_rule_asks_for_proof_but_identity_stays_claimed() {
    let (w, keys) = world_with_keys();
    let policy = w.server.join("trailgate.toml");
    let check = |w: &World| {
        w.trailgate(
            &w.root,
            &["check", "--config", policy.to_str().unwrap()],
            "",
            &[],
        )
    };
    w.write_policy(&policy_with_keys(&keys, "", &approval_rule("pusher")));
    check(&w)
        .assert_code(0)
        .assert_says("rule `ai-needs-senior-approval` asks for proof")
        .assert_says("settings.identity = \"proven\"");
    w.write_policy(&policy_with_keys(
        &keys,
        "[settings]\nidentity = \"proven\"\n",
        &approval_rule("pusher"),
    ));
    check(&w)
        .assert_code(0)
        .assert_silent_about("asks for proof");
    w.write_policy(&policy_with_keys(&keys, "", &approval_rule("trailer")));
    check(&w)
        .assert_code(0)
        .assert_silent_about("asks for proof");
}

/// Carol's AI-assisted commit, which only a senior's push approves
/// (`proof = "pusher"`); `settings` go into the policy.
fn pusher_world(settings: &str, alice_extra: &str) -> (World, crate::proof::Keys) {
    let (w, keys) = world_with_keys();
    let policy = policy_with_keys(&keys, settings, &approval_rule("pusher")).replace(
        "logins = [\"alice-s\"]",
        &format!("logins = [\"alice-s\"]\n{alice_extra}"),
    );
    w.write_policy(&policy);
    w.commit(&CAROL, &msg("Needs a senior's push", &["AI-Assisted: yes"]));
    (w, keys)
}

#[test]
fn attack_setting_gits_push_certificate_variables_by_hand() {
    let (w, keys) = pusher_world("", "");
    // Alice's key's fingerprint, as git would report it for her signed push.
    let pubkey = w.root.join("alice.pub");
    std::fs::write(&pubkey, &keys.alice.public).unwrap();
    let out = std::process::Command::new("ssh-keygen")
        .arg("-lf")
        .arg(&pubkey)
        .output()
        .unwrap();
    let fingerprint = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned();
    assert!(fingerprint.starts_with("SHA256:"), "{fingerprint}");
    // Over the file transport (or a shell) the hook inherits what the
    // pusher sets, and receive-pack clears none of it.
    let forged = [
        ("GIT_PUSH_CERT_KEY", fingerprint.as_str()),
        ("GIT_PUSH_CERT_STATUS", "G"),
        ("GIT_PUSH_CERT_NONCE_STATUS", "OK"),
        ("GIT_PUSH_CERT_SIGNER", "Alice Senior <alice@example.com>"),
    ];
    w.push_env(&["origin", "main"], &forged)
        .assert_rejected_with(1)
        .assert_says("ai-needs-senior-approval");
}

#[test]
fn attack_replaying_a_seniors_push_certificate_for_another_push() {
    let (w, keys) = pusher_world("", "");
    w.server_config("receive.certNonceSeed", "trailgate-test-seed");
    let allowed = w.root.join("allowed_signers");
    std::fs::write(&allowed, "").unwrap();
    w.server_config("gpg.ssh.allowedSignersFile", allowed.to_str().unwrap());
    // Alice pushes Carol's commit with a signed push: her certificate is
    // the approval, and receive-pack keeps it as a blob in the repository.
    let signingkey = format!("user.signingkey={}", keys.alice.private.display());
    w.run_git(
        &w.work,
        &[
            "-c",
            "gpg.format=ssh",
            "-c",
            &signingkey,
            "push",
            "--signed",
            "origin",
            "main",
        ],
    )
    .assert_accepted_silently();
    let blobs = w.server_git(&[
        "cat-file",
        "--batch-all-objects",
        "--batch-check=%(objectname) %(objecttype)",
    ]);
    let cert = blobs
        .lines()
        .filter_map(|l| l.strip_suffix(" blob"))
        .find(|oid| {
            w.server_git(&["cat-file", "-p", oid])
                .starts_with("certificate version")
        })
        .expect("receive-pack keeps the push certificate")
        .to_owned();
    // Carol's next commit, with Alice's old certificate named by hand.
    let oid = w.commit(&CAROL, &msg("Replay", &["AI-Assisted: yes"]));
    w.push_env(&["origin", "main"], &[("GIT_PUSH_CERT", &cert)])
        .assert_rejected_with(1)
        .assert_violation("error", "ai-needs-senior-approval", MAIN, &oid, "Replay")
        .assert_says("signs other ref updates than the ones pushed");
}

#[test]
fn attack_a_gitea_email_address_the_user_set_themselves() {
    let gitea = [
        ("GITEA_PUSHER_NAME", "carol"),
        ("GITEA_PUSHER_ID", "33"),
        ("GITEA_PUSHER_EMAIL", "alice@example.com"),
    ];
    let (w, _keys) = pusher_world("", "");
    w.push_env(&["origin", "main"], &gitea)
        .assert_rejected_with(1)
        .assert_says("ai-needs-senior-approval");
    // Where the host verifies addresses, the administrator may trust them.
    let (w, _keys) = pusher_world("[settings]\ntrust_host_emails = true\n", "");
    w.push_env(&["origin", "main"], &gitea)
        .assert_accepted_silently();
}

#[test]
fn attack_a_deploy_key_push_that_gitea_reports_as_the_owner() {
    let (w, _keys) = pusher_world("", "");
    w.push_env(
        &["origin", "main"],
        &[
            ("GITEA_PUSHER_NAME", "alice-s"),
            ("GITEA_PUSHER_ID", "1"),
            ("GITEA_DEPLOY_KEY_ID", "12"),
        ],
    )
    .assert_rejected_with(1)
    .assert_says("ai-needs-senior-approval");
    w.push_env(
        &["origin", "main"],
        &[
            ("GITEA_PUSHER_NAME", "alice-s"),
            ("GITEA_PUSHER_ID", "1"),
            ("GITEA_DEPLOY_KEY_ID", "0"),
        ],
    )
    .assert_accepted_silently();
}

#[test]
fn attack_taking_over_a_departed_seniors_login() {
    let (w, _keys) = pusher_world("", "user_ids = [\"gitlab:user-1\"]");
    // Someone else's account now has the login `alice-s`.
    w.push_env(
        &["origin", "main"],
        &[("GL_USERNAME", "alice-s"), ("GL_ID", "user-99")],
    )
    .assert_rejected_with(1)
    .assert_says("ai-needs-senior-approval");
    // Alice, renamed, is still Alice by her id.
    w.push_env(
        &["origin", "main"],
        &[("GL_USERNAME", "alice-renamed"), ("GL_ID", "user-1")],
    )
    .assert_accepted_silently();
}

#[test]
fn attack_another_hosts_variable_under_settings_host() {
    let env = [("GL_USERNAME", "alice-s"), ("REMOTE_USER", "carol")];
    // An http server: REMOTE_USER is what the web server authenticated,
    // GL_USERNAME is not this host's and must not name the pusher.
    let (w, _keys) = pusher_world(
        "[settings]\nhost = \"http\"\naudit_log = \"audit.jsonl\"\n",
        "",
    );
    w.push_env(&["origin", "main"], &env)
        .assert_rejected_with(1)
        .assert_line_with(&["note:", "settings.host = \"http\"", "ignored GL_USERNAME"]);
    // The audit line keeps what was ignored.
    let log = std::fs::read_to_string(w.server.join("audit.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(line["pusher"], "carol", "{log}");
    assert!(
        line["pusher_notes"][0]
            .as_str()
            .unwrap()
            .contains("ignored GL_USERNAME"),
        "{log}"
    );
    // Without settings.host, GitLab's variable comes first.
    let (w, _keys) = pusher_world("", "");
    w.push_env(&["origin", "main"], &env)
        .assert_accepted_silently();
}

#[test]
fn attack_pushing_someone_elses_commits_where_the_author_must_be_the_pusher() {
    let (w, keys) = world_with_keys();
    let carol = "[people.carol]\nname = \"Carol\"\nemails = [\"carol@example.com\"]\nlogins = [\"carol\"]\n";
    let rule = r#"
[[rule]]
name = "push-your-own"
refs = ["refs/heads/main"]
require = { author_is_pusher = true, committer_is_pusher = true }
"#;
    w.write_policy(
        &policy_with_keys(&keys, "", rule).replace("[groups]", &format!("{carol}\n[groups]")),
    );
    let oid = w.commit(&ALICE, &msg("Written as Alice", &[]));
    // Carol pushes a commit whose author and committer lines say Alice.
    w.push_env(&["origin", "main"], AS_CAROL)
        .assert_rejected_with(1)
        .assert_violation("error", "push-your-own", MAIN, &oid, "Written as Alice")
        .assert_line_with(&[
            "author must be the pusher",
            "alice (Alice Senior)",
            "carol (REMOTE_USER)",
        ]);
    // Alice pushes her own commit.
    w.push_env(&["origin", "main"], AS_ALICE)
        .assert_accepted_silently();
    // Carol's own commit, pushed by Carol, passes; an author nobody knows does not.
    w.commit(&CAROL, &msg("Carol's own", &[]));
    w.push_env(&["origin", "main"], AS_CAROL)
        .assert_accepted_silently();
    w.commit(&DAVE, &msg("Dave is nobody here", &[]));
    w.push_env(&["origin", "main"], AS_CAROL)
        .assert_rejected_with(1)
        .assert_line_with(&["its author is <dave@example.com>", "carol (REMOTE_USER)"]);
}

#[test]
fn attack_naming_another_account_on_plain_ssh() {
    let me = String::from_utf8(
        std::process::Command::new("id")
            .arg("-un")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();
    let people = format!(
        "[people.me]\nname = \"This account\"\nemails = [\"me@example.com\"]\nlogins = [\"{me}\"]\n"
    );
    let rule = r#"
[[rule]]
name = "only-seniors-update-main"
refs = ["refs/heads/main"]
when = { pusher_not_in = ["senior"] }
deny = ["update"]
"#;
    let w = World::with_policy(
        &policy(rule)
            .replace("[groups]", &format!("{people}\n[groups]"))
            .replace("senior = [\"alice\"", "senior = [\"me\", \"alice\""),
    );
    let ssh = ("SSH_CONNECTION", "127.0.0.1 50000 127.0.0.1 22");
    // Not this account: another user's name in the variables a shell sets
    // changes nothing, the real uid decides.
    w.commit(&ALICE, &msg("Over ssh", &[]));
    let others = [ssh, ("USER", "alice-s"), ("LOGNAME", "alice-s")];
    let policy_without_me = policy(rule);
    w.write_policy(&policy_without_me);
    w.push_env(&["origin", "main"], &others)
        .assert_rejected()
        .assert_says("only-seniors-update-main");
    // This account is in `senior`: its own push passes.
    w.write_policy(
        &policy(rule)
            .replace("[groups]", &format!("{people}\n[groups]"))
            .replace("senior = [\"alice\"", "senior = [\"me\", \"alice\""),
    );
    w.push_env(&["origin", "main"], &others)
        .assert_accepted_silently();
    // Without an ssh session no account is read: nobody pushed.
    w.commit(&ALICE, &msg("Not over ssh", &[]));
    w.push(&["origin", "main"])
        .assert_rejected()
        .assert_line_with(&["named nobody", "SSH_CONNECTION"]);
}
