//! Integration tests: real git, real repositories, real pushes.

mod support;

mod blast;
mod cli;
mod commitgraph;
mod diff;
mod hook;
mod trailers;
