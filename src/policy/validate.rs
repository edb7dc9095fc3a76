//! Validation: the raw policy file checked and turned into a [`Policy`],
//! every problem collected with its position.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use globset::GlobSetBuilder;
use regex::{Regex, RegexBuilder};

use super::*;
use crate::facts::ai::{self, Marker};
use crate::facts::identity::{Directory, GroupId, Member};

/// Collects the problems of one policy text, each at its `line:column`;
/// also used by the requirement kinds of [`crate::rules::require`] for
/// their part of the file.
pub struct Validator<'t> {
    text: &'t str,
    /// The file the text is from, when it is not the policy itself (the
    /// directory file); problems name it.
    file: Option<PathBuf>,
    problems: Vec<Problem>,
    /// Where each line starts, built on first use: a 10,000-person
    /// directory file must not be scanned from the top for each position.
    line_starts: std::cell::OnceCell<Vec<usize>>,
    /// Everything checked (`check`, `sync`); otherwise (the hook) the
    /// directory file's keys are parsed on first use.
    thorough: bool,
    /// The same for the directory file this policy names.
    directory_thorough: bool,
    /// The directory file could not be used: names it would have defined
    /// are not reported unknown one by one (its own problem explains them).
    directory_failed: bool,
    /// For an excerpt of a file ([`Self::for_excerpt`]): from which of the
    /// text's lines (0-based) on which line of the file (1-based) follows.
    lines: Vec<(usize, usize)>,
}

type S<T> = toml::Spanned<T>;

impl<'t> Validator<'t> {
    pub fn new(text: &'t str) -> Self {
        Validator {
            text,
            file: None,
            problems: Vec::new(),
            line_starts: std::cell::OnceCell::new(),
            thorough: true,
            directory_thorough: true,
            directory_failed: false,
            lines: Vec::new(),
        }
    }

    /// Stops reporting unknown groups, which the unusable directory file
    /// would have defined (its own problem is reported).
    pub fn directory_failed(&mut self, failed: bool) {
        self.directory_failed = failed;
    }

    /// Whether the directory file could not be used.
    pub fn is_directory_failed(&self) -> bool {
        self.directory_failed
    }

    /// Whether everything is checked now, keys included.
    pub fn thorough(&self) -> bool {
        self.thorough
    }

    /// Leaves the keys to be parsed on first use (hook mode: the file was
    /// checked when it was written).
    pub fn set_thorough(&mut self, thorough: bool) {
        self.thorough = thorough;
    }

    /// [`Self::set_thorough`] for the directory file the policy names; the
    /// policy's own keys are always parsed (it is small).
    pub fn set_directory_thorough(&mut self, thorough: bool) {
        self.directory_thorough = thorough;
    }

    pub(super) fn directory_thorough(&self) -> bool {
        self.directory_thorough
    }

    /// A validator for a text of another file than the policy.
    pub fn for_file(text: &'t str, file: &Path) -> Self {
        Validator {
            file: Some(file.to_owned()),
            ..Validator::new(text)
        }
    }

    /// A validator for pieces of another file, each starting at the start
    /// of a line: `lines` says, for the text's line `k` (0-based), that it
    /// and those after it up to the next piece are the file's lines from
    /// `n` (1-based). The directory index hands the hook such pieces, read
    /// without the rest of the file, and problems must still name the
    /// file's own lines.
    pub fn for_excerpt(text: &'t str, file: &Path, lines: Vec<(usize, usize)>) -> Self {
        Validator {
            lines,
            ..Validator::for_file(text, file)
        }
    }

    /// `file:line` of a span, for messages that point at another place.
    pub(super) fn place(&self, span: &std::ops::Range<usize>) -> String {
        let line = self.line_of(span);
        match &self.file {
            Some(file) => format!("{}:{line}", file.display()),
            None => format!("line {line} of the policy"),
        }
    }

    /// How many problems were found so far.
    pub fn count(&self) -> usize {
        self.problems.len()
    }

    /// Takes over problems found by another validator (of another file).
    pub fn extend(&mut self, problems: Vec<Problem>) {
        self.problems.extend(problems);
    }

    /// The problems found, in the order they were found.
    pub fn into_problems(self) -> Vec<Problem> {
        self.problems
    }

    /// Records a problem at the start of `span` (a byte range of the text).
    pub fn error(&mut self, span: std::ops::Range<usize>, message: impl Into<String>) {
        let (line, column) = self.line_col(span.start);
        self.problems.push(Problem {
            file: self.file.clone(),
            line,
            column,
            message: message.into(),
        });
    }

