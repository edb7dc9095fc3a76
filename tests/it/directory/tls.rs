//! `trailgate directory sync` over TLS against a real `slapd` whose
//! certificate is signed by the organisation's own CA (made by `openssl`
//! in the test): ldaps:// and StartTLS with `ca_file` pass; without it
//! (a CA the system does not know), with another CA, or with a host name
//! the certificate is not for, the sync fails closed: exit 2, a message
//! saying what to fix, the old file untouched. Gated like sync.rs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use super::slapd::*;
use super::sync::{ai_approved_by, directory_text, setup, sync};
use crate::support::*;

/// A copy of the sync configuration `config` with `url` and, when given,
/// `ca_file` (and `starttls`) in its [ldap] table.
fn with_tls(config: &Path, name: &str, url: &str, ca: Option<&Path>, starttls: bool) -> PathBuf {
    let text = std::fs::read_to_string(config).unwrap();
    let mut ldap = format!("[ldap]\nurl = \"{url}\"\n");
    if let Some(ca) = ca {
        ldap.push_str(&format!("ca_file = \"{}\"\n", ca.display()));
    }
    if starttls {
        ldap.push_str("starttls = true\n");
    }
    let start = text.find("[ldap]\n").unwrap();
    let end = start + text[start..].find("bind_dn").unwrap();
    let out = config.with_file_name(name);
    std::fs::write(&out, format!("{}{ldap}{}", &text[..start], &text[end..])).unwrap();
    out
}

#[test]
fn ldaps_with_the_organisations_ca_file_syncs_and_anything_less_fails_closed() {
    let test = "ldaps_with_the_organisations_ca_file_syncs_and_anything_less_fails_closed";
    let Some(tools) = ldap_tools(test) else {
        return;
    };
    let pki = Pki::make(test);
    let slapd = Slapd::start_tls(
        tools,
        &tree(&[&ALICE_E, &CAROL_E, &DAVE_E], &["alice"]),
        &pki,
    );
    let (w, config) = setup(&slapd, "");
    let good = with_tls(
        &config,
        "ldaps.toml",
        &slapd.ldaps_url("localhost"),
        Some(&pki.ca),
        false,
    );
    let run = sync(&w, &good);
    run.assert_code(0);
    assert!(
        run.stdout.contains("3 people; groups: senior 1"),
        "{}",
        run.dump()
    );
    let before = directory_text(&w);
    w.push_accepted(&CAROL, &ai_approved_by(&ALICE));
    // Dave is promoted; every sync below that fails must keep him out.
    slapd.modify(&format!(
        "dn: cn=senior,ou=groups,{SUFFIX}\nchangetype: modify\nadd: member\nmember: uid=dave,ou=people,{SUFFIX}\n"
    ));
    // No ca_file: the system's CA store does not know the organisation's CA.
    let none = with_tls(
        &config,
        "no-ca.toml",
        &slapd.ldaps_url("localhost"),
        None,
        false,
    );
    let run = sync(&w, &none);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("cannot reach the LDAP server ldaps://localhost:"),
        "{}",
        run.dump()
    );
    assert!(run.stderr.contains("UnknownIssuer"), "{}", run.dump());
    assert!(
        run.stderr
            .contains("set ca_file to the organisation's CA certificate"),
        "{}",
        run.dump()
    );
    assert_eq!(directory_text(&w), before);
    // Another organisation's CA: refused the same way.
    let other = Pki::make(test);
    let wrong_ca = with_tls(
        &config,
        "other-ca.toml",
        &slapd.ldaps_url("localhost"),
        Some(&other.ca),
        false,
    );
    let run = sync(&w, &wrong_ca);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("ca_file does not hold the CA that signed"),
        "{}",
        run.dump()
    );
    assert_eq!(directory_text(&w), before);
    // The right CA, but a host name the certificate is not for (it lists
    // only DNS:localhost, not the address).
    let wrong_host = with_tls(
        &config,
        "by-address.toml",
        &slapd.ldaps_url("127.0.0.1"),
        Some(&pki.ca),
        false,
    );
    let run = sync(&w, &wrong_host);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("url must name a host the server's certificate is for"),
        "{}",
        run.dump()
    );
    assert_eq!(directory_text(&w), before);
    let leftovers = std::fs::read_dir(&w.server)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".trailgate-directory.")
        })
        .count();
    assert_eq!(leftovers, 0);
    // The good configuration again: the promotion arrives.
    sync(&w, &good).assert_code(0);
    assert!(directory_text(&w).contains("senior = [\"alice\", \"dave\"]\n"));
    w.push_accepted(&CAROL, &ai_approved_by(&DAVE));
}

#[test]
fn starttls_with_the_ca_file_syncs_and_a_bad_ca_file_is_refused_at_its_line() {
    let test = "starttls_with_the_ca_file_syncs_and_a_bad_ca_file_is_refused_at_its_line";
    let Some(tools) = ldap_tools(test) else {
        return;
    };
    let pki = Pki::make(test);
    let slapd = Slapd::start_tls(tools, &tree(&[&ALICE_E, &CAROL_E], &["alice"]), &pki);
    let (w, config) = setup(&slapd, "");
    let url = format!("ldap://localhost:{}", slapd.port);
    let starttls = with_tls(&config, "starttls.toml", &url, Some(&pki.ca), true);
    let run = sync(&w, &starttls);
    run.assert_code(0);
    assert!(
        run.stdout.contains("2 people; groups: senior 1"),
        "{}",
        run.dump()
    );
    let before = directory_text(&w);
    // StartTLS without the CA: the upgrade fails, nothing is sent in clear.
    let run = sync(
        &w,
        &with_tls(&config, "starttls-no-ca.toml", &url, None, true),
    );
    run.assert_code(2);
    assert!(run.stderr.contains("UnknownIssuer"), "{}", run.dump());
    assert_eq!(directory_text(&w), before);
    // The server's private key named as the CA file: a configuration
    // error at ca_file's line and column, before any connection.
    let key = with_tls(&config, "key.toml", &url, Some(&pki.key), true);
    let run = sync(&w, &key);
    run.assert_code(2);
    let want = format!(
        "key.toml:5:11: ca_file {}: line 1: it holds a PRIVATE KEY",
        pki.key.display()
    );
    assert!(
        run.stderr.contains(&want),
        "missing {want:?}\n{}",
        run.dump()
    );
    // A CA file over plain ldap:// would protect nothing.
    let plain = with_tls(&config, "plain.toml", &url, Some(&pki.ca), false);
    let run = sync(&w, &plain);
    run.assert_code(2);
    assert!(
        run.stderr.contains("plain.toml:5:11: ca_file is for TLS"),
        "{}",
        run.dump()
    );
    // A truncated CA file.
    let cut = w.server.join("cut.pem");
    let pem = std::fs::read_to_string(&pki.ca).unwrap();
    std::fs::write(&cut, &pem[..pem.len() / 2]).unwrap();
    let run = sync(&w, &with_tls(&config, "cut.toml", &url, Some(&cut), true));
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("line 1: the CERTIFICATE that begins here is never closed"),
        "{}",
        run.dump()
    );
    assert_eq!(directory_text(&w), before);
}
