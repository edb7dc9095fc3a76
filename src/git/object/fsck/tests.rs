use super::*;

const K: HashKind = HashKind::Sha1;
const TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const PARENT: &str = "1111111111111111111111111111111111111111";
const AUTHOR: &str = "author A U Thor <a@example.com> 1700000000 +0100";
const COMMITTER: &str = "committer C O Mitter <c@example.com> 1700000100 -0000";

fn commit(lines: &[&str], message: &str) -> Vec<u8> {
    let mut out = String::new();
    for l in lines {
        out.push_str(l);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(message);
    out.into_bytes()
}

fn ok(lines: &[&str]) -> Vec<u8> {
    commit(lines, "Subject\n\nBody\n")
}

fn tree() -> String {
    format!("tree {TREE}")
}

fn parent() -> String {
    format!("parent {PARENT}")
}

#[test]
fn what_git_writes_is_accepted() {
    let cases: Vec<Vec<u8>> = vec![
        ok(&[&tree(), AUTHOR, COMMITTER]),
        ok(&[&tree(), &parent(), &parent(), AUTHOR, COMMITTER]),
        ok(&[&tree(), AUTHOR, COMMITTER, "encoding ISO-8859-1"]),
        ok(&[
            &tree(),
            AUTHOR,
            COMMITTER,
            "gpgsig -----BEGIN SSH SIGNATURE-----",
            " AAAA",
            " -----END SSH SIGNATURE-----",
        ]),
        ok(&[
            &tree(),
            AUTHOR,
            COMMITTER,
            "mergetag object 1111111111111111111111111111111111111111",
            " type commit",
            " tag v1",
            " ",
            " msg",
        ]),
        ok(&[&tree(), AUTHOR, COMMITTER, "x-custom value", "nospace"]),
        ok(&[&tree(), "author  <a@x> 0 +0000", COMMITTER]),
        ok(&[&tree(), "author A <a@x>  \t12 -1234", COMMITTER]),
        ok(&[&tree(), "author A \u{e9} <a b@x> 1 +0000", COMMITTER]),
        // No message, no blank line, but a final newline: fsck accepts it.
        format!("tree {TREE}\n{AUTHOR}\n{COMMITTER}\n").into_bytes(),
        commit(&[&tree(), AUTHOR, COMMITTER], "CRLF\r\n\r\nbody\r\n"),
    ];
    for data in cases {
        assert_eq!(
            check_commit(&data, K),
            Ok(()),
            "{}",
            String::from_utf8_lossy(&data)
        );
        links_agree(&data);
    }
}

/// What the walk takes from the check (parents and committer date) is what
/// the walk's own reader of every commit, old ones included, reads.
fn links_agree(data: &[u8]) {
    let (mut checked, mut parsed) = (Vec::new(), Vec::new());
    let time = check_commit_links(data, K, &mut checked);
    let want = super::super::parse_links(data, K, &mut parsed);
    assert_eq!(time.ok(), want.ok(), "{}", String::from_utf8_lossy(data));
    assert_eq!(checked, parsed, "{}", String::from_utf8_lossy(data));
}

#[test]
fn the_check_gives_the_walk_the_parents_and_date_git_reads() {
    let two = format!("parent {}", "2".repeat(40));
    for data in [
        ok(&[&tree(), &parent(), &two, AUTHOR, COMMITTER]),
        ok(&[&tree(), AUTHOR, "committer C <c@x>  \t 42 +0000"]),
        ok(&[&tree(), &parent(), AUTHOR, COMMITTER, "gpgsig x", " y"]),
    ] {
        assert!(check_commit(&data, K).is_ok());
        links_agree(&data);
    }
    let mut parents = Vec::new();
    let data = ok(&[&tree(), &parent(), &two, AUTHOR, COMMITTER]);
    assert_eq!(
        check_commit_links(&data, K, &mut parents),
        Ok(1_700_000_100)
    );
    assert_eq!(parents.len(), 2);
}

#[test]
fn fsck_errors_are_refused() {
    let cases: Vec<(Vec<u8>, Malformed)> = vec![
        (
            b"tree x\0\n\nm".to_vec(),
            Malformed::NulInHeader { offset: 6 },
        ),
        (
            format!("tree {TREE}\n{AUTHOR}\n{COMMITTER}").into_bytes(),
            Malformed::UnterminatedHeader,
        ),
        (ok(&[AUTHOR, &tree(), COMMITTER]), Malformed::MissingTree),
        (
            ok(&[&format!("tree {}", &TREE[..39]), AUTHOR, COMMITTER]),
            Malformed::BadTree { hash: K },
        ),
        (
            ok(&[&format!("tree {TREE} "), AUTHOR, COMMITTER]),
            Malformed::BadTree { hash: K },
        ),
        (
            ok(&[&tree(), "parent 1111111", AUTHOR, COMMITTER]),
            Malformed::BadParent { hash: K },
        ),
        (ok(&[&tree(), COMMITTER]), Malformed::MissingAuthor),
        (
            ok(&[&tree(), AUTHOR, AUTHOR, COMMITTER]),
            Malformed::MultipleAuthors { count: 2 },
        ),
        (ok(&[&tree(), AUTHOR]), Malformed::MissingCommitter),
        (
            ok(&[&tree(), AUTHOR, &parent(), COMMITTER]),
            Malformed::MissingCommitter,
        ),
        (
            ok(&[&tree(), AUTHOR, "encoding x", COMMITTER]),
            Malformed::MissingCommitter,
        ),
        (
            ok(&[&tree(), AUTHOR, " continued", COMMITTER]),
            Malformed::MissingCommitter,
        ),
        (
            ok(&[&tree(), "author A <a> 1 +0000\r", COMMITTER]),
            Malformed::BadIdent {
                header: "author",
                problem: IdentProblem::BadTimezone,
            },
        ),
    ];
    for (data, want) in cases {
        assert_eq!(
            check_commit(&data, K),
            Err(want),
            "{}",
            String::from_utf8_lossy(&data)
        );
    }
}

#[test]
fn bad_idents_are_named_as_fsck_names_them() {
    use IdentProblem::*;
    let cases: &[(&[u8], IdentProblem)] = &[
        (b"<a@x> 1 +0000", MissingNameBeforeEmail),
        (b"A > <a@x> 1 +0000", BadName),
        (b"Nobody 1 +0000", MissingEmail),
        (b"A<a@x> 1 +0000", MissingSpaceBeforeEmail),
        (b"A <a@x 1 +0000", BadEmail),
        (b"A <a<b@x> 1 +0000", BadEmail),
        (b"A <a@x>1 +0000", MissingSpaceBeforeDate),
        (b"A <a@x>", MissingSpaceBeforeDate),
        (b"A <a@x> ", BadDate),
        (b"A <a@x> +1 +0000", BadDate),
        (b"A <a@x> -5 +0000", BadDate),
        (b"A <a@x> 01 +0000", ZeroPaddedDate),
        (b"A <a@x> 99999999999999999999 +0000", DateOverflow),
        (b"A <a@x> 9223372036854775808 +0000", DateOverflow),
        (b"A <a@x> 1x +0000", BadDate),
        (b"A <a@x> 1 +000", BadTimezone),
        (b"A <a@x> 1 0000", BadTimezone),
        (b"A <a@x> 1 +00000", BadTimezone),
        (b"A <a@x> 1  +0000", BadTimezone),
        (b"A <a@x> 1", BadDate),
    ];
    for &(value, want) in cases {
        assert_eq!(
            check_ident(value),
            Err(want),
            "{}",
            String::from_utf8_lossy(value)
        );
    }
    assert_eq!(check_ident(b"A <a@x> 9223372036854775807 +0000"), Ok(()));
    assert_eq!(check_ident(b"A <a@x> 0 +0000"), Ok(()));
}

#[test]
fn shapes_git_readers_disagree_on_are_refused() {
    let cases: Vec<(Vec<u8>, Malformed)> = vec![
        (
            commit(&[&tree(), AUTHOR, COMMITTER], "Sub\0ject\n"),
            Malformed::NulInBody { offset: 0 },
        ),
        (
            ok(&[&tree(), AUTHOR, COMMITTER, AUTHOR]),
            Malformed::Misplaced {
                header: "author".into(),
            },
        ),
        (
            ok(&[&tree(), AUTHOR, COMMITTER, COMMITTER]),
            Malformed::Misplaced {
                header: "committer".into(),
            },
        ),
        (
            ok(&[&tree(), AUTHOR, COMMITTER, &parent()]),
            Malformed::Misplaced {
                header: "parent".into(),
            },
        ),
        (
            ok(&[&tree(), AUTHOR, COMMITTER, &tree()]),
            Malformed::Misplaced {
                header: "tree".into(),
            },
        ),
        (
            ok(&[&tree(), AUTHOR, COMMITTER, "encoding a", "encoding b"]),
            Malformed::Duplicate {
                header: "encoding".into(),
            },
        ),
        (
            ok(&[&tree(), AUTHOR, COMMITTER, "gpgsig a", " b", "gpgsig c"]),
            Malformed::Duplicate {
                header: "gpgsig".into(),
            },
        ),
        (
            ok(&[&tree(), AUTHOR, COMMITTER, "gpgsigx a"]),
            Malformed::OtherSignature {
                header: "gpgsigx".into(),
            },
        ),
        (
            ok(&[&tree(), AUTHOR, COMMITTER, " continued"]),
            Malformed::Continuation {
                header: "committer".into(),
            },
        ),
        (
            ok(&[&tree(), AUTHOR, COMMITTER, "encoding x", " y"]),
            Malformed::Continuation {
                header: "encoding".into(),
            },
        ),
    ];
    for (data, want) in cases {
        let got = check_commit(&data, K);
        match (&got, &want) {
            (Err(Malformed::NulInBody { .. }), Malformed::NulInBody { .. }) => {}
            _ => assert_eq!(got, Err(want), "{}", String::from_utf8_lossy(&data)),
        }
    }
}

#[test]
fn ids_have_the_repositorys_length() {
    let sha256 = "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321";
    let data = ok(&[&format!("tree {sha256}"), AUTHOR, COMMITTER]);
    assert_eq!(check_commit(&data, HashKind::Sha256), Ok(()));
    assert_eq!(check_commit(&data, K), Err(Malformed::BadTree { hash: K }));
    let data = ok(&[&tree(), AUTHOR, COMMITTER]);
    assert_eq!(
        check_commit(&data, HashKind::Sha256),
        Err(Malformed::BadTree {
            hash: HashKind::Sha256
        })
    );
}

#[test]
fn tags_are_checked_as_fsck_checks_them() {
    let good =
        format!("object {PARENT}\ntype commit\ntag v1.0\ntagger T <t@x> 1 +0000\n\nRelease\n");
    assert_eq!(check_tag(good.as_bytes(), K), Ok(()));
    let early = format!("object {PARENT}\ntype commit\ntag v0.1\n\nOld\n");
    assert_eq!(check_tag(early.as_bytes(), K), Ok(()));
    let cases: Vec<(String, Malformed)> = vec![
        ("type commit\n\n".into(), Malformed::MissingObject),
        (
            "object 1234\ntype commit\n\n".into(),
            Malformed::BadObject { hash: K },
        ),
        (
            format!("object {PARENT}\ntag v1\n\n"),
            Malformed::MissingTypeEntry,
        ),
        (
            format!("object {PARENT}\ntype commitx\ntag v1\n\n"),
            Malformed::BadType {
                kind: "commitx".into(),
            },
        ),
        (
            format!("object {PARENT}\ntype commit\n\n"),
            Malformed::MissingTagEntry,
        ),
        (
            format!("object {PARENT}\ntype commit\ntag v1\ntagger T 1 +0000\n\n"),
            Malformed::BadIdent {
                header: "tagger",
                problem: IdentProblem::MissingEmail,
            },
        ),
    ];
    for (data, want) in cases {
        assert_eq!(check_tag(data.as_bytes(), K), Err(want), "{data}");
    }
}

#[test]
fn every_accepted_commit_reads_one_way() {
    // What check_commit accepts, parse reads with the tree and parents of
    // the canonical layout and the one author and committer line.
    let data = ok(&[&tree(), &parent(), AUTHOR, COMMITTER, "encoding UTF-8"]);
    assert_eq!(check_commit(&data, K), Ok(()));
    let c = super::super::parse(&data, K).unwrap();
    assert_eq!(c.parents.len(), 1);
    assert_eq!(c.author.name, b"A U Thor");
    assert_eq!(c.committer.email, b"c@example.com");
    assert_eq!(c.committer.time, 1_700_000_100);
    assert_eq!(c.encoding, Some(&b"UTF-8"[..]));
    assert_eq!(c.message, b"Subject\n\nBody\n");
}
