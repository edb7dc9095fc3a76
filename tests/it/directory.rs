//! The directory file (`settings.directory`): people and groups kept beside
//! the policy, merged with it, its age and content hash, and every way it can
//! be wrong; and `trailgate directory sync`, which writes it from LDAP.

mod file;
mod index;
mod nested;
mod slapd;
mod sync;
mod tls;
