//! `require.approvals = { from = [groups], count = N, proof = "trailer" |
//! "pusher" | "signature" | [several] }`: distinct approvers from the
//! groups, not the author, each resting on its own proof.
//!
//! - trailer: an approval trailer naming a member of `from` (its word only);
//! - pusher: the pusher, when a member of `from`, is one approval, with or
//!   without a trailer; no trailer counts (the senior who merges approves);
//! - signature: each signature by a member of `from` that covers the
//!   commit (its own, or a signed merge of the push that brings it in).
//!
//! With several proofs each person counts once, by whichever proof they
//! have. Nobody approves a commit whose author line names them: that line
//! is the pusher's word, so believing it can only refuse approvals.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use serde::Deserialize;
use toml::Spanned;

use crate::facts::identity::{Directory, GroupId, Member, Who};
use crate::facts::signature::SigStatus;
use crate::facts::CommitFacts;
use crate::policy::max_members;
use crate::verdict::{
    Approval, Finding, MissingApproval, NotCounted, Proof, Proofs, Signature, Via,
};

use super::{Build, Entry, Kind, Requirement};
use crate::rules::{Input, Needs, Rule, Subject};

pub(super) const KIND: Kind = Kind {
    keys: &["approvals"],
    build,
};

/// How many candidate approvers a finding names.
const CANDIDATES_NAMED: usize = 3;

/// `proof = "pusher"` or `proof = ["pusher", "signature"]`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawProof {
    One(Proof),
    Many(Vec<Proof>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    from: Vec<Spanned<String>>,
    count: Option<Spanned<i64>>,
    proof: Option<Spanned<RawProof>>,
}

#[derive(Debug)]
pub struct Approvals {
    pub from: Vec<GroupId>,
    pub count: usize,
    pub proof: Proofs,
    /// What every finding of this requirement says alike, made once.
    groups: Arc<[String]>,
    trailer_key: Arc<str>,
    /// Everybody who could approve, in the order of the groups, and the
    /// findings' list of whom to ask when the author is none of them: made
    /// for the first finding, since it reads every member of the groups
    /// (of a directory file read on first use, too).
    candidates: OnceLock<(Vec<Candidate>, Asked)>,
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
    let proof = match raw.proof.as_ref().map(|p| p.get_ref()) {
        None => Proofs::only(Proof::Trailer),
        Some(RawProof::One(p)) => Proofs::only(*p),
        Some(RawProof::Many(list)) => {
            let mut proofs = Proofs::default();
            list.iter().for_each(|p| proofs.add(*p));
            proofs
        }
    };
    if proof == Proofs::default() {
        if let Some(p) = &raw.proof {
            cx.problems.error(
                p.span(),
                "approvals.proof is an empty list; name at least one of \"trailer\", \"pusher\", \"signature\"",
            );
        }
    }
    if named == 0 {
        cx.problems
            .error(span.clone(), "approvals.from must name at least one group");
    }
    // Only when every group resolved: an unknown group is already reported
    // and would make this count meaningless.
    if from.len() == named && named > 0 && proof != Proofs::default() {
        let where_ = raw.proof.as_ref().map_or(span.clone(), |p| p.span());
        match max_members(cx.directory, &from) {
            Some(max) if max < count => cx.problems.error(
                span,
                format!("approvals need {count} distinct approvers but the groups in `from` have only {max} member(s): the rule can never pass"),
            ),
            _ => {
                if let Some(problem) = unreachable(cx.directory, &from, proof, count) {
                    cx.problems.error(where_, problem);
                }
            }
        }
    }
    let groups: Arc<[String]> = from
        .iter()
        .map(|&g| cx.directory.group_name(g).to_owned())
        .collect();
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
        candidates: OnceLock::new(),
    }))
}

/// Why `count` approvals can never be counted under `proof`, if they
/// cannot: the pusher is one approval at most, a signature needs a member
/// with keys, a push a member the host can name.
fn unreachable(dir: &Directory, from: &[GroupId], proof: Proofs, count: usize) -> Option<String> {
    if proof.trailer {
        return None;
    }
    let members = people_of(dir, from);
    // E-mail entries that are no person: a host that reports verified
    // addresses (`settings.trust_host_emails`) may name them as pushers.
    let pushers = members.iter().any(|m| match m {
        Who::Person(p) => dir.can_be_pusher(*p),
        _ => true,
    });
    let signers = members
        .iter()
        .filter(|m| matches!(m, Who::Person(p) if dir.has_keys(*p)))
        .count();
    let reach = usize::from(proof.pusher && pushers) + if proof.signature { signers } else { 0 };
    if reach >= count {
        return None;
    }
    let shown = proof.shown();
    let why = match (proof.pusher, proof.signature) {
        (true, false) if pushers => "the pusher is one approval at most".to_owned(),
        (true, false) => "no member of `from` has a login or a key the host could name as the pusher".to_owned(),
        (false, true) => format!("only {signers} member(s) of `from` have `ssh_keys` to sign with"),
        _ => format!("the pusher is one approval and {signers} member(s) of `from` have `ssh_keys` to sign with"),
    };
    let hint = if proof.pusher && !proof.signature && pushers {
        " (use proof = [\"pusher\", \"signature\"] so that a senior's push and another senior's signature make two)"
    } else {
        ""
    };
    Some(format!(
        "approvals need {count} but under {shown} at most {reach} can ever be counted: {why}{hint}"
    ))
}

