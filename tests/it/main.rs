//! Integration tests: real git, real repositories, real pushes.

// Test code may index and panic: a failed assertion is its job.
#![allow(clippy::indexing_slicing, clippy::panic)]

mod oracle;
mod support;

mod ai;
mod blast;
mod cli;
mod commitgraph;
mod diff;
mod directory;
mod hardening;
mod hook;
mod hosts;
mod identity;
mod objects;
mod openpgp;
mod proof;
mod rules;
mod snapshots;
mod trailers;
