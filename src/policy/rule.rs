//! The validated form of a rule: the refs it covers, its conditions, its
//! `deny` list, and its `require` table, which the policy leaves to the
//! requirement kinds of [`crate::rules::require`] (`R`).

use std::fmt;
use std::ops::Range;

use regex::Regex;

use super::globs::{PathPatterns, RefPatterns, RepoPatterns};
use super::{DenyKind, Mode, Per};
use crate::facts::identity::GroupId;

/// One `[[rule]]`. `R` is what its `require` table became: the policy keeps
/// where it was written ([`RequireSource`]); [`crate::rules`] turns that into
/// typed requirements.
#[derive(Debug)]
pub struct Rule<R = RequireSource> {
    pub name: String,
    pub message: Option<String>,
    /// `None`: every ref.
    pub refs: Option<RefPatterns>,
    /// `None`: every repository. Matched against the host's name for the
    /// repository by [`crate::rules::applies`] only.
    pub repos: Option<RepoPatterns>,
    pub when: When,
    pub require: R,
    pub deny: Vec<DenyKind>,
    pub exempt_authors: Vec<GroupId>,
    pub exempt_pushers: Vec<GroupId>,
    pub mode: Mode,
    pub per: Per,
    /// Whether `author_in`, `author_not_in` and `exempt.authors` believe
    /// only proven identities (`settings.identity = "proven"`, or the
    /// rule's approvals ask for proof); set when the rule is loaded.
    pub proven_identity: bool,
    /// Line of the rule's `name` in the policy file, for messages.
    pub line: usize,
    /// Where the rule's table, its `name` and its `per` are in the file.
    pub span: Range<usize>,
    pub name_span: Range<usize>,
    pub per_span: Option<Range<usize>>,
}

/// Where a rule's `require` value is in the policy text, and which
/// `[[rule]]` it belongs to.
#[derive(Debug, Clone)]
pub struct RequireSource {
    /// The rule's position among the file's `[[rule]]` tables.
    pub index: usize,
    /// The `require` value's span; `None` when the rule has none.
    pub span: Option<Range<usize>>,
}

impl<R> Rule<R> {
    /// Whether the rule covers a ref.
    pub fn applies_to(&self, refname: &str) -> bool {
        self.refs.as_ref().is_none_or(|r| r.matches(refname))
    }

    /// Whether the rule covers the repository of this name (`repos`); the
    /// one place `repos` is matched, for [`crate::rules::applies`] and
    /// `trailgate check --repo`.
    pub fn covers_repository(&self, name: &str) -> bool {
        self.repos.as_ref().is_none_or(|r| r.matches(name))
    }

    /// The same rule with its `require` table turned into `S`.
    pub fn map_require<S>(self, f: impl FnOnce(R) -> S) -> Rule<S> {
        Rule {
            name: self.name,
            message: self.message,
            refs: self.refs,
            repos: self.repos,
            when: self.when,
            require: f(self.require),
            deny: self.deny,
            exempt_authors: self.exempt_authors,
            exempt_pushers: self.exempt_pushers,
            mode: self.mode,
            per: self.per,
            proven_identity: self.proven_identity,
            line: self.line,
            span: self.span,
            name_span: self.name_span,
            per_span: self.per_span,
        }
    }
}

/// A rule's `when`: conditions on a commit and on the pusher. Only
/// [`crate::rules::when`] reads them as conditions.
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
