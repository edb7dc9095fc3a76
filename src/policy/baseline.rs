//! `settings.baseline`: history an administrator declares already accepted
//! when trailgate is adopted on a repository with a past (README "Adopting
//! trailgate on existing history"). Commits reachable from a baseline point
//! are not judged; the point is a full commit id or a ref that only an
//! administrator moves, never a date (a pusher writes the dates).
//!
//! ```toml
//! [settings]
//! baseline = "refs/trailgate/baseline"           # every repository: its own ref
//! # or, per repository name (globs as in `repos`):
//! # baseline = { "acme/payments" = "refs/trailgate/baseline", "infra/**" = ["<40 hex>"] }
//! ```
//!
//! This module reads and validates the setting; resolving it in a
//! repository (and refusing pushes to a baseline ref) is the engine's.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::globs::RepoPatterns;
use super::validate::Validator;
use crate::git::oid::ObjectId;

type S<T> = toml::Spanned<T>;

/// One baseline point: where accepted history ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaselinePoint {
    /// A full ref name; its value before the push (peeled to a commit).
    Ref(String),
    /// A commit (or a tag of one) by its full id.
    Commit(ObjectId),
}

impl fmt::Display for BaselinePoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BaselinePoint::Ref(name) => f.write_str(name),
            BaselinePoint::Commit(oid) => write!(f, "{oid}"),
        }
    }
}

/// `settings.baseline`, validated.
#[derive(Debug, Default)]
pub struct Baseline {
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    /// `None`: every repository the policy serves.
    repos: Option<RepoPatterns>,
    points: Vec<BaselinePoint>,
}

impl Baseline {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The points that apply to the repository named `name`. Entries for
    /// named repositories do not apply where the name is unknown: more
    /// history is then judged, never less.
    pub fn for_repository(&self, name: Option<&str>) -> Vec<&BaselinePoint> {
        let mut out: Vec<&BaselinePoint> = Vec::new();
        for entry in &self.entries {
            let applies = match (&entry.repos, name) {
                (None, _) => true,
                (Some(globs), Some(name)) => globs.matches(name),
                (Some(_), None) => false,
            };
            if applies {
                for point in &entry.points {
                    if !out.contains(&point) {
                        out.push(point);
                    }
                }
            }
        }
        out
    }

    /// The baseline ref that a push to `refname` would move, if any: a
    /// baseline ref of any entry (whatever repository it names, so that an
    /// unknown or renamed repository protects it too), compared without
    /// regard to ASCII case (a case-insensitive file system stores
    /// `refs/Trailgate/Baseline` in the same file).
    pub fn guarded_ref(&self, refname: &str) -> Option<&str> {
        self.entries
            .iter()
            .flat_map(|e| &e.points)
            .find_map(|p| match p {
                BaselinePoint::Ref(name) if name.eq_ignore_ascii_case(refname) => {
                    Some(name.as_str())
                }
                _ => None,
            })
    }
}

/// The setting as written: one point or a list of them for every
/// repository, or a table of repository globs to points.
#[derive(Debug)]
pub enum RawBaseline {
    Everywhere(RawPoints),
    PerRepository(Vec<(S<String>, S<RawPoints>)>),
}

/// One point or a list of points. A lone string carries no span of its own:
/// it takes its value's.
#[derive(Debug)]
pub enum RawPoints {
    One(String),
    Many(Vec<S<String>>),
}

impl RawPoints {
    fn spanned(self, span: std::ops::Range<usize>) -> Vec<S<String>> {
        match self {
            RawPoints::One(text) => vec![S::new(span, text)],
            RawPoints::Many(list) => list,
        }
    }
}

const EXPECTED: &str = "a full commit id or a ref name (\"refs/trailgate/baseline\"), a list of them, or a table of repository names to them";

struct PointsVisitor;

impl<'de> Visitor<'de> for PointsVisitor {
    type Value = RawPoints;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a full commit id or a ref name, or a list of them")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawPoints, E> {
        Ok(RawPoints::One(v.to_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawPoints, A::Error> {
        let mut out = Vec::new();
        while let Some(point) = seq.next_element::<S<String>>()? {
            out.push(point);
        }
        Ok(RawPoints::Many(out))
    }
}

impl<'de> Deserialize<'de> for RawPoints {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PointsVisitor)
    }
}

struct BaselineVisitor;

