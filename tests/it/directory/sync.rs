//! `trailgate directory sync` against a real OpenLDAP server: each test
//! starts its own `slapd` on a free loopback port, as the current user,
//! with a generated `slapd.conf` (mdb backend) and a generated tree of
//! people and groups loaded with `slapadd`, then syncs, pushes and judges.
//!
//! Gated like the host tests (tests/it/hosts/): with
//! `TRAILGATE_SKIP_HOST_TESTS=1` each returns at once and says so (and
//! `scripts/test` lists it as skipped with how to run it); otherwise
//! `slapd`, `slapadd` and `ldapmodify` (Debian: slapd, ldap-utils) must be
//! installed, and a missing one fails the test saying what to install.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use super::slapd::*;
use crate::support::*;

/// A policy that takes its people from `directory.toml` beside it (one
/// hour old at most) with the senior-approval rule, and a sync
/// configuration that writes that file from `slapd`.
pub(super) fn setup(slapd: &Slapd, extra: &str) -> (World, PathBuf) {
    let w = World::with_policy(&format!(
        "version = 1\n[settings]\ndirectory = \"directory.toml\"\ndirectory_max_age = \"1h\"\n{SENIOR_RULE}"
    ));
    std::fs::write(w.server.join("ldap-password"), format!("{SYNC_PW}\n")).unwrap();
    std::fs::set_permissions(
        w.server.join("ldap-password"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let config = w.server.join("sync.toml");
    std::fs::write(
        &config,
        format!(
            r#"output = "directory.toml"
{extra}
[ldap]
url = "{url}"
bind_dn = "{SYNC_DN}"
password_file = "ldap-password"
timeout_seconds = 5

[people]
bases = ["ou=people,{SUFFIX}"]
filter = "(objectClass=inetOrgPerson)"

[groups.senior]
members_of = ["cn=senior,ou=groups,{SUFFIX}"]

[groups.staff]
attribute = "employeeType"
values = ["Senior", "staff"]
"#,
            url = slapd.url()
        ),
    )
    .unwrap();
    (w, config)
}

pub(super) fn sync(w: &World, config: &Path) -> Run {
    w.trailgate(
        &w.server,
        &["directory", "sync", "--config", config.to_str().unwrap()],
        "",
        &[],
    )
}

pub(super) fn directory_text(w: &World) -> String {
    std::fs::read_to_string(w.server.join("directory.toml")).unwrap()
}

pub(super) fn ai_approved_by(p: &Person) -> String {
    msg("Add retry", &["AI-Assisted: yes", &approved_by(p)])
}

#[test]
fn a_promotion_in_ldap_counts_after_the_next_sync() {
    let Some(tools) = ldap_tools("a_promotion_in_ldap_counts_after_the_next_sync") else {
        return;
    };
    let slapd = Slapd::start(tools, &tree(&[&ALICE_E, &CAROL_E, &DAVE_E], &["alice"]), "");
    let (w, config) = setup(&slapd, "");
    let run = sync(&w, &config);
    run.assert_code(0);
    assert!(
        run.stdout.contains("3 people; groups: senior 1, staff 1"),
        "{}",
        run.dump()
    );
    // The index beside it, for the hook (tests/it/directory/index.rs).
    assert!(run.stdout.contains("; index "), "{}", run.dump());
    assert!(w.server.join("directory.toml.index").is_file());
    let text = directory_text(&w);
    assert!(text.contains("[people.dave]\nname = \"Dave\"\nemails = [\"dave@example.com\"]\nlogins = [\"dave\"]\nssh_keys = [\"ssh-ed25519 "), "{text}");
    assert!(
        text.contains("senior = [\"alice\"]\nstaff = [\"alice\"]\n"),
        "{text}"
    );
    // Dave is not senior yet: his approval does not count.
    w.push_rejected(&CAROL, &ai_approved_by(&DAVE), 1);
    // He is promoted in the directory; after a sync the same push passes.
    slapd.modify(&format!(
        "dn: cn=senior,ou=groups,{SUFFIX}\nchangetype: modify\nadd: member\nmember: uid=dave,ou=people,{SUFFIX}\n"
    ));
    sync(&w, &config).assert_code(0);
    assert!(directory_text(&w).contains("senior = [\"alice\", \"dave\"]\n"));
    w.push(&["origin", "main"]).assert_accepted_silently();
}

#[test]
fn someone_who_leaves_stops_counting_after_the_next_sync() {
    let Some(tools) = ldap_tools("someone_who_leaves_stops_counting_after_the_next_sync") else {
        return;
    };
    let slapd = Slapd::start(
        tools,
        &tree(&[&ALICE_E, &CAROL_E, &DAVE_E], &["alice", "dave"]),
        "",
    );
    let (w, config) = setup(&slapd, "");
    sync(&w, &config).assert_code(0);
    w.push_accepted(&CAROL, &ai_approved_by(&DAVE));
    // Dave leaves: his entry is deleted, his group membership stays
    // behind (as it often does); he is no one after the sync.
    slapd.modify(&format!(
        "dn: uid=dave,ou=people,{SUFFIX}\nchangetype: delete\n"
    ));
    let run = sync(&w, &config);
    run.assert_code(0);
    assert!(
        run.stderr
            .contains("member uid=dave,ou=people,dc=example,dc=com is not among the people found"),
        "{}",
        run.dump()
    );
    let text = directory_text(&w);
    assert!(!text.contains("dave"), "{text}");
    w.push_rejected(&CAROL, &ai_approved_by(&DAVE), 1);
}

#[test]
fn a_server_that_is_down_or_answers_nothing_leaves_the_old_file() {
    let Some(tools) = ldap_tools("a_server_that_is_down_or_answers_nothing_leaves_the_old_file")
    else {
        return;
    };
    let mut slapd = Slapd::start(tools, &tree(&[&ALICE_E, &CAROL_E], &["alice"]), "");
    let (w, config) = setup(&slapd, "");
    sync(&w, &config).assert_code(0);
    let before = directory_text(&w);
    // Everyone filtered away: an empty answer writes nothing.
    let empty = w.server.join("empty.toml");
    std::fs::write(
        &empty,
        std::fs::read_to_string(&config)
            .unwrap()
            .replace("(objectClass=inetOrgPerson)", "(employeeType=nobody)"),
    )
    .unwrap();
    let run = sync(&w, &empty);
    run.assert_code(2);
    assert!(
        run.stderr.contains("answered with no people"),
        "{}",
        run.dump()
    );
    assert_eq!(directory_text(&w), before);
    // A wrong password: the bind fails, nothing is written.
    std::fs::write(w.server.join("ldap-password"), "wrong\n").unwrap();
    let run = sync(&w, &config);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("refused the bind as cn=trailgate,dc=example,dc=com"),
        "{}",
        run.dump()
    );
    assert_eq!(directory_text(&w), before);
    // An empty password would be an unauthenticated bind: refused.
    std::fs::write(w.server.join("ldap-password"), "\n").unwrap();
    let run = sync(&w, &config);
    run.assert_code(2);
    assert!(
        run.stderr.contains("would be an unauthenticated bind"),
        "{}",
        run.dump()
    );
    assert_eq!(directory_text(&w), before);
    std::fs::write(w.server.join("ldap-password"), format!("{SYNC_PW}\n")).unwrap();
    // The server is down: nothing is written, and no temporary file stays.
    slapd.stop();
    let run = sync(&w, &config);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains(&format!("cannot reach the LDAP server {}", slapd.url())),
        "{}",
        run.dump()
    );
    assert_eq!(directory_text(&w), before);
    let leftovers: Vec<_> = std::fs::read_dir(&w.server)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".trailgate-directory."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // The old file still judges pushes.
    w.push_accepted(&CAROL, &ai_approved_by(&ALICE));
}

