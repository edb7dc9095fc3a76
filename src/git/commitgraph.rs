//! Reading git's commit-graph file (`objects/info/commit-graph`, or the
//! layers of `objects/info/commit-graphs/commit-graph-chain`) for the walk:
//! a commit's committer date and parents without reading and inflating its
//! object. `git gc` writes the file by default, so on a server with
//! thousands of refs the hidden tips of a push cost a binary search each.
//!
//! The format is git's `Documentation/gitformat-commit-graph.txt`. Only the
//! required chunks are used (OIDF, OIDL, CDAT, EDGE); generation numbers and
//! Bloom filters are not. The header's hash version says whether the ids
//! are SHA-1 (20 bytes) or SHA-256 (32 bytes); every layer of a chain must
//! agree, and a lookup of an id of the other hash finds nothing. The file describes immutable objects, so a stale
//! file is still right about every commit it lists; commits it does not list
//! (the push's quarantined commits, anything newer than the last `gc`) are
//! read from the object database by the caller. A file that is damaged in
//! any way this module notices (bad signature or version, another hash, a
//! chunk out of bounds, a parent position beyond the end) is not used at
//! all. The file's trailing checksum is not verified: that would mean
//! hashing the whole file on every push, and git itself does not check it
//! when reading.
//!
//! Commit times are stored in 34 bits; dates after the year 2514 would be
//! cut, which only changes the walk's order, not its answer.

use std::path::Path;

use crate::git::oid::{HashKind, ObjectId};

const NO_PARENT: u32 = 0x7000_0000;
const EDGE_FLAG: u32 = 0x8000_0000;
/// Tag chains and merges beyond this many parents are not worth trusting a
/// damaged EDGE chunk for.
const MAX_PARENTS: usize = 1 << 16;

/// What the walk needs from the graph for one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphCommit {
    pub time: i64,
    pub parents: Vec<ObjectId>,
}

/// One commit-graph file.
struct Layer {
    data: Vec<u8>,
    fanout: usize,
    lookup: usize,
    commits: usize,
    cdat: usize,
    edges: Option<(usize, usize)>,
    /// Commits in the layers below this one (positions are global).
    base: usize,
    /// The hash of the ids, from the header.
    kind: HashKind,
}

/// The commit-graph of a repository: one file, or a chain of layers.
pub struct CommitGraph {
    layers: Vec<Layer>,
}

impl CommitGraph {
    /// Loads the repository's commit-graph from its `objects` directory, or
    /// `None` when there is none or it cannot be trusted.
    pub fn open(objects: &Path) -> Option<CommitGraph> {
        let info = objects.join("info");
        if let Ok(data) = std::fs::read(info.join("commit-graph")) {
            if let Some(layer) = Layer::parse(data, 0) {
                if layer_is_standalone(&layer) {
                    return Some(CommitGraph {
                        layers: vec![layer],
                    });
                }
            }
        }
        let dir = info.join("commit-graphs");
        let chain = std::fs::read_to_string(dir.join("commit-graph-chain")).ok()?;
        let mut layers: Vec<Layer> = Vec::new();
        for hash in chain.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if HashKind::from_hex_len(hash.len()).is_none()
                || !hash.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return None;
            }
            let base = layers.last().map_or(0, |l| l.base + l.commits);
            let data = std::fs::read(dir.join(format!("graph-{hash}.graph"))).ok()?;
            let layer = Layer::parse(data, base)?;
            if layers.first().is_some_and(|first| first.kind != layer.kind) {
                return None;
            }
            layers.push(layer);
        }
        if layers.is_empty() {
            return None;
        }
        Some(CommitGraph { layers })
    }

    /// The commit's date and parents, if the graph lists it.
    pub fn get(&self, oid: ObjectId) -> Option<GraphCommit> {
        let position = self.position(oid)?;
        self.commit_at(position)
    }

    fn position(&self, oid: ObjectId) -> Option<usize> {
        self.layers
            .iter()
            .filter(|l| l.kind == oid.kind())
            .find_map(|l| l.find(oid.as_bytes()).map(|i| l.base + i))
    }

    fn layer_of(&self, position: usize) -> Option<(&Layer, usize)> {
        self.layers
            .iter()
            .find(|l| position >= l.base && position < l.base + l.commits)
            .map(|l| (l, position - l.base))
    }

    fn oid_at(&self, position: usize) -> Option<ObjectId> {
        let (layer, i) = self.layer_of(position)?;
        let len = layer.kind.byte_len();
        let at = layer.lookup + i * len;
        layer.kind.from_bytes(layer.data.get(at..at + len)?)
    }

    fn commit_at(&self, position: usize) -> Option<GraphCommit> {
        let (layer, i) = self.layer_of(position)?;
        let len = layer.kind.byte_len();
        let at = layer.cdat + i * (len + 16) + len;
        let word = |k: usize| layer.u32_at(at + 4 * k);
        let (p1, p2, high, low) = (word(0)?, word(1)?, word(2)?, word(3)?);
        let time = (i64::from(high & 0x3) << 32) | i64::from(low);
        let mut parents = Vec::new();
        if p1 != NO_PARENT {
            parents.push(self.oid_at(p1 as usize)?);
        }
        if p2 & EDGE_FLAG != 0 {
            // An octopus merge: the first parent above, the rest in EDGE.
            let (start, count) = layer.edges?;
            let mut k = (p2 & !EDGE_FLAG) as usize;
            loop {
                if k >= count || parents.len() > MAX_PARENTS {
                    return None;
                }
                let edge = layer.u32_at(start + 4 * k)?;
                parents.push(self.oid_at((edge & !EDGE_FLAG) as usize)?);
                if edge & EDGE_FLAG != 0 {
                    break;
                }
                k += 1;
            }
        } else if p2 != NO_PARENT {
            parents.push(self.oid_at(p2 as usize)?);
        }
        Some(GraphCommit { time, parents })
    }
}

