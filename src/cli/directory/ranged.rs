//! Active Directory's ranged retrieval (MS-ADTS 3.1.1.3.1.3.3): a group
//! with more members than the server's MaxValRange (1,500 by default)
//! answers `member;range=0-1499` instead of `member`, and the rest is asked
//! for as `member;range=1500-*`, and so on, until an answer's range ends
//! in `*`. Pure: the asking is a closure (ldap.rs does a base search).
//! OpenLDAP does not do this, so the loop is tested here against a
//! simulated server only; it has not been run against a real AD.

use std::collections::BTreeMap;

/// Rounds at most: 100,000 pages of 1,500 is far beyond any real group,
/// and a server that never says `*` must not loop for ever.
const MAX_ROUNDS: usize = 100_000;

/// An attribute description with a range option: `member;range=0-1499`
/// is `member`, 0, `Some(1499)`; `member;range=1500-*` ends in `None`.
#[derive(Debug, PartialEq, Eq)]
pub struct Range {
    pub attr: String,
    pub start: u64,
    pub end: Option<u64>,
}

/// The range in an attribute description (names lower-case), if any.
pub fn parse(description: &str) -> Option<Range> {
    let mut parts = description.split(';');
    let attr = parts.next()?;
    let mut other = Vec::new();
    let mut range = None;
    for option in parts {
        match option.strip_prefix("range=") {
            Some(r) => range = Some(r),
            None => other.push(option),
        }
    }
    let (start, end) = range?.split_once('-')?;
    let start = start.parse().ok()?;
    let end = match end {
        "*" => None,
        e => Some(e.parse().ok()?),
    };
    let attr = std::iter::once(attr)
        .chain(other)
        .collect::<Vec<_>>()
        .join(";");
    Some(Range { attr, start, end })
}

/// Attributes of one entry, by lower-case description.
pub type Attrs = BTreeMap<String, Vec<Vec<u8>>>;

/// `attrs` with every ranged attribute completed: its values gathered
/// under its plain name, asking `more("member;range=1500-*")` for the
/// rest. An answer that lacks the next range, starts elsewhere, or goes
/// backwards is an error: a partial group is never used.
pub fn complete<E: std::fmt::Display>(
    attrs: Attrs,
    mut more: impl FnMut(&str) -> Result<Attrs, E>,
) -> Result<Attrs, String> {
    let mut out = Attrs::new();
    for (description, values) in attrs {
        let Some(mut range) = parse(&description) else {
            out.entry(description).or_default().extend(values);
            continue;
        };
        if range.start != 0 {
            return Err(format!(
                "the server's first answer for {} starts at value {}, not 0",
                range.attr, range.start
            ));
        }
        let all = out.entry(range.attr.clone()).or_default();
        all.extend(values);
        let mut rounds = 0;
        while let Some(end) = range.end {
            rounds += 1;
            if rounds > MAX_ROUNDS {
                return Err(format!(
                    "{} took more than {MAX_ROUNDS} ranged requests",
                    range.attr
                ));
            }
            let next = end
                .checked_add(1)
                .ok_or_else(|| format!("{}: range end {end} is out of bounds", range.attr))?;
            let request = format!("{};range={next}-*", range.attr);
            let answer = more(&request).map_err(|e| format!("asking for {request}: {e}"))?;
            let Some((got, values)) = answer
                .into_iter()
                .find_map(|(d, v)| parse(&d).filter(|r| r.attr == range.attr).map(|r| (r, v)))
            else {
                return Err(format!(
                    "asked for {request}, the server sent no {} range",
                    range.attr
                ));
            };
            if got.start != next || got.end.is_some_and(|e| e < got.start) {
                return Err(format!(
                    "asked for {request}, the server sent {};range={}-{}",
                    got.attr,
                    got.start,
                    got.end.map_or("*".to_owned(), |e| e.to_string())
                ));
            }
            all.extend(values);
            range = got;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_options_parse() {
        let r = |attr: &str, start, end| {
            Some(Range {
                attr: attr.into(),
                start,
                end,
            })
        };
        assert_eq!(parse("member;range=0-1499"), r("member", 0, Some(1499)));
        assert_eq!(parse("member;range=1500-*"), r("member", 1500, None));
        assert_eq!(
            parse("member;binary;range=3-4"),
            r("member;binary", 3, Some(4))
        );
        for plain in [
            "member",
            "member;binary",
            "member;range=",
            "member;range=a-1",
            "member;range=1",
            "member;range=0-x",
        ] {
            assert_eq!(parse(plain), None, "{plain}");
        }
    }

    /// A simulated AD holding `n` members, answering `page` at a time.
    fn server(n: u64, page: u64) -> (Attrs, impl FnMut(&str) -> Result<Attrs, String>) {
        let answer = move |start: u64| {
            let end = start + page - 1;
            let (desc, last) = if end + 1 >= n {
                (format!("member;range={start}-*"), n - 1)
            } else {
                (format!("member;range={start}-{end}"), end)
            };
            let values = (start..=last)
                .map(|i| format!("uid=p{i}").into_bytes())
                .collect();
            Attrs::from([(desc, values)])
        };
        let mut first = answer(0);
        first.insert("memberuid".into(), vec![b"x".to_vec()]);
        let more = move |req: &str| {
            let start = parse(req).and_then(|r| (r.end.is_none()).then_some(r.start));
            start
                .map(answer)
                .ok_or_else(|| format!("bad request {req}"))
        };
        (first, more)
    }

    #[test]
    fn every_page_is_gathered_under_the_plain_name() {
        let (first, mut more) = server(4000, 1500);
        let mut asked = Vec::new();
        let all = complete(first, |req| {
            asked.push(req.to_owned());
            more(req)
        })
        .unwrap();
        assert_eq!(asked, ["member;range=1500-*", "member;range=3000-*"]);
        let members = &all["member"];
        assert_eq!(members.len(), 4000);
        assert_eq!(members[3999], b"uid=p3999");
        assert_eq!(all["memberuid"], [b"x".to_vec()]);
        assert_eq!(all.len(), 2);
    }

    #[test]
    fn a_short_or_wrong_answer_is_an_error() {
        // The server stops answering the range.
        let (first, _) = server(4000, 1500);
        let err = complete(first, |_| Ok::<_, String>(Attrs::new())).unwrap_err();
        assert!(
            err.contains("asked for member;range=1500-*, the server sent no member range"),
            "{err}"
        );
        // A page that skips values.
        let (first, _) = server(4000, 1500);
        let err = complete(first, |_| {
            Ok::<_, String>(Attrs::from([("member;range=1600-*".to_owned(), vec![])]))
        })
        .unwrap_err();
        assert!(err.contains("the server sent member;range=1600-*"), "{err}");
        // A server that never ends is cut off.
        let (first, _) = server(4000, 1500);
        let mut at = 1500;
        let err = complete(first, |_| {
            let d = format!("member;range={at}-{at}");
            at += 1;
            Ok::<_, String>(Attrs::from([(d, vec![])]))
        })
        .unwrap_err();
        assert!(err.contains("more than 100000 ranged requests"), "{err}");
        // The asking fails.
        let (first, _) = server(4000, 1500);
        let err = complete(first, |_| Err::<Attrs, _>("timeout")).unwrap_err();
        assert!(
            err.contains("asking for member;range=1500-*: timeout"),
            "{err}"
        );
    }
}
