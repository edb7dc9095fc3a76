//! The other subcommands, run as a user runs them: `verify` in a clone,
//! `check` on policy files, `trailers` against git's own output, `demo`.

mod check;
mod demo;
mod explain;
mod pre_push;
mod trailers;
mod verify;
