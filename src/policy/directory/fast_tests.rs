use super::fast;
use crate::policy::raw;

/// What the TOML parser makes of a directory file, as comparable data:
/// every value with its span.
fn view(file: &raw::DirectoryFile) -> String {
    let mut out = format!(
        "generated {} {:?}\n",
        file.generated.get_ref(),
        file.generated.span()
    );
    for (id, person) in &file.people {
        let p = person.get_ref();
        out.push_str(&format!(
            "person {} {:?} name {:?}\n",
            id.get_ref(),
            id.span(),
            p.name
        ));
        for (what, list) in [
            ("email", &p.emails),
            ("login", &p.logins),
            ("ssh", &p.ssh_keys),
            ("gpg", &p.gpg_keys),
        ] {
            for v in list {
                out.push_str(&format!("  {what} {:?} {:?}\n", v.get_ref(), v.span()));
            }
        }
    }
    for (name, entries) in &file.groups {
        out.push_str(&format!("group {} {:?}\n", name.get_ref(), name.span()));
        for e in entries {
            out.push_str(&format!("  {:?} {:?}\n", e.get_ref(), e.span()));
        }
    }
    out
}

fn same_as_toml(text: &str) {
    let fast = fast::parse(text).unwrap_or_else(|| panic!("the fast reader gave up on\n{text}"));
    let slow: raw::DirectoryFile = toml::from_str(text).unwrap();
    assert_eq!(view(&fast), view(&slow), "{text}");
}

fn gives_up(text: &str) {
    assert!(fast::parse(text).is_none(), "the fast reader took\n{text}");
    // The hook's scan gives up where the reader does (a person's table
    // twice is left to the caller, which sorts the ids).
    if !text.contains("[people.a]\n[people.a]") {
        assert!(fast::scan(text).is_none(), "the scan took\n{text}");
    }
}

/// The hook's scan, each section then read alone, gives what the reader
/// (and so the TOML parser) gives, spans included.
fn scan_reads_as_toml(text: &str) {
    let scan = fast::scan(text).unwrap_or_else(|| panic!("the scan gave up on\n{text}"));
    let people = scan
        .sections
        .iter()
        .map(|s| {
            let id = toml::Spanned::new(s.id.clone(), text[s.id.clone()].to_owned());
            let person = fast::person(text, s.body.clone()).unwrap();
            for (list, values) in [("emails", &person.emails), ("ssh_keys", &person.ssh_keys)] {
                let alone = fast::list(text, s.body.clone(), list);
                assert_eq!(format!("{alone:?}"), format!("{values:?}"));
            }
            (id, toml::Spanned::new(s.header.clone(), person))
        })
        .collect();
    let scanned = raw::DirectoryFile {
        generated: scan.generated,
        people,
        groups: scan.groups,
    };
    let slow: raw::DirectoryFile = toml::from_str(text).unwrap();
    assert_eq!(view(&scanned), view(&slow), "{text}");
}

const PLAIN: &str = r#"# written by trailgate directory sync
generated = 2026-12-02T03:00:00Z

[people.alice]
name = "Alice \"Al\" Senior \u00e9\\"
emails = ["alice@example.com", "Alice@Old.Example.com"]   # two
logins = [ "alice" , ]
ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB alice"]
gpg_keys = ["-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n"]

[people.bob_2-x]
emails = []

  [groups]
senior = ["alice", "bob@example.com", "*@contractor.example"]
empty = []
"#;

#[test]
fn the_plain_layout_reads_as_toml_reads_it() {
    scan_reads_as_toml(PLAIN);
    scan_reads_as_toml(&PLAIN.replace('\n', "\r\n"));
    same_as_toml(PLAIN);
    same_as_toml(&PLAIN.replace('\n', "\r\n"));
    same_as_toml("generated = 2026-12-02T03:00:00+01:00\n[groups]\n");
    same_as_toml("generated = 2026-12-02T03:00:00.5Z\n[people.a]\n[groups]");
}

#[test]
fn anything_else_is_left_to_the_toml_parser() {
    for bad in [
        "",
        "[groups]\n",
        "generated = 2026-12-02T03:00:00Z\n",
        "generated = 2026-12-02 03:00:00Z\n[groups]\n",
        "generated = 2026-12-02T03:00:00Z\ngenerated = 2026-12-02T03:00:00Z\n[groups]\n",
        "generated = 2026-12-02T03:00:00Z\nversion = 1\n[groups]\n",
        "generated = 2026-12-02T03:00:00Z\n[people.a]\n[people.a]\n[groups]\n",
        "generated = 2026-12-02T03:00:00Z\n[people.a]\nname = \"x\"\nname = \"y\"\n[groups]\n",
        "generated = 2026-12-02T03:00:00Z\n[people.a]\nnmae = \"x\"\n[groups]\n",
        "generated = 2026-12-02T03:00:00Z\n[people.a]\nemails = [\n\"a@b\"]\n[groups]\n",
        "generated = 2026-12-02T03:00:00Z\n[people.a]\nemails = [\"a@b\"\n[groups]\n",
        "generated = 2026-12-02T03:00:00Z\n[people.a]\nname = 'x'\n[groups]\n",
        "generated = 2026-12-02T03:00:00Z\n[people.a]\nname = \"\\q\"\n[groups]\n",
        "generated = 2026-12-02T03:00:00Z\n[people.a]\nname = \"\\uD800\"\n[groups]\n",
        "generated = 2026-12-02T03:00:00Z\n[people.a]\nname = \"tab\there\"\n[groups]\n",
        "generated = 2026-12-02T03:00:00Z\n[people.\"a.b\"]\n[groups]\n",
        "generated = 2026-12-02T03:00:00Z\n[people]\na = {}\n[groups]\n",
        "generated = 2026-12-02T03:00:00Z\npeople.a.name = \"x\"\n[groups]\n",
        "generated = 2026-12-02T03:00:00Z\n[groups]\n[groups]\n",
        "generated = 2026-12-02T03:00:00Z\n[groups]\na = []\na = []\n",
        "generated = 2026-12-02T03:00:00Z\n[groups]\na = [\"x\"] junk\n",
        "generated = 2026-12-02T03:00:00Z\n[groups]\na = [\"x\"] # bell \u{7}\n",
        "generated = 2026-12-02T03:00:00Z\n[[groups]]\n",
        "generated = 2026-12-02T03:00:00Z\n[extra]\n[groups]\n",
    ] {
        gives_up(bad);
    }
}

#[test]
fn a_large_generated_directory_reads_as_toml_reads_it() {
    let mut text = String::from("generated = 2026-12-02T03:00:00Z\n");
    for i in 0..300 {
        text.push_str(&format!(
            "\n[people.u{i}]\nname = \"User {i} \\u00fc\"\nemails = [\"u{i}@example.com\"]\nlogins = [\"u{i}\"]\n"
        ));
    }
    text.push_str("\n[groups]\nsenior = [\"u1\", \"u2\"]\n");
    same_as_toml(&text);
    scan_reads_as_toml(&text);
}
