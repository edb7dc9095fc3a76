//! trailgate: a git pre-receive hook that judges pushed commits against a TOML policy.
//!
//! Data flows one way: [`push`] (the ref updates git hands the hook) ->
//! [`walk`] (the commits each update brings in) -> [`facts`] (what each commit
//! declares and who wrote it, built on [`trailers`] and [`identity`]) ->
//! [`rules`] (validated [`policy`] x facts -> violations) -> [`report`].

pub mod trailers;
