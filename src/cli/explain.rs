//! `trailgate explain`: for each commit, what trailgate concludes and why:
//! its disclosure trailers and what each says, every AI mark found (with
//! its strength, and whether `ai.detect` counts it), who the author,
//! committer and approvers are to the policy (and whether anything proves
//! it), and which rules select the commit. It answers "why does it think my
//! commit is AI-assisted?" with the same facts the hook computes.

use std::fmt::Write as _;
use std::path::Path;

use super::*;
use crate::facts::ai::{self, Seen};
use crate::facts::identity::Who;
use crate::facts::signature::SigStatus;
use crate::facts::CommitFacts;
use crate::rules::{Known, Policy, Selects};

pub(super) fn explain(
    env: &HookEnv,
    config: Option<&Path>,
    refname: Option<String>,
    commits: &[String],
) -> Result<u8, Error> {
    let repo = Repo::discover()?;
    let path = policy_path_for_tools(env, config)?;
    let policy = crate::rules::load(&path)?;
    let refname = match refname {
        Some(name) if name.starts_with("refs/") => Some(name),
        Some(name) => Some(format!("refs/heads/{name}")),
        None => repo.refs().current_branch()?,
    };
    let objects = repo.objects()?;
    let mut out = format!(
        "policy {} (ai.detect = \"{}\", ai.human_help = \"{}\")\n",
        path.display(),
        policy.ai_detect.as_str(),
        policy.human_help.as_str()
    );
    for spec in commits {
        let oid = revision::resolve_commit(&repo, spec)?;
        let data = objects.read(oid)?;
        let facts = crate::facts::of_commit(oid, data.data(), &policy.facts())
            .map_err(|reason| RepoError::BadCommit { oid, reason })?;
        let signature = policy.keys.verify_commit(data.data(), oid.kind());
        out.push('\n');
        commit(&mut out, &policy, &facts, &signature, refname.as_deref());
    }
    let _ = std::io::stdout().write_all(out.as_bytes());
    Ok(EXIT_ACCEPT)
}

/// Everything about one commit.
fn commit(
    out: &mut String,
    policy: &Policy,
    c: &CommitFacts,
    sig: &SigStatus,
    refname: Option<&str>,
) {
    let _ = writeln!(out, "commit {} {:?}", c.oid, clean(&c.subject));
    let verdict = match (&c.ai_declared, &c.ai_detected) {
        (Some(_), Some(_)) => "yes (declared and detected)",
        (Some(_), None) => "yes (declared)",
        (None, Some(_)) => "yes (detected)",
        (None, None) => "no",
    };
    let _ = writeln!(out, "  AI-assisted: {verdict}");
    let _ = writeln!(
        out,
        "  declared:    {}",
        c.ai_declared
            .as_deref()
            .map_or("no".into(), |d| format!("yes, by `{}`", clean(d)))
    );
    let _ = writeln!(
        out,
        "  detected:    {}",
        c.ai_detected
            .as_deref()
            .map_or("no".into(), |d| format!("yes, by {}", clean(d)))
    );
    let config = policy.facts();
    let disclosures = config.disclosures(&c.trailers);
    if disclosures.is_empty() {
        let _ = writeln!(out, "  disclosure trailers: none");
    }
    for (t, reading) in &disclosures {
        let _ = writeln!(
            out,
            "  disclosure:  `{}: {}`: {}",
            String::from_utf8_lossy(&t.key),
            clean(&String::from_utf8_lossy(&t.value)),
            reading
        );
    }
    marks(out, policy, c);
    people(out, policy, c, sig);
    rules(out, policy, c, sig, refname);
}

/// Every mark that fires, built-in (weak ones too) and the policy's own.
fn marks(out: &mut String, policy: &Policy, c: &CommitFacts) {
    let config = policy.facts();
    let text = &c.message;
    let seen = Seen::new(&c.trailers, &c.author, &c.committer, text).with_help(config.people());
    // The policy's own markers follow the built-in ones `ai.detect` chose
    // (see policy validation).
    let own = policy
        .ai_markers
        .len()
        .saturating_sub(ai::builtin_for(policy.ai_detect).len());
    let builtin = ai::builtin();
    let policy_markers = policy.ai_markers.iter().skip(policy.ai_markers.len() - own);
    let mut any = false;
    for (m, counted) in builtin
        .iter()
        .map(|m| (m, policy.ai_detect.counts(m.strength)))
        .chain(policy_markers.map(|m| (m, true)))
    {
        let Some(hit) = m.detect(&seen) else { continue };
        any = true;
        let note = if counted {
            String::new()
        } else if policy.ai_detect == ai::Detect::Off {
            " (not counted: ai.detect = \"off\")".into()
        } else {
            " (not counted: ai.detect = \"builtin\" counts strong marks only; \"all\" counts it)"
                .into()
        };
        let _ = writeln!(out, "  mark:        {}{note}", clean(&m.describe_hit(&hit)));
    }
    if !any {
        let _ = writeln!(out, "  marks:       none");
    }
}

