//! The device's RPC semantics against the test template (tests/it/fixtures/gateway.yaml),
//! through the public device API only (`Device`, `DeviceView::apply`, the CWMP types), as the
//! session and the embedded tools use it.

use cpefleet::cwmp::*;
use cpefleet::device::{Applied, Device, DeviceView, Effect, Env};
use cpefleet::model::Template;

const GATEWAY: &str = include_str!("fixtures/gateway.yaml");
const NOW_MS: i64 = 1_800_000_000_000;
const BOOT_MS: i64 = NOW_MS - 3_600_000;

fn template() -> Template {
    Template::from_yaml_str(GATEWAY, "gateway.yaml").unwrap()
}

fn env() -> Env<'static> {
    Env {
        seed: 7,
        now: DateTime::from_unix_ms(NOW_MS),
        cr_url_base: "http://127.0.0.1:7548",
        udp: None,
    }
}

fn device(index: u32) -> Device {
    let mut d = Device::new(index);
    d.set_boot_time(DateTime::from_unix_ms(BOOT_MS));
    d
}

fn apply(t: &Template, d: &mut Device, req: AcsRequest) -> Applied {
    DeviceView::new(t, d, &env()).apply(&req)
}

#[track_caller]
fn response(a: Applied) -> CpeResponse {
    match a.message {
        CpeMessage::Response(r) => r,
        other => panic!("expected a response, got {other:?}"),
    }
}

#[track_caller]
fn fault(a: Applied) -> Fault {
    assert!(
        a.effects.is_empty(),
        "a fault has no effects: {:?}",
        a.effects
    );
    match a.message {
        CpeMessage::Fault(f) => f,
        other => panic!("expected a fault, got {other:?}"),
    }
}

fn gpn(
    t: &Template,
    d: &mut Device,
    path: &str,
    next_level: bool,
) -> Result<Vec<(String, bool)>, u32> {
    let a = apply(
        t,
        d,
        AcsRequest::GetParameterNames(GetParameterNames {
            parameter_path: path.into(),
            next_level,
        }),
    );
    match a.message {
        CpeMessage::Response(CpeResponse::GetParameterNamesResponse(r)) => Ok(r
            .parameter_list
            .into_iter()
            .map(|p| (p.name, p.writable))
            .collect()),
        CpeMessage::Fault(f) => Err(f.code),
        other => panic!("{other:?}"),
    }
}

fn gpv(t: &Template, d: &mut Device, names: &[&str]) -> Result<Vec<ParameterValueStruct>, u32> {
    let a = apply(
        t,
        d,
        AcsRequest::GetParameterValues(GetParameterValues {
            parameter_names: names.iter().map(|s| s.to_string()).collect(),
        }),
    );
    match a.message {
        CpeMessage::Response(CpeResponse::GetParameterValuesResponse(r)) => Ok(r.parameter_list),
        CpeMessage::Fault(f) => Err(f.code),
        other => panic!("{other:?}"),
    }
}

#[track_caller]
fn value(t: &Template, d: &mut Device, name: &str) -> String {
    let v = gpv(t, d, &[name]).unwrap();
    assert_eq!(v.len(), 1);
    v.into_iter().next().map(|p| p.value).unwrap_or_default()
}

fn spv(list: &[(&str, &str, Option<XsdType>)], key: &str) -> AcsRequest {
    AcsRequest::SetParameterValues(SetParameterValues {
        parameter_list: list
            .iter()
            .map(|(n, v, k)| ParameterValueStruct {
                name: n.to_string(),
                value: v.to_string(),
                kind: *k,
            })
            .collect(),
        parameter_key: key.into(),
    })
}

fn add(name: &str, key: &str) -> AcsRequest {
    AcsRequest::AddObject(AddObject {
        object_name: name.into(),
        parameter_key: key.into(),
    })
}

fn delete(name: &str, key: &str) -> AcsRequest {
    AcsRequest::DeleteObject(DeleteObject {
        object_name: name.into(),
        parameter_key: key.into(),
    })
}

fn spa(name: &str, notification: Option<u8>, access: Option<Vec<&str>>) -> AcsRequest {
    AcsRequest::SetParameterAttributes(SetParameterAttributes {
        parameter_list: vec![SetParameterAttributesStruct {
            name: name.into(),
            notification_change: notification.is_some(),
            notification,
            access_list_change: access.is_some(),
            access_list: access
                .unwrap_or_default()
                .into_iter()
                .map(String::from)
                .collect(),
        }],
    })
}

fn gpa(t: &Template, d: &mut Device, name: &str) -> Result<Vec<ParameterAttributeStruct>, u32> {
    let a = apply(
        t,
        d,
        AcsRequest::GetParameterAttributes(GetParameterAttributes {
            parameter_names: vec![name.into()],
        }),
    );
    match a.message {
        CpeMessage::Response(CpeResponse::GetParameterAttributesResponse(r)) => {
            Ok(r.parameter_list)
        }
        CpeMessage::Fault(f) => Err(f.code),
        other => panic!("{other:?}"),
    }
}

// === GetRPCMethods ===

#[test]
fn get_rpc_methods_lists_exactly_what_is_implemented() {
    let t = template();
    let mut d = device(1);
    let CpeResponse::GetRPCMethodsResponse(r) =
        response(apply(&t, &mut d, AcsRequest::GetRPCMethods))
    else {
        panic!()
    };
    let mut methods = r.method_list.clone();
    methods.sort();
    let mut want = vec![
        "AddObject",
        "CancelTransfer",
        "DeleteObject",
        "Download",
        "FactoryReset",
        "GetAllQueuedTransfers",
        "GetParameterAttributes",
        "GetParameterNames",
        "GetParameterValues",
        "GetQueuedTransfers",
        "GetRPCMethods",
        "Reboot",
        "ScheduleDownload",
        "ScheduleInform",
        "SetParameterAttributes",
        "SetParameterValues",
        "Upload",
    ];
    want.sort();
    assert_eq!(methods, want);
    assert!(!r.method_list.iter().any(|m| m == "ChangeDUState"));
}

