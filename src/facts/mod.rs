//! Facts about one commit, computed once and shared by every rule: who wrote
//! it, its trailers as git reads them, whether it declares or shows AI
//! assistance, and whether it is a merge.
//!
//! Facts are derived from the raw commit object (see [`crate::git::object`])
//! and what the policy says about reading it ([`Config`]: the trailer keys,
//! the AI markers, the people); rules never look at the object again.

pub mod ai;
pub mod encoding;
pub mod identity;
pub mod push_cert;
pub mod signature;
pub mod trailers;

use crate::git::oid::ObjectId;

use crate::facts::identity::Who;
use crate::git::object::{self, Ident};
use trailers::Trailer;

/// The default `trailers.ai_negative`: values of a disclosure trailer that
/// declare no assistance (compared trimmed and case-insensitively). The one
/// list: the policy's default, the built-in disclosure marks, the README and
/// `config.example.toml` all say exactly these (a unit test compares them).
pub const AI_NEGATIVE: &[&str] = &["no", "none", "false", "0", "n/a", "-"];

/// The trailer keys a policy reads (`[trailers]`).
#[derive(Debug)]
pub struct TrailerKeys {
    /// Keys that declare AI assistance.
    pub ai: Vec<String>,
    /// Values of those keys that declare none; lower-cased.
    pub ai_negative: Vec<String>,
    /// Keys that name an approver.
    pub approval: Vec<String>,
}

/// What computing a commit's facts needs to know, as the policy says it.
#[derive(Debug, Clone, Copy)]
pub struct Config<'a> {
    pub trailers: &'a TrailerKeys,
    /// The AI markers, built-in and the policy's own, in the order tried.
    pub markers: &'a ai::Markers,
    /// The people and groups that authors are matched to.
    pub directory: &'a identity::Directory,
    /// How disclosure values that name someone are read (`ai.human_help`).
    pub human_help: ai::disclosure::HumanHelp,
}

impl<'a> Config<'a> {
    /// What reading a disclosure value needs.
    pub fn people(&self) -> ai::disclosure::People<'a> {
        ai::disclosure::People {
            mode: self.human_help,
            directory: Some(self.directory),
            markers: self.markers,
        }
    }

    /// Every disclosure trailer of a commit (a `trailers.ai` key, a
    /// built-in disclosure key, or rai-lint's `Authored-by`) and what it
    /// says in words, for `trailgate explain`.
    pub fn disclosures<'t>(&self, trailers: &'t [Trailer<'t>]) -> Vec<(&'t Trailer<'t>, String)> {
        trailers
            .iter()
            .filter_map(|t| {
                let declaring = self.trailers.ai.iter().any(|k| t.key_is(k));
                let disclosing = ai::disclosure_keys()
                    .chain([ai::disclosure::AUTHORED_BY])
                    .any(|k| t.key_is(k));
                if !declaring && !disclosing {
                    return None;
                }
                let value = String::from_utf8_lossy(&t.value);
                let negative = ai::is_negative(&value)
                    || (declaring
                        && self
                            .trailers
                            .ai_negative
                            .contains(&value.trim().to_ascii_lowercase()));
                let people = self.people();
                let reading = ai::disclosure::read(&t.key, &value, negative, &people);
                Some((t, reading.describe(&people)))
            })
            .collect()
    }

    /// Whether a trailer declares AI assistance: its key is a `trailers.ai`
    /// key, its value is not negative and names no person (see
    /// [`ai::disclosure`]).
    pub fn declares(&self, t: &Trailer<'_>) -> bool {
        if !self.trailers.ai.iter().any(|k| t.key_is(k)) {
            return false;
        }
        let value = String::from_utf8_lossy(&t.value);
        let negative = self
            .trailers
            .ai_negative
            .contains(&value.trim().to_ascii_lowercase());
        ai::disclosure::read(&t.key, &value, negative, &self.people()).is_ai()
    }
}

#[derive(Debug, Clone)]
pub struct CommitFacts {
    pub oid: ObjectId,
    pub subject: String,
    /// The message, re-encoded to UTF-8 as `git log` shows it (lossy where
    /// it is not valid UTF-8), for `when.message`.
    pub message: String,
    pub author: Ident,
    pub committer: Ident,
    pub author_who: Who,
    pub parents: usize,
    pub parent_ids: Vec<ObjectId>,
    pub trailers: Vec<Trailer<'static>>,
    /// The trailer that declared AI assistance, as `Key: value`.
    pub ai_declared: Option<String>,
    /// What revealed AI assistance, with the marker's evidence.
    pub ai_detected: Option<String>,
}

impl CommitFacts {
    pub fn ai_assisted(&self) -> bool {
        self.ai_declared.is_some() || self.ai_detected.is_some()
    }

    pub fn is_merge(&self) -> bool {
        self.parents > 1
    }

    pub fn short_id(&self) -> String {
        short(self.oid)
    }

    /// Trailers whose key is one of `keys` (case-insensitive).
    pub fn trailers_named<'s>(
        &'s self,
        keys: &'s [String],
    ) -> impl Iterator<Item = &'s Trailer<'static>> + 's {
        self.trailers
            .iter()
            .filter(move |t| keys.iter().any(|k| t.key_is(k)))
    }
}

/// The 7-character abbreviation used in reports (git's default `--abbrev`).
pub fn short(oid: ObjectId) -> String {
    let hex = oid.to_string();
    hex.get(..7).unwrap_or(&hex).to_owned()
}

/// Computes the facts of a commit from its raw object bytes.
pub fn of_commit(oid: ObjectId, data: &[u8], config: &Config<'_>) -> Result<CommitFacts, String> {
    let mut raw = object::parse(data, oid.kind())?;
    // git log re-encodes the whole commit, its author and committer lines
    // included, before it shows `%an`/`%ae` (pretty.c).
    if let Some(label) = raw.encoding {
        for ident in [&mut raw.author, &mut raw.committer] {
            for field in [&mut ident.name, &mut ident.email] {
                if let std::borrow::Cow::Owned(text) = encoding::message_as_utf8(Some(label), field)
                {
                    *field = text;
                }
            }
        }
    }
    let message = encoding::message_as_utf8(raw.encoding, raw.message);
    let trailers: Vec<Trailer<'static>> = trailers::from_commit_message(&message)
        .into_iter()
        .map(Trailer::into_owned)
        .collect();

    let ai_declared = trailers.iter().find(|t| config.declares(t)).map(|t| {
        format!(
            "{}: {}",
            String::from_utf8_lossy(&t.key),
            String::from_utf8_lossy(&t.value)
        )
    });
    let text = encoding::lossy(&message).into_owned();
    let seen = crate::facts::ai::Seen::new(&trailers, &raw.author, &raw.committer, &text)
        .with_help(config.people());
    let ai_detected = config.markers.detect(&seen);
    let author_who = config.directory.by_email(&raw.author.email);
    Ok(CommitFacts {
        oid,
        subject: object::subject(&message),
        message: text,
        author: raw.author,
        committer: raw.committer,
        author_who,
        parents: raw.parents.len(),
        parent_ids: raw.parents.clone(),
        trailers,
        ai_declared,
        ai_detected,
    })
}
