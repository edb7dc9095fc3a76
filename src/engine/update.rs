//! One ref update: what kind of update it is, which rules judge it (asked
//! once of [`rules::applies`] and used for everything after), its `deny`
//! violations, and the plan that judges each rule's commits, with diffs
//! computed on other threads while the walk reads them when some rule will
//! want them.

use crate::git::oid::ObjectId;
use crate::git::walk;
use crate::push::RefUpdate;
use crate::rules::{self, Applies, Rule, UpdateKind};

use super::parallel::Ahead;
use super::together::{Joint, Together};
use super::{aliases, plans, Engine, JudgeError};

/// What judging a rule's commits says about the rest of the update.
pub(super) enum Flow {
    Continue,
    /// The update was rejected as a whole (too many commits): the other
    /// rules are not judged.
    Stop,
}

impl Engine<'_, '_> {
    /// Judges one ref update.
    pub(super) fn update(&mut self, update: &RefUpdate) -> Result<(), JudgeError> {
        let policy = self.policy;
        let refname = update.name.as_str();
        // The rules of every name the update moves (see `aliases`); the
        // findings are still recorded under the name pushed.
        let aliases = self.aliases(refname)?;
        self.check_guarded(refname, &aliases.names)?;
        let applying: Vec<(&Rule, Applies)> = policy
            .rules
            .iter()
            .map(|rule| {
                let applies = aliases::applies_under(rule, &aliases.names, &self.pushed, policy);
                (rule, applies)
            })
            .collect();
        let moved;
        let update = match (update.old, aliases.old, update.new) {
            (None, Some(old), Some(_)) => {
                moved = RefUpdate {
                    old: Some(old),
                    ..update.clone()
                };
                &moved
            }
            _ => update,
        };
        // The rules that will diff this ref's commits one by one.
        let diff_rules: Vec<&Rule> = applying
            .iter()
            .filter(|(rule, applies)| *applies == Applies::Yes && plans::diffs_commits(rule))
            .map(|(rule, _)| *rule)
            .collect();
        let wants_diffs = !diff_rules.is_empty();
        let classify =
            move |oid: ObjectId, data: &[u8]| plans::classify(policy, &diff_rules, oid, data);
        let repo = self.repo.reopener();
        let lines = self.diffs.lines;
        let deadline = self.ctx.deadline.map(|d| d.at());
        let packs = std::sync::OnceLock::new();
        std::thread::scope(|scope| {
            let mut ahead = Ahead::new(
                wants_diffs.then_some(scope),
                &classify,
                &repo,
                &packs,
                lines,
                deadline,
            );
            self.update_in(update, &applying, &mut ahead)
        })
    }

    fn update_in(
        &mut self,
        update: &RefUpdate,
        applying: &[(&Rule, Applies)],
        ahead: &mut Ahead<'_, '_>,
    ) -> Result<(), JudgeError> {
        let refname = update.name.as_str();
        let (kind, new_commit, old_commit) = self.kind_of(update)?;
        // Whether a rule's walk read every commit the update brings (and so
        // checked the new ones: see `git::walk`).
        let mut walked = false;
        self.tip = new_commit;
        // Rules judged together by one walk (see `together`), read at the
        // first rule that judges commits.
        let mut together: Option<Together> = None;
        let mut tried = false;
        for (index, (rule, applies)) in applying.iter().enumerate() {
            match applies {
                Applies::No => continue,
                Applies::Fails(finding) => {
                    self.record(rule, refname, None, vec![finding.clone()], None);
                    continue;
                }
                Applies::Yes => {}
            }
            if let Some(finding) = rules::deny::check(rule, kind) {
                self.record(rule, refname, None, vec![finding], None);
            }
            if !rules::judges_commits(rule) {
                continue;
            }
            let Some(new) = new_commit else { continue };
            if !tried {
                tried = true;
                match self.read_together(applying, index, refname, new, old_commit)? {
                    Joint::Stop => return Ok(()),
                    Joint::No => {}
                    Joint::Read(t) => together = Some(t),
                }
            }
            if let Some(t) = together.as_mut().filter(|t| t.rules.contains(&index)) {
                self.record_together(t, index, rule, refname, ahead)?;
                walked = true;
                continue;
            }
            match self.judge_commits(rule, refname, new, old_commit, ahead)? {
                Flow::Continue => walked = true,
                Flow::Stop => return Ok(()),
            }
        }
        match new_commit {
            Some(new) if !walked => self.check_new_commits(refname, new, old_commit),
            _ => Ok(()),
        }
    }

    /// Reads every commit an update brings that no rule judged, so that a
    /// malformed new commit is refused whatever ref it is pushed to: once in
    /// the repository it would be old history, never checked again, and a
    /// later push could move a protected ref onto it.
    fn check_new_commits(
        &mut self,
        refname: &str,
        new: ObjectId,
        old: Option<ObjectId>,
    ) -> Result<(), JudgeError> {
        let (repo, ctx) = (self.repo, self.ctx);
        // Hidden: every existing ref, as for a rule that covers them all.
        self.commits
            .for_refs(
                repo,
                ctx,
                &|_| true,
                refname,
                new,
                old,
                0,
                false,
                &mut |_, _| {},
            )
            .map(|_| ())
    }

    /// The kind of the update for `deny`, and the commits its new and old
    /// values stand for (tags peeled; `None` for a deletion's new side, or a
    /// tree or blob).
    fn kind_of(
        &self,
        update: &RefUpdate,
    ) -> Result<(UpdateKind, Option<ObjectId>, Option<ObjectId>), JudgeError> {
        let refname = update.name.as_str();
        let repo_err = |source| JudgeError::Repo {
            refname: refname.to_owned(),
            source,
        };
        let new_commit = match update.new {
            None => None,
            Some(new) => {
                let walker = &self.commits.walker;
                let commit = self
                    .repo
                    .peel_to_commit_checked(new, &|oid| walker.known_old(oid))
                    .map_err(repo_err)?;
                if commit.is_none() && refname.starts_with("refs/heads/") {
                    let kind = self.repo.kind_of(new).map_err(repo_err)?;
                    return Err(JudgeError::BranchNotCommit {
                        refname: refname.to_owned(),
                        oid: new,
                        kind,
                    });
                }
                commit
            }
        };
        let old_commit = match update.old {
            None => None,
            Some(old) => self.repo.peel_to_commit(old).map_err(repo_err)?,
        };
        let kind = match (update.old, update.new) {
            (None, _) => UpdateKind::Create,
            (_, None) => UpdateKind::Delete,
            (Some(old), Some(new)) => match (old_commit, new_commit) {
                (Some(o), Some(n))
                    if walk::is_ancestor(self.repo, o, n, self.policy.settings.max_commits)
                        .map_err(repo_err)? =>
                {
                    UpdateKind::FastForward
                }
                _ if old == new => UpdateKind::FastForward,
                _ => UpdateKind::ForcePush,
            },
        };
        Ok((kind, new_commit, old_commit))
    }
}
