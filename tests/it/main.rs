//! Integration tests: real git, real repositories, real pushes.

mod support;

mod ai;
mod cli;
mod diff;
mod hook;
mod trailers;
