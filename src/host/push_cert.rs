//! A signed push (`git push --signed`): receive-pack names the
//! certificate's blob in `GIT_PUSH_CERT`. It names nobody until the hook
//! verifies the certificate itself (`crate::facts::push_cert`): git's
//! `GIT_PUSH_CERT_STATUS` and `GIT_PUSH_CERT_KEY` are never read, since git
//! says `G` for any key that verifies and receive-pack does not clear
//! `GIT_PUSH_CERT_*` variables the pusher may have set. Tried last: a
//! host's own variable wins.

use super::{never, none, HookEnv, Host};
use crate::push::{Identified, Pusher};

pub(super) const HOST: Host = Host {
    name: "push-certificate",
    pusher_variables: &["GIT_PUSH_CERT"],
    other_variables: &[],
    pusher,
    repository_variables: &[],
    repository: none,
    protocol: none,
    runs_hook: never,
    line_prefix: "",
    layout: None,
};

fn pusher(env: &HookEnv) -> Option<Pusher> {
    Some(Pusher {
        login: env.value("GIT_PUSH_CERT")?.to_owned(),
        email: None,
        source: "GIT_PUSH_CERT",
        by: Identified::Certificate,
        user_id: None,
        host: "push-certificate",
    })
}
