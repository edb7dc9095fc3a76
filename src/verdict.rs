//! What judging a push gives: its violations, what was checked, and the
//! break-glass override that was used.

use crate::git::oid::ObjectId;

use crate::policy::Mode;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: String,
    pub refname: String,
    pub commit: Option<ObjectId>,
    pub subject: Option<String>,
    pub mode: Mode,
    /// What was found, in plain words.
    pub what: String,
    /// The rule's own `message`.
    pub message: Option<String>,
    /// How to fix it.
    pub help: String,
}

/// The verdict on a whole push.
#[derive(Debug, Default)]
pub struct Judgement {
    pub violations: Vec<Violation>,
    /// Distinct commits judged by at least one rule.
    pub commits_checked: usize,
    /// Diffs computed (commits and net changes); 0 for a policy without
    /// path or size rules.
    pub diffs_computed: usize,
    /// A break-glass override that let an otherwise rejected push through.
    pub override_used: Option<OverrideUse>,
    /// Distinct commits judged for each ref update, in input order (for the
    /// audit log).
    pub commits_per_ref: Vec<(String, usize)>,
}

/// A break-glass override (SPEC section 9) that was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideUse {
    /// The pusher, as "alice (GL_USER)".
    pub by: String,
    pub reason: String,
    /// How many enforced violations it let through.
    pub overridden: usize,
}

impl Judgement {
    /// True when an enforced violation rejects the push.
    pub fn rejects(&self) -> bool {
        self.override_used.is_none() && self.violations.iter().any(|v| v.mode == Mode::Enforce)
    }
}
