//! The policy: reading the TOML file, validating it once, and the typed
//! [`Policy`] that evaluation works on.
//!
//! Loading has two phases. [`raw`] deserializes the file with every table
//! closed to unknown keys (a misspelled key is an error, never ignored); this
//! module then checks everything serde cannot (groups and people that exist,
//! regexes and globs that compile, unique rule names) and collects every
//! problem with its `file:line:column` before giving up. Each rule's
//! `require` table is left to the requirement kinds of
//! [`crate::rules::require`], which own their configuration: this module
//! keeps where it was written ([`RequireSource`]), and
//! [`crate::rules::load`] reads the file through both. Evaluation never
//! sees TOML.

mod baseline;
mod directory;
mod globs;
mod people;
pub mod raw;
mod rule;
pub mod suggest;
mod validate;
pub mod words;

pub use globs::{Globs, PathPatterns, RefPatterns, RepoPatterns};
pub use rule::{RequireSource, Rule, When};
pub use validate::{line_col, max_members, valid_rule_name, valid_trailer_key, Validator};

use std::path::{Path, PathBuf};

use thiserror::Error;

pub use crate::facts::ai::disclosure::HumanHelp;
pub use crate::facts::ai::Detect;
use crate::facts::identity::{Directory, GroupId};
use crate::facts::signature::KeyRing;
pub use crate::facts::TrailerKeys;
pub use baseline::{Baseline, BaselinePoint};
pub use directory::index::IndexError;
pub use directory::{
    validate_directory, write_index, DirectoryStamp, Staleness, MAX_DIRECTORY_BYTES,
};
pub use raw::{DenyKind, Identity, Mode, Per, Stale};

/// The values of `settings.host`: the names of the hosts of
/// `crate::host::HOSTS` a policy may restrict the pusher to (a test there
/// keeps the two lists the same).
pub const HOST_NAMES: &[&str] = &["gitlab", "github", "gitea", "gitolite", "http", "ssh"];

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
    /// The file, when it is not the policy (the directory file).
    pub file: Option<PathBuf>,
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
        // A message of several lines (a regex error with its caret) keeps
        // them, indented under its `file:line:column`.
        out.push_str(&format!(
            "\n  {}:{}:{}: {}",
            p.file.as_deref().unwrap_or(path).display(),
            p.line,
            p.column,
            p.message.replace('\n', "\n      ")
        ));
    }
    out
}

/// The validated policy. `R` is what each rule's `require` table is (see
/// [`Rule`]).
#[derive(Debug)]
pub struct Policy<R = RequireSource> {
    pub path: PathBuf,
    pub settings: Settings,
    pub trailers: TrailerKeys,
    pub ai_markers: crate::facts::ai::Markers,
    /// `ai.detect`: which built-in marks are among `ai_markers`.
    pub ai_detect: Detect,
    /// `ai.human_help`: how disclosure values that name someone are read.
    pub human_help: HumanHelp,
    /// The people's SSH keys, for signatures and push certificates.
    pub keys: KeyRing,
    pub directory: Directory,
    pub rules: Vec<Rule<R>>,
}

impl<R> Policy<R> {
    /// The same policy with each rule turned by `f` (in order).
    pub fn map_rules<S>(self, f: impl FnMut(Rule<R>) -> Rule<S>) -> Policy<S> {
        Policy {
            path: self.path,
            settings: self.settings,
            trailers: self.trailers,
            ai_markers: self.ai_markers,
            ai_detect: self.ai_detect,
            human_help: self.human_help,
            keys: self.keys,
            directory: self.directory,
            rules: self.rules.into_iter().map(f).collect(),
        }
    }

