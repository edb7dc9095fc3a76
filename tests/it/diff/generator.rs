//! A seeded, deterministic history for the diff differential test, written
//! as one `git fast-import` stream.
//!
//! Each commit applies a few random operations to a model of the tree: adds,
//! edits, deletions, exact renames, renames with edits of every size (around
//! git's 50% threshold too), moves between directories, whole-directory
//! moves, binary files (and a NUL just past byte 8,000, which git calls
//! text), mode flips, symlinks, gitlinks, type changes between all three,
//! files replaced by directories, empty files, files without a final newline,
//! CRLF files, duplicate blobs (for git's exact-rename tie-break), large
//! files, and now and then a merge commit.

use std::collections::BTreeMap;
use std::fmt::Write as _;

pub use crate::oracle::Rng;

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    File { exec: bool },
    Symlink,
    Gitlink,
}

#[derive(Clone, Debug)]
struct Entry {
    kind: Kind,
    /// File content, symlink target, or the gitlink's hex commit id.
    data: Vec<u8>,
}

const DIRS: &[&str] = &[
    "",
    "src/",
    "src/util/",
    "docs/",
    "infra/",
    "infra/prod/",
    "db/migrations/",
    "lib/a/",
    "lib/b/",
    "t/",
    "f/",
    "a-b/",
];

const NAMES: &[&str] = &[
    "main.rs",
    "mod.rs",
    "README",
    "config.toml",
    "notes.txt",
    "x",
    "y-z.c",
    "a.c",
    "a.h",
    "f",
    "a-b",
    "unicode-\u{e9}.txt",
    "sp ace.txt",
    "tab\there",
    "quote\"d",
    "data.bin",
    "long-file.txt",
    "0001_init.sql",
];

const WORDS: &[&str] = &[
    "fn", "let", "mut", "return", "if", "else", "{", "}", "x", "y", "value", "error", "ok", "//",
    "TODO", "self", "match", "=>", "0", "1", "42", "vec![]", "Some(v)", "None", "", "", "",
];

fn line(rng: &mut Rng) -> Vec<u8> {
    let n = rng.below(6);
    let mut s = String::new();
    if rng.chance(30) {
        s.push_str("    ");
    }
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        let word: &str = rng.pick::<&str>(WORDS);
        s.push_str(word);
    }
    if rng.chance(10) {
        let _ = write!(s, " {}", rng.below(1000));
    }
    s.into_bytes()
}

/// Lines (without terminators), how they end, and whether the last one has
/// a terminator.
struct Text {
    lines: Vec<Vec<u8>>,
    crlf: bool,
    final_newline: bool,
}

impl Text {
    fn parse(data: &[u8]) -> Text {
        let crlf = data.windows(2).any(|w| w == b"\r\n");
        let final_newline = data.last().is_none_or(|&c| c == b'\n');
        let mut lines: Vec<Vec<u8>> = data.split(|&c| c == b'\n').map(|l| l.to_vec()).collect();
        if final_newline {
            lines.pop();
        }
        if crlf {
            for l in &mut lines {
                if l.last() == Some(&b'\r') {
                    l.pop();
                }
            }
        }
        Text {
            lines,
            crlf,
            final_newline,
        }
    }

    fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, l) in self.lines.iter().enumerate() {
            out.extend_from_slice(l);
            if i + 1 < self.lines.len() || self.final_newline {
                if self.crlf {
                    out.push(b'\r');
                }
                out.push(b'\n');
            }
        }
        out
    }
}

fn text(rng: &mut Rng, lines: usize) -> Vec<u8> {
    Text {
        lines: (0..lines).map(|_| line(rng)).collect(),
        crlf: rng.chance(10),
        final_newline: !rng.chance(15),
    }
    .render()
}

fn binary(rng: &mut Rng) -> Vec<u8> {
    let len = 1 + rng.below(3000);
    let mut data: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
    let at = rng.below(len);
    data[at] = 0;
    data
}

/// Text with a NUL after byte 8,000: git calls it text.
fn late_nul(rng: &mut Rng) -> Vec<u8> {
    let mut data = text(rng, 1200);
    while data.len() < 8100 {
        data.extend_from_slice(b"padding line\n");
    }
    data.push(0);
    data.extend_from_slice(b"\nafter\n");
    data
}

