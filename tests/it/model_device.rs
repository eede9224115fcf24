//! The device API as other modules use it: many devices over one shared template, reads
//! that allocate nothing per device, and a session-like sequence of RPCs.

use std::sync::Arc;

use cpefleet::cwmp::{
    AcsRequest, CpeMessage, CpeResponse, DateTime, EventCode, EventStruct, GetParameterValues,
    ParameterValueStruct, SetParameterValues,
};
use cpefleet::device::{Device, DeviceView, Effect, Env};
use cpefleet::model::{device_from_cr_path, Template};

const GATEWAY: &str = include_str!("fixtures/gateway.yaml");

fn env() -> Env<'static> {
    Env {
        seed: 99,
        now: DateTime::from_unix_ms(1_800_000_000_000),
        cr_url_base: "http://10.0.0.1:7548/",
        udp: None,
    }
}

#[test]
fn a_fleet_shares_one_template_and_idle_devices_hold_no_heap() {
    let t = Arc::new(Template::from_yaml_str(GATEWAY, "gateway.yaml").unwrap());
    let mut fleet: Vec<Device> = (0..1000).map(Device::new).collect();
    let mut serials = std::collections::HashSet::new();
    for d in &mut fleet {
        let view = DeviceView::new(&t, d, &env());
        let inform = view.inform(vec![EventStruct::new(EventCode::Bootstrap, "")], 0);
        serials.insert(inform.device_id.serial_number.clone());
        let url = &inform
            .parameter_list
            .iter()
            .find(|p| p.name == "Device.ManagementServer.ConnectionRequestURL")
            .unwrap()
            .value;
        let path = url.strip_prefix("http://10.0.0.1:7548/").unwrap();
        assert_eq!(device_from_cr_path(path), Some(d.index()));
    }
    assert_eq!(serials.len(), 1000);
    assert!(fleet
        .iter()
        .all(|d| d.delta().is_none() && d.heap_bytes() == 0));
}

#[test]
fn a_session_of_rpcs() {
    let t = Template::from_yaml_str(GATEWAY, "gateway.yaml").unwrap();
    let mut d = Device::new(5);
    let e = env();
    let mut view = DeviceView::new(&t, &mut d, &e);
    let a = view.apply(&AcsRequest::SetParameterValues(SetParameterValues {
        parameter_list: vec![ParameterValueStruct {
            name: "Device.ManagementServer.PeriodicInformInterval".into(),
            value: "60".into(),
            kind: None,
        }],
        parameter_key: "p1".into(),
    }));
    assert_eq!(a.effects, vec![Effect::PeriodicInformChanged]);
    let a = view.apply(&AcsRequest::GetParameterValues(GetParameterValues {
        parameter_names: vec![
            "Device.ManagementServer.PeriodicInformInterval".into(),
            "Device.ManagementServer.ParameterKey".into(),
        ],
    }));
    let CpeMessage::Response(CpeResponse::GetParameterValuesResponse(r)) = a.message else {
        panic!("{:?}", a.message)
    };
    let values: Vec<&str> = r.parameter_list.iter().map(|p| p.value.as_str()).collect();
    assert_eq!(values, ["60", "p1"]);
    assert!(d.heap_bytes() > 0);
}

/// A STUN binding (TR-069 Annex G) costs a device no heap when the fleet's address table takes
/// it: the three parameters read from the device's binding byte; a change is notified per the
/// attributes the ACS set (active: a `4 VALUE CHANGE` is due), and a value the ACS wrote wins.
#[test]
fn a_stun_binding_is_read_from_the_device_byte_and_notified() {
    use cpefleet::cwmp::{SetParameterAttributes, SetParameterAttributesStruct};
    use cpefleet::device::binding::PublicAddrs;
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml");
    let t = Template::load(&path).unwrap();
    let table = PublicAddrs::default();
    let fleet = Env {
        udp: Some(&table),
        ..env()
    };
    let ms = "Device.ManagementServer.";
    let get = |d: &mut Device, name: &str| {
        DeviceView::new(&t, d, &fleet)
            .get(&format!("{ms}{name}"))
            .map(|p| p.value)
            .unwrap()
    };
    let a: std::net::SocketAddr = "127.0.0.1:40001".parse().unwrap();
    let b: std::net::SocketAddr = "127.0.0.1:40002".parse().unwrap();
    let mut d = Device::new(3);
    assert_eq!(get(&mut d, "UDPConnectionRequestAddress"), "");
    assert!(!DeviceView::new(&t, &mut d, &fleet).stun_binding(a, true));
    assert_eq!(
        get(&mut d, "UDPConnectionRequestAddress"),
        "127.0.0.1:40001"
    );
    assert_eq!(get(&mut d, "NATDetected"), "true");
    assert_eq!(get(&mut d, "STUNEnable"), "true");
    assert_eq!(d.heap_bytes(), 0, "no delta for a binding");
    assert!(!d.change_pending(), "no notification asked for");
    // The ACS asks for active notification of the address: the next change is due at once.
    let spa = AcsRequest::SetParameterAttributes(SetParameterAttributes {
        parameter_list: vec![SetParameterAttributesStruct {
            name: format!("{ms}UDPConnectionRequestAddress"),
            notification_change: true,
            notification: Some(2),
            access_list_change: false,
            access_list: vec![],
        }],
    });
    DeviceView::new(&t, &mut d, &fleet).apply(&spa);
    assert!(DeviceView::new(&t, &mut d, &fleet).stun_binding(b, true));
    let inform = DeviceView::new(&t, &mut d, &fleet).inform(vec![], 0);
    let reported = inform
        .parameter_list
        .iter()
        .find(|p| p.name == format!("{ms}UDPConnectionRequestAddress"))
        .map(|p| p.value.clone());
    assert_eq!(reported.as_deref(), Some("127.0.0.1:40002"));
    // STUNEnable written by the ACS wins over the binding's.
    let spv = AcsRequest::SetParameterValues(SetParameterValues {
        parameter_list: vec![ParameterValueStruct::new(
            format!("{ms}STUNEnable"),
            "false",
            cpefleet::cwmp::XsdType::Boolean,
        )],
        parameter_key: String::new(),
    });
    DeviceView::new(&t, &mut d, &fleet).apply(&spv);
    assert_eq!(get(&mut d, "STUNEnable"), "false");
    // Without the fleet's table the binding is written as values (same reads).
    let mut e = Device::new(4);
    assert!(!DeviceView::new(&t, &mut e, &env()).stun_binding(a, false));
    assert_eq!(
        get(&mut e, "UDPConnectionRequestAddress"),
        "127.0.0.1:40001"
    );
    assert_eq!(get(&mut e, "NATDetected"), "false");
    assert!(e.heap_bytes() > 0);
}
