//! The other subcommands, run as a user runs them: `verify` in a clone,
//! `check` on policy files, `trailers` against git's own output, `demo`.

mod audit;
mod check;
mod check_setup;
mod commit_msg;
mod demo;
mod explain;
mod json_errors;
mod pre_push;
mod readme;
mod status;
mod trailers;
mod verify;
