//! Carrying out an install or uninstall plan: each planned change printed
//! (as "would: ..." under `--dry-run`) and made, hook files written
//! atomically (a temporary file renamed into place).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::{io, InstallError};

/// One planned change.
#[derive(Debug)]
pub(super) enum Action {
    CreateDir(PathBuf),
    Backup {
        from: PathBuf,
        to: PathBuf,
    },
    Write {
        path: PathBuf,
        text: String,
        verb: &'static str,
    },
    Unchanged(PathBuf),
    Remove(PathBuf),
    Restore {
        from: PathBuf,
        to: PathBuf,
    },
    RemoveDir(PathBuf),
    LeaveForeign(PathBuf),
    Nothing(PathBuf),
}

pub(super) fn execute(
    actions: &[Action],
    dry_run: bool,
    out: &mut String,
) -> Result<(), InstallError> {
    let would = if dry_run { "would: " } else { "" };
    for action in actions {
        match action {
            Action::CreateDir(d) => {
                out.push_str(&format!("{would}create folder {}\n", d.display()));
                if !dry_run {
                    std::fs::create_dir(d).map_err(io(d))?;
                }
            }
            Action::Backup { from, to } => {
                out.push_str(&format!(
                    "{would}keep the existing hook {} as {}\n",
                    from.display(),
                    to.display()
                ));
                if !dry_run {
                    std::fs::rename(from, to).map_err(io(from))?;
                }
            }
            Action::Write { path, text, verb } => {
                let verb = if dry_run {
                    if *verb == "installed" {
                        "install"
                    } else {
                        "update"
                    }
                } else {
                    verb
                };
                out.push_str(&format!("{would}{verb} {}\n", path.display()));
                if !dry_run {
                    write_atomically(path, text)?;
                }
            }
            Action::Unchanged(p) => {
                out.push_str(&format!("unchanged {} (already installed)\n", p.display()));
            }
            Action::Remove(p) => {
                out.push_str(&format!("{would}remove {}\n", p.display()));
                if !dry_run {
                    std::fs::remove_file(p).map_err(io(p))?;
                }
            }
            Action::Restore { from, to } => {
                out.push_str(&format!(
                    "{would}restore {} to {}\n",
                    from.display(),
                    to.display()
                ));
                if !dry_run {
                    std::fs::rename(from, to).map_err(io(from))?;
                }
            }
            Action::RemoveDir(d) => {
                // Only if empty: someone else's hooks may live there now.
                let empty = std::fs::read_dir(d).is_ok_and(|mut it| it.next().is_none());
                if empty || dry_run {
                    out.push_str(&format!(
                        "{would}remove folder {} (install created it){}\n",
                        d.display(),
                        if empty {
                            ""
                        } else {
                            ", if it is empty by then"
                        }
                    ));
                }
                if empty && !dry_run {
                    std::fs::remove_dir(d).map_err(io(d))?;
                }
            }
            Action::LeaveForeign(p) => {
                out.push_str(&format!(
                    "left {} alone (not written by trailgate)\n",
                    p.display()
                ));
            }
            Action::Nothing(t) => {
                out.push_str(&format!("nothing of trailgate's in {}\n", t.display()));
            }
        }
    }
    Ok(())
}

fn write_atomically(path: &Path, text: &str) -> Result<(), InstallError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.trailgate-tmp-{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let result = std::fs::write(&tmp, text)
        .and_then(|()| std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io(path))
}
