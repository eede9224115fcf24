//! A device's ACS-request handlers: NUL-separated ACS messages are decoded and applied in
//! turn to one device of a shipped template (so AddObject, then SetParameterValues on the new
//! instance, then GetParameterValues reach the delta paths), and every answer is encoded the
//! way the session layer does. Each answer must encode to a decodable, stable message, and
//! any fault must carry a valid CPE FaultCode.
#![no_main]
use cpefleet::cwmp::{decode_acs, AcsMessage, CpeMessage, DateTime, Envelope, Header};
use cpefleet::device::{Device, DeviceView, Env};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let templates = cpefleet_fuzz::templates();
    let which = cpefleet_fuzz::pick(data, templates.len());
    let t = &templates[which];
    let mut device = Device::with_template(7, which as u16);
    let env = Env {
        seed: 42,
        now: DateTime::from_unix_ms(1_764_000_000_000),
        cr_url_base: "http://127.0.0.1:7548",
        udp: None,
    };
    for msg in cpefleet_fuzz::messages(data).take(16) {
        let Ok(req) = decode_acs(msg) else { continue };
        let AcsMessage::Request(rpc) = req.body else {
            continue;
        };
        let applied = DeviceView::new(t, &mut device, &env).apply(&rpc);
        if let CpeMessage::Fault(f) = &applied.message {
            cpefleet_fuzz::assert_cpe_fault(f);
        }
        let header = Header {
            id: req.header.id.clone(),
            ..Header::default()
        };
        let v = req.version.min(t.cwmp_version());
        cpefleet_fuzz::cpe_round_trip(&Envelope::new(v, header, applied.message));
    }
});