/// A single `commit-graph` file must not claim base layers.
fn layer_is_standalone(layer: &Layer) -> bool {
    layer.data.get(7) == Some(&0)
}

impl Layer {
    fn parse(data: Vec<u8>, base: usize) -> Option<Layer> {
        // Header: signature, version 1, hash version (1 SHA-1, 2 SHA-256),
        // chunk count, base graph count.
        if data.get(0..4)? != b"CGPH" || data.get(4)? != &1 {
            return None;
        }
        let kind = match data.get(5)? {
            1 => HashKind::Sha1,
            2 => HashKind::Sha256,
            _ => return None,
        };
        let hash_len = kind.byte_len();
        let chunks = usize::from(*data.get(6)?);
        let (mut fanout, mut lookup, mut cdat, mut edges) = (None, None, None, None);
        for c in 0..chunks {
            let entry = 8 + c * 12;
            let id = data.get(entry..entry + 4)?;
            let start = u64_at(&data, entry + 4)?;
            let end = u64_at(&data, entry + 16)?;
            let (start, end) = (usize::try_from(start).ok()?, usize::try_from(end).ok()?);
            if start > end || end > data.len() {
                return None;
            }
            match id {
                b"OIDF" => fanout = Some((start, end - start)),
                b"OIDL" => lookup = Some((start, end - start)),
                b"CDAT" => cdat = Some((start, end - start)),
                b"EDGE" => edges = Some((start, (end - start) / 4)),
                _ => {}
            }
        }
        let (fanout, fanout_len) = fanout?;
        let (lookup, lookup_len) = lookup?;
        let (cdat, cdat_len) = cdat?;
        if fanout_len != 256 * 4 {
            return None;
        }
        let mut layer = Layer {
            data,
            fanout,
            lookup,
            commits: 0,
            cdat,
            edges,
            base,
            kind,
        };
        let commits = layer.u32_at(fanout + 255 * 4)? as usize;
        if lookup_len < commits * hash_len || cdat_len < commits * (hash_len + 16) {
            return None;
        }
        // The fanout must never decrease, or the search below could miss.
        let mut previous = 0;
        for i in 0..256 {
            let count = layer.u32_at(fanout + 4 * i)?;
            if count < previous {
                return None;
            }
            previous = count;
        }
        layer.commits = commits;
        Some(layer)
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let bytes = self.data.get(at..at + 4)?;
        Some(u32::from_be_bytes(bytes.try_into().ok()?))
    }

    /// The index of `oid` in this layer's sorted list.
    fn find(&self, oid: &[u8]) -> Option<usize> {
        let first = usize::from(*oid.first()?);
        let lo = if first == 0 {
            0
        } else {
            self.u32_at(self.fanout + 4 * (first - 1))? as usize
        };
        let hi = (self.u32_at(self.fanout + 4 * first)? as usize).min(self.commits);
        let (mut lo, mut hi) = (lo, hi);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let len = self.kind.byte_len();
            let at = self.lookup + mid * len;
            match self.data.get(at..at + len)?.cmp(oid) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }
}

fn u64_at(data: &[u8], at: usize) -> Option<u64> {
    let bytes = data.get(at..at + 8)?;
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}
