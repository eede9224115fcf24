//! The genieacs-sim CSV importer on the real Huawei BM632w dump and on edge cases.

use cpefleet::import::{concrete_parameter_count, import_genieacs_csv, write_yaml, ImportError};
use cpefleet::model::file::{GenSpec, TemplateFile};
use serde_yaml::Value;

const DUMP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/genieacs-sim/data_model_202BC1-BM632w-8KA8WA1151100043.csv"
);
const IGD: &str = "InternetGatewayDevice.";

fn dump() -> String {
    std::fs::read_to_string(DUMP).expect("the genieacs-sim dump is in tests/data/genieacs-sim")
}

fn import_dump() -> TemplateFile {
    import_genieacs_csv(&dump(), "tr098-igd").unwrap()
}

fn value<'a>(t: &'a TemplateFile, object: &str, param: &str) -> &'a Value {
    let obj = t
        .objects
        .get(object)
        .unwrap_or_else(|| panic!("no object {object}"));
    let p = obj
        .parameters
        .get(param)
        .unwrap_or_else(|| panic!("no parameter {object}{param}"));
    p.value
        .as_ref()
        .unwrap_or_else(|| panic!("{object}{param} has no value"))
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

/// Parameter rows of the dump, counted independently of the importer: the `Object` column
/// precedes every quoted field, so splitting on the first two commas is exact.
fn parameter_rows(src: &str) -> usize {
    src.lines()
        .skip(1)
        .filter(|l| !l.starts_with("DeviceID."))
        .filter(|l| l.split(',').nth(1) == Some("false"))
        .count()
}

#[test]
fn every_parameter_of_the_dump_is_a_concrete_parameter() {
    let src = dump();
    let t = import_genieacs_csv(&src, "tr098-igd").unwrap();
    assert_eq!(t.root, IGD);
    assert_eq!(t.name, "tr098-igd");
    let rows = parameter_rows(&src);
    assert!(rows > 700, "the dump has {rows} parameter rows");
    assert_eq!(concrete_parameter_count(&t), rows);
}

#[test]
fn quoted_values_with_commas_survive() {
    let t = import_dump();
    let info = format!("{IGD}DeviceInfo.");
    assert_eq!(
        value(&t, &info, "Manufacturer"),
        &s("Huawei Technologies Co., Ltd.")
    );
    assert_eq!(
        value(&t, IGD, "DeviceSummary"),
        &s("InternetGatewayDevice:1.1[](Baseline:1, EthernetLAN:1, WiFiLAN:1, WIMAXWAN:1, Bridging:1, Time:1, IPPing:1")
    );
    // A single WANIPConnection instance: its values are the schema defaults.
    let wan = format!("{IGD}WANDevice.{{i}}.WANConnectionDevice.{{i}}.WANIPConnection.{{i}}.");
    assert_eq!(
        value(&t, &wan, "DNSServers"),
        &s("5.42.195.218,5.42.195.219")
    );
    assert_eq!(
        value(&t, &wan, "PossibleConnectionTypes"),
        &s("IP_Routed,IP_Bridged")
    );
}

#[test]
fn types_and_writability_come_from_the_dump() {
    let t = import_dump();
    let ms = &t.objects[&format!("{IGD}ManagementServer.")].parameters;
    assert_eq!(
        ms["PeriodicInformInterval"].kind.as_deref(),
        Some("unsignedInt")
    );
    assert_eq!(
        ms["PeriodicInformInterval"].value,
        Some(Value::Number(300.into()))
    );
    assert!(ms["PeriodicInformInterval"].writable);
    assert_eq!(ms["PeriodicInformEnable"].value, Some(Value::Bool(true)));
    assert!(!ms["ParameterKey"].writable);
    let telnet = &t.objects[&format!("{IGD}DeviceInfo.X_HUAWEI_ServiceManage.")].parameters;
    assert_eq!(telnet["TelnetPort"].kind.as_deref(), Some("int"));
    let time = &t.objects[&format!("{IGD}Time.")].parameters;
    assert_eq!(time["CurrentLocalTime"].kind.as_deref(), Some("dateTime"));
    assert_eq!(time["CurrentLocalTime"].gen, Some(GenSpec::Now));
    // A numeric-looking string stays a string.
    assert_eq!(
        value(&t, &format!("{IGD}DeviceInfo."), "HardwareVersion"),
        &s("40501")
    );
}

