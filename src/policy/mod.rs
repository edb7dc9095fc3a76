//! The policy: loading the TOML file, validating it once, and the typed
//! [`Policy`] that evaluation works on.
//!
//! Loading has two phases. [`raw`] deserializes the file with every table
//! closed to unknown keys (a misspelled key is an error, never ignored); this
//! module then checks everything serde cannot (groups and people that exist,
//! regexes and globs that compile, unique rule names, rules that can apply)
//! and collects every problem with its `file:line:column` before giving up.
//! Evaluation never sees TOML.

pub mod raw;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use regex::{Regex, RegexBuilder};
use thiserror::Error;

use crate::facts::ai::{self, Marker};
use crate::facts::identity::{Directory, Group, GroupId, Member, Person};
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

#[derive(Debug)]
pub struct Rule {
    pub name: String,
    pub message: Option<String>,
    /// `None`: every ref.
    pub refs: Option<RefPatterns>,
    pub when: When,
    pub require: Require,
    pub deny: Vec<DenyKind>,
    pub exempt_authors: Vec<GroupId>,
    pub exempt_pushers: Vec<GroupId>,
    pub mode: Mode,
    pub per: Per,
    /// Line of the rule's `name` in the policy file, for messages.
    pub line: usize,
    name_span: std::ops::Range<usize>,
}

/// A list of globs (`refs`, `when.touches`): `*` stays inside one path
/// segment, `**` crosses segments.
#[derive(Debug)]
pub struct Globs {
    pub patterns: Vec<String>,
    set: GlobSet,
}

impl Globs {
    /// Whether a full ref name matches.
    pub fn matches(&self, refname: &str) -> bool {
        self.set.is_match(refname)
    }

    /// Whether a repository path (bytes, as git stores it) matches.
    pub fn matches_path(&self, path: &[u8]) -> bool {
        self.set.is_match(String::from_utf8_lossy(path).as_ref())
    }
}

pub type RefPatterns = Globs;
pub type PathPatterns = Globs;

impl Rule {
    /// Whether the rule covers a ref.
    pub fn applies_to(&self, refname: &str) -> bool {
        self.refs.as_ref().is_none_or(|r| r.matches(refname))
    }

    /// Whether the rule judges commits (as opposed to only ref update kinds).
    pub fn judges_commits(&self) -> bool {
        self.require.approvals.is_some()
            || !self.require.trailers.is_empty()
            || self.require.limits.any()
            || self.require.signed
    }

    /// What the rule needs to know about the changes a commit makes.
    pub fn diff_need(&self) -> DiffNeed {
        if self.require.limits.needs_lines() {
            DiffNeed::Lines
        } else if self.when.touches.is_some() || self.require.limits.any() {
            DiffNeed::Paths
        } else {
            DiffNeed::None
        }
    }
}

#[derive(Debug, Default)]
pub struct When {
    pub ai_assisted: Option<bool>,
    pub ai_declared: Option<bool>,
    pub ai_detected: Option<bool>,
    pub author_in: Vec<GroupId>,
    pub author_not_in: Vec<GroupId>,
    pub pusher_in: Vec<GroupId>,
    pub pusher_not_in: Vec<GroupId>,
    pub message: Option<Regex>,
    pub merge: Option<bool>,
    /// Path globs; the commit must change a path matching one.
    pub touches: Option<PathPatterns>,
}

/// How much of a commit's diff a rule needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DiffNeed {
    None,
    Paths,
    Lines,
}

/// The size limits of `require` (`max_files_changed`, ...).
#[derive(Debug, Default, Clone, Copy)]
pub struct Limits {
    pub max_files_changed: Option<u64>,
    pub max_files_deleted: Option<u64>,
    pub max_lines_added: Option<u64>,
    pub max_lines_deleted: Option<u64>,
    pub max_lines_changed: Option<u64>,
}

impl Limits {
    pub fn any(&self) -> bool {
        self.max_files_changed.is_some() || self.max_files_deleted.is_some() || self.needs_lines()
    }

    pub fn needs_lines(&self) -> bool {
        self.max_lines_added.is_some()
            || self.max_lines_deleted.is_some()
            || self.max_lines_changed.is_some()
    }
}

