//! The policy: loading the TOML file, validating it once, and the typed
//! [`Policy`] that evaluation works on.
//!
//! Loading has two phases. [`raw`] deserializes the file with every table
//! closed to unknown keys (a misspelled key is an error, never ignored); this
//! module then checks everything serde cannot (groups and people that exist,
//! regexes and globs that compile, unique rule names, rules that can apply)
//! and collects every problem with its `file:line:column` before giving up.
//! Evaluation never sees TOML.

mod globs;
pub mod raw;
mod rule;
mod validate;

pub use globs::{Globs, PathPatterns, RefPatterns};
pub use rule::{Approvals, DiffNeed, Limits, Require, Rule, TrailerRequirement, When};
use validate::Validator;
pub use validate::{valid_rule_name, valid_trailer_key};

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::facts::ai::Marker;
use crate::facts::identity::{Directory, GroupId};
use crate::facts::signature::KeyRing;
pub use raw::{DenyKind, Mode, Per, Proof};

/// Compiled regexes may not grow beyond this; `(a{1000}){1000}` is refused
/// at load time instead of eating the server's memory at push time.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Largest policy file read.
const MAX_POLICY_BYTES: u64 = 32 << 20;

/// Where the hook looks for a policy when `--config` is not given.
pub const SYSTEM_POLICY: &str = "/etc/trailgate/policy.toml";

/// One problem found in a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Why a policy could not be loaded.
#[derive(Debug, Error)]
pub enum PolicyError {
    #[error("cannot read policy file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", render_problems(path, problems))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
    #[error("no policy found; trailgate looked at: {}", tried.join(", "))]
    NotFound { tried: Vec<String> },
}

fn render_problems(path: &Path, problems: &[Problem]) -> String {
    let mut out = format!(
        "policy {} is invalid ({} problem{}):",
        path.display(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        out.push_str(&format!(
            "\n  {}:{}:{}: {}",
            path.display(),
            p.line,
            p.column,
            p.message
        ));
    }
    out
}

/// The validated policy.
#[derive(Debug)]
pub struct Policy {
    pub path: PathBuf,
    pub settings: Settings,
    pub trailers: TrailerKeys,
    pub ai_markers: Vec<Marker>,
    /// The people's SSH keys, for signatures and push certificates.
    pub keys: KeyRing,
    pub directory: Directory,
    pub rules: Vec<Rule>,
}

#[derive(Debug)]
pub struct Settings {
    pub mode: Mode,
    /// 0 means no limit.
    pub max_commits: usize,
    /// Break-glass (`git push -o trailgate.override="reason"`).
    pub override_: Option<OverrideSettings>,
    /// Where the audit log goes (`settings.audit_log`), relative paths
    /// resolved against the policy file's folder.
    pub audit_log: Option<PathBuf>,
    /// An audit log that cannot be written rejects the push.
    pub audit_required: bool,
    /// Milliseconds the hook may spend judging a push; 0 means no limit.
    pub time_budget_ms: u64,
}

/// `[settings.override]`.
#[derive(Debug)]
pub struct OverrideSettings {
    /// The push option's name (`trailgate.override`).
    pub push_option: String,
    /// Who may override.
    pub by: Vec<GroupId>,
}

/// Default for `settings.override.push_option`.
pub const DEFAULT_OVERRIDE_OPTION: &str = "trailgate.override";

/// Default for `settings.max_commits`.
pub const DEFAULT_MAX_COMMITS: usize = 1_000_000;

#[derive(Debug)]
pub struct TrailerKeys {
    pub ai: Vec<String>,
    /// Lower-cased.
    pub ai_negative: Vec<String>,
    pub approval: Vec<String>,
}

/// Finds the policy for hook mode, in the order of SPEC section 2:
/// `--config`, `$TRAILGATE_CONFIG`, `$GIT_DIR/trailgate.toml`, the system file.
pub fn discover(
    explicit: Option<&Path>,
    env_config: Option<PathBuf>,
    git_dir: &Path,
) -> Result<PathBuf, PolicyError> {
    if let Some(path) = explicit {
        return Ok(path.to_owned());
    }
    if let Some(path) = env_config.filter(|p| !p.as_os_str().is_empty()) {
        return Ok(path);
    }
    let candidates = [git_dir.join("trailgate.toml"), PathBuf::from(SYSTEM_POLICY)];
    for candidate in &candidates {
        if candidate.exists() {
            return Ok(candidate.clone());
        }
    }
    let mut tried = vec![
        "--config (not given)".to_owned(),
        "$TRAILGATE_CONFIG (not set)".to_owned(),
    ];
    tried.extend(candidates.iter().map(|p| p.display().to_string()));
    Err(PolicyError::NotFound { tried })
}

/// Reads and validates a policy file.
pub fn load(path: &Path) -> Result<Policy, PolicyError> {
    use std::io::Read;
    let read_err = |source| PolicyError::Read {
        path: path.to_owned(),
        source,
    };
    // Bounded: a policy path that names /dev/zero or a pipe that never ends
    // must not make every push hang or eat the server's memory.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_POLICY_BYTES + 1).read_to_end(&mut bytes))
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_POLICY_BYTES {
        return Err(read_err(std::io::Error::other(format!(
            "the file is larger than {} MiB; a policy is a few kilobytes",
            MAX_POLICY_BYTES >> 20
        ))));
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let (line, column) = line_col(&text, offset);
            return Err(PolicyError::Invalid {
                path: path.to_owned(),
                problems: vec![Problem {
                    line,
                    column,
                    message: "the file is not valid UTF-8 (TOML must be UTF-8)".into(),
                }],
            });
        }
    };
    parse(path, &text)
}

/// Validates policy text; `path` is only used in messages.
pub fn parse(path: &Path, text: &str) -> Result<Policy, PolicyError> {
    let invalid = |problems| PolicyError::Invalid {
        path: path.to_owned(),
        problems,
    };
    let file: raw::PolicyFile = match toml::from_str(text) {
        Ok(file) => file,
        Err(e) => {
            let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
            return Err(invalid(vec![Problem {
                line,
                column,
                message: e.message().trim().to_owned(),
            }]));
        }
    };
    let mut v = Validator {
        text,
        problems: Vec::new(),
    };
    let policy = v.policy(path, file);
    if v.problems.is_empty() {
        Ok(policy)
    } else {
        v.problems.sort_by_key(|p| (p.line, p.column));
        Err(invalid(v.problems))
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("é\nx", 3), (2, 1));
        assert_eq!(line_col("", 10), (1, 1));
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
