//! `deny`: the kinds of ref update a rule forbids.

use crate::policy::DenyKind;
use crate::verdict::{DeniedUpdate, Finding};

use super::Rule;

/// The kind of a ref update, as the engine found it from the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateKind {
    Create,
    FastForward,
    ForcePush,
    Delete,
}

impl UpdateKind {
    /// The first kind in `deny` that forbids this update.
    pub fn denied_by(self, deny: &[DenyKind]) -> Option<DenyKind> {
        deny.iter().copied().find(|d| match (d, self) {
            (DenyKind::Create, UpdateKind::Create) => true,
            // `update` covers every move of an existing ref, forced or not.
            (DenyKind::Update, UpdateKind::FastForward | UpdateKind::ForcePush) => true,
            (DenyKind::ForcePush, UpdateKind::ForcePush) => true,
            (DenyKind::Delete, UpdateKind::Delete) => true,
            _ => false,
        })
    }
}

/// What the rule's `deny` list finds wrong with an update of this kind.
pub fn check(rule: &Rule, kind: UpdateKind) -> Option<Finding> {
    kind.denied_by(&rule.deny)
        .map(|denied| Finding::DeniedUpdate(DeniedUpdate { denied }))
}
