//! `install --chain`: the shim's ending when a hook that was there before
//! trailgate keeps running. The push's stdin is kept in a temporary file so
//! that trailgate and then the old hook (moved aside as
//! `NAME.trailgate-backup`) each read all of it; the old hook runs only
//! when trailgate accepts, with the same arguments and environment, and its
//! exit status is the hook's. Both write to the pusher's terminal.

use super::sh_quote;

/// The tag that records the chained hook (its file name beside the shim).
pub(super) const CHAIN_TAG: &str = "# trailgate-chain:";

/// The shell lines that run `trailgate pre-receive ARGS` and then the hook
/// at `chained` (an absolute path), each with the push's stdin. `prefix`
/// starts every line trailgate itself prints.
pub(super) fn lines(prefix: &str, trailgate: &str, chained: &str) -> String {
    let fail = |what: &str| {
        format!(
            "echo \"{prefix}trailgate: error: {what}; the push is rejected because it could not be judged (trailgate fails closed)\" >&2; exit 2"
        )
    };
    let mut s = String::new();
    s.push_str(&format!("chained={}\n", sh_quote(chained)));
    s.push_str(&format!(
        "input=$(mktemp) || {{ {}; }}\n",
        fail("cannot create a temporary file to hand the push to the chained hook")
    ));
    s.push_str("trap 'rm -f \"$input\"' EXIT\n");
    s.push_str(&format!(
        "cat >\"$input\" || {{ {}; }}\n",
        fail("cannot keep the push for the chained hook")
    ));
    s.push_str(&format!("{trailgate} <\"$input\" || exit $?\n"));
    s.push_str(&format!(
        "[ -x \"$chained\" ] || {{ {}; }}\n",
        fail("the chained hook $chained is missing or not executable")
    ));
    s.push_str("\"$chained\" \"$@\" <\"$input\"\nexit $?\n");
    s
}
