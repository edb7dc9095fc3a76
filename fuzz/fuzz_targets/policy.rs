//! Fuzzes the policy loader, `trailgate::rules::parse` (the policy and its
//! requirement kinds): no text may panic,
//! and every problem it reports must point inside the text (line and column
//! are 1-based and the line exists).

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use trailgate::policy::PolicyError;
use trailgate::rules::parse;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse(Path::new("fuzz.toml"), text) {
        Ok(policy) => {
            // Every rule of a valid policy has a well-formed name.
            for rule in &policy.rules {
                assert!(trailgate::policy::valid_rule_name(&rule.name));
            }
        }
        Err(PolicyError::Invalid { problems, .. }) => {
            assert!(!problems.is_empty(), "invalid without a problem");
            let lines = text.split('\n').count();
            for p in &problems {
                assert!(p.line >= 1 && p.column >= 1, "{p:?}");
                assert!(p.line <= lines, "{p:?} is past the last line {lines}");
            }
        }
        Err(other) => panic!("parse of text returned a non-text error: {other}"),
    }
});
