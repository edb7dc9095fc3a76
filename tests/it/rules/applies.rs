//! Which rules judge a ref update (`rules::applies`: mode, refs, the pusher
//! conditions, `exempt.pushers`), what `deny` finds, and break-glass.

use trailgate::policy::DenyKind;
use trailgate::rules::{apply_override, deny, Applies, UpdateKind};
use trailgate::verdict::{
    CommitRef, DeniedUpdate, Finding, Judgement, NoPusher, Refusal, RepositoryUnknown, Violation,
};

use super::*;

const MAIN: &str = "refs/heads/main";

fn applies(p: &Policy, name: &str, refname: &str, who: Option<&Pusher>) -> Applies {
    let pushed = PushedBy::new(p, who, LOOKED_AT);
    rules::applies(rule(p, name), refname, &pushed, p)
}

#[test]
fn refs_globs_and_mode_decide_first() {
    let p = policy(
        "[[rule]]\nname = \"release\"\nrefs = [\"refs/heads/release/*\"]\ndeny = [\"delete\"]\n\
         [[rule]]\nname = \"off\"\nmode = \"off\"\ndeny = [\"delete\"]\n",
    );
    assert_eq!(
        applies(&p, "release", "refs/heads/release/1.0", None),
        Applies::Yes
    );
    // `*` stays inside one path segment.
    assert_eq!(
        applies(&p, "release", "refs/heads/release/1.0/hotfix", None),
        Applies::No
    );
    assert_eq!(applies(&p, "release", MAIN, None), Applies::No);
    assert_eq!(applies(&p, "off", MAIN, None), Applies::No);
}

#[test]
fn repos_cover_named_repositories_and_fail_where_the_name_is_unknown() {
    let p = policy(
        "[[rule]]\nname = \"pay\"\nrepos = [\"acme/payments\", \"infra/**\"]\ndeny = [\"delete\"]\n\
         [[rule]]\nname = \"all\"\ndeny = [\"delete\"]\n\
         [[rule]]\nname = \"pay-exempt\"\nrepos = [\"acme/*\"]\ndeny = [\"delete\"]\n\
         exempt = { pushers = [\"senior\"] }\n",
    );
    let to = |name: Option<&'static str>, rule_name: &str, who: Option<&Pusher>| {
        let pushed = PushedBy::new(&p, who, LOOKED_AT).to_repository(rules::Where {
            name,
            looked_at: &["GL_PROJECT_PATH"],
        });
        rules::applies(rule(&p, rule_name), MAIN, &pushed, &p)
    };
    assert_eq!(to(Some("acme/payments"), "pay", None), Applies::Yes);
    assert_eq!(to(Some("infra/dns/zones"), "pay", None), Applies::Yes);
    assert_eq!(to(Some("acme/web"), "pay", None), Applies::No);
    assert_eq!(to(Some("acme/payments/x"), "pay", None), Applies::No);
    // No `repos`: every repository, a nameless one too.
    assert_eq!(to(None, "all", None), Applies::Yes);
    let unknown = Applies::Fails(Finding::RepositoryUnknown(RepositoryUnknown {
        looked_at: vec!["GL_PROJECT_PATH".into()],
        repos_root: None,
    }));
    assert_eq!(to(None, "pay", None), unknown);
    // Not even an exempt pusher skips a rule whose repository is unknown:
    // the exemption is granted for the repositories the rule names.
    let alice = pusher("alice-s");
    assert_eq!(
        to(Some("acme/web"), "pay-exempt", Some(&alice)),
        Applies::No
    );
    assert_eq!(to(None, "pay-exempt", Some(&alice)), unknown);
}

