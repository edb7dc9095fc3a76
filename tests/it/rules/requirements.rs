//! Each requirement kind through `rules::evaluate`: what it finds, what it
//! asks for when it lacks it, and its edge cases.

use trailgate::facts::signature::SigStatus;
use trailgate::git::diff::ChangeKind;
use trailgate::rules::{DiffNeed, Needs};
use trailgate::verdict::{
    Finding, Limit, MissingApproval, MissingTrailer, NotCounted, OverLimit, Proof, Proofs,
    Signature, Unsigned, Via,
};

use super::*;

fn approvals(count: usize, proof: &str) -> Policy {
    policy(&format!(
        "[[rule]]\nname = \"r\"\nwhen = {{ ai_assisted = true }}\nrequire = {{ approvals = {{ from = [\"senior\"], count = {count}, proof = \"{proof}\" }} }}\n"
    ))
}

fn ai(trailers: &[&str]) -> String {
    let mut m = String::from("Change\n\nAI-Assisted: yes\n");
    for t in trailers {
        m.push_str(t);
        m.push('\n');
    }
    m
}

fn missing_approval(outcome: Outcome) -> MissingApproval {
    match finding(outcome) {
        Finding::MissingApproval(f) => f,
        other => panic!("{other:?}"),
    }
}

fn reasons(f: &MissingApproval) -> Vec<Option<NotCounted>> {
    f.found.iter().map(|a| a.not_counted.clone()).collect()
}