#[test]
fn cwmp_1_0_device_lacks_later_methods() {
    let src = GATEWAY.replace("cwmp_version: \"1.2\"", "cwmp_version: \"1.0\"");
    let t = Template::from_yaml_str(&src, "t").unwrap();
    let mut d = device(1);
    let CpeResponse::GetRPCMethodsResponse(r) =
        response(apply(&t, &mut d, AcsRequest::GetRPCMethods))
    else {
        panic!()
    };
    assert_eq!(r.method_list.len(), 14);
    assert!(!r
        .method_list
        .iter()
        .any(|m| m == "ScheduleDownload" || m == "GetAllQueuedTransfers"));
    let f = fault(apply(&t, &mut d, AcsRequest::GetAllQueuedTransfers));
    assert_eq!(f.code, 9000);
}

#[test]
fn unknown_and_du_methods_are_9000() {
    let t = template();
    let mut d = device(1);
    assert_eq!(
        fault(apply(&t, &mut d, AcsRequest::Unknown("X_Foo".into()))).code,
        9000
    );
    let du = AcsRequest::ChangeDUState(ChangeDUState {
        operations: vec![],
        command_key: "k".into(),
    });
    assert_eq!(fault(apply(&t, &mut d, du)).code, 9000);
}

#[test]
fn unreadable_arguments_draw_their_fault() {
    let t = template();
    let mut d = device(1);
    let bad = |xml: &str| {
        let env = format!(
            r#"<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="urn:dslforum-org:cwmp-1-2"><soap-env:Body>{xml}</soap-env:Body></soap-env:Envelope>"#
        );
        match cpefleet::cwmp::decode_acs(env.as_bytes())
            .expect("the envelope parses")
            .body
        {
            cpefleet::cwmp::AcsMessage::Request(r) => r,
            other => panic!("{other:?}"),
        }
    };
    for (xml, code) in [
        ("<cwmp:GetParameterNames><NextLevel>1</NextLevel></cwmp:GetParameterNames>", 9003),
        ("<cwmp:SetParameterValues><ParameterKey>k</ParameterKey></cwmp:SetParameterValues>", 9003),
        ("<cwmp:Download><CommandKey>k</CommandKey><FileType>1 Firmware Upgrade Image</FileType><URL>http://x/f</URL><FileSize>big</FileSize></cwmp:Download>", 9003),
    ] {
        let f = fault(apply(&t, &mut d, bad(xml)));
        assert_eq!(f.code, code, "{xml}");
        assert!(f.is_client(), "the ACS's arguments are to blame: {xml}");
    }
    assert!(d.delta().is_none(), "a fault changes nothing");
}

// === GetParameterNames ===

#[test]
fn gpn_empty_path() {
    let t = template();
    let mut d = device(1);
    assert_eq!(
        gpn(&t, &mut d, "", true).unwrap(),
        vec![("Device.".to_string(), false)]
    );
    let all = gpn(&t, &mut d, "", false).unwrap();
    assert_eq!(all.len(), t.paths().count());
    assert_eq!(all.first().map(|p| p.0.as_str()), Some("Device."));
    assert_eq!(
        all.iter().filter(|(n, _)| !n.ends_with('.')).count(),
        t.parameter_count()
    );
}

#[test]
fn gpn_next_level_lists_direct_children() {
    let t = template();
    let mut d = device(1);
    assert_eq!(
        gpn(&t, &mut d, "Device.WiFi.", true).unwrap(),
        vec![
            ("Device.WiFi.SSIDNumberOfEntries".to_string(), false),
            ("Device.WiFi.SSID.".to_string(), true),
        ]
    );
    assert_eq!(
        gpn(&t, &mut d, "Device.WiFi.SSID.", true).unwrap(),
        vec![
            ("Device.WiFi.SSID.1.".to_string(), true),
            ("Device.WiFi.SSID.2.".to_string(), true),
        ]
    );
    let hosts = gpn(&t, &mut d, "Device.Hosts.Host.", true).unwrap();
    assert_eq!(hosts, vec![("Device.Hosts.Host.1.".to_string(), false)]);
    let root = gpn(&t, &mut d, "Device.", true).unwrap();
    assert!(root.contains(&("Device.RootDataModelVersion".to_string(), false)));
    assert!(root.contains(&("Device.DeviceInfo.".to_string(), false)));
    assert!(!root
        .iter()
        .any(|(n, _)| n.starts_with("Device.DeviceInfo.") && n.len() > 18));
}

#[test]
fn gpn_subtree_includes_the_object_itself() {
    let t = template();
    let mut d = device(1);
    let sub = gpn(&t, &mut d, "Device.WiFi.SSID.1.", false).unwrap();
    assert_eq!(sub.len(), 7);
    assert_eq!(sub[0], ("Device.WiFi.SSID.1.".to_string(), true));
    assert!(sub.contains(&("Device.WiFi.SSID.1.SSID".to_string(), true)));
    assert!(sub.contains(&("Device.WiFi.SSID.1.BSSID".to_string(), false)));
}

#[test]
fn gpn_parameter_and_faults() {
    let t = template();
    let mut d = device(1);
    assert_eq!(
        gpn(&t, &mut d, "Device.DeviceInfo.UpTime", false).unwrap(),
        vec![("Device.DeviceInfo.UpTime".to_string(), false)]
    );
    assert_eq!(gpn(&t, &mut d, "Device.DeviceInfo.UpTime", true), Err(9003));
    assert_eq!(gpn(&t, &mut d, "Device.Nope.", true), Err(9005));
    assert_eq!(gpn(&t, &mut d, "Device.DeviceInfo.Nope", false), Err(9005));
    assert_eq!(gpn(&t, &mut d, "Device.WiFi.SSID.3.", false), Err(9005));
    assert_eq!(gpn(&t, &mut d, "InternetGatewayDevice.", true), Err(9005));
}

// === GetParameterValues ===

