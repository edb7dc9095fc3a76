//! Approvals that cannot be forged: `proof = "pusher"` and `"signature"`,
//! `require.signed`, pushers from each host's variables and from signed push
//! certificates, and break-glass overrides, with real keys, real signed
//! commits and real pushes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use crate::support::*;

const MAIN: &str = "refs/heads/main";

/// An SSH key pair made with the real ssh-keygen.
pub struct Key {
    pub private: PathBuf,
    pub public: String,
}

pub fn keygen(w: &World, name: &str) -> Key {
    let private = w.root.join(format!("{name}_ed25519"));
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&private)
        .output()
        .expect("ssh-keygen is needed for the signature tests (package openssh-client)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = std::fs::read_to_string(private.with_extension("pub"))
        .unwrap_or_else(|_| std::fs::read_to_string(format!("{}.pub", private.display())).unwrap());
    Key {
        private,
        public: public.trim().to_owned(),
    }
}

pub struct Keys {
    pub alice: Key,
    pub bob: Key,
    pub dave: Key,
}

/// The harness's people, with SSH keys for Alice and Bob (Dave's key is
/// known to nobody), and `rules`.
pub fn policy_with_keys(keys: &Keys, settings: &str, rules: &str) -> String {
    let people = PEOPLE
        .replace(
            "logins = [\"alice-s\"]",
            &format!(
                "logins = [\"alice-s\"]\nssh_keys = [\"{}\"]",
                keys.alice.public
            ),
        )
        .replace(
            "emails = [\"bob@example.com\"]",
            &format!(
                "emails = [\"bob@example.com\"]\nlogins = [\"bob-s\"]\nssh_keys = [\"{}\"]",
                keys.bob.public
            ),
        );
    assert!(people.contains(&keys.alice.public) && people.contains(&keys.bob.public));
    format!("version = 1\n{settings}\n{people}\n{rules}")
}

pub fn world_with_keys() -> (World, Keys) {
    let w = World::new();
    let keys = Keys {
        alice: keygen(&w, "alice"),
        bob: keygen(&w, "bob"),
        dave: keygen(&w, "dave"),
    };
    w.install_hook();
    (w, keys)
}

pub fn approval_rule(proof: &str) -> String {
    format!(
        r#"
[[rule]]
name = "ai-needs-senior-approval"
refs = ["refs/heads/main"]
when = {{ ai_assisted = true, author_not_in = ["senior"] }}
require = {{ approvals = {{ from = ["senior"], count = 1, proof = "{proof}" }} }}
"#
    )
}

/// `git commit --amend -S` as `who`, signing with `key`, with a new message.
pub fn amend_signed(w: &World, who: &Person, key: &Key, message: &str) -> String {
    let signingkey = format!("user.signingkey={}", key.private.display());
    let env = [
        ("GIT_COMMITTER_NAME", who.name),
        ("GIT_COMMITTER_EMAIL", who.email),
    ];
    w.run_git_env(
        &w.work,
        &[
            "-c",
            "gpg.format=ssh",
            "-c",
            &signingkey,
            "commit",
            "-q",
            "--amend",
            "-S",
            "-m",
            message,
        ],
        &env,
    )
    .assert_code(0);
    w.git(&["rev-parse", "HEAD"])
}

const FORGED: &str = "Forged approval";

fn forged_commit(w: &World) -> String {
    w.commit(
        &CAROL,
        &msg(FORGED, &["AI-Assisted: yes", &approved_by(&ALICE)]),
    )
}

#[test]
fn forged_approval_passes_under_trailer_proof() {
    let (w, keys) = world_with_keys();
    w.write_policy(&policy_with_keys(&keys, "", &approval_rule("trailer")));
    let oid = forged_commit(&w);
    w.push_env(&["origin", "main"], &[("REMOTE_USER", "carol")])
        .assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
}

