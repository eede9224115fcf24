use super::*;
use std::time::Duration;

const CASE: &str = r#"
name: t
section: "3.7"
device: { template: x.yaml, cwmp_version: "1.4" }
steps:
  - inform: { events: ["0 BOOTSTRAP"] }
  - expect:
      rpc: SetParameterValues
      params: { Device.X: { le: 3600 }, Device.Y: "v" }
      capture: { x: Device.X }
  - answer: { rpc: Download, fault: 9010 }
  - reboot
  - sleep: 1s
"#;

#[test]
fn parses_the_step_language() {
    let c = Case::parse(CASE, Path::new("/s/c.yaml")).unwrap();
    assert_eq!(c.spec.steps.len(), 5);
    assert_eq!(c.template_path(), Path::new("/s/x.yaml"));
    let Step::Expect(e) = &c.spec.steps[1] else {
        panic!("{:?}", c.spec.steps[1])
    };
    assert_eq!(e.rpc, RpcName("SetParameterValues"));
    let x = |s: &str| s.to_string();
    assert!(e.params["Device.X"].holds(Some("300"), &x));
    assert!(!e.params["Device.X"].holds(Some("7200"), &x));
    assert!(!e.params["Device.X"].holds(None, &x));
    assert!(e.params["Device.Y"].holds(Some("v"), &x));
    assert!(matches!(c.spec.steps[4], Step::Sleep(Dur(d)) if d == Duration::from_secs(1)));
}

#[test]
fn errors_are_located() {
    let bad = CASE.replace("rpc: Download", "rpc: Downlaod");
    let e = Case::parse(&bad, Path::new("c.yaml")).unwrap_err();
    let CaseError::Yaml { line, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(*line, 11, "{e}");
    assert!(e.to_string().starts_with("c.yaml:11:"), "{e}");
    let bad = CASE.replace("sleep: 1s", "sleep: soon");
    let e = Case::parse(&bad, Path::new("c.yaml")).unwrap_err();
    assert!(e.to_string().contains("c.yaml:13:"), "{e}");
    let bad = CASE.replace("fault: 9010", "times: 2");
    let e = Case::parse(&bad, Path::new("c.yaml")).unwrap_err();
    assert_eq!(e.label(), "case_invalid");
}