#[test]
fn a_file_that_goes_stale_while_the_server_is_down_rejects_pushes_until_a_sync() {
    let Some(tools) =
        ldap_tools("a_file_that_goes_stale_while_the_server_is_down_rejects_pushes_until_a_sync")
    else {
        return;
    };
    let mut slapd = Slapd::start(tools, &tree(&[&ALICE_E, &CAROL_E], &["alice"]), "");
    let (w, config) = setup(&slapd, "");
    sync(&w, &config).assert_code(0);
    slapd.stop();
    sync(&w, &config).assert_code(2);
    // Two hours of failed syncs later (the file's own time set back two
    // hours stands for them), the policy's one-hour limit rejects pushes.
    let text = directory_text(&w);
    let generated = text
        .lines()
        .find(|l| l.starts_with("generated = "))
        .unwrap();
    let out = Command::new("date")
        .args(["-u", "-d", "2 hours ago", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    let old = format!(
        "generated = {}",
        String::from_utf8_lossy(&out.stdout).trim()
    );
    std::fs::write(
        w.server.join("directory.toml"),
        text.replace(generated, &old),
    )
    .unwrap();
    w.commit(&CAROL, &ai_approved_by(&ALICE));
    let run = w.push(&["origin", "main"]);
    run.assert_rejected();
    run.assert_says("longer ago than settings.directory_max_age (1h)");
    // The server is back: the next sync renews the file and the push passes.
    slapd.run();
    sync(&w, &config).assert_code(0);
    w.push(&["origin", "main"]).assert_accepted_silently();
}

#[test]
fn huge_groups_and_size_limits_are_read_in_pages() {
    let Some(tools) = ldap_tools("huge_groups_and_size_limits_are_read_in_pages") else {
        return;
    };
    // 1,500 people, all senior, behind a server-side size limit of 100
    // entries per search: only paged results read them all.
    let mut ldif = tree(&[&ALICE_E, &CAROL_E], &["alice"]);
    let mut members = String::new();
    for i in 0..1500 {
        ldif.push_str(&format!(
            "dn: uid=p{i:04},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: p{i:04}\ncn: Person {i}\nsn: P\nmail: p{i:04}@example.com\nemployeeType: staff\n\n"
        ));
        members.push_str(&format!("member: uid=p{i:04},ou=people,{SUFFIX}\n"));
    }
    ldif.push_str(&format!(
        "dn: cn=big,ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: big\n{members}\n"
    ));
    let mut slapd = Slapd::start(tools, &ldif, &limits("unlimited"));
    let (w, config) = setup(&slapd, "");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replace(
        "timeout_seconds = 5",
        "timeout_seconds = 5\npage_size = 100",
    );
    std::fs::write(
        &config,
        format!("{text}\n[groups.big]\nmembers_of = [\"cn=big,ou=groups,{SUFFIX}\"]\n"),
    )
    .unwrap();
    let run = sync(&w, &config);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("1502 people; groups: big 1500, senior 1, staff 1501"),
        "{}",
        run.dump()
    );
    // A server whose limit cuts even a paged answer short: that is an
    // error, never a smaller directory.
    slapd.stop();
    slapd.set_limits(&limits("1000"));
    slapd.run();
    let before = directory_text(&w);
    let run = sync(&w, &config);
    run.assert_code(2);
    assert!(
        run.stderr.contains("Size limit exceeded") || run.stderr.contains("rc=4"),
        "{}",
        run.dump()
    );
    assert_eq!(directory_text(&w), before);
}

/// At most 100 entries per search or page, and `total` in all pages.
fn limits(total: &str) -> String {
    format!("limits * size.soft=100 size.hard=100 size.pr=100 size.prtotal={total}")
}

#[test]
fn entries_that_cannot_become_people_fail_the_sync_or_are_skipped_when_told() {
    let Some(tools) =
        ldap_tools("entries_that_cannot_become_people_fail_the_sync_or_are_skipped_when_told")
    else {
        return;
    };
    let mut ldif = tree(&[&ALICE_E, &CAROL_E], &["alice"]);
    // A second entry with Carol's uid, and one whose uid trailgate cannot
    // use as an id; a name with quotes, a backslash and non-ASCII letters.
    ldif.push_str(&format!(
        "dn: cn=carol2,ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: carol\ncn: carol2\nsn: C\nmail: carol2@example.com\n\n\
         dn: cn=odd,ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: o'brien\ncn: odd\nsn: O\nmail: odd@example.com\n\n\
         dn: uid=zoe,ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: zoe\ncn: Zoë \"Z\" O\\Brien\nsn: Z\nmail: zoe@example.com\n\n"
    ));
    let slapd = Slapd::start(tools, &ldif, "");
    let (w, config) = setup(&slapd, "");
    let run = sync(&w, &config);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("3 LDAP entries cannot become trailgate people"),
        "{}",
        run.dump()
    );
    assert!(
        run.stderr.contains("uid `carol` is also the id of"),
        "{}",
        run.dump()
    );
    assert!(
        run.stderr.contains(
            "cn=odd,ou=people,dc=example,dc=com: uid `o'brien` cannot be a trailgate person id"
        ),
        "{}",
        run.dump()
    );
    assert!(!w.server.join("directory.toml").exists());
    let skip_config = w.server.join("skip.toml");
    std::fs::write(
        &skip_config,
        std::fs::read_to_string(&config).unwrap().replacen(
            "output = ",
            "invalid_entries = \"skip\"\noutput = ",
            1,
        ),
    )
    .unwrap();
    let run = sync(&w, &skip_config);
    run.assert_code(0);
    assert!(
        run.stderr.contains("warning: left out cn=odd"),
        "{}",
        run.dump()
    );
    let text = directory_text(&w);
    assert!(text.contains(r#"name = "Zoë \"Z\" O\\Brien""#), "{text}");
    // The file written is one the hook reads.
    w.push_accepted(&DAVE, &ai_approved_by(&ALICE));
}

#[test]
fn a_referral_to_another_server_fails_the_sync() {
    let Some(tools) = ldap_tools("a_referral_to_another_server_fails_the_sync") else {
        return;
    };
    // Part of the people live on another server: the answer would be
    // incomplete, so nothing is written.
    let mut ldif = tree(&[&ALICE_E, &CAROL_E], &["alice"]);
    ldif.push_str(&format!(
        "dn: ou=elsewhere,ou=people,{SUFFIX}\nobjectClass: referral\nobjectClass: extensibleObject\nou: elsewhere\nref: ldap://127.0.0.1:1/ou=elsewhere,ou=people,{SUFFIX}\n\n"
    ));
    let slapd = Slapd::start(tools, &ldif, "");
    let (w, config) = setup(&slapd, "");
    let run = sync(&w, &config);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("sent a referral under ou=people,dc=example,dc=com"),
        "{}",
        run.dump()
    );
    assert!(!w.server.join("directory.toml").exists());
}

#[test]
fn a_bad_sync_configuration_is_refused_at_its_line_and_column() {
    // No server needed: the configuration is checked before connecting.
    let w = World::new();
    let config = w.server.join("sync.toml");
    std::fs::write(
        &config,
        "output = \"directory.toml\"\n[ldap]\nurl = \"http://ldap.example.com\"\nbind_dn = \"cn=x,dc=y\"\n\n[people]\nbases = [\"ou=people,dc=example,dc=com\"]\nfilter = \"(uid=*\"\nsshkeys = [\"sshPublicKey\"]\n",
    )
    .unwrap();
    let run = sync(&w, &config);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("sync.toml:9:1: unknown key `sshkeys`; did you mean `ssh_keys`?"),
        "{}",
        run.dump()
    );
    std::fs::write(
        &config,
        "output = \"directory.toml\"\n[ldap]\nurl = \"http://ldap.example.com\"\nbind_dn = \"cn=x,dc=y\"\n\n[people]\nbases = [\"ou=people,dc=example,dc=com\"]\nfilter = \"(uid=*\"\n\n[groups.Senior]\nattribute = \"employee type\"\n",
    )
    .unwrap();
    let run = sync(&w, &config);
    run.assert_code(2);
    for needle in [
        "sync.toml:3:7: url `http://ldap.example.com` is not ldap://HOST[:PORT] or ldaps://HOST[:PORT]",
        "sync.toml:4:11: bind_dn needs password_file",
        "sync.toml:8:10: `(uid=*` is not an LDAP search filter",
        "sync.toml:10:9: group name `Senior` may only use a-z, 0-9 and `-`",
        "sync.toml:11:13: `employee type` is not an LDAP attribute name",
        "sync.toml:11:13: attribute needs values",
    ] {
        assert!(run.stderr.contains(needle), "missing {needle:?}\n{}", run.dump());
    }
}
