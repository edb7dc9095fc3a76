//! Unix accounts, for `trailgate check`: who the hook runs as (the owner of
//! the repository, or `--as USER`) and whether that account may write a
//! file or a folder. Read from `/etc/passwd` and `/etc/group`, as `id`
//! would for local accounts; an account known only to NSS (LDAP) is not
//! found, and `check` then says it could not tell.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// A local account: its name, uid and every group it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gids: Vec<u32>,
}

impl Account {
    /// The account called `name`.
    pub fn by_name(name: &str) -> Option<Account> {
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        let (uid, gid) = passwd.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            match f.as_slice() {
                [n, _, uid, gid, ..] if *n == name => Some((uid.parse().ok()?, gid.parse().ok()?)),
                _ => None,
            }
        })?;
        Some(Account::with_groups(name.to_owned(), uid, gid))
    }

    /// The account of `uid` (named `uid N` when `/etc/passwd` does not
    /// know it; then only its primary group `gid` is counted).
    pub fn by_uid(uid: u32, gid: u32) -> Account {
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let found = passwd.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            match f.as_slice() {
                [n, _, u, g, ..] if u.parse() == Ok(uid) => {
                    Some(((*n).to_owned(), g.parse().ok()?))
                }
                _ => None,
            }
        });
        match found {
            Some((name, gid)) => Account::with_groups(name, uid, gid),
            None => Account {
                name: format!("uid {uid}"),
                uid,
                gids: vec![gid],
            },
        }
    }

    /// The account that owns `path`.
    pub fn owner_of(path: &Path) -> Option<Account> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Account::by_uid(meta.uid(), meta.gid()))
    }

    /// The account this process runs as.
    pub fn current() -> Option<Account> {
        Account::owner_of(Path::new("/proc/self"))
    }

    fn with_groups(name: String, uid: u32, gid: u32) -> Account {
        let mut gids = vec![gid];
        let groups = std::fs::read_to_string("/etc/group").unwrap_or_default();
        for l in groups.lines() {
            let f: Vec<&str> = l.split(':').collect();
            if let [_, _, g, members, ..] = f.as_slice() {
                if members.split(',').any(|m| m == name) {
                    if let Ok(g) = g.parse() {
                        gids.push(g);
                    }
                }
            }
        }
        Account { name, uid, gids }
    }

    /// Whether this account may write `path` (for a folder: create files
    /// in it, which also needs search permission), by its permission bits.
    pub fn can_write(&self, path: &Path) -> bool {
        let Ok(meta) = std::fs::metadata(path) else {
            return false;
        };
        if self.uid == 0 {
            return true;
        }
        let mode = meta.mode();
        let need = if meta.is_dir() { 0o3 } else { 0o2 };
        let bits = if meta.uid() == self.uid {
            mode >> 6
        } else if self.gids.contains(&meta.gid()) {
            mode >> 3
        } else {
            mode
        };
        bits & need == need
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_found_and_nobody_may_not_write_a_private_folder() {
        let root = Account::by_name("root").unwrap();
        assert_eq!(root.uid, 0);
        let dir = tempfile::tempdir().unwrap();
        // A temporary folder is 0700 and owned by whoever runs the test.
        let other = Account {
            name: "someone".into(),
            uid: 4_000_000,
            gids: vec![4_000_000],
        };
        assert!(!other.can_write(dir.path()));
        assert!(root.can_write(dir.path()));
    }
}
