//! `trailgate trailers`: the trailers trailgate sees, as git prints them.

use super::*;
use crate::facts::trailers;

pub(super) fn print_trailers(commits: &[String]) -> Result<u8, Error> {
    let mut out = Vec::new();
    if commits.is_empty() {
        let input = read_stdin()?;
        trailers::render(&trailers::from_text(&input), &mut out);
    } else {
        let repo = Repo::discover()?;
        let objects = repo.objects()?;
        for spec in commits {
            let oid = revision::resolve_commit(&repo, spec)?;
            let data = objects.read(oid)?;
            let raw = commit::parse(data.data(), oid.kind())
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
