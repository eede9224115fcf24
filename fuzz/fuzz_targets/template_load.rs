//! The template loader: any YAML bytes load or fail with an error that names its line and
//! column; never a panic.
#![no_main]
use cpefleet::model::Template;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = Template::from_yaml_str(src, "fuzz.yaml") {
        let (line, column) = e.location().expect("a template error has a place");
        assert!(line >= 1 && column >= 1, "{e}");
        assert!(!e.label().is_empty());
    }
});
