//! `trailgate trailers`: the trailers trailgate sees, as git prints them.

use super::*;
use crate::facts::trailers;

pub(super) fn print_trailers(commits: &[String]) -> Result<u8, Error> {
    let mut out = Vec::new();
    if commits.is_empty() {
        let input = read_stdin()?;
        trailers::render(&trailers::from_text(&input), &mut out);
    } else {
        let repo = repo::open_for_verify()?;
        let odb = repo
            .odb()
            .map_err(|source| RepoError::Discover { source })?;
        for spec in commits {
            let object = repo
                .revparse_single(spec)
                .map_err(|source| RepoError::Revision {
                    spec: spec.clone(),
                    source,
                })?;
            let oid = repo::peel_to_commit(&repo, object.id())?
                .ok_or_else(|| Error::Usage(format!("`{spec}` does not name a commit")))?;
            let data = odb.read(oid).map_err(|e| repo::missing(oid, e))?;
            let raw = commit::parse(data.data())
                .map_err(|reason| RepoError::BadCommit { oid, reason })?;
            let message = encoding::message_as_utf8(raw.encoding, raw.message);
            if commits.len() > 1 {
                out.extend_from_slice(format!("commit {oid}\n").as_bytes());
            }
            trailers::render(&trailers::from_commit_message(&message), &mut out);
        }
    }
    let _ = std::io::stdout().write_all(&out);
    Ok(EXIT_ACCEPT)
}