#[test]
fn gpv_values_types_and_generators() {
    let t = template();
    let mut d = device(7);
    let v = gpv(
        &t,
        &mut d,
        &[
            "Device.DeviceInfo.SerialNumber",
            "Device.DeviceInfo.UpTime",
            "Device.ManagementServer.ConnectionRequestURL",
            "Device.ManagementServer.Username",
            "Device.WiFi.SSID.1.SSID",
            "Device.WiFi.SSID.2.SSID",
            "Device.ManagementServer.PeriodicInformEnable",
            "Device.WiFi.SSIDNumberOfEntries",
            "Device.IP.Interface.2.IPv4AddressNumberOfEntries",
            "Device.IP.Interface.2.IPv4Address.3.IPAddress",
        ],
    )
    .unwrap();
    let got: Vec<(&str, &str, Option<XsdType>)> = v
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_str(), p.kind))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "Device.DeviceInfo.SerialNumber",
                "CPF00000007",
                Some(XsdType::String)
            ),
            (
                "Device.DeviceInfo.UpTime",
                "3600",
                Some(XsdType::UnsignedInt)
            ),
            (
                "Device.ManagementServer.ConnectionRequestURL",
                "http://127.0.0.1:7548/cr/7",
                Some(XsdType::String)
            ),
            (
                "Device.ManagementServer.Username",
                "0A1B2C-CPF00000007",
                Some(XsdType::String)
            ),
            ("Device.WiFi.SSID.1.SSID", "main", Some(XsdType::String)),
            (
                "Device.WiFi.SSID.2.SSID",
                "cpefleet-7-2",
                Some(XsdType::String)
            ),
            (
                "Device.ManagementServer.PeriodicInformEnable",
                "true",
                Some(XsdType::Boolean)
            ),
            (
                "Device.WiFi.SSIDNumberOfEntries",
                "2",
                Some(XsdType::UnsignedInt)
            ),
            (
                "Device.IP.Interface.2.IPv4AddressNumberOfEntries",
                "2",
                Some(XsdType::UnsignedInt)
            ),
            (
                "Device.IP.Interface.2.IPv4Address.3.IPAddress",
                "192.168.1.1",
                Some(XsdType::String)
            ),
        ]
    );
    // Nothing was stored for all that.
    assert!(d.delta().is_none());
}

#[test]
fn gpv_partial_paths_and_whole_tree() {
    let t = template();
    let mut d = device(1);
    let wifi = gpv(&t, &mut d, &["Device.WiFi."]).unwrap();
    assert_eq!(wifi.len(), 13);
    assert!(wifi
        .iter()
        .all(|p| p.name.starts_with("Device.WiFi.") && !p.name.ends_with('.')));
    let all = gpv(&t, &mut d, &[""]).unwrap();
    assert_eq!(all.len(), t.parameter_count());
    assert_eq!(
        gpv(&t, &mut d, &["Device."]).unwrap().len(),
        t.parameter_count()
    );
    let two = gpv(
        &t,
        &mut d,
        &["Device.Hosts.", "Device.DeviceInfo.Manufacturer"],
    )
    .unwrap();
    assert_eq!(two.len(), 3);
}

#[test]
fn gpv_unknown_name_faults_the_whole_call() {
    let t = template();
    let mut d = device(1);
    assert_eq!(
        gpv(&t, &mut d, &["Device.DeviceInfo.Manufacturer", "Device.X"]),
        Err(9005)
    );
    assert_eq!(gpv(&t, &mut d, &["Device.WiFi.SSID.9."]), Err(9005));
    assert_eq!(gpv(&t, &mut d, &["Device.WiFi.SSID.1"]), Err(9005));
}

#[test]
fn gpv_hidden_reads_null_but_get_sees_the_value() {
    let t = template();
    let mut d = device(1);
    assert_eq!(value(&t, &mut d, "Device.ManagementServer.Password"), "");
    let view = DeviceView::new(&t, &mut d, &env());
    assert_eq!(
        view.get("Device.ManagementServer.Password")
            .map(|p| p.value),
        Some("secret".into())
    );
    assert_eq!(view.get("Device.WiFi."), None);
}

#[test]
fn generated_values_are_per_device_and_deterministic() {
    let t = template();
    let (mut a, mut a2, mut b) = (device(1), device(1), device(2));
    let p = "Device.WiFi.SSID.1.BSSID";
    assert_eq!(value(&t, &mut a, p), value(&t, &mut a2, p));
    assert_ne!(value(&t, &mut a, p), value(&t, &mut b, p));
    assert_eq!(value(&t, &mut a, p), "0A:1B:2C:00:00:04");
    let c = "Device.WiFi.SSID.1.BytesSent";
    let before: u64 = value(&t, &mut a, c).parse().unwrap();
    let later = Env {
        now: DateTime::from_unix_ms(NOW_MS + 10_000),
        ..env()
    };
    let after: u64 = DeviceView::new(&t, &mut a, &later)
        .get(c)
        .unwrap()
        .value
        .parse()
        .unwrap();
    assert_eq!(after - before, 10_000);
}

// === SetParameterValues ===

#[test]
fn spv_applies_canonical_values_and_sets_parameter_key() {
    let t = template();
    let mut d = device(1);
    let a = apply(
        &t,
        &mut d,
        spv(
            &[
                (
                    "Device.ManagementServer.PeriodicInformInterval",
                    "600",
                    Some(XsdType::UnsignedInt),
                ),
                ("Device.ManagementServer.PeriodicInformEnable", "0", None),
                ("Device.WiFi.SSID.2.SSID", "guest", Some(XsdType::String)),
            ],
            "key-1",
        ),
    );
    assert_eq!(a.effects, vec![Effect::PeriodicInformChanged]);
    assert_eq!(
        response(a),
        CpeResponse::SetParameterValuesResponse(SetParameterValuesResponse { status: 0 })
    );
    assert_eq!(
        value(&t, &mut d, "Device.ManagementServer.PeriodicInformInterval"),
        "600"
    );
    assert_eq!(
        value(&t, &mut d, "Device.ManagementServer.PeriodicInformEnable"),
        "false"
    );
    // An ACS write overrides the generator.
    assert_eq!(value(&t, &mut d, "Device.WiFi.SSID.2.SSID"), "guest");
    assert_eq!(
        value(&t, &mut d, "Device.ManagementServer.ParameterKey"),
        "key-1"
    );
    // ACS-made changes never notify (TR-069 A.3.2.4), even on an active parameter.
    assert!(!d.change_pending());
    assert!(!d.active_change_pending());
}

