//! The markers of a policy with a screen in front of them: one cheap look at
//! a commit that says when no marker can fire, so that the marker loop, some
//! 40 needle checks over the commit's message, names and addresses, runs
//! only for the few commits where one might.
//!
//! The screen only ever answers "maybe" or "no marker fires": where it says
//! maybe, [`Markers::detect`] runs exactly the loop it stands in front of,
//! so the first marker that fires, and what it reports, cannot change. It
//! holds only what each marker already requires of a text:
//! - a `Trailer` or `Disclosure` marker reads only trailers with its key;
//! - a pattern with a needle matches only text that contains the needle,
//!   ignoring ASCII case, where the text folds like ASCII
//!   ([`Pattern::find`]); the needles of a place are searched in one pass;
//! - a pattern without a needle (the policy's own markers) makes its place
//!   always "maybe".

use std::ops::Deref;

use aho_corasick::{AhoCorasick, AhoCorasickKind};

use super::{folds_like_ascii, Marker, MarkerKind, Pattern, Seen};

/// The policy's markers, in the order tried, and their screen.
#[derive(Debug, Clone)]
pub struct Markers {
    list: Vec<Marker>,
    screen: Screen,
}

impl Markers {
    pub fn new(list: Vec<Marker>) -> Self {
        let screen = Screen::new(&list);
        Markers { list, screen }
    }

    /// The first marker that fires on the commit, described as it is
    /// reported (see [`Marker::describe_hit`]).
    pub fn detect(&self, seen: &Seen<'_>) -> Option<String> {
        if !self.screen.maybe(seen) {
            return None;
        }
        self.list
            .iter()
            .find_map(|m| m.detect(seen).map(|hit| m.describe_hit(&hit)))
    }

    /// Whether the screen lets the commit through to the marker loop (for
    /// the tests that hold it to the loop).
    #[cfg(test)]
    pub(super) fn screen_passes(&self, seen: &Seen<'_>) -> bool {
        self.screen.maybe(seen)
    }
}

impl Deref for Markers {
    type Target = [Marker];

    fn deref(&self) -> &[Marker] {
        &self.list
    }
}

#[derive(Debug, Clone)]
struct Screen {
    /// The keys of the trailer and disclosure markers.
    keys: Vec<String>,
    /// The author's and committer's e-mails and the `Co-authored-by`
    /// addresses (what `Author` and `Identity` markers read).
    emails: Needles,
    /// The author's and committer's names.
    names: Needles,
    /// The whole message.
    message: Needles,
}

/// What the markers of one place require of its text.
#[derive(Debug, Clone)]
enum Needles {
    /// No marker reads this place.
    None,
    /// Some marker reads it without a needle: any text may match.
    Any,
    /// Every marker reading it needs one of these (ASCII case ignored).
    Some(AhoCorasick),
}

impl Needles {
    fn new(patterns: Vec<&Pattern>) -> Self {
        let mut needles = Vec::new();
        for p in patterns {
            match &p.needle {
                Some(n) => needles.push(n.as_str()),
                None => return Needles::Any,
            }
        }
        if needles.is_empty() {
            return Needles::None;
        }
        // A needle set that does not build screens nothing: fail open to
        // the full loop, never to "not detected".
        // The contiguous NFA, not the DFA the builder would pick for a
        // few dozen needles: building the case-folded DFA took ~0.7 ms of
        // a hook's ~4 ms start-up on every push, and over 100,000 commits'
        // texts the NFA (with the same prefilter) searches about as fast.
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(needles)
            .map_or(Needles::Any, Needles::Some)
    }

    fn maybe(&self, text: &str) -> bool {
        match self {
            Needles::None => false,
            Needles::Any => true,
            Needles::Some(ac) => !folds_like_ascii(text) || ac.is_match(text),
        }
    }
}

impl Screen {
    fn new(markers: &[Marker]) -> Self {
        let mut keys = Vec::new();
        let (mut emails, mut names, mut message) = (Vec::new(), Vec::new(), Vec::new());
        // No `_` arm: a marker kind added later must say here what it
        // reads, or the screen would skip commits it fires on.
        for m in markers {
            match &m.kind {
                MarkerKind::Trailer { key, .. } | MarkerKind::Disclosure { key, .. } => {
                    keys.push(key.clone())
                }
                MarkerKind::Author(p) | MarkerKind::Identity(p) => emails.push(p),
                MarkerKind::Name(p) => names.push(p),
                MarkerKind::Message(p) => message.push(p),
            }
        }
        Screen {
            keys,
            emails: Needles::new(emails),
            names: Needles::new(names),
            message: Needles::new(message),
        }
    }

    /// Whether some marker may fire on the commit; `false` only when none
    /// can.
    fn maybe(&self, seen: &Seen<'_>) -> bool {
        seen.trailers
            .iter()
            .any(|t| self.keys.iter().any(|k| t.key_is(k)))
            || seen.people.iter().any(|p| self.emails.maybe(&p.email))
            || seen.co_authors.iter().any(|(_, e)| self.emails.maybe(e))
            || seen.people.iter().any(|p| self.names.maybe(&p.name))
            || self.message.maybe(seen.message)
    }
}
