//! Validation: the raw policy file checked and turned into a [`Policy`],
//! every problem collected with its position.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSetBuilder};
use regex::{Regex, RegexBuilder};

use super::*;
use crate::facts::ai::{self, Marker};
use crate::facts::identity::{Directory, Group, GroupId, Member, Person};
use crate::facts::signature::KeyRing;

pub(super) struct Validator<'t> {
    pub(super) text: &'t str,
    pub(super) problems: Vec<Problem>,
}

type S<T> = toml::Spanned<T>;

impl Validator<'_> {
    fn error(&mut self, span: std::ops::Range<usize>, message: impl Into<String>) {
        let (line, column) = line_col(self.text, span.start);
        self.problems.push(Problem {
            line,
            column,
            message: message.into(),
        });
    }

    fn line_of(&self, span: &std::ops::Range<usize>) -> usize {
        line_col(self.text, span.start).0
    }

    pub(super) fn policy(&mut self, path: &Path, file: raw::PolicyFile) -> Policy {
        if *file.version.get_ref() != 1 {
            self.error(
                file.version.span(),
                format!(
                    "unsupported policy version {}; this trailgate reads `version = 1`",
                    file.version.get_ref()
                ),
            );
        }
        let (directory, keys) = self.directory(file.people, file.groups);
        let mut settings = self.settings(file.settings, &directory);
        if let Some(log) = settings.audit_log.take() {
            let base = path.parent().unwrap_or(Path::new("."));
            settings.audit_log = Some(base.join(log));
        }
        let trailers = self.trailer_keys(file.trailers);
        let ai_markers = self.ai(file.ai);
        let mut rules = Vec::new();
        let mut names: HashMap<String, usize> = HashMap::new();
        for rule in file.rule {
            let span = rule.span();
            if let Some(rule) = self.rule(rule.into_inner(), span, settings.mode, &directory, &keys)
            {
                if let Some(first) = names.get(&rule.name) {
                    self.error(
                        rule.name_span.clone(),
                        format!(
                            "duplicate rule name `{}` (first defined on line {first}); rule names must be unique",
                            rule.name
                        ),
                    );
                } else {
                    names.insert(rule.name.clone(), rule.line);
                }
                rules.push(rule);
            }
        }
        Policy {
            path: path.to_owned(),
            settings,
            trailers,
            ai_markers,
            keys,
            directory,
            rules,
        }
    }

    fn directory(
        &mut self,
        people: std::collections::BTreeMap<S<String>, S<raw::Person>>,
        groups: std::collections::BTreeMap<S<String>, Vec<S<String>>>,
    ) -> (Directory, KeyRing) {
        let mut keys = KeyRing::default();
        let mut out_people = Vec::new();
        let mut email_owner: HashMap<String, String> = HashMap::new();
        let mut login_owner: HashMap<String, String> = HashMap::new();
        for (id, person) in people {
            let id_span = id.span();
            let id = id.into_inner();
            if !valid_person_id(&id) {
                self.error(
                    id_span.clone(),
                    format!("person id `{id}` may only use letters, digits, `-`, `_` and `.` (it must not look like an e-mail)"),
                );
            }
            let person = person.into_inner();
            let mut emails = Vec::new();
            for email in person.emails {
                let span = email.span();
                let lower = email.into_inner().trim().to_ascii_lowercase();
                if !lower.contains('@') || lower.contains(char::is_whitespace) {
                    self.error(span, format!("`{lower}` is not an e-mail address"));
                    continue;
                }
                if let Some(owner) = email_owner.get(&lower) {
                    self.error(span, format!("e-mail `{lower}` already belongs to person `{owner}`; an address can belong to one person only"));
                    continue;
                }
                email_owner.insert(lower.clone(), id.clone());
                emails.push(lower);
            }
            let mut logins = Vec::new();
            for login in person.logins {
                let span = login.span();
                let login = login.into_inner();
                if login.trim().is_empty() || login.trim() != login {
                    self.error(
                        span,
                        format!("login `{login}` is empty or has surrounding spaces"),
                    );
                    continue;
                }
                if let Some(owner) = login_owner.get(&login) {
                    self.error(
                        span,
                        format!("login `{login}` already belongs to person `{owner}`"),
                    );
                    continue;
                }
                login_owner.insert(login.clone(), id.clone());
                logins.push(login);
            }
            let mut ssh_keys = Vec::new();
            for key in person.ssh_keys {
                let span = key.span();
                let text = key.into_inner();
                match ssh_key::PublicKey::from_openssh(text.trim()) {
                    Ok(parsed) => {
                        keys.add(parsed, out_people.len());
                        ssh_keys.push(text);
                    }
                    Err(e) => self.error(span, format!("not an OpenSSH public key (`ssh-ed25519 AAAA... comment`, as in a .pub file): {e}")),
                }
            }
            out_people.push(Person {
                id,
                name: person.name,
                emails,
                logins,
                ssh_keys,
            });
        }
        let people_index: HashMap<String, usize> = out_people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();
        let mut out_groups = Vec::new();
        for (name, entries) in groups {
            let name_span = name.span();
            let name = name.into_inner();
            if !valid_rule_name(&name) {
                self.error(
                    name_span.clone(),
                    format!("group name `{name}` may only use a-z, 0-9 and `-`"),
                );
            }
            let mut members = Vec::new();
            for entry in entries {
                let span = entry.span();
                let entry = entry.into_inner();
                if entry.contains('@') {
                    let lower = entry.trim().to_ascii_lowercase();
                    if lower.contains(['*', '?', '[', '{']) {
                        match GlobBuilder::new(&lower).literal_separator(false).build() {
                            Ok(glob) => members.push(Member::Glob {
                                pattern: lower,
                                matcher: glob.compile_matcher(),
                            }),
                            Err(e) => self.error(
                                span,
                                format!("invalid e-mail glob `{entry}`: {}", e.kind()),
                            ),
                        }
                    } else {
                        members.push(Member::Email(lower));
                    }
                } else if let Some(&i) = people_index.get(&entry) {
                    members.push(Member::Person(i));
                } else {
                    self.error(
                        span,
                        format!("unknown person `{entry}` in group `{name}`; group entries are person ids from [people], e-mail addresses, or e-mail globs (\"*@example.com\")"),
                    );
                }
            }
            out_groups.push(Group { name, members });
        }
        (Directory::new(out_people, out_groups), keys)
    }

    fn groups(&mut self, directory: &Directory, names: Vec<S<String>>) -> Vec<GroupId> {
        let mut out = Vec::new();
        for name in names {
            let span = name.span();
            let name = name.into_inner();
            match directory.group(&name) {
                Some(id) => out.push(id),
                None => {
                    let known: Vec<&str> =
                        directory.groups.iter().map(|g| g.name.as_str()).collect();
                    self.error(
                        span,
                        format!(
                            "unknown group `{name}`; groups defined in [groups]: {}",
                            if known.is_empty() {
                                "none".to_owned()
                            } else {
                                known.join(", ")
                            }
                        ),
                    );
                }
            }
        }
        out
    }

    fn settings(&mut self, settings: Option<S<raw::Settings>>, directory: &Directory) -> Settings {
        let mut out = Settings {
            mode: Mode::Enforce,
            max_commits: DEFAULT_MAX_COMMITS,
            override_: None,
            audit_log: None,
            audit_required: false,
            time_budget_ms: 0,
        };
        let Some(settings) = settings else {
            return out;
        };
        let settings = settings.into_inner();
        if let Some(mode) = settings.mode {
            if *mode.get_ref() == Mode::Off {
                self.error(mode.span(), "settings.mode may be \"enforce\" or \"warn\"; to switch one rule off use its own `mode = \"off\"`");
            }
            out.mode = *mode.get_ref();
        }
        if let Some(max) = settings.max_commits {
            match usize::try_from(*max.get_ref()) {
                Ok(n) => out.max_commits = n,
                Err(_) => self.error(
                    max.span(),
                    "max_commits must be 0 (no limit) or a positive number",
                ),
            }
        }
        if let Some(log) = settings.audit_log {
            if log.get_ref().trim().is_empty() {
                self.error(log.span(), "settings.audit_log is empty; give a file path (for example \"/var/log/trailgate/audit.jsonl\") or leave it out");
            } else {
                out.audit_log = Some(PathBuf::from(log.into_inner()));
            }
        }
        if let Some(required) = settings.audit_required {
            out.audit_required = *required.get_ref();
            if out.audit_required && out.audit_log.is_none() {
                self.error(
                    required.span(),
                    "settings.audit_required = true needs settings.audit_log (the file to write)",
                );
            }
        }
        if let Some(budget) = settings.time_budget_ms {
            match u64::try_from(*budget.get_ref()) {
                Ok(ms) => out.time_budget_ms = ms,
                Err(_) => self.error(
                    budget.span(),
                    "time_budget_ms must be 0 (no limit) or a positive number of milliseconds",
                ),
            }
        }
        if let Some(o) = settings.override_ {
            let span = o.span();
            let o = o.into_inner();
            let named = o.by.len();
            let by = self.groups(directory, o.by);
            if named == 0 {
                self.error(
                    span,
                    "settings.override.by must name at least one group: nobody could ever override",
                );
            }
            let push_option = match o.push_option {
                Some(opt) => {
                    let name = opt.get_ref().trim().to_owned();
                    if name.is_empty() || name.contains(['=', ' ']) {
                        self.error(opt.span(), "settings.override.push_option must be a non-empty name without `=` or spaces");
                    }
                    name
                }
                None => DEFAULT_OVERRIDE_OPTION.to_owned(),
            };
            out.override_ = Some(OverrideSettings { push_option, by });
        }
        out
    }

    fn trailer_keys(&mut self, keys: Option<raw::TrailerKeys>) -> TrailerKeys {
        let defaults = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let mut out = TrailerKeys {
            ai: defaults(&["AI-Assisted", "Assisted-by", "Generated-by"]),
            ai_negative: defaults(&["no", "none", "false", "0"]),
            approval: defaults(&["Approved-By"]),
        };
        let Some(keys) = keys else {
            return out;
        };
        if let Some(ai) = keys.ai {
            out.ai = self.keys(ai, "trailers.ai");
        }
        if let Some(approval) = keys.approval {
            out.approval = self.keys(approval, "trailers.approval");
        }
        if let Some(neg) = keys.ai_negative {
            out.ai_negative = neg
                .into_iter()
                .map(|v| v.into_inner().trim().to_ascii_lowercase())
                .collect();
        }
        out
    }

    fn keys(&mut self, keys: Vec<S<String>>, what: &str) -> Vec<String> {
        let mut out = Vec::new();
        for key in keys {
            let span = key.span();
            let key = key.into_inner();
            if valid_trailer_key(&key) {
                out.push(key);
            } else {
                self.error(span, format!("`{key}` in {what} is not a trailer key git would read: use letters, digits and `-` only"));
            }
        }
        out
    }

    fn ai(&mut self, ai: Option<raw::Ai>) -> Vec<Marker> {
        let mut detect = true;
        let mut markers = Vec::new();
        if let Some(ai) = ai {
            if let Some(d) = ai.detect {
                detect = *d.get_ref() == raw::Detect::Builtin;
            }
            for marker in ai.markers.unwrap_or_default() {
                let span = marker.span();
                match self.marker(marker.into_inner()) {
                    Ok(Some(m)) => markers.push(m),
                    Ok(None) => {}
                    Err(message) => self.error(span, message),
                }
            }
        }
        if detect {
            markers.splice(0..0, ai::builtin());
        }
        markers
    }

    fn marker(&mut self, m: raw::Marker) -> Result<Option<Marker>, String> {
        let value = match &m.value {
            Some(v) => Some(self.regex(v)?),
            None => None,
        };
        match (m.trailer, m.author, m.message) {
            (Some(key), None, None) => {
                let key = key.into_inner();
                if !valid_trailer_key(&key) {
                    return Err(format!("`{key}` is not a trailer key git would read"));
                }
                Ok(Some(Marker::trailer_owned(key, value)))
            }
            (None, Some(author), None) if value.is_none() => Ok(self.regex(&author).ok().map(Marker::author_owned)),
            (None, None, Some(message)) if value.is_none() => Ok(self.regex(&message).ok().map(Marker::message_owned)),
            _ => Err("an AI marker is one of `{ trailer = \"Key\", value = \"regex\" }`, `{ author = \"regex\" }` (author or committer e-mail) or `{ message = \"regex\" }`".into()),
        }
    }

    /// Compiles a regex, reporting a bad one at its span.
    fn regex(&mut self, pattern: &S<String>) -> Result<Regex, String> {
        match RegexBuilder::new(pattern.get_ref())
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
        {
            Ok(re) => Ok(re),
            Err(e) => {
                let message = match e {
                    regex::Error::CompiledTooBig(_) => format!(
                        "regex `{}` is too large once compiled (limit {} KiB); simplify it",
                        pattern.get_ref(),
                        REGEX_SIZE_LIMIT / 1024
                    ),
                    other => format!(
                        "invalid regex `{}`: {}",
                        pattern.get_ref(),
                        one_line(&other.to_string())
                    ),
                };
                self.error(pattern.span(), message.clone());
                Err(String::new())
            }
        }
    }

    fn rule(
        &mut self,
        rule: raw::Rule,
        span: std::ops::Range<usize>,
        default_mode: Mode,
        dir: &Directory,
        keys: &KeyRing,
    ) -> Option<Rule> {
        let name_span = rule.name.span();
        let name = rule.name.into_inner();
        let line = self.line_of(&name_span);
        if !valid_rule_name(&name) {
            self.error(
                name_span.clone(),
                format!("rule name `{name}` may only use a-z, 0-9 and `-`"),
            );
        }
        let refs = rule.refs.and_then(|refs| self.ref_patterns(refs));
        let mut when = When::default();
        let mut has_commit_conditions = false;
        if let Some(w) = rule.when {
            let w = w.into_inner();
            when.ai_assisted = w.ai_assisted.as_ref().map(|b| *b.get_ref());
            when.ai_declared = w.ai_declared.as_ref().map(|b| *b.get_ref());
            when.ai_detected = w.ai_detected.as_ref().map(|b| *b.get_ref());
            when.merge = w.merge.as_ref().map(|b| *b.get_ref());
            if let (Some(false), Some(true)) =
                (when.ai_assisted, when.ai_declared.or(when.ai_detected))
            {
                if let Some(a) = &w.ai_assisted {
                    self.error(a.span(), "`ai_assisted = false` contradicts `ai_declared`/`ai_detected = true`: the rule can never apply");
                }
            }
            let author_in_spans: Vec<S<String>> = w.author_in.unwrap_or_default();
            let author_not_in_spans: Vec<S<String>> = w.author_not_in.unwrap_or_default();
            let overlap: Vec<(std::ops::Range<usize>, String)> = author_in_spans
                .iter()
                .filter(|g| {
                    author_not_in_spans
                        .iter()
                        .any(|h| h.get_ref() == g.get_ref())
                })
                .map(|g| (g.span(), g.get_ref().clone()))
                .collect();
            for (span, g) in overlap {
                self.error(span, format!("group `{g}` is in both author_in and author_not_in: the rule can never apply"));
            }
            when.author_in = self.groups(dir, author_in_spans);
            when.author_not_in = self.groups(dir, author_not_in_spans);
            when.pusher_in = self.groups(dir, w.pusher_in.unwrap_or_default());
            when.pusher_not_in = self.groups(dir, w.pusher_not_in.unwrap_or_default());
            if let Some(m) = &w.message {
                when.message = self.regex(m).ok();
            }
            let has_touches = w.touches.is_some();
            if let Some(t) = w.touches {
                when.touches = self.path_patterns(t);
            }
            has_commit_conditions = w.ai_assisted.is_some()
                || w.ai_declared.is_some()
                || w.ai_detected.is_some()
                || !when.author_in.is_empty()
                || !when.author_not_in.is_empty()
                || w.message.is_some()
                || w.merge.is_some()
                || has_touches;
        }
        let mut require = Require::default();
        let mut has_require = false;
        if let Some(r) = rule.require {
            let r = r.into_inner();
            if let Some(a) = r.approvals {
                let a_span = a.span();
                let a = a.into_inner();
                let named = a.from.len();
                let from = self.groups(dir, a.from);
                let count = match a.count {
                    None => 1,
                    Some(c) => match usize::try_from(*c.get_ref()) {
                        Ok(n) if n >= 1 => n,
                        _ => {
                            self.error(c.span(), "approvals.count must be 1 or more");
                            1
                        }
                    },
                };
                let proof = a.proof.as_ref().map_or(Proof::Trailer, |p| *p.get_ref());
                if proof == Proof::Signature && keys.is_empty() {
                    if let Some(p) = &a.proof {
                        self.error(p.span(), "`proof = \"signature\"` needs people with `ssh_keys`; no person has one, so no approval could ever count");
                    }
                }
                if named == 0 {
                    self.error(
                        a_span.clone(),
                        "approvals.from must name at least one group",
                    );
                }
                // Only when every group resolved: an unknown group is already
                // reported and would make this count meaningless.
                if let Some(max) = max_members(dir, &from).filter(|_| from.len() == named) {
                    if max < count {
                        self.error(
                            a_span,
                            format!("approvals need {count} distinct approvers but the groups in `from` have only {max} member(s): the rule can never pass"),
                        );
                    }
                }
                require.approvals = Some(Approvals { from, count, proof });
                has_require = true;
            }
            for t in r.trailers.unwrap_or_default() {
                let t = t.into_inner();
                let key_span = t.key.span();
                let key = t.key.into_inner();
                if !valid_trailer_key(&key) {
                    self.error(key_span, format!("`{key}` is not a trailer key git would read: use letters, digits and `-` only"));
                }
                let (pattern, value) = match &t.value {
                    Some(v) => (Some(v.get_ref().clone()), self.regex(v).ok()),
                    None => (None, None),
                };
                require.trailers.push(TrailerRequirement {
                    key,
                    pattern,
                    value,
                });
                has_require = true;
            }
            if let Some(signed) = &r.signed {
                require.signed = *signed.get_ref();
                has_require |= require.signed;
            }
            let limits = [
                (&r.max_files_changed, "max_files_changed"),
                (&r.max_files_deleted, "max_files_deleted"),
                (&r.max_lines_added, "max_lines_added"),
                (&r.max_lines_deleted, "max_lines_deleted"),
                (&r.max_lines_changed, "max_lines_changed"),
            ];
            let mut values = [None; 5];
            for (slot, (limit, key)) in values.iter_mut().zip(limits) {
                if let Some(limit) = limit {
                    match u64::try_from(*limit.get_ref()) {
                        Ok(n) => *slot = Some(n),
                        Err(_) => self.error(limit.span(), format!("`{key}` must be 0 or more")),
                    }
                }
            }
            let [max_files_changed, max_files_deleted, max_lines_added, max_lines_deleted, max_lines_changed] =
                values;
            require.limits = Limits {
                max_files_changed,
                max_files_deleted,
                max_lines_added,
                max_lines_deleted,
                max_lines_changed,
            };
            has_require |= require.limits.any();
        }
        let per = rule.per.as_ref().map_or(Per::Commit, |p| *p.get_ref());
        if per == Per::Push && (require.approvals.is_some() || !require.trailers.is_empty()) {
            if let Some(p) = &rule.per {
                self.error(
                    p.span(),
                    "`per = \"push\"` judges the net change of a ref update, so it takes only size limits (`max_*`); approvals and trailers are required per commit: put them in a rule of their own",
                );
            }
        }
        let deny: Vec<DenyKind> = rule
            .deny
            .map(|d| d.into_inner().into_iter().map(S::into_inner).collect())
            .unwrap_or_default();
        if !deny.is_empty() && has_commit_conditions {
            self.error(
                span.clone(),
                format!("rule `{name}` mixes `deny` (which judges ref updates) with conditions on commits in `when`; split it into two rules"),
            );
        }
        if deny.is_empty() && !has_require {
            self.error(
                name_span.clone(),
                format!("rule `{name}` checks nothing: give it a `require` table or a `deny` list"),
            );
        }
        let (exempt_authors, exempt_pushers) = match rule.exempt {
            Some(e) => {
                let e = e.into_inner();
                (self.groups(dir, e.authors), self.groups(dir, e.pushers))
            }
            None => (Vec::new(), Vec::new()),
        };
        let mode = rule.mode.map_or(default_mode, |m| *m.get_ref());
        Some(Rule {
            name,
            message: rule
                .message
                .map(|m| m.trim().to_owned())
                .filter(|m| !m.is_empty()),
            refs,
            when,
            require,
            deny,
            exempt_authors,
            exempt_pushers,
            mode,
            per,
            line,
            name_span,
        })
    }

    fn path_patterns(&mut self, paths: S<Vec<S<String>>>) -> Option<PathPatterns> {
        self.globs(paths, "path", "`touches = []` matches no path: the rule can never apply", |p| {
            p.starts_with('/').then(|| {
                format!(
                    "path pattern `{p}` starts with `/`; paths are relative to the repository root (write `{}`)",
                    p.trim_start_matches('/')
                )
            })
        })
    }

    fn ref_patterns(&mut self, refs: S<Vec<S<String>>>) -> Option<RefPatterns> {
        self.globs(
            refs,
            "ref",
            "`refs = []` matches no ref: the rule can never apply (leave `refs` out to cover every ref)",
            |p| {
                (!p.starts_with("refs/")).then(|| {
                    let hint = if p.contains('/') || p.starts_with('*') {
                        String::new()
                    } else {
                        format!(" (did you mean \"refs/heads/{p}\"?)")
                    };
                    format!("ref pattern `{p}` does not start with `refs/` and can never match a full ref name{hint}")
                })
            },
        )
    }

    /// Compiles a list of globs, reporting an empty list, each pattern that
    /// `reject` refuses, and each invalid glob at its own position.
    fn globs(
        &mut self,
        list: S<Vec<S<String>>>,
        what: &str,
        empty: &str,
        reject: impl Fn(&str) -> Option<String>,
    ) -> Option<Globs> {
        let list_span = list.span();
        let list = list.into_inner();
        if list.is_empty() {
            self.error(list_span, empty);
            return None;
        }
        let mut builder = GlobSetBuilder::new();
        let mut patterns = Vec::new();
        for pattern in list {
            let span = pattern.span();
            let pattern = pattern.into_inner();
            if let Some(message) = reject(&pattern) {
                self.error(span, message);
                continue;
            }
            match GlobBuilder::new(&pattern)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
            {
                Ok(glob) => {
                    builder.add(glob);
                    patterns.push(pattern);
                }
                Err(e) => self.error(
                    span,
                    format!("invalid {what} glob `{pattern}`: {}", e.kind()),
                ),
            }
        }
        match builder.build() {
            Ok(set) if !patterns.is_empty() => Some(Globs { patterns, set }),
            _ => None,
        }
    }
}

/// The most distinct approvers the groups can supply, or `None` when a glob
/// makes it unbounded.
fn max_members(dir: &Directory, groups: &[GroupId]) -> Option<usize> {
    let mut people = HashSet::new();
    let mut emails = HashSet::new();
    for g in groups {
        let group = dir.groups.get(g.0)?;
        for m in &group.members {
            match m {
                Member::Person(p) => {
                    people.insert(*p);
                }
                Member::Email(e) => {
                    match dir.by_email(e.as_bytes()) {
                        crate::facts::identity::Who::Person(p) => people.insert(p),
                        _ => emails.insert(e.clone()),
                    };
                }
                Member::Glob { .. } => return None,
            }
        }
    }
    Some(people.len() + emails.len())
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `[a-z0-9-]+`, the form rule and group names take.
pub fn valid_rule_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn valid_person_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A key git would recognise as a trailer key: letters, digits and `-`.
pub fn valid_trailer_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}
