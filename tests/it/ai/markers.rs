//! `ai.markers`: an organisation's own marks, one of each kind, working with
//! the built-ins turned off.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

const CAROL: Who = ("Carol", "carol@example.com");

const MARKERS: &str = r#"detect = "off"
markers = [
  { trailer = "Intern-Bot" },
  { trailer = "X-Generator", value = "(?i)^internal-gpt\\b" },
  { author = "(?i)@agents\\.example\\.com$" },
  { message = "(?m)^Drafted by InternalGPT" },
]"#;

const EVIDENCE: &str = "ai.markers in the policy";

const CASES: &[Case] = &[
    Case {
        slug: "trailer-key",
        author: CAROL,
        committer: CAROL,
        message: "Add the invoice exporter\n\nIntern-Bot: v2\n",
        tool: EVIDENCE,
        matched: "trailer `Intern-Bot: v2`",
    },
    Case {
        slug: "trailer-value",
        author: CAROL,
        committer: CAROL,
        message: "Speed up the importer\n\nX-Generator: internal-gpt 3.1\n",
        tool: EVIDENCE,
        matched: "trailer `X-Generator: internal-gpt 3.1`",
    },
    Case {
        slug: "author-email",
        author: ("Build Agent", "builder@agents.example.com"),
        committer: ("Build Agent", "builder@agents.example.com"),
        message: "Regenerate the API client\n",
        tool: EVIDENCE,
        matched: "author `Build Agent <builder@agents.example.com>`",
    },
    Case {
        slug: "committer-email",
        author: CAROL,
        committer: ("Build Agent", "Builder@Agents.Example.com"),
        message: "Rebase the API client\n",
        tool: EVIDENCE,
        matched: "committer `Build Agent <Builder@Agents.Example.com>`",
    },
    Case {
        slug: "message",
        author: CAROL,
        committer: CAROL,
        message: "Summarise the incident\n\nDrafted by InternalGPT, edited by Carol.\n",
        tool: EVIDENCE,
        matched: "message text `Drafted by InternalGPT`",
    },
];

#[test]
fn policy_markers_of_each_kind_are_rejected_until_declared() {
    let w = World::with_policy(&detect_policy("", MARKERS));
    for case in CASES {
        run_case(&w, case);
    }
}

#[test]
fn policy_markers_do_not_fire_on_near_misses() {
    let w = World::with_policy(&detect_policy("", MARKERS));
    let near_misses: &[(Who, &str)] = &[
        (
            CAROL,
            "Hand-written importer\n\nX-Generator: hand-written\n",
        ),
        (
            CAROL,
            "Mention the tool\n\nWe evaluated InternalGPT; Drafted by InternalGPT is not this.\n",
        ),
        (
            ("Carol", "carol@agents.example.com.evil"),
            "Look-alike domain\n",
        ),
        // Built-ins are off: Claude's trailer is not a mark here.
        (
            CAROL,
            "Off\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n",
        ),
    ];
    for (i, &(who, message)) in near_misses.iter().enumerate() {
        let oid = commit_as(&w, &format!("near-{i}"), who, who, message);
        assert_eq!(facts(&w, &oid).ai_detected, None, "{message:?}");
        w.push(&["origin", &format!("HEAD:refs/heads/near-{i}")])
            .assert_accepted_silently();
    }
}
