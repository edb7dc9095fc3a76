//! GitHub Enterprise Server's pre-receive hook environment, as GHES uses
//! it: `scripts/ghes-environment` packs the statically linked trailgate,
//! a static `/bin/sh`, git and the policy; the test unpacks the tarball
//! into an empty folder and a stand-in for GHES (the repository's
//! `hooks/pre-receive`) runs the hook script with `chroot` into it, with
//! only the variables GHES documents: `GIT_DIR` and the quarantine
//! variables (paths as seen inside the environment), `GITHUB_USER_LOGIN`,
//! `GITHUB_REPO_NAME`, `GITHUB_REPO_PUBLIC`, `GITHUB_USER_IP`,
//! `GITHUB_VIA` and the pull-request variables when the push sets them,
//! and the push options. The repository lives where GHES keeps one (under
//! `data/user/repositories/`, inside the environment's folder, so that its
//! path is the same on both sides) and borrows its history from a network
//! repository through a relative `objects/info/alternates`, as GHES's fork
//! networks do (the GHES documentation requires relative alternates).
//!
//! Needs root (chroot), a static busybox (`busybox-static`), `readelf` and
//! the static binary: `scripts/ghes-environment --build [--debug]` builds
//! it (`scripts/test` does so, `--debug`, before the host tests), or name
//! one with `TRAILGATE_STATIC_BIN`.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use super::budget::many_commits;
use super::*;

const TEST: &str = "ghes_environment_judges_a_real_push_inside_its_chroot";

/// The static binary: `TRAILGATE_STATIC_BIN`, else where
/// `scripts/ghes-environment --build` (release) or `--build --debug` leaves
/// it, the release one first.
fn static_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("TRAILGATE_STATIC_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| Path::new(REPO_ROOT).join("target"), PathBuf::from)
        .join("x86_64-unknown-linux-gnu");
    let release = target.join("release/trailgate");
    if release.is_file() {
        release
    } else {
        target.join("debug/trailgate")
    }
}

/// Whether `readelf` finds no interpreter and no shared library.
fn is_static(path: &Path) -> bool {
    let program = Command::new("readelf")
        .args(["-lW", path.to_str().unwrap()])
        .output()
        .unwrap();
    let dynamic = Command::new("readelf")
        .args(["-dW", path.to_str().unwrap()])
        .output()
        .unwrap();
    program.status.success()
        && !String::from_utf8_lossy(&program.stdout).contains("program interpreter")
        && !String::from_utf8_lossy(&dynamic.stdout).contains("(NEEDED)")
}

