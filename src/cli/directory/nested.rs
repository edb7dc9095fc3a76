//! Nested LDAP groups: a `members_of` group whose `member` (or
//! `uniqueMember`) values name other groups counts their members too, to
//! any depth up to [`MAX_DEPTH`]. Pure: the groups were fetched already
//! (ldap.rs asks the server for every member DN that is not a person, a
//! level at a time, and records those that are groups). A group nested
//! deeper than the bound is an error (counting fewer members than the
//! directory says, or more, is not the sync's to choose); a cycle is
//! reported, and its members counted once, which is what the nesting
//! means whichever group one starts from.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use super::build::{normal_dn, GroupEntry};

/// Levels of groups below a configured group that are followed: a group
/// whose member is a group whose member is a group is depth 2.
pub const MAX_DEPTH: usize = 8;

/// The normalised DN in a `member` or `uniqueMember` value (which may end
/// in `#'0101'B`, an optional UID).
pub fn member_dn(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    normal_dn(text.rsplit_once("#'").map_or(&*text, |(d, _)| d))
}

/// The members of some LDAP groups and of every group nested in them.
#[derive(Debug, Default)]
pub struct Expanded {
    /// Member DN values that are not groups (people, or entries gone).
    pub member_dns: Vec<Vec<u8>>,
    pub member_uids: Vec<Vec<u8>>,
    /// Each cycle as `a -> b -> a` (normalised DNs).
    pub cycles: BTreeSet<String>,
    /// Each chain that goes deeper than [`MAX_DEPTH`].
    pub too_deep: BTreeSet<String>,
}

/// Expands `roots` (configured group DNs) through `groups` (by normalised
/// DN), breadth first, so each group's depth is its shortest chain.
pub fn expand(roots: &[String], groups: &HashMap<String, GroupEntry>) -> Expanded {
    let mut out = Expanded::default();
    let mut parent: HashMap<String, Option<String>> = HashMap::new();
    let mut queue = VecDeque::new();
    for root in roots {
        let key = normal_dn(root);
        if groups.contains_key(&key) && !parent.contains_key(&key) {
            parent.insert(key.clone(), None);
            queue.push_back((key, 0));
        }
    }
    let chain = |parent: &HashMap<String, Option<String>>, last: &str| {
        let mut links = vec![last.to_owned()];
        let mut at = parent.get(last).cloned().flatten();
        while let Some(p) = at {
            at = parent.get(&p).cloned().flatten();
            links.push(p);
        }
        links.reverse();
        links.join(" -> ")
    };
    while let Some((key, depth)) = queue.pop_front() {
        let Some(group) = groups.get(&key) else {
            continue;
        };
        out.member_uids.extend(group.member_uids.iter().cloned());
        for raw in &group.member_dns {
            let member = member_dn(raw);
            if !groups.contains_key(&member) {
                out.member_dns.push(raw.clone());
            } else if parent.contains_key(&member) {
                // Seen already: by a shorter or equal chain (its members
                // are counted), or this is a way back round a cycle,
                // which `cycles` finds.
            } else if depth + 1 > MAX_DEPTH {
                out.too_deep
                    .insert(format!("{} -> {member}", chain(&parent, &key)));
            } else {
                parent.insert(member.clone(), Some(key.clone()));
                queue.push_back((member, depth + 1));
            }
        }
    }
    find_cycles(roots, groups, &mut out.cycles);
    out
}

