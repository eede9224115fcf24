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

/// A valid minimal template, 9 lines; tests append lines 10.. to it.
const MIN: &str = "name: t
root: Device.
objects:
  Device.DeviceInfo.:
    parameters:
      Manufacturer: { type: string, value: m }
      ManufacturerOUI: { type: string, value: 0A1B2C }
      ProductClass: { type: string, value: p }
      SerialNumber: { type: string, gen: { pattern: \"S{index}\" } }
";

#[track_caller]
fn fails(src: &str, problem: Option<Problem>, line: usize, column: usize) -> ModelError {
    let err = match load(src) {
        Ok(_) => panic!("loaded:\n{src}"),
        Err(e) => e,
    };
    assert_eq!(err.problem(), problem, "{err}");
    assert_eq!(err.location(), Some((line, column)), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("t.yaml:{line}:{column}: ")),
        "{text}"
    );
    err
}

#[test]
fn minimal_template_loads() {
    let t = load(MIN).unwrap();
    assert_eq!(t.root(), "Device.");
    assert_eq!(t.parameter_count(), 4);
    assert_eq!(t.cwmp_version(), cpefleet::cwmp::CwmpVersion::V1_0);
}

#[test]
fn bad_type_name() {
    let src =
        format!("{MIN}  Device.X.:\n    parameters:\n      A: {{ type: strnig, value: x }}\n");
    let e = fails(&src, Some(Problem::Type), 12, 12);
    assert!(e.to_string().contains("strnig"));
    assert_eq!(e.label(), "model_type");
}

#[test]
fn missing_type() {
    let src = format!("{MIN}  Device.X.:\n    parameters:\n      A: {{ value: x }}\n");
    fails(&src, Some(Problem::Type), 12, 7);
}

#[test]
fn default_not_valid_for_type() {
    let src = format!(
        "{MIN}  Device.X.:\n    parameters:\n      B: {{ type: unsignedInt, value: -1 }}\n"
    );
    fails(&src, Some(Problem::Value), 12, 31);
}

#[test]
fn default_in_block_style_outside_enum() {
    let src = format!(
        "{MIN}  Device.X.:\n    parameters:\n      D:\n        type: string\n        enum: [a, b]\n        value: c\n"
    );
    fails(&src, Some(Problem::Value), 15, 9);
}

#[test]
fn unknown_generator_argument() {
    let src = format!(
        "{MIN}  Device.X.:\n    parameters:\n      C: {{ type: string, gen: {{ pattern: \"{{foo}}\" }} }}\n"
    );
    let e = fails(&src, Some(Problem::Generator), 12, 26);
    assert!(e.to_string().contains("{foo}"), "{e}");
}

#[test]
fn instance_placeholder_outside_a_table() {
    let src = format!(
        "{MIN}  Device.X.:\n    parameters:\n      C: {{ type: string, gen: {{ pattern: \"x{{i}}\" }} }}\n"
    );
    fails(&src, Some(Problem::Generator), 12, 26);
}

#[test]
fn concrete_instance_of_undeclared_table() {
    let src = format!("{MIN}  Device.Foo.1.:\n    parameters: {{}}\n");
    fails(&src, Some(Problem::UndeclaredTable), 10, 3);
}

#[test]
fn object_inside_undeclared_table() {
    let src = format!("{MIN}  Device.A.{{i}}.B.:\n    parameters: {{}}\n");
    fails(&src, Some(Problem::UndeclaredTable), 10, 3);
}

#[test]
fn instance_override_of_unknown_parameter() {
    let src = format!(
        "{MIN}  Device.T.{{i}}.:\n    parameters:\n      A: {{ type: int }}\n  Device.T.2.:\n    parameters:\n      A: {{ value: 1 }}\n      Nope: {{ value: 1 }}\n"
    );
    fails(&src, Some(Problem::UnknownParameter), 16, 7);
}

#[test]
fn instance_override_with_schema_attributes() {
    let src = format!(
        "{MIN}  Device.T.{{i}}.:\n    parameters:\n      A: {{ type: int }}\n  Device.T.2.:\n    parameters:\n      A: {{ value: 1, writable: true }}\n"
    );
    fails(&src, Some(Problem::Attribute), 15, 7);
}

#[test]
fn duplicate_parameter_and_object() {
    let src = format!(
        "{MIN}  Device.X.:\n    parameters:\n      Y: {{ type: int }}\n  Device.X.Y.:\n    parameters: {{}}\n"
    );
    fails(&src, Some(Problem::DuplicatePath), 12, 7);
}

#[test]
fn duplicate_table_and_single_object() {
    let src =
        format!("{MIN}  Device.X.:\n    parameters: {{}}\n  Device.X.{{i}}.:\n    instances: 1\n");
    fails(&src, Some(Problem::DuplicatePath), 10, 3);
}

#[test]
fn duplicate_yaml_key_is_a_syntax_error_with_place() {
    let src =
        format!("{MIN}  Device.X.:\n    parameters: {{}}\n  Device.X.:\n    parameters: {{}}\n");
    let e = fails(&src, None, 12, 3);
    assert_eq!(e.label(), "model_syntax");
}

#[test]
fn object_outside_root() {
    let src = format!("{MIN}  InternetGatewayDevice.X.:\n    parameters: {{}}\n");
    fails(&src, Some(Problem::OutsideRoot), 10, 3);
}

#[test]
fn object_key_without_trailing_dot() {
    let src = format!("{MIN}  \"Device.X\":\n    parameters: {{}}\n");
    fails(&src, Some(Problem::Path), 10, 3);
}

#[test]
fn missing_identity_parameter() {
    let src = MIN.replace(
        "      SerialNumber: { type: string, gen: { pattern: \"S{index}\" } }\n",
        "",
    );
    let e = fails(&src, Some(Problem::Identity), 4, 3);
    assert!(e.to_string().contains("SerialNumber"), "{e}");
}

#[test]
fn bad_root_and_version() {
    let src = MIN.replace("root: Device.", "root: Device");
    fails(&src, Some(Problem::Root), 2, 1);
    let src = MIN.replace("root: Device.", "root: Device.\ncwmp_version: \"2.0\"");
    fails(&src, Some(Problem::Version), 3, 1);
}

#[test]
fn bad_notification_and_active_notify() {
    let src =
        format!("{MIN}  Device.X.:\n    parameters:\n      A: {{ type: int, notification: 3 }}\n");
    fails(&src, Some(Problem::Attribute), 12, 23);
    let src = format!(
        "{MIN}  Device.X.:\n    parameters:\n      A: {{ type: int, active_notify: always }}\n"
    );
    fails(&src, Some(Problem::Attribute), 12, 23);
}

#[test]
fn table_options_on_a_single_object() {
    let src = format!("{MIN}  Device.X.:\n    writable: true\n    parameters: {{}}\n");
    fails(&src, Some(Problem::Attribute), 11, 5);
}

#[test]
fn too_many_initial_instances() {
    let src = format!("{MIN}  Device.T.{{i}}.:\n    instances: 5\n    max_entries: 2\n");
    fails(&src, Some(Problem::Attribute), 12, 5);
}

#[test]
fn unknown_field_is_a_syntax_error_with_place() {
    let src = format!("{MIN}  Device.X.:\n    paramters: {{}}\n");
    let e = fails(&src, None, 11, 5);
    assert!(e.to_string().contains("paramters"), "{e}");
}

#[test]
fn broken_yaml_is_a_syntax_error_with_place() {
    let src = format!("{MIN}  Device.X.:\n    parameters: {{ A: [\n");
    let e = load(&src).unwrap_err();
    assert_eq!(e.label(), "model_syntax");
    let (line, _) = e.location().unwrap();
    assert!(line >= 11, "{e}");
}

#[test]
fn quoted_keys_are_located() {
    let src = format!(
        "{MIN}  \"Device.Q.{{i}}.\":\n    parameters:\n      'A': {{ type: boolean, value: maybe }}\n"
    );
    fails(&src, Some(Problem::Value), 12, 29);
}

#[test]
fn every_shipped_data_model_loads() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut loaded = Vec::new();
    for entry in entries {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            let t = Template::load(&p).unwrap_or_else(|e| panic!("{e}"));
            assert!(t.parameter_count() > 0, "{}", p.display());
            loaded.push(t.name().to_string());
        }
    }
    loaded.sort();
    // Exactly the shipped four: a missing or renamed file is a failure, not zero checks.
    assert_eq!(
        loaded,
        ["tr098-igd", "tr104-voip", "tr135-stb", "tr181-gateway"]
    );
}

#[test]
fn load_reports_unreadable_file() {
    let e = Template::load(std::path::Path::new("/nonexistent/x.yaml")).unwrap_err();
    assert_eq!(e.label(), "model_io");
    assert!(e.to_string().starts_with("/nonexistent/x.yaml: "), "{e}");
}
