//! Loading a policy to judge with: the policy module validates the file,
//! the requirement kinds build each rule's `require` table, and the checks
//! that span both (a rule that checks nothing, `deny` mixed with commit
//! conditions, `per = "push"` with per-commit requirements) run here. Every
//! problem of all three is reported together, in the order of the file.

use std::path::Path;

use toml::de::DeValue;
use toml::Spanned;

use crate::policy::{self, PolicyError, Validator};

use super::require::{self, Build, Requires};
use super::{when, Policy};
use crate::policy::Per;

/// Reads and validates a policy file (and its directory file) completely.
pub fn load(path: &Path) -> Result<Policy, PolicyError> {
    let text = policy::read(path)?;
    parse(path, &text)
}

/// [`load`] for judging a push (hook mode, `verify`): the directory file's
/// keys are parsed when a signature needs them, not at start-up.
pub fn load_for_judging(path: &Path) -> Result<Policy, PolicyError> {
    let text = policy::read(path)?;
    parse_with(path, &text, false)
}

/// Validates policy text; `path` is only used in messages.
pub fn parse(path: &Path, text: &str) -> Result<Policy, PolicyError> {
    parse_with(path, text, true)
}

fn parse_with(path: &Path, text: &str, thorough: bool) -> Result<Policy, PolicyError> {
    let (policy, mut problems, doc) = policy::validate_with(path, text, thorough)?;
    let mut v = Validator::new(text);
    v.directory_failed(policy.settings.directory_unusable);
    let sources: Vec<Option<&Spanned<DeValue<'_>>>> = policy
        .rules
        .iter()
        .map(|rule| {
            rule.require
                .span
                .as_ref()
                .and_then(|_| require_value(&doc, rule.require.index))
        })
        .collect();
    let mut requires: Vec<Requires> = Vec::new();
    // Rules whose `require` table has problems of its own: that it then
    // checks nothing is no news.
    let mut unreadable: Vec<bool> = Vec::new();
    for source in sources {
        let before = v.count();
        let mut cx = Build {
            problems: &mut v,
            directory: &policy.directory,
            keys: &policy.keys,
            trailers: &policy.trailers,
        };
        requires.push(require::build(source, &mut cx));
        unreadable.push(v.count() > before);
    }
    let mut requires = requires.into_iter();
    let proven = policy.settings.identity == policy::Identity::Proven;
    let policy = policy.map_rules(|rule| {
        let mut rule = rule.map_require(|_| requires.next().unwrap_or_default());
        rule.proven_identity = proven || rule.require.proves_identity();
        rule
    });
    for (rule, unreadable) in policy.rules.iter().zip(unreadable) {
        let name = &rule.name;
        if !rule.deny.is_empty() && when::on_commits(rule) {
            v.error(
                rule.span.clone(),
                format!("rule `{name}` mixes `deny` (which judges ref updates) with conditions on commits in `when`; split it into two rules"),
            );
        }
        if rule.deny.is_empty() && rule.require.is_empty() && !unreadable {
            v.error(
                rule.name_span.clone(),
                format!("rule `{name}` checks nothing: give it a `require` table or a `deny` list"),
            );
        }
        if rule.per == Per::Push && rule.require.iter().any(|r| !r.judges_net_change()) {
            if let Some(span) = &rule.per_span {
                v.error(
                    span.clone(),
                    "`per = \"push\"` judges the net change of a ref update, so it takes only size limits (`max_*`); approvals, trailers and signatures are required per commit: put them in a rule of their own",
                );
            }
        }
    }
    problems.extend(v.into_problems());
    if problems.is_empty() {
        Ok(policy)
    } else {
        Err(policy::invalid(path, problems))
    }
}

