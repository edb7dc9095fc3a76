//! The trailer vectors (`tests/data/trailer-vectors`, copied from the
//! project's shared set): git 2.47.3's answers for hard messages, checked
//! without running git; and the stored answers checked against the
//! installed git by the script that regenerates them.

use std::path::{Path, PathBuf};

use trailgate::facts::trailers::{from_commit_message, from_text, render, Trailer};

use super::git::escaped;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/trailer-vectors")
}

fn rendered(trailers: &[Trailer<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    render(trailers, &mut out);
    out
}

/// The README says a `.log.out` may lack its final newline (a property of how
/// `%(...)` output was captured, not of the trailers), so compare modulo that.
fn same_modulo_final_newline(ours: &[u8], git: &[u8]) -> bool {
    ours == git || (ours.strip_suffix(b"\n") == Some(git) && !git.ends_with(b"\n"))
}

#[test]
fn every_stored_vector_agrees_with_git() {
    let dir = vectors_dir();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("trailer vectors missing at {} ({e})", dir.display()));
    let mut inputs: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "in"))
        .collect();
    inputs.sort();
    assert!(
        inputs.len() >= 80,
        "only {} vectors in {}",
        inputs.len(),
        dir.display()
    );

    let mut failures = Vec::new();
    for input in &inputs {
        let msg = std::fs::read(input).unwrap();
        let stem = input.with_extension("");
        let nodiv = std::fs::read(stem.with_extension("nodiv.out")).unwrap();
        let log = std::fs::read(stem.with_extension("log.out")).unwrap();

        let ours = rendered(&from_text(&msg));
        if ours != nodiv {
            failures.push(format!(
                "{} from_text\n  message: {}\n  git:     {}\n  ours:    {}",
                input.display(),
                escaped(&msg),
                escaped(&nodiv),
                escaped(&ours)
            ));
        }
        let ours = rendered(&from_commit_message(&msg));
        if !same_modulo_final_newline(&ours, &log) {
            failures.push(format!(
                "{} from_commit_message\n  message: {}\n  git:     {}\n  ours:    {}",
                input.display(),
                escaped(&msg),
                escaped(&log),
                escaped(&ours)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors disagree:\n{}",
        failures.len(),
        inputs.len(),
        failures.join("\n")
    );
}

/// The stored answers are what the installed git prints, as
/// `scripts/regen-trailer-vectors` produces them: a real commit per message
/// for `.log.out`, `git interpret-trailers` for `.nodiv.out`. Fails when the
/// script no longer reproduces them (or the installed git answers otherwise).
#[test]
fn the_regeneration_script_reproduces_every_stored_answer() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/regen-trailer-vectors");
    let out = std::process::Command::new(&script)
        .arg("--check")
        .arg(vectors_dir())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{} --check: the stored answers differ from the installed git's:\n{stdout}{}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let inputs = std::fs::read_dir(vectors_dir())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "in")
        })
        .count();
    assert!(
        stdout.contains(&format!("{0} of {0} answers", inputs * 2)),
        "{stdout}"
    );
}
