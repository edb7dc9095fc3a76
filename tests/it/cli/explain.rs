//! `trailgate explain`: the same facts the hook computes, in words.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;

fn explain(w: &World, ai: &str, commit: &str) -> Run {
    let config = w.root.join("explain.toml");
    std::fs::write(
        &config,
        policy(&format!(
            "[ai]\n{ai}\n\n[[rule]]\nname = \"ai-reviewed\"\nwhen = {{ ai_assisted = true }}\n\
             require = {{ trailers = [ {{ key = \"AI-Reviewed\", value = \"^yes$\" }} ] }}\n"
        )),
    )
    .unwrap();
    let run = w.trailgate(
        &w.work,
        &["explain", "--config", config.to_str().unwrap(), commit],
        "",
        &[],
    );
    run.assert_code(0).assert_no_panic();
    run
}

#[test]
fn a_weak_mark_is_shown_and_counted_only_under_detect_all() {
    let w = World::new();
    w.commit(
        &CAROL,
        "Tidy the page\n\nCo-authored-by: Copilot <copilot@github.com>\n",
    );
    let builtin = explain(&w, "", "HEAD");
    assert!(
        builtin.stdout.contains("AI-assisted: no"),
        "{}",
        builtin.dump()
    );
    assert!(
        builtin
            .stdout
            .contains("weak mark) (not counted: ai.detect = \"builtin\""),
        "{}",
        builtin.dump()
    );
    assert!(builtin
        .stdout
        .contains("rule ai-reviewed: does not select it"));
    let all = explain(&w, "detect = \"all\"", "HEAD");
    assert!(
        all.stdout.contains("AI-assisted: yes (detected)"),
        "{}",
        all.dump()
    );
    assert!(!all.stdout.contains("not counted"), "{}", all.dump());
    assert!(all
        .stdout
        .contains("rule ai-reviewed: selects it (ai_assisted = true: yes)"));
}

#[test]
fn the_kernel_format_is_parsed_with_and_without_tools() {
    let w = World::new();
    let with = w.commit(
        &CAROL,
        "Fix it\n\nAssisted-by: Claude:claude-3-opus coccinelle sparse\n",
    );
    let without = w.commit(
        &CAROL,
        "Fix it again\n\nAssisted-by: Claude:claude-opus-4-6\n",
    );
    let run = explain(&w, "", &with);
    assert!(run.stdout.contains(
        "AI assistance (kernel format: agent Claude, model claude-3-opus, tools coccinelle, sparse)"
    ), "{}", run.dump());
    let run = explain(&w, "", &without);
    assert!(
        run.stdout.contains(
            "AI assistance (kernel format: agent Claude, model claude-opus-4-6, no tools)"
        ),
        "{}",
        run.dump()
    );
}

#[test]
fn a_signature_by_the_author_proves_them_and_a_typed_author_is_claimed() {
    let w = World::new();
    let key = w.root.join("alice_ed25519");
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen (package openssh-client)");
    assert!(out.status.success());
    let public = std::fs::read_to_string(format!("{}.pub", key.display())).unwrap();
    let config = w.root.join("signed.toml");
    std::fs::write(
        &config,
        format!(
            "version = 1\n{}",
            PEOPLE.replace(
                "logins = [\"alice-s\"]",
                &format!("logins = [\"alice-s\"]\nssh_keys = [\"{}\"]", public.trim())
            )
        ) + "\n[[rule]]\nname = \"r\"\nrequire = { trailers = [ { key = \"X\" } ] }\n",
    )
    .unwrap();
    let typed = w.commit(&ALICE, "Typed as Alice\n");
    let signingkey = format!("user.signingkey={}", key.display());
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
            "Signed by Alice\n",
        ],
        &[
            ("GIT_COMMITTER_NAME", ALICE.name),
            ("GIT_COMMITTER_EMAIL", ALICE.email),
        ],
    )
    .assert_code(0);
    let signed = w.git(&["rev-parse", "HEAD"]);
    let config = config.to_str().unwrap();
    let run = w.trailgate(
        &w.work,
        &["explain", "--config", config, &typed, &signed],
        "",
        &[],
    );
    run.assert_code(0).assert_no_panic();
    let (first, second) = run.stdout.split_once("Signed by Alice").unwrap();
    assert!(
        first.contains("groups senior; claimed: the author line is the pusher's word"),
        "{}",
        run.dump()
    );
    assert!(
        second.contains("groups senior; proven: the commit is signed with their key"),
        "{}",
        run.dump()
    );
    assert!(
        second.contains("signature:   the commit is signed by alice (Alice Senior)"),
        "{}",
        run.dump()
    );
}
