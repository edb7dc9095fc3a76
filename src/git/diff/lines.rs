//! Line counts of a changed file, as `git diff --numstat` counts them: the
//! bytes git diffs for each side, binary detection, and libgit2's copy of
//! git's xdiff for the lines added and deleted.

use crate::git::oid::ObjectId;
use crate::git::repo::{Object, ObjectKind};

use super::*;

impl<'r> Differ<'r> {
    /// The public record of one pair, with line counts when asked for.
    pub(super) fn change(&mut self, pair: Pair) -> Result<FileChange, DiffError> {
        let status = match (&pair.old, &pair.new, pair.rename_score) {
            (_, _, Some(score)) => ChangeKind::Renamed {
                similarity: (score * 100 / MAX_SCORE as u32).min(100) as u8,
            },
            (None, _, _) => ChangeKind::Added,
            (_, None, _) => ChangeKind::Deleted,
            (Some(o), Some(n), _) if o.mode & S_IFMT != n.mode & S_IFMT => ChangeKind::TypeChanged,
            _ => ChangeKind::Modified,
        };
        let (added, deleted, binary_lines) = if self.lines {
            match self.line_counts(pair.old.as_ref(), pair.new.as_ref())? {
                Counted::Text(a, d) => (Some(a), Some(d), None),
                Counted::Binary(text) => (None, None, text),
            }
        } else {
            (None, None, None)
        };
        Ok(FileChange {
            status,
            old_mode: pair.old.as_ref().map(|s| s.mode),
            new_mode: pair.new.as_ref().map(|s| s.mode),
            old_path: pair.old.map(|s| s.path),
            new_path: pair.new.map(|s| s.path),
            added,
            deleted,
            binary_lines,
        })
    }

    /// Numstat's numbers for one pair, or what the limits count where
    /// numstat shows `-`.
    pub(super) fn line_counts(
        &self,
        old: Option<&Side>,
        new: Option<&Side>,
    ) -> Result<Counted, DiffError> {
        let old_data = old.map(|s| self.content(s)).transpose()?;
        let new_data = new.map(|s| self.content(s)).transpose()?;
        let old_bytes = old_data.as_ref().map(|c| c.bytes());
        let new_bytes = new_data.as_ref().map(|c| c.bytes());
        let (old_binary, new_binary) = (
            old_bytes.is_some_and(is_binary),
            new_bytes.is_some_and(is_binary),
        );
        if old_binary || new_binary {
            // The text side's lines still count: text turned binary deletes
            // them, binary turned text adds them (numstat says `-`).
            let text = match (old_bytes, new_bytes) {
                (Some(o), Some(_)) if !old_binary => Some((0, count_lines(o))),
                (Some(_), Some(n)) if !new_binary => Some((count_lines(n), 0)),
                _ => None,
            };
            return Ok(Counted::Binary(text));
        }
        let (a, d) = match (old_bytes, new_bytes) {
            (None, None) => (0, 0),
            (Some(o), None) => (0, count_lines(o)),
            (None, Some(n)) => (count_lines(n), 0),
            (Some(o), Some(n)) => {
                if old.map(|s| s.oid) == new.map(|s| s.oid)
                    && old.map(|s| s.mode & S_IFMT) == new.map(|s| s.mode & S_IFMT)
                {
                    return Ok(Counted::Text(0, 0));
                }
                if o.is_empty() || n.is_empty() {
                    return Ok(Counted::Text(count_lines(n), count_lines(o)));
                }
                // The deadline is checked before every file, the shortcut's too.
                self.in_time()?;
                if let Some(counts) = trimmed_counts(o, n) {
                    return Ok(Counted::Text(counts.0, counts.1));
                }
                let path = new.or(old).map(|s| s.path.as_slice()).unwrap_or_default();
                self.xdiff(o, n, path)?
            }
        };
        Ok(Counted::Text(a, d))
    }

    /// Lines added and deleted between two texts, by libgit2's xdiff.
    /// Under a deadline, checked before each file, and a large pair is
    /// diffed on a thread that is given up at the deadline (see
    /// [`xdiff_until`]).
    pub(super) fn xdiff(
        &self,
        old: &[u8],
        new: &[u8],
        path: &[u8],
    ) -> Result<(u64, u64), DiffError> {
        self.in_time()?;
        let counted = match self.deadline {
            Some(deadline) if old.len() + new.len() >= WATCHED_XDIFF_BYTES => {
                xdiff_until(old, new, deadline).ok_or(DiffError::OutOfTime)?
            }
            _ => xdiff_lines(old, new),
        };
        counted.map_err(|source| DiffError::Lines {
            context: self.context.clone(),
            path: String::from_utf8_lossy(path).into_owned(),
            source,
        })
    }

