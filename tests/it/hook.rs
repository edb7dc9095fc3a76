//! Hook mode end to end: a real bare repository with trailgate installed as
//! `hooks/pre-receive`, real `git push` from a real clone, and the proof of
//! every decision read back from the server (`git rev-parse`).

mod approvals;
mod audit_log;
mod baseline;
mod conditions;
mod contact;
mod gitlab;
mod identities;
mod input;
mod large;
mod plain_ssh;
mod policy_file;
mod refs;
mod repos;
mod shim;
