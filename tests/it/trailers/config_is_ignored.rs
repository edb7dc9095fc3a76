//! README "Trailers": trailgate reads trailers as git does under an *empty*
//! configuration, so that a repository's `core.commentChar` or `trailer.*`
//! settings cannot change what the policy sees. Each case below is one where
//! such a setting does change git's own answer; trailgate must keep the
//! empty-configuration answer regardless.

use trailgate::facts::trailers::{from_commit_message, from_text, render};

use super::git::{escaped, Git};

struct Case {
    config: &'static [&'static str],
    message: &'static [u8],
    /// git's answer with an empty configuration, which trailgate must give.
    empty_config_answer: &'static [u8],
}

const CASES: &[Case] = &[
    // With `;` as comment character the `;` line is a comment and the
    // paragraph is all trailers; by default it is prose and there are none.
    Case {
        config: &["core.commentChar=;"],
        message: b"Subject\n\nAI-Assisted: yes\n; reviewed by nobody\n",
        empty_config_answer: b"",
    },
    // The reverse: a `#` line stops being a comment, so it becomes prose.
    Case {
        config: &["core.commentChar=;"],
        message: b"Subject\n\nAI-Assisted: yes\n# note\nApproved-By: Alice\n",
        empty_config_answer: b"AI-Assisted: yes\nApproved-By: Alice\n",
    },
    // Extra separators turn `Bug #42` into a trailer.
    Case {
        config: &["trailer.separators=:#"],
        message: b"Subject\n\nBug #42\nAI-Assisted: yes\n",
        empty_config_answer: b"",
    },
    // A configured key counts like a git-generated prefix for the 25% rule.
    Case {
        config: &["trailer.approved.key=Approved-By"],
        message: b"Subject\n\nThis was approved\nafter a long\ndiscussion.\nApproved-By: Alice\n",
        empty_config_answer: b"",
    },
    // A configured key rewrites the key git prints.
    Case {
        config: &["trailer.ai.key=AI-Assisted"],
        message: b"Subject\n\nai: yes\n",
        empty_config_answer: b"ai: yes\n",
    },
];

fn rendered(trailers: &[trailgate::facts::trailers::Trailer<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    render(trailers, &mut out);
    out
}

#[test]
fn comment_char_and_trailer_config_change_git_but_not_trailgate() {
    let git = Git::new();
    let messages: Vec<Vec<u8>> = CASES.iter().map(|c| c.message.to_vec()).collect();
    let ids = git.write_messages(&messages, None);
    let plain_log = git.log(&[], &ids, "%(trailers:only,unfold)");

    for (case, id) in CASES.iter().zip(&ids) {
        let what = format!("{:?} on {}", case.config, escaped(case.message));

        // The expected answer really is git's, under an empty configuration.
        assert_eq!(
            git.interpret_trailers(&[], case.message),
            case.empty_config_answer,
            "{what}"
        );
        assert_eq!(plain_log[id], case.empty_config_answer, "{what}");

        // The setting matters to git, in both commands...
        let configured = git.interpret_trailers(case.config, case.message);
        assert_ne!(
            configured, case.empty_config_answer,
            "{what}: setting made no difference to git"
        );
        let configured_log = git.log(
            case.config,
            std::slice::from_ref(id),
            "%(trailers:only,unfold)",
        );
        assert_ne!(
            configured_log[id], case.empty_config_answer,
            "{what}: setting made no difference to git log"
        );

        // ...and not at all to trailgate, which has no way to be told about it.
        assert_eq!(
            rendered(&from_text(case.message)),
            case.empty_config_answer,
            "{what}"
        );
        assert_eq!(
            rendered(&from_commit_message(case.message)),
            case.empty_config_answer,
            "{what}"
        );
    }
}
