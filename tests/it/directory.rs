//! The directory file (`settings.directory`): people and groups kept beside
//! the policy, merged with it, its age and content hash, and every way it can
//! be wrong. The next step, `trailgate directory sync`, writes it.

mod file;
