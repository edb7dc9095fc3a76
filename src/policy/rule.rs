//! The validated form of a rule: the refs it covers, its conditions, its
//! requirements and its `deny` list, as evaluation reads them.

use std::fmt;

use regex::Regex;

use super::globs::{PathPatterns, RefPatterns};
use super::{DenyKind, Mode, Per, Proof};
use crate::facts::identity::GroupId;

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
    pub(super) name_span: std::ops::Range<usize>,
}

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
