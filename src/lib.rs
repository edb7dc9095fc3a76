//! trailgate: a git pre-receive hook that judges pushed commits against a TOML policy.
//!
//! Modules are declared in the order data flows through them: the ref
//! updates of the push, the repository read as git reads it, the facts of
//! each commit, the validated policy, the rules applied to those facts, the
//! engine that plans and runs them, the verdict, its report, and the
//! command line around it.

// stdin -> ref updates
pub mod push;
// reading git: objects, refs, walks, diffs; knows nothing of policy
pub mod git;
// what one commit is: trailers, identities, AI signals, signature
pub mod facts;
// the TOML policy, validated
pub mod policy;
// pure judgement: a rule applied to one commit or ref update
pub mod rules;
// planning and running the rules over a push
pub mod engine;
// findings, violations, the judgement
pub mod verdict;
// text, JSON, audit log
pub mod report;
// the git hosts: pusher, repository name, message prefix, install layout
pub mod host;
// the commands
pub mod cli;
