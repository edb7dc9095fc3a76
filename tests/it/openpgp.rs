//! OpenPGP signatures (`gpg.format = openpgp`) under `proof = "signature"`
//! and `require.signed`, with keys made by the real `gpg`, commits and
//! merges signed by the real `git commit -S` / `git merge -S`, and real
//! pushes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use crate::support::*;

const MAIN: &str = "refs/heads/main";

/// A private GnuPG home for one test; its agent is stopped at the end.
struct Gpg {
    home: PathBuf,
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", &self.home)
            .output();
    }
}

impl Gpg {
    fn new(w: &World) -> Gpg {
        let home = w.root.join("gnupg");
        std::fs::create_dir_all(&home).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
        Gpg { home }
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("gpg")
            .args([
                "--batch",
                "--no-tty",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
            ])
            .args(args)
            .env("GNUPGHOME", &self.home)
            .output()
            .expect("gpg is needed for the OpenPGP tests (package gnupg)");
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A new key for `who`: `usage` of the primary key (`sign`, or `cert`
    /// to sign only with a subkey). Returns its fingerprint.
    fn key(&self, who: &Person, usage: &str) -> String {
        let uid = who.ident();
        self.run(&["--quick-gen-key", &uid, "ed25519", usage, "never"]);
        self.fingerprint(&uid)
    }

    /// [`Self::run`] with gpg's clock at `at` (seconds since the epoch):
    /// keys and signatures made "then".
    fn run_at(&self, at: i64, args: &[&str]) -> String {
        let at = at.to_string();
        let mut all = vec!["--faked-system-time", at.as_str()];
        all.extend_from_slice(args);
        self.run(&all)
    }

    /// A gpg for git's `gpg.program` whose clock is at `at`.
    fn program_at(&self, at: i64) -> PathBuf {
        let path = self.home.join(format!("gpg-at-{at}"));
        std::fs::write(
            &path,
            format!("#!/bin/sh\nexec gpg --faked-system-time {at} \"$@\"\n"),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// The fingerprint of the newest subkey of `primary`.
    fn last_subkey(&self, primary: &str) -> String {
        let out = self.run(&["--with-colons", "--list-keys", primary]);
        out.lines()
            .rfind(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .unwrap()
            .to_owned()
    }

    /// Revokes subkey number `n` (1 is the first) of `primary`, as a user
    /// does in `gpg --edit-key`.
    fn revoke_subkey(&self, primary: &str, n: usize) {
        let mut child = Command::new("gpg")
            .args([
                "--batch",
                "--no-tty",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--command-fd",
                "0",
                "--edit-key",
                primary,
            ])
            .env("GNUPGHOME", &self.home)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("key {n}\nrevkey\ny\n0\n\ny\nsave\n").as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listing = self.run(&["--with-colons", "--list-keys", primary]);
        assert!(
            listing.lines().any(|l| l.starts_with("sub:r:")),
            "gpg did not revoke the subkey:\n{listing}"
        );
    }

    fn fingerprint(&self, uid: &str) -> String {
        let out = self.run(&["--with-colons", "--list-keys", uid]);
        out.lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .unwrap()
            .to_owned()
    }

    /// Adds a signing subkey; returns its fingerprint.
    fn signing_subkey(&self, primary: &str) -> String {
        self.run(&["--quick-add-key", primary, "ed25519", "sign", "never"]);
        let out = self.run(&["--with-colons", "--list-keys", primary]);
        out.lines()
            .filter(|l| l.starts_with("fpr:"))
            .nth(1)
            .and_then(|l| l.split(':').nth(9))
            .unwrap()
            .to_owned()
    }

    /// Revokes a key with the revocation certificate gpg made with it.
    fn revoke(&self, fingerprint: &str) {
        let cert = self
            .home
            .join("openpgp-revocs.d")
            .join(format!("{fingerprint}.rev"));
        let text = std::fs::read_to_string(&cert).unwrap();
        // gpg writes it with a `:` before the armour so it is not imported by accident.
        let armour = text.replace(
            ":-----BEGIN PGP PUBLIC KEY BLOCK-----",
            "-----BEGIN PGP PUBLIC KEY BLOCK-----",
        );
        let path = self.home.join("revoke.asc");
        std::fs::write(&path, armour).unwrap();
        self.run(&["--import", path.to_str().unwrap()]);
    }

    fn export(&self, fingerprint: &str) -> String {
        self.run(&["--armor", "--export", fingerprint])
    }
}

/// A policy with the harness's people, `gpg_keys` for Alice, and `rules`.
fn policy_with_gpg(alice_key: &str, rules: &str) -> String {
    let people = PEOPLE.replace(
        "logins = [\"alice-s\"]",
        &format!(
            "logins = [\"alice-s\"]\ngpg_keys = [{}]",
            toml_string(alice_key)
        ),
    );
    format!("version = 1\n{people}\n{rules}")
}

fn toml_string(s: &str) -> String {
    format!(
        "\"{}\"",
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    )
}

fn approval_rule() -> &'static str {
    r#"
[[rule]]
name = "ai-needs-senior-approval"
refs = ["refs/heads/main"]
when = { ai_assisted = true, author_not_in = ["senior"] }
require = { approvals = { from = ["senior"], count = 1, proof = "signature" } }
"#
}

const SUBJECT: &str = "AI-assisted retry";

fn message() -> String {
    msg(SUBJECT, &["AI-Assisted: yes", &approved_by(&ALICE)])
}

/// `git commit --amend -S` as `who`, signing with the OpenPGP key `key`.
fn amend_signed(w: &World, gpg: &Gpg, who: &Person, key: &str) -> String {
    let signingkey = format!("user.signingkey={key}");
    let home = gpg.home.to_str().unwrap();
    w.run_git_env(
        &w.work,
        &[
            "-c",
            "gpg.format=openpgp",
            "-c",
            &signingkey,
            "commit",
            "-q",
            "--amend",
            "-S",
            "-m",
            &message(),
        ],
        &[
            ("GIT_COMMITTER_NAME", who.name),
            ("GIT_COMMITTER_EMAIL", who.email),
            ("GNUPGHOME", home),
        ],
    )
    .assert_code(0);
    w.git(&["rev-parse", "HEAD"])
}

/// [`amend_signed`] with gpg's clock at `at`: the signature says it was
/// made then.
fn amend_signed_at(w: &World, gpg: &Gpg, who: &Person, key: &str, at: i64) -> String {
    let program = format!("gpg.program={}", gpg.program_at(at).display());
    let signingkey = format!("user.signingkey={key}");
    let home = gpg.home.to_str().unwrap();
    w.run_git_env(
        &w.work,
        &[
            "-c",
            "gpg.format=openpgp",
            "-c",
            &program,
            "-c",
            &signingkey,
            "commit",
            "-q",
            "--amend",
            "-S",
            "-m",
            &message(),
        ],
        &[
            ("GIT_COMMITTER_NAME", who.name),
            ("GIT_COMMITTER_EMAIL", who.email),
            ("GNUPGHOME", home),
        ],
    )
    .assert_code(0);
    w.git(&["rev-parse", "HEAD"])
}

/// What git says of HEAD's signature (`%G?`), with the test's keyring.
fn git_says(w: &World, gpg: &Gpg) -> String {
    let status = w.run_git_env(
        &w.work,
        &["log", "-1", "--format=%G?"],
        &[("GNUPGHOME", gpg.home.to_str().unwrap())],
    );
    status.stdout.trim().to_owned()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

const DAY: i64 = 86_400;

fn setup(alice_usage: &str) -> (World, Gpg, String) {
    let w = World::new();
    w.install_hook();
    let gpg = Gpg::new(&w);
    let alice = gpg.key(&ALICE, alice_usage);
    (w, gpg, alice)
}

#[test]
fn a_seniors_openpgp_signature_proves_her_approval() {
    let (w, gpg, alice) = setup("sign");
    w.write_policy(&policy_with_gpg(&gpg.export(&alice), approval_rule()));
    w.commit(&CAROL, &message());
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_line_with(&["no signature by a member of group senior", "not signed"]);
    let signed = amend_signed(&w, &gpg, &ALICE, &alice);
    // git itself agrees the signature is good (with Alice's key in the keyring).
    let status = w.run_git_env(
        &w.work,
        &["log", "-1", "--format=%G?"],
        &[("GNUPGHOME", gpg.home.to_str().unwrap())],
    );
    assert_eq!(status.stdout.trim(), "G", "{}", status.dump());
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&signed));
}

#[test]
fn an_openpgp_signature_by_a_key_nobody_owns_does_not_count() {
    let (w, gpg, alice) = setup("sign");
    let dave = gpg.key(&DAVE, "sign");
    w.write_policy(&policy_with_gpg(&gpg.export(&alice), approval_rule()));
    w.commit(&CAROL, &message());
    amend_signed(&w, &gpg, &ALICE, &dave);
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_line_with(&["belongs to nobody in [people]"]);
}

#[test]
fn a_revoked_key_voids_every_signature_made_with_it() {
    let (w, gpg, alice) = setup("sign");
    w.commit(&CAROL, &message());
    // Signed while the key was good; revoked before the push.
    amend_signed(&w, &gpg, &ALICE, &alice);
    gpg.revoke(&alice);
    w.write_policy(&policy_with_gpg(&gpg.export(&alice), approval_rule()));
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_line_with(&["has been revoked"]);
}

#[test]
fn a_signature_moved_from_another_commit_does_not_count() {
    let (w, gpg, alice) = setup("sign");
    w.write_policy(&policy_with_gpg(&gpg.export(&alice), approval_rule()));
    // Alice signs a harmless commit of her own...
    w.commit(&CAROL, &message());
    let signed = amend_signed(&w, &gpg, &ALICE, &alice);
    let raw = w.git(&["cat-file", "commit", &signed]);
    // ... and Carol puts that signature on a commit of hers.
    let forged = raw.replace(SUBJECT, "AI-assisted rewrite of the payment client");
    assert_ne!(forged, raw);
    let path = w.root.join("forged");
    std::fs::write(&path, forged).unwrap();
    let oid = w.git(&[
        "hash-object",
        "-t",
        "commit",
        "--literally",
        "-w",
        path.to_str().unwrap(),
    ]);
    w.git(&["reset", "-q", "--hard", oid.trim()]);
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_line_with(&["does not verify"]);
}

#[test]
fn a_signing_subkey_of_a_seniors_key_counts() {
    let (w, gpg, alice) = setup("cert");
    let subkey = gpg.signing_subkey(&alice);
    w.write_policy(&policy_with_gpg(&gpg.export(&alice), approval_rule()));
    w.commit(&CAROL, &message());
    // The `!` makes gpg sign with exactly this subkey.
    let signed = amend_signed(&w, &gpg, &ALICE, &format!("{subkey}!"));
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&signed));
}

#[test]
fn a_merge_signed_with_openpgp_by_a_senior_approves_what_it_brings_in() {
    let (w, gpg, alice) = setup("sign");
    w.write_policy(&policy_with_gpg(&gpg.export(&alice), approval_rule()));
    w.git(&["checkout", "-q", "-b", "topic"]);
    w.commit(&CAROL, &msg("Topic work", &["AI-Assisted: yes"]));
    w.git(&["checkout", "-q", "main"]);
    let signingkey = format!("user.signingkey={alice}");
    let env = [
        ("GIT_AUTHOR_NAME", ALICE.name),
        ("GIT_AUTHOR_EMAIL", ALICE.email),
        ("GIT_COMMITTER_NAME", ALICE.name),
        ("GIT_COMMITTER_EMAIL", ALICE.email),
        ("GNUPGHOME", gpg.home.to_str().unwrap()),
    ];
    w.run_git_env(
        &w.work,
        &[
            "-c",
            "gpg.format=openpgp",
            "-c",
            &signingkey,
            "merge",
            "-q",
            "--no-ff",
            "-S",
            "-m",
            "Merge topic",
            "topic",
        ],
        &env,
    )
    .assert_code(0);
    let merge = w.git(&["rev-parse", "HEAD"]);
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(merge.trim()));
}

