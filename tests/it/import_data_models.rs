//! The shipped `data-models/*.yaml`: they read as the template format (unknown keys are errors),
//! carry the identity, ManagementServer and forced-inform parameters a CPE needs, and are as
//! large as promised.

use std::path::Path;

use cpefleet::import::concrete_parameter_count;
use cpefleet::model::file::{GenSpec, ParamSpec, TemplateFile};
use serde_yaml::Value;

const SHIPPED: [&str; 4] = ["tr181-gateway", "tr098-igd", "tr135-stb", "tr104-voip"];

fn load(name: &str) -> (String, TemplateFile) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data-models")
        .join(format!("{name}.yaml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let t: TemplateFile =
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (text, t)
}

fn param<'a>(t: &'a TemplateFile, path: &str) -> &'a ParamSpec {
    let dot = path.rfind('.').unwrap();
    t.objects
        .get(&path[..=dot])
        .and_then(|o| o.parameters.get(&path[dot + 1..]))
        .unwrap_or_else(|| panic!("{}: no parameter {path}", t.name))
}

fn literal(t: &TemplateFile, path: &str) -> Value {
    let p = param(t, path);
    assert!(p.gen.is_none(), "{}: {path} should be a literal", t.name);
    p.value
        .clone()
        .unwrap_or_else(|| panic!("{}: {path} has no value", t.name))
}