/// The distinct identities the groups name (globs name nobody in particular).
fn people_of(dir: &Directory, from: &[GroupId]) -> Vec<Who> {
    let mut out: Vec<Who> = Vec::new();
    for &g in from {
        let Some(group) = dir.groups.get(g.0) else {
            continue;
        };
        for m in &group.members {
            let who = match m {
                Member::Person(p) => Who::Person(*p),
                Member::Email(e) => dir.by_email(e.as_bytes()),
                Member::Glob { .. } => continue,
            };
            if !out.contains(&who) {
                out.push(who);
            }
        }
    }
    out
}

/// Who could approve: every member of the groups, each once, in the order
/// of the groups, as the policy names them.
/// Under pusher or signature proof only those who could give that proof.
fn candidates(dir: &Directory, from: &[GroupId], proof: Proofs) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    let mut shown: HashSet<String> = HashSet::new();
    for &g in from {
        let Some(group) = dir.groups.get(g.0) else {
            continue;
        };
        for m in &group.members {
            let candidate = match m {
                Member::Person(p) => {
                    let who = Who::Person(*p);
                    let trailer = dir.person(*p).and_then(|person| {
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
            let can_prove = proof.trailer
                || match &candidate.who {
                    Who::Person(p) => {
                        (proof.pusher && dir.can_be_pusher(*p))
                            || (proof.signature && dir.has_keys(*p))
                    }
                    Who::Email(_) => proof.pusher,
                    Who::Unknown => false,
                };
            if can_prove && shown.insert(candidate.shown.clone()) {
                out.push(candidate);
            }
        }
    }
    out
}

impl Requirement for Approvals {
    fn uses_pusher(&self) -> bool {
        self.proof.pusher
    }

    fn needs(&self) -> Needs {
        let signed = self.proof.signature;
        Needs {
            diff: None,
            signature: signed,
            merge_signers: signed,
        }
    }

    fn proves_identity(&self) -> bool {
        self.proof.proves_identity()
    }

    fn check(&self, _rule: &Rule, input: &Input<'_>, out: &mut Vec<Finding>) -> Result<(), Needs> {
        let Subject::Commit(c) = input.subject else {
            return Ok(());
        };
        let (sig, merge_signers) = if self.proof.signature {
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
    /// Why `who` cannot approve `c` (the author, outside the groups, counted
    /// already), or `None` when they can.
    fn refuses(
        &self,
        dir: &Directory,
        c: &CommitFacts,
        who: &Who,
        counted: &[Who],
    ) -> Option<NotCounted> {
        if *who == Who::Unknown {
            Some(NotCounted::NamesNobody { did_you_mean: None })
        } else if *who == c.author_who {
            Some(NotCounted::IsTheAuthor)
        } else if names_nobody(dir, who) {
            // The suggestion is looked for below, only for the few shown.
            Some(NotCounted::NamesNobody { did_you_mean: None })
        } else if !dir.in_any(who, &self.from) {
            Some(NotCounted::NotInGroups)
        } else if counted.contains(who) {
            Some(NotCounted::AlreadyCounted)
        } else {
            None
        }
    }

    /// Counts the approvals of one commit, each by the proof it has; a
    /// finding when there are too few.
    fn judge(
        &self,
        input: &Input<'_>,
        c: &CommitFacts,
        sig: &SigStatus,
        merge_signers: &[usize],
    ) -> Option<Finding> {
        let dir = &input.policy.directory;
        // Counted first; what each approval was is written out only for a
        // commit that fails, most commits of a large push pass.
        let mut counted: Vec<Who> = Vec::new();
        let mut found: Vec<(Via, Option<String>, Who, Option<NotCounted>)> = Vec::new();
        if self.proof.pusher {
            let pushed = input.pushed;
            match &pushed.who {
                None => found.push((
                    Via::Push,
                    None,
                    Who::Unknown,
                    Some(NotCounted::NoPusher {
                        looked_at: pushed.looked_at(),
                    }),
                )),
                Some(who) => {
                    let refused = self.refuses(dir, c, who, &counted);
                    if refused.is_none() {
                        counted.push(who.clone());
                    }
                    found.push((Via::Push, pushed.shown(), who.clone(), refused));
                }
            }
        }
        if self.proof.signature {
            match sig.signer() {
                Some(p) => {
                    let who = Who::Person(p);
                    let refused = self.refuses(dir, c, &who, &counted);
                    if refused.is_none() {
                        counted.push(who.clone());
                    }
                    found.push((Via::Signature, None, who, refused));
                }
                None => found.push((
                    Via::Signature,
                    None,
                    Who::Unknown,
                    Some(NotCounted::NotSigned {
                        signature: signature(sig, dir),
                    }),
                )),
            }
            // A signed merge is an approval in itself of what it brings in.
            let mut seen = HashSet::new();
            for &p in merge_signers {
                if !seen.insert(p) {
                    continue;
                }
                let who = Who::Person(p);
                let refused = self.refuses(dir, c, &who, &counted);
                if refused.is_none() {
                    counted.push(who.clone());
                }
                found.push((Via::SignedMerge, None, who, refused));
            }
        }
        for t in c.trailers_named(&input.policy.trailers.approval) {
            let who = dir.approver(&t.value);
            let mut refused = self.refuses(dir, c, &who, &counted);
            if refused.is_none() && !self.proof.trailer {
                refused = Some(NotCounted::TrailerIsNoProof);
            }
            if refused.is_none() {
                counted.push(who.clone());
            }
            let text = format!(
                "{}: {}",
                String::from_utf8_lossy(&t.key),
                String::from_utf8_lossy(&t.value)
            );
            found.push((Via::Trailer, Some(text), who, refused));
        }
        if counted.len() >= self.count {
            return None;
        }
        let mut suggested = 0;
        let found: Vec<Approval> = found
            .into_iter()
            .map(|(via, text, who, mut not_counted)| {
                if let (Some(NotCounted::NamesNobody { did_you_mean }), Who::Email(email)) =
                    (&mut not_counted, &who)
                {
                    // A commit may carry 100,000 approvals; the report shows a few.
                    if suggested < SUGGESTED_AT_MOST {
                        suggested += 1;
                        *did_you_mean = known_address_like(dir, email);
                    }
                }
                let (trailer, approver) = match via {
                    Via::Trailer => (text, (who != Who::Unknown).then(|| dir.describe(&who))),
                    // The pusher as the host named them: "carol (REMOTE_USER)".
                    Via::Push => (None, text),
                    Via::Signature | Via::SignedMerge => {
                        (None, (who != Who::Unknown).then(|| dir.describe(&who)))
                    }
                };
                Approval {
                    via,
                    trailer,
                    approver,
                    not_counted,
                }
            })
            .collect();
        // The author is not asked to approve their own commit, nor is anyone
        // whose approval already counted (a second one would not count).
        let (candidates, all_asked) = self.candidates.get_or_init(|| {
            let candidates = candidates(dir, &self.from, self.proof);
            let asked = Asked::of(candidates.iter());
            (candidates, asked)
        });
        let asked = if candidates
            .iter()
            .any(|k| k.who == c.author_who || counted.contains(&k.who))
        {
            Asked::of(
                candidates
                    .iter()
                    .filter(|k| k.who != c.author_who && !counted.contains(&k.who)),
            )
        } else {
            all_asked.clone()
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

/// How many approvals naming nobody get a "did you mean" looked for.
const SUGGESTED_AT_MOST: usize = 8;

/// An address that no person has and no group lists or matches names
/// nobody the policy knows: most often a typo of a known one
/// (`alice@exmaple.com`).
fn names_nobody(dir: &Directory, who: &Who) -> bool {
    matches!(who, Who::Email(_)) && !(0..dir.groups.len()).any(|g| dir.in_group(who, GroupId(g)))
}

/// The known address closest to `email`, when it looks like a typo of it.
fn known_address_like(dir: &Directory, email: &[u8]) -> Option<String> {
    let email = String::from_utf8_lossy(email);
    let known = dir
        .people()
        .flat_map(|p| p.emails.iter())
        .chain(dir.groups.iter().flat_map(|g| {
            g.members.iter().filter_map(|m| match m {
                Member::Email(e) => Some(e),
                _ => None,
            })
        }))
        .map(String::as_str);
    crate::policy::suggest::did_you_mean(&email, known).map(str::to_owned)
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