/// What GHES does around a hook, as far as its documentation says: enter
/// the environment through /bin/sh with a clean environment holding the
/// documented variables, paths translated to the chroot's view.
const GHES_RUNNER: &str = r#"#!/bin/bash
# Test stand-in for GitHub Enterprise Server running a pre-receive hook.
root=@ROOT@
inside() {
    case "$1" in
        "$root"/*) printf '%s' "${1#"$root"}" ;;
        *) printf '%s' "$1" ;;
    esac
}
vars=(
    PATH=/usr/local/bin:/usr/bin:/bin
    GIT_DIR="$(inside "$(pwd -P)")"
    GIT_OBJECT_DIRECTORY="$(inside "$GIT_OBJECT_DIRECTORY")"
    GIT_QUARANTINE_PATH="$(inside "$GIT_QUARANTINE_PATH")"
    GIT_ALTERNATE_OBJECT_DIRECTORIES="$(inside "$GIT_ALTERNATE_OBJECT_DIRECTORIES")"
    GIT_PUSH_OPTION_COUNT="${GIT_PUSH_OPTION_COUNT:-0}"
    GIT_USER_AGENT=git/2.47.3
    GITHUB_REPO_PUBLIC=false
    GITHUB_USER_IP=127.0.0.1
)
for name in GITHUB_USER_LOGIN GITHUB_REPO_NAME GITHUB_VIA GITHUB_PULL_REQUEST_AUTHOR_LOGIN \
    GITHUB_PULL_REQUEST_HEAD GITHUB_PULL_REQUEST_BASE; do
    [ -z "${!name+set}" ] || vars+=("$name=${!name}")
done
for ((i = 0; i < ${GIT_PUSH_OPTION_COUNT:-0}; i++)); do
    name=GIT_PUSH_OPTION_$i
    vars+=("$name=${!name}")
done
exec env -i "${vars[@]}" @CHROOT@ "$root" /bin/sh /.ghes-hook/pre-receive.sh
"#;

fn policy_text() -> String {
    r#"version = 1
[settings]
host = "github"
audit_log = "/tmp/audit.jsonl"

[people.alice]
name = "Alice Senior"
emails = ["alice@example.com"]
logins = ["alice-gh"]

[people.carol]
name = "Carol"
emails = ["carol@example.com"]
logins = ["carol-gh"]

[groups]
senior = ["alice"]

[[rule]]
name = "ai-needs-a-senior"
refs = ["refs/heads/**"]
when = { ai_assisted = true }
require = { approvals = { from = ["senior"], proof = "pusher" } }

[[rule]]
name = "merges-stay-small"
refs = ["refs/heads/**"]
when = { merge = true }
require = { max_lines_changed = 500 }
"#
    .to_owned()
}

fn sh_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn ghes_environment_judges_a_real_push_inside_its_chroot() {
    let Some(tools) = host_tools(TEST, &["chroot", "busybox", "readelf", "tar", "mknod"]) else {
        return;
    };
    let bin = static_binary();
    assert!(
        bin.is_file(),
        "{TEST} needs the statically linked trailgate at {}: build it with `scripts/ghes-environment --build --debug` (scripts/test does before the host tests), or set TRAILGATE_STATIC_BIN",
        bin.display()
    );
    assert!(
        is_static(&bin),
        "{} is not statically linked",
        bin.display()
    );

    let w = World::new();
    let policy = write_file(&w, "policy.toml", &policy_text());
    let out = w.root.join("out");
    std::fs::create_dir(&out).unwrap();
    let tarball = out.join("env.tar.gz");
    let script = Path::new(REPO_ROOT).join("scripts/ghes-environment");

    // A dynamically linked binary is refused: it would not run in the chroot.
    let refused = Command::new(&script)
        .args(["--config", &policy, "--out", tarball.to_str().unwrap()])
        .args(["--bin", TRAILGATE])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("is dynamically linked"),
        "{refused:?}"
    );
    assert!(!tarball.exists());

    let said = sh_ok(
        Command::new(&script)
            .args(["--config", &policy, "--out", tarball.to_str().unwrap()])
            .args(["--bin", bin.to_str().unwrap()]),
    );
    assert!(said.contains("/bin/sh = busybox"), "{said}");

    // Names without a leading folder, /bin/sh among them, as GHES asks.
    let names = sh_ok(Command::new("tar").args(["-tzf", tarball.to_str().unwrap()]));
    for name in names.lines() {
        assert!(name == "./" || name.starts_with("./"), "{name:?}");
    }
    for needed in [
        "./bin/sh",
        "./usr/local/bin/trailgate",
        "./etc/trailgate/policy.toml",
        "./usr/bin/git",
    ] {
        assert!(
            names.lines().any(|n| n == needed),
            "{needed} missing:\n{names}"
        );
    }

    // Unpacked into an empty folder: the binary in it has no dynamic
    // dependencies, and /bin/sh runs in the chroot.
    let env_root = w.root.join("env");
    std::fs::create_dir(&env_root).unwrap();
    sh_ok(Command::new("tar").args([
        "-xzf",
        tarball.to_str().unwrap(),
        "-C",
        env_root.to_str().unwrap(),
    ]));
    assert!(is_static(&env_root.join("usr/local/bin/trailgate")));
    let mode = std::fs::metadata(&env_root).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o755,
        "the chroot's / must be readable by the hook's user"
    );
    let hello = sh_ok(Command::new(&tools[0]).args([
        env_root.to_str().unwrap(),
        "/bin/sh",
        "-c",
        "echo inside",
    ]));
    assert_eq!(hello.trim(), "inside");
    // GHES's documentation says an environment needs no /dev (GHES brings
    // its own); git, which trailgate runs for merges, opens /dev/null at
    // start. The stand-in provides that one device.
    std::fs::create_dir(env_root.join("dev")).unwrap();
    sh_ok(Command::new("mknod").args([
        "-m",
        "666",
        env_root.join("dev/null").to_str().unwrap(),
        "c",
        "1",
        "3",
    ]));
    // The hook script goes where the stand-in runs it from.
    let hook_dir = env_root.join(".ghes-hook");
    std::fs::create_dir(&hook_dir).unwrap();
    std::fs::copy(out.join("pre-receive.sh"), hook_dir.join("pre-receive.sh")).unwrap();

    // The repository and its fork network, inside the environment's folder.
    let nw = env_root.join("data/user/repositories/a/nw/a1/b2/c3");
    std::fs::create_dir_all(&nw).unwrap();
    let format = format!("--object-format={}", test_object_format());
    let refs = format!("--ref-format={}", test_ref_format());
    for name in ["network.git", "1234.git"] {
        w.run_git(
            &nw,
            &["init", "-q", "--bare", "-b", "main", &format, &refs, name],
        )
        .assert_code(0);
    }
    let network = nw.join("network.git");
    let repo = nw.join("1234.git");
    w.git(&["push", "-q", network.to_str().unwrap(), "main"]);
    std::fs::write(
        repo.join("objects/info/alternates"),
        "../../network.git/objects\n",
    )
    .unwrap();
    let initial = w.git(&["rev-parse", "HEAD"]);
    w.run_git(&repo, &["update-ref", "refs/heads/main", &initial])
        .assert_code(0);
    let runner = repo.join("hooks/pre-receive");
    std::fs::write(
        &runner,
        GHES_RUNNER
            .replace("@ROOT@", &format!("'{}'", env_root.display()))
            .replace("@CHROOT@", tools[0].to_str().unwrap()),
    )
    .unwrap();
    std::fs::set_permissions(&runner, std::fs::Permissions::from_mode(0o755)).unwrap();
    w.git(&["remote", "set-url", "origin", repo.to_str().unwrap()]);
    let server_main = || {
        w.run_git(&repo, &["rev-parse", "refs/heads/main"])
            .stdout
            .trim()
            .to_owned()
    };
    let as_user = |login: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![
            ("GITHUB_USER_LOGIN", login),
            ("GITHUB_REPO_NAME", "acme/payments"),
        ]
    };

    // A junior's AI change is refused, and the words reach the pusher.
    let ai = w.commit(&CAROL, &msg("AI change", &["AI-Assisted: yes"]));
    let refused = w.push_env(&["origin", "main"], &as_user("carol-gh"));
    refused.assert_rejected_with(1).assert_violation(
        "error",
        "ai-needs-a-senior",
        "main",
        &ai,
        "AI change",
    );
    assert_eq!(server_main(), initial);

    // The senior pushing it is the approval.
    w.push_env(&["origin", "main"], &as_user("alice-gh"))
        .assert_accepted_silently();
    assert_eq!(server_main(), ai);

    // A merge is measured against git merge-tree, run inside the chroot.
    w.git(&["checkout", "-q", "-b", "feature"]);
    w.commit(&ALICE, &msg("Feature work", &[]));
    w.git(&["checkout", "-q", "main"]);
    let merge = w.merge(&ALICE, "feature", "Merge feature\n");
    w.push_env(&["origin", "main"], &as_user("alice-gh"))
        .assert_accepted_silently();
    assert_eq!(server_main(), merge);

    // The chroot is real: without git in it, a merge cannot be measured
    // and the push fails closed.
    let git_inside = env_root.join("usr/bin/git");
    let git_away = env_root.join("usr/bin/git.away");
    std::fs::rename(&git_inside, &git_away).unwrap();
    w.git(&["checkout", "-q", "feature"]);
    w.commit(&ALICE, &msg("More feature work", &[]));
    w.git(&["checkout", "-q", "main"]);
    w.merge(&ALICE, "feature", "Merge feature again\n");
    let no_git = w.push_env(&["origin", "main"], &as_user("alice-gh"));
    no_git.assert_rejected();
    assert_eq!(server_main(), merge, "{}", no_git.dump());
    w.git(&["reset", "-q", "--hard", &merge]);
    // (SHA-256 and reftable repositories need git for every push.)
    std::fs::rename(&git_away, &git_inside).unwrap();

    // Timings inside the environment (measured, never asserted): one
    // commit, then 10,000, against GHES's 5 s for all hooks.
    w.commit(&ALICE, &msg("One more", &[]));
    w.push_env(&["origin", "main"], &as_user("alice-gh"))
        .assert_accepted_silently();
    many_commits(&w, 10_000);
    w.push_env(&["origin", "main"], &as_user("alice-gh"))
        .assert_accepted_silently();
    assert_eq!(server_main(), w.git(&["rev-parse", "HEAD"]));

    let records = read_audit(&env_root.join("tmp/audit.jsonl"));
    let decisions: Vec<(&str, &str)> = records
        .iter()
        .map(|r| {
            assert_eq!(r["repository"], "acme/payments", "{r}");
            assert_eq!(r["pusher_source"], "GITHUB_USER_LOGIN", "{r}");
            (
                r["pusher"].as_str().unwrap_or("?"),
                r["decision"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        decisions,
        vec![
            ("carol-gh", "reject"),
            ("alice-gh", "accept"),
            ("alice-gh", "accept"),
            ("alice-gh", "error"),
            ("alice-gh", "accept"),
            ("alice-gh", "accept"),
        ],
        "{records:?}"
    );
    let last = &records[records.len() - 1];
    assert_eq!(last["commits_checked"], 10_000, "{last}");
    eprintln!(
        "{TEST}: inside the environment, 1 commit judged in {} ms, 10,000 commits in {} ms (GHES: 5000 ms for all hooks)",
        records[4]["duration_ms"], last["duration_ms"]
    );
}
