//! Trailer parsing throughput over a realistic mix of commit messages:
//! `cargo bench --bench trailers`. Prints MB/s; asserts nothing about speed.
//!
//! The corpus is 100,000 generated messages (seeded, so runs compare): a
//! subject, zero to four paragraphs of wrapped prose, and in 30% of them a
//! trailer block (Signed-off-by, Co-authored-by, AI-Assisted, ...), some with
//! folded values, comment lines or CRLF.

// A benchmark over generated data: indexing its own tables is fine.
#![allow(clippy::indexing_slicing)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use trailgate::facts::trailers::{from_commit_message, from_text};

const MESSAGES: usize = 100_000;
const ROUNDS: usize = 5;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        // xorshift64*: plenty for picking words.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

const WORDS: &[&str] = &[
    "the",
    "parser",
    "commit",
    "fix",
    "a",
    "race",
    "in",
    "when",
    "handling",
    "refs",
    "update",
    "of",
    "hook",
    "policy",
    "trailer",
    "message",
    "and",
    "to",
    "is",
    "not",
    "with",
    "for",
    "this",
    "change",
    "makes",
    "sure",
    "that",
    "we",
    "never",
    "read",
    "past",
    "end",
    "buffer",
    "https://example.com/issue/1234",
];

const TRAILERS: &[&str] = &[
    "Signed-off-by: Jane Doe <jane@example.com>",
    "Co-authored-by: John Roe <john@example.com>",
    "AI-Assisted: yes",
    "Reviewed-by: Alice Example <alice@example.org>",
    "Approved-By: bob",
    "Change-Id: I8a7d3f0b2c9e4d1a6b5c8e7f0a1b2c3d4e5f6a7b",
    "Link: https://lore.example.org/r/20240101000000.12345-1-jane@example.com",
    "Fixes: 0123456789ab (\"parser: handle empty values\")",
];

fn sentence_line(rng: &mut Rng, out: &mut String) {
    let target = 50 + rng.below(22);
    let start = out.len();
    while out.len() - start < target {
        if out.len() > start {
            out.push(' ');
        }
        out.push_str(WORDS[rng.below(WORDS.len())]);
    }
}

fn message(rng: &mut Rng) -> Vec<u8> {
    let mut m = String::new();
    sentence_line(rng, &mut m);
    m.push('\n');
    for _ in 0..rng.below(5) {
        m.push('\n');
        for _ in 0..1 + rng.below(6) {
            sentence_line(rng, &mut m);
            m.push('\n');
        }
    }
    if rng.below(10) < 3 {
        m.push('\n');
        for _ in 0..1 + rng.below(4) {
            m.push_str(TRAILERS[rng.below(TRAILERS.len())]);
            m.push('\n');
            if rng.below(20) == 0 {
                m.push_str("  folded onto a second line\n");
            }
        }
        if rng.below(20) == 0 {
            m.push_str("# Please enter the commit message for your changes.\n");
        }
    }
    if rng.below(50) == 0 {
        m = m.replace('\n', "\r\n");
    }
    m.into_bytes()
}

fn measure(name: &str, corpus: &[Vec<u8>], bytes: usize, parse: impl Fn(&[u8]) -> usize) {
    let mut best = Duration::MAX;
    let mut found = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        found = 0;
        for msg in corpus {
            found += parse(black_box(msg));
        }
        best = best.min(start.elapsed());
    }
    let mbps = bytes as f64 / 1e6 / best.as_secs_f64();
    println!("{name:<20} {mbps:8.0} MB/s  ({found} trailers, best of {ROUNDS} rounds, {best:.2?})");
}

fn main() {
    let mut rng = Rng(0x5eed_7a11_6a7e);
    let corpus: Vec<Vec<u8>> = (0..MESSAGES).map(|_| message(&mut rng)).collect();
    let bytes: usize = corpus.iter().map(Vec::len).sum();
    let with_trailers = corpus
        .iter()
        .filter(|m| !from_commit_message(m).is_empty())
        .count();
    println!(
        "corpus: {MESSAGES} messages, {:.1} MB, {:.0}% with trailers",
        bytes as f64 / 1e6,
        100.0 * with_trailers as f64 / MESSAGES as f64
    );
    measure("from_commit_message", &corpus, bytes, |m| {
        from_commit_message(m).len()
    });
    measure("from_text", &corpus, bytes, |m| from_text(m).len());
}
