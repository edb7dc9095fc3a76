//! Fuzzes the pre-receive stdin reader, `trailgate::push::parse`: no input may
//! panic, and every update it accepts must be one git could send (a full,
//! valid ref name, not both ids zero, no ref twice).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(updates) = trailgate::push::parse(data) else {
        return;
    };
    let mut names = std::collections::HashSet::new();
    for u in &updates {
        assert!(u.name.starts_with("refs/"), "{u:?}");
        assert!(git2::Reference::is_valid_name(&u.name), "{u:?}");
        assert!(!u.name.bytes().any(|b| b.is_ascii_control()), "{u:?}");
        assert!(u.old.is_some() || u.new.is_some(), "{u:?}");
        assert!(names.insert(u.name.clone()), "{u:?} twice");
    }
    // One update per non-empty line.
    let lines = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    assert_eq!(lines, updates.len());
});