#[test]
fn require_signed_accepts_a_known_openpgp_key() {
    let (w, gpg, alice) = setup("sign");
    let rule = r#"
[[rule]]
name = "signed"
refs = ["refs/heads/main"]
require = { signed = true }
"#;
    w.write_policy(&policy_with_gpg(&gpg.export(&alice), rule));
    w.commit(&ALICE, "Unsigned\n");
    w.push(&["origin", "main"]).assert_rejected_with(1);
    let signed = amend_signed(&w, &gpg, &ALICE, &alice);
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&signed));
}

#[test]
fn a_key_that_is_not_a_public_key_block_is_a_policy_error() {
    let w = World::new();
    w.install_hook();
    w.write_policy(&policy_with_gpg(
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----",
        approval_rule(),
    ));
    let check = w.trailgate(
        &w.root,
        &[
            "check",
            "--config",
            w.server.join("trailgate.toml").to_str().unwrap(),
        ],
        "",
        &[],
    );
    check.assert_code(2);
    check.assert_says("not a usable OpenPGP public key");
}

#[test]
fn an_openpgp_key_in_the_directory_file_proves_an_approval() {
    let (w, gpg, alice) = setup("sign");
    let people = policy_with_gpg(&gpg.export(&alice), "").replace("version = 1\n", "");
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
        approval_rule()
    ));
    w.commit(&CAROL, &message());
    let before = w.server_ref(MAIN).unwrap();
    w.push(&["origin", "main"]).assert_rejected_with(1);
    let signed = amend_signed(&w, &gpg, &ALICE, &alice);
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&signed));
    // The same push through the directory index that `check` writes.
    let policy = w.server.join("trailgate.toml");
    w.trailgate(
        &w.root,
        &["check", "--config", policy.to_str().unwrap()],
        "",
        &[],
    )
    .assert_code(0);
    assert!(w.server.join("directory.toml.index").is_file());
    w.server_git(&["update-ref", MAIN, &before]);
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&signed));
}

