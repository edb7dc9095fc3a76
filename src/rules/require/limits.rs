//! The size limits `max_files_changed`, `max_files_deleted`,
//! `max_lines_added`, `max_lines_deleted` and `max_lines_changed`: of a
//! commit's diff, or of a ref update's net change under `per = "push"`.

use toml::Spanned;

use crate::git::diff::{ChangeKind, DiffStats};
use crate::verdict::{Finding, Limit, LimitScope, NetChangeOverLimit, OverLimit};

use super::{Build, Entry, Kind, Requirement};
use crate::rules::{when, DiffNeed, Input, Needs, Rule, Subject};

pub(super) const KIND: Kind = Kind {
    keys: &[
        "max_files_changed",
        "max_files_deleted",
        "max_lines_added",
        "max_lines_deleted",
        "max_lines_changed",
    ],
    build,
};

/// How many offending paths a finding lists before counting the rest.
const PATHS_SHOWN: usize = 5;

/// The limits of one rule; `None` where the rule sets none.
#[derive(Debug, Default, Clone, Copy)]
pub struct Limits {
    pub max_files_changed: Option<u64>,
    pub max_files_deleted: Option<u64>,
    pub max_lines_added: Option<u64>,
    pub max_lines_deleted: Option<u64>,
    pub max_lines_changed: Option<u64>,
}

fn build(cx: &mut Build<'_, '_>, entries: &[Entry<'_>]) -> Option<Box<dyn Requirement>> {
    let mut limits = Limits::default();
    for entry in entries {
        let Some(value) = cx.read::<Spanned<i64>>(entry) else {
            continue;
        };
        let Ok(n) = u64::try_from(*value.get_ref()) else {
            cx.problems
                .error(value.span(), format!("`{}` must be 0 or more", entry.key));
            continue;
        };
        let slot = match entry.key {
            "max_files_changed" => &mut limits.max_files_changed,
            "max_files_deleted" => &mut limits.max_files_deleted,
            "max_lines_added" => &mut limits.max_lines_added,
            "max_lines_deleted" => &mut limits.max_lines_deleted,
            _ => &mut limits.max_lines_changed,
        };
        *slot = Some(n);
    }
    limits
        .any()
        .then(|| Box::new(limits) as Box<dyn Requirement>)
}

impl Limits {
    fn any(&self) -> bool {
        self.max_files_changed.is_some() || self.max_files_deleted.is_some() || self.needs_lines()
    }

    fn needs_lines(&self) -> bool {
        self.max_lines_added.is_some()
            || self.max_lines_deleted.is_some()
            || self.max_lines_changed.is_some()
    }

    fn level(&self) -> DiffNeed {
        if self.needs_lines() {
            DiffNeed::Lines
        } else {
            DiffNeed::Paths
        }
    }

    /// The limits a diff goes over.
    fn over(&self, stats: &DiffStats, scope: LimitScope, of_merge: bool) -> Vec<OverLimit> {
        let mut out = Vec::new();
        let paths = |paths: Vec<&[u8]>| -> (Vec<String>, usize) {
            let total = paths.len();
            let shown = paths
                .iter()
                .take(PATHS_SHOWN)
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            (shown, total.saturating_sub(PATHS_SHOWN))
        };
        let over = |limit, actual, max, (paths, more_paths)| OverLimit {
            limit,
            actual,
            max,
            paths,
            more_paths,
            added: None,
            deleted: None,
            scope,
            of_merge,
        };
        let changed = stats.files_changed() as u64;
        if let Some(max) = self.max_files_changed.filter(|&m| changed > m) {
            let all = stats.files.iter().map(|f| f.path()).collect();
            out.push(over(Limit::FilesChanged, changed, max, paths(all)));
        }
        let deleted = stats.files_deleted() as u64;
        if let Some(max) = self.max_files_deleted.filter(|&m| deleted > m) {
            let gone = stats
                .files
                .iter()
                .filter(|f| f.status == ChangeKind::Deleted)
                .map(|f| f.path())
                .collect();
            out.push(over(Limit::FilesDeleted, deleted, max, paths(gone)));
        }
        let (added, removed) = (stats.lines_added(), stats.lines_deleted());
        if let Some(max) = self.max_lines_added.filter(|&m| added > m) {
            out.push(over(Limit::LinesAdded, added, max, (Vec::new(), 0)));
        }
        if let Some(max) = self.max_lines_deleted.filter(|&m| removed > m) {
            out.push(over(Limit::LinesDeleted, removed, max, (Vec::new(), 0)));
        }
        if let Some(max) = self.max_lines_changed.filter(|&m| added + removed > m) {
            out.push(OverLimit {
                added: Some(added),
                deleted: Some(removed),
                ..over(Limit::LinesChanged, added + removed, max, (Vec::new(), 0))
            });
        }
        out
    }
}

impl Requirement for Limits {
    fn needs(&self) -> Needs {
        Needs {
            diff: Some(self.level()),
            ..Needs::default()
        }
    }

    fn judges_net_change(&self) -> bool {
        true
    }

    fn check(&self, rule: &Rule, input: &Input<'_>, out: &mut Vec<Finding>) -> Result<(), Needs> {
        let Some(stats) = input.diff else {
            return Err(self.needs());
        };
        let of_merge = matches!(input.subject, Subject::Commit(c) if c.is_merge());
        let over = self.over(stats, when::scope(rule), of_merge);
        match input.subject {
            Subject::Commit(_) => out.extend(over.into_iter().map(Finding::OverLimit)),
            Subject::NetChange { base, new } if !over.is_empty() => {
                out.push(Finding::NetChangeOverLimit(NetChangeOverLimit {
                    base,
                    new,
                    limits: over,
                }))
            }
            Subject::NetChange { .. } => {}
        }
        Ok(())
    }
}
