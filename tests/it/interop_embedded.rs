//! The embedded ACS drives a real fleet over loopback through a device's whole managed life:
//! bootstrap discovery and provisioning, a connection request, a firmware download from the
//! ACS's file server with the reboot into the new version and its TransferComplete, and
//! periodic informs. The ACS's own view (its status store) must end as expected.

use std::time::Duration;

use cpefleet::acs;
use cpefleet::fleet::RunOptions;

use crate::support::embedded::Embedded;

const POLICY: &str = r#"
seed: interop
bootstrap:
  events: ["0 BOOTSTRAP"]
  discover: true
  next_level_depth: 1
  gpv_batch: 32
  connection_request_credentials: true
  periodic_inform: { enable: true, interval: 300 }
firmware_wave:
  file: fw-2.0.bin
  size: 64KiB
  file_type: "1 Firmware Upgrade Image"
  share: 100%
  rate: 50
  start_after: 2
  events: ["6 CONNECTION REQUEST"]
  skip_version: "2.0"
connection_requests:
  rate: 50
  share: 100%
  start_after: 2
  interval: 0
  timeout: 2
"#;

const DEVICES: usize = 8;

/// Every device's life has a session with each of these events.
const EVENTS: [&str; 6] = [
    "0 BOOTSTRAP",
    "1 BOOT",
    "6 CONNECTION REQUEST",
    "7 TRANSFER COMPLETE",
    "M Download",
    "2 PERIODIC",
];

/// Every part of the managed life the test checks has happened, as the ACS saw it: the run
/// ends on this rather than after a fixed time, which a loaded machine may not reach it in.
fn managed_life_done(acs: &acs::AcsHandle) -> bool {
    let status = acs.status();
    let events_seen = EVENTS
        .iter()
        .all(|e| status.events.get(*e).copied().unwrap_or(0) >= DEVICES as u64);
    events_seen
        && status.firmware_wave.succeeded == DEVICES as u64
        && (0..DEVICES).all(|i| {
            acs.device(&format!("00D09E-HGW181-CPF{i:08}"))
                .is_some_and(|d| d.informs >= 4 && d.connection_requests.ok >= 1)
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_acs_drives_the_fleet_through_a_managed_life() {
    let e = Embedded::start(POLICY, |gateway| {
        format!(
            "name: interop
seed: 4
time_scale: 60
duration: 120s
fleet:
  max_sessions: 64
  groups:
    - name: gw
      template: {gateway}
      count: {DEVICES}
      reboot_time: 30s
      downloads: {{ apply_delay: 5s }}
phases:
  - boot: {{ over: 1s }}
  - steady: {{ for: 119s }}
"
        )
    })
    .await;
    let acs = &e.acs;
    let opts = RunOptions {
        shards: Some(2),
        grace: Duration::from_secs(5),
        ..RunOptions::default()
    };
    // The run ends once the ACS has seen the whole life (normally within about 10 s), at the
    // latest after the scenario's 120 s.
    let result = e.run_until(&opts, || managed_life_done(acs)).await;

    // The fleet's side: nothing failed, every kind of session happened.
    let st = &result.stats;
    let status = acs.status();
    // What both sides saw, for any failure below.
    let seen = format!(
        "ACS: CRs {:?}, events {:?}, wave {:?}; fleet: events {:?}, CRs {:?}",
        status.connection_requests,
        status.events,
        status.firmware_wave,
        st.events,
        cpefleet::cr::CrResult::ALL
            .iter()
            .map(|r| (r.label(), result.cr.get(*r)))
            .collect::<Vec<_>>()
    );
    assert_eq!(st.sessions.failed, 0, "{:?}", st.errors);
    assert_eq!(
        st.sessions.started,
        st.sessions.succeeded + st.sessions.cancelled
    );
    // The protocol checks ran on every session of the load run, and the embedded ACS passes.
    assert!(!st.checks.any_failed(), "{}", st.checks.to_json());
    assert!(st.checks.passed(cpefleet::conformance::Check::MaxEnvelopes) >= st.sessions.succeeded);
    for event in EVENTS {
        let n = st.events.get(event).copied().unwrap_or(0);
        assert!(n >= DEVICES as u64, "{event}: {n} sessions; {seen}");
    }

    // The ACS's side.
    assert_eq!(status.devices.known, DEVICES);
    assert_eq!(
        status.firmware_wave.succeeded, DEVICES as u64,
        "{:?}",
        status.firmware_wave
    );
    assert_eq!(status.firmware_wave.failed, 0);
    assert_eq!(acs.files().download_count(), DEVICES as u64);
    for i in 0..DEVICES {
        let id = format!("00D09E-HGW181-CPF{i:08}");
        let d = acs
            .device(&id)
            .unwrap_or_else(|| panic!("{id} unknown to the ACS"));
        assert!(
            d.tasks
                .iter()
                .any(|t| t.task == "discovery" && t.result == "ok"),
            "{id}: discovery {:?}",
            d.tasks
        );
        assert!(
            d.parameters.len() > 1000,
            "{id}: learnt {} values",
            d.parameters.len()
        );
        assert_eq!(
            d.cr_username.as_deref(),
            Some(id.as_str()),
            "CR credentials provisioned"
        );
        assert!(
            d.connection_requests.ok >= 1,
            "{id}: {:?}",
            d.connection_requests
        );
        let fw = d.firmware.as_ref().expect("in the wave");
        assert_eq!(fw.result, "ok", "{id}: {fw:?}");
        let tc = d
            .transfers
            .iter()
            .find(|t| t.command_key == fw.command_key)
            .expect("TransferComplete matched by CommandKey");
        assert_eq!(tc.fault_code, 0);
        assert_eq!(
            d.parameters
                .get("Device.DeviceInfo.SoftwareVersion")
                .map(|p| p.value.as_str()),
            Some("2.0"),
            "{id} rebooted into the new firmware"
        );
        assert_eq!(
            d.parameters
                .get("Device.ManagementServer.PeriodicInformInterval")
                .map(|p| p.value.as_str()),
            Some("300")
        );
        assert!(d.informs >= 4, "{id}: {} informs", d.informs);
    }
}