#[test]
fn spv_faults_are_collected_and_nothing_changes() {
    let t = template();
    let mut d = device(1);
    let f = fault(apply(
        &t,
        &mut d,
        spv(
            &[
                (
                    "Device.ManagementServer.PeriodicInformInterval",
                    "600",
                    None,
                ),
                ("Device.Nope", "1", None),
                ("Device.DeviceInfo.UpTime", "5", None),
                (
                    "Device.ManagementServer.PeriodicInformEnable",
                    "true",
                    Some(XsdType::String),
                ),
                (
                    "Device.ManagementServer.PeriodicInformTime",
                    "yesterday",
                    None,
                ),
                ("Device.ManagementServer.PeriodicInformInterval.", "1", None),
            ],
            "bad",
        ),
    ));
    assert_eq!(f.code, 9003);
    let codes: Vec<(&str, u32)> = f
        .set_parameter_values_faults
        .iter()
        .map(|x| (x.parameter_name.as_str(), x.code))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("Device.Nope", 9005),
            ("Device.DeviceInfo.UpTime", 9008),
            ("Device.ManagementServer.PeriodicInformEnable", 9006),
            ("Device.ManagementServer.PeriodicInformTime", 9007),
            ("Device.ManagementServer.PeriodicInformInterval.", 9005),
        ]
    );
    assert!(
        d.delta().is_none(),
        "atomic: nothing applied, no ParameterKey"
    );
    assert_eq!(
        value(&t, &mut d, "Device.ManagementServer.PeriodicInformInterval"),
        "300"
    );
}

#[test]
fn spv_facets_are_9007() {
    let t = template();
    let mut d = device(1);
    for (name, v) in [
        ("Device.ManagementServer.PeriodicInformInterval", "0"),
        ("Device.ManagementServer.PeriodicInformInterval", "-5"),
        ("Device.ManagementServer.PeriodicInformInterval", "abc"),
        ("Device.IP.Diagnostics.IPPing.DiagnosticsState", "Running"),
        ("Device.DeviceInfo.Description", "seventeen chars!!"),
        ("Device.ManagementServer.PeriodicInformEnable", "yes"),
    ] {
        let f = fault(apply(&t, &mut d, spv(&[(name, v, None)], "k")));
        assert_eq!(f.code, 9003);
        assert_eq!(f.set_parameter_values_faults.len(), 1);
        assert_eq!(f.set_parameter_values_faults[0].code, 9007, "{name}={v}");
    }
    assert!(d.delta().is_none());
}

#[test]
fn spv_same_name_twice_is_9003() {
    let t = template();
    let mut d = device(1);
    let n = "Device.ManagementServer.PeriodicInformInterval";
    let f = fault(apply(
        &t,
        &mut d,
        spv(&[(n, "60", None), (n, "70", None)], "k"),
    ));
    assert_eq!(f.code, 9003);
    assert!(f.set_parameter_values_faults.is_empty());
    assert!(d.delta().is_none());
}

#[test]
fn spv_effects() {
    let t = template();
    let mut d = device(1);
    let url = "Device.ManagementServer.URL";
    let same = apply(
        &t,
        &mut d,
        spv(
            &[
                (url, "http://acs.example:7547/", None),
                (
                    "Device.ManagementServer.PeriodicInformInterval",
                    "300",
                    None,
                ),
                (
                    "Device.ManagementServer.ConnectionRequestPassword",
                    "crpass",
                    None,
                ),
            ],
            "k",
        ),
    );
    assert!(same.effects.is_empty());
    let a = apply(
        &t,
        &mut d,
        spv(
            &[
                (url, "http://other:7547/", None),
                (
                    "Device.ManagementServer.ConnectionRequestPassword",
                    "pw2",
                    None,
                ),
                ("Device.IP.Diagnostics.IPPing.Host", "10.0.0.1", None),
                (
                    "Device.IP.Diagnostics.IPPing.DiagnosticsState",
                    "Requested",
                    None,
                ),
            ],
            "k2",
        ),
    );
    assert_eq!(
        a.effects,
        vec![
            Effect::ManagementServerUrlChanged,
            Effect::ConnectionRequestCredentialsChanged,
            Effect::DiagnosticsRequested {
                object: "Device.IP.Diagnostics.IPPing.".into()
            },
        ]
    );
    assert_eq!(
        value(
            &t,
            &mut d,
            "Device.ManagementServer.ConnectionRequestPassword"
        ),
        ""
    );
    let view = DeviceView::new(&t, &mut d, &env());
    assert_eq!(
        view.get("Device.ManagementServer.ConnectionRequestPassword")
            .unwrap()
            .value,
        "pw2"
    );
}

// === Get/SetParameterAttributes ===

#[test]
fn gpa_defaults_and_forced_notification() {
    let t = template();
    let mut d = device(1);
    let attr = |d: &mut Device, n: &str| gpa(&t, d, n).unwrap()[0].notification;
    assert_eq!(attr(&mut d, "Device.WiFi.SSID.1.SSID"), 2);
    assert_eq!(attr(&mut d, "Device.WiFi.SSID.1.Channel"), 1);
    assert_eq!(attr(&mut d, "Device.WiFi.SSID.1.Enable"), 0);
    assert_eq!(attr(&mut d, "Device.DeviceInfo.SoftwareVersion"), 2);
    assert_eq!(
        attr(&mut d, "Device.ManagementServer.ConnectionRequestURL"),
        2
    );
    assert_eq!(gpa(&t, &mut d, "Device.WiFi.SSID.1.").unwrap().len(), 6);
    assert_eq!(gpa(&t, &mut d, "Device.Nope."), Err(9005));
}

#[test]
fn spa_applies_to_subtrees_and_back_to_default_frees_the_delta() {
    let t = template();
    let mut d = device(1);
    response(apply(
        &t,
        &mut d,
        spa("Device.WiFi.SSID.2.", Some(1), Some(vec!["Subscriber"])),
    ));
    let attrs = gpa(&t, &mut d, "Device.WiFi.SSID.2.").unwrap();
    assert_eq!(attrs.len(), 6);
    assert!(attrs
        .iter()
        .all(|a| a.notification == 1 && a.access_list == ["Subscriber"]));
    assert_eq!(
        gpa(&t, &mut d, "Device.WiFi.SSID.1.Enable").unwrap()[0].notification,
        0
    );
    // NotificationChange false leaves the notification alone (TR-069 A.3.2.4).
    response(apply(
        &t,
        &mut d,
        spa("Device.WiFi.SSID.2.Enable", None, Some(vec![])),
    ));
    let a = &gpa(&t, &mut d, "Device.WiFi.SSID.2.Enable").unwrap()[0];
    assert_eq!((a.notification, a.access_list.len()), (1, 0));
    // Forced active stays active whatever is set.
    response(apply(
        &t,
        &mut d,
        spa("Device.DeviceInfo.SoftwareVersion", Some(0), None),
    ));
    assert_eq!(
        gpa(&t, &mut d, "Device.DeviceInfo.SoftwareVersion").unwrap()[0].notification,
        2
    );
    // Everything back to the defaults: no per-device data left.
    response(apply(
        &t,
        &mut d,
        spa("Device.DeviceInfo.SoftwareVersion", Some(0), None),
    ));
    for (name, n) in [
        ("Device.WiFi.SSID.2.Enable", 0),
        ("Device.WiFi.SSID.2.SSID", 2),
        ("Device.WiFi.SSID.2.Channel", 1),
        ("Device.WiFi.SSID.2.BSSID", 0),
        ("Device.WiFi.SSID.2.BytesSent", 0),
        ("Device.WiFi.SSID.2.KeyPassphrase", 0),
        ("Device.DeviceInfo.SoftwareVersion", 2),
    ] {
        response(apply(&t, &mut d, spa(name, Some(n), Some(vec![]))));
    }
    assert!(d.delta().is_none(), "{:?}", d.delta());
}

