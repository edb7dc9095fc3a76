//! `deny`: the kinds of ref update a rule forbids.

use crate::policy::DenyKind;

/// The kind of a ref update, for `deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateKind {
    Create,
    FastForward,
    ForcePush,
    Delete,
}

impl UpdateKind {
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
