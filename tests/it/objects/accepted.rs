//! What must still be accepted: every odd but well-formed object git's fsck
//! accepts cleanly and git's readers agree on, pushed for real, and old
//! history with problems fsck would report today (it is never judged again).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::support::*;
use crate::support::*;

/// A policy that judges every commit of `main` (the senior rule) without
/// rejecting Carol's plain commits.
fn world() -> World {
    World::with_policy(&attack_policy())
}

/// Header lines after the tree and parent that git's fsck accepts without a
/// word and every reader reads one way.
fn odd_but_well_formed() -> Vec<(&'static str, Vec<String>, &'static str)> {
    let lines = |extra: &[&str]| -> Vec<String> {
        let mut v = vec![CAROL_AUTHOR.to_owned(), CAROL_COMMITTER.to_owned()];
        v.extend(extra.iter().map(|s| (*s).to_owned()));
        v
    };
    vec![
        ("an unknown header", lines(&["x-review-id 1234"]), "Plain\n"),
        (
            "a mergetag-like multi-line header",
            lines(&[
                "mergetag object 1111111111111111111111111111111111111111",
                " type commit",
                " tag v1",
                " ",
                " text",
            ]),
            "Merge tag\n",
        ),
        (
            "an encoding header",
            lines(&["encoding ISO-8859-1"]),
            "Caf\u{e9}\n",
        ),
        (
            "an unverified signature",
            lines(&[
                "gpgsig -----BEGIN SSH SIGNATURE-----",
                " AAAA",
                " -----END SSH SIGNATURE-----",
            ]),
            "Signed\n",
        ),
        ("a CRLF message", lines(&[]), "Subject\r\n\r\nBody\r\n"),
        (
            "a header with no value",
            lines(&["nospace"]),
            "Odd header\n",
        ),
        (
            "blanks and a tab before the date, a negative zero zone",
            vec![
                "author Carol <carol@example.com>  \t1700000000 -0000".to_owned(),
                "committer Carol <carol@example.com> 0 +1400".to_owned(),
            ],
            "Dates\n",
        ),
        (
            "an empty name and blanks in the e-mail",
            vec![
                "author  <carol@example.com> 1700000000 +0000".to_owned(),
                "committer Carol < carol@example.com > 1700000000 +0000".to_owned(),
            ],
            "Names\n",
        ),
    ]
}

#[test]
fn odd_objects_fsck_accepts_cleanly_are_pushed_and_accepted() {
    let w = world();
    w.server_config("receive.fsckObjects", "true");
    for (what, headers, message) in odd_but_well_formed() {
        let (tree, main) = tip(&w);
        let mut lines = vec![format!("tree {tree}"), format!("parent {main}")];
        lines.extend(headers);
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let new = raw(&w, "commit", &commit_of(&refs, message));
        let fsck = w.run_git(&w.work, &["fsck", "--no-dangling", "--strict"]);
        assert!(
            !fsck.all_text().contains(&new),
            "{what}: git fsck must accept {new}\n{}",
            fsck.dump()
        );
        w.git(&["update-ref", MAIN, &new]);
        w.git(&["reset", "-q", "--hard", &new]);
        let run = w.push(&["origin", "main"]);
        assert!(run.success(), "{what}: {}", run.dump());
        w.assert_server_ref(MAIN, Some(&new));
    }
}

#[test]
fn a_commit_with_no_message_and_no_blank_line_is_accepted() {
    let w = world();
    let (tree, main) = tip(&w);
    let data = format!("tree {tree}\nparent {main}\n{CAROL_AUTHOR}\n{CAROL_COMMITTER}\n");
    let new = raw(&w, "commit", data.as_bytes());
    let run = push_as(&w, &new, "main");
    assert!(run.success(), "{}", run.dump());
    w.assert_server_ref(MAIN, Some(&new));
}

/// Writes `data` as a commit straight into the server repository (history
/// from before the hook, or from before today's fsck) on `refname`.
fn legacy(w: &World, refname: &str, data: &[u8]) -> String {
    let oid = crate::hardening::support::raw_object(w, "commit", data);
    w.server_git(&["update-ref", refname, &oid]);
    oid
}

#[test]
fn old_history_with_problems_fsck_reports_today_never_blocks_a_push() {
    let w = world();
    let main = w.server_ref(MAIN).unwrap();
    let tree = w.server_git(&["rev-parse", "main^{tree}"]);
    // A time zone fsck calls bad, and a second author line after the
    // committer: both would be refused if pushed today.
    let data = format!(
        "tree {tree}\nparent {main}\nauthor Alice Senior <alice@example.com> 1700000000 +25\ncommitter Alice Senior <alice@example.com> 1700000000 +0000\nauthor Old Importer <import@example.com> 1 +0000\n\nImported long ago\n"
    );
    let old = legacy(&w, "refs/heads/legacy", data.as_bytes());
    // main moves onto it (so it is judged: main did not reach it), with a
    // new commit on top.
    w.git(&["fetch", "-q", "origin", "legacy"]);
    w.git(&["reset", "-q", "--hard", &old]);
    let new = w.commit(&ALICE, "On top of the import\n");
    let run = w.push(&["origin", "main"]);
    assert!(run.success(), "{}", run.dump());
    w.assert_server_ref(MAIN, Some(&new));
    // The same object new in a push is refused: only its age lets it pass.
    let w = world();
    let (tree, main) = tip(&w);
    let data = format!(
        "tree {tree}\nparent {main}\nauthor Alice Senior <alice@example.com> 1700000000 +25\ncommitter Alice Senior <alice@example.com> 1700000000 +0000\n\nNew today\n"
    );
    let fresh = raw(&w, "commit", data.as_bytes());
    let run = push_as(&w, &fresh, "main");
    assert_refused(&w, &run, Some(&main), MAIN, &fresh, "badTimezone");
}

#[test]
fn an_author_in_a_latin_1_commit_is_read_as_git_log_shows_it() {
    // git log re-encodes the author line of an ISO-8859-1 commit to UTF-8:
    // `andr\xe9@` is André's `andré@`, a senior.
    let w = World::with_policy(&format!(
        "version = 1\n[people.andre]\nname = \"Andr\u{e9} Senior\"\nemails = [\"andr\u{e9}@example.com\"]\n\n[groups]\nsenior = [\"andre\"]\n{SENIOR_RULE}"
    ));
    let (tree, main) = tip(&w);
    let mut data = format!("tree {tree}\nparent {main}\n").into_bytes();
    data.extend_from_slice(b"author Andr\xe9 <andr\xe9@example.com> 1700000000 +0000\n");
    data.extend_from_slice(b"committer Andr\xe9 <andr\xe9@example.com> 1700000000 +0000\n");
    data.extend_from_slice(b"encoding ISO-8859-1\n\nCaf\xe9\n\nAI-Assisted: yes\n");
    let new = raw(&w, "commit", &data);
    assert_eq!(
        w.git(&["log", "-1", "--format=%ae", &new]),
        "andré@example.com"
    );
    let run = push_as(&w, &new, "main");
    assert!(run.success(), "{}", run.dump());
    w.assert_server_ref(MAIN, Some(&new));
}
