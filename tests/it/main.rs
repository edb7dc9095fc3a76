//! Integration tests: real git, real repositories, real pushes.

mod support;

mod cli;
mod diff;
mod hardening;
mod hook;
mod trailers;
