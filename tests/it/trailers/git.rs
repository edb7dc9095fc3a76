//! Running the installed git under an empty configuration, as the README's
//! "Trailers" section defines the reference answer (on the shared
//! [`crate::oracle::GitRepo`]).

use std::collections::HashMap;

pub use crate::oracle::GitRepo as Git;
use crate::oracle::{feed, GitRepo};

impl GitRepo {
    /// `git [config...] interpret-trailers --parse --no-divider` with `msg` on stdin.
    pub fn interpret_trailers(&self, config: &[&str], msg: &[u8]) -> Vec<u8> {
        let mut args: Vec<&str> = Vec::new();
        for c in config {
            args.extend(["-c", c]);
        }
        args.extend(["interpret-trailers", "--parse", "--no-divider"]);
        feed(self.outside(&args), msg, "git interpret-trailers")
    }

    /// Writes one commit per message, with an `encoding` header if asked, and
    /// returns their ids in order. fast-import stores the message bytes as
    /// they are (NUL included) and writes thousands of commits in a second,
    /// where one loose object per commit would take minutes on a slow disk.
    /// The commits form one chain, which `git log --no-walk` never looks at.
    pub fn write_messages(&self, messages: &[Vec<u8>], encoding: Option<&str>) -> Vec<String> {
        let mut stream = Vec::new();
        for (i, msg) in messages.iter().enumerate() {
            stream.extend_from_slice(
                format!(
                    "commit refs/heads/generated\nmark :{}\n\
                     author A U Thor <a@example.com> 1700000000 +0000\n\
                     committer A U Thor <a@example.com> 1700000000 +0000\n",
                    i + 1
                )
                .as_bytes(),
            );
            if let Some(encoding) = encoding {
                stream.extend_from_slice(format!("encoding {encoding}\n").as_bytes());
            }
            stream.extend_from_slice(format!("data {}\n", msg.len()).as_bytes());
            stream.extend_from_slice(msg);
            stream.push(b'\n');
        }
        let marks = self.home.path().join("marks");
        let marks_arg = format!("--export-marks={}", marks.display());
        // --force: a second batch in the same repository moves the branch anew.
        self.run_with_input(&["fast-import", "--quiet", "--force", &marks_arg], &stream);
        let mut ids = vec![String::new(); messages.len()];
        for line in std::fs::read_to_string(&marks).unwrap().lines() {
            let (mark, id) = line.split_once(' ').unwrap();
            let n: usize = mark.trim_start_matches(':').parse().unwrap();
            ids[n - 1] = id.to_owned();
        }
        assert!(
            ids.iter().all(|id| !id.is_empty()),
            "fast-import skipped a commit"
        );
        ids
    }

    /// `git log --no-walk --format=<placeholder>` for every id in one process,
    /// keyed by id. The placeholder's output must hold no NUL.
    /// `config` entries go to `git -c`.
    pub fn log(
        &self,
        config: &[&str],
        ids: &[String],
        placeholder: &str,
    ) -> HashMap<String, Vec<u8>> {
        let format = format!("--format=%H%x00{placeholder}%x00");
        let mut args: Vec<&str> = Vec::new();
        for c in config {
            args.extend(["-c", c]);
        }
        args.extend(["log", "--no-walk=unsorted", "--stdin", &format]);
        let mut stdin = Vec::new();
        for id in ids {
            stdin.extend_from_slice(id.as_bytes());
            stdin.push(b'\n');
        }
        let out = self.run_with_input(&args, &stdin);
        parse_records(&out)
    }
}

/// Splits `<id>\0<text>\0\n` records (tformat puts the newline after each).
fn parse_records(mut out: &[u8]) -> HashMap<String, Vec<u8>> {
    let mut records = HashMap::new();
    while !out.is_empty() {
        let id_end = out.iter().position(|&b| b == 0).expect("record id");
        let id = String::from_utf8(out[..id_end].to_vec()).unwrap();
        let rest = &out[id_end + 1..];
        let text_end = rest.iter().position(|&b| b == 0).expect("record text");
        records.insert(id, rest[..text_end].to_vec());
        assert_eq!(rest.get(text_end + 1), Some(&b'\n'), "record terminator");
        out = &rest[text_end + 2..];
    }
    records
}

/// Message bytes as a readable, copy-pasteable Rust byte-string literal.
pub fn escaped(bytes: &[u8]) -> String {
    format!("b\"{}\"", bytes.escape_ascii())
}
