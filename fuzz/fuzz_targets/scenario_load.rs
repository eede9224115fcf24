//! The scenario loader and the embedded ACS's policy loader (the scenario's `acs.policy`
//! file): any YAML bytes load or fail with a located error; never a panic. Parsing resolves
//! paths but reads no file, so the input is all there is.
#![no_main]
use std::path::Path;

use cpefleet::acs::Policy;
use cpefleet::scenario::{Overrides, Scenario, ScenarioError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    match Scenario::parse(src, Path::new("scenarios/fuzz.yaml"), &Overrides::default()) {
        Ok(_) => {}
        Err(ScenarioError::Invalid { line, column, .. }) => assert!(line >= 1 && column >= 1),
        Err(e) => panic!("a scenario parsed from text has no place: {e}"),
    }
    if let Err(e) = Policy::parse(src) {
        assert!(!e.label().is_empty());
    }
});
