//! Nested LDAP groups against a real `slapd`: a `members_of` group whose
//! members include other groups (groupOfNames, member = group DN) counts
//! their members; a cycle is reported and its members counted once; a
//! chain deeper than the bound fails the sync and keeps the old file.
//! Gated like sync.rs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::slapd::*;
use super::sync::{ai_approved_by, directory_text, setup, sync};
use crate::support::*;

fn group(cn: &str, members: &[String]) -> String {
    let mut out = format!("dn: cn={cn},ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: {cn}\n");
    for m in members {
        out.push_str(&format!("member: {m}\n"));
    }
    out.push('\n');
    out
}

fn g(cn: &str) -> String {
    format!("cn={cn},ou=groups,{SUFFIX}")
}

fn p(uid: &str) -> String {
    format!("uid={uid},ou=people,{SUFFIX}")
}

#[test]
fn nested_groups_count_their_members_cycles_are_reported_and_depth_is_bounded() {
    let test = "nested_groups_count_their_members_cycles_are_reported_and_depth_is_bounded";
    let Some(tools) = ldap_tools(test) else {
        return;
    };
    // senior = alice + leads; leads = dave + principal + someone gone;
    // principal = carol + senior (a cycle back to the top).
    let mut ldif = tree(&[&ALICE_E, &CAROL_E, &DAVE_E], &["alice"]);
    ldif.push_str(&group("leads", &[p("dave"), g("principal"), p("gone")]));
    ldif.push_str(&group("principal", &[p("carol"), g("senior")]));
    // A chain nine levels deep, for later: deep1 -> deep2 -> ... -> deep9.
    for i in 1..=9 {
        let member = if i < 9 {
            g(&format!("deep{}", i + 1))
        } else {
            p("dave")
        };
        ldif.push_str(&group(&format!("deep{i}"), &[member]));
    }
    let slapd = Slapd::start(tools, &ldif, "");
    slapd.modify(&format!(
        "dn: {}\nchangetype: modify\nadd: member\nmember: {}\n",
        g("senior"),
        g("leads")
    ));
    let (w, config) = setup(&slapd, "");
    let run = sync(&w, &config);
    run.assert_code(0);
    assert!(
        run.stdout.contains("3 people; groups: senior 3,"),
        "{}",
        run.dump()
    );
    assert!(
        directory_text(&w).contains("senior = [\"alice\", \"carol\", \"dave\"]\n"),
        "{}",
        directory_text(&w)
    );
    let cycle = format!(
        "group senior: LDAP groups nest in a cycle: {} -> {} -> {} -> {} (each member is counted once)",
        g("senior"),
        g("leads"),
        g("principal"),
        g("senior")
    );
    assert!(
        run.stderr.contains(&cycle),
        "missing {cycle:?}\n{}",
        run.dump()
    );
    // The gone member is reported; the nested groups are not "missing people".
    assert!(
        run.stderr.contains(&format!(
            "member {} is not among the people found",
            p("gone")
        )),
        "{}",
        run.dump()
    );
    assert!(
        !run.stderr
            .contains(&format!("member {} is not", g("leads"))),
        "{}",
        run.dump()
    );
    // Carol is senior through two levels of nesting.
    w.push_accepted(&DAVE, &ai_approved_by(&CAROL));
    // principal (depth 2) takes in the nine-level chain: deep1 is at
    // depth 3, deep7 at 9, past the bound of 8. The sync fails, naming
    // the chain, and the file stays as it was.
    let before = directory_text(&w);
    slapd.modify(&format!(
        "dn: {}\nchangetype: modify\nadd: member\nmember: {}\n",
        g("principal"),
        g("deep1")
    ));
    let run = sync(&w, &config);
    run.assert_code(2);
    let chain: Vec<String> = [
        "senior",
        "leads",
        "principal",
        "deep1",
        "deep2",
        "deep3",
        "deep4",
        "deep5",
        "deep6",
        "deep7",
    ]
    .iter()
    .map(|cn| g(cn))
    .collect();
    let want = format!(
        "group senior: LDAP groups nest deeper than 8 levels: {}",
        chain.join(" -> ")
    );
    assert!(
        run.stderr.contains(&want),
        "missing {want:?}\n{}",
        run.dump()
    );
    assert_eq!(directory_text(&w), before);
}