#[test]
fn forged_approval_is_rejected_under_pusher_proof_unless_a_senior_pushes() {
    let (w, keys) = world_with_keys();
    w.write_policy(&policy_with_keys(&keys, "", &approval_rule("pusher")));
    let before = w.server_ref(MAIN).unwrap();
    let oid = forged_commit(&w);
    w.push_env(&["origin", "main"], &[("REMOTE_USER", "carol")])
        .assert_rejected_with(1)
        .assert_violation("error", "ai-needs-senior-approval", MAIN, &oid, FORGED)
        .assert_line_with(&["proof = \"pusher\"", "carol (REMOTE_USER)"]);
    w.assert_server_ref(MAIN, Some(&before));
    // No pusher at all: rejected, naming the variables looked at.
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_line_with(&["named nobody", "REMOTE_USER"]);
    // Alice herself pushes the commit she approved.
    w.push_env(&["origin", "main"], &[("REMOTE_USER", "alice-s")])
        .assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&oid));
}

#[test]
fn forged_approval_is_rejected_under_signature_proof_and_passes_once_alice_signs() {
    let (w, keys) = world_with_keys();
    w.write_policy(&policy_with_keys(&keys, "", &approval_rule("signature")));
    let before = w.server_ref(MAIN).unwrap();
    let oid = forged_commit(&w);
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_violation("error", "ai-needs-senior-approval", MAIN, &oid, FORGED)
        .assert_line_with(&[
            "no signature by a member of group senior",
            "not signed",
            "a trailer is only text",
        ])
        .assert_line_with(&["help:", "-S"]);
    w.assert_server_ref(MAIN, Some(&before));

    // Alice reviews, amends and signs with her own key.
    let signed = amend_signed(
        &w,
        &ALICE,
        &keys.alice,
        &msg(FORGED, &["AI-Assisted: yes", &approved_by(&ALICE)]),
    );
    assert_ne!(signed, oid);
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&signed));
}

#[test]
fn a_commit_signed_by_bob_is_bobs_approval_whoever_its_trailer_names() {
    let (w, keys) = world_with_keys();
    // Two approvals: Bob's signature is one; the trailer naming Alice is
    // only text and is not the second.
    let rule = approval_rule("signature").replace("count = 1", "count = 2");
    w.write_policy(&policy_with_keys(&keys, "", &rule));
    forged_commit(&w);
    amend_signed(
        &w,
        &BOB,
        &keys.bob,
        &msg(FORGED, &["AI-Assisted: yes", &approved_by(&ALICE)]),
    );
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_line_with(&[
            "needs 2 approvals",
            "a signature by bob (Bob Senior) (counted)",
            "a trailer is only text",
        ]);
    w.write_policy(&policy_with_keys(&keys, "", &approval_rule("signature")));
    w.push(&["origin", "main"]).assert_accepted_silently();
}

#[test]
fn a_signature_by_a_key_nobody_owns_does_not_count() {
    let (w, keys) = world_with_keys();
    w.write_policy(&policy_with_keys(&keys, "", &approval_rule("signature")));
    forged_commit(&w);
    amend_signed(
        &w,
        &ALICE,
        &keys.dave,
        &msg(FORGED, &["AI-Assisted: yes", &approved_by(&ALICE)]),
    );
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_line_with(&["belongs to nobody in [people]"]);
}

/// Carol's unapproved AI commits on a topic branch, merged into main by
/// Alice with `git merge --no-ff`, signed when `key` is given.
pub fn merge_by_alice(w: &World, key: Option<&Key>) -> (String, String) {
    w.git(&["checkout", "-q", "-b", "topic"]);
    let work = w.commit(&CAROL, &msg("Topic work", &["AI-Assisted: yes"]));
    w.git(&["checkout", "-q", "main"]);
    let mut args = vec!["-c".to_owned(), "gpg.format=ssh".to_owned()];
    if let Some(key) = key {
        args.push("-c".into());
        args.push(format!("user.signingkey={}", key.private.display()));
    }
    args.extend(["merge", "-q", "--no-ff", "-m", "Merge topic"].map(String::from));
    if key.is_some() {
        args.push("-S".into());
    }
    args.push("topic".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env = [
        ("GIT_AUTHOR_NAME", ALICE.name),
        ("GIT_AUTHOR_EMAIL", ALICE.email),
        ("GIT_COMMITTER_NAME", ALICE.name),
        ("GIT_COMMITTER_EMAIL", ALICE.email),
    ];
    w.run_git_env(&w.work, &args, &env).assert_code(0);
    (work, w.git(&["rev-parse", "HEAD"]))
}

#[test]
fn a_merge_signed_by_alice_approves_the_commits_it_brings_in() {
    let (w, keys) = world_with_keys();
    w.write_policy(&policy_with_keys(&keys, "", &approval_rule("signature")));
    let (_, merge) = merge_by_alice(&w, Some(&keys.alice));
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&merge));
}

