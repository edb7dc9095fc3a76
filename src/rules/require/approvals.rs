//! `require.approvals = { from = [groups], count = N, proof = "trailer" |
//! "pusher" | "signature" }`: distinct approvers from the groups, not the
//! author, each resting on what `proof` says.

use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::facts::identity::{Directory, GroupId, Member, Who};
use crate::facts::signature::SigStatus;
use crate::facts::trailers::Trailer;
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
    /// What every finding of this requirement says alike, made once.
    groups: Arc<[String]>,
    trailer_key: Arc<str>,
    /// Everybody who could approve, in the order of the groups.
    candidates: Vec<Candidate>,
    /// The findings' list of whom to ask when the author is none of them.
    asked: Asked,
}

/// Someone who could approve.
#[derive(Debug)]
struct Candidate {
    who: Who,
    /// As the policy names them.
    shown: String,
    /// A trailer value naming them (`Name <email>`), when they have an address.
    trailer: Option<String>,
}

/// Whom a finding says to ask.
#[derive(Debug, Clone)]
struct Asked {
    /// The first [`CANDIDATES_NAMED`].
    named: Arc<[String]>,
    total: usize,
    example: Option<Arc<str>>,
}

impl Asked {
    /// The candidates but `author`.
    fn of<'c>(candidates: impl Iterator<Item = &'c Candidate>) -> Asked {
        let mut named = Vec::new();
        let mut total = 0;
        let mut example = None;
        for c in candidates {
            total += 1;
            if named.len() < CANDIDATES_NAMED {
                named.push(c.shown.clone());
            }
            if example.is_none() {
                example = c.trailer.as_deref().map(Arc::from);
            }
        }
        Asked {
            named: named.into(),
            total,
            example,
        }
    }
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
            cx.problems.error(p.span(), "`proof = \"signature\"` needs people with `ssh_keys` or `gpg_keys`; no person has one, so no approval could ever count");
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
    let groups: Arc<[String]> = from
        .iter()
        .map(|&g| cx.directory.group_name(g).to_owned())
        .collect();
    let candidates = candidates(cx.directory, &from);
    let asked = Asked::of(candidates.iter());
    Some(Box::new(Approvals {
        from,
        count,
        proof,
        groups,
        trailer_key: Arc::from(
            cx.trailers
                .approval
                .first()
                .map_or("Approved-By", String::as_str),
        ),
        candidates,
        asked,
    }))
}

/// Who could approve: every member of the groups, each once, in the order
/// of the groups, as the policy names them.
fn candidates(dir: &Directory, from: &[GroupId]) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for &g in from {
        let Some(group) = dir.groups.get(g.0) else {
            continue;
        };
        for m in &group.members {
            let candidate = match m {
                Member::Person(p) => {
                    let who = Who::Person(*p);
                    let trailer = dir.people.get(*p).and_then(|person| {
                        let email = person.emails.first()?;
                        Some(format!(
                            "{} <{email}>",
                            person.name.as_deref().unwrap_or(&person.id)
                        ))
                    });
                    Candidate {
                        shown: dir.describe(&who),
                        who,
                        trailer,
                    }
                }
                Member::Email(e) => Candidate {
                    who: dir.by_email(e.as_bytes()),
                    shown: format!("<{e}>"),
                    trailer: Some(format!("Name <{e}>")),
                },
                Member::Glob { pattern, .. } => Candidate {
                    who: Who::Unknown,
                    shown: format!("someone matching {pattern}"),
                    trailer: None,
                },
            };
            if !out.iter().any(|c| c.shown == candidate.shown) {
                out.push(candidate);
            }
        }
    }
    out
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
        // Counted first; what each approval was is written out only for a
        // commit that fails, most commits of a large push pass.
        let mut counted: Vec<Who> = Vec::new();
        let mut looked_at: Vec<(&Trailer<'static>, Who, Option<NotCounted>)> = Vec::new();
        for t in c.trailers_named(&policy.trailers.approval) {
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
            if not_counted.is_none() {
                counted.push(who.clone());
            }
            looked_at.push((t, who, not_counted));
        }
        let mut by_merges: Vec<usize> = Vec::new();
        if signature_proof {
            // A signed merge is an approval in itself of what it brings in.
            for &p in merge_signers {
                let who = Who::Person(p);
                if who != c.author_who && dir.in_any(&who, &self.from) && !counted.contains(&who) {
                    counted.push(who);
                    by_merges.push(p);
                }
            }
        }
        if counted.len() >= self.count {
            if self.proof != Proof::Pusher {
                return None;
            }
            let pushed = input.pushed;
            return match &pushed.who {
                Some(who) if dir.in_any(who, &self.from) => None,
                _ => Some(Finding::ApprovalNotPushed(ApprovalNotPushed {
                    groups: Arc::clone(&self.groups),
                    approvers: counted.iter().map(|w| dir.describe(w)).collect(),
                    pusher: pushed.shown(),
                    looked_at: pushed.looked_at(),
                })),
            };
        }
        let mut found: Vec<Approval> = looked_at
            .into_iter()
            .map(|(t, who, not_counted)| Approval {
                trailer: Some(format!(
                    "{}: {}",
                    String::from_utf8_lossy(&t.key),
                    String::from_utf8_lossy(&t.value)
                )),
                approver: (who != Who::Unknown).then(|| dir.describe(&who)),
                not_counted,
            })
            .collect();
        found.extend(by_merges.into_iter().map(|p| Approval {
            trailer: None,
            approver: Some(dir.describe(&Who::Person(p))),
            not_counted: None,
        }));
        // The author is not asked to approve their own commit.
        let asked = if self.candidates.iter().any(|k| k.who == c.author_who) {
            Asked::of(self.candidates.iter().filter(|k| k.who != c.author_who))
        } else {
            self.asked.clone()
        };
        Some(Finding::MissingApproval(MissingApproval {
            need: self.count,
            groups: Arc::clone(&self.groups),
            proof: self.proof,
            found,
            candidates: asked.named,
            candidates_total: asked.total,
            example: asked.example,
            trailer_key: Arc::clone(&self.trailer_key),
        }))
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
