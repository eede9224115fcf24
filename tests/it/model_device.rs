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