#[test]
fn an_unsigned_merge_approves_nothing() {
    let (w, keys) = world_with_keys();
    w.write_policy(&policy_with_keys(&keys, "", &approval_rule("signature")));
    let (work, _) = merge_by_alice(&w, None);
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_violation(
            "error",
            "ai-needs-senior-approval",
            MAIN,
            &work,
            "Topic work",
        );
}

/// A second per-commit rule beside the approval rule, which every commit of
/// [`merge_by_alice`] passes: with two such rules the engine judges both
/// as one walk reads the commits (`engine/together.rs`), and the judging
/// thread checks the merges' signatures on the bytes it was handed.
const AI_SAYS_YES: &str = r#"
[[rule]]
name = "ai-says-yes"
refs = ["refs/heads/main"]
when = { ai_assisted = true }
require = { trailers = [ { key = "AI-Assisted", value = "(?i)^yes$" } ] }
"#;

#[test]
fn a_signed_merge_approves_alike_when_several_rules_are_judged_in_one_walk() {
    for (key, approved) in [(Some("alice"), true), (Some("dave"), false), (None, false)] {
        let (w, keys) = world_with_keys();
        let rules = format!("{}{AI_SAYS_YES}", approval_rule("signature"));
        w.write_policy(&policy_with_keys(&keys, "", &rules));
        let key = key.map(|k| {
            if k == "alice" {
                &keys.alice
            } else {
                &keys.dave
            }
        });
        let (work, merge) = merge_by_alice(&w, key);
        let out = w.push(&["origin", "main"]);
        if approved {
            out.assert_accepted_silently();
            w.assert_server_ref(MAIN, Some(&merge));
        } else {
            // Dave's key belongs to nobody: his signature is no one's approval.
            out.assert_rejected_with(1).assert_violation(
                "error",
                "ai-needs-senior-approval",
                MAIN,
                &work,
                "Topic work",
            );
        }
    }
}

#[test]
fn require_signed_accepts_only_signatures_by_known_keys() {
    let (w, keys) = world_with_keys();
    let rule = r#"
[[rule]]
name = "signed-commits"
refs = ["refs/heads/main"]
require = { signed = true }
"#;
    w.write_policy(&policy_with_keys(&keys, "", rule));
    let subject = "Unsigned work";
    let oid = w.commit(&ALICE, &msg(subject, &[]));
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_violation("error", "signed-commits", MAIN, &oid, subject)
        .assert_line_with(&["not signed"]);
    amend_signed(&w, &ALICE, &keys.dave, &msg(subject, &[]));
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_line_with(&["belongs to nobody"]);
    let good = amend_signed(&w, &ALICE, &keys.alice, &msg(subject, &[]));
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&good));
}

#[test]
fn pusher_in_works_from_every_hosts_variables() {
    let w = World::with_policy(&policy(
        r#"
[[rule]]
name = "only-seniors-rewrite-main"
refs = ["refs/heads/main"]
when = { pusher_not_in = ["senior"] }
deny = ["force-push"]
"#,
    ));
    w.server_config("receive.denyNonFastForwards", "false");
    let hosts: &[&[(&str, &str)]] = &[
        &[
            ("GL_USERNAME", "alice-s"),
            ("GL_ID", "user-1"),
            ("GL_PROTOCOL", "ssh"),
        ],
        &[("GITHUB_USER_LOGIN", "alice-s")],
        &[
            ("GITEA_PUSHER_NAME", "alice-s"),
            ("GITEA_PUSHER_EMAIL", "alice@example.com"),
        ],
        &[("GL_USER", "alice-s")],
        &[("REMOTE_USER", "alice-s")],
    ];
    for (i, env) in hosts.iter().enumerate() {
        let not_senior: Vec<(&str, &str)> = env
            .iter()
            .map(|&(k, v)| match k {
                "GITEA_PUSHER_EMAIL" => (k, "carol@example.com"),
                "GL_ID" | "GL_PROTOCOL" => (k, v),
                _ => (k, "carol"),
            })
            .collect();
        // A non-fast-forward: amend the tip that is on the server.
        w.git(&[
            "commit",
            "-q",
            "--amend",
            "--allow-empty",
            "-m",
            &format!("Rewrite {i}"),
        ]);
        w.push_env(&["origin", "+main"], &not_senior)
            .assert_rejected()
            .assert_says("only-seniors-rewrite-main");
        w.push_env(&["origin", "+main"], env)
            .assert_accepted_silently();
        assert_eq!(
            w.server_ref(MAIN).unwrap(),
            w.git(&["rev-parse", "HEAD"]),
            "host {i}"
        );
    }
}