impl<'de> Visitor<'de> for BaselineVisitor {
    type Value = RawBaseline;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawBaseline, E> {
        PointsVisitor.visit_str(v).map(RawBaseline::Everywhere)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawBaseline, A::Error> {
        PointsVisitor.visit_seq(seq).map(RawBaseline::Everywhere)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawBaseline, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<S<String>>()? {
            out.push((key, map.next_value::<S<RawPoints>>()?));
        }
        Ok(RawBaseline::PerRepository(out))
    }
}

impl<'de> Deserialize<'de> for RawBaseline {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BaselineVisitor)
    }
}

impl Validator<'_> {
    /// `settings.baseline`, every problem reported at its position.
    pub(super) fn baseline(&mut self, raw: S<RawBaseline>) -> Baseline {
        let span = raw.span();
        let mut out = Baseline::default();
        match raw.into_inner() {
            RawBaseline::Everywhere(points) => {
                let points = self.baseline_points(points.spanned(span.clone()), span);
                if !points.is_empty() {
                    out.entries.push(Entry {
                        repos: None,
                        points,
                    });
                }
            }
            RawBaseline::PerRepository(entries) => {
                if entries.is_empty() {
                    self.error(span, "settings.baseline = {} declares no baseline; leave it out, or name repositories (`{ \"acme/payments\" = \"refs/trailgate/baseline\" }`)");
                }
                for (key, points) in entries {
                    let key_span = key.span();
                    let repos = self.repo_patterns(S::new(key_span, vec![key]));
                    let points_span = points.span();
                    let points = points.into_inner().spanned(points_span.clone());
                    let points = self.baseline_points(points, points_span);
                    if let (Some(repos), false) = (repos, points.is_empty()) {
                        out.entries.push(Entry {
                            repos: Some(repos),
                            points,
                        });
                    }
                }
            }
        }
        out
    }

    fn baseline_points(
        &mut self,
        list: Vec<S<String>>,
        span: std::ops::Range<usize>,
    ) -> Vec<BaselinePoint> {
        if list.is_empty() {
            self.error(span, "an empty baseline list declares nothing accepted; leave it out, or list full commit ids or a ref (\"refs/trailgate/baseline\")");
        }
        let mut out = Vec::new();
        for point in list {
            let span = point.span();
            let text = point.into_inner();
            match parse_point(&text) {
                Ok(point) => out.push(point),
                Err(message) => self.error(span, message),
            }
        }
        out
    }
}

/// One point as written, or what is wrong with it.
fn parse_point(text: &str) -> Result<BaselinePoint, String> {
    let hex = !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit());
    if hex {
        return ObjectId::from_hex(text.as_bytes())
            .map(BaselinePoint::Commit)
            .ok_or_else(|| format!("baseline `{text}` is not a full commit id: write all 40 (SHA-1) or 64 (SHA-256) hex digits, as `git rev-parse {text}` prints them (an abbreviation could come to name another commit)"));
    }
    if !text.starts_with("refs/") {
        return Err(format!("baseline `{text}` is neither a full commit id nor a ref name under refs/: write the commit (`git rev-parse {text}`) or a ref such as \"refs/trailgate/baseline\"; a date is no baseline, since the pusher writes commit dates"));
    }
    if !crate::git::refs::valid_push_name(text) {
        return Err(format!("baseline `{text}` is not a valid ref name"));
    }
    if text.starts_with("refs/heads/") || text.starts_with("refs/tags/") {
        return Err(format!("baseline `{text}` is a branch or tag, which pushers move: every commit pushed there would count as accepted. Use a ref outside refs/heads/ and refs/tags/ (\"refs/trailgate/baseline\"), set on the server with `git update-ref`"));
    }
    Ok(BaselinePoint::Ref(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_full_ids_or_refs_outside_branches_and_tags() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        assert!(matches!(parse_point(id), Ok(BaselinePoint::Commit(_))));
        assert_eq!(
            parse_point("refs/trailgate/baseline"),
            Ok(BaselinePoint::Ref("refs/trailgate/baseline".into()))
        );
        for bad in [
            "0123456",
            "2024-01-01",
            "main",
            "refs/heads/main",
            "refs/tags/v1",
            "refs/bad..name",
            "",
        ] {
            assert!(parse_point(bad).is_err(), "{bad}");
        }
    }
}
