//! The policy file as written: serde structures that mirror the TOML, every
//! table closed to unknown keys, every value that a later check may complain
//! about wrapped in `Spanned` so the complaint can name `file:line:column`.
//!
//! Nothing here is trusted; [`super::validate`] turns it into a [`super::Policy`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

pub type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    pub version: S<i64>,
    #[serde(default)]
    pub settings: Option<S<Settings>>,
    #[serde(default)]
    pub trailers: Option<TrailerKeys>,
    #[serde(default)]
    pub ai: Option<Ai>,
    #[serde(default)]
    pub people: BTreeMap<S<String>, S<Person>>,
    #[serde(default)]
    pub groups: BTreeMap<S<String>, Vec<S<String>>>,
    #[serde(default)]
    pub rule: Vec<S<Rule>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Enforce,
    Warn,
    Off,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub mode: Option<S<Mode>>,
    pub max_commits: Option<S<i64>>,
    pub audit_log: Option<S<String>>,
    pub audit_required: Option<S<bool>>,
    pub audit_syslog: Option<S<Syslog>>,
    pub audit_line_max: Option<S<i64>>,
    pub time_budget_ms: Option<S<i64>>,
    pub contact: Option<S<String>>,
    pub identity: Option<S<Identity>>,
    pub host: Option<S<String>>,
    pub trust_host_emails: Option<S<bool>>,
    pub repos_root: Option<S<String>>,
    pub baseline: Option<S<super::baseline::RawBaseline>>,
    #[serde(rename = "override")]
    pub override_: Option<S<Override>>,
    pub directory: Option<S<String>>,
    pub directory_max_age: Option<S<String>>,
    pub directory_stale: Option<S<Stale>>,
}

/// `settings.audit_syslog`: `true` for `/dev/log`, or the path of another
/// Unix datagram socket.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Syslog {
    On(bool),
    Socket(String),
}

/// `settings.directory_stale`: what an out-of-date directory file does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stale {
    /// Every push is rejected until the file is renewed (fail closed).
    Reject,
    /// Pushes are judged with it, and the pusher is warned.
    Warn,
}

/// The directory file (`settings.directory`): people and groups written by
/// the organisation's tooling (`trailgate directory sync`), with the time
/// it was generated. `[groups]` is required (it may be empty) and is
/// written last, so that a file cut short while being written is noticed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryFile {
    pub generated: S<toml::value::Datetime>,
    #[serde(default)]
    pub people: BTreeMap<S<String>, S<Person>>,
    pub groups: BTreeMap<S<String>, Vec<S<String>>>,
}

/// `settings.identity`: whether author lines are believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Identity {
    /// A commit's author is who its author line says.
    Claimed,
    /// A commit's author is a person only when the commit is signed by
    /// them or they push it.
    Proven,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    pub push_option: Option<S<String>>,
    pub by: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrailerKeys {
    pub ai: Option<Vec<S<String>>>,
    pub ai_negative: Option<Vec<S<String>>>,
    pub approval: Option<Vec<S<String>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Detect {
    Builtin,
    All,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HumanHelp {
    NameAndEmail,
    KnownPeople,
    Never,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ai {
    pub detect: Option<S<Detect>>,
    pub human_help: Option<S<HumanHelp>>,
    pub markers: Option<Vec<S<Marker>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Marker {
    pub trailer: Option<S<String>>,
    pub value: Option<S<String>>,
    pub author: Option<S<String>>,
    pub message: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub name: Option<String>,
    #[serde(default)]
    pub emails: Vec<S<String>>,
    #[serde(default)]
    pub logins: Vec<S<String>>,
    #[serde(default)]
    pub ssh_keys: Vec<S<String>>,
    #[serde(default)]
    pub user_ids: Vec<S<String>>,
    /// ASCII-armoured OpenPGP public keys.
    #[serde(default)]
    pub gpg_keys: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: S<String>,
    pub message: Option<String>,
    pub refs: Option<S<Vec<S<String>>>>,
    pub repos: Option<S<Vec<S<String>>>>,
    pub when: Option<S<When>>,
    /// Read by the requirement kinds of `crate::rules::require`, which own
    /// its keys; here only its place in the file is kept.
    pub require: Option<S<toml::Value>>,
    pub deny: Option<S<Vec<S<DenyKind>>>>,
    pub exempt: Option<S<Exempt>>,
    pub mode: Option<S<Mode>>,
    pub per: Option<S<Per>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Per {
    Commit,
    Push,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DenyKind {
    Create,
    Update,
    ForcePush,
    Delete,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    pub ai_assisted: Option<S<bool>>,
    pub ai_declared: Option<S<bool>>,
    pub ai_detected: Option<S<bool>>,
    pub author_in: Option<Vec<S<String>>>,
    pub author_not_in: Option<Vec<S<String>>>,
    pub pusher_in: Option<Vec<S<String>>>,
    pub pusher_not_in: Option<Vec<S<String>>>,
    pub touches: Option<S<Vec<S<String>>>>,
    pub message: Option<S<String>>,
    pub merge: Option<S<bool>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exempt {
    #[serde(default)]
    pub authors: Vec<S<String>>,
    #[serde(default)]
    pub pushers: Vec<S<String>>,
}
