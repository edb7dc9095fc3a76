//! Rename detection, a re-implementation of git 2.47's `diffcore-rename.c`
//! for plain `-M`: exact renames, unique basenames, then the similarity
//! matrix with `diffcore-delta.c`'s span hashing.

use crate::git::oid::ObjectId;

use super::*;

impl<'r> Differ<'r> {
    /// Git's `diffcore_rename` for `-M` without copies or breaks.
    pub(super) fn detect_renames(&mut self, mut pairs: Vec<Pair>) -> Result<Vec<Pair>, DiffError> {
        // Destinations (additions) and sources (deletions), in queue order.
        let dsts: Vec<usize> = (0..pairs.len())
            .filter(|&i| pairs[i].old.is_none() && pairs[i].new.is_some())
            .collect();
        let srcs: Vec<usize> = (0..pairs.len())
            .filter(|&i| pairs[i].old.is_some() && pairs[i].new.is_none())
            .collect();
        if dsts.is_empty() || srcs.is_empty() {
            return Ok(pairs);
        }
        let side = |pairs: &[Pair], i: usize, old: bool| -> Option<Side> {
            if old {
                pairs[i].old.clone()
            } else {
                pairs[i].new.clone()
            }
        };
        let src_sides: Vec<Side> = srcs.iter().filter_map(|&i| side(&pairs, i, true)).collect();
        let dst_sides: Vec<Side> = dsts
            .iter()
            .filter_map(|&i| side(&pairs, i, false))
            .collect();
        let mut src_used = vec![false; src_sides.len()];
        // For each destination, the source it was renamed from and the score.
        let mut dst_match: Vec<Option<(usize, u32)>> = vec![None; dst_sides.len()];

        // 1. Exact renames: identical blobs; among several, the first unused
        //    source with the same basename, else the first unused one.
        let mut by_oid: HashMap<ObjectId, Vec<usize>> = HashMap::new();
        for (s, side) in src_sides.iter().enumerate() {
            by_oid.entry(side.oid).or_default().push(s);
        }
        for (d, target) in dst_sides.iter().enumerate() {
            let Some(candidates) = by_oid.get(&target.oid) else {
                continue;
            };
            let mut best: Option<usize> = None;
            let mut best_score = -1;
            let mut budget = 100;
            for &s in candidates {
                let source = &src_sides[s];
                if (!is_reg(source.mode) || !is_reg(target.mode)) && source.mode != target.mode {
                    continue;
                }
                if src_used[s] {
                    continue;
                }
                let score = 1 + i32::from(basename_same(&source.path, &target.path));
                if score > best_score {
                    best = Some(s);
                    best_score = score;
                    if score == 2 {
                        break;
                    }
                }
                budget -= 1;
                if budget == 0 {
                    break;
                }
            }
            if let Some(s) = best {
                src_used[s] = true;
                dst_match[d] = Some((s, MAX_SCORE as u32));
            }
        }

        // 2. Basename matches: a basename unique among the remaining sources
        //    and among the remaining destinations, at >= 75% similarity.
        let min_basename_score = DEFAULT_RENAME_SCORE + (MAX_SCORE - DEFAULT_RENAME_SCORE) / 2;
        let mut src_base: HashMap<&[u8], Option<usize>> = HashMap::new();
        for (s, side) in src_sides.iter().enumerate() {
            if !src_used[s] {
                src_base
                    .entry(basename(&side.path))
                    .and_modify(|v| *v = None)
                    .or_insert(Some(s));
            }
        }
        let mut dst_base: HashMap<&[u8], Option<usize>> = HashMap::new();
        for (d, side) in dst_sides.iter().enumerate() {
            if dst_match[d].is_none() {
                dst_base
                    .entry(basename(&side.path))
                    .and_modify(|v| *v = None)
                    .or_insert(Some(d));
            }
        }
        for s in 0..src_sides.len() {
            if src_used[s] {
                continue;
            }
            if s.is_multiple_of(256) {
                self.in_time()?;
            }
            let base = basename(&src_sides[s].path);
            let (Some(Some(si)), Some(Some(d))) = (src_base.get(base), dst_base.get(base)) else {
                continue;
            };
            let (si, d) = (*si, *d);
            if dst_match[d].is_some() {
                continue;
            }
            let score = self.similarity(&src_sides[si], &dst_sides[d], min_basename_score)?;
            if score < min_basename_score {
                continue;
            }
            src_used[si] = true;
            dst_match[d] = Some((si, score as u32));
        }

        // 3. The similarity matrix over what is left, best pairs first.
        let rest_src: Vec<usize> = (0..src_sides.len()).filter(|&s| !src_used[s]).collect();
        let rest_dst: Vec<usize> = (0..dst_sides.len())
            .filter(|&d| dst_match[d].is_none())
            .collect();
        let (nd, ns) = (rest_dst.len() as u64, rest_src.len() as u64);
        if nd > 0 && ns > 0 && nd * ns <= RENAME_LIMIT * RENAME_LIMIT {
            let mut mx: Vec<Score> = Vec::with_capacity(rest_dst.len() * CANDIDATES_PER_DST);
            for &d in &rest_dst {
                let mut m = [Score::EMPTY; CANDIDATES_PER_DST];
                for (k, &s) in rest_src.iter().enumerate() {
                    // A million pairs take seconds: the budget is checked
                    // every few hundred.
                    if k.is_multiple_of(256) {
                        self.in_time()?;
                    }
                    let score =
                        self.similarity(&src_sides[s], &dst_sides[d], DEFAULT_RENAME_SCORE)?;
                    let this = Score {
                        src: s as i64,
                        dst: d as i64,
                        score: score as u32,
                        name_score: i32::from(basename_same(
                            &src_sides[s].path,
                            &dst_sides[d].path,
                        )),
                    };
                    record_if_better(&mut m, this);
                }
                mx.extend_from_slice(&m);
            }
            mx.sort_by(|a, b| score_compare(a, b).cmp(&0));
            for m in &mx {
                if m.dst < 0 || u64::from(m.score) < DEFAULT_RENAME_SCORE {
                    break;
                }
                let (s, d) = (m.src as usize, m.dst as usize);
                if dst_match[d].is_some() || src_used[s] {
                    continue;
                }
                src_used[s] = true;
                dst_match[d] = Some((s, m.score));
            }
        }

        // Write back: renames take the destination's place, their sources go.
        for (d, matched) in dst_match.iter().enumerate() {
            if let Some((s, score)) = *matched {
                let pair = &mut pairs[dsts[d]];
                pair.old = Some(src_sides[s].clone());
                pair.rename_score = Some(score);
            }
        }
        let mut drop = vec![false; pairs.len()];
        for (s, used) in src_used.iter().enumerate() {
            if *used {
                drop[srcs[s]] = true;
            }
        }
        let mut k = 0;
        pairs.retain(|_| {
            let keep = !drop[k];
            k += 1;
            keep
        });
        Ok(pairs)
    }