    fn line_of(&self, span: &std::ops::Range<usize>) -> usize {
        self.line_col(span.start).0
    }

    /// [`line_col`] through the index of line starts.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(memchr::memchr_iter(b'\n', self.text.as_bytes()).map(|i| i + 1))
                .collect()
        });
        let offset = offset.min(self.text.len());
        let line = starts.partition_point(|&s| s <= offset).max(1);
        let start = starts.get(line - 1).copied().unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        let piece = self.lines.iter().rev().find(|&&(k, _)| k < line);
        match piece {
            Some(&(k, n)) => (n + (line - 1 - k), column),
            None => (line, column),
        }
    }

    pub(super) fn policy(&mut self, path: &Path, mut file: raw::PolicyFile) -> Policy {
        if *file.version.get_ref() != 1 {
            self.error(
                file.version.span(),
                format!(
                    "unsupported policy version {}; this trailgate reads `version = 1`",
                    file.version.get_ref()
                ),
            );
        }
        let named = file
            .settings
            .as_ref()
            .and_then(|s| s.get_ref().directory.clone());
        let (directory, keys, stamp) = self.people_and_groups(
            path,
            named,
            std::mem::take(&mut file.people),
            std::mem::take(&mut file.groups),
        );
        let mut settings = self.settings(file.settings, &directory);
        settings.directory = stamp;
        if let Some(log) = settings.audit_log.take() {
            let base = path.parent().unwrap_or(Path::new("."));
            settings.audit_log = Some(base.join(log));
        }
        let trailers = self.trailer_keys(file.trailers);
        let (ai_markers, ai_detect, human_help) = self.ai(file.ai);
        let mut rules = Vec::new();
        let mut names: HashMap<String, usize> = HashMap::new();
        for (index, rule) in file.rule.into_iter().enumerate() {
            let span = rule.span();
            let rule = self.rule(rule.into_inner(), span, index, settings.mode, &directory);
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
        Policy {
            path: path.to_owned(),
            settings,
            trailers,
            ai_markers: ai::Markers::new(ai_markers),
            ai_detect,
            human_help,
            keys,
            directory,
            rules,
        }
    }

    /// The groups named, each unknown one reported at its position.
    pub fn groups(&mut self, directory: &Directory, names: Vec<S<String>>) -> Vec<GroupId> {
        let mut out = Vec::new();
        for name in names {
            let span = name.span();
            let name = name.into_inner();
            match directory.group(&name) {
                Some(id) => out.push(id),
                None if self.directory_failed => {}
                None => {
                    let known: Vec<&str> =
                        directory.groups.iter().map(|g| g.name.as_str()).collect();
                    let guess = super::suggest::did_you_mean(&name, known.iter().copied())
                        .map(|g| format!("did you mean `{g}`? "))
                        .unwrap_or_default();
                    self.error(
                        span,
                        format!(
                            "unknown group `{name}`; {guess}groups defined in [groups]: {}",
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
            audit_syslog: None,
            audit_line_max: DEFAULT_AUDIT_LINE_MAX,
            time_budget_ms: 0,
            contact: None,
            identity: Identity::Claimed,
            host: None,
            trust_host_emails: false,
            directory: None,
            policy_sha256: super::directory::sha256_hex(self.text.as_bytes()),
            directory_max_age: None,
            directory_stale: raw::Stale::Reject,
            directory_unusable: false,
            repos_root: None,
            baseline: Baseline::default(),
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
        match settings.audit_syslog.as_ref().map(|s| (s.span(), s.get_ref())) {
            Some((_, raw::Syslog::On(on))) => {
                out.audit_syslog = on.then(|| PathBuf::from(SYSLOG_SOCKET));
            }
            Some((span, raw::Syslog::Socket(path))) if !path.starts_with('/') => self.error(span, "settings.audit_syslog is `true` (the system's /dev/log) or the absolute path of a Unix datagram socket"),
            Some((_, raw::Syslog::Socket(path))) => out.audit_syslog = Some(PathBuf::from(path)),
            None => {}
        }
        if let Some(max) = settings.audit_line_max {
            match usize::try_from(*max.get_ref()) {
                Ok(n) if n >= MIN_AUDIT_LINE_MAX => out.audit_line_max = n,
                _ => self.error(max.span(), format!("settings.audit_line_max is the most bytes one audit line may take, at least {MIN_AUDIT_LINE_MAX} (default {DEFAULT_AUDIT_LINE_MAX})")),
            }
        }
        if let Some(required) = settings.audit_required {
            out.audit_required = *required.get_ref();
            if out.audit_required && out.audit_log.is_none() && out.audit_syslog.is_none() {
                self.error(
                    required.span(),
                    "settings.audit_required = true needs settings.audit_log (the file to write) or settings.audit_syslog",
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
        if let Some(contact) = settings.contact {
            let text = contact.get_ref().trim();
            if text.is_empty() || text.contains(['\n', '\r']) {
                self.error(contact.span(), "settings.contact must be one line of text or a URL (for example \"#git-help on chat, or git-admins@example.com\"), or left out");
            } else {
                out.contact = Some(text.to_owned());
            }
        }
        if let Some(identity) = settings.identity {
            out.identity = *identity.get_ref();
        }
        if let Some(host) = settings.host {
            let name = host.get_ref().trim();
            if HOST_NAMES.contains(&name) {
                out.host = Some(name.to_owned());
            } else {
                self.error(
                    host.span(),
                    format!(
                        "unknown settings.host `{name}`; the hosts are {}",
                        HOST_NAMES
                            .iter()
                            .map(|h| format!("\"{h}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
        if let Some(trust) = settings.trust_host_emails {
            out.trust_host_emails = *trust.get_ref();
        }
        if let Some(age) = settings.directory_max_age {
            match super::directory::parse_age(age.get_ref()) {
                Some(d) => out.directory_max_age = Some(d),
                None => self.error(age.span(), format!("directory_max_age `{}` is not a duration: write a number and a unit, s, m, h or d (\"26h\", \"90m\", \"2d\")", age.get_ref())),
            }
            if settings.directory.is_none() {
                self.error(age.span(), "settings.directory_max_age needs settings.directory (the file whose age it limits)");
            }
        }
        if let Some(stale) = settings.directory_stale {
            out.directory_stale = *stale.get_ref();
            if settings.directory.is_none() {
                self.error(
                    stale.span(),
                    "settings.directory_stale needs settings.directory and directory_max_age",
                );
            }
        }
        if let Some(root) = settings.repos_root {
            let text = root.get_ref().trim();
            if !text.starts_with('/') {
                self.error(root.span(), "settings.repos_root must be an absolute path (the folder the repositories live in, for example \"/srv/git\"), or left out");
            } else {
                out.repos_root = Some(PathBuf::from(text));
            }
        }
        if let Some(baseline) = settings.baseline {
            out.baseline = self.baseline(baseline);
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
            ai_negative: defaults(crate::facts::AI_NEGATIVE),
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

    /// `[ai]`: the markers (the built-in ones `detect` asks for, then the
    /// policy's own), `detect` and `human_help`.
    fn ai(&mut self, ai: Option<raw::Ai>) -> (Vec<Marker>, ai::Detect, ai::disclosure::HumanHelp) {
        let mut detect = ai::Detect::Builtin;
        let mut help = ai::disclosure::HumanHelp::NameAndEmail;
        let mut markers = Vec::new();
        if let Some(ai) = ai {
            if let Some(d) = ai.detect {
                detect = match d.get_ref() {
                    raw::Detect::Builtin => ai::Detect::Builtin,
                    raw::Detect::All => ai::Detect::All,
                    raw::Detect::Off => ai::Detect::Off,
                };
            }
            if let Some(h) = ai.human_help {
                help = match h.get_ref() {
                    raw::HumanHelp::NameAndEmail => ai::disclosure::HumanHelp::NameAndEmail,
                    raw::HumanHelp::KnownPeople => ai::disclosure::HumanHelp::KnownPeople,
                    raw::HumanHelp::Never => ai::disclosure::HumanHelp::Never,
                };
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
        markers.splice(0..0, ai::builtin_for(detect));
        (markers, detect, help)
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
    pub fn regex(&mut self, pattern: &S<String>) -> Result<Regex, String> {
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
                    // regex's own message points at the error with a
                    // caret under the pattern: it only reads on its lines.
                    other => format!(
                        "invalid regex `{}`:\n{}",
                        pattern.get_ref(),
                        other.to_string().trim_end()
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
        index: usize,
        default_mode: Mode,
        dir: &Directory,
    ) -> Rule {
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
        let repos = rule.repos.and_then(|repos| self.repo_patterns(repos));
        let mut when = When::default();
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
            if let Some(t) = w.touches {
                when.touches = self.path_patterns(t);
            }
        }
        let per = rule.per.as_ref().map_or(Per::Commit, |p| *p.get_ref());
        let deny: Vec<DenyKind> = rule
            .deny
            .map(|d| d.into_inner().into_iter().map(S::into_inner).collect())
            .unwrap_or_default();
        let (exempt_authors, exempt_pushers) = match rule.exempt {
            Some(e) => {
                let e = e.into_inner();
                (self.groups(dir, e.authors), self.groups(dir, e.pushers))
            }
            None => (Vec::new(), Vec::new()),
        };
        let mode = rule.mode.map_or(default_mode, |m| *m.get_ref());
        Rule {
            name,
            message: rule
                .message
                .map(|m| m.trim().to_owned())
                .filter(|m| !m.is_empty()),
            refs,
            repos,
            when,
            require: RequireSource {
                index,
                span: rule.require.as_ref().map(|r| r.span()),
            },
            deny,
            exempt_authors,
            exempt_pushers,
            mode,
            per,
            proven_identity: false,
            line,
            span,
            name_span,
            per_span: rule.per.as_ref().map(|p| p.span()),
        }
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

    pub(super) fn repo_patterns(&mut self, repos: S<Vec<S<String>>>) -> Option<RepoPatterns> {
        self.globs(
            repos,
            "repository",
            "`repos = []` matches no repository: the rule can never apply (leave `repos` out to cover every repository)",
            |p| {
                if p.starts_with('/') {
                    Some(format!("repository pattern `{p}` starts with `/`; repository names are relative (`acme/payments`, or the path under settings.repos_root): write `{}`", p.trim_start_matches('/')))
                } else if p.ends_with(".git") {
                    Some(format!("repository pattern `{p}` ends in `.git`, which no repository name has (hosts name `acme/payments`, and trailgate drops `.git` from paths under settings.repos_root): write `{}`", p.trim_end_matches(".git")))
                } else if p.trim().is_empty() {
                    Some("an empty repository pattern matches no repository".to_owned())
                } else {
                    None
                }
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
            match super::globs::build(&pattern) {
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
            Ok(set) if !patterns.is_empty() => Some(Globs::new(patterns, set, super::globs::build)),
            _ => None,
        }
    }
}

/// The most distinct approvers the groups can supply, or `None` when a glob
/// makes it unbounded.
pub fn max_members(dir: &Directory, groups: &[GroupId]) -> Option<usize> {
    // Sorted, not hashed: a directory's group has a thousand people.
    let mut people = Vec::new();
    let mut emails = HashSet::new();
    for g in groups {
        let group = dir.groups.get(g.0)?;
        for m in &group.members {
            match m {
                Member::Person(p) => people.push(*p),
                Member::Email(e) => match dir.by_email(e.as_bytes()) {
                    crate::facts::identity::Who::Person(p) => people.push(p),
                    _ => {
                        emails.insert(e.clone());
                    }
                },
                Member::Glob { .. } => return None,
            }
        }
    }
    people.sort_unstable();
    people.dedup();
    Some(people.len() + emails.len())
}

/// `[a-z0-9-]+`, the form rule and group names take.
pub fn valid_rule_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub use crate::facts::trailers::valid_key as valid_trailer_key;

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_validators_line_index_agrees_with_line_col() {
        let text = "ab\ncé\n\nxyz";
        let v = Validator::new(text);
        for offset in 0..=text.len() + 2 {
            if text.is_char_boundary(offset.min(text.len())) {
                assert_eq!(v.line_col(offset), line_col(text, offset), "{offset}");
            }
        }
    }

    #[test]
    fn an_excerpt_names_the_lines_of_its_file() {
        // Line 3 of the file, then lines 40 and 41.
        let text = "a = 1\n[groups]\nx = [\"é\", \"y\"]\n";
        let mut v = Validator::for_excerpt(text, Path::new("d.toml"), vec![(0, 3), (1, 40)]);
        assert_eq!(v.line_col(0), (3, 1));
        assert_eq!(v.line_col(7), (40, 2));
        assert_eq!(v.line_col(text.find('y').unwrap()), (41, 12));
        v.error(7..8, "here");
        assert_eq!(v.place(&(0..1)), "d.toml:3");
        let p = v.into_problems();
        assert_eq!((p[0].line, p[0].column), (40, 2));
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("é\nx", 3), (2, 1));
        assert_eq!(line_col("", 10), (1, 1));
    }
}
