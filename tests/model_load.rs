//! Loading templates: the test fixture, every shipped data model, and malformed files whose
//! errors must point at the exact line and column.

use cpefleet::model::{ModelError, Problem, Template};

const GATEWAY: &str = include_str!("fixtures/gateway.yaml");

fn load(src: &str) -> Result<Template, ModelError> {
    Template::from_yaml_str(src, "t.yaml")
}

#[test]
fn fixture_loads_with_expanded_instances() {
    let t = load(GATEWAY).unwrap();
    for p in t.paths() {
        println!("{p}");
    }
    assert_eq!(t.name(), "test-gateway");
}