#[test]
fn spa_faults() {
    let t = template();
    let mut d = device(1);
    assert_eq!(
        fault(apply(&t, &mut d, spa("Device.Nope", Some(1), None))).code,
        9005
    );
    assert_eq!(
        fault(apply(
            &t,
            &mut d,
            spa("Device.WiFi.SSID.1.SSID", Some(3), None)
        ))
        .code,
        9003
    );
    let no_value = AcsRequest::SetParameterAttributes(SetParameterAttributes {
        parameter_list: vec![SetParameterAttributesStruct {
            name: "Device.WiFi.SSID.1.SSID".into(),
            notification_change: true,
            notification: None,
            access_list_change: false,
            access_list: vec![],
        }],
    });
    assert_eq!(fault(apply(&t, &mut d, no_value)).code, 9003);
    assert_eq!(
        fault(apply(
            &t,
            &mut d,
            spa("Device.DeviceInfo.UpTime", Some(2), None)
        ))
        .code,
        9009
    );
    // Passive on a canDeny parameter is fine.
    response(apply(
        &t,
        &mut d,
        spa("Device.DeviceInfo.UpTime", Some(1), None),
    ));
    assert_eq!(
        fault(apply(
            &t,
            &mut d,
            spa("Device.WiFi.SSID.1.SSID", None, Some(vec!["Everyone"]))
        ))
        .code,
        9003
    );
}

// === AddObject / DeleteObject ===

#[test]
fn add_object_creates_defaults_and_never_reuses_numbers() {
    let t = template();
    let mut d = device(3);
    let a = response(apply(&t, &mut d, add("Device.WiFi.SSID.", "add-1")));
    assert_eq!(
        a,
        CpeResponse::AddObjectResponse(AddObjectResponse {
            instance_number: 3,
            status: 0
        })
    );
    assert_eq!(value(&t, &mut d, "Device.WiFi.SSIDNumberOfEntries"), "3");
    assert_eq!(value(&t, &mut d, "Device.WiFi.SSID.3.Enable"), "true");
    assert_eq!(value(&t, &mut d, "Device.WiFi.SSID.3.SSID"), "cpefleet-3-3");
    assert_eq!(
        value(&t, &mut d, "Device.ManagementServer.ParameterKey"),
        "add-1"
    );
    assert_eq!(gpn(&t, &mut d, "Device.WiFi.SSID.", true).unwrap().len(), 3);
    response(apply(&t, &mut d, delete("Device.WiFi.SSID.3.", "del-1")));
    assert_eq!(
        value(&t, &mut d, "Device.ManagementServer.ParameterKey"),
        "del-1"
    );
    let CpeResponse::AddObjectResponse(r) =
        response(apply(&t, &mut d, add("Device.WiFi.SSID.", "k")))
    else {
        panic!()
    };
    assert_eq!(r.instance_number, 4, "3 is never reused");
    response(apply(&t, &mut d, delete("Device.WiFi.SSID.2.", "k")));
    let CpeResponse::AddObjectResponse(r) =
        response(apply(&t, &mut d, add("Device.WiFi.SSID.", "k")))
    else {
        panic!()
    };
    assert_eq!(r.instance_number, 5);
    let names: Vec<String> = gpn(&t, &mut d, "Device.WiFi.SSID.", true)
        .unwrap()
        .into_iter()
        .map(|p| p.0)
        .collect();
    assert_eq!(
        names,
        [
            "Device.WiFi.SSID.1.",
            "Device.WiFi.SSID.4.",
            "Device.WiFi.SSID.5."
        ]
    );
}

#[test]
fn add_object_faults() {
    let t = template();
    let mut d = device(1);
    assert_eq!(
        fault(apply(&t, &mut d, add("Device.WiFi.", "k"))).code,
        9005
    );
    assert_eq!(
        fault(apply(&t, &mut d, add("Device.WiFi.SSID.1.", "k"))).code,
        9005
    );
    assert_eq!(
        fault(apply(&t, &mut d, add("Device.WiFi.SSID", "k"))).code,
        9005
    );
    assert_eq!(
        fault(apply(&t, &mut d, add("Device.Hosts.Host.", "k"))).code,
        9005
    );
    assert_eq!(
        fault(apply(&t, &mut d, add("Device.Nope.", "k"))).code,
        9005
    );
    assert!(d.delta().is_none());
    // IP.Interface: 2 initial, max_entries 4.
    response(apply(&t, &mut d, add("Device.IP.Interface.", "k")));
    response(apply(&t, &mut d, add("Device.IP.Interface.", "k")));
    assert_eq!(
        fault(apply(&t, &mut d, add("Device.IP.Interface.", "k2"))).code,
        9004
    );
    assert_eq!(
        value(&t, &mut d, "Device.ManagementServer.ParameterKey"),
        "k"
    );
}

