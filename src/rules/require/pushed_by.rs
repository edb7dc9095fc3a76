//! `require.author_is_pusher = true` and `require.committer_is_pusher =
//! true`: the commit's author (or committer) is the person who pushes it,
//! in the spirit of GitLab's "reject commits not committed by the pusher"
//! and gitolite's EMAIL-CHECK. The pusher is what the host authenticated;
//! the author line is matched to the same person by the policy's people
//! (their e-mail addresses), so one's own commits pass and someone else's
//! (or a typed author line) do not.

use toml::Spanned;

use crate::facts::identity::Who;
use crate::verdict::{Finding, NotPushedBy, Role};

use super::{Build, Entry, Kind, Requirement};
use crate::rules::{Input, Needs, Rule, Subject};

pub(super) const KIND: Kind = Kind {
    keys: &["author_is_pusher", "committer_is_pusher"],
    build,
};

#[derive(Debug)]
struct PushedBy {
    roles: Vec<Role>,
}

fn build(cx: &mut Build<'_, '_>, entries: &[Entry<'_>]) -> Option<Box<dyn Requirement>> {
    let mut roles = Vec::new();
    for entry in entries {
        let on: Spanned<bool> = cx.read(entry)?;
        if on.into_inner() {
            roles.push(if entry.key == "author_is_pusher" {
                Role::Author
            } else {
                Role::Committer
            });
        }
    }
    (!roles.is_empty()).then(|| Box::new(PushedBy { roles }) as Box<dyn Requirement>)
}

impl Requirement for PushedBy {
    fn uses_pusher(&self) -> bool {
        true
    }

    fn needs(&self) -> Needs {
        Needs::default()
    }

    fn check(&self, _rule: &Rule, input: &Input<'_>, out: &mut Vec<Finding>) -> Result<(), Needs> {
        let Subject::Commit(c) = input.subject else {
            return Ok(());
        };
        let dir = &input.policy.directory;
        let pushed = input.pushed;
        for &role in &self.roles {
            let who = match role {
                Role::Author => c.author_who.clone(),
                Role::Committer => dir.by_email(&c.committer.email),
            };
            let is_pusher = who != Who::Unknown && pushed.who.as_ref() == Some(&who);
            if !is_pusher {
                out.push(Finding::NotPushedBy(NotPushedBy {
                    role,
                    who: (who != Who::Unknown).then(|| dir.describe(&who)),
                    pusher: pushed.shown(),
                    looked_at: pushed.looked_at(),
                }));
            }
        }
        Ok(())
    }
}