    /// The bytes git diffs for one side: blob content, or
    /// `Subproject commit <hex>\n` for a gitlink.
    pub(super) fn content(&self, side: &Side) -> Result<Content<'_>, DiffError> {
        if side.mode & S_IFMT == S_IFGITLINK {
            Ok(Content::Owned(
                format!("Subproject commit {}\n", side.oid).into_bytes(),
            ))
        } else {
            self.blob_content(side.oid)
        }
    }

    /// A blob's bytes, from the pack files directly where possible.
    pub(super) fn blob_content(&self, oid: ObjectId) -> Result<Content<'_>, DiffError> {
        match self.packs.and_then(|p| p.read(oid)) {
            Some((ObjectKind::Blob, data)) => Ok(Content::Shared(data)),
            _ => Ok(Content::Blob(self.blob(oid)?)),
        }
    }
}

/// The lines of one changed file.
pub(super) enum Counted {
    /// Both sides text: numstat's added and deleted.
    Text(u64, u64),
    /// A side is binary (numstat's `-`); with the text side's lines as
    /// (added, deleted) when the other side is text.
    Binary(Option<(u64, u64)>),
}

/// Bytes to diff: a blob's, or made up (gitlinks).
pub(super) enum Content<'o> {
    Blob(Object<'o>),
    Shared(Rc<[u8]>),
    Owned(Vec<u8>),
}

impl Content<'_> {
    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            Content::Blob(b) => b.data(),
            Content::Shared(v) => v,
            Content::Owned(v) => v,
        }
    }
}

/// Both sides together at least this large: xdiff runs on a thread of its
/// own under a deadline. Its cost grows faster than its input (about N·√N
/// for N lines that keep matching and missing each other, as two random
/// sequences of `x` and `y` lines do): a 2 MB pair of such files took
/// 10.7 s of CPU in the release build, uninterruptible, whatever the
/// budget. Below this size one file costs well under the budget's margin,
/// and no thread is spawned for the common case.
const WATCHED_XDIFF_BYTES: usize = 256 * 1024;

/// Numstat's added and deleted lines between two texts.
fn xdiff_lines(old: &[u8], new: &[u8]) -> Result<(u64, u64), git2::Error> {
    let mut opts = git2::DiffOptions::new();
    opts.force_text(true).context_lines(0).interhunk_lines(0);
    let (_, added, deleted) =
        git2::Patch::from_buffers(old, None, new, None, Some(&mut opts))?.line_stats()?;
    Ok((added as u64, deleted as u64))
}

/// [`xdiff_lines`] on a thread of its own, waited for until `deadline`;
/// `None` when it is still running then. xdiff cannot be interrupted, so
/// the thread is left behind: a push out of time is rejected and the hook
/// exits, which ends it. Copies the texts (the thread may outlive them).
fn xdiff_until(
    old: &[u8],
    new: &[u8],
    deadline: std::time::Instant,
) -> Option<Result<(u64, u64), git2::Error>> {
    let (tx, rx) = std::sync::mpsc::channel();
    let (old_copy, new_copy) = (old.to_vec(), new.to_vec());
    let spawned = std::thread::Builder::new()
        .name("xdiff".into())
        .spawn(move || {
            // The receiver is gone only when the deadline passed.
            let _ = tx.send(xdiff_lines(&old_copy, &new_copy));
        });
    if spawned.is_err() {
        // No thread to be had: count here, checked only between files.
        return Some(xdiff_lines(old, new));
    }
    let wait = deadline.saturating_duration_since(std::time::Instant::now());
    match rx.recv_timeout(wait) {
        Ok(counted) => Some(counted),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => None,
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Some(Err(git2::Error::from_str(
            "the line count stopped without an answer",
        ))),
    }
}

/// Numstat's (added, deleted) for two different texts when what is left
/// after taking their common first and last lines away has only one
/// answer: one side empty (lines only added, or only deleted), or one line
/// on each side (that line replaced). `None` leaves the rest to xdiff.
///
/// xdiff itself starts the same way (`xdl_trim_ends`: the longest run of
/// equal lines from the start, then from the end within what is left, lines
/// equal when their bytes are, newline included), and on such a remainder
/// any diff gives these counts; so this only saves building libgit2's patch
/// for the commonest small edit. `old` and `new` must differ.
pub(super) fn trimmed_counts(old: &[u8], new: &[u8]) -> Option<(u64, u64)> {
    // Common leading lines: those ending with a newline before the first
    // byte that differs.
    let same = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let head = old[..same]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1);
    let (old_rest, new_rest) = (&old[head..], &new[head..]);
    // Common trailing lines of what is left: the common tail of bytes, from
    // the first line start in it (a start in one text is one in the other:
    // the bytes before it are the same newline, or the start of what is
    // left in both).
    let tail = old_rest
        .iter()
        .rev()
        .zip(new_rest.iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (old_len, new_len) = (old_rest.len(), new_rest.len());
    let starts_line = |text: &[u8], at: usize| at == 0 || text[at - 1] == b'\n';
    let mut from = tail;
    while from > 0
        && !(starts_line(old_rest, old_len - from) && starts_line(new_rest, new_len - from))
    {
        from -= 1;
    }
    let old_mid = count_lines(&old_rest[..old_len - from]);
    let new_mid = count_lines(&new_rest[..new_len - from]);
    match (old_mid, new_mid) {
        (0, n) => Some((n, 0)),
        (o, 0) => Some((0, o)),
        (1, 1) => Some((1, 1)),
        _ => None,
    }
}

