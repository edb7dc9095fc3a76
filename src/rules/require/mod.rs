//! What a rule requires of the commits it selects: a registry of
//! requirement kinds, one file each.
//!
//! A kind owns its part of the `require` table (its keys, their serde
//! types, their validation into a typed requirement, with every problem at
//! its `file:line:column`), its check, and the findings it reports. Adding a
//! kind is one new file here and one line in [`KINDS`]; the policy module
//! knows nothing of them (see [`crate::rules::load`]).

mod approvals;
mod limits;
mod pushed_by;
mod signed;
mod trailers;

use std::fmt;
use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::de::{DeValue, ValueDeserializer};
use toml::Spanned;

use crate::facts::identity::Directory;
use crate::facts::signature::KeyRing;
use crate::facts::TrailerKeys;
use crate::policy::Validator;
use crate::verdict::Finding;

use super::{Input, Needs, Rule};

/// One requirement of a rule, built from its part of the `require` table.
pub trait Requirement: fmt::Debug + Send + Sync {
    /// The most it may need beyond a commit's own facts.
    fn needs(&self) -> Needs;

    /// Whether it judges the net change of a `per = "push"` rule; the
    /// others are per commit, and a `per = "push"` rule may not have them.
    fn judges_net_change(&self) -> bool {
        false
    }

    /// Whether it asks for proof (a pusher or a signature), so that the
    /// rule's conditions on authors believe only proven identities.
    fn proves_identity(&self) -> bool {
        false
    }

    /// Whether it rests on who pushed (`proof = "pusher"`): `verify` on a
    /// laptop can only assume a pusher for it.
    fn uses_pusher(&self) -> bool {
        false
    }

    /// Checks the subject of `input`, adding what is wrong to `out`; `Err`
    /// with what it needs when `input` lacks it.
    fn check(&self, rule: &Rule, input: &Input<'_>, out: &mut Vec<Finding>) -> Result<(), Needs>;
}

/// A requirement kind: the `require` keys it reads, and how it builds its
/// requirement from their values (`None` when they ask for nothing, such as
/// `signed = false`, or cannot be read; problems go to the builder).
pub struct Kind {
    pub keys: &'static [&'static str],
    pub build: BuildFn,
}

/// How a kind builds its requirement.
pub type BuildFn = fn(&mut Build<'_, '_>, &[Entry<'_>]) -> Option<Box<dyn Requirement>>;

/// Every requirement kind, in the order a rule's findings are listed.
pub const KINDS: &[Kind] = &[
    approvals::KIND,
    signed::KIND,
    pushed_by::KIND,
    trailers::KIND,
    limits::KIND,
];

/// A rule's requirements, in the order of [`KINDS`].
#[derive(Debug, Default)]
pub struct Requires(Vec<Box<dyn Requirement>>);

impl Requires {
    pub fn iter(&self) -> impl Iterator<Item = &dyn Requirement> {
        self.0.iter().map(|r| r.as_ref())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether any requirement asks for proof (see [`Requirement::proves_identity`]).
    pub fn proves_identity(&self) -> bool {
        self.iter().any(|r| r.proves_identity())
    }
}

/// One key of a `require` table and its value, with their places in the file.
pub struct Entry<'a> {
    pub key: &'a str,
    pub key_span: Range<usize>,
    pub value: &'a Spanned<DeValue<'a>>,
}

/// What building a requirement may use: the people and keys of the policy,
/// and where to report problems.
pub struct Build<'v, 't> {
    pub problems: &'v mut Validator<'t>,
    pub directory: &'v Directory,
    pub keys: &'v KeyRing,
    pub trailers: &'v TrailerKeys,
}

impl Build<'_, '_> {
    /// Reads an entry's value as a kind's serde type; a value of the wrong
    /// shape is reported at its position.
    pub fn read<T: DeserializeOwned>(&mut self, entry: &Entry<'_>) -> Option<T> {
        match T::deserialize(ValueDeserializer::from(entry.value.clone())) {
            Ok(value) => Some(value),
            Err(e) => {
                let span = e.span().unwrap_or_else(|| entry.value.span());
                self.problems
                    .error(span, crate::policy::words::humane(e.message()));
                None
            }
        }
    }
}

/// Builds a rule's requirements from its `require` value (`None`: it has
/// none), reporting unknown keys with the keys there are.
pub(super) fn build(value: Option<&Spanned<DeValue<'_>>>, cx: &mut Build<'_, '_>) -> Requires {
    let Some(value) = value else {
        return Requires::default();
    };
    let Some(table) = value.get_ref().as_table() else {
        cx.problems.error(
            value.span(),
            format!(
                "invalid type: {}, expected a table of requirements ({})",
                value.get_ref().type_str(),
                allowed_keys()
            ),
        );
        return Requires::default();
    };
    let mut by_kind: Vec<Vec<Entry<'_>>> = KINDS.iter().map(|_| Vec::new()).collect();
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        match KINDS.iter().position(|k| k.keys.contains(&name)) {
            Some(i) => {
                if let Some(entries) = by_kind.get_mut(i) {
                    entries.push(Entry {
                        key: name,
                        key_span: key.span(),
                        value,
                    });
                }
            }
            None => cx.problems.error(
                key.span(),
                format!("unknown field `{name}`, expected one of {}", allowed_keys()),
            ),
        }
    }
    let mut out = Vec::new();
    for (kind, entries) in KINDS.iter().zip(&by_kind) {
        if !entries.is_empty() {
            out.extend((kind.build)(cx, entries));
        }
    }
    Requires(out)
}

/// "`approvals`, `signed`, ...", as serde lists the keys a table takes.
fn allowed_keys() -> String {
    KINDS
        .iter()
        .flat_map(|k| k.keys)
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