#[test]
fn instances_keep_the_dump_numbering() {
    let t = import_dump();
    let hosts = format!("{IGD}LANDevice.{{i}}.Hosts.Host.{{i}}.");
    let schema = &t.objects[&hosts];
    assert_eq!(schema.instances, Some(0));
    assert!(!schema.writable);
    for n in 1..=6 {
        assert!(
            t.objects
                .contains_key(&format!("{IGD}LANDevice.1.Hosts.Host.{n}.")),
            "Host.{n}"
        );
    }
    assert!(!t
        .objects
        .contains_key(&format!("{IGD}LANDevice.1.Hosts.Host.7.")));
    let host3 = format!("{IGD}LANDevice.1.Hosts.Host.3.");
    assert_eq!(value(&t, &host3, "HostName"), &s("Lena-PC"));
    assert_eq!(value(&t, &host3, "MACAddress"), &s("C0:14:3D:C0:CF:93"));
    // Instance objects carry values only; types live in the schema.
    assert_eq!(t.objects[&host3].parameters["HostName"].kind, None);
    assert_eq!(
        schema.parameters["HostName"].kind.as_deref(),
        Some("string")
    );

    // The table object's own row says the ACS may add rows here.
    let pools =
        format!("{IGD}LANDevice.{{i}}.LANHostConfigManagement.DHCPConditionalServingPool.{{i}}.");
    assert!(t.objects[&pools].writable);
    // FilterMode 4 has 7 ACL entries, FilterMode 1 none: one table schema for both.
    let acl = format!("{IGD}X_HUAWEI_FireWall.FilterMode.{{i}}.ACL.{{i}}.");
    assert!(t.objects.contains_key(&acl));
    assert!(!t
        .objects
        .contains_key(&format!("{IGD}X_HUAWEI_FireWall.FilterMode.{{i}}.ACL.")));
    assert!(t
        .objects
        .contains_key(&format!("{IGD}X_HUAWEI_FireWall.FilterMode.4.ACL.7.")));
}

#[test]
fn forced_inform_and_identity() {
    let t = import_dump();
    let forced: Vec<String> = t
        .objects
        .iter()
        .flat_map(|(o, spec)| {
            spec.parameters
                .iter()
                .filter(|(_, p)| p.forced_inform)
                .map(move |(n, _)| format!("{o}{n}"))
        })
        .collect();
    let expected = [
        "InternetGatewayDevice.DeviceSummary",
        "InternetGatewayDevice.DeviceInfo.HardwareVersion",
        "InternetGatewayDevice.DeviceInfo.ProvisioningCode",
        "InternetGatewayDevice.DeviceInfo.SoftwareVersion",
        "InternetGatewayDevice.DeviceInfo.SpecVersion",
        "InternetGatewayDevice.ManagementServer.ConnectionRequestURL",
        "InternetGatewayDevice.ManagementServer.ParameterKey",
        "InternetGatewayDevice.WANDevice.{i}.WANConnectionDevice.{i}.WANIPConnection.{i}.ExternalIPAddress",
    ];
    let mut forced_sorted = forced.clone();
    forced_sorted.sort();
    let mut expected_sorted: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected_sorted.sort();
    assert_eq!(forced_sorted, expected_sorted);

    let info = &t.objects[&format!("{IGD}DeviceInfo.")].parameters;
    // The data-model serial is "0"; genieacs-sim's DeviceID record holds the real one.
    assert_eq!(
        info["SerialNumber"].gen,
        Some(GenSpec::Pattern("8KA8WA11{index:08}".into()))
    );
    assert_eq!(info["SerialNumber"].value, None);
    assert_eq!(info["UpTime"].gen, Some(GenSpec::Uptime));
    assert_eq!(
        info["SoftwareVersion"].active_notify.as_deref(),
        Some("forceEnabled")
    );
    let ms = &t.objects[&format!("{IGD}ManagementServer.")].parameters;
    assert_eq!(
        ms["ConnectionRequestURL"].gen,
        Some(GenSpec::ConnectionRequestUrl)
    );
    assert_eq!(
        ms["Username"].gen,
        Some(GenSpec::Pattern("{serial}".into()))
    );
    // Not the device's own identity: stays literal.
    assert_eq!(
        ms["ConnectionRequestUsername"].value,
        Some(s("202BC1-BM632w-000000"))
    );
    assert!(!t.objects.keys().any(|k| k.starts_with("DeviceID")));
}