/// Git's `buffer_is_binary` (plus the big-file rule).
pub(super) fn is_binary(data: &[u8]) -> bool {
    data.len() > BIG_FILE_THRESHOLD || data[..data.len().min(FIRST_FEW_BYTES)].contains(&0)
}

/// Git's `count_lines`: newlines, plus an unterminated last line.
pub(super) fn count_lines(data: &[u8]) -> u64 {
    let newlines = data.iter().filter(|&&c| c == b'\n').count() as u64;
    newlines + u64::from(data.last().is_some_and(|&c| c != b'\n'))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn lines_are_newlines_plus_an_unterminated_last_line() {
        assert_eq!(count_lines(b""), 0);
        assert_eq!(count_lines(b"a"), 1);
        assert_eq!(count_lines(b"a\n"), 1);
        assert_eq!(count_lines(b"a\r\nb"), 2);
        assert_eq!(count_lines(b"\n\n"), 2);
    }

    #[test]
    fn a_nul_in_the_first_8000_bytes_makes_a_file_binary() {
        assert!(is_binary(b"a\0b"));
        let mut late = vec![b'a'; 8000];
        late.push(0);
        assert!(!is_binary(&late));
        late[7999] = 0;
        assert!(is_binary(&late));
    }

    /// libgit2's xdiff counts, as [`Differ::xdiff`] asks for them.
    fn xdiff_counts(old: &[u8], new: &[u8]) -> (u64, u64) {
        let mut opts = git2::DiffOptions::new();
        opts.force_text(true).context_lines(0).interhunk_lines(0);
        let (_, added, deleted) = git2::Patch::from_buffers(old, None, new, None, Some(&mut opts))
            .and_then(|p| p.line_stats())
            .unwrap();
        (added as u64, deleted as u64)
    }

    #[test]
    fn trimmed_counts_are_xdiffs_where_they_answer() {
        // Texts of a few lines from a small alphabet (so that lines repeat
        // and prefixes and suffixes are shared), with and without a final
        // newline; every pair either has no fast answer or xdiff's.
        let pieces: [&[u8]; 6] = [b"a\n", b"b\n", b"a", b"ab\n", b"\n", b"b"];
        let state = std::cell::Cell::new(0x9e37_79b9_7f4a_7c15u64);
        let next = || {
            let mut s = state.get();
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            state.set(s);
            s
        };
        let (mut answered, mut left) = (0, 0);
        for _ in 0..20_000 {
            let text = |n: u64| {
                let mut t = Vec::new();
                for _ in 0..n {
                    t.extend_from_slice(pieces[(next() % 6) as usize]);
                }
                t
            };
            let old = text(next() % 6);
            let new = if next() % 2 == 0 {
                // A small edit of the old text, the common case.
                let mut new = old.clone();
                let at = (next() as usize) % (new.len() + 1);
                let piece = pieces[(next() % 6) as usize];
                new.splice(at..at, piece.iter().copied());
                new
            } else {
                text(next() % 6)
            };
            if old == new || old.is_empty() || new.is_empty() {
                continue;
            }
            match trimmed_counts(&old, &new) {
                Some(counts) => {
                    answered += 1;
                    assert_eq!(
                        counts,
                        xdiff_counts(&old, &new),
                        "{:?} -> {:?}",
                        String::from_utf8_lossy(&old),
                        String::from_utf8_lossy(&new)
                    );
                }
                None => left += 1,
            }
        }
        // Both kinds occur, so the comparison means something.
        assert!(answered > 1000 && left > 1000, "{answered} / {left}");
    }

    #[test]
    fn a_replaced_line_and_added_lines_are_counted_without_xdiff() {
        assert_eq!(trimmed_counts(b"a\nb\nc\n", b"a\nB\nc\n"), Some((1, 1)));
        assert_eq!(trimmed_counts(b"a\nb\n", b"a\nb\nc\nd\n"), Some((2, 0)));
        assert_eq!(trimmed_counts(b"a\nb\nc\n", b"c\n"), Some((0, 2)));
        // A last line gaining its newline is that line replaced.
        assert_eq!(trimmed_counts(b"a\nb", b"a\nb\n"), Some((1, 1)));
        // Two lines replaced by two: xdiff decides.
        assert_eq!(trimmed_counts(b"a\nb\n", b"c\nd\n"), None);
    }
}