    /// Git's `estimate_similarity`: 0..=60000, how much of the larger file
    /// the destination copied from the source.
    pub(super) fn similarity(
        &mut self,
        src: &Side,
        dst: &Side,
        minimum_score: u64,
    ) -> Result<u64, DiffError> {
        if !is_reg(src.mode) || !is_reg(dst.mode) {
            return Ok(0);
        }
        let (Some(a), Some(b)) = (self.spans(src.oid)?, self.spans(dst.oid)?) else {
            return Ok(0);
        };
        let max_size = a.size.max(b.size);
        let base_size = a.size.min(b.size);
        let delta_size = max_size - base_size;
        if max_size * (MAX_SCORE - minimum_score) < delta_size * MAX_SCORE {
            return Ok(0);
        }
        if b.size == 0 {
            return Ok(0);
        }
        Ok(a.copied_into(&b) * MAX_SCORE / max_size)
    }

    /// The span hashes of a blob, computed once per diff.
    pub(super) fn spans(&mut self, oid: ObjectId) -> Result<Option<std::rc::Rc<Spans>>, DiffError> {
        if let Some(s) = self.spans.get(&oid) {
            return Ok(s.clone());
        }
        let spans = Some(std::rc::Rc::new(Spans::of(self.blob_content(oid)?.bytes())));
        self.spans.insert(oid, spans.clone());
        Ok(spans)
    }
}

/// The part of a path after its last `/`.
pub(super) fn basename(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&c| c == b'/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// Git's `basename_same`.
pub(super) fn basename_same(a: &[u8], b: &[u8]) -> bool {
    basename(a) == basename(b)
}

pub(super) const CANDIDATES_PER_DST: usize = 4;

/// Git's `struct diff_score`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Score {
    src: i64,
    dst: i64,
    score: u32,
    name_score: i32,
}

impl Score {
    pub(super) const EMPTY: Score = Score {
        src: -1,
        dst: -1,
        score: 0,
        name_score: 0,
    };
}

/// Git's `score_compare`: negative when `a` is the better candidate.
pub(super) fn score_compare(a: &Score, b: &Score) -> i64 {
    if a.dst < 0 {
        return i64::from(b.dst >= 0);
    } else if b.dst < 0 {
        return -1;
    }
    if a.score == b.score {
        return i64::from(b.name_score) - i64::from(a.name_score);
    }
    i64::from(b.score) - i64::from(a.score)
}

