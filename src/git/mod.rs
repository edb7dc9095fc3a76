//! Reading git: the repository (opened quarantine-safe), its refs and
//! objects, the commits a ref update brings in, and what a commit changes.
//!
//! This layer knows nothing of policy; it answers questions about the
//! repository as git would.

pub mod commitgraph;
pub mod diff;
pub mod format;
pub mod object;
pub mod odb;
pub mod oid;
pub mod pack;
pub mod refs;
pub mod reftable;
pub mod repo;
pub mod revision;
pub mod walk;

pub use oid::{HashKind, ObjectId};
pub use repo::{Format, GitError, Object, ObjectKind, Objects, Reopen, Repo, RepoError};
