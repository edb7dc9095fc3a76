//! `trailgate directory sync --config SYNC.toml`: writes the directory file
//! (`settings.directory`, SPEC section 7) from an LDAP server. The new file
//! is written beside the old one, flushed to disk, validated with the same
//! reader the hook uses, and only then renamed over it; when the server is
//! unreachable, the bind fails, the answer is empty or too small, or an
//! entry cannot become a person, nothing is renamed and the old file stays.
//!
//! The LDAP client (and the tokio runtime inside it) lives in `ldap.rs`,
//! reached only from here: the hook's start-up never touches it.

mod build;
#[cfg(feature = "ldap")]
mod ca;
pub mod config;
#[cfg(feature = "ldap")]
mod ldap;
mod nested;
#[cfg(feature = "ldap")]
mod ranged;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use thiserror::Error;

use self::config::{InvalidEntries, SyncConfig};

/// Why a sync wrote nothing (exit 2; the old file is kept).
#[derive(Debug, Error)]
pub enum SyncError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("cannot read the bind password from {path}: {source}")]
    Password {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot reach the LDAP server {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("cannot use the CA certificates of {path}: {message}")]
    Tls { path: PathBuf, message: String },
    #[error(
        "the LDAP server refused the bind as {dn}: {message}; check bind_dn and the password file"
    )]
    Bind { dn: String, message: String },
    #[error("the search of {base} with filter {filter} failed: {message}")]
    Search {
        base: String,
        filter: String,
        message: String,
    },
    #[error("cannot read the LDAP group {dn}: {message}; check members_of (a missing group is an error, not an empty group)")]
    Group { dn: String, message: String },
    #[error("the LDAP server sent a referral under {base}: part of the answer is on another server; point people.bases at the server that holds the people")]
    Referral { base: String },
    #[error("the LDAP server sent a malformed entry under {base}")]
    Malformed { base: String },
    #[error("the LDAP server answered with no people (bases {bases}, filter {filter}); an empty directory would make every senior nobody, so nothing was written")]
    Empty { bases: String, filter: String },
    #[error("the answer has {found} people, fewer than min_people = {min}; nothing was written")]
    TooFew { found: usize, min: usize },
    #[error("{} LDAP entr{} cannot become trailgate people (set invalid_entries = \"skip\" to leave them out):\n  {}", .0.len(), if .0.len() == 1 { "y" } else { "ies" }, .0.join("\n  "))]
    Invalid(Vec<String>),
    #[error("{}; nothing was written", .0.join("\n"))]
    Groups(Vec<String>),
    #[error("the directory file written would not be valid, so it was not installed:\n{0}")]
    Validation(String),
    #[error("cannot write the directory file {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("this trailgate was built without the `ldap` feature; `directory sync` needs it")]
    NoLdap,
}

impl SyncError {
    fn write(path: &Path) -> impl FnOnce(std::io::Error) -> SyncError + '_ {
        move |source| SyncError::Write {
            path: path.to_owned(),
            source,
        }
    }
}

/// Runs a sync; on success prints what was written and returns exit code 0.
pub fn sync(config_path: &Path) -> Result<u8, SyncError> {
    let config = config::load(config_path)?;
    let password = match &config.ldap.bind {
        Some((_, file)) => Some(read_password(file)?),
        None => None,
    };
    let (entries, groups) = fetch(&config, password.as_deref())?;
    if entries.is_empty() {
        return Err(SyncError::Empty {
            bases: config.people.bases.join("; "),
            filter: config.people.filter.clone(),
        });
    }
    let built = build::build(
        &now_rfc3339(),
        &config.people,
        &config.groups,
        &entries,
        &groups,
    );
    if !built.errors.is_empty() {
        return Err(SyncError::Groups(built.errors));
    }
    let mut warnings = built.warnings.clone();
    if !built.invalid.is_empty() {
        match config.invalid_entries {
            InvalidEntries::Fail => return Err(SyncError::Invalid(built.invalid)),
            InvalidEntries::Skip => {
                warnings.extend(built.invalid.iter().map(|w| format!("left out {w}")))
            }
        }
    }
    if built.people < config.min_people {
        return Err(SyncError::TooFew {
            found: built.people,
            min: config.min_people,
        });
    }
    let sha256 = install(&config.output, &built.text)?;
    // After the rename: the index names the installed file. Without it
    // the hook reads the whole file, so a failure only warns.
    let index = match crate::policy::write_index(&config.output, &sha256) {
        Ok(path) => format!("; index {}", path.display()),
        Err(e) => {
            warnings.push(format!(
                "{e}; the hook reads the whole directory file on every push until `trailgate check` writes the index"
            ));
            String::new()
        }
    };
    let mut err = std::io::stderr().lock();
    const SHOWN: usize = 20;
    for w in warnings.iter().take(SHOWN) {
        let _ = writeln!(err, "trailgate: warning: {w}");
    }
    if warnings.len() > SHOWN {
        let _ = writeln!(
            err,
            "trailgate: warning: ... and {} more",
            warnings.len() - SHOWN
        );
    }
    let groups: Vec<String> = built
        .groups
        .iter()
        .map(|(n, c)| format!("{n} {c}"))
        .collect();
    println!(
        "trailgate: wrote {}: {} people; groups: {}{index}",
        config.output.display(),
        built.people,
        if groups.is_empty() {
            "none".to_owned()
        } else {
            groups.join(", ")
        }
    );
    Ok(0)
}

