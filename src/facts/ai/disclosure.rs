//! Disclosure trailers read for what they say: AI assistance, help from a
//! person, or a declaration that no AI was used.
//!
//! The conventions read here (each quoted with its source in the README's
//! detection table):
//! - the Linux kernel's `Assisted-by: AGENT_NAME:MODEL_VERSION [TOOL1] [TOOL2]`
//!   (Documentation/process/coding-assistants.rst), parsed into agent,
//!   model and tools;
//! - Fedora's free text (`Assisted-by: generic LLM chatbot`), QEMU's draft
//!   `AI-used-for: tests`, the ASF's and OpenInfra's `Generated-by:`:
//!   any value but a negative one is AI assistance;
//! - rai-lint's footers: `Assisted-by`, `Generated-by`,
//!   `Commit-generated-by: [AI Tool] <email>` disclose AI, and
//!   `Authored-by: [Human] <email>` declares that *no* AI was used;
//! - a value that names a person is help from that person, not AI
//!   assistance: that is [`HumanHelp`], the rule `ai.human_help` configures.
//!
//! Nothing here decides a verdict: [`crate::facts`] uses a [`Reading`] for
//! declared assistance and the disclosure marks use it for detection. A
//! value the pusher types can only ever make a commit *less* AI-assisted by
//! naming a person, and a person's `Name <email>` cannot carry a tool's
//! address or a tool's name (`Assisted-by: Claude Opus 4.6 <jane@example.com>`
//! is AI assistance).

use std::sync::OnceLock;

use regex::Regex;

use crate::facts::identity::{Directory, Who};

/// How a disclosure value that names someone is read (`ai.human_help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HumanHelp {
    /// `"name-and-email"`: a `Name <email>` whose address is no known AI
    /// tool's and whose name names no AI tool or model, or a person of the
    /// policy (by e-mail, id or login), is human help.
    #[default]
    NameAndEmail,
    /// `"known-people"`: only a person of the policy is human help.
    KnownPeople,
    /// `"never"`: every value but a negative one is AI assistance (what
    /// trailgate did before this rule existed).
    Never,
}

impl HumanHelp {
    pub fn as_str(self) -> &'static str {
        match self {
            HumanHelp::NameAndEmail => "name-and-email",
            HumanHelp::KnownPeople => "known-people",
            HumanHelp::Never => "never",
        }
    }
}

/// What reading a disclosure value needs: the rule, and who the policy
/// knows. `directory: None` reads as if the policy knew nobody.
#[derive(Debug, Clone, Copy, Default)]
pub struct People<'a> {
    pub mode: HumanHelp,
    pub directory: Option<&'a Directory>,
    /// The policy's markers: their `{ author = ... }` patterns are AI
    /// tools' addresses too.
    pub markers: &'a [super::Marker],
}

/// What a disclosure trailer's value says. It borrows the value: reading
/// one allocates nothing (detection reads disclosures on every commit);
/// [`Reading::describe`] makes the words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading<'v> {
    /// Empty or negative (`none`): it discloses nothing.
    Negative,
    /// Help from a person.
    Human(Person<'v>),
    /// AI assistance.
    Ai(AiUse<'v>),
    /// rai-lint's `Authored-by`: a declaration that no AI was used. It
    /// declares nothing and does not hide any mark.
    HumanOnly,
}

/// Why a value names a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Person<'v> {
    /// A person of the policy (index into its people).
    Known(usize),
    /// `Name <email>` with an address that is no AI tool's.
    Address(&'v str),
}

impl Reading<'_> {
    /// Whether the value discloses AI assistance.
    pub fn is_ai(&self) -> bool {
        matches!(self, Reading::Ai(_))
    }

    /// Plain words for `trailgate explain`.
    pub fn describe(&self, people: &People<'_>) -> String {
        match self {
            Reading::Negative => "discloses no assistance (a negative value)".into(),
            Reading::Human(Person::Known(i)) => {
                let who = people
                    .directory
                    .map_or_else(|| "someone".to_owned(), |d| d.describe(&Who::Person(*i)));
                format!("human help, not AI assistance ({who} is a person of the policy)")
            }
            Reading::Human(Person::Address(email)) => format!(
                "human help, not AI assistance (`Name <email>` of a person: <{email}> is no AI tool's address)"
            ),
            Reading::HumanOnly => "declares that no AI was used (rai-lint's human-only footer); it does not hide the marks of a tool".into(),
            Reading::Ai(AiUse::Kernel { agent, model, tools }) => {
                let tools: Vec<&str> = tools.split_whitespace().collect();
                let tools = if tools.is_empty() {
                    "no tools".to_owned()
                } else {
                    format!("tools {}", tools.join(", "))
                };
                format!("AI assistance (kernel format: agent {agent}, model {model}, {tools})")
            }
            Reading::Ai(AiUse::ToolAddress(email)) => {
                format!("AI assistance (<{email}> is an AI tool's address)")
            }
            Reading::Ai(AiUse::ToolName(name)) => {
                format!("AI assistance (`{name}` names an AI tool or model)")
            }
            Reading::Ai(AiUse::Text) => "AI assistance (a tool or use named in free text)".into(),
        }
    }
}