#[test]
fn a_signed_push_certificate_identifies_the_pusher_by_key() {
    let (w, keys) = world_with_keys();
    let log = w.root.join("audit.jsonl");
    w.write_policy(&policy_with_keys(
        &keys,
        &format!("[settings]\naudit_log = \"{}\"", log.display()),
        r#"
[[rule]]
name = "only-seniors-push"
refs = ["refs/heads/main"]
when = { pusher_not_in = ["senior"] }
deny = ["update"]
"#,
    ));
    w.server_config("receive.certNonceSeed", "trailgate-test-seed");
    // git needs an allowed-signers file to verify SSH push certificates at
    // all; an empty one proves that trailgate does not rely on it: git says
    // `G` for any key that verifies, and trailgate matches the key itself.
    let allowed = w.root.join("allowed_signers");
    std::fs::write(&allowed, "").unwrap();
    w.server_config("gpg.ssh.allowedSignersFile", allowed.to_str().unwrap());
    w.commit(&ALICE, &msg("Signed push", &[]));
    let signed_push = |key: &Key| {
        let signingkey = format!("user.signingkey={}", key.private.display());
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
    };
    // Dave's key verifies, but belongs to nobody: no pusher is known.
    signed_push(&keys.dave)
        .assert_rejected()
        .assert_says("only-seniors-push");
    signed_push(&keys.alice).assert_accepted_silently();
    assert_eq!(w.server_ref(MAIN).unwrap(), w.git(&["rev-parse", "HEAD"]));
    // The audit log names the person, with the key's fingerprint beside it
    // (as ssh-keygen computes it); a key of nobody's names nobody.
    let fingerprint = |key: &Key| {
        let out = Command::new("ssh-keygen")
            .args(["-l", "-E", "sha256", "-f"])
            .arg(format!("{}.pub", key.private.display()))
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_owned()
    };
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    // Dave's certificate does not verify against [people]'s keys: no
    // pusher, no pusher_key, and the note names the key.
    assert!(lines[0]["pusher"].is_null(), "{}", lines[0]);
    assert!(lines[0].get("pusher_key").is_none(), "{}", lines[0]);
    assert!(
        lines[0]["pusher_notes"][0]
            .as_str()
            .unwrap()
            .contains(&fingerprint(&keys.dave)),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1]["pusher"], "alice", "{}", lines[1]);
    assert_eq!(lines[1]["pusher_key"], fingerprint(&keys.alice).as_str());
    assert_eq!(lines[1]["pusher_source"], "GIT_PUSH_CERT");
}

const OVERRIDE: &str = r#"
[settings.override]
push_option = "trailgate.override"
by = ["senior"]
"#;