#[test]
fn the_written_yaml_reads_back_identically() {
    let t = import_dump();
    let text = write_yaml(&t).unwrap();
    assert!(text.starts_with('#'));
    let back: TemplateFile = serde_yaml::from_str(&text).unwrap();
    assert_eq!(back, t);
}

#[test]
fn errors_in_the_real_dump_carry_its_line_number() {
    let src = dump();
    let lines: Vec<&str> = src.lines().collect();
    let target = lines
        .iter()
        .position(|l| {
            l.starts_with("InternetGatewayDevice.ManagementServer.PeriodicInformInterval,")
        })
        .unwrap();
    let mut broken: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    broken[target] =
        "InternetGatewayDevice.ManagementServer.PeriodicInformInterval,false,true,soon,xsd:unsignedInt"
            .into();
    let err = import_genieacs_csv(&broken.join("\n"), "x").unwrap_err();
    assert_eq!(err.line(), Some(target + 1), "{err}");
    assert_eq!(err.label(), "csv_record");
    assert!(err.to_string().contains("soon"), "{err}");

    let mut unterminated = lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    unterminated[target] = "InternetGatewayDevice.X,false,true,\"open,xsd:string".into();
    let err = import_genieacs_csv(&unterminated.join("\n"), "x").unwrap_err();
    assert_eq!(err.label(), "csv_syntax");
    assert_eq!(err.line(), Some(target + 1), "{err}");
}

#[test]
fn quoting_edge_cases() {
    let src = "Parameter,Object,Writable,Value,Value type\r\n\
               Device.A.Quote,false,true,\"say \"\"hi\"\"\",xsd:string\r\n\
               Device.A.Multi,false,true,\"line one\nline two\",xsd:string\r\n\
               Device.A.Empty,false,true,\"\",xsd:string\r\n\
               Device.A.Comma,false,true,\",\",xsd:string\r\n\
               Device.A.Bool,false,true,1,xsd:boolean\r\n\
               Device.A.After,false,true,x,xsd:string\r\n";
    let t = import_genieacs_csv(src, "edge").unwrap();
    let a = "Device.A.";
    assert_eq!(value(&t, a, "Quote"), &s("say \"hi\""));
    assert_eq!(value(&t, a, "Multi"), &s("line one\nline two"));
    assert_eq!(value(&t, a, "Empty"), &s(""));
    assert_eq!(value(&t, a, "Comma"), &s(","));
    assert_eq!(value(&t, a, "Bool"), &Value::Bool(true));
    let back: TemplateFile = serde_yaml::from_str(&write_yaml(&t).unwrap()).unwrap();
    assert_eq!(back, t);

    // The record after a multi-line value is reported on its own line.
    let bad = src.replace(
        "Device.A.After,false,true,x,xsd:string",
        "Device.A.After,false,true,x,xsd:nope",
    );
    let err = import_genieacs_csv(&bad, "edge").unwrap_err();
    assert!(
        matches!(err, ImportError::CsvRecord { line: 8, .. }),
        "{err}"
    );
}
