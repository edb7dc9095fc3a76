//! `trailgate check`: validates a policy, and warns about what would make it
//! not do what it says: anyone but their owner able to change the policy,
//! its folder, the repository's hooks or the binary a hook runs; an audit
//! log the hook's user cannot write; a policy with no active rule; an
//! override that nothing records or that git never hands to the hook.
//! Inside a repository it checks the policy the installed hook uses.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::account::Account;
use super::install::{existing, Existing};
use super::locate::{self, Located};
use super::*;
use crate::host;

/// `trailgate check`'s options.
pub(super) struct CheckArgs<'a> {
    pub config: Option<&'a Path>,
    pub format: Format,
    /// The user the hook runs as (`--as`).
    pub as_user: Option<&'a str>,
    /// `--repo NAME`: list the rules that apply to this repository.
    pub repo: Option<&'a str>,
}

pub(super) fn check(env: &HookEnv, args: &CheckArgs<'_>) -> Result<u8, Error> {
    let located = locate::policy(env, args.config)?;
    let path = &located.path;
    let policy = match crate::rules::load(path) {
        Ok(p) => p,
        Err(e @ PolicyError::Invalid { .. }) => {
            // A reader that went away (`| head`) must not turn the verdict
            // into a panic: print!/eprintln! panic on EPIPE.
            let _ = writeln!(std::io::stderr(), "{e}");
            if args.format == Format::Json {
                let problems: Vec<_> = match &e {
                    PolicyError::Invalid { problems, .. } => problems
                        .iter()
                        .map(|p| json!({"line": p.line, "column": p.column, "message": p.message}))
                        .collect(),
                    _ => Vec::new(),
                };
                let out = json!({
                    "decision": "error",
                    "error": e.to_string(),
                    "policy": path.display().to_string(),
                    "source": located.source,
                    "valid": false,
                    "problems": problems,
                });
                let _ = writeln!(std::io::stdout(), "{out}");
            }
            return Ok(EXIT_ERROR);
        }
        Err(e) => return Err(e.into()),
    };
    let mut warnings = permission_warnings(path);
    warnings.extend(identity_warning(&policy));
    if let Some(stamp) = &policy.settings.directory {
        warnings.extend(permission_warnings(&stamp.path));
    }
    if let Some(stale) = policy
        .settings
        .directory_staleness(std::time::SystemTime::now())
    {
        warnings.push(format!(
            "{stale} (settings.directory_stale = \"{}\")",
            match stale.action {
                policy::Stale::Reject => "reject",
                policy::Stale::Warn => "warn",
            }
        ));
    }
    if let Some(git_dir) = &located.git_dir {
        warnings.extend(hook_permission_warnings(git_dir));
    }
    warnings.extend(setting_warnings(&policy, &located, args.as_user));
    for note in detection_notes(&policy) {
        let _ = writeln!(std::io::stderr(), "note: {note}");
    }
    // The directory file is valid (in full, as the policy uses it): the
    // index that lets the hook read only what a push needs is written
    // beside it if `check` may write there. Never a reason to fail.
    let index = policy
        .settings
        .directory
        .as_ref()
        .map(|stamp| crate::policy::write_index(&stamp.path, &stamp.sha256));
    let active = policy.rules.iter().filter(|r| r.mode != Mode::Off).count();
    let for_repo = args
        .repo
        .map(|name| (name, rules_for_repository(&policy, name)));
    match args.format {
        Format::Text => {
            for warning in &warnings {
                let _ = writeln!(std::io::stderr(), "warning: {warning}");
            }
            let _ = writeln!(
                std::io::stdout(),
                "{}: valid ({} rule{}, {} active; {} people, {} groups; default mode {}); read as {}",
                path.display(),
                policy.rules.len(),
                if policy.rules.len() == 1 { "" } else { "s" },
                active,
                policy.directory.len(),
                policy.directory.groups.len(),
                policy.settings.mode,
                located.source,
            );
            if let Some(stamp) = &policy.settings.directory {
                let _ = writeln!(
                    std::io::stdout(),
                    "directory {}: generated {}, sha256 {}",
                    stamp.path.display(),
                    stamp.generated,
                    stamp.sha256
                );
            }
            match &index {
                Some(Ok(path)) => {
                    let _ = writeln!(
                        std::io::stdout(),
                        "directory index {}: written (the hook reads only the parts of the directory file a push needs)",
                        path.display()
                    );
                }
                Some(Err(e)) => {
                    let _ = writeln!(
                        std::io::stderr(),
                        "note: {e}; the hook reads the whole directory file on every push (correct, slower) until an index is written"
                    );
                }
                None => {}
            }
            if let Some((name, rules)) = &for_repo {
                let _ = writeln!(
                    std::io::stdout(),
                    "rules for repository {name}: {}",
                    if rules.is_empty() {
                        "none".to_owned()
                    } else {
                        rules.join(", ")
                    }
                );
                let baseline = baseline_for(&policy, name);
                if !baseline.is_empty() {
                    let _ = writeln!(
                        std::io::stdout(),
                        "baseline for repository {name}: {}",
                        baseline.join(", ")
                    );
                }
            }
        }
        Format::Json => {
            let out = json!({
                "decision": "valid",
                "policy": path.display().to_string(),
                "source": located.source,
                "valid": true,
                "rules": policy.rules.len(),
                "active_rules": active,
                "people": policy.directory.len(),
                "groups": policy.directory.groups.len(),
                "mode": policy.settings.mode.to_string(),
                "warnings": warnings,
                "directory": policy.settings.directory.as_ref().map(|d| json!({
                    "path": d.path.display().to_string(),
                    "generated": d.generated.to_string(),
                    "sha256": d.sha256,
                    "index": match &index {
                        Some(Ok(path)) => json!({"path": path.display().to_string(), "written": true}),
                        Some(Err(e)) => json!({"written": false, "error": e.to_string()}),
                        None => json!(null),
                    },
                })),
            });
            let mut out = out;
            if let (Some((name, rules)), Some(map)) = (&for_repo, out.as_object_mut()) {
                map.insert("repository".into(), json!(name));
                map.insert("repository_rules".into(), json!(rules));
                map.insert(
                    "repository_baseline".into(),
                    json!(baseline_for(&policy, name)),
                );
            }
            let _ = writeln!(std::io::stdout(), "{out}");
        }
    }
    Ok(EXIT_ACCEPT)
}