#[test]
fn a_declaration_outside_the_trailer_block_is_named_as_ignored_and_its_value_suggested() {
    let p = policy(
        "[[rule]]\nname = \"r\"\nrequire = { trailers = [{ key = \"AI-Assisted\", value = \"(?i)^(yes|no)$\" }] }\n",
    );
    // A middle paragraph, which git does not read as trailers.
    let c = by_carol(&p, "Change\n\nai-assisted: no\n\nMore about the change.\n");
    assert!(c.trailers.is_empty());
    match finding(evaluate(&p, "r", &c, Given::default())) {
        Finding::MissingTrailer(f) => {
            assert_eq!(f.found, Vec::<String>::new());
            assert_eq!(f.outside, ["ai-assisted: no"]);
            // What the pusher wrote comes first, if the rule accepts it.
            assert_eq!(&*f.accepted, ["no", "yes"]);
        }
        other => panic!("{other:?}"),
    }
    // A wrong value in the block and a line above it: only the line
    // outside the block is called outside.
    let c = by_carol(
        &p,
        "Change\n\nAI-Assisted: yes\n\nBody.\n\nAI-Assisted: maybe\n",
    );
    match finding(evaluate(&p, "r", &c, Given::default())) {
        Finding::MissingTrailer(f) => {
            assert_eq!(f.found, ["AI-Assisted: maybe"]);
            assert_eq!(f.outside, ["AI-Assisted: yes"]);
        }
        other => panic!("{other:?}"),
    }
    // A misplaced value is suggested only if it is safe to paste: the
    // author of a commit is not always the one who pastes the fix.
    let any = policy("[[rule]]\nname = \"r\"\nrequire = { trailers = [{ key = \"Ticket\" }] }\n");
    let c = by_carol(
        &any,
        "Change\n\nTicket: T-1\"; touch pwned; echo \"\n\nBody.\n",
    );
    match finding(evaluate(&any, "r", &c, Given::default())) {
        Finding::MissingTrailer(f) => {
            assert_eq!(f.outside.len(), 1);
            assert!(f.accepted.is_empty(), "{:?}", f.accepted);
        }
        other => panic!("{other:?}"),
    }
    let c = by_carol(&any, "Change\n\nTicket: T-1\n\nBody.\n");
    match finding(evaluate(&any, "r", &c, Given::default())) {
        Finding::MissingTrailer(f) => assert_eq!(&*f.accepted, ["T-1"]),
        other => panic!("{other:?}"),
    }
    // No such line: nothing outside.
    let c = by_carol(&p, "Change\n\nBody.\n");
    match finding(evaluate(&p, "r", &c, Given::default())) {
        Finding::MissingTrailer(f) => assert!(f.outside.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_violation_of_a_rule_about_ai_names_the_declaration_or_mark_that_made_it_apply() {
    use trailgate::verdict::AiMark;
    let p = approvals(1, "trailer");
    let detected = |c: &CommitFacts| match evaluate(&p, "r", c, Given::default()) {
        Outcome::Fail { detected, .. } => detected,
        other => panic!("{other:?}"),
    };
    let declared = by_carol(&p, &ai(&[]));
    assert_eq!(
        detected(&declared),
        Some(AiMark::Declared("AI-Assisted: yes".into()))
    );
    let marked = by_carol(
        &p,
        "Change\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n",
    );
    assert!(
        matches!(detected(&marked), Some(AiMark::Detected(hit)) if hit.contains("noreply@anthropic.com")),
        "{:?}",
        detected(&marked)
    );
}

#[test]
fn an_approval_from_a_group_member_counts() {
    let p = approvals(1, "trailer");
    for approver in [
        "Approved-By: Alice Senior <alice@example.com>",
        "Approved-By: bob@example.com",
        "Approved-By: alice",
        "Approved-By: alice-s",
        "approved-by: Anyone <ALICE@EXAMPLE.COM>",
    ] {
        let c = by_carol(&p, &ai(&[approver]));
        assert_eq!(
            evaluate(&p, "r", &c, Given::default()),
            Outcome::Pass,
            "{approver}"
        );
    }
}

#[test]
fn every_approval_that_does_not_count_says_why() {
    let p = approvals(1, "trailer");
    let c = by_carol(
        &p,
        &ai(&[
            "Approved-By: Someone Unknown",
            "Approved-By: Carol <carol@example.com>",
            "Approved-By: CI Bot <ci@bots.example>",
            "Approved-By: Dave <dave@example.com>",
            "Approved-By: Alice <alice@exmaple.com>",
        ]),
    );
    let f = missing_approval(evaluate(&p, "r", &c, Given::default()));
    assert_eq!(
        reasons(&f),
        vec![
            Some(NotCounted::NamesNobody { did_you_mean: None }),
            Some(NotCounted::IsTheAuthor),
            // Known to the policy (group bots, by a glob), not in `from`.
            Some(NotCounted::NotInGroups),
            // An address no person has and no group lists.
            Some(NotCounted::NamesNobody { did_you_mean: None }),
            // One edit from Alice's address.
            Some(NotCounted::NamesNobody {
                did_you_mean: Some("alice@example.com".into())
            }),
        ]
    );
    assert_eq!(f.found[0].approver, None);
    assert_eq!(f.found[2].approver.as_deref(), Some("<ci@bots.example>"));
    assert_eq!(f.need, 1);
    assert_eq!(&f.groups[..], ["senior"]);
    assert_eq!(&*f.trailer_key, "Approved-By");
}

#[test]
fn one_person_with_two_addresses_counts_once() {
    let p = approvals(2, "trailer");
    let c = by_carol(
        &p,
        &ai(&[
            "Approved-By: Alice <alice@example.com>",
            "Approved-By: Alice <alice@old.example.com>",
        ]),
    );
    let f = missing_approval(evaluate(&p, "r", &c, Given::default()));
    assert_eq!(reasons(&f), vec![None, Some(NotCounted::AlreadyCounted)]);
    let two = by_carol(
        &p,
        &ai(&[
            "Approved-By: Alice <alice@example.com>",
            "Approved-By: Bob <bob@example.com>",
        ]),
    );
    assert_eq!(evaluate(&p, "r", &two, Given::default()), Outcome::Pass);
}

#[test]
fn the_candidates_leave_out_the_author_and_give_a_trailer_to_paste() {
    let p = approvals(1, "trailer");
    let c = by_carol(&p, &ai(&[]));
    let f = missing_approval(evaluate(&p, "r", &c, Given::default()));
    assert_eq!(
        &f.candidates[..],
        ["alice (Alice Senior)", "<bob@example.com>"]
    );
    assert_eq!(f.candidates_total, 2);
    assert_eq!(
        f.example.as_deref(),
        Some("Alice Senior <alice@example.com>")
    );
    assert!(f.found.is_empty());
    // Alice is not asked to approve her own commit.
    let by_alice = commit(&p, "Alice <alice@example.com>", 1, &ai(&[]));
    let f = missing_approval(evaluate(&p, "r", &by_alice, Given::default()));
    assert_eq!(&f.candidates[..], ["<bob@example.com>"]);
    assert_eq!(f.example.as_deref(), Some("Name <bob@example.com>"));
}

#[test]
fn under_proof_pusher_the_senior_who_pushes_is_the_approval_and_no_trailer_counts() {
    let p = approvals(1, "pusher");
    let c = by_carol(&p, &ai(&["Approved-By: Alice <alice@example.com>"]));
    let alice = pusher("alice-s");
    let carol = pusher("carol");
    let given = |p| Given {
        pusher: p,
        ..Given::default()
    };
    assert_eq!(evaluate(&p, "r", &c, given(Some(&alice))), Outcome::Pass);
    // Alice's push approves without any trailer.
    let bare = by_carol(&p, &ai(&[]));
    assert_eq!(evaluate(&p, "r", &bare, given(Some(&alice))), Outcome::Pass);
    // Carol pushes a trailer naming Alice: neither counts.
    let f = missing_approval(evaluate(&p, "r", &c, given(Some(&carol))));
    assert_eq!(f.proof, Proofs::only(Proof::Pusher));
    assert_eq!(
        reasons(&f),
        vec![
            Some(NotCounted::NamesNobody { did_you_mean: None }),
            Some(NotCounted::TrailerIsNoProof)
        ]
    );
    assert_eq!(f.found[0].via, Via::Push);
    assert_eq!(f.found[0].approver.as_deref(), Some("carol (REMOTE_USER)"));
    let f = missing_approval(evaluate(&p, "r", &c, given(None)));
    assert_eq!(
        reasons(&f)[0],
        Some(NotCounted::NoPusher {
            looked_at: vec!["GL_USERNAME".into(), "REMOTE_USER".into()]
        })
    );
    // Alice pushing her own commit is no approval of it.
    let hers = commit(&p, "Alice <alice@example.com>", 1, &ai(&[]));
    let f = missing_approval(evaluate(&p, "r", &hers, given(Some(&alice))));
    assert_eq!(reasons(&f), vec![Some(NotCounted::IsTheAuthor)]);
    assert_eq!(&f.candidates[..], ["<bob@example.com>"]);
}

#[test]
fn under_proof_pusher_only_people_a_host_can_name_are_suggested() {
    let p = rules::parse(
        std::path::Path::new("p.toml"),
        &format!(
            "version = 1\n{}\n[[rule]]\nname = \"r\"\nwhen = {{ ai_assisted = true }}\nrequire = {{ approvals = {{ from = [\"senior\"], proof = \"pusher\" }} }}\n",
            PEOPLE.replace("logins = [\"bob\"]", "")
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let f = missing_approval(evaluate(&p, "r", &by_carol(&p, &ai(&[])), Given::default()));
    assert_eq!(&f.candidates[..], ["alice (Alice Senior)"]);
}

fn signature_policy() -> Policy {
    // Signature proof needs somebody with a key.
    let key =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINGFnJxWTbBTmBAyt4l0hjTip95xoLPJR5Y+/IEO4jOC alice";
    let text = "[[rule]]\nname = \"r\"\nwhen = { ai_assisted = true }\nrequire = { approvals = { from = [\"senior\"], proof = \"signature\" } }\n";
    let with_key = PEOPLE.replace(
        "logins = [\"alice-s\"]",
        &format!("logins = [\"alice-s\"]\nssh_keys = [\"{key}\"]"),
    );
    match rules::parse(
        std::path::Path::new("p.toml"),
        &format!("version = 1\n{with_key}\n{text}"),
    ) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn under_proof_signature_the_signature_is_asked_for_and_must_be_the_approvers() {
    let p = signature_policy();
    let c = by_carol(&p, &ai(&["Approved-By: Alice <alice@example.com>"]));
    assert_eq!(
        evaluate(&p, "r", &c, Given::default()),
        Outcome::Needs(Needs {
            diff: None,
            signature: true,
            merge_signers: true
        })
    );
    let good = |person| SigStatus::Good {
        person,
        fingerprint: "SHA256:x".into(),
    };
    let by_alice = good(ALICE);
    fn given<'a>(sig: &'a SigStatus, signers: &'a [usize]) -> Given<'a> {
        Given {
            signature: Some(sig),
            merge_signers: Some(signers),
            ..Given::default()
        }
    }
    assert_eq!(evaluate(&p, "r", &c, given(&by_alice, &[])), Outcome::Pass);
    // Bob's signature is Bob's approval, whoever the trailer names.
    let by_bob = good(BOB);
    assert_eq!(evaluate(&p, "r", &c, given(&by_bob, &[])), Outcome::Pass);
    // Unsigned, the trailer alone counts for nothing.
    let f = missing_approval(evaluate(&p, "r", &c, given(&SigStatus::Unsigned, &[])));
    assert_eq!(
        reasons(&f),
        vec![
            Some(NotCounted::NotSigned {
                signature: Signature::Unsigned
            }),
            Some(NotCounted::TrailerIsNoProof)
        ]
    );
    // A signed merge of Alice's that brings the commit in approves it,
    // trailer or not.
    let bare = by_carol(&p, &ai(&[]));
    assert_eq!(
        evaluate(&p, "r", &bare, given(&SigStatus::Unsigned, &[ALICE])),
        Outcome::Pass
    );
    // But not a commit Alice wrote herself.
    let hers = commit(&p, "Alice <alice@example.com>", 1, &ai(&[]));
    let f = missing_approval(evaluate(
        &p,
        "r",
        &hers,
        given(&SigStatus::Unsigned, &[ALICE]),
    ));
    assert_eq!(
        reasons(&f),
        vec![
            Some(NotCounted::NotSigned {
                signature: Signature::Unsigned
            }),
            Some(NotCounted::IsTheAuthor)
        ],
        "the author's own merge is no approval"
    );
}

#[test]
fn a_required_trailer_lists_what_was_there() {
    let p = policy(
        "[[rule]]\nname = \"r\"\nrequire = { trailers = [{ key = \"AI-Assisted\", value = \"(?i)^(yes|no)$\" }, { key = \"Ticket\" }] }\n",
    );
    let c = by_carol(&p, "Change\n\nai-assisted: maybe\nTicket: T-1\n");
    assert_eq!(
        finding(evaluate(&p, "r", &c, Given::default())),
        Finding::MissingTrailer(MissingTrailer {
            key: "AI-Assisted".into(),
            pattern: Some("(?i)^(yes|no)$".into()),
            found: vec!["ai-assisted: maybe".into()],
            outside: vec![],
            // The values a fix may suggest, derived from the pattern.
            accepted: vec!["yes".to_owned(), "no".to_owned()].into(),
        })
    );
    let both = by_carol(&p, "Change\n\nAI-Assisted: No\nticket: T-1\n");
    assert_eq!(evaluate(&p, "r", &both, Given::default()), Outcome::Pass);
    // Both missing: two findings, in the order written.
    let neither = by_carol(&p, "Change\n");
    let keys: Vec<String> = findings(evaluate(&p, "r", &neither, Given::default()))
        .into_iter()
        .map(|f| match f {
            Finding::MissingTrailer(t) => t.key,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(keys, ["AI-Assisted", "Ticket"]);
}

#[test]
fn signed_asks_for_the_signature_and_needs_a_persons_key() {
    let p = policy("[[rule]]\nname = \"s\"\nrequire = { signed = true }\n");
    let c = by_carol(&p, "Change\n");
    assert!(matches!(
        evaluate(&p, "s", &c, Given::default()),
        Outcome::Needs(Needs {
            signature: true,
            ..
        })
    ));
    let with = |sig: &SigStatus| {
        evaluate(
            &p,
            "s",
            &c,
            Given {
                signature: Some(sig),
                ..Given::default()
            },
        )
    };
    assert_eq!(
        with(&SigStatus::Good {
            person: BOB,
            fingerprint: "f".into()
        }),
        Outcome::Pass
    );
    assert_eq!(
        finding(with(&SigStatus::UnknownKey {
            fingerprint: "SHA256:k".into()
        })),
        Finding::Unsigned(Unsigned {
            signature: Signature::UnknownKey {
                fingerprint: "SHA256:k".into()
            }
        })
    );
    assert_eq!(
        finding(with(&SigStatus::Unsupported { kind: "OpenPGP" })),
        Finding::Unsigned(Unsigned {
            signature: Signature::Unsupported {
                format: "OpenPGP".into()
            }
        })
    );
    // `signed = false` requires nothing: the rule checks nothing.
    let text =
        format!("version = 1\n{PEOPLE}\n[[rule]]\nname = \"s\"\nrequire = {{ signed = false }}\n");
    let err = rules::parse(std::path::Path::new("p.toml"), &text).unwrap_err();
    assert!(err.to_string().contains("checks nothing"), "{err}");
}

fn limits(require: &str) -> Policy {
    policy(&format!(
        "[[rule]]\nname = \"r\"\nwhen = {{ ai_assisted = true }}\nrequire = {{ {require} }}\n"
    ))
}

fn over_limits(outcome: Outcome) -> Vec<OverLimit> {
    findings(outcome)
        .into_iter()
        .map(|f| match f {
            Finding::OverLimit(o) => o,
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn each_limit_is_checked_on_the_diff_it_asks_for() {
    let p = limits(
        "max_files_changed = 6, max_files_deleted = 5, max_lines_added = 10, max_lines_deleted = 10, max_lines_changed = 15",
    );
    let c = by_carol(&p, &ai(&[]));
    assert_eq!(
        evaluate(&p, "r", &c, Given::default()),
        Outcome::Needs(Needs {
            diff: Some(DiffNeed::Lines),
            ..Needs::default()
        })
    );
    let files: Vec<(String, ChangeKind, u64, u64)> = (0..7)
        .map(|i| (format!("gone/f{i}.txt"), ChangeKind::Deleted, 0, 2))
        .chain([("new.txt".to_owned(), ChangeKind::Added, 12, 0)])
        .collect();
    let refs: Vec<(&str, ChangeKind, u64, u64)> = files
        .iter()
        .map(|(p, k, a, d)| (p.as_str(), *k, *a, *d))
        .collect();
    let d = diff(&refs);
    let given = Given {
        diff: Some(&d),
        ..Given::default()
    };
    let over = over_limits(evaluate(&p, "r", &c, given));
    let got: Vec<(Limit, u64, u64)> = over.iter().map(|o| (o.limit, o.actual, o.max)).collect();
    assert_eq!(
        got,
        [
            (Limit::FilesChanged, 8, 6),
            (Limit::FilesDeleted, 7, 5),
            (Limit::LinesAdded, 12, 10),
            (Limit::LinesDeleted, 14, 10),
            (Limit::LinesChanged, 26, 15),
        ]
    );
    // The first five offending paths, and how many more.
    assert_eq!(over[1].paths.len(), 5);
    assert_eq!(over[1].paths[0], "gone/f0.txt");
    assert_eq!(over[1].more_paths, 2);
    assert_eq!((over[4].added, over[4].deleted), (Some(12), Some(14)));
    assert!(over[0].scope.ai_assisted && !over[0].scope.merge);
    // At the limit is within it.
    let small = diff(&[("a.txt", ChangeKind::Modified, 10, 5)]);
    let given = Given {
        diff: Some(&small),
        ..Given::default()
    };
    assert_eq!(evaluate(&p, "r", &c, given), Outcome::Pass);
}

#[test]
fn a_paths_limit_asks_only_for_paths_and_measures_merges_too() {
    let p = limits("max_files_changed = 1");
    let c = by_carol(&p, &ai(&[]));
    assert_eq!(
        evaluate(&p, "r", &c, Given::default()),
        Outcome::Needs(Needs {
            diff: Some(DiffNeed::Paths),
            ..Needs::default()
        })
    );
    let merge = commit(&p, "Carol <carol@example.com>", 2, &ai(&[]));
    assert!(
        matches!(
            evaluate(&p, "r", &merge, Given::default()),
            Outcome::Needs(_)
        ),
        "a merge's own diff is measured"
    );
    // So does a rule about merges.
    let p = policy(
        "[[rule]]\nname = \"r\"\nwhen = { merge = true }\nrequire = { max_files_changed = 1 }\n",
    );
    let merge = commit(&p, "Carol <carol@example.com>", 2, "Merge\n");
    let d = diff(&[
        ("a", ChangeKind::Modified, 1, 0),
        ("b", ChangeKind::Modified, 1, 0),
    ]);
    let over = over_limits(evaluate(
        &p,
        "r",
        &merge,
        Given {
            diff: Some(&d),
            ..Given::default()
        },
    ));
    assert!(over[0].scope.merge, "{over:?}");
}

#[test]
fn a_net_change_is_measured_as_a_whole() {
    let p =
        policy("[[rule]]\nname = \"net\"\nper = \"push\"\nrequire = { max_files_deleted = 1 }\n");
    let pushed = PushedBy::new(&p, None, LOOKED_AT);
    let d = diff(&[
        ("a", ChangeKind::Deleted, 0, 1),
        ("b", ChangeKind::Deleted, 0, 1),
    ]);
    let (base, new) = (id(), id());
    let outcome = rules::evaluate(
        rule(&p, "net"),
        &Input {
            policy: &p,
            subject: Subject::NetChange {
                base: Some(base),
                new,
            },
            diff: Some(&d),
            signature: None,
            merge_signers: None,
            pushed: &pushed,
        },
    );
    match finding(outcome) {
        Finding::NetChangeOverLimit(f) => {
            assert_eq!((f.base, f.new), (Some(base), new));
            assert_eq!(f.limits.len(), 1);
            assert_eq!((f.limits[0].actual, f.limits[0].max), (2, 1));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_findings_of_one_commit_come_in_the_order_of_the_requirement_kinds() {
    let p = policy(
        "[[rule]]\nname = \"r\"\nrequire = { max_files_changed = 0, trailers = [{ key = \"Ticket\" }], approvals = { from = [\"senior\"] } }\n",
    );
    let c = by_carol(&p, "Change\n");
    let d = diff(&[("a", ChangeKind::Modified, 1, 0)]);
    let kinds: Vec<&str> = findings(evaluate(
        &p,
        "r",
        &c,
        Given {
            diff: Some(&d),
            ..Given::default()
        },
    ))
    .iter()
    .map(Finding::kind)
    .collect();
    assert_eq!(kinds, ["missing_approval", "missing_trailer", "over_limit"]);
}