/// Every cycle reachable from `roots`, found as the back edges of a depth
/// first walk (iterative: a deep directory must not overflow the stack).
fn find_cycles(roots: &[String], groups: &HashMap<String, GroupEntry>, out: &mut BTreeSet<String>) {
    let mut done: HashSet<String> = HashSet::new();
    for root in roots {
        let root = normal_dn(root);
        if done.contains(&root) || !groups.contains_key(&root) {
            continue;
        }
        // The walk's path, each with the index of its next member.
        let mut path: Vec<(String, usize)> = vec![(root, 0)];
        while let Some((key, next)) = path.last_mut() {
            let members = groups
                .get(key.as_str())
                .map_or(&[][..], |g| &g.member_dns[..]);
            let Some(raw) = members.get(*next) else {
                if let Some((key, _)) = path.pop() {
                    done.insert(key);
                }
                continue;
            };
            *next += 1;
            let member = member_dn(raw);
            if !groups.contains_key(&member) || done.contains(&member) {
                continue;
            }
            if let Some(at) = path.iter().position(|(k, _)| *k == member) {
                let mut links: Vec<&str> = path.iter().skip(at).map(|(k, _)| k.as_str()).collect();
                links.push(&member);
                out.insert(links.join(" -> "));
            } else if path.len() <= MAX_DEPTH + 1 {
                path.push((member, 0));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Groups `g0`, `g1`, ... with members `p:` people or `g:` groups.
    fn groups(spec: &[(&str, &[&str])]) -> HashMap<String, GroupEntry> {
        spec.iter()
            .map(|(name, members)| {
                let member_dns = members
                    .iter()
                    .map(|m| format!("cn={m},ou=groups,dc=x").into_bytes())
                    .collect();
                (
                    normal_dn(&format!("cn={name},ou=groups,dc=x")),
                    GroupEntry {
                        member_dns,
                        member_uids: vec![],
                    },
                )
            })
            .collect()
    }

    fn dn(name: &str) -> String {
        format!("cn={name},ou=groups,dc=x")
    }

    fn people(e: &Expanded) -> Vec<String> {
        let mut v: Vec<String> = e.member_dns.iter().map(|m| member_dn(m)).collect();
        v.sort();
        v.dedup();
        v
    }

    #[test]
    fn nested_members_count_and_people_are_not_groups() {
        let g = groups(&[
            ("senior", &["alice", "staff"]),
            ("staff", &["bob", "principal"]),
            ("principal", &["carol", "alice"]),
        ]);
        let e = expand(&[dn("Senior")], &g);
        assert_eq!(people(&e), [dn("alice"), dn("bob"), dn("carol")]);
        assert!(e.cycles.is_empty() && e.too_deep.is_empty(), "{e:?}");
        // A diamond (two ways to one group) is not a cycle.
        let g = groups(&[
            ("a", &["b", "c"]),
            ("b", &["d"]),
            ("c", &["d"]),
            ("d", &["p"]),
        ]);
        let e = expand(&[dn("a")], &g);
        assert_eq!(people(&e), [dn("p")]);
        assert!(e.cycles.is_empty(), "{e:?}");
    }

    #[test]
    fn cycles_are_reported_and_counted_once() {
        let g = groups(&[
            ("a", &["p", "b"]),
            ("b", &["q", "c"]),
            ("c", &["a", "r"]),
            ("s", &["s", "t"]),
        ]);
        let e = expand(&[dn("a"), dn("s")], &g);
        assert_eq!(people(&e), [dn("p"), dn("q"), dn("r"), dn("t")]);
        let cycles: Vec<&String> = e.cycles.iter().collect();
        assert_eq!(
            cycles,
            [
                &format!("{} -> {} -> {} -> {}", dn("a"), dn("b"), dn("c"), dn("a")),
                &format!("{} -> {}", dn("s"), dn("s")),
            ]
        );
    }

    #[test]
    fn depth_is_bounded_by_the_shortest_chain() {
        // g0 -> g1 -> ... -> g9: g9 is at depth 9, one past the bound.
        let names: Vec<String> = (0..=MAX_DEPTH + 1).map(|i| format!("g{i}")).collect();
        let mut spec: Vec<(&str, Vec<&str>)> = names
            .windows(2)
            .map(|w| (w[0].as_str(), vec![w[1].as_str(), "p"]))
            .collect();
        spec.push((names[MAX_DEPTH + 1].as_str(), vec!["deep"]));
        let spec: Vec<(&str, &[&str])> = spec.iter().map(|(n, m)| (*n, &m[..])).collect();
        let g = groups(&spec);
        let e = expand(&[dn("g0")], &g);
        assert_eq!(e.too_deep.len(), 1, "{e:?}");
        let chain = e.too_deep.iter().next().unwrap();
        assert!(
            chain.starts_with(&format!("{} -> {}", dn("g0"), dn("g1"))),
            "{chain}"
        );
        assert!(
            chain.ends_with(&format!("{} -> {}", dn("g8"), dn("g9"))),
            "{chain}"
        );
        assert!(!people(&e).contains(&dn("deep")));
        // Starting one level down, the same chain is within the bound.
        let e = expand(&[dn("g1")], &g);
        assert!(e.too_deep.is_empty(), "{e:?}");
        assert!(people(&e).contains(&dn("deep")));
    }
}