#[test]
fn nested_tables_count_and_number_per_parent() {
    let t = template();
    let mut d = device(1);
    let CpeResponse::AddObjectResponse(r) = response(apply(
        &t,
        &mut d,
        add("Device.IP.Interface.2.IPv4Address.", "k"),
    )) else {
        panic!()
    };
    assert_eq!(
        r.instance_number, 4,
        "instance 3 is declared in the template"
    );
    let CpeResponse::AddObjectResponse(r) = response(apply(
        &t,
        &mut d,
        add("Device.IP.Interface.1.IPv4Address.", "k"),
    )) else {
        panic!()
    };
    assert_eq!(r.instance_number, 2);
    assert_eq!(
        value(
            &t,
            &mut d,
            "Device.IP.Interface.2.IPv4AddressNumberOfEntries"
        ),
        "3"
    );
    assert_eq!(
        value(
            &t,
            &mut d,
            "Device.IP.Interface.1.IPv4AddressNumberOfEntries"
        ),
        "2"
    );
    // A new interface starts with no addresses; adding one there starts at 1.
    let CpeResponse::AddObjectResponse(r) =
        response(apply(&t, &mut d, add("Device.IP.Interface.", "k")))
    else {
        panic!()
    };
    assert_eq!(r.instance_number, 3);
    assert_eq!(
        value(
            &t,
            &mut d,
            "Device.IP.Interface.3.IPv4AddressNumberOfEntries"
        ),
        "0"
    );
    assert_eq!(value(&t, &mut d, "Device.IP.Interface.3.Name"), "ip3");
    let CpeResponse::AddObjectResponse(r) = response(apply(
        &t,
        &mut d,
        add("Device.IP.Interface.3.IPv4Address.", "k"),
    )) else {
        panic!()
    };
    assert_eq!(r.instance_number, 1);
    assert_eq!(
        value(&t, &mut d, "Device.IP.Interface.3.IPv4Address.1.Status"),
        "Enabled"
    );
}

#[test]
fn delete_object_removes_the_subtree() {
    let t = template();
    let mut d = device(1);
    response(apply(
        &t,
        &mut d,
        spv(
            &[(
                "Device.IP.Interface.2.IPv4Address.1.IPAddress",
                "1.2.3.4",
                None,
            )],
            "k",
        ),
    ));
    response(apply(&t, &mut d, delete("Device.IP.Interface.2.", "k")));
    assert_eq!(gpv(&t, &mut d, &["Device.IP.Interface.2."]), Err(9005));
    assert_eq!(
        gpv(
            &t,
            &mut d,
            &["Device.IP.Interface.2.IPv4Address.1.IPAddress"]
        ),
        Err(9005)
    );
    assert_eq!(value(&t, &mut d, "Device.IP.InterfaceNumberOfEntries"), "1");
    let names: Vec<String> = gpn(&t, &mut d, "Device.IP.", false)
        .unwrap()
        .into_iter()
        .map(|p| p.0)
        .collect();
    assert!(names
        .iter()
        .all(|n| !n.starts_with("Device.IP.Interface.2.")));
    assert!(names.contains(&"Device.IP.Interface.1.IPv4Address.1.IPAddress".to_string()));
    let d_ref = d.delta().unwrap();
    assert!(
        d_ref.value_count() == 0,
        "values under the deleted instance are dropped"
    );
    // Faults: unknown instance, table path, a non-writable table's instance.
    assert_eq!(
        fault(apply(&t, &mut d, delete("Device.IP.Interface.2.", "k"))).code,
        9005
    );
    assert_eq!(
        fault(apply(&t, &mut d, delete("Device.IP.Interface.", "k"))).code,
        9005
    );
    assert_eq!(
        fault(apply(&t, &mut d, delete("Device.Hosts.Host.1.", "k"))).code,
        9005
    );
    assert_eq!(
        fault(apply(&t, &mut d, delete("Device.IP.Interface.1", "k"))).code,
        9005
    );
}

#[test]
fn walked_tree_matches_the_sorted_table() {
    let t = template();
    let mut untouched = device(1);
    let before = gpn(&t, &mut untouched, "", false).unwrap();
    // Add then delete a Hosts-free instance: the device now walks the schema.
    let mut d = device(1);
    response(apply(&t, &mut d, add("Device.WiFi.SSID.", "k")));
    let after = gpn(&t, &mut d, "", false).unwrap();
    let added: Vec<&(String, bool)> = after
        .iter()
        .filter(|(n, _)| n.starts_with("Device.WiFi.SSID.3."))
        .collect();
    assert_eq!(added.len(), 7);
    let rest: Vec<(String, bool)> = after
        .iter()
        .filter(|(n, _)| !n.starts_with("Device.WiFi.SSID.3."))
        .cloned()
        .collect();
    assert_eq!(rest, before);
    let names: Vec<&str> = after.iter().map(|p| p.0.as_str()).collect();
    assert!(names
        .windows(2)
        .all(|w| cpefleet::model::path::cmp_paths(w[0], w[1]).is_lt()));
    // Same for GPV of a subtree.
    assert_eq!(
        gpv(&t, &mut d, &["Device.IP."]).unwrap(),
        gpv(&t, &mut untouched, &["Device.IP."]).unwrap()
    );
}

// === Reboot, FactoryReset, ScheduleInform, transfers ===

#[test]
fn reboot_factory_reset_schedule_inform() {
    let t = template();
    let mut d = device(1);
    let a = apply(
        &t,
        &mut d,
        AcsRequest::Reboot(Reboot {
            command_key: "rb".into(),
        }),
    );
    assert_eq!(
        a.effects,
        vec![Effect::Reboot {
            command_key: "rb".into()
        }]
    );
    assert_eq!(response(a), CpeResponse::RebootResponse);
    let a = apply(&t, &mut d, AcsRequest::FactoryReset);
    assert_eq!(a.effects, vec![Effect::FactoryReset]);
    assert_eq!(response(a), CpeResponse::FactoryResetResponse);
    let si = |delay| {
        AcsRequest::ScheduleInform(ScheduleInform {
            delay_seconds: delay,
            command_key: "si".into(),
        })
    };
    let a = apply(&t, &mut d, si(30));
    assert_eq!(
        a.effects,
        vec![Effect::ScheduleInform {
            delay_seconds: 30,
            command_key: "si".into()
        }]
    );
    assert_eq!(response(a), CpeResponse::ScheduleInformResponse);
    assert_eq!(fault(apply(&t, &mut d, si(0))).code, 9003);
}

fn download(key: &str, url: &str) -> Download {
    Download {
        command_key: key.into(),
        file_type: "1 Firmware Upgrade Image".into(),
        url: url.into(),
        file_size: 1234,
        target_file_name: "fw.bin".into(),
        ..Download::default()
    }
}