/// The `require` value of the `index`-th `[[rule]]` of a document.
fn require_value<'d, 'i>(
    doc: &'d policy::Document<'i>,
    index: usize,
) -> Option<&'d Spanned<DeValue<'i>>> {
    let (_, rules) = doc
        .get_ref()
        .iter()
        .find(|(key, _)| key.get_ref().as_ref() == "rule")?;
    let rule = rules.get_ref().as_array()?.get(index)?;
    rule.get_ref()
        .as_table()?
        .iter()
        .find(|(key, _)| key.get_ref().as_ref() == "require")
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Mode, Problem};

    fn problems(text: &str) -> Vec<Problem> {
        match parse(Path::new("p.toml"), text) {
            Err(PolicyError::Invalid { problems, .. }) => problems,
            Ok(_) => panic!("policy was accepted"),
            Err(e) => panic!("unexpected error {e}"),
        }
    }

    const PEOPLE: &str = "version = 1\n[people.alice]\nemails = [\"alice@example.com\"]\n[groups]\nsenior = [\"alice\"]\n";

    #[test]
    fn a_minimal_policy_loads_with_defaults() {
        let p = parse(Path::new("p.toml"), "version = 1\n").unwrap();
        assert_eq!(p.settings.mode, Mode::Enforce);
        assert_eq!(p.trailers.approval, vec!["Approved-By".to_owned()]);
        assert!(p.rules.is_empty());
    }

    #[test]
    fn unknown_keys_are_errors_with_line_and_column() {
        let p = problems("version = 1\n[[rule]]\nname = \"x\"\nrequier = {}\n");
        assert_eq!((p[0].line, p[0].column), (4, 1), "{p:?}");
        assert!(p[0].message.contains("requier"), "{p:?}");
    }

    #[test]
    fn every_semantic_problem_is_collected() {
        let text = format!(
            "{PEOPLE}[[rule]]\nname = \"a\"\nwhen = {{ author_in = [\"nobody\"], message = \"(\" }}\nrequire = {{ approvals = {{ from = [\"senior\"] }} }}\n[[rule]]\nname = \"a\"\nrefs = [\"main\"]\ndeny = [\"delete\"]\n"
        );
        let p = problems(&text);
        let lines: Vec<usize> = p.iter().map(|p| p.line).collect();
        assert_eq!(p.len(), 4, "{p:#?}");
        assert!(p
            .iter()
            .any(|p| p.message.contains("unknown group `nobody`")));
        assert!(p.iter().any(|p| p.message.contains("invalid regex")));
        assert!(p.iter().any(|p| p.message.contains("duplicate rule name")));
        assert!(p.iter().any(|p| p.message.contains("refs/heads/main")));
        assert!(lines.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn huge_regexes_are_refused() {
        let text = format!("{PEOPLE}[[rule]]\nname = \"a\"\nwhen = {{ message = \"(a{{1000}}){{1000}}\" }}\nrequire = {{ trailers = [{{ key = \"X\" }}] }}\n");
        let p = problems(&text);
        assert!(p[0].message.contains("too large"), "{p:?}");
    }

    #[test]
    fn rules_that_can_never_apply_are_errors() {
        let text = format!("{PEOPLE}[[rule]]\nname = \"a\"\nrefs = []\ndeny = [\"delete\"]\n[[rule]]\nname = \"b\"\nrequire = {{ approvals = {{ from = [\"senior\"], count = 2 }} }}\n[[rule]]\nname = \"c\"\n");
        let p = problems(&text);
        assert_eq!(p.len(), 3, "{p:#?}");
        assert!(p[0].message.contains("matches no ref"));
        assert!(p[1].message.contains("only 1 member"));
        assert!(p[2].message.contains("checks nothing"));
    }

    #[test]
    fn a_count_the_proof_cannot_reach_is_an_error_at_the_proof() {
        let rule = |approvals: &str| {
            format!(
                "{PEOPLE}[[rule]]\nname = \"a\"\nrequire = {{ approvals = {{ {approvals} }} }}\n"
            )
        };
        // Nobody has a key: no signature can ever count.
        let p = problems(&rule("from = [\"senior\"], proof = \"signature\""));
        assert_eq!(p.len(), 1, "{p:#?}");
        assert!(
            p[0].message.contains("at most 0 can ever be counted"),
            "{p:?}"
        );
        assert!(p[0].message.contains("ssh_keys"), "{p:?}");
        assert_eq!((p[0].line, p[0].column), (8, 54), "{p:?}");
        // An empty list names no proof at all: one error, not two.
        let p = problems(&rule("from = [\"senior\"], proof = []"));
        assert_eq!(p.len(), 1, "{p:#?}");
        assert!(p[0].message.contains("empty list"), "{p:?}");
        // Alice has no login nor key: no host could name her as the pusher.
        let p = problems(&rule("from = [\"senior\"], proof = [\"pusher\"]"));
        assert!(
            p[0].message.contains("no member of `from` has a login"),
            "{p:?}"
        );
    }

    #[test]
    fn identity_settings_and_user_ids_are_checked() {
        let p = parse(
            Path::new("p.toml"),
            "version = 1\n[settings]\nidentity = \"proven\"\nhost = \"gitea\"\ntrust_host_emails = true\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.settings.identity, policy::Identity::Proven);
        assert_eq!(p.settings.host.as_deref(), Some("gitea"));
        assert!(p.settings.trust_host_emails);
        let p = problems("version = 1\n[settings]\nhost = \"gitbucket\"\n");
        assert_eq!((p[0].line, p[0].column), (3, 8), "{p:?}");
        assert!(p[0].message.contains("\"gitlab\", \"github\""), "{p:?}");
        let p = problems("version = 1\n[settings]\nidentity = \"maybe\"\n");
        assert_eq!(p[0].line, 3, "{p:?}");
        let p = problems(
            "version = 1\n[people.a]\nuser_ids = [\"gitlab:user-1\", \"github:2\"]\n[people.b]\nuser_ids = [\"gitlab:user-1\"]\n",
        );
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(
            p[0].message.contains("`github:2` is not `HOST:ID`"),
            "{p:?}"
        );
        assert!(
            p[1].message.contains("already belongs to person `a`"),
            "{p:?}"
        );
    }

    #[test]
    fn ref_globs_keep_star_inside_one_segment() {
        let text = format!("{PEOPLE}[[rule]]\nname = \"a\"\nrefs = [\"refs/heads/release/*\", \"refs/tags/**\"]\ndeny = [\"delete\"]\n");
        let p = parse(Path::new("p.toml"), &text).unwrap();
        let r = &p.rules[0];
        assert!(r.applies_to("refs/heads/release/1.0"));
        assert!(!r.applies_to("refs/heads/release/1.0/hotfix"));
        assert!(r.applies_to("refs/tags/v1/rc/2"));
        assert!(!r.applies_to("refs/heads/main"));
    }
}
