//! Diff facts (`trailgate::git::diff`) against `git diff-tree --numstat`: a seeded
//! history of thousands of commits, every commit compared with git, with and
//! without rename detection, plus net diffs between trees.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bench;
mod differential;
mod generator;
pub mod merges;
mod oracle;
mod pack;