#[test]
fn an_authorised_override_with_a_reason_lets_a_rejected_push_through() {
    let (w, keys) = world_with_keys();
    let log = w.root.join("audit.jsonl");
    let settings = format!(
        "[settings]\naudit_log = \"{}\"\n{}",
        log.display(),
        OVERRIDE.trim()
    );
    w.write_policy(&policy_with_keys(&keys, &settings, SENIOR_RULE));
    w.server_config("receive.advertisePushOptions", "true");
    let before = w.server_ref(MAIN).unwrap();
    let oid = w.commit(
        &CAROL,
        &msg("Hotfix during the incident", &["AI-Assisted: yes"]),
    );

    // No reason: refused.
    w.push_env(
        &["-o", "trailgate.override", "origin", "main"],
        &[("REMOTE_USER", "alice-s")],
    )
    .assert_rejected()
    .assert_line_with(&["gives no reason"]);
    // Someone who may not override: refused.
    w.push_env(
        &[
            "-o",
            "trailgate.override=INC-1234: checkout down",
            "origin",
            "main",
        ],
        &[("REMOTE_USER", "carol")],
    )
    .assert_rejected()
    .assert_line_with(&["carol (REMOTE_USER) may not override", "senior"]);
    // Nobody known: refused.
    w.push(&[
        "-o",
        "trailgate.override=INC-1234: checkout down",
        "origin",
        "main",
    ])
    .assert_rejected()
    .assert_line_with(&["named no pusher"]);
    w.assert_server_ref(MAIN, Some(&before));

    let run = w.push_env(
        &[
            "-o",
            "trailgate.override=INC-1234: checkout down",
            "origin",
            "main",
        ],
        &[("REMOTE_USER", "alice-s")],
    );
    run.assert_accepted()
        .assert_line_with(&[
            "accepted by override",
            "1 violation",
            "alice-s (REMOTE_USER)",
        ])
        .assert_line_with(&["override reason: INC-1234: checkout down"])
        .assert_line_with(&["overridden[ai-needs-senior-approval]"]);
    w.assert_server_ref(MAIN, Some(&oid));

    // The audit log keeps who overrode, why, and what was let through.
    let text = std::fs::read_to_string(&log).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["decision"], "accept", "{text}");
    assert_eq!(
        last["overrides"][0]["reason"], "INC-1234: checkout down",
        "{text}"
    );
    assert_eq!(
        last["overrides"][0]["by"], "alice-s (REMOTE_USER)",
        "{text}"
    );
    assert_eq!(
        last["violations"][0]["rule"], "ai-needs-senior-approval",
        "{text}"
    );
    // The refused attempts were logged as rejections.
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("\"decision\":\"reject\""))
            .count(),
        3,
        "{text}"
    );
}

/// The same people, keys and groups, in a directory file beside a policy
/// that has none of its own.
fn directory_with_keys(w: &World, keys: &Keys) {
    let people = policy_with_keys(keys, "", "").replace("version = 1\n", "");
    let generated = String::from_utf8(
        Command::new("date")
            .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    std::fs::write(
        w.server.join("directory.toml"),
        format!("generated = {}\n{people}", generated.trim()),
    )
    .unwrap();
    w.write_policy(&format!(
        "version = 1\n[settings]\ndirectory = \"directory.toml\"\n{}",
        approval_rule("signature")
    ));
}

#[test]
fn signature_proof_uses_the_keys_of_the_directory_file() {
    let (w, keys) = world_with_keys();
    directory_with_keys(&w, &keys);
    forged_commit(&w);
    w.push(&["origin", "main"]).assert_rejected_with(1);
    amend_signed(
        &w,
        &ALICE,
        &keys.dave,
        &msg(FORGED, &["AI-Assisted: yes", &approved_by(&ALICE)]),
    );
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_line_with(&["belongs to nobody in [people]"]);
    let signed = amend_signed(
        &w,
        &ALICE,
        &keys.alice,
        &msg(FORGED, &["AI-Assisted: yes", &approved_by(&ALICE)]),
    );
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&signed));
}

#[test]
fn signature_proof_through_the_directory_index_is_judged_as_without_it() {
    // The same pushes as above, with the index `check` writes: a key is
    // found by its blob through the index, in the signer's own table.
    let (w, keys) = world_with_keys();
    directory_with_keys(&w, &keys);
    w.write_policy(&format!(
        "version = 1\n[settings]\ndirectory = \"directory.toml\"\naudit_log = \"audit.jsonl\"\n{}",
        approval_rule("signature")
    ));
    let policy = w.server.join("trailgate.toml");
    w.trailgate(
        &w.root,
        &["check", "--config", policy.to_str().unwrap()],
        "",
        &[],
    )
    .assert_code(0);
    assert!(w.server.join("directory.toml.index").is_file());
    forged_commit(&w);
    w.push(&["origin", "main"]).assert_rejected_with(1);
    amend_signed(
        &w,
        &ALICE,
        &keys.dave,
        &msg(FORGED, &["AI-Assisted: yes", &approved_by(&ALICE)]),
    );
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_line_with(&["belongs to nobody in [people]"]);
    let signed = amend_signed(
        &w,
        &ALICE,
        &keys.alice,
        &msg(FORGED, &["AI-Assisted: yes", &approved_by(&ALICE)]),
    );
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&signed));
    let log = std::fs::read_to_string(w.server.join("audit.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(
        log.lines().all(|l| l.contains("\"index\":true")),
        "every push read the directory through its index: {log}"
    );
}

