//! `require.approvals = { from = [groups], count = N, proof = "trailer" |
//! "pusher" | "signature" }`: distinct approvers from the groups, not the
//! author, each resting on what `proof` says.

use serde::Deserialize;
use toml::Spanned;

use crate::facts::identity::{Directory, GroupId, Member, Who};
use crate::facts::signature::SigStatus;
use crate::facts::CommitFacts;
use crate::policy::max_members;
use crate::verdict::{
    Approval, ApprovalNotPushed, Finding, MissingApproval, NotCounted, Proof, Signature,
};

use super::{Build, Entry, Kind, Requirement};
use crate::rules::{Input, Needs, Rule, Subject};

pub(super) const KIND: Kind = Kind {
    keys: &["approvals"],
    build,
};

/// How many candidate approvers a finding names.
const CANDIDATES_NAMED: usize = 3;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    from: Vec<Spanned<String>>,
    count: Option<Spanned<i64>>,
    proof: Option<Spanned<Proof>>,
}

#[derive(Debug)]
pub struct Approvals {
    pub from: Vec<GroupId>,
    pub count: usize,
    pub proof: Proof,
}

fn build(cx: &mut Build<'_, '_>, entries: &[Entry<'_>]) -> Option<Box<dyn Requirement>> {
    let entry = entries.first()?;
    let span = entry.value.span();
    let raw: Raw = cx.read(entry)?;
    let named = raw.from.len();
    let from = cx.problems.groups(cx.directory, raw.from);
    let count = match raw.count {
        None => 1,
        Some(c) => match usize::try_from(*c.get_ref()) {
            Ok(n) if n >= 1 => n,
            _ => {
                cx.problems
                    .error(c.span(), "approvals.count must be 1 or more");
                1
            }
        },
    };
    let proof = raw.proof.as_ref().map_or(Proof::Trailer, |p| *p.get_ref());
    if proof == Proof::Signature && cx.keys.is_empty() {
        if let Some(p) = &raw.proof {
            cx.problems.error(p.span(), "`proof = \"signature\"` needs people with `ssh_keys`; no person has one, so no approval could ever count");
        }
    }
    if named == 0 {
        cx.problems
            .error(span.clone(), "approvals.from must name at least one group");
    }
    // Only when every group resolved: an unknown group is already reported
    // and would make this count meaningless.
    if let Some(max) = max_members(cx.directory, &from).filter(|_| from.len() == named) {
        if max < count {
            cx.problems.error(
                span,
                format!("approvals need {count} distinct approvers but the groups in `from` have only {max} member(s): the rule can never pass"),
            );
        }
    }
    Some(Box::new(Approvals { from, count, proof }))
}

impl Requirement for Approvals {
    fn needs(&self) -> Needs {
        let signed = self.proof == Proof::Signature;
        Needs {
            diff: None,
            signature: signed,
            merge_signers: signed,
        }
    }

    fn check(&self, _rule: &Rule, input: &Input<'_>, out: &mut Vec<Finding>) -> Result<(), Needs> {
        let Subject::Commit(c) = input.subject else {
            return Ok(());
        };
        let (sig, merge_signers) = if self.proof == Proof::Signature {
            match (input.signature, input.merge_signers) {
                (Some(sig), Some(signers)) => (sig, signers),
                _ => return Err(self.needs()),
            }
        } else {
            (&SigStatus::Unsigned, &[][..])
        };
        out.extend(self.judge(input, c, sig, merge_signers));
        Ok(())
    }
}

impl Approvals {
    /// Counts the approvals of one commit; a finding when there are too few.
    fn judge(
        &self,
        input: &Input<'_>,
        c: &CommitFacts,
        sig: &SigStatus,
        merge_signers: &[usize],
    ) -> Option<Finding> {
        let policy = input.policy;
        let dir = &policy.directory;
        let signature_proof = self.proof == Proof::Signature;
        let covered = |who: &Who| match who {
            Who::Person(p) => sig.signer() == Some(*p) || merge_signers.contains(p),
            _ => false,
        };
        let mut counted: Vec<Who> = Vec::new();
        let mut found: Vec<Approval> = Vec::new();
        for t in c.trailers_named(&policy.trailers.approval) {
            let trailer = format!(
                "{}: {}",
                String::from_utf8_lossy(&t.key),
                String::from_utf8_lossy(&t.value)
            );
            let who = dir.approver(&t.value);
            let not_counted = if who == Who::Unknown {
                Some(NotCounted::NamesNobody)
            } else if who == c.author_who {
                Some(NotCounted::IsTheAuthor)
            } else if !dir.in_any(&who, &self.from) {
                Some(NotCounted::NotInGroups)
            } else if counted.contains(&who) {
                Some(NotCounted::AlreadyCounted)
            } else if signature_proof && !covered(&who) {
                Some(NotCounted::NotSigned {
                    signature: signature(sig, dir),
                })
            } else {
                None
            };
            found.push(Approval {
                trailer: Some(trailer),
                approver: (who != Who::Unknown).then(|| dir.describe(&who)),
                not_counted: not_counted.clone(),
            });
            if not_counted.is_none() {
                counted.push(who);
            }
        }
        if signature_proof {
            // A signed merge is an approval in itself of what it brings in.
            for &p in merge_signers {
                let who = Who::Person(p);
                if who != c.author_who && dir.in_any(&who, &self.from) && !counted.contains(&who) {
                    found.push(Approval {
                        trailer: None,
                        approver: Some(dir.describe(&who)),
                        not_counted: None,
                    });
                    counted.push(who);
                }
            }
        }
        let groups: Vec<String> = self
            .from
            .iter()
            .map(|&g| dir.group_name(g).to_owned())
            .collect();
        if counted.len() >= self.count {
            if self.proof != Proof::Pusher {
                return None;
            }
            let pushed = input.pushed;
            return match &pushed.who {
                Some(who) if dir.in_any(who, &self.from) => None,
                _ => Some(Finding::ApprovalNotPushed(ApprovalNotPushed {
                    groups,
                    approvers: counted.iter().map(|w| dir.describe(w)).collect(),
                    pusher: pushed.shown(),
                    looked_at: pushed.looked_at(),
                })),
            };
        }
        let (candidates, candidates_total, example) = self.candidates(dir, &c.author_who);
        Some(Finding::MissingApproval(MissingApproval {
            need: self.count,
            groups,
            proof: self.proof,
            found,
            candidates,
            candidates_total,
            example,
            trailer_key: policy
                .trailers
                .approval
                .first()
                .map_or("Approved-By", String::as_str)
                .to_owned(),
        }))
    }

    /// Who could approve (the first [`CANDIDATES_NAMED`] and how many in
    /// all) and a ready-to-paste trailer value for the first of them with an
    /// address.
    fn candidates(&self, dir: &Directory, author: &Who) -> (Vec<String>, usize, Option<String>) {
        let mut names: Vec<String> = Vec::new();
        let mut example: Option<String> = None;
        for &g in &self.from {
            let Some(group) = dir.groups.get(g.0) else {
                continue;
            };
            for m in &group.members {
                let (who, shown, value) = match m {
                    Member::Person(p) => {
                        let who = Who::Person(*p);
                        let value = dir.people.get(*p).and_then(|person| {
                            let email = person.emails.first()?;
                            Some(format!(
                                "{} <{email}>",
                                person.name.as_deref().unwrap_or(&person.id)
                            ))
                        });
                        let shown = dir.describe(&who);
                        (who, shown, value)
                    }
                    Member::Email(e) => (
                        dir.by_email(e.as_bytes()),
                        format!("<{e}>"),
                        Some(format!("Name <{e}>")),
                    ),
                    Member::Glob { pattern, .. } => {
                        (Who::Unknown, format!("someone matching {pattern}"), None)
                    }
                };
                if &who != author && !names.contains(&shown) {
                    names.push(shown);
                    if example.is_none() {
                        example = value;
                    }
                }
            }
        }
        let total = names.len();
        names.truncate(CANDIDATES_NAMED);
        (names, total, example)
    }
}

/// What a commit's signature showed, with the signer named as the policy
/// names them.
pub(super) fn signature(sig: &SigStatus, dir: &Directory) -> Signature {
    match sig {
        SigStatus::Unsigned => Signature::Unsigned,
        SigStatus::Good {
            person,
            fingerprint,
        } => Signature::Good {
            signer: dir.describe(&Who::Person(*person)),
            fingerprint: fingerprint.clone(),
        },
        SigStatus::UnknownKey { fingerprint } => Signature::UnknownKey {
            fingerprint: fingerprint.clone(),
        },
        SigStatus::Bad { reason } => Signature::Bad {
            reason: reason.clone(),
        },
        SigStatus::Unsupported { kind } => Signature::Unsupported {
            format: (*kind).to_owned(),
        },
    }
}