    /// What computing a commit's facts needs of the policy.
    pub fn facts(&self) -> crate::facts::Config<'_> {
        crate::facts::Config {
            trailers: &self.trailers,
            markers: &self.ai_markers,
            directory: &self.directory,
            human_help: self.human_help,
        }
    }
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
    /// `settings.audit_syslog`: the Unix datagram socket each audit line is
    /// also sent to (`/dev/log` for `true`).
    pub audit_syslog: Option<PathBuf>,
    /// `settings.audit_line_max`: no audit line is longer, in bytes.
    pub audit_line_max: usize,
    /// Milliseconds the hook may spend judging a push; 0 means no limit.
    pub time_budget_ms: u64,
    /// `settings.contact`: whom a pusher asks (text or a URL); the last line
    /// of every rejection.
    pub contact: Option<String>,
    /// Whether every rule believes only proven identities.
    pub identity: Identity,
    /// `settings.host`: only this host's variables name the pusher.
    pub host: Option<String>,
    /// Whether an e-mail address the host reports identifies the pusher.
    pub trust_host_emails: bool,
    /// The directory file read (`settings.directory`): where, when it was
    /// generated, its content hash, for the audit log and staleness.
    pub directory: Option<DirectoryStamp>,
    /// SHA-256 of the policy file's bytes, in hex, for the audit log.
    pub policy_sha256: String,
    /// `settings.directory_max_age`: an older directory file is stale.
    pub directory_max_age: Option<std::time::Duration>,
    /// `settings.directory_stale`: what a stale directory file does.
    pub directory_stale: Stale,
    /// The directory file could not be read or has problems (the policy
    /// is then invalid): groups it would define are not reported unknown.
    pub directory_unusable: bool,
    /// `settings.repos_root`: the folder that repository names (for `repos`)
    /// are taken relative to where the host names none; absolute.
    pub repos_root: Option<PathBuf>,
    /// `settings.baseline`: history the administrator declared accepted.
    pub baseline: Baseline,
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

/// Default for `settings.audit_line_max`: room for the first hundred
/// violations of a rule, under what `/dev/log` takes in one datagram.
pub const DEFAULT_AUDIT_LINE_MAX: usize = 65_536;

/// The smallest `settings.audit_line_max`: a line must hold the push's
/// identity and decision.
pub const MIN_AUDIT_LINE_MAX: usize = 1024;

/// Where `settings.audit_syslog = true` sends lines.
pub const SYSLOG_SOCKET: &str = "/dev/log";

/// Default for `settings.max_commits`.
pub const DEFAULT_MAX_COMMITS: usize = 1_000_000;

/// Finds the policy for hook mode, in the order of the README's "Installing on a
/// bare repository":
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

/// Reads a policy file: bounded, and UTF-8 as TOML must be.
pub fn read(path: &Path) -> Result<String, PolicyError> {
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
                    file: None,
                    line,
                    column,
                    message: "the file is not valid UTF-8 (TOML must be UTF-8)".into(),
                }],
            });
        }
    };
    Ok(text)
}

/// Validates policy text: the policy (as far as it could be read), every
/// problem found, and the parsed document (with the position of every
/// value, for the `require` tables). A syntax or type error, which stops
/// the TOML parser, is the error; `path` is only used in messages.
pub fn validate<'t>(
    path: &Path,
    text: &'t str,
) -> Result<(Policy, Vec<Problem>, Document<'t>), PolicyError> {
    validate_with(path, text, true)
}

/// [`validate`]; with `thorough = false` (the hook) the directory file's
/// keys are parsed when first needed instead of now.
pub fn validate_with<'t>(
    path: &Path,
    text: &'t str,
    thorough: bool,
) -> Result<(Policy, Vec<Problem>, Document<'t>), PolicyError> {
    let toml_error = |e: toml::de::Error| {
        let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
        invalid(
            path,
            vec![Problem {
                file: None,
                line,
                column,
                message: words::humane(e.message()),
            }],
        )
    };
    let doc = toml::de::DeTable::parse(text).map_err(toml_error)?;
    let file = <raw::PolicyFile as serde::Deserialize>::deserialize(toml::de::Deserializer::from(
        doc.clone(),
    ))
    .map_err(toml_error)?;
    let mut v = Validator::new(text);
    v.set_directory_thorough(thorough);
    let mut policy = v.policy(path, file);
    policy.settings.directory_unusable = v.is_directory_failed();
    Ok((policy, v.into_problems(), doc))
}

/// A policy text parsed, every value with its position.
pub type Document<'t> = toml::Spanned<toml::de::DeTable<'t>>;

/// The error for a policy with these problems, in the order of the file.
pub fn invalid(path: &Path, mut problems: Vec<Problem>) -> PolicyError {
    // The policy's own problems first, then the directory file's.
    problems.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    PolicyError::Invalid {
        path: path.to_owned(),
        problems,
    }
}
