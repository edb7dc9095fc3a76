//! Integration tests: real git, real repositories, real pushes.

mod support;

mod cli;
mod diff;
mod hook;
mod hosts;
mod trailers;
