//! No event lost or duplicated (issue #13): the events a fleet counts are those of the Informs
//! it sent, so against an ACS that acknowledges every Inform the fleet's count and the ACS's
//! agree event code by event code. The life covers the readings that once disagreed: the Inform
//! after a firmware upgrade carries `4 VALUE CHANGE` for the new SoftwareVersion although the
//! device's pending events do not hold it; besides bootstrap, periodic informs, active value
//! changes, connection requests, the download's TransferComplete and its `M Download`.

use std::collections::BTreeMap;
use std::time::Duration;

use cpefleet::acs;
use cpefleet::fleet::RunOptions;

use crate::support::embedded::Embedded;

const POLICY: &str = r#"
seed: accounting
bootstrap:
  events: ["0 BOOTSTRAP"]
  discover: false
  connection_request_credentials: true
  periodic_inform: { enable: true, interval: 300 }
tasks:
  - name: notify-ssid
    events: ["0 BOOTSTRAP"]
    rpcs:
      - SetParameterAttributes:
          - { name: "{root}WiFi.SSID.1.SSID", notification: 2 }
firmware_wave:
  file: fw-2.0.bin
  size: 16KiB
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

const DEVICES: u64 = 6;

/// The life has happened as the ACS saw it: every device upgraded (its TransferComplete comes
/// in the session opened by the Inform after the reboot, so that Inform was acknowledged),
/// periodic informs and value changes from every device.
fn life_done(acs: &acs::AcsHandle) -> bool {
    let status = acs.status();
    let n = |e: &str| status.events.get(e).copied().unwrap_or(0);
    status.firmware_wave.succeeded == DEVICES
        && n("2 PERIODIC") >= DEVICES
        && n("4 VALUE CHANGE") >= 2 * DEVICES
}

/// The counts that are not zero, by event code.
fn nonzero(m: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    m.iter()
        .filter(|(_, n)| **n > 0)
        .map(|(e, n)| (e.clone(), *n))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_counts_the_events_the_acs_received() {
    let e = Embedded::start(POLICY, |gateway| {
        format!(
            "name: accounting
seed: 13
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
  - steady: {{ for: 2s }}
  - churn: {{ for: 117s, value_changes: 120/h, parameter: Device.WiFi.SSID.1.SSID }}
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
    // Normally over in about 10 s; at the latest after the scenario's 120 s. Every session the
    // fleet started has ended when the run returns (drained within the grace).
    let r = e.run_until(&opts, || life_done(acs)).await;
    let st = &r.stats;
    let status = acs.status();
    assert_eq!(
        status.firmware_wave.succeeded, DEVICES,
        "{:?}",
        status.firmware_wave
    );

    // Every attempt succeeded, so every Inform the fleet sent was acknowledged: the ACS
    // counted each exactly once, and so must the fleet.
    assert_eq!(st.sessions.failed, 0, "{:?}", st.errors);
    assert_eq!(
        st.sessions.started, st.sessions.succeeded,
        "no session cut off at the end"
    );
    let fleet = nonzero(&st.events);
    let acs_seen = nonzero(&status.events);
    for code in fleet.keys().chain(acs_seen.keys()) {
        assert_eq!(
            fleet.get(code),
            acs_seen.get(code),
            "{code}: fleet {fleet:?}, ACS {acs_seen:?}"
        );
    }
    // The life really had what the comparison is about.
    let n = |e: &str| fleet.get(e).copied().unwrap_or(0);
    assert!(n("2 PERIODIC") >= DEVICES, "{fleet:?}");
    assert!(n("4 VALUE CHANGE") >= 2 * DEVICES, "{fleet:?}");
    assert_eq!(n("M Download"), DEVICES, "{fleet:?}");
    assert_eq!(n("7 TRANSFER COMPLETE"), DEVICES, "{fleet:?}");

    // BOOTSTRAP exactly once per device, on both sides.
    assert_eq!(n("0 BOOTSTRAP"), DEVICES, "{fleet:?}");
    for i in 0..DEVICES {
        let id = format!("00D09E-HGW181-CPF{i:08}");
        let d = acs
            .device(&id)
            .unwrap_or_else(|| panic!("{id} unknown to the ACS"));
        assert_eq!(d.bootstraps, 1, "{id}: {:?}", d.last_events);
    }
}