fn forced(t: &TemplateFile) -> Vec<String> {
    let mut v: Vec<String> = t
        .objects
        .iter()
        .flat_map(|(o, s)| {
            s.parameters
                .iter()
                .filter(|(_, p)| p.forced_inform)
                .map(move |(n, _)| format!("{o}{n}"))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_template_parses_and_says_how_it_was_made() {
    for name in SHIPPED {
        let (text, t) = load(name);
        assert_eq!(t.name, name);
        assert!(t.description.is_some(), "{name}");
        assert!(
            text.lines()
                .take_while(|l| l.starts_with('#'))
                .any(|l| l.contains(&format!("--recipe data-models/recipes/{name}.yaml"))),
            "{name}: the header comment names the command that generates it"
        );
        assert!(text.contains("Hand edits recorded in the recipe"), "{name}");
        // Schema parameters are complete: a type and a value or generator.
        for (obj, spec) in &t.objects {
            let concrete = obj
                .split('.')
                .any(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
            for (n, p) in &spec.parameters {
                if concrete {
                    assert!(p.kind.is_none(), "{name}: {obj}{n} overrides only values");
                } else {
                    assert!(p.kind.is_some(), "{name}: {obj}{n} has no type");
                }
                assert!(
                    p.value.is_some() != p.gen.is_some(),
                    "{name}: {obj}{n} needs value xor gen"
                );
            }
        }
    }
}

#[test]
fn identity_parameters() {
    for name in SHIPPED {
        let (_, t) = load(name);
        let di = format!("{}DeviceInfo.", t.root);
        for p in [
            "Manufacturer",
            "ProductClass",
            "SoftwareVersion",
            "HardwareVersion",
        ] {
            let v = literal(&t, &format!("{di}{p}"));
            assert!(
                matches!(&v, Value::String(s) if !s.is_empty()),
                "{name}: {p} = {v:?}"
            );
        }
        let oui = literal(&t, &format!("{di}ManufacturerOUI"));
        let Value::String(oui) = oui else {
            panic!("{name}: OUI not a string")
        };
        assert!(
            oui.len() == 6
                && oui
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)),
            "{name}: OUI {oui:?}"
        );
        assert!(
            param(&t, &format!("{di}ProvisioningCode")).writable,
            "{name}"
        );
        match &param(&t, &format!("{di}SerialNumber")).gen {
            Some(GenSpec::Pattern(p)) => {
                assert!(p.contains("{index"), "{name}: serial {p:?} is per device")
            }
            other => panic!("{name}: SerialNumber gen {other:?}"),
        }
        assert_eq!(
            param(&t, &format!("{di}UpTime")).gen,
            Some(GenSpec::Uptime),
            "{name}"
        );
    }
}

#[test]
fn management_server_parameters() {
    for name in SHIPPED {
        let (_, t) = load(name);
        let ms = format!("{}ManagementServer.", t.root);
        for p in [
            "URL",
            "Username",
            "Password",
            "PeriodicInformEnable",
            "PeriodicInformInterval",
            "PeriodicInformTime",
            "ParameterKey",
            "ConnectionRequestURL",
            "ConnectionRequestUsername",
            "ConnectionRequestPassword",
            "UpgradesManaged",
            "CWMPRetryMinimumWaitInterval",
            "CWMPRetryIntervalMultiplier",
            "DefaultActiveNotificationThrottle",
        ] {
            param(&t, &format!("{ms}{p}"));
        }
        assert_eq!(
            literal(&t, &format!("{ms}PeriodicInformEnable")),
            Value::Bool(true),
            "{name}"
        );
        let interval = literal(&t, &format!("{ms}PeriodicInformInterval"));
        assert!(
            interval == Value::Number(300.into()) || interval == Value::Number(3600.into()),
            "{name}: {interval:?}"
        );
        assert_eq!(
            literal(&t, &format!("{ms}CWMPRetryMinimumWaitInterval")),
            Value::Number(5.into())
        );
        assert_eq!(
            literal(&t, &format!("{ms}CWMPRetryIntervalMultiplier")),
            Value::Number(2000.into())
        );
        assert_eq!(
            param(&t, &format!("{ms}ConnectionRequestURL")).gen,
            Some(GenSpec::ConnectionRequestUrl),
            "{name}"
        );
        assert!(param(&t, &format!("{ms}Password")).hidden, "{name}");
        assert!(
            param(&t, &format!("{ms}ConnectionRequestPassword")).hidden,
            "{name}"
        );
        assert_eq!(
            literal(&t, &format!("{ms}ParameterKey")),
            Value::String(String::new())
        );
    }
}

#[test]
fn forced_inform_parameters_per_root() {
    for name in ["tr181-gateway", "tr135-stb", "tr104-voip"] {
        let (_, t) = load(name);
        assert_eq!(t.root, "Device.");
        assert_eq!(t.cwmp_version.as_deref(), Some("1.4"), "{name}");
        assert_eq!(
            forced(&t),
            [
                "Device.DeviceInfo.HardwareVersion",
                "Device.DeviceInfo.ProvisioningCode",
                "Device.DeviceInfo.SoftwareVersion",
                "Device.ManagementServer.AliasBasedAddressing",
                "Device.ManagementServer.ConnectionRequestURL",
                "Device.ManagementServer.ParameterKey",
                "Device.RootDataModelVersion",
            ],
            "{name}"
        );
        assert_eq!(
            literal(&t, "Device.RootDataModelVersion"),
            Value::String("2.17".into())
        );
    }
    let (_, t) = load("tr098-igd");
    assert_eq!(t.root, "InternetGatewayDevice.");
    assert_eq!(t.cwmp_version.as_deref(), Some("1.0"));
    assert_eq!(
        forced(&t),
        [
            "InternetGatewayDevice.DeviceInfo.HardwareVersion",
            "InternetGatewayDevice.DeviceInfo.ProvisioningCode",
            "InternetGatewayDevice.DeviceInfo.SoftwareVersion",
            "InternetGatewayDevice.DeviceInfo.SpecVersion",
            "InternetGatewayDevice.DeviceSummary",
            "InternetGatewayDevice.ManagementServer.ConnectionRequestURL",
            "InternetGatewayDevice.ManagementServer.ParameterKey",
            "InternetGatewayDevice.WANDevice.{i}.WANConnectionDevice.{i}.WANIPConnection.{i}.ExternalIPAddress",
        ]
    );
}

#[test]
fn sizes() {
    let count = |name: &str| concrete_parameter_count(&load(name).1);
    let gateway = count("tr181-gateway");
    assert!(
        gateway >= 400,
        "tr181-gateway has {gateway} concrete parameters"
    );
    let stb = count("tr135-stb");
    assert!((100..=250).contains(&stb), "tr135-stb has {stb}");
    let voip = count("tr104-voip");
    assert!(voip < gateway, "tr104-voip has {voip}");
    // The IGD keeps every parameter of the dump it was made from.
    let dump = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/genieacs-sim/data_model_202BC1-BM632w-8KA8WA1151100043.csv"
    ))
    .unwrap();
    let rows = dump
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with("DeviceID.") && l.split(',').nth(1) == Some("false"))
        .count();
    assert!(count("tr098-igd") >= rows);
}

