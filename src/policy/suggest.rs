//! "Did you mean ...?": the closest of a list of known words to a word
//! that is not one of them (a misspelled policy key, an approver's
//! address with a typo), by edit distance with transpositions counted as
//! one edit (`exmaple` is one edit from `example`).

/// The candidate closest to `word`, when it is close enough to be what was
/// meant: at most a quarter of the word's length in edits (at least one,
/// at most three). Ties go to the first candidate.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 4).clamp(1, 3);
    let lower = word.to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == word {
            continue;
        }
        let d = distance(&lower, &candidate.to_lowercase());
        if d <= limit && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// Optimal string alignment distance: insertions, deletions,
/// substitutions and transpositions of neighbours, each one edit.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows of the classic table: two back, one back, this one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        if let Some(first) = cur.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let sub = prev.get(j).map_or(usize::MAX, |v| v + cost);
            let del = prev.get(j + 1).map_or(usize::MAX, |v| v + 1);
            let ins = cur.get(j).map_or(usize::MAX, |v| v + 1);
            let mut best = sub.min(del).min(ins);
            let swapped = i > 0 && j > 0 && a.get(i - 1) == Some(cb) && b.get(j - 1) == Some(ca);
            if swapped {
                best = best.min(before.get(j - 1).map_or(usize::MAX, |v| v + 1));
            }
            if let Some(slot) = cur.get_mut(j + 1) {
                *slot = best;
            }
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transposition_is_one_edit() {
        assert_eq!(distance("exmaple", "example"), 1);
        assert_eq!(distance("requier", "require"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggests_only_what_is_close() {
        let emails = ["bob@example.com", "alice@example.com"];
        assert_eq!(
            did_you_mean("alice@exmaple.com", emails),
            Some("alice@example.com")
        );
        assert_eq!(did_you_mean("mallory@evil.example", emails), None);
        let keys = ["require", "refs", "when", "deny"];
        assert_eq!(did_you_mean("requires", keys), Some("require"));
        assert_eq!(did_you_mean("wehn", keys), Some("when"));
        assert_eq!(did_you_mean("message", keys), None);
    }
}
