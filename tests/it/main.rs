//! Integration tests: real git, real repositories, real pushes.

mod support;

mod ai;
mod blast;
mod cli;
mod commitgraph;
mod diff;
mod hardening;
mod hook;
mod hosts;
mod proof;
mod trailers;