#[test]
fn download_is_queued_with_unknown_times() {
    let t = template();
    let mut d = device(1);
    let req = download("dl-1", "http://files.example/fw.bin");
    let a = apply(&t, &mut d, AcsRequest::Download(req.clone()));
    assert_eq!(a.effects, vec![Effect::Download(req)]);
    assert_eq!(
        response(a),
        CpeResponse::DownloadResponse(DownloadResponse {
            status: 1,
            start_time: DateTime::UNKNOWN,
            complete_time: DateTime::UNKNOWN,
        })
    );
    assert_eq!(
        response(apply(&t, &mut d, AcsRequest::GetQueuedTransfers)),
        CpeResponse::GetQueuedTransfersResponse(GetQueuedTransfersResponse {
            transfer_list: vec![QueuedTransferStruct {
                command_key: "dl-1".into(),
                state: 1
            }]
        })
    );
    let CpeResponse::GetAllQueuedTransfersResponse(all) =
        response(apply(&t, &mut d, AcsRequest::GetAllQueuedTransfers))
    else {
        panic!()
    };
    assert_eq!(
        all.transfer_list,
        vec![AllQueuedTransferStruct {
            command_key: "dl-1".into(),
            state: 1,
            is_download: true,
            file_type: "1 Firmware Upgrade Image".into(),
            file_size: 1234,
            target_file_name: "fw.bin".into(),
        }]
    );
    assert!(d.transfer_started("dl-1"));
    assert_eq!(d.transfers()[0].state, 2);
    assert_eq!(d.transfer_finished("dl-1").map(|t| t.state), Some(2));
    assert!(d.delta().is_none(), "an emptied queue frees the delta");
}

#[test]
fn a_finished_transfer_leaves_no_memory_behind() {
    // A device keeps its delta once anything is written; the transfer queue it emptied must
    // not keep its capacity. It did: 352 B per upgraded device after a firmware wave, read as
    // RSS drift by the soak (issue #13).
    let t = template();
    let mut d = device(1);
    apply(
        &t,
        &mut d,
        spv(
            &[("Device.WiFi.SSID.2.SSID", "guest", Some(XsdType::String))],
            "key-1",
        ),
    );
    let before = d.heap_bytes();
    assert!(before > 0);
    let req = download("dl-1", "http://files.example/fw.bin");
    apply(&t, &mut d, AcsRequest::Download(req));
    assert!(d.heap_bytes() > before);
    assert!(d.transfer_started("dl-1"));
    assert!(d.transfer_finished("dl-1").is_some());
    assert!(d.delta().is_some(), "the written SSID keeps the delta");
    assert_eq!(d.heap_bytes(), before);
}

#[test]
fn download_faults() {
    let t = template();
    let mut d = device(1);
    let f = fault(apply(
        &t,
        &mut d,
        AcsRequest::Download(download("k", "ftp://x/fw")),
    ));
    assert_eq!(f.code, 9013);
    let f = fault(apply(
        &t,
        &mut d,
        AcsRequest::Download(download("k", "not a url")),
    ));
    // Not a URL at all is an invalid argument; a URL of another protocol is 9013.
    assert_eq!(f.code, 9003);
    for i in 0..16 {
        response(apply(
            &t,
            &mut d,
            AcsRequest::Download(download(&format!("k{i}"), "HTTPS://x/fw")),
        ));
    }
    let f = fault(apply(
        &t,
        &mut d,
        AcsRequest::Download(download("k16", "http://x/fw")),
    ));
    assert_eq!(f.code, 9004);
    assert_eq!(d.transfers().len(), 16);
}

#[test]
fn upload_and_schedule_download() {
    let t = template();
    let mut d = device(1);
    let up = Upload {
        command_key: "up".into(),
        file_type: "2 Vendor Log File".into(),
        url: "http://x/log".into(),
        ..Upload::default()
    };
    let a = apply(&t, &mut d, AcsRequest::Upload(up.clone()));
    assert_eq!(a.effects, vec![Effect::Upload(up)]);
    let CpeResponse::UploadResponse(r) = response(a) else {
        panic!()
    };
    assert_eq!((r.status, r.start_time), (1, DateTime::UNKNOWN));
    let window = TimeWindowStruct {
        window_start: 0,
        window_end: 3600,
        window_mode: "1 At Any Time".into(),
        user_message: String::new(),
        max_retries: 0,
    };
    let sd = ScheduleDownload {
        command_key: "sd".into(),
        file_type: "1 Firmware Upgrade Image".into(),
        url: "http://x/fw".into(),
        time_window_list: vec![window.clone()],
        ..ScheduleDownload::default()
    };
    let a = apply(&t, &mut d, AcsRequest::ScheduleDownload(sd.clone()));
    assert_eq!(a.effects, vec![Effect::ScheduleDownload(sd.clone())]);
    assert_eq!(response(a), CpeResponse::ScheduleDownloadResponse);
    let none = ScheduleDownload {
        time_window_list: vec![],
        ..sd.clone()
    };
    assert_eq!(
        fault(apply(&t, &mut d, AcsRequest::ScheduleDownload(none))).code,
        9003
    );
    let three = ScheduleDownload {
        time_window_list: vec![window.clone(), window.clone(), window],
        ..sd
    };
    assert_eq!(
        fault(apply(&t, &mut d, AcsRequest::ScheduleDownload(three))).code,
        9003
    );
    let keys: Vec<String> = d
        .transfers()
        .iter()
        .map(|t| t.command_key.clone())
        .collect();
    assert_eq!(keys, ["up", "sd"]);
}

#[test]
fn cancel_transfer() {
    let t = template();
    let mut d = device(1);
    let cancel = |k: &str| {
        AcsRequest::CancelTransfer(CancelTransfer {
            command_key: k.into(),
        })
    };
    assert_eq!(fault(apply(&t, &mut d, cancel("none"))).code, 9003);
    response(apply(
        &t,
        &mut d,
        AcsRequest::Download(download("a", "http://x/a")),
    ));
    response(apply(
        &t,
        &mut d,
        AcsRequest::Download(download("b", "http://x/b")),
    ));
    d.transfer_started("b");
    assert_eq!(fault(apply(&t, &mut d, cancel("b"))).code, 9021);
    let a = apply(&t, &mut d, cancel("a"));
    assert_eq!(
        a.effects,
        vec![Effect::CancelTransfer {
            command_key: "a".into()
        }]
    );
    assert_eq!(response(a), CpeResponse::CancelTransferResponse);
    let keys: Vec<&str> = d
        .transfers()
        .iter()
        .map(|t| t.command_key.as_str())
        .collect();
    assert_eq!(keys, ["b"]);
}