/// The active rules whose `repos` cover the repository `name` (every rule
/// without `repos` does), in the policy's order. `refs` and the pusher are
/// not asked: which of these judge a push depends on the push.
fn rules_for_repository(policy: &crate::rules::Policy, name: &str) -> Vec<String> {
    policy
        .rules
        .iter()
        .filter(|r| r.mode != Mode::Off && r.covers_repository(name))
        .map(|r| r.name.clone())
        .collect()
}

/// The points of `settings.baseline` that apply to the repository `name`.
fn baseline_for(policy: &crate::rules::Policy, name: &str) -> Vec<String> {
    policy
        .settings
        .baseline
        .for_repository(Some(name))
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// What the settings promise and the machine may not keep: an audit log
/// the hook's user cannot write, no active rule, overrides that nothing
/// records or that never reach the hook.
fn setting_warnings(
    policy: &crate::rules::Policy,
    located: &Located,
    as_user: Option<&str>,
) -> Vec<String> {
    let mut out = Vec::new();
    let settings = &policy.settings;
    if !policy.rules.iter().any(|r| r.mode != Mode::Off) {
        out.push(format!(
            "{} has no active rules (none, or every one `mode = \"off\"`): every push is accepted without a word",
            located.path.display()
        ));
    }
    if let Some(log) = &settings.audit_log {
        out.extend(audit_log_warning(log, located, as_user));
    }
    if let Some(socket) = &settings.audit_syslog {
        use std::os::unix::fs::FileTypeExt as _;
        if !std::fs::metadata(socket).is_ok_and(|m| m.file_type().is_socket()) {
            out.push(format!(
                "settings.audit_syslog: no socket at {} (is journald or rsyslog running here?): every push will warn that it was not recorded (or, with settings.audit_required, be rejected)",
                socket.display()
            ));
        }
    }
    if let Some(o) = &settings.override_ {
        if settings.audit_log.is_none() && settings.audit_syslog.is_none() {
            out.push(format!(
                "overrides are enabled ([settings.override]) but no audit log records them: set settings.audit_log, or every `git push -o {}=...` leaves no trace",
                o.push_option
            ));
        }
        if let Some(git_dir) = &located.git_dir {
            if !advertises_push_options(git_dir) {
                out.push(format!(
                    "overrides are enabled ([settings.override]) but {} does not set receive.advertisePushOptions, so git never hands `git push -o {}=...` to the hook: git -C {} config receive.advertisePushOptions true",
                    git_dir.display(),
                    o.push_option,
                    git_dir.display()
                ));
            }
        }
    }
    out
}

/// The audit log's folder must exist and the hook's user must be able to
/// write it (and the log, once it exists).
fn audit_log_warning(log: &Path, located: &Located, as_user: Option<&str>) -> Option<String> {
    let account = match as_user {
        Some(name) => match Account::by_name(name) {
            Some(a) => a,
            None => {
                return Some(format!(
                    "--as {name}: no such user in /etc/passwd, so whether it may write the audit log {} was not checked",
                    log.display()
                ))
            }
        },
        None => located
            .git_dir
            .as_deref()
            .and_then(Account::owner_of)
            .or_else(Account::current)?,
    };
    let who = match (as_user, &located.git_dir) {
        (Some(_), _) => format!("{} (--as)", account.name),
        (None, Some(dir)) => format!("{}, who owns {}", account.name, dir.display()),
        (None, None) => format!(
            "{} (you; pass --as USER for the user the hook runs as)",
            account.name
        ),
    };
    let folder = log
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let consequence = "every push will warn that it was not recorded (or, with settings.audit_required, be rejected)";
    if !folder.is_dir() {
        return Some(format!(
            "the audit log's folder {} does not exist: {consequence}. Create it: install -d -o {} -m 0750 {}",
            folder.display(),
            account.name,
            folder.display()
        ));
    }
    let target = if log.exists() { log } else { folder };
    (!account.can_write(target)).then(|| {
        format!(
            "{who} cannot write {}: {consequence}. Let the user the hook runs as write it: chown {} {}",
            target.display(),
            account.name,
            target.display()
        )
    })
}

/// `receive.advertisePushOptions` as git reads it for the repository
/// (its own, the global and the system configuration).
fn advertises_push_options(git_dir: &Path) -> bool {
    let out = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(git_dir)
        .args(["config", "--bool", "--get", "receive.advertisePushOptions"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    match out {
        Ok(o) => String::from_utf8_lossy(&o.stdout).trim() == "true",
        Err(_) => crate::git::repo::config_string(git_dir, "receive.advertisePushOptions")
            .is_some_and(|v| {
                matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "on" | "1")
            }),
    }
}

/// A policy that asks for proof in some rules but believes author lines in
/// the others: what the proof protects, a typed author line undoes there
/// (a blast-radius limit that exempts a bot, say).
fn identity_warning(policy: &crate::rules::Policy) -> Option<String> {
    if policy.settings.identity == policy::Identity::Proven {
        return None;
    }
    let proving: Vec<&str> = policy
        .rules
        .iter()
        .filter(|r| r.require.proves_identity())
        .map(|r| r.name.as_str())
        .collect();
    let first = proving.first()?;
    Some(format!(
        "rule `{first}`{} asks for proof (proof = \"pusher\" or \"signature\"), but settings.identity is \"claimed\": every other rule still believes the author line a pusher types (`git commit --author`); set settings.identity = \"proven\" (README \"Identities\")",
        match proving.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        }
    ))
}

/// Anyone who can write the policy, or replace it in its folder, can
/// switch it off.
fn permission_warnings(path: &Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut out: Vec<String> = writable_by_others(path)
        .map(|(who, mode)| {
            format!(
                "{} is writable by {who} (mode {mode:o}); anyone who can edit the policy can switch it off: chmod go-w {}",
                path.display(),
                path.display()
            )
        })
        .into_iter()
        .collect();
    let folder = std::fs::canonicalize(path)
        .ok()
        .and_then(|p| p.parent().map(Path::to_owned));
    if let Some(folder) = folder {
        // A sticky folder (/tmp) lets nobody rename or remove another's file.
        let sticky = std::fs::metadata(&folder).is_ok_and(|m| m.permissions().mode() & 0o1000 != 0);
        if let (Some((who, mode)), false) = (writable_by_others(&folder), sticky) {
            out.push(format!(
                "the policy's folder {} is writable by {who} (mode {mode:o}); anyone who can write there can replace the policy and switch it off: chmod go-w {}",
                folder.display(),
                folder.display()
            ));
        }
    }
    out
}

/// Hook files of a repository (every layout's place) that users other than
/// their owner may change: anyone who can edit the hook can switch trailgate
/// off. Also the binary a trailgate shim runs, and the folders holding them.
fn hook_permission_warnings(git_dir: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = host::LAYOUTS
        .iter()
        .flat_map(|l| l.hook_files)
        .map(|f| git_dir.join(f))
        .collect();
    for d in host::LAYOUTS.iter().flat_map(|l| l.hook_dirs) {
        if let Ok(entries) = std::fs::read_dir(git_dir.join(d)) {
            let mut list: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            list.sort();
            files.extend(list);
        }
    }
    let mut out = Vec::new();
    let mut seen_dirs: Vec<PathBuf> = Vec::new();
    let warn = |path: &Path, what: &str, out: &mut Vec<String>| {
        if let Some((who, mode)) = super::writable_by_others(path) {
            out.push(format!(
                "{what} {} is writable by {who} (mode {mode:o}); anyone who can change it can switch trailgate off: chmod go-w {}",
                path.display(),
                path.display()
            ));
        }
    };
    for file in files.iter().filter(|f| f.is_file()) {
        warn(file, "the hook", &mut out);
        if let Some(parent) = file.parent() {
            if !seen_dirs.iter().any(|d| d == parent) {
                seen_dirs.push(parent.to_owned());
                warn(parent, "the hook folder", &mut out);
            }
        }
        if let Ok(Existing::Ours(text)) = existing(file) {
            if let Some(bin) = text.lines().find_map(|l| l.strip_prefix("bin='")) {
                let bin = bin.trim_end_matches('\'').replace("'\\''", "'");
                warn(Path::new(&bin), "the binary the hook runs,", &mut out);
            }
        }
    }
    out
}

/// Where this version's AI detection changes what the policy's rules see:
/// the tools whose marks it added, the weak marks `"builtin"` leaves out,
/// and disclosure trailers that name a person. Only for rules that read
/// detected or declared assistance.
fn detection_notes(policy: &crate::rules::Policy) -> Vec<String> {
    use crate::facts::ai::{self, Detect};
    use crate::policy::HumanHelp;
    let active = policy.rules.iter().filter(|r| r.mode != Mode::Off);
    let (mut detecting, mut declaring) = (Vec::new(), Vec::new());
    for rule in active {
        let (detected, declared) = crate::rules::when::reads_ai(rule);
        if detected {
            detecting.push(rule.name.as_str());
        }
        if declared {
            declaring.push(rule.name.as_str());
        }
    }
    let mut notes = Vec::new();
    if !detecting.is_empty() && policy.ai_detect != Detect::Off {
        notes.push(format!(
            "AI detection in this version adds marks of {}; commits carrying them are AI-assisted for {} (see `trailgate explain COMMIT`)",
            ai::recent_tools().join(", "),
            rules_named(&detecting)
        ));
    }
    if !detecting.is_empty() && policy.ai_detect == Detect::Builtin {
        notes.push(format!(
            "ai.detect = \"builtin\" counts strong marks only; these weak marks also appear on commits written by hand and count only with ai.detect = \"all\": {}",
            ai::weak_marks().join("; ")
        ));
    }
    let reads_disclosures = !detecting.is_empty() || !declaring.is_empty();
    let person = match policy.human_help {
        HumanHelp::NameAndEmail => Some("names a person (`Assisted-by: Jane Doe <jane@example.com>`, an address that is no AI tool's, or a person of the policy)"),
        HumanHelp::KnownPeople => Some("names a person of the policy (by e-mail, id or login)"),
        HumanHelp::Never => None,
    };
    if let (true, Some(person)) = (reads_disclosures, person) {
        let mut rules = detecting.clone();
        rules.extend(declaring.iter().filter(|r| !detecting.contains(r)));
        notes.push(format!(
            "a disclosure trailer (`Assisted-by`, `Generated-by`, ...) whose value {person} is human help: it neither declares nor reveals AI assistance for {} (ai.human_help = \"{}\"; \"never\" keeps the earlier reading)",
            rules_named(&rules),
            policy.human_help.as_str()
        ));
    }
    notes
}

fn rules_named(names: &[&str]) -> String {
    let mut out = String::from(if names.len() == 1 { "rule " } else { "rules " });
    out.push_str(&names.join(", "));
    out
}