/// Git's `record_if_better`: keep the four best candidates of one
/// destination.
pub(super) fn record_if_better(m: &mut [Score; CANDIDATES_PER_DST], o: Score) {
    let mut worst = 0;
    for i in 1..CANDIDATES_PER_DST {
        if score_compare(&m[i], &m[worst]) > 0 {
            worst = i;
        }
    }
    if score_compare(&m[worst], &o) > 0 {
        m[worst] = o;
    }
}

/// Git's `diffcore-delta.c` fingerprint of a blob: the multiset of hashes of
/// its lines (or 64-byte pieces), each weighted by its length.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Spans {
    size: u64,
    /// (hash, bytes), sorted by hash, one entry per hash.
    counts: Vec<(u32, u64)>,
}

pub(super) const HASHBASE: u32 = 107927;

impl Spans {
    pub(super) fn of(data: &[u8]) -> Spans {
        let is_text = !is_binary(data);
        let mut counts: HashMap<u32, u64> = HashMap::new();
        let (mut accum1, mut accum2, mut n) = (0u32, 0u32, 0u64);
        let mut i = 0;
        while i < data.len() {
            let c = data[i];
            i += 1;
            if is_text && c == b'\r' && data.get(i) == Some(&b'\n') {
                continue;
            }
            let old_1 = accum1;
            accum1 = (accum1 << 7) ^ (accum2 >> 25);
            accum2 = (accum2 << 7) ^ (old_1 >> 25);
            accum1 = accum1.wrapping_add(u32::from(c));
            n += 1;
            if n < 64 && c != b'\n' {
                continue;
            }
            let hash = accum1.wrapping_add(accum2.wrapping_mul(0x61)) % HASHBASE;
            *counts.entry(hash).or_default() += n;
            n = 0;
            accum1 = 0;
            accum2 = 0;
        }
        if n > 0 {
            let hash = accum1.wrapping_add(accum2.wrapping_mul(0x61)) % HASHBASE;
            *counts.entry(hash).or_default() += n;
        }
        let mut counts: Vec<(u32, u64)> = counts.into_iter().collect();
        counts.sort_unstable();
        Spans {
            size: data.len() as u64,
            counts,
        }
    }

    /// Git's `src_copied`: bytes of `dst` found in `self`.
    pub(super) fn copied_into(&self, dst: &Spans) -> u64 {
        let (mut i, mut j, mut copied) = (0, 0, 0);
        while i < self.counts.len() && j < dst.counts.len() {
            let (sh, sc) = self.counts[i];
            let (dh, dc) = dst.counts[j];
            match sh.cmp(&dh) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    copied += sc.min(dc);
                    i += 1;
                    j += 1;
                }
            }
        }
        copied
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn basenames_are_compared_after_the_last_slash() {
        assert!(basename_same(b"a/b/c.txt", b"c.txt"));
        assert!(basename_same(b"x/c.txt", b"y/z/c.txt"));
        assert!(!basename_same(b"x/c.txt", b"x/d.txt"));
        assert!(!basename_same(b"xc.txt", b"c.txt"));
    }

    #[test]
    fn span_hashes_ignore_cr_before_lf_in_text_but_not_in_binary() {
        assert_eq!(Spans::of(b"a\r\nb\r\n").counts, Spans::of(b"a\nb\n").counts);
        assert_ne!(Spans::of(b"\0\r\n").counts, Spans::of(b"\0\n").counts);
    }

    #[test]
    fn span_hashes_cut_long_lines_every_64_bytes_and_keep_the_tail() {
        let spans = Spans::of(&[b'x'; 130]);
        let total: u64 = spans.counts.iter().map(|c| c.1).sum();
        assert_eq!(total, 130);
        // Two identical 64-byte pieces share one hash.
        assert_eq!(spans.counts.len(), 2);
    }

    #[test]
    fn copied_bytes_are_the_multiset_intersection() {
        let a = Spans::of(b"one\ntwo\ntwo\nthree\n");
        let b = Spans::of(b"two\nthree\nfour\n");
        assert_eq!(a.copied_into(&b), 4 + 6);
    }

    #[test]
    fn better_scores_sort_first_and_empty_slots_last() {
        let s = |score, name_score| Score {
            src: 0,
            dst: 0,
            score,
            name_score,
        };
        assert!(score_compare(&s(40000, 0), &s(30000, 1)) < 0);
        assert!(score_compare(&s(30000, 1), &s(30000, 0)) < 0);
        assert!(score_compare(&Score::EMPTY, &s(0, 0)) > 0);
        assert_eq!(score_compare(&Score::EMPTY, &Score::EMPTY), 0);
        let mut m = [Score::EMPTY; CANDIDATES_PER_DST];
        for score in [10, 50, 20, 40, 30] {
            record_if_better(&mut m, s(score, 0));
        }
        let mut kept: Vec<u32> = m.iter().map(|x| x.score).collect();
        kept.sort_unstable();
        assert_eq!(kept, vec![20, 30, 40, 50]);
    }
}