/// How a value discloses AI assistance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AiUse<'v> {
    /// The kernel's `AGENT_NAME:MODEL_VERSION [TOOL...]`; `tools` is the
    /// rest of the value, words separated by spaces.
    Kernel {
        agent: &'v str,
        model: &'v str,
        tools: &'v str,
    },
    /// `Name <email>` with an AI tool's address.
    ToolAddress(&'v str),
    /// `Name <email>` whose name names an AI tool or model.
    ToolName(&'v str),
    /// Free text naming a tool, a model or a use.
    Text,
}

/// The key of rai-lint's human-only footer.
pub const AUTHORED_BY: &str = "Authored-by";

/// Names of AI tools and models that no person is called, as words of a
/// `Name <email>` value's name. `Claude` and `Cursor` alone are people's
/// names (`Claude Monet`); with a model or product word they are not.
const TOOL_NAME: &str = r"(?i)\b(claude[ -](code|opus|sonnet|haiku|\d)|chatgpt|gpt-?\d|openai|copilot|codex|gemini|cursor[ -]agent|aider|devin|opencode|openhands|crush|jules|windsurf|cascade|cline|roo[ -]?code|kiro|amazon q|qwen|deepseek|grok|llama|mistral|llm|chatbot)\b|\bAI$";

fn tool_name() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| Regex::new(TOOL_NAME).ok()).as_ref()
}

/// Reads a disclosure value. `negative` says whether the value is one the
/// policy counts as negative (`none`, `no`, ...); `key` is the trailer's key.
pub fn read<'v>(key: &[u8], value: &'v str, negative: bool, people: &People<'_>) -> Reading<'v> {
    let value = value.trim();
    let person = split_person(value);
    if key.eq_ignore_ascii_case(AUTHORED_BY.as_bytes()) {
        // A human-only footer that names a tool's address contradicts itself:
        // the address wins.
        return match person {
            Some((_, email)) if super::is_tool_address(email, people.markers) => {
                Reading::Ai(AiUse::ToolAddress(email))
            }
            _ => Reading::HumanOnly,
        };
    }
    if negative || value.is_empty() {
        return Reading::Negative;
    }
    if people.mode == HumanHelp::Never {
        return Reading::Ai(ai_use(value, person, people));
    }
    if let Some(dir) = people.directory {
        if let Who::Person(i) = dir.approver(value.as_bytes()) {
            // Even a known person's address cannot carry a tool's name.
            if !person.is_some_and(|(name, _)| names_a_tool(name)) {
                return Reading::Human(Person::Known(i));
            }
        }
    }
    if people.mode == HumanHelp::KnownPeople {
        return Reading::Ai(ai_use(value, person, people));
    }
    match ai_use(value, person, people) {
        AiUse::Text => match person {
            Some((_, email)) if email.contains('@') => Reading::Human(Person::Address(email)),
            _ => Reading::Ai(AiUse::Text),
        },
        other => Reading::Ai(other),
    }
}