/// Edits roughly `percent` of the lines of a text (replace, insert, delete,
/// move a block), sometimes flipping the final newline or line endings.
fn edit(rng: &mut Rng, data: &[u8], percent: usize) -> Vec<u8> {
    if data.contains(&0) && !rng.chance(20) {
        let mut d = data.to_vec();
        let at = rng.below(d.len().max(1));
        if d.is_empty() {
            d.push(0);
        } else {
            d[at] = d[at].wrapping_add(1);
        }
        if rng.chance(30) {
            d.extend_from_slice(&binary(rng));
        }
        return d;
    }
    let mut t = Text::parse(data);
    let edits = (t.lines.len() * percent / 100).max(1);
    for _ in 0..edits {
        let n = t.lines.len();
        match rng.below(5) {
            0 | 1 if n > 0 => {
                let i = rng.below(n);
                t.lines[i] = line(rng);
            }
            2 => {
                let i = rng.below(n + 1);
                let l = line(rng);
                t.lines.insert(i, l);
            }
            3 if n > 0 => {
                let i = rng.below(n);
                t.lines.remove(i);
            }
            _ if n > 4 => {
                let start = rng.below(n - 2);
                let len = 1 + rng.below((n - start).min(8));
                let block: Vec<_> = t.lines.drain(start..start + len).collect();
                let to = rng.below(t.lines.len() + 1);
                for (k, l) in block.into_iter().enumerate() {
                    t.lines.insert(to + k, l);
                }
            }
            _ => t.lines.push(line(rng)),
        }
    }
    if rng.chance(8) {
        t.final_newline = !t.final_newline;
    }
    if rng.chance(4) {
        t.crlf = !t.crlf;
    }
    t.render()
}

fn hex_id(rng: &mut Rng) -> Vec<u8> {
    let mut s = String::new();
    for _ in 0..crate::support::test_hex_len() / 8 {
        let _ = write!(s, "{:08x}", rng.next_u64() as u32);
    }
    s.into_bytes()
}