#[test]
fn pusher_conditions_need_a_pusher_and_fail_without_one() {
    let p = policy(
        "[[rule]]\nname = \"in\"\nwhen = { pusher_in = [\"senior\"] }\ndeny = [\"delete\"]\n\
         [[rule]]\nname = \"not-in\"\nwhen = { pusher_not_in = [\"senior\"] }\ndeny = [\"delete\"]\n",
    );
    let (alice, carol, stranger) = (pusher("alice-s"), pusher("carol"), pusher("zed"));
    assert_eq!(applies(&p, "in", MAIN, Some(&alice)), Applies::Yes);
    assert_eq!(applies(&p, "in", MAIN, Some(&carol)), Applies::No);
    assert_eq!(applies(&p, "not-in", MAIN, Some(&carol)), Applies::Yes);
    assert_eq!(applies(&p, "not-in", MAIN, Some(&alice)), Applies::No);
    // A login the policy does not know is in no group.
    assert_eq!(applies(&p, "in", MAIN, Some(&stranger)), Applies::No);
    assert_eq!(applies(&p, "not-in", MAIN, Some(&stranger)), Applies::Yes);
    let nobody = Applies::Fails(Finding::NoPusher(NoPusher {
        looked_at: vec!["GL_USERNAME".into(), "REMOTE_USER".into()],
    }));
    assert_eq!(applies(&p, "in", MAIN, None), nobody);
    assert_eq!(applies(&p, "not-in", MAIN, None), nobody);
}

#[test]
fn exempt_pushers_skip_the_rule_and_an_unknown_pusher_is_not_exempt() {
    let p = policy(
        "[[rule]]\nname = \"r\"\nexempt = { pushers = [\"senior\"] }\nrequire = { trailers = [{ key = \"Ticket\" }] }\n",
    );
    assert_eq!(applies(&p, "r", MAIN, Some(&pusher("bob"))), Applies::No);
    assert_eq!(applies(&p, "r", MAIN, Some(&pusher("carol"))), Applies::Yes);
    assert_eq!(applies(&p, "r", MAIN, None), Applies::Yes);
}

#[test]
fn a_signed_push_identifies_the_pusher_by_key_only() {
    let p = policy("");
    let by_key = Pusher {
        login: "SHA256:nobody".into(),
        email: None,
        source: "GIT_PUSH_CERT",
        by: Identified::SigningKey,
        user_id: None,
        host: "push-certificate",
    };
    assert_eq!(
        rules::identify_pusher(&p, &by_key),
        trailgate::facts::identity::Who::Unknown
    );
    // A login that happens to look like a person id is matched as a login.
    assert_eq!(
        rules::identify_pusher(&p, &pusher("bob")),
        trailgate::facts::identity::Who::Person(BOB)
    );
    // A certificate the hook has not verified, and a deploy key, name nobody.
    for by in [Identified::Certificate, Identified::DeployKey] {
        let p2 = Pusher {
            by,
            ..pusher("bob")
        };
        assert_eq!(
            rules::identify_pusher(&p, &p2),
            trailgate::facts::identity::Who::Unknown
        );
    }
}

#[test]
fn a_host_reported_email_identifies_only_under_trust_host_emails() {
    let gitea = Pusher {
        email: Some("bob@example.com".into()),
        source: "GITEA_PUSHER_NAME",
        host: "gitea",
        ..pusher("someone-else")
    };
    let p = policy("");
    assert_eq!(
        rules::identify_pusher(&p, &gitea),
        trailgate::facts::identity::Who::Unknown
    );
    let trusting = policy("[settings]\ntrust_host_emails = true\n");
    assert_eq!(
        rules::identify_pusher(&trusting, &gitea),
        trailgate::facts::identity::Who::Person(BOB)
    );
}