#[cfg(feature = "ldap")]
fn fetch(
    config: &SyncConfig,
    password: Option<&str>,
) -> Result<
    (
        Vec<build::Entry>,
        std::collections::HashMap<String, build::GroupEntry>,
    ),
    SyncError,
> {
    ldap::fetch(config, password)
}

#[cfg(not(feature = "ldap"))]
fn fetch(
    _: &SyncConfig,
    _: Option<&str>,
) -> Result<
    (
        Vec<build::Entry>,
        std::collections::HashMap<String, build::GroupEntry>,
    ),
    SyncError,
> {
    Err(SyncError::NoLdap)
}

/// The password file's first line (a trailing newline is not part of it).
fn read_password(path: &Path) -> Result<String, SyncError> {
    let text = std::fs::read_to_string(path).map_err(|source| SyncError::Password {
        path: path.to_owned(),
        source,
    })?;
    if let Some((who, mode)) =
        crate::cli::writable_by_others(path).or_else(|| readable_by_others(path))
    {
        eprintln!(
            "trailgate: warning: the password file {} is accessible to {who} (mode {mode:o}); chmod 600 it",
            path.display()
        );
    }
    let password = text.lines().next().unwrap_or("");
    if password.is_empty() {
        // A bind with a DN and an empty password is an "unauthenticated
        // bind" (RFC 4513 5.1.2), which some servers accept as anonymous.
        return Err(SyncError::Password {
            path: path.to_owned(),
            source: std::io::Error::other(
                "its first line is empty; an empty password would be an unauthenticated bind",
            ),
        });
    }
    Ok(password.to_owned())
}

fn readable_by_others(path: &Path) -> Option<(&'static str, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    let who = if mode & 0o004 != 0 {
        "everyone"
    } else {
        "its group"
    };
    (mode & 0o044 != 0).then_some((who, mode & 0o777))
}

/// Writes `text` to `output` atomically: a temporary file in the same
/// folder, flushed, validated as the hook reads it, renamed over the old
/// file, and the folder flushed so that the rename survives a crash. The
/// SHA-256 of what was validated and installed.
fn install(output: &Path, text: &str) -> Result<String, SyncError> {
    use std::os::unix::fs::PermissionsExt;
    let output = std::path::absolute(output).map_err(SyncError::write(output))?;
    let dir = output.parent().unwrap_or(Path::new("/"));
    let mut tmp = tempfile::Builder::new()
        .prefix(".trailgate-directory.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(SyncError::write(&output))?;
    // Readable by the hook's user; the old file's mode when there is one.
    let mode = std::fs::metadata(&output).map_or(0o644, |m| m.permissions().mode() & 0o777);
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(SyncError::write(&output))?;
    tmp.write_all(text.as_bytes())
        .map_err(SyncError::write(&output))?;
    tmp.as_file()
        .sync_all()
        .map_err(SyncError::write(&output))?;
    let sha256 = validate(tmp.path())?;
    tmp.persist(&output).map_err(|e| SyncError::Write {
        path: output.clone(),
        source: e.error,
    })?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(SyncError::write(&output))?;
    Ok(sha256)
}

/// Validates the written file with the one full check of a directory file
/// (`policy::validate_directory`: syntax, every person, every key parsed,
/// no shared e-mails, logins or user ids, groups, `generated`), reading it
/// back from disk so that what is checked is what the rename will publish.
fn validate(path: &Path) -> Result<String, SyncError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SyncError::Validation(format!("{}: {e}", path.display())))?;
    match crate::policy::validate_directory(path, &text) {
        Ok(stamp) => Ok(stamp.sha256.hex().to_owned()),
        Err(problems) => Err(SyncError::Validation(
            crate::policy::invalid(path, problems).to_string(),
        )),
    }
}

/// Now, as RFC 3339 in UTC (the directory file's `generated`).
fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let secs = i64::try_from(secs).unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