/// Author, committer and approvers as the policy knows them.
fn people(out: &mut String, policy: &Policy, c: &CommitFacts, sig: &SigStatus) {
    let dir = &policy.directory;
    let signer = sig.signer();
    let proof = |who: &Who, what: &str, ident: bool| {
        match (who, signer) {
        (Who::Person(p), Some(s)) if *p == s => {
            "proven: the commit is signed with their key".to_owned()
        }
        // Under proven identity an unproven line names nobody, unless the
        // person pushes it themselves: the push, unknown here, decides.
        _ if ident && policy.settings.identity == crate::policy::Identity::Proven => format!(
            "claimed, not proven: under settings.identity = \"proven\" {what} counts as nobody unless that person pushes it (decided at push time)"
        ),
        _ => format!("claimed: {what} is the pusher's word"),
    }
    };
    for (role, ident) in [("author", &c.author), ("committer", &c.committer)] {
        let who = dir.by_email(&ident.email);
        let _ = writeln!(
            out,
            "  {role}:{:pad$}{}: {}; {}",
            "",
            clean(&ident.display()),
            described(policy, &who),
            proof(&who, &format!("the {role} line"), true),
            pad = 12 - role.len()
        );
    }
    let approvals = c.trailers_named(&policy.trailers.approval);
    for t in approvals {
        let who = dir.approver(&t.value);
        let _ = writeln!(
            out,
            "  approver:    `{}: {}`: {}; {}",
            String::from_utf8_lossy(&t.key),
            clean(&String::from_utf8_lossy(&t.value)),
            described(policy, &who),
            proof(&who, "the trailer", false)
        );
    }
    let _ = writeln!(
        out,
        "  signature:   {}",
        sig.describe(|p| dir.describe(&Who::Person(p)))
    );
}

/// `alice (Alice Senior), groups senior` / `<x@example.com>, no group`.
fn described(policy: &Policy, who: &Who) -> String {
    let dir = &policy.directory;
    let groups: Vec<&str> = dir
        .groups
        .iter()
        .enumerate()
        .filter(|(i, _)| dir.in_group(who, crate::facts::identity::GroupId(*i)))
        .map(|(_, g)| g.name.as_str())
        .collect();
    let person = match who {
        Who::Person(_) => format!("person {}", dir.describe(who)),
        Who::Email(_) => format!("{}, no person of the policy", dir.describe(who)),
        Who::Unknown => dir.describe(who),
    };
    if groups.is_empty() {
        format!("{person}, in no group")
    } else {
        format!("{person}, groups {}", groups.join(", "))
    }
}

/// Which rules judge the commit, and which condition decides.
fn rules(
    out: &mut String,
    policy: &Policy,
    c: &CommitFacts,
    sig: &SigStatus,
    refname: Option<&str>,
) {
    for rule in &policy.rules {
        let conditions = crate::rules::when::conditions(rule, &policy.directory, c);
        let shown: Vec<String> = conditions
            .iter()
            .map(|(what, holds)| match holds {
                Some(true) => format!("{what}: yes"),
                Some(false) => format!("{what}: no"),
                None => what.clone(),
            })
            .collect();
        let verdict = if rule.mode == Mode::Off {
            "is off".to_owned()
        } else if !crate::rules::judges_commits(rule) {
            "judges ref updates, not commits".to_owned()
        } else if refname.is_some_and(|r| !rule.applies_to(r)) {
            format!("does not cover {}", refname.unwrap_or_default())
        } else {
            // The push is not known here: only the signature proves an author.
            let evidence = crate::rules::Evidence {
                pushed: None,
                signature: Some(sig),
            };
            match crate::rules::selects(rule, policy, Known::Facts(c), None, evidence) {
                Selects::Yes => "selects it".to_owned(),
                Selects::No => "does not select it".to_owned(),
                Selects::NeedsDiff(_) | Selects::NeedsFacts => {
                    "selects it if it changes a path its `touches` names".to_owned()
                }
                Selects::NeedsProof => {
                    "depends on whether the push proves its author (decided at push time)"
                        .to_owned()
                }
            }
        };
        let detail = if shown.is_empty() {
            String::new()
        } else {
            format!(" ({})", shown.join("; "))
        };
        let _ = writeln!(out, "  rule {}: {verdict}{detail}", rule.name);
    }
    if refname.is_none() {
        let _ = writeln!(
            out,
            "  (no --ref and HEAD is not on a branch: the rules' refs were not checked)"
        );
    }
}

/// Control characters (a pusher's bytes) shown as spaces.
fn clean(s: &str) -> String {
    s.chars()
        .map(|ch| if ch.is_control() { ' ' } else { ch })
        .collect()
}