/// Alice's key, made ten days ago to expire after nine (yesterday), and a
/// commit she signed last week, while it was valid.
fn signed_last_week_with_a_key_that_expired_yesterday() -> (World, Gpg, String, String) {
    let w = World::new();
    w.install_hook();
    let gpg = Gpg::new(&w);
    let uid = ALICE.ident();
    gpg.run_at(
        now() - 10 * DAY,
        &["--quick-gen-key", &uid, "ed25519", "sign", "9d"],
    );
    let alice = gpg.fingerprint(&uid);
    w.write_policy(&policy_with_gpg(&gpg.export(&alice), approval_rule()));
    w.commit(&CAROL, &message());
    let signed = amend_signed_at(&w, &gpg, &ALICE, &alice, now() - 7 * DAY);
    (w, gpg, alice, signed)
}

#[test]
fn a_key_that_expired_yesterday_voids_a_signature_that_claims_to_be_from_last_week() {
    let (w, gpg, _, _) = signed_last_week_with_a_key_that_expired_yesterday();
    // git: a good signature, made by a key that has expired.
    assert_eq!(git_says(&w, &gpg), "Y");
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_line_with(&["has expired"]);
}

#[test]
fn a_key_whose_expiry_was_extended_counts_again() {
    let (w, gpg, alice, signed) = signed_last_week_with_a_key_that_expired_yesterday();
    w.push(&["origin", "main"]).assert_rejected_with(1);
    // A new self-signature today moves the expiry a year ahead; the same
    // signature now counts, with the key exported again.
    gpg.run(&["--quick-set-expire", &alice, "1y"]);
    assert_eq!(git_says(&w, &gpg), "G");
    w.write_policy(&policy_with_gpg(&gpg.export(&alice), approval_rule()));
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&signed));
}

