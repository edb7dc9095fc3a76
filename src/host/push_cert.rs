//! A signed push (`git push --signed`) that git verified: the pusher is the
//! certificate's key (`GIT_PUSH_CERT_KEY`), which trailgate matches to a
//! person's `ssh_keys` itself. git reports `G` for any key that verifies,
//! even one in no allowed-signers file, and receive-pack does not clear
//! `GIT_PUSH_CERT_*` variables a pusher may have set, so the signer name git
//! reports is never trusted. Tried last: a host's own variable wins.

use super::{never, none, HookEnv, Host};
use crate::push::{Identified, Pusher};

pub(super) const HOST: Host = Host {
    name: "push-certificate",
    pusher_variables: &["GIT_PUSH_CERT_KEY"],
    pusher,
    repository_variables: &[],
    repository: none,
    protocol: none,
    runs_hook: never,
    line_prefix: "",
    layout: None,
};

fn pusher(env: &HookEnv) -> Option<Pusher> {
    let verified = env.get("GIT_PUSH_CERT_STATUS") == Some("G")
        && env.get("GIT_PUSH_CERT_NONCE_STATUS") == Some("OK");
    if !verified {
        return None;
    }
    Some(Pusher {
        login: env.value("GIT_PUSH_CERT_KEY")?.to_owned(),
        email: None,
        source: "GIT_PUSH_CERT_KEY",
        by: Identified::SigningKey,
    })
}
