//! Unit tests of the store.

use super::*;
use crate::cr::CrTransport;

fn inform(id: &str, at: i64, values: Vec<(&str, &str)>) -> InformRecord {
    InformRecord {
        device_id: id.into(),
        manufacturer: "M".into(),
        oui: "00D09E".into(),
        product_class: "HGW".into(),
        serial_number: "S1".into(),
        cwmp_version: "1.0",
        root: "Device.".into(),
        at_ms: at,
        events: vec!["2 PERIODIC".into()],
        connection_request_url: Some("http://127.0.0.1:1/cr".into()),
        values: values
            .into_iter()
            .map(|(n, v)| (n.to_string(), v.to_string(), Some(XsdType::String)))
            .collect(),
    }
}

#[test]
fn event_codes_are_the_standard_ones() {
    let standard: Vec<&str> = crate::cwmp::EventCode::STANDARD
        .iter()
        .map(|e| e.as_str())
        .collect();
    assert_eq!(EVENT_CODES, standard.as_slice());
}

#[test]
fn delivered_events_and_bootstraps_are_counted_per_device() {
    let s = Store::default();
    s.inform_accepted(["0 BOOTSTRAP", "1 BOOT"]);
    s.inform_accepted(["2 PERIODIC", "X ACME Thing"]);
    let boot = |id: &str| InformRecord {
        events: vec!["0 BOOTSTRAP".into(), "1 BOOT".into()],
        ..inform(id, 1, vec![])
    };
    s.record_inform(boot("a"));
    s.record_inform(boot("b"));
    s.record_inform(inform("a", 2, vec![]));
    let st = s.snapshot();
    assert_eq!(
        (st.devices.bootstrapped, st.devices.bootstrapped_again),
        (2, 0)
    );
    s.record_inform(boot("a"));
    s.record_inform(boot("a"));
    let st = s.snapshot();
    assert_eq!(
        (st.devices.bootstrapped, st.devices.bootstrapped_again),
        (2, 1)
    );
    assert_eq!(s.device("a").map(|d| d.bootstraps), Some(3));
    let want: BTreeMap<String, u64> = [
        ("0 BOOTSTRAP", 1),
        ("1 BOOT", 1),
        ("2 PERIODIC", 1),
        ("other", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(st.events, want);
}

#[test]
fn devices_are_capped_and_counted() {
    let s = Store::new(StoreLimits {
        max_devices: 2,
        ..StoreLimits::default()
    });
    for (i, id) in ["a", "b", "c", "a"].iter().enumerate() {
        s.record_inform(inform(id, i as i64, vec![]));
    }
    assert_eq!(s.device_count(), 2);
    assert!(s.device("c").is_none());
    let a = s.device("a").unwrap();
    assert_eq!((a.informs, a.first_inform_ms, a.last_inform_ms), (2, 0, 3));
    assert_eq!(s.snapshot().devices.dropped, 1);
    assert_eq!(s.device_ids(1, 10), vec!["b".to_string()]);
}

#[test]
fn values_per_device_are_capped_and_keep_types() {
    let s = Store::new(StoreLimits {
        max_values_per_device: 2,
        ..StoreLimits::default()
    });
    s.record_inform(inform(
        "d",
        1,
        vec![("X.A", "1"), ("X.B", "2"), ("X.C", "3")],
    ));
    let d = s.device("d").unwrap();
    assert_eq!(d.parameters.len(), 2);
    assert_eq!(d.parameters_dropped, 1);
    s.finish_session(
        "d",
        SessionOutcome::Completed,
        SessionLog {
            values: vec![("X.A".into(), "9".into(), None)],
            ..SessionLog::default()
        },
    );
    let d = s.device("d").unwrap();
    assert_eq!(d.parameters["X.A"].value, "9");
    assert_eq!(d.parameters["X.A"].kind, Some("xsd:string"));
    assert_eq!(d.kind_of("X.A"), Some(XsdType::String));
    assert_eq!(d.last_session_outcome, Some("completed"));
}

#[test]
fn firmware_transfer_complete_settles_the_wave() {
    let s = Store::default();
    s.record_inform(inform("d", 1, vec![]));
    assert!(s.try_claim_wave_slot(1));
    assert!(!s.try_claim_wave_slot(1));
    s.finish_session(
        "d",
        SessionOutcome::Completed,
        SessionLog {
            firmware: Some(FirmwareState {
                command_key: "k1".into(),
                sent_ms: 2,
                result: "pending",
                fault_code: None,
            }),
            ..SessionLog::default()
        },
    );
    assert_eq!(s.device("d").unwrap().firmware.unwrap().result, "pending");
    let tc = |code: u32| TransferResult {
        command_key: "k1".into(),
        fault_code: code,
        fault_string: String::new(),
        start_time: String::new(),
        complete_time: String::new(),
        at_ms: 5,
    };
    s.finish_session(
        "d",
        SessionOutcome::Completed,
        SessionLog {
            transfers: vec![tc(9010)],
            ..SessionLog::default()
        },
    );
    let d = s.device("d").unwrap();
    assert_eq!(d.firmware.as_ref().unwrap().result, "failed");
    assert_eq!(d.firmware.as_ref().unwrap().fault_code, Some(9010));
    let snap = s.snapshot();
    assert_eq!(
        (snap.firmware_wave.started, snap.firmware_wave.failed),
        (1, 1)
    );
    // A repeated TransferComplete does not count twice.
    s.finish_session(
        "d",
        SessionOutcome::Completed,
        SessionLog {
            transfers: vec![tc(0)],
            ..SessionLog::default()
        },
    );
    assert_eq!(s.snapshot().firmware_wave.succeeded, 0);
    assert_eq!(s.device("d").unwrap().transfers.len(), 2);
}

#[test]
fn counters_snapshot_lists_non_zero_only() {
    let s = Store::default();
    s.rpc_sent("GetParameterValues");
    s.rpc_sent("GetParameterValues");
    s.rpc_sent("Download");
    s.rpc_sent("Bogus");
    s.cpe_fault(9005);
    s.rejected("invalid_session");
    s.session_started();
    s.session_ended(SessionOutcome::InvalidResponse);
    let snap = s.snapshot();
    assert_eq!(snap.rpcs_sent["GetParameterValues"], 2);
    assert_eq!(snap.rpcs_sent["other"], 1);
    assert!(!snap.rpcs_sent.contains_key("Reboot"));
    assert_eq!(snap.transfers.downloads_sent, 1);
    assert_eq!(snap.cpe_faults["9005"], 1);
    assert_eq!(snap.rejected["invalid_session"], 1);
    assert_eq!(snap.sessions.ended["invalid_response"], 1);
    assert_eq!(snap.sessions.active, 0);
    let json = serde_json::to_string(&snap).unwrap();
    assert!(json.contains("\"invalid_response\":1"), "{json}");
}

#[test]
fn cr_results_are_recorded_per_device() {
    let s = Store::default();
    s.record_inform(inform("d", 1, vec![]));
    s.cr_result("d", CrTransport::Http, "auth_failed", 10);
    s.cr_result("d", CrTransport::Xmpp, "ok", 11);
    let d = s.device("d").unwrap();
    assert_eq!(
        (d.connection_requests.sent, d.connection_requests.ok),
        (2, 1)
    );
    assert_eq!(d.connection_requests.last_result, Some("ok"));
    assert_eq!(s.cr_count("auth_failed"), 1);
    let by = s.snapshot().connection_requests_by_transport;
    assert_eq!((by["http"], by["xmpp"], by.get("udp")), (1, 1, None));
    // A UDP connection request has no answer: its datagrams leaving is its success.
    s.cr_result("d", CrTransport::Udp, "udp_sent", 12);
    let d = s.device("d").unwrap();
    assert_eq!(d.connection_requests.ok, 2);
    assert_eq!(s.cr_count("udp_sent"), 1);
    // The password is never serialised.
    let json = serde_json::to_string(&d).unwrap();
    assert!(!json.contains("cr_password"));
}