#[test]
fn an_expired_signing_subkey_does_not_count_though_its_primary_key_is_valid() {
    let w = World::new();
    w.install_hook();
    let gpg = Gpg::new(&w);
    let uid = ALICE.ident();
    let made = now() - 10 * DAY;
    gpg.run_at(made, &["--quick-gen-key", &uid, "ed25519", "cert", "never"]);
    let alice = gpg.fingerprint(&uid);
    gpg.run_at(made, &["--quick-add-key", &alice, "ed25519", "sign", "2d"]);
    let subkey = gpg.last_subkey(&alice);
    w.write_policy(&policy_with_gpg(&gpg.export(&alice), approval_rule()));
    w.commit(&CAROL, &message());
    amend_signed_at(&w, &gpg, &ALICE, &format!("{subkey}!"), made + DAY);
    assert_eq!(git_says(&w, &gpg), "Y");
    let run = w.push(&["origin", "main"]);
    run.assert_rejected_with(1)
        .assert_line_with(&[&format!("subkey {}", subkey.to_lowercase()), "has expired"]);
    run.assert_silent_about(&format!("key {} has", alice.to_lowercase()));
}

#[test]
fn a_revoked_signing_subkey_does_not_count_though_its_primary_key_is_valid() {
    let (w, gpg, alice) = setup("cert");
    let revoked = gpg.signing_subkey(&alice);
    gpg.run(&["--quick-add-key", &alice, "ed25519", "sign", "never"]);
    let kept = gpg.last_subkey(&alice);
    w.commit(&CAROL, &message());
    amend_signed(&w, &gpg, &ALICE, &format!("{revoked}!"));
    gpg.revoke_subkey(&alice, 1);
    assert_eq!(git_says(&w, &gpg), "R");
    w.write_policy(&policy_with_gpg(&gpg.export(&alice), approval_rule()));
    w.push(&["origin", "main"])
        .assert_rejected_with(1)
        .assert_line_with(&[
            &format!("subkey {}", revoked.to_lowercase()),
            "has been revoked",
        ]);
    // The primary key and its other subkey are still good.
    let signed = amend_signed(&w, &gpg, &ALICE, &format!("{kept}!"));
    w.push(&["origin", "main"]).assert_accepted_silently();
    w.assert_server_ref(MAIN, Some(&signed));
}
