//! `require.signed = true`: the commit carries a valid signature made with
//! the key of a person in the policy.

use toml::Spanned;

use crate::verdict::{Finding, Unsigned};

use super::{Build, Entry, Kind, Requirement};
use crate::rules::{Input, Needs, Rule, Subject};

pub(super) const KIND: Kind = Kind {
    keys: &["signed"],
    build,
};

#[derive(Debug)]
struct Signed;

fn build(cx: &mut Build<'_, '_>, entries: &[Entry<'_>]) -> Option<Box<dyn Requirement>> {
    let signed: Spanned<bool> = cx.read(entries.first()?)?;
    signed
        .into_inner()
        .then(|| Box::new(Signed) as Box<dyn Requirement>)
}

impl Requirement for Signed {
    fn needs(&self) -> Needs {
        Needs {
            signature: true,
            ..Needs::default()
        }
    }

    fn check(&self, _rule: &Rule, input: &Input<'_>, out: &mut Vec<Finding>) -> Result<(), Needs> {
        let Subject::Commit(_) = input.subject else {
            return Ok(());
        };
        let Some(sig) = input.signature else {
            return Err(self.needs());
        };
        if sig.signer().is_none() {
            out.push(Finding::Unsigned(Unsigned {
                signature: super::approvals::signature(sig, &input.policy.directory),
            }));
        }
        Ok(())
    }
}
