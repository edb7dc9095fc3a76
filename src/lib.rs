//! trailgate: a git pre-receive hook that judges pushed commits against a TOML policy.
//!
//! Data flows one way: [`push`] (the ref updates git hands the hook) ->
//! [`walk`] (the commits each update brings in, read through [`repo`] and
//! [`commit`], and [`commitgraph`] where git wrote one) -> [`facts`] (what each commit declares and who wrote it, built
//! on [`trailers`], [`ai`] and [`identity`]) -> [`rules`] (the validated
//! [`policy`] applied to the facts, giving violations) -> [`report`].
//! [`cli`] is the command line around it; [`demo`] the embedded walkthrough;
//! [`install`] wires the hook into each git host's hook folders; [`audit`]
//! writes and summarises the audit log.

pub mod ai;
pub mod audit;
pub mod cli;
pub mod commit;
pub mod commitgraph;
pub mod demo;
pub mod diff;
pub mod encoding;
pub mod facts;
pub mod identity;
pub mod install;
pub mod oid;
pub mod pack;
pub mod parallel;
pub mod policy;
pub mod push;
pub mod repo;
pub mod report;
pub mod rules;
pub mod signature;
pub mod trailers;
pub mod walk;
