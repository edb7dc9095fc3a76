//! Rendering a judgement: the words of each violation, made from its typed
//! findings ([`words`]), text for the pusher (git shows it as `remote:`
//! lines; GitLab only shows lines prefixed `GL-HOOK-ERR: `), JSON for
//! machines, and the audit log. Nothing here judges.

pub mod audit;
mod json;
mod text;
pub mod words;

pub use json::{json, json_error};
pub use text::{contact_line, failure, text};
pub use words::{help, what};

/// How many violations are shown in full before the rest are counted.
pub const SHOWN_LIMIT: usize = 20;

/// Longest line of the text report, in characters, before it is cut.
pub const LINE_LIMIT: usize = 2000;

/// Options for the human-readable report.
#[derive(Debug, Clone, Default)]
pub struct TextOptions {
    /// Prefix for every line (`GL-HOOK-ERR: ` under GitLab).
    pub prefix: String,
    /// The policy file, named in the summary.
    pub policy: String,
    /// `verify` speaks of commits, not of a push.
    pub verify: bool,
    /// Print a line even when the push is accepted with nothing to say.
    pub verbose: bool,
    /// Whether this push's audit lines were written (an override is said
    /// to be recorded only when they were); `None` outside hook mode.
    pub recorded: Option<audit::Recorded>,
    /// `settings.contact`: whom to ask, said at the end of every rejection.
    pub contact: Option<String>,
}
