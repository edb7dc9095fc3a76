//! The names a ref update is judged under: the ref it really moves, not only
//! the name the pusher typed.
//!
//! - A symbolic ref on the server (`refs/heads/master` -> `refs/heads/main`
//!   after a rename): receive-pack hands the hook the name pushed, and moves
//!   the ref it points to. The update is judged under the rules of every ref
//!   of the chain (git follows at most five levels).
//! - `GIT_NAMESPACE`: receive-pack strips the namespace from the names the
//!   hook sees, and stores `refs/namespaces/<ns>/<name>`. The update is
//!   judged under both: the name as pushed (a namespace is a repository of
//!   its own, so `refs = ["refs/heads/main"]` protects every namespace's
//!   main) and the full name (so rules on `refs/namespaces/**` apply).
//! - Case: with `core.ignorecase = true` (a case-insensitive file system),
//!   `refs/heads/Main` is the file of `refs/heads/main`; a name that equals
//!   an existing ref but for ASCII case is judged under that ref's rules,
//!   and an update that "creates" it is judged as an update from that ref's
//!   value (so it cannot pass for a creation and skip `deny = ["force-push"]`).
//!
//! - A tag named like an existing branch (`refs/tags/main`): git's short
//!   names resolve to the tag first (`git rev-parse main`, `git archive
//!   main`, `git merge main` in a clone that fetched tags, with only an
//!   "ambiguous" warning), so the tag is judged under the branch's rules
//!   too.
//!
//! `HEAD` cannot be pushed to (receive-pack refuses names outside `refs/`,
//! and so does trailgate's stdin reader); a symbolic ref that points at
//! `HEAD` is followed like any other.

use crate::git::oid::ObjectId;
use crate::git::repo::config_string;
use crate::rules::{self, Applies, Rule};

use super::{Engine, JudgeError};

/// How deep git follows symbolic refs (`SYMREF_MAXDEPTH`).
const MAX_DEPTH: usize = 5;

/// The names an update is judged under, the pushed one first, and the value
/// of the ref it really moves when the pushed name did not exist.
pub(super) struct Aliases {
    pub names: Vec<String>,
    pub old: Option<ObjectId>,
}

/// `refs/namespaces/a/refs/namespaces/b/` for `GIT_NAMESPACE=a/b`, as git's
/// `expand_namespace` builds it (empty components skipped).
pub fn namespace_prefix(namespace: &str) -> String {
    namespace
        .split('/')
        .filter(|c| !c.is_empty())
        .map(|c| format!("refs/namespaces/{c}/"))
        .collect()
}

impl Engine<'_, '_> {
    /// The names `pushed` is judged under (module docs).
    pub(super) fn aliases(&mut self, pushed: &str) -> Result<Aliases, JudgeError> {
        let repo_err = |source| JudgeError::Repo {
            refname: pushed.to_owned(),
            source,
        };
        let mut names = vec![pushed.to_owned()];
        let prefix = self
            .ctx
            .namespace
            .as_deref()
            .map(namespace_prefix)
            .unwrap_or_default();
        let stored = format!("{prefix}{pushed}");
        let refs = self.repo.refs();
        let mut current = stored.clone();
        names.push(stored);
        for _ in 0..MAX_DEPTH {
            let Some(target) = refs.symbolic_target(&current).map_err(repo_err)? else {
                break;
            };
            if let Some(inner) = target.strip_prefix(prefix.as_str()) {
                names.push(inner.to_owned());
            }
            names.push(target.clone());
            current = target;
        }
        // A tag named like an existing branch shadows it: git resolves the
        // short name `main` as `refs/tags/main` before `refs/heads/main`.
        // Looked up only when a rule protects the branch's name and not
        // the tag's, so a push of many tags asks nothing more.
        if let Some(short) = pushed.strip_prefix("refs/tags/") {
            let branch = format!("refs/heads/{short}");
            let protects = self.policy.rules.iter().any(|r| {
                r.refs
                    .as_ref()
                    .is_some_and(|g| g.matches(&branch) && !g.matches(pushed))
            });
            if protects {
                let stored_branch = format!("{prefix}{branch}");
                let exists = refs
                    .direct_target(&stored_branch)
                    .map_err(repo_err)?
                    .is_some()
                    || refs
                        .symbolic_target(&stored_branch)
                        .map_err(repo_err)?
                        .is_some();
                if exists {
                    names.push(branch);
                }
            }
        }
        let mut old = None;
        if self.case_refs.is_none() {
            let ignorecase = config_string(self.repo.path(), "core.ignorecase")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            // Listed once per push: a push of many tags asks for each.
            let existing = if ignorecase {
                refs.existing().map_err(repo_err)?
            } else {
                Vec::new()
            };
            self.case_refs = Some(existing);
        }
        for existing in self.case_refs.iter().flatten() {
            let same = names
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&existing.name) && *n != existing.name);
            if same {
                old.get_or_insert(existing.target);
                names.push(existing.name.clone());
            }
        }
        let mut seen = std::collections::HashSet::new();
        names.retain(|n| seen.insert(n.clone()));
        Ok(Aliases { names, old })
    }
}

/// Whether `rule` judges an update known under `names`: under the first of
/// them it applies to.
pub(super) fn applies_under(
    rule: &Rule,
    names: &[String],
    pushed: &rules::PushedBy<'_>,
    policy: &rules::Policy,
) -> Applies {
    for name in names {
        match rules::applies(rule, name, pushed, policy) {
            Applies::No => continue,
            other => return other,
        }
    }
    Applies::No
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_expand_as_git_expands_them() {
        assert_eq!(namespace_prefix("ns"), "refs/namespaces/ns/");
        assert_eq!(
            namespace_prefix("a/b"),
            "refs/namespaces/a/refs/namespaces/b/"
        );
        assert_eq!(namespace_prefix("/a//"), "refs/namespaces/a/");
        assert_eq!(namespace_prefix(""), "");
    }
}
