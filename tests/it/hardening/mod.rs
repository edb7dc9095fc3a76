//! Hardening (issue 8): every bad input has a defined outcome, a pusher
//! cannot fool the hook, faults end in a rejected push with a clear message,
//! resources stay bounded. Every run here has a time limit: a hang is a
//! failure, not a stuck test suite.

mod aliases;
mod budget;
mod catalogue_commits;
mod catalogue_policy;
mod catalogue_stdin;
mod faults;
mod fooling;
mod limits;
mod merges;
mod shadows;
pub mod support;
