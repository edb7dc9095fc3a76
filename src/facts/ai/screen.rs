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

use std::cell::Cell;
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
    /// Every marker reading it needs one of these (ASCII case ignored:
    /// the needles are lower-case, and searched in a lower-cased copy).
    Some(AhoCorasick),
}

thread_local! {
    /// The lower-cased copy of the text being screened, reused from one
    /// commit to the next on each judging thread.
    static LOWER: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

impl Needles {
    fn new(patterns: Vec<&Pattern>) -> Self {
        let mut needles = Vec::new();
        for p in patterns {
            match &p.needle {
                Some(n) => needles.push(n.to_ascii_lowercase()),
                None => return Needles::Any,
            }
        }
        if needles.is_empty() {
            return Needles::None;
        }
        // A needle set that does not build screens nothing: fail open to
        // the full loop, never to "not detected".
        // Case-sensitive over a lower-cased copy rather than the builder's
        // `ascii_case_insensitive`: with that, aho-corasick builds no
        // packed (Teddy) prefilter, and most texts were walked byte by
        // byte through the automaton, the largest single cost of judging
        // the example policy (issue 15). The contiguous NFA, not the DFA
        // the builder would pick for a few dozen needles: the DFA's
        // construction is paid on every hook start, and behind the
        // prefilter the automaton is rarely entered.
        AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(needles)
            .map_or(Needles::Any, Needles::Some)
    }

    fn maybe(&self, text: &str) -> bool {
        match self {
            Needles::None => false,
            Needles::Any => true,
            Needles::Some(ac) => !folds_like_ascii(text) || Self::search(ac, text),
        }
    }
}

impl Needles {
    /// Whether `text`, ASCII-lower-cased, contains one of `ac`'s needles.
    fn search(ac: &AhoCorasick, text: &str) -> bool {
        let mut lower = LOWER.take();
        lower.clear();
        lower.extend_from_slice(text.as_bytes());
        lower.make_ascii_lowercase();
        let found = ac.is_match(lower.as_slice());
        // A rare huge message's buffer is not kept for the rest of the push.
        if lower.capacity() <= 1 << 20 {
            LOWER.set(lower);
        }
        found
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
