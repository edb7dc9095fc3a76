//! The words of a policy error that the TOML parser or serde wrote, put in
//! an administrator's terms: no Rust types (`expected i64` becomes "expected
//! a whole number"), and a "did you mean" for a misspelled key or value.
//! Messages this module does not recognise pass through unchanged.

use super::suggest::did_you_mean;

/// `message` (from toml or serde) as a person reads it.
pub fn humane(message: &str) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field ") {
        return unknown("key", rest);
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        return unknown("value", rest);
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        return format!("missing key {rest}");
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            if let Some((found, expected)) = rest.rsplit_once(", expected ") {
                return format!(
                    "expected {}, found {}",
                    expected_words(expected),
                    found_words(found)
                );
            }
        }
    }
    message.to_owned()
}

/// "`X`, expected one of `a`, `b`" (or "expected `a`", or "there are no
/// fields") as "unknown key `X`; did you mean `a`? (allowed here: ...)".
fn unknown(what: &str, rest: &str) -> String {
    let (word, allowed) = match rest.split_once(", expected ") {
        Some((word, allowed)) => (word, allowed),
        None => (rest.split(',').next().unwrap_or(rest), ""),
    };
    let bare = word.trim_matches('`');
    let allowed = allowed.strip_prefix("one of ").unwrap_or(allowed);
    let names: Vec<&str> = allowed
        .split(", ")
        .map(|a| a.trim().trim_matches('`'))
        .filter(|a| !a.is_empty())
        .collect();
    let mut out = format!("unknown {what} `{bare}`");
    if let Some(guess) = did_you_mean(bare, names.iter().copied()) {
        out.push_str(&format!("; did you mean `{guess}`?"));
    }
    if !names.is_empty() {
        let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        out.push_str(&format!(" (allowed here: {})", list.join(", ")));
    }
    out
}

/// serde's name of what was expected, in TOML's words.
fn expected_words(expected: &str) -> String {
    let e = expected.trim();
    let integer = [
        "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize",
    ];
    if integer.contains(&e) {
        return "a whole number (no quotes)".into();
    }
    match e {
        "f32" | "f64" => "a number".into(),
        "a boolean" | "bool" => "true or false (no quotes)".into(),
        "a sequence" => "a list in [ ]".into(),
        "a map" => "a table ({ key = value, ... } or a [section])".into(),
        "a string" | "a borrowed string" => "text in quotes".into(),
        "a character" | "char" => "one character in quotes".into(),
        _ if e.starts_with("struct ") => "a table ({ key = value, ... } or a [section])".into(),
        _ if e.starts_with("enum ") => "one of the allowed words in quotes".into(),
        _ => e.to_owned(),
    }
}

/// serde's name of what was found (`string "lots"`, `integer `1``).
fn found_words(found: &str) -> String {
    let f = found.trim();
    if let Some(text) = f.strip_prefix("string ") {
        return format!("the text {text}");
    }
    for (prefix, what) in [
        ("integer ", "the number"),
        ("floating point ", "the number"),
        ("boolean ", ""),
    ] {
        if let Some(value) = f.strip_prefix(prefix) {
            let value = value.trim_matches('`');
            return if what.is_empty() {
                value.to_owned()
            } else {
                format!("{what} {value}")
            };
        }
    }
    match f {
        "sequence" => "a list".into(),
        "map" => "a table".into(),
        _ => f.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_types_become_words() {
        assert_eq!(
            humane("invalid type: string \"lots\", expected i64"),
            "expected a whole number (no quotes), found the text \"lots\""
        );
        assert_eq!(
            humane("invalid type: integer `1`, expected a boolean"),
            "expected true or false (no quotes), found the number 1"
        );
        assert_eq!(
            humane("invalid type: string \"refs/heads/main\", expected a sequence"),
            "expected a list in [ ], found the text \"refs/heads/main\""
        );
        assert_eq!(humane("missing field `by`"), "missing key `by`");
    }

    #[test]
    fn a_misspelled_key_or_value_gets_a_did_you_mean() {
        assert_eq!(
            humane("unknown field `requires`, expected one of `name`, `require`, `deny`"),
            "unknown key `requires`; did you mean `require`? (allowed here: `name`, `require`, `deny`)"
        );
        assert_eq!(
            humane("unknown variant `enforced`, expected one of `enforce`, `warn`, `off`"),
            "unknown value `enforced`; did you mean `enforce`? (allowed here: `enforce`, `warn`, `off`)"
        );
        assert_eq!(
            humane("unknown field `zzz`, expected `by`"),
            "unknown key `zzz` (allowed here: `by`)"
        );
        assert_eq!(humane("something else"), "something else");
    }
}
