//! Issue 13, classes 1 and 7: objects read exactly as git reads them, and
//! refs judged as what they move. Commit and tag objects are written with
//! `git hash-object --literally` in the clone and pushed for real; git
//! (`git log --format`, `git fsck`, `git cat-file`) is the oracle.

mod accepted;
mod attacks;
mod differential;
mod refs;
mod reftable;
mod support;
