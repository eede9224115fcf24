//! A minimal scripted device for session tests: a fixed Inform, GPV answered with "v" per
//! name, anything else fault 9000, CPE requests from a queue.

use std::collections::VecDeque;

use cpefleet::cwmp::{
    AcsRequest, AcsResponse, CpeMessage, CpeRequest, CpeResponse, DateTime, DeviceIdStruct,
    EventCode, EventStruct, Fault, GetParameterValuesResponse, Inform, ParameterValueStruct,
    XsdType,
};
use cpefleet::session::SessionDevice;

/// A minimal device: answers GPV with "v" per name, anything else with fault 9000.
#[derive(Default)]
pub struct TestDevice {
    pub acked: bool,
    pub requests: VecDeque<CpeRequest>,
    pub answered: Vec<(String, Result<String, u32>)>,
    pub applied: Vec<String>,
}

impl SessionDevice for TestDevice {
    fn inform(&mut self) -> Inform {
        Inform {
            device_id: DeviceIdStruct {
                manufacturer: "cpefleet".into(),
                oui: "00D09E".into(),
                product_class: "HGW181".into(),
                serial_number: "CPF00000001".into(),
            },
            events: vec![EventStruct {
                code: EventCode::Boot,
                command_key: String::new(),
            }],
            max_envelopes: 1,
            current_time: DateTime::from_unix_ms(1_700_000_000_000),
            retry_count: 0,
            parameter_list: vec![ParameterValueStruct {
                name: "Device.DeviceInfo.SoftwareVersion".into(),
                value: "1.0".into(),
                kind: Some(XsdType::String),
            }],
        }
    }
    fn inform_acknowledged(&mut self) {
        self.acked = true;
    }
    fn next_request(&mut self) -> Option<CpeRequest> {
        self.requests.pop_front()
    }
    fn has_request(&self) -> bool {
        !self.requests.is_empty()
    }
    fn request_answered(&mut self, req: &CpeRequest, answer: Result<&AcsResponse, &Fault>) {
        self.answered.push((
            req.name().to_string(),
            answer.map(|r| r.name().to_string()).map_err(|f| f.code),
        ));
    }
    fn apply(&mut self, req: &AcsRequest) -> CpeMessage {
        self.applied.push(req.name().to_string());
        match req {
            AcsRequest::GetParameterValues(g) => CpeMessage::Response(
                CpeResponse::GetParameterValuesResponse(GetParameterValuesResponse {
                    parameter_list: g
                        .parameter_names
                        .iter()
                        .map(|n| ParameterValueStruct {
                            name: n.clone(),
                            value: "v".into(),
                            kind: Some(XsdType::String),
                        })
                        .collect(),
                }),
            ),
            _ => CpeMessage::Fault(Fault::new(9000)),
        }
    }
}
