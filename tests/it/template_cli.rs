//! `cpefleet template import` and `template check` from the outside: a device dump and an
//! official data model become templates that load, and bad inputs exit 2.

use crate::support::child::cpefleet;

fn data(p: &str) -> String {
    crate::support::data(p).display().to_string()
}

#[test]
fn import_then_check_a_genieacs_dump_and_a_bbf_model() {
    let dir = tempfile::tempdir().unwrap();
    let csv_out = dir.path().join("igd.yaml");
    let out = cpefleet()
        .args(["template", "import", "--from", "genieacs-csv"])
        .arg(data(
            "genieacs-sim/data_model_202BC1-BM632w-8KA8WA1151100043.csv",
        ))
        .arg("-o")
        .arg(&csv_out)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let check = cpefleet()
        .args(["template", "check"])
        .arg(&csv_out)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(text.contains("root InternetGatewayDevice."), "{text}");

    let xml_out = dir.path().join("wifi.yaml");
    let out = cpefleet()
        .args(["template", "import", "--from", "bbf-xml"])
        .arg(data("bbf/data-models/tr-181-2-17-0-cwmp-full.xml"))
        .args([
            "--root",
            "Device.",
            "--include",
            "Device.DeviceInfo.",
            "--include",
            "Device.ManagementServer.",
            "--include",
            "Device.WiFi.",
        ])
        .arg("-o")
        .arg(&xml_out)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let check = cpefleet()
        .args(["template", "check"])
        .arg(&xml_out)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(String::from_utf8_lossy(&check.stdout).contains("root Device."));
    // It renders a schema-valid looking Inform for device 3.
    let inform = cpefleet()
        .arg("render")
        .arg(&xml_out)
        .args(["--index", "3"])
        .output()
        .unwrap();
    assert!(
        inform.status.success(),
        "{}",
        String::from_utf8_lossy(&inform.stderr)
    );
    assert!(String::from_utf8_lossy(&inform.stdout).contains("<cwmp:Inform>"));
}

#[test]
fn bad_import_inputs_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "Parameter,Object,Writable,Value,Value type\n\"unterminated,false,false,x,xsd:string\n",
    )
    .unwrap();
    let out = cpefleet()
        .args(["template", "import", "--from", "genieacs-csv"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.csv"));
    let out = cpefleet()
        .args([
            "template",
            "import",
            "--from",
            "bbf-xml",
            "/no/such/file.xml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Issue 13 item 13: `import --from bbf-xml` writes only what `template check` accepts. TR-181
/// (a root model; its hexBinary sizes count octets) imports and loads; TR-104 and TR-135 are
/// service models without a root object: the import fails with the loader's reason and a hint,
/// and writes nothing.
#[test]
fn bbf_imports_write_only_templates_that_load() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tr181.yaml");
    let model = crate::support::data("bbf/data-models/tr-181-2-17-0-cwmp-full.xml");
    let o = cpefleet()
        .args(["template", "import", "--from", "bbf-xml"])
        .arg(&model)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = cpefleet::model::Template::load(&out).expect("the imported TR-181 template loads");
    assert!(t.parameter_count() > 1000, "{}", t.parameter_count());
    for service in ["tr-104-2-0-2-cwmp-full.xml", "tr-135-1-4-0-full.xml"] {
        let out = dir.path().join(format!("{service}.yaml"));
        let o = cpefleet()
            .args(["template", "import", "--from", "bbf-xml"])
            .arg(crate::support::data(&format!("bbf/data-models/{service}")))
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{service}: {err}");
        assert!(
            err.contains("does not load, nothing written"),
            "{service}: {err}"
        );
        assert!(err.contains("service model"), "{service}: {err}");
        assert!(
            !out.exists(),
            "{service}: a template that does not load was written"
        );
    }
}