#[test]
fn a_damaged_key_in_the_directory_file_is_an_error_for_check_and_matches_nothing_in_the_hook() {
    let (w, keys) = world_with_keys();
    directory_with_keys(&w, &keys);
    // Alice's key cut short, still `type base64 comment`.
    let path = w.server.join("directory.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let blob = keys.alice.public.split(' ').nth(1).unwrap();
    let damaged = blob[..blob.len() - 8].to_owned();
    std::fs::write(&path, text.replace(blob, &damaged)).unwrap();
    let policy = w.server.join("trailgate.toml");
    let check = w.trailgate(
        &w.root,
        &["check", "--config", policy.to_str().unwrap()],
        "",
        &[],
    );
    check.assert_code(2);
    check.assert_says("directory.toml:");
    check.assert_says("not an OpenSSH public key");
    forged_commit(&w);
    amend_signed(
        &w,
        &ALICE,
        &keys.alice,
        &msg(FORGED, &["AI-Assisted: yes", &approved_by(&ALICE)]),
    );
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_line_with(&["belongs to nobody in [people]"]);
}

#[test]
fn a_sha256_repository_with_a_sha1_compat_format_counts_only_its_own_signature() {
    // A clone with `extensions.compatObjectFormat = sha1`: git signs each
    // commit twice, `gpgsig` over the SHA-1 form and `gpgsig-sha256` over
    // the object as stored, and pushes both to the SHA-256 server. The
    // repository's own signature is the one that counts, as for
    // `git verify-commit`; the other is no signature of this object. (git
    // 2.47's unpack-objects fails in a server that has the compat format
    // itself.)
    let w = World::with_formats_and_config(
        "sha256",
        &test_ref_format(),
        &[("extensions.compatObjectFormat", "sha1")],
    );
    let keys = Keys {
        alice: keygen(&w, "alice"),
        bob: keygen(&w, "bob"),
        dave: keygen(&w, "dave"),
    };
    w.install_hook();
    w.write_policy(&policy_with_keys(&keys, "", &approval_rule("signature")));
    let before = w.server_ref(MAIN).unwrap();
    forged_commit(&w);
    let signed = amend_signed(
        &w,
        &ALICE,
        &keys.alice,
        &msg(FORGED, &["AI-Assisted: yes", &approved_by(&ALICE)]),
    );
    let raw = w.git(&["cat-file", "commit", &signed]);
    assert!(
        raw.contains("\ngpgsig ") && raw.contains("\ngpgsig-sha256 "),
        "{raw}"
    );

    // Only the compat (SHA-1) signature left: not a signature of this object.
    let mut compat_only = String::new();
    let mut skipping = false;
    for line in raw.split_inclusive('\n') {
        if line.starts_with("gpgsig-sha256 ") {
            skipping = true;
            continue;
        }
        if skipping && line.starts_with(' ') {
            continue;
        }
        skipping = false;
        compat_only.push_str(line);
    }
    let stripped =
        crate::hardening::support::raw_object_in(&w, &w.work, "commit", compat_only.as_bytes());
    w.git(&["update-ref", "refs/heads/main", &stripped]);
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_line_with(&["no signature by a member of group senior", "not signed"]);
    w.assert_server_ref(MAIN, Some(&before));

    // Both signatures, as git wrote them: Alice's counts.
    w.git(&["update-ref", "refs/heads/main", &signed]);
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&signed));
}