/// The history being written.
pub struct Generator {
    rng: Rng,
    tree: BTreeMap<String, Entry>,
    stream: Vec<u8>,
    ops: Vec<u8>,
    commits: usize,
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        Generator {
            rng: Rng::new(seed),
            tree: BTreeMap::new(),
            stream: Vec::new(),
            ops: Vec::new(),
            commits: 0,
        }
    }

    /// A fast-import stream of `commits` commits on `refs/heads/main`.
    pub fn history(mut self, commits: usize) -> Vec<u8> {
        while self.commits < commits {
            let n = 1 + self.rng.below(6);
            for _ in 0..n {
                self.operation();
            }
            if self.rng.chance(2) {
                self.ops.clear(); // an empty commit
            }
            self.commit();
        }
        self.stream
    }

    fn commit(&mut self) {
        self.commits += 1;
        let mark = self.commits;
        let msg = format!("commit {mark}\n");
        let mut head = String::new();
        let _ = write!(
            head,
            "commit refs/heads/main\nmark :{mark}\ncommitter Gen <gen@example.com> {} +0000\ndata {}\n{msg}",
            1_600_000_000 + mark * 60,
            msg.len()
        );
        if mark > 1 {
            let _ = writeln!(head, "from :{}", mark - 1);
            if mark > 10 && self.rng.chance(3) {
                let _ = writeln!(head, "merge :{}", 1 + self.rng.below(mark - 2));
            }
        }
        self.stream.extend_from_slice(head.as_bytes());
        self.stream.append(&mut self.ops);
        self.stream.push(b'\n');
    }

    fn quote(path: &str) -> String {
        if path.contains(['"', '\t', '\n', '\\']) || path.starts_with('"') {
            let mut q = String::from("\"");
            for c in path.chars() {
                match c {
                    '"' => q.push_str("\\\""),
                    '\\' => q.push_str("\\\\"),
                    '\t' => q.push_str("\\t"),
                    '\n' => q.push_str("\\n"),
                    c => q.push(c),
                }
            }
            q.push('"');
            q
        } else {
            path.to_owned()
        }
    }

    fn delete(&mut self, path: &str) {
        let _ = writeln!(self.ops.by_ref_string(), "D {}", Self::quote(path));
        let dir = format!("{path}/");
        self.tree.retain(|p, _| p != path && !p.starts_with(&dir));
    }

    fn put(&mut self, path: &str, entry: Entry) {
        // Make room: a file where a directory must go, or a directory where
        // the file goes.
        let mut prefix = String::new();
        for part in path.split('/').take(path.split('/').count() - 1) {
            prefix.push_str(part);
            if self.tree.contains_key(&prefix) {
                let p = prefix.clone();
                self.delete(&p);
            }
            prefix.push('/');
        }
        let dir = format!("{path}/");
        if self.tree.keys().any(|p| p.starts_with(&dir)) {
            self.delete(path);
        }
        let q = Self::quote(path);
        match entry.kind {
            Kind::Gitlink => {
                let _ = writeln!(
                    self.ops.by_ref_string(),
                    "M 160000 {} {q}",
                    String::from_utf8_lossy(&entry.data)
                );
            }
            Kind::Symlink | Kind::File { .. } => {
                let mode = match entry.kind {
                    Kind::Symlink => "120000",
                    Kind::File { exec: true } => "100755",
                    _ => "100644",
                };
                let _ = writeln!(
                    self.ops.by_ref_string(),
                    "M {mode} inline {q}\ndata {}",
                    entry.data.len()
                );
                self.ops.extend_from_slice(&entry.data);
                self.ops.push(b'\n');
            }
        }
        self.tree.insert(path.to_owned(), entry);
    }

    fn random_path(&mut self) -> String {
        let dir = *self.rng.pick(DIRS);
        let name = *self.rng.pick(NAMES);
        if self.rng.chance(30) {
            format!("{dir}{}{name}", self.rng.below(20))
        } else {
            format!("{dir}{name}")
        }
    }

    fn existing(&mut self, want: impl Fn(&Entry) -> bool) -> Option<String> {
        let paths: Vec<&String> = self
            .tree
            .iter()
            .filter(|(_, e)| want(e))
            .map(|(p, _)| p)
            .collect();
        if paths.is_empty() {
            None
        } else {
            Some(paths[self.rng.below(paths.len())].clone())
        }
    }

    fn new_file(&mut self) -> Entry {
        let rng = &mut self.rng;
        let data = match rng.below(100) {
            0..=6 => Vec::new(),
            7..=14 => binary(rng),
            15 => late_nul(rng),
            16..=17 => {
                let n = 2000 + rng.below(6000);
                text(rng, n)
            }
            _ => {
                let n = rng.below(60);
                text(rng, n)
            }
        };
        Entry {
            kind: Kind::File {
                exec: rng.chance(10),
            },
            data,
        }
    }

    fn operation(&mut self) {
        let is_file = |e: &Entry| matches!(e.kind, Kind::File { .. });
        match self.rng.below(100) {
            // Add a file.
            0..=21 => {
                let path = self.random_path();
                let e = self.new_file();
                self.put(&path, e);
            }
            // Edit a file a little or a lot.
            22..=41 => {
                if let Some(path) = self.existing(is_file) {
                    let mut e = self.tree[&path].clone();
                    let percent = *self.rng.pick(&[1, 5, 10, 30, 60]);
                    e.data = edit(&mut self.rng, &e.data, percent);
                    self.put(&path, e);
                }
            }
            // Delete anything.
            42..=49 => {
                if let Some(path) = self.existing(|_| true) {
                    self.delete(&path);
                }
            }
            // Rename, exactly or with edits of any size, in place or to
            // another directory.
            50..=61 => {
                if let Some(from) = self.existing(|_| true) {
                    let mut e = self.tree[&from].clone();
                    let to = if self.rng.chance(50) {
                        let name = from.rsplit('/').next().unwrap_or("x").to_owned();
                        format!("{}{name}", self.rng.pick(DIRS))
                    } else {
                        self.random_path()
                    };
                    if to == from || to.starts_with(&format!("{from}/")) {
                        return;
                    }
                    if is_file(&e) && self.rng.chance(60) {
                        let percent = *self.rng.pick(&[2, 10, 20, 30, 40, 45, 50, 55, 60, 80]);
                        e.data = edit(&mut self.rng, &e.data, percent);
                    }
                    self.delete(&from);
                    self.put(&to, e);
                }
            }
            // Move a whole directory (same basenames), some files edited.
            62..=64 => {
                let from = *self.rng.pick(DIRS);
                let to = *self.rng.pick(DIRS);
                if from.is_empty() || from == to || to.starts_with(from) {
                    return;
                }
                let moved: Vec<(String, Entry)> = self
                    .tree
                    .iter()
                    .filter(|(p, _)| p.starts_with(from) && !p[from.len()..].contains('/'))
                    .map(|(p, e)| (p.clone(), e.clone()))
                    .collect();
                for (p, mut e) in moved {
                    if is_file(&e) && self.rng.chance(40) {
                        e.data = edit(&mut self.rng, &e.data, 20);
                    }
                    self.delete(&p);
                    self.put(&format!("{to}{}", &p[from.len()..]), e);
                }
            }
            // Flip the executable bit.
            65..=70 => {
                if let Some(path) = self.existing(is_file) {
                    let mut e = self.tree[&path].clone();
                    e.kind = match e.kind {
                        Kind::File { exec } => Kind::File { exec: !exec },
                        k => k,
                    };
                    if self.rng.chance(30) {
                        e.data = edit(&mut self.rng, &e.data, 10);
                    }
                    self.put(&path, e);
                }
            }
            // Symlinks: add, retarget, or turn a path into one.
            71..=76 => {
                let path = match self.rng.below(3) {
                    0 => self.existing(|_| true).unwrap_or_else(|| "link".to_owned()),
                    1 => self
                        .existing(|e| e.kind == Kind::Symlink)
                        .unwrap_or_else(|| "link".to_owned()),
                    _ => self.random_path(),
                };
                let target = match self.rng.below(3) {
                    0 => b"../README".to_vec(),
                    1 => format!("target-{}\nsecond line", self.rng.below(50)).into_bytes(),
                    _ => format!("src/{}", self.rng.pick(NAMES)).into_bytes(),
                };
                self.put(
                    &path,
                    Entry {
                        kind: Kind::Symlink,
                        data: target,
                    },
                );
            }
            // Gitlinks: add, move the submodule, or turn a path into one.
            77..=82 => {
                let path = match self.rng.below(3) {
                    0 => self
                        .existing(|_| true)
                        .unwrap_or_else(|| "vendor/sub".to_owned()),
                    1 => self
                        .existing(|e| e.kind == Kind::Gitlink)
                        .unwrap_or_else(|| "vendor/sub".to_owned()),
                    _ => format!("vendor/{}", self.rng.pick(NAMES)),
                };
                let data = hex_id(&mut self.rng);
                self.put(
                    &path,
                    Entry {
                        kind: Kind::Gitlink,
                        data,
                    },
                );
            }
            // Turn a symlink or gitlink back into a file.
            83..=85 => {
                if let Some(path) = self.existing(|e| !matches!(e.kind, Kind::File { .. })) {
                    let mut e = self.new_file();
                    if self.rng.chance(50) {
                        e.data = self.tree[&path].data.clone();
                    }
                    self.put(&path, e);
                }
            }
            // Duplicate blobs: copy a file's content to other paths (later
            // deletes and renames then have identical candidates).
            86..=89 => {
                if let Some(from) = self.existing(is_file) {
                    let e = self.tree[&from].clone();
                    for _ in 0..1 + self.rng.below(3) {
                        let to = self.random_path();
                        if to != from {
                            self.put(&to, e.clone());
                        }
                    }
                }
            }
            // A file replaced by a directory, or a directory by a file.
            90..=92 => {
                if let Some(path) = self.existing(|_| true) {
                    let e = self.new_file();
                    if self.rng.chance(50) {
                        self.put(&format!("{path}/inner.txt"), e);
                    } else if let Some((dir, _)) = path.rsplit_once('/') {
                        let dir = dir.to_owned();
                        self.put(&dir, e);
                    }
                }
            }
            // Delete a whole directory.
            93..=94 => {
                let dir = self.rng.pick(DIRS).trim_end_matches('/').to_owned();
                if !dir.is_empty() {
                    self.delete(&dir);
                }
            }
            // Swap the contents of two files.
            95..=96 => {
                let a = self.existing(is_file);
                let b = self.existing(is_file);
                if let (Some(a), Some(b)) = (a, b) {
                    if a != b {
                        let ea = self.tree[&a].clone();
                        let eb = self.tree[&b].clone();
                        self.put(&a, eb);
                        self.put(&b, ea);
                    }
                }
            }
            // Several small files at once (a burst of adds and deletes).
            _ => {
                for _ in 0..10 {
                    let path = self.random_path();
                    if self.rng.chance(50) {
                        let n = self.rng.below(5);
                        let data = text(&mut self.rng, n);
                        self.put(
                            &path,
                            Entry {
                                kind: Kind::File { exec: false },
                                data,
                            },
                        );
                    } else if self.tree.contains_key(&path) {
                        self.delete(&path);
                    }
                }
            }
        }
    }
}

/// `write!` into a byte vector as if it were a string.
trait ByRefString {
    fn by_ref_string(&mut self) -> ByteWriter<'_>;
}

impl ByRefString for Vec<u8> {
    fn by_ref_string(&mut self) -> ByteWriter<'_> {
        ByteWriter(self)
    }
}

pub struct ByteWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for ByteWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}
