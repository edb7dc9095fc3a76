//! The diffs' own pack reader (`trailgate::git::pack`) against git: every object
//! of a generated history, repacked with offset deltas and with by-id
//! deltas, read back byte for byte as `git cat-file --batch` shows it; every
//! commit's diff through the reader equal to git's; and damaged packs
//! refused without a panic.

use trailgate::git::diff::{self, DiffOptions, TreeCache};
use trailgate::git::pack::{PackReader, Packs};
use trailgate::git::ObjectId;

use super::generator::Generator;
use super::oracle::Repo;

/// `git cat-file --batch-all-objects --batch`: every object's id, type and
/// content.
fn all_objects(repo: &Repo) -> Vec<(ObjectId, String, Vec<u8>)> {
    let out = repo.run(&["cat-file", "--batch-all-objects", "--batch"]);
    let mut objects = Vec::new();
    let mut rest = &out[..];
    while !rest.is_empty() {
        let nl = rest.iter().position(|&b| b == b'\n').unwrap();
        let header = std::str::from_utf8(&rest[..nl]).unwrap();
        let mut parts = header.split(' ');
        let oid = ObjectId::from_hex(parts.next().unwrap().as_bytes()).unwrap();
        let kind = parts.next().unwrap().to_owned();
        let size: usize = parts.next().unwrap().parse().unwrap();
        let content = rest[nl + 1..nl + 1 + size].to_vec();
        rest = &rest[nl + 1 + size + 1..];
        objects.push((oid, kind, content));
    }
    objects
}

fn objects_dir(repo: &Repo) -> Vec<std::path::PathBuf> {
    vec![repo.path.join("objects")]
}

/// Every object read through the reader equals git's.
fn check_every_object(repo: &Repo) -> usize {
    let packs = Packs::open(&objects_dir(repo), repo.open().hash_kind());
    assert!(!packs.is_empty());
    let reader = PackReader::new(&packs);
    let objects = all_objects(repo);
    for (oid, kind, content) in &objects {
        let (found_kind, data) = reader
            .read(*oid)
            .unwrap_or_else(|| panic!("{oid} ({kind}) not read"));
        assert_eq!(found_kind.name(), kind.as_str(), "{oid}");
        assert!(data[..] == content[..], "{oid} ({kind}) differs");
    }
    objects.len()
}

fn history() -> (Repo, Vec<ObjectId>) {
    let stream = Generator::new(0x9ac4).history(400);
    let repo = Repo::from_fast_import(&stream);
    let commits = repo.commits();
    (repo, commits)
}

#[test]
fn every_object_reads_as_git_shows_it_with_offset_and_id_deltas() {
    let (repo, commits) = history();
    // Long delta chains, based by offset.
    repo.run(&[
        "repack",
        "-a",
        "-d",
        "-f",
        "--depth=50",
        "--window=50",
        "-q",
    ]);
    let n = check_every_object(&repo);
    assert!(n > commits.len() * 3, "{n} objects");
    let packed = repo.run(&["count-objects", "-v"]);
    assert!(String::from_utf8_lossy(&packed).contains("count: 0"));

    // Bases named by id (what a pack without offset deltas holds, like a
    // thin pack fixed up by git index-pack).
    repo.run(&[
        "-c",
        "repack.useDeltaBaseOffset=false",
        "repack",
        "-a",
        "-d",
        "-f",
        "--depth=50",
        "-q",
    ]);
    check_every_object(&repo);

    // And the reader's diffs are git's.
    let r = repo.open();
    let packs = Packs::open(&objects_dir(&repo), repo.open().hash_kind());
    let reader = PackReader::new(&packs);
    let opts = DiffOptions::renames();
    let mut cache = TreeCache::default();
    for &c in commits.iter().rev() {
        let through_reader =
            diff::commit_diff_cached(&r, c, None, true, &opts, &mut cache, Some(&reader)).unwrap();
        let plain = diff::commit_stats(&r, c, &opts).unwrap();
        assert_eq!(through_reader, plain, "commit {c}");
    }
}

#[test]
fn a_damaged_pack_is_refused_not_misread() {
    let (repo, _) = history();
    repo.run(&["repack", "-a", "-d", "-f", "-q"]);
    let objects = all_objects(&repo);
    let pack_dir = repo.path.join("objects/pack");
    let pack = std::fs::read_dir(&pack_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "pack"))
        .unwrap();
    let original = std::fs::read(&pack).unwrap();
    crate::support::make_writable(&pack);

    // Flipped bytes all over the data, then the data cut short: every read
    // is either git's exact object or nothing.
    let mut damaged = original.clone();
    for i in (12..damaged.len() - 20).step_by(97) {
        damaged[i] ^= 0x5a;
    }
    for data in [damaged, original[..original.len() / 2].to_vec()] {
        std::fs::write(&pack, &data).unwrap();
        let packs = Packs::open(&objects_dir(&repo), repo.open().hash_kind());
        let reader = PackReader::new(&packs);
        let mut refused = 0;
        for (oid, kind, content) in &objects {
            match reader.read(*oid) {
                Some((found_kind, data)) => {
                    assert_eq!(found_kind.name(), kind.as_str(), "{oid}");
                    assert!(data[..] == content[..], "{oid} misread");
                }
                None => refused += 1,
            }
        }
        assert!(refused > 0);
    }
}

#[test]
fn a_large_pack_finds_every_object_and_nothing_else_once_its_index_is_sampled() {
    // Enough objects that a fanout bucket holds many more names than the
    // index's in-memory sample keeps (one in 32), so that lookups past the
    // first few hundred narrow the search with the sample.
    let stream = Generator::new(0x51a3).history(3000);
    let repo = Repo::from_fast_import(&stream);
    repo.run(&["repack", "-a", "-d", "-q"]);
    let n = check_every_object(&repo);
    assert!(
        n > 256 * 32,
        "{n} objects: too few for fanout buckets larger than the sample"
    );
    let packs = Packs::open(&objects_dir(&repo), repo.open().hash_kind());
    let objects = all_objects(&repo);
    let ids: std::collections::HashSet<ObjectId> = objects.iter().map(|o| o.0).collect();
    for (oid, _, _) in &objects {
        assert!(packs.contains(*oid), "{oid} not found");
        // A neighbour of every object, absent unless git has it too.
        let mut bytes = oid.as_bytes().to_vec();
        *bytes.last_mut().unwrap() ^= 1;
        let near = oid.kind().from_bytes(&bytes).unwrap();
        assert_eq!(packs.contains(near), ids.contains(&near), "{near}");
    }
}