impl When {
    /// Whether any condition is about the pusher.
    pub fn needs_pusher(&self) -> bool {
        !self.pusher_in.is_empty() || !self.pusher_not_in.is_empty()
    }
}

#[derive(Debug, Default)]
pub struct Require {
    pub approvals: Option<Approvals>,
    pub trailers: Vec<TrailerRequirement>,
    pub limits: Limits,
    /// `require.signed`: signed with a key of a person of the policy.
    pub signed: bool,
}

#[derive(Debug)]
pub struct Approvals {
    pub from: Vec<GroupId>,
    pub count: usize,
    pub proof: Proof,
}

#[derive(Debug)]
pub struct TrailerRequirement {
    pub key: String,
    /// The pattern as written, for messages.
    pub pattern: Option<String>,
    pub value: Option<Regex>,
}

impl fmt::Display for DenyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DenyKind::Create => "create",
            DenyKind::Update => "update",
            DenyKind::ForcePush => "force-push",
            DenyKind::Delete => "delete",
        })
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Enforce => "enforce",
            Mode::Warn => "warn",
            Mode::Off => "off",
        })
    }
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

struct Validator<'t> {
    text: &'t str,
    problems: Vec<Problem>,
}

type S<T> = toml::Spanned<T>;

impl Validator<'_> {
    fn error(&mut self, span: std::ops::Range<usize>, message: impl Into<String>) {
        let (line, column) = line_col(self.text, span.start);
        self.problems.push(Problem {
            line,
            column,
            message: message.into(),
        });
    }

    fn line_of(&self, span: &std::ops::Range<usize>) -> usize {
        line_col(self.text, span.start).0
    }

    fn policy(&mut self, path: &Path, file: raw::PolicyFile) -> Policy {
        if *file.version.get_ref() != 1 {
            self.error(
                file.version.span(),
                format!(
                    "unsupported policy version {}; this trailgate reads `version = 1`",
                    file.version.get_ref()
                ),
            );
        }
        let (directory, keys) = self.directory(file.people, file.groups);
        let mut settings = self.settings(file.settings, &directory);
        if let Some(log) = settings.audit_log.take() {
            let base = path.parent().unwrap_or(Path::new("."));
            settings.audit_log = Some(base.join(log));
        }
        let trailers = self.trailer_keys(file.trailers);
        let ai_markers = self.ai(file.ai);
        let mut rules = Vec::new();
        let mut names: HashMap<String, usize> = HashMap::new();
        for rule in file.rule {
            let span = rule.span();
            if let Some(rule) = self.rule(rule.into_inner(), span, settings.mode, &directory, &keys)
            {
                if let Some(first) = names.get(&rule.name) {
                    self.error(
                        rule.name_span.clone(),
                        format!(
                            "duplicate rule name `{}` (first defined on line {first}); rule names must be unique",
                            rule.name
                        ),
                    );
                } else {
                    names.insert(rule.name.clone(), rule.line);
                }
                rules.push(rule);
            }
        }
        Policy {
            path: path.to_owned(),
            settings,
            trailers,
            ai_markers,
            keys,
            directory,
            rules,
        }
    }

    fn directory(
        &mut self,
        people: std::collections::BTreeMap<S<String>, S<raw::Person>>,
        groups: std::collections::BTreeMap<S<String>, Vec<S<String>>>,
    ) -> (Directory, KeyRing) {
        let mut keys = KeyRing::default();
        let mut out_people = Vec::new();
        let mut email_owner: HashMap<String, String> = HashMap::new();
        let mut login_owner: HashMap<String, String> = HashMap::new();
        for (id, person) in people {
            let id_span = id.span();
            let id = id.into_inner();
            if !valid_person_id(&id) {
                self.error(
                    id_span.clone(),
                    format!("person id `{id}` may only use letters, digits, `-`, `_` and `.` (it must not look like an e-mail)"),
                );
            }
            let person = person.into_inner();
            let mut emails = Vec::new();
            for email in person.emails {
                let span = email.span();
                let lower = email.into_inner().trim().to_ascii_lowercase();
                if !lower.contains('@') || lower.contains(char::is_whitespace) {
                    self.error(span, format!("`{lower}` is not an e-mail address"));
                    continue;
                }
                if let Some(owner) = email_owner.get(&lower) {
                    self.error(span, format!("e-mail `{lower}` already belongs to person `{owner}`; an address can belong to one person only"));
                    continue;
                }
                email_owner.insert(lower.clone(), id.clone());
                emails.push(lower);
            }
            let mut logins = Vec::new();
            for login in person.logins {
                let span = login.span();
                let login = login.into_inner();
                if login.trim().is_empty() || login.trim() != login {
                    self.error(
                        span,
                        format!("login `{login}` is empty or has surrounding spaces"),
                    );
                    continue;
                }
                if let Some(owner) = login_owner.get(&login) {
                    self.error(
                        span,
                        format!("login `{login}` already belongs to person `{owner}`"),
                    );
                    continue;
                }
                login_owner.insert(login.clone(), id.clone());
                logins.push(login);
            }
            let mut ssh_keys = Vec::new();
            for key in person.ssh_keys {
                let span = key.span();
                let text = key.into_inner();
                match ssh_key::PublicKey::from_openssh(text.trim()) {
                    Ok(parsed) => {
                        keys.add(parsed, out_people.len());
                        ssh_keys.push(text);
                    }
                    Err(e) => self.error(span, format!("not an OpenSSH public key (`ssh-ed25519 AAAA... comment`, as in a .pub file): {e}")),
                }
            }
            out_people.push(Person {
                id,
                name: person.name,
                emails,
                logins,
                ssh_keys,
            });
        }
        let people_index: HashMap<String, usize> = out_people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();
        let mut out_groups = Vec::new();
        for (name, entries) in groups {
            let name_span = name.span();
            let name = name.into_inner();
            if !valid_rule_name(&name) {
                self.error(
                    name_span.clone(),
                    format!("group name `{name}` may only use a-z, 0-9 and `-`"),
                );
            }
            let mut members = Vec::new();
            for entry in entries {
                let span = entry.span();
                let entry = entry.into_inner();
                if entry.contains('@') {
                    let lower = entry.trim().to_ascii_lowercase();
                    if lower.contains(['*', '?', '[', '{']) {
                        match GlobBuilder::new(&lower).literal_separator(false).build() {
                            Ok(glob) => members.push(Member::Glob {
                                pattern: lower,
                                matcher: glob.compile_matcher(),
                            }),
                            Err(e) => self.error(
                                span,
                                format!("invalid e-mail glob `{entry}`: {}", e.kind()),
                            ),
                        }
                    } else {
                        members.push(Member::Email(lower));
                    }
                } else if let Some(&i) = people_index.get(&entry) {
                    members.push(Member::Person(i));
                } else {
                    self.error(
                        span,
                        format!("unknown person `{entry}` in group `{name}`; group entries are person ids from [people], e-mail addresses, or e-mail globs (\"*@example.com\")"),
                    );
                }
            }
            out_groups.push(Group { name, members });
        }
        (Directory::new(out_people, out_groups), keys)
    }

    fn groups(&mut self, directory: &Directory, names: Vec<S<String>>) -> Vec<GroupId> {
        let mut out = Vec::new();
        for name in names {
            let span = name.span();
            let name = name.into_inner();
            match directory.group(&name) {
                Some(id) => out.push(id),
                None => {
                    let known: Vec<&str> =
                        directory.groups.iter().map(|g| g.name.as_str()).collect();
                    self.error(
                        span,
                        format!(
                            "unknown group `{name}`; groups defined in [groups]: {}",
                            if known.is_empty() {
                                "none".to_owned()
                            } else {
                                known.join(", ")
                            }
                        ),
                    );
                }
            }
        }
        out
    }

    fn settings(&mut self, settings: Option<S<raw::Settings>>, directory: &Directory) -> Settings {
        let mut out = Settings {
            mode: Mode::Enforce,
            max_commits: DEFAULT_MAX_COMMITS,
            override_: None,
            audit_log: None,
            audit_required: false,
            time_budget_ms: 0,
        };
        let Some(settings) = settings else {
            return out;
        };
        let settings = settings.into_inner();
        if let Some(mode) = settings.mode {
            if *mode.get_ref() == Mode::Off {
                self.error(mode.span(), "settings.mode may be \"enforce\" or \"warn\"; to switch one rule off use its own `mode = \"off\"`");
            }
            out.mode = *mode.get_ref();
        }
        if let Some(max) = settings.max_commits {
            match usize::try_from(*max.get_ref()) {
                Ok(n) => out.max_commits = n,
                Err(_) => self.error(
                    max.span(),
                    "max_commits must be 0 (no limit) or a positive number",
                ),
            }
        }
        if let Some(log) = settings.audit_log {
            if log.get_ref().trim().is_empty() {
                self.error(log.span(), "settings.audit_log is empty; give a file path (for example \"/var/log/trailgate/audit.jsonl\") or leave it out");
            } else {
                out.audit_log = Some(PathBuf::from(log.into_inner()));
            }
        }
        if let Some(required) = settings.audit_required {
            out.audit_required = *required.get_ref();
            if out.audit_required && out.audit_log.is_none() {
                self.error(
                    required.span(),
                    "settings.audit_required = true needs settings.audit_log (the file to write)",
                );
            }
        }
        if let Some(budget) = settings.time_budget_ms {
            match u64::try_from(*budget.get_ref()) {
                Ok(ms) => out.time_budget_ms = ms,
                Err(_) => self.error(
                    budget.span(),
                    "time_budget_ms must be 0 (no limit) or a positive number of milliseconds",
                ),
            }
        }
        if let Some(o) = settings.override_ {
            let span = o.span();
            let o = o.into_inner();
            let named = o.by.len();
            let by = self.groups(directory, o.by);
            if named == 0 {
                self.error(
                    span,
                    "settings.override.by must name at least one group: nobody could ever override",
                );
            }
            let push_option = match o.push_option {
                Some(opt) => {
                    let name = opt.get_ref().trim().to_owned();
                    if name.is_empty() || name.contains(['=', ' ']) {
                        self.error(opt.span(), "settings.override.push_option must be a non-empty name without `=` or spaces");
                    }
                    name
                }
                None => DEFAULT_OVERRIDE_OPTION.to_owned(),
            };
            out.override_ = Some(OverrideSettings { push_option, by });
        }
        out
    }

    fn trailer_keys(&mut self, keys: Option<raw::TrailerKeys>) -> TrailerKeys {
        let defaults = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let mut out = TrailerKeys {
            ai: defaults(&["AI-Assisted", "Assisted-by", "Generated-by"]),
            ai_negative: defaults(&["no", "none", "false", "0"]),
            approval: defaults(&["Approved-By"]),
        };
        let Some(keys) = keys else {
            return out;
        };
        if let Some(ai) = keys.ai {
            out.ai = self.keys(ai, "trailers.ai");
        }
        if let Some(approval) = keys.approval {
            out.approval = self.keys(approval, "trailers.approval");
        }
        if let Some(neg) = keys.ai_negative {
            out.ai_negative = neg
                .into_iter()
                .map(|v| v.into_inner().trim().to_ascii_lowercase())
                .collect();
        }
        out
    }

    fn keys(&mut self, keys: Vec<S<String>>, what: &str) -> Vec<String> {
        let mut out = Vec::new();
        for key in keys {
            let span = key.span();
            let key = key.into_inner();
            if valid_trailer_key(&key) {
                out.push(key);
            } else {
                self.error(span, format!("`{key}` in {what} is not a trailer key git would read: use letters, digits and `-` only"));
            }
        }
        out
    }

    fn ai(&mut self, ai: Option<raw::Ai>) -> Vec<Marker> {
        let mut detect = true;
        let mut markers = Vec::new();
        if let Some(ai) = ai {
            if let Some(d) = ai.detect {
                detect = *d.get_ref() == raw::Detect::Builtin;
            }
            for marker in ai.markers.unwrap_or_default() {
                let span = marker.span();
                match self.marker(marker.into_inner()) {
                    Ok(Some(m)) => markers.push(m),
                    Ok(None) => {}
                    Err(message) => self.error(span, message),
                }
            }
        }
        if detect {
            markers.splice(0..0, ai::builtin());
        }
        markers
    }

    fn marker(&mut self, m: raw::Marker) -> Result<Option<Marker>, String> {
        let value = match &m.value {
            Some(v) => Some(self.regex(v)?),
            None => None,
        };
        match (m.trailer, m.author, m.message) {
            (Some(key), None, None) => {
                let key = key.into_inner();
                if !valid_trailer_key(&key) {
                    return Err(format!("`{key}` is not a trailer key git would read"));
                }
                Ok(Some(Marker::trailer_owned(key, value)))
            }
            (None, Some(author), None) if value.is_none() => Ok(self.regex(&author).ok().map(Marker::author_owned)),
            (None, None, Some(message)) if value.is_none() => Ok(self.regex(&message).ok().map(Marker::message_owned)),
            _ => Err("an AI marker is one of `{ trailer = \"Key\", value = \"regex\" }`, `{ author = \"regex\" }` (author or committer e-mail) or `{ message = \"regex\" }`".into()),
        }
    }

    /// Compiles a regex, reporting a bad one at its span.
    fn regex(&mut self, pattern: &S<String>) -> Result<Regex, String> {
        match RegexBuilder::new(pattern.get_ref())
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
        {
            Ok(re) => Ok(re),
            Err(e) => {
                let message = match e {
                    regex::Error::CompiledTooBig(_) => format!(
                        "regex `{}` is too large once compiled (limit {} KiB); simplify it",
                        pattern.get_ref(),
                        REGEX_SIZE_LIMIT / 1024
                    ),
                    other => format!(
                        "invalid regex `{}`: {}",
                        pattern.get_ref(),
                        one_line(&other.to_string())
                    ),
                };
                self.error(pattern.span(), message.clone());
                Err(String::new())
            }
        }
    }

    fn rule(
        &mut self,
        rule: raw::Rule,
        span: std::ops::Range<usize>,
        default_mode: Mode,
        dir: &Directory,
        keys: &KeyRing,
    ) -> Option<Rule> {
        let name_span = rule.name.span();
        let name = rule.name.into_inner();
        let line = self.line_of(&name_span);
        if !valid_rule_name(&name) {
            self.error(
                name_span.clone(),
                format!("rule name `{name}` may only use a-z, 0-9 and `-`"),
            );
        }
        let refs = rule.refs.and_then(|refs| self.ref_patterns(refs));
        let mut when = When::default();
        let mut has_commit_conditions = false;
        if let Some(w) = rule.when {
            let w = w.into_inner();
            when.ai_assisted = w.ai_assisted.as_ref().map(|b| *b.get_ref());
            when.ai_declared = w.ai_declared.as_ref().map(|b| *b.get_ref());
            when.ai_detected = w.ai_detected.as_ref().map(|b| *b.get_ref());
            when.merge = w.merge.as_ref().map(|b| *b.get_ref());
            if let (Some(false), Some(true)) =
                (when.ai_assisted, when.ai_declared.or(when.ai_detected))
            {
                if let Some(a) = &w.ai_assisted {
                    self.error(a.span(), "`ai_assisted = false` contradicts `ai_declared`/`ai_detected = true`: the rule can never apply");
                }
            }
            let author_in_spans: Vec<S<String>> = w.author_in.unwrap_or_default();
            let author_not_in_spans: Vec<S<String>> = w.author_not_in.unwrap_or_default();
            let overlap: Vec<(std::ops::Range<usize>, String)> = author_in_spans
                .iter()
                .filter(|g| {
                    author_not_in_spans
                        .iter()
                        .any(|h| h.get_ref() == g.get_ref())
                })
                .map(|g| (g.span(), g.get_ref().clone()))
                .collect();
            for (span, g) in overlap {
                self.error(span, format!("group `{g}` is in both author_in and author_not_in: the rule can never apply"));
            }
            when.author_in = self.groups(dir, author_in_spans);
            when.author_not_in = self.groups(dir, author_not_in_spans);
            when.pusher_in = self.groups(dir, w.pusher_in.unwrap_or_default());
            when.pusher_not_in = self.groups(dir, w.pusher_not_in.unwrap_or_default());
            if let Some(m) = &w.message {
                when.message = self.regex(m).ok();
            }
            let has_touches = w.touches.is_some();
            if let Some(t) = w.touches {
                when.touches = self.path_patterns(t);
            }
            has_commit_conditions = w.ai_assisted.is_some()
                || w.ai_declared.is_some()
                || w.ai_detected.is_some()
                || !when.author_in.is_empty()
                || !when.author_not_in.is_empty()
                || w.message.is_some()
                || w.merge.is_some()
                || has_touches;
        }
        let mut require = Require::default();
        let mut has_require = false;
        if let Some(r) = rule.require {
            let r = r.into_inner();
            if let Some(a) = r.approvals {
                let a_span = a.span();
                let a = a.into_inner();
                let named = a.from.len();
                let from = self.groups(dir, a.from);
                let count = match a.count {
                    None => 1,
                    Some(c) => match usize::try_from(*c.get_ref()) {
                        Ok(n) if n >= 1 => n,
                        _ => {
                            self.error(c.span(), "approvals.count must be 1 or more");
                            1
                        }
                    },
                };
                let proof = a.proof.as_ref().map_or(Proof::Trailer, |p| *p.get_ref());
                if proof == Proof::Signature && keys.is_empty() {
                    if let Some(p) = &a.proof {
                        self.error(p.span(), "`proof = \"signature\"` needs people with `ssh_keys`; no person has one, so no approval could ever count");
                    }
                }
                if named == 0 {
                    self.error(
                        a_span.clone(),
                        "approvals.from must name at least one group",
                    );
                }
                // Only when every group resolved: an unknown group is already
                // reported and would make this count meaningless.
                if let Some(max) = max_members(dir, &from).filter(|_| from.len() == named) {
                    if max < count {
                        self.error(
                            a_span,
                            format!("approvals need {count} distinct approvers but the groups in `from` have only {max} member(s): the rule can never pass"),
                        );
                    }
                }
                require.approvals = Some(Approvals { from, count, proof });
                has_require = true;
            }
            for t in r.trailers.unwrap_or_default() {
                let t = t.into_inner();
                let key_span = t.key.span();
                let key = t.key.into_inner();
                if !valid_trailer_key(&key) {
                    self.error(key_span, format!("`{key}` is not a trailer key git would read: use letters, digits and `-` only"));
                }
                let (pattern, value) = match &t.value {
                    Some(v) => (Some(v.get_ref().clone()), self.regex(v).ok()),
                    None => (None, None),
                };
                require.trailers.push(TrailerRequirement {
                    key,
                    pattern,
                    value,
                });
                has_require = true;
            }
            if let Some(signed) = &r.signed {
                require.signed = *signed.get_ref();
                has_require |= require.signed;
            }
            let limits = [
                (&r.max_files_changed, "max_files_changed"),
                (&r.max_files_deleted, "max_files_deleted"),
                (&r.max_lines_added, "max_lines_added"),
                (&r.max_lines_deleted, "max_lines_deleted"),
                (&r.max_lines_changed, "max_lines_changed"),
            ];
            let mut values = [None; 5];
            for (slot, (limit, key)) in values.iter_mut().zip(limits) {
                if let Some(limit) = limit {
                    match u64::try_from(*limit.get_ref()) {
                        Ok(n) => *slot = Some(n),
                        Err(_) => self.error(limit.span(), format!("`{key}` must be 0 or more")),
                    }
                }
            }
            let [max_files_changed, max_files_deleted, max_lines_added, max_lines_deleted, max_lines_changed] =
                values;
            require.limits = Limits {
                max_files_changed,
                max_files_deleted,
                max_lines_added,
                max_lines_deleted,
                max_lines_changed,
            };
            has_require |= require.limits.any();
        }
        let per = rule.per.as_ref().map_or(Per::Commit, |p| *p.get_ref());
        if per == Per::Push && (require.approvals.is_some() || !require.trailers.is_empty()) {
            if let Some(p) = &rule.per {
                self.error(
                    p.span(),
                    "`per = \"push\"` judges the net change of a ref update, so it takes only size limits (`max_*`); approvals and trailers are required per commit: put them in a rule of their own",
                );
            }
        }
        let deny: Vec<DenyKind> = rule
            .deny
            .map(|d| d.into_inner().into_iter().map(S::into_inner).collect())
            .unwrap_or_default();
        if !deny.is_empty() && has_commit_conditions {
            self.error(
                span.clone(),
                format!("rule `{name}` mixes `deny` (which judges ref updates) with conditions on commits in `when`; split it into two rules"),
            );
        }
        if deny.is_empty() && !has_require {
            self.error(
                name_span.clone(),
                format!("rule `{name}` checks nothing: give it a `require` table or a `deny` list"),
            );
        }
        let (exempt_authors, exempt_pushers) = match rule.exempt {
            Some(e) => {
                let e = e.into_inner();
                (self.groups(dir, e.authors), self.groups(dir, e.pushers))
            }
            None => (Vec::new(), Vec::new()),
        };
        let mode = rule.mode.map_or(default_mode, |m| *m.get_ref());
        Some(Rule {
            name,
            message: rule
                .message
                .map(|m| m.trim().to_owned())
                .filter(|m| !m.is_empty()),
            refs,
            when,
            require,
            deny,
            exempt_authors,
            exempt_pushers,
            mode,
            per,
            line,
            name_span,
        })
    }

    fn path_patterns(&mut self, paths: S<Vec<S<String>>>) -> Option<PathPatterns> {
        self.globs(paths, "path", "`touches = []` matches no path: the rule can never apply", |p| {
            p.starts_with('/').then(|| {
                format!(
                    "path pattern `{p}` starts with `/`; paths are relative to the repository root (write `{}`)",
                    p.trim_start_matches('/')
                )
            })
        })
    }

    fn ref_patterns(&mut self, refs: S<Vec<S<String>>>) -> Option<RefPatterns> {
        self.globs(
            refs,
            "ref",
            "`refs = []` matches no ref: the rule can never apply (leave `refs` out to cover every ref)",
            |p| {
                (!p.starts_with("refs/")).then(|| {
                    let hint = if p.contains('/') || p.starts_with('*') {
                        String::new()
                    } else {
                        format!(" (did you mean \"refs/heads/{p}\"?)")
                    };
                    format!("ref pattern `{p}` does not start with `refs/` and can never match a full ref name{hint}")
                })
            },
        )
    }

    /// Compiles a list of globs, reporting an empty list, each pattern that
    /// `reject` refuses, and each invalid glob at its own position.
    fn globs(
        &mut self,
        list: S<Vec<S<String>>>,
        what: &str,
        empty: &str,
        reject: impl Fn(&str) -> Option<String>,
    ) -> Option<Globs> {
        let list_span = list.span();
        let list = list.into_inner();
        if list.is_empty() {
            self.error(list_span, empty);
            return None;
        }
        let mut builder = GlobSetBuilder::new();
        let mut patterns = Vec::new();
        for pattern in list {
            let span = pattern.span();
            let pattern = pattern.into_inner();
            if let Some(message) = reject(&pattern) {
                self.error(span, message);
                continue;
            }
            match GlobBuilder::new(&pattern)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
            {
                Ok(glob) => {
                    builder.add(glob);
                    patterns.push(pattern);
                }
                Err(e) => self.error(
                    span,
                    format!("invalid {what} glob `{pattern}`: {}", e.kind()),
                ),
            }
        }
        match builder.build() {
            Ok(set) if !patterns.is_empty() => Some(Globs { patterns, set }),
            _ => None,
        }
    }
}

/// The most distinct approvers the groups can supply, or `None` when a glob
/// makes it unbounded.
fn max_members(dir: &Directory, groups: &[GroupId]) -> Option<usize> {
    let mut people = HashSet::new();
    let mut emails = HashSet::new();
    for g in groups {
        let group = dir.groups.get(g.0)?;
        for m in &group.members {
            match m {
                Member::Person(p) => {
                    people.insert(*p);
                }
                Member::Email(e) => {
                    match dir.by_email(e.as_bytes()) {
                        crate::facts::identity::Who::Person(p) => people.insert(p),
                        _ => emails.insert(e.clone()),
                    };
                }
                Member::Glob { .. } => return None,
            }
        }
    }
    Some(people.len() + emails.len())
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `[a-z0-9-]+`, the form rule and group names take.
pub fn valid_rule_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn valid_person_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A key git would recognise as a trailer key: letters, digits and `-`.
pub fn valid_trailer_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
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