#[test]
fn deny_names_the_first_kind_that_forbids_the_update() {
    let p = policy(
        "[[rule]]\nname = \"protect\"\ndeny = [\"force-push\", \"delete\"]\n\
         [[rule]]\nname = \"frozen\"\ndeny = [\"update\", \"create\"]\n",
    );
    let denied = |name: &str, kind| {
        deny::check(rule(&p, name), kind).map(|f| match f {
            Finding::DeniedUpdate(DeniedUpdate { denied }) => denied,
            other => panic!("{other:?}"),
        })
    };
    assert_eq!(denied("protect", UpdateKind::FastForward), None);
    assert_eq!(
        denied("protect", UpdateKind::ForcePush),
        Some(DenyKind::ForcePush)
    );
    assert_eq!(
        denied("protect", UpdateKind::Delete),
        Some(DenyKind::Delete)
    );
    assert_eq!(denied("protect", UpdateKind::Create), None);
    // `update` covers every move of an existing ref, forced or not.
    assert_eq!(
        denied("frozen", UpdateKind::FastForward),
        Some(DenyKind::Update)
    );
    assert_eq!(
        denied("frozen", UpdateKind::ForcePush),
        Some(DenyKind::Update)
    );
    assert_eq!(denied("frozen", UpdateKind::Create), Some(DenyKind::Create));
    assert_eq!(denied("frozen", UpdateKind::Delete), None);
}

fn rejected() -> Judgement {
    Judgement {
        violations: vec![Violation {
            rule: "r".into(),
            refname: MAIN.into(),
            commit: Some(CommitRef {
                oid: id(),
                subject: "s".into(),
                tip: true,
            }),
            mode: trailgate::policy::Mode::Enforce,
            findings: vec![Finding::NoPusher(NoPusher { looked_at: vec![] })],
            detected: None,
            message: None,
        }],
        ..Judgement::default()
    }
}

fn override_policy() -> Policy {
    policy("[settings.override]\nby = [\"senior\"]\n")
}

fn try_override(who: Option<&Pusher>, options: &[&str]) -> Judgement {
    let p = override_policy();
    let mut j = rejected();
    let pushed = PushedBy::new(&p, who, LOOKED_AT);
    let options: Vec<String> = options.iter().map(|o| (*o).to_owned()).collect();
    apply_override(&mut j, &p, &pushed, &options);
    j
}

fn refusal(j: &Judgement) -> Refusal {
    match j.violations.last().map(|v| &v.findings[..]) {
        Some([Finding::OverrideRefused(f)]) => {
            assert_eq!(f.push_option, "trailgate.override");
            f.refusal.clone()
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_override_by_a_member_with_a_reason_lets_the_push_through() {
    let alice = pusher("alice-s");
    let j = try_override(Some(&alice), &["trailgate.override=INC-1: down"]);
    assert!(!j.rejects());
    let used = j.override_used.unwrap();
    assert_eq!(
        (used.by.as_str(), used.reason.as_str(), used.overridden),
        ("alice-s (REMOTE_USER)", "INC-1: down", 1)
    );
    // Not asked for: nothing happens.
    let j = try_override(Some(&alice), &["other=1"]);
    assert!(j.rejects() && j.override_used.is_none());
    assert_eq!(j.violations.len(), 1);
}

#[test]
fn an_override_is_refused_without_a_pusher_a_reason_or_membership() {
    let j = try_override(None, &["trailgate.override=x"]);
    assert!(j.rejects());
    assert_eq!(
        refusal(&j),
        Refusal::NoPusher {
            looked_at: vec!["GL_USERNAME".into(), "REMOTE_USER".into()]
        }
    );
    let alice = pusher("alice-s");
    let j = try_override(Some(&alice), &["trailgate.override="]);
    assert_eq!(
        refusal(&j),
        Refusal::NoReason {
            pusher: "alice-s (REMOTE_USER)".into()
        }
    );
    let carol = pusher("carol");
    let j = try_override(Some(&carol), &["trailgate.override=please"]);
    assert_eq!(
        refusal(&j),
        Refusal::NotAllowed {
            pusher: "carol (REMOTE_USER)".into(),
            groups: vec!["senior".into()]
        }
    );
    assert_eq!(j.violations.last().unwrap().rule, "override");
}