/// How a value that does not name a person discloses AI.
fn ai_use<'v>(
    value: &'v str,
    person: Option<(&'v str, &'v str)>,
    people: &People<'_>,
) -> AiUse<'v> {
    if let Some((name, email)) = person {
        if super::is_tool_address(email, people.markers) {
            return AiUse::ToolAddress(email);
        }
        if names_a_tool(name) {
            return AiUse::ToolName(name);
        }
        return AiUse::Text;
    }
    kernel(value).unwrap_or(AiUse::Text)
}

fn names_a_tool(name: &str) -> bool {
    tool_name().is_some_and(|re| re.is_match(name))
}

/// `Name <email>`: the name (trimmed) and the address, when the value ends
/// with one `<...>`.
fn split_person(value: &str) -> Option<(&str, &str)> {
    let inner = value.strip_suffix('>')?;
    let (name, email) = inner.rsplit_once('<')?;
    (!email.contains(['<', '>']) && !email.trim().is_empty()).then(|| (name.trim(), email.trim()))
}

/// The kernel's `AGENT_NAME:MODEL_VERSION [TOOL1] [TOOL2]`: the first word
/// holds one `:` with text on both sides (not a URL's `://`).
fn kernel(value: &str) -> Option<AiUse<'_>> {
    let (first, tools) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
    let (agent, model) = first.split_once(':')?;
    if agent.is_empty() || model.is_empty() || model.starts_with('/') || model.contains(':') {
        return None;
    }
    Some(AiUse::Kernel {
        agent,
        model,
        tools: tools.trim(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(value: &str) -> Reading<'_> {
        read(b"Assisted-by", value, false, &People::default())
    }

    #[test]
    fn the_kernel_format_names_agent_model_and_tools() {
        assert_eq!(
            reading("Claude:claude-3-opus coccinelle sparse"),
            Reading::Ai(AiUse::Kernel {
                agent: "Claude",
                model: "claude-3-opus",
                tools: "coccinelle sparse",
            })
        );
        assert_eq!(
            reading("Claude:claude-opus-4-6"),
            Reading::Ai(AiUse::Kernel {
                agent: "Claude",
                model: "claude-opus-4-6",
                tools: "",
            })
        );
        // A URL is free text, not AGENT:MODEL.
        assert_eq!(reading("https://example.com/llm"), Reading::Ai(AiUse::Text));
    }

    #[test]
    fn a_person_is_human_help_and_a_tool_is_not() {
        assert!(matches!(
            reading("Jane Doe <jane@example.com>"),
            Reading::Human(_)
        ));
        assert!(matches!(
            reading("Claude Monet <claude@example.com>"),
            Reading::Human(_)
        ));
        for ai in [
            "Claude <noreply@anthropic.com>",
            "Crush <crush@charm.land>",
            "GitHub Copilot <copilot@github.com>",
            "Claude Opus 4.6 <jane@example.com>",
            "Verdent AI <verdent@verdent.ai>",
            "ChatGPTv5",
            "generic LLM chatbot",
            "Jane Doe",
            "Jane Doe <>",
        ] {
            assert!(reading(ai).is_ai(), "{ai}");
        }
    }

    #[test]
    fn negative_values_and_authored_by_declare_nothing() {
        assert_eq!(
            read(b"Assisted-by", "none", true, &People::default()),
            Reading::Negative
        );
        assert_eq!(reading("  "), Reading::Negative);
        assert_eq!(
            read(
                b"authored-by",
                "Jane <jane@example.com>",
                false,
                &People::default()
            ),
            Reading::HumanOnly
        );
        assert!(read(
            b"Authored-by",
            "Claude <noreply@anthropic.com>",
            false,
            &People::default()
        )
        .is_ai());
    }

    #[test]
    fn the_rule_is_configurable() {
        let never = People {
            mode: HumanHelp::Never,
            ..People::default()
        };
        assert!(read(b"Assisted-by", "Jane <jane@example.com>", false, &never).is_ai());
        let known = People {
            mode: HumanHelp::KnownPeople,
            ..People::default()
        };
        assert!(read(b"Assisted-by", "Jane <jane@example.com>", false, &known).is_ai());
    }
}
