//! trailgate: a git pre-receive hook that judges pushed commits against a TOML policy.
//!
//! Data flows one way: [`push`] (the ref updates git hands the hook) ->
//! [`git`] (reading the repository: the commits each update brings in, their
//! objects and diffs) -> [`facts`] (what each commit declares and who wrote
//! it) -> [`policy`] (the validated TOML) -> [`engine`] (the policy applied
//! to the facts, giving violations) -> [`report`] (text, JSON, the audit
//! log). [`cli`] is the command line around it.

pub mod cli;
pub mod engine;
pub mod facts;
pub mod git;
pub mod policy;
pub mod push;
pub mod report;