/// The signature lines of `raw` rewritten by `edit` (which gets the
/// signature's lines without their header and leading space, and returns
/// the header lines to write instead).
fn with_signature_lines(raw: &str, header: &str, edit: impl Fn(&[&str]) -> Vec<String>) -> String {
    let (head, body) = raw.split_once("\n\n").unwrap();
    let mut out = Vec::new();
    let mut lines = head.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(first) = line.strip_prefix(&format!("{header} ")) {
            let mut sig = vec![first];
            while let Some(cont) = lines.peek().and_then(|l| l.strip_prefix(' ')) {
                sig.push(cont);
                lines.next();
            }
            out.extend(edit(&sig));
        } else {
            out.push(line.to_owned());
        }
    }
    format!("{}\n\n{body}", out.join("\n"))
}

#[test]
fn a_signature_over_two_own_headers_is_read_as_git_verify_commit_reads_it() {
    // git appends a second `gpgsig` (`gpgsig-sha256` in a SHA-256
    // repository) to the signature; trailgate read it as signed content,
    // so a signature git calls good was "not valid". Two whole signatures
    // in two headers: git hands both to ssh-keygen as one text (which
    // checks the first); trailgate counts neither. A new object with two
    // headers is refused by the object check; one already in the
    // repository (here: written into the server first) is judged.
    use crate::hardening::support::{raw_object, raw_object_in};
    let (w, keys) = world_with_keys();
    let header = if test_object_format() == "sha256" {
        "gpgsig-sha256"
    } else {
        "gpgsig"
    };
    let rule = "[[rule]]\nname = \"signed-commits\"\nrefs = [\"refs/heads/main\"]\nrequire = { signed = true }\n";
    w.write_policy(&policy_with_keys(&keys, "", rule));
    let before = w.server_ref(MAIN).unwrap();
    w.commit(&ALICE, &msg("Signed work", &[]));
    let signed = amend_signed(&w, &ALICE, &keys.alice, &msg("Signed work", &[]));
    // (`git` trims its output; the message's last newline is signed.)
    let raw = w.git(&["cat-file", "commit", &signed]) + "\n";
    let allowed = w.root.join("allowed_signers");
    std::fs::write(
        &allowed,
        format!("alice@example.com {}\n", keys.alice.public),
    )
    .unwrap();
    let allowed = format!("gpg.ssh.allowedSignersFile={}", allowed.display());
    let git_verifies = |oid: &str| {
        w.run_git(&w.work, &["-c", &allowed, "verify-commit", oid])
            .success()
    };
    let push = |oid: &str| {
        w.git(&["update-ref", "refs/heads/main", oid]);
        w.push(&["origin", "main"])
    };
    assert!(git_verifies(&signed));

    // The same signature twice.
    let twice = with_signature_lines(&raw, header, |sig| {
        let one: Vec<String> = std::iter::once(format!("{header} {}", sig[0]))
            .chain(sig[1..].iter().map(|l| format!(" {l}")))
            .collect();
        [one.clone(), one].concat()
    });
    let twice_id = raw_object_in(&w, &w.work, "commit", twice.as_bytes());
    assert!(
        git_verifies(&twice_id),
        "ssh-keygen checks the first of the two"
    );
    // New in the push: refused before anything reads it.
    push(&twice_id)
        .assert_rejected()
        .assert_says(&format!("second `{header}` header"));
    // Already in the repository: read, and not counted.
    assert_eq!(raw_object(&w, "commit", twice.as_bytes()), twice_id);
    push(&twice_id)
        .assert_rejected_with(1)
        .assert_line_with(&[&format!("2 signatures in 2 `{header}` headers")]);
    w.assert_server_ref(MAIN, Some(&before));

    // One signature whose lines are split over two headers: good for git,
    // and so for trailgate.
    let split = with_signature_lines(&raw, header, |sig| {
        let (first, rest) = sig.split_at(2);
        let mut out = vec![format!("{header} {}", first[0]), format!(" {}", first[1])];
        out.push(format!("{header} {}", rest[0]));
        out.extend(rest[1..].iter().map(|l| format!(" {l}")));
        out
    });
    let split_id = raw_object_in(&w, &w.work, "commit", split.as_bytes());
    assert!(
        git_verifies(&split_id),
        "git reads the two headers as one signature"
    );
    assert_eq!(raw_object(&w, "commit", split.as_bytes()), split_id);
    push(&split_id).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&split_id));
}