// === Inform, value changes, identity ===

#[test]
fn inform_carries_identity_and_forced_parameters() {
    let t = template();
    let mut d = device(42);
    let view = DeviceView::new(&t, &mut d, &env());
    let events = vec![EventStruct::new(EventCode::Boot, "")];
    let inform = view.inform(events.clone(), 2);
    assert_eq!(
        inform.device_id,
        DeviceIdStruct {
            manufacturer: "cpefleet".into(),
            oui: "0A1B2C".into(),
            product_class: "SIM1".into(),
            serial_number: "CPF00000042".into(),
        }
    );
    assert_eq!(inform.events, events);
    assert_eq!((inform.max_envelopes, inform.retry_count), (1, 2));
    assert_eq!(inform.current_time, DateTime::from_unix_ms(NOW_MS));
    let names: Vec<&str> = inform
        .parameter_list
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Device.RootDataModelVersion",
            "Device.DeviceInfo.HardwareVersion",
            "Device.DeviceInfo.ProvisioningCode",
            "Device.DeviceInfo.SoftwareVersion",
            "Device.ManagementServer.ConnectionRequestURL",
            "Device.ManagementServer.ParameterKey",
        ]
    );
    assert_eq!(
        inform.parameter_list[4].value,
        "http://127.0.0.1:7548/cr/42"
    );
    assert_eq!(view.cr_path(), "cr/42");
}

#[test]
fn local_changes_notify_per_attributes() {
    let t = template();
    let mut d = device(1);
    let mut view = DeviceView::new(&t, &mut d, &env());
    // notification 0: nothing to report
    assert_eq!(view.set_local("Device.WiFi.SSID.1.Enable", "0"), Ok(false));
    // passive
    assert_eq!(
        view.set_local("Device.WiFi.SSID.1.Channel", "11"),
        Ok(false)
    );
    // unchanged value: nothing new
    assert_eq!(view.set_local("Device.WiFi.SSID.2.Channel", "6"), Ok(false));
    let inform = view.inform(vec![], 0);
    let extra: Vec<(&str, &str)> = inform.parameter_list[6..]
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(extra, [("Device.WiFi.SSID.1.Channel", "11")]);
    // active
    assert_eq!(view.set_local("Device.WiFi.SSID.2.SSID", "x"), Ok(true));
    assert_eq!(view.set_local("Device.WiFi.SSID.2.SSID", "y"), Ok(true));
    // forced active and forced inform: listed once
    assert_eq!(
        view.set_local("Device.DeviceInfo.ProvisioningCode", "p1"),
        Ok(true)
    );
    let inform = view.inform(vec![], 0);
    let names: Vec<&str> = inform
        .parameter_list
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names.len(), 8);
    assert_eq!(
        names
            .iter()
            .filter(|n| n.ends_with("ProvisioningCode"))
            .count(),
        1
    );
    assert_eq!(inform.parameter_list[7].name, "Device.WiFi.SSID.2.SSID");
    assert_eq!(inform.parameter_list[7].value, "y", "current value");
    view.informed();
    assert_eq!(view.inform(vec![], 0).parameter_list.len(), 6);
    assert!(!d.active_change_pending());
    assert!(!d.change_pending());
}

#[test]
fn local_change_faults() {
    let t = template();
    let mut d = device(1);
    let mut view = DeviceView::new(&t, &mut d, &env());
    assert_eq!(view.set_local("Device.Nope", "1").unwrap_err().code, 9005);
    assert_eq!(view.set_local("Device.WiFi.", "1").unwrap_err().code, 9005);
    assert_eq!(
        view.set_local("Device.WiFi.SSID.1.Channel", "x")
            .unwrap_err()
            .code,
        9007
    );
    assert!(d.delta().is_none());
}

#[test]
fn factory_reset_drops_everything() {
    let t = template();
    let mut d = device(1);
    response(apply(
        &t,
        &mut d,
        spv(&[("Device.WiFi.SSID.1.SSID", "z", None)], "k"),
    ));
    response(apply(&t, &mut d, add("Device.WiFi.SSID.", "k")));
    response(apply(
        &t,
        &mut d,
        spa("Device.WiFi.SSID.1.Enable", Some(2), None),
    ));
    let mut view = DeviceView::new(&t, &mut d, &env());
    view.set_local("Device.WiFi.SSID.2.SSID", "q").unwrap();
    view.factory_reset();
    assert!(d.delta().is_none());
    assert!(!d.active_change_pending());
    assert_eq!(
        value(&t, &mut d, "Device.ManagementServer.ParameterKey"),
        ""
    );
    assert_eq!(value(&t, &mut d, "Device.WiFi.SSID.1.SSID"), "main");
    assert_eq!(value(&t, &mut d, "Device.WiFi.SSIDNumberOfEntries"), "2");
}

#[test]
fn uptime_follows_the_boot_time() {
    let t = template();
    let mut d = device(1);
    assert_eq!(value(&t, &mut d, "Device.DeviceInfo.UpTime"), "3600");
    d.set_boot_time(DateTime::from_unix_ms(NOW_MS - 5_000));
    assert_eq!(value(&t, &mut d, "Device.DeviceInfo.UpTime"), "5");
}

#[test]
fn igd_root_identity() {
    let src = "name: igd
root: InternetGatewayDevice.
objects:
  InternetGatewayDevice.DeviceInfo.:
    parameters:
      Manufacturer: { type: string, value: Acme }
      ManufacturerOUI: { type: string, value: 00D09E }
      ProductClass: { type: string, value: \"\" }
      SerialNumber: { type: string, gen: { pattern: \"{oui}{index:X6}\" } }
";
    let t = Template::from_yaml_str(src, "igd").unwrap();
    let mut d = device(255);
    let view = DeviceView::new(&t, &mut d, &env());
    let id = view.device_id();
    assert_eq!(
        (
            id.manufacturer.as_str(),
            id.oui.as_str(),
            id.product_class.as_str(),
            id.serial_number.as_str()
        ),
        ("Acme", "00D09E", "", "00D09E0000FF")
    );
}