#[test]
fn gateway_shape() {
    let (_, t) = load("tr181-gateway");
    for table in [
        "Device.DeviceInfo.FirmwareImage.{i}.",
        "Device.IP.Interface.{i}.IPv4Address.{i}.",
        "Device.DHCPv4.Server.Pool.{i}.",
        "Device.DHCPv4.Client.{i}.",
        "Device.WiFi.Radio.{i}.",
        "Device.WiFi.SSID.{i}.",
        "Device.WiFi.AccessPoint.{i}.",
        "Device.Hosts.Host.{i}.",
        "Device.Users.User.{i}.",
    ] {
        assert!(t.objects[table].instances.unwrap_or(0) >= 1, "{table}");
    }
    for object in [
        "Device.Time.",
        "Device.IP.Diagnostics.IPPing.",
        "Device.IP.Diagnostics.TraceRoute.",
        "Device.IP.Diagnostics.DownloadDiagnostics.",
        "Device.IP.Diagnostics.UploadDiagnostics.",
        "Device.PPP.Interface.{i}.",
        "Device.DNS.Client.",
        "Device.WiFi.AccessPoint.{i}.Security.",
    ] {
        assert!(t.objects.contains_key(object), "{object}");
    }
    let pm = &t.objects["Device.NAT.PortMapping.{i}."];
    assert!(pm.writable, "the ACS adds port mappings");
    assert_eq!(pm.instances, Some(0));
    assert_eq!(
        t.objects["Device.Ethernet.Interface.{i}."].instances,
        Some(5)
    );
    assert!(matches!(
        param(&t, "Device.IP.Interface.1.IPv4Address.1.IPAddress").gen,
        Some(GenSpec::Ipv4 { ref prefix, .. }) if prefix == "100.64.0.0/10"
    ));
    assert_eq!(
        literal(&t, "Device.IP.Interface.2.IPv4Address.1.IPAddress"),
        Value::String("192.168.1.1".into())
    );
    assert!(matches!(
        param(&t, "Device.IP.Interface.1.IPv6Address.1.IPAddress").gen,
        Some(GenSpec::Ipv6 { ref prefix, .. }) if prefix.starts_with("2001:db8:")
    ));
    assert_eq!(
        param(&t, "Device.Time.CurrentLocalTime").gen,
        Some(GenSpec::Now)
    );
    assert!(matches!(
        param(&t, "Device.IP.Interface.{i}.Stats.BytesReceived").gen,
        Some(GenSpec::Counter { .. })
    ));
    assert_eq!(
        param(&t, "Device.ManagementServer.Username").gen,
        Some(GenSpec::Pattern("{oui}-{product_class}-{serial}".into()))
    );
    // MAC addresses come from the OUI, a different offset per interface.
    let mac = |path: &str| match &param(&t, path).gen {
        Some(GenSpec::Mac { oui, offset, .. }) => (oui.clone(), *offset),
        other => panic!("{path}: {other:?}"),
    };
    let lan = mac("Device.Ethernet.Interface.{i}.MACAddress");
    let wan = mac("Device.Ethernet.Interface.1.MACAddress");
    let wifi = mac("Device.WiFi.SSID.1.BSSID");
    assert_eq!(lan.0, "00D09E");
    assert!(lan.1 != wan.1 && wan.1 != wifi.1 && lan.1 != wifi.1);
}
