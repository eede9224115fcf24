//! A device's life over real sessions with the embedded ACS: every event-code path a CPE
//! produces — BOOTSTRAP, BOOT, PERIODIC, SCHEDULED with M ScheduleInform, VALUE CHANGE after
//! an active-notification change, DIAGNOSTICS COMPLETE, TRANSFER COMPLETE with M Upload, BOOT
//! with M Reboot, CONNECTION REQUEST, and BOOTSTRAP again after a factory reset.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use cpefleet::acs::{self, AcsConfig, Policy};
use cpefleet::fleet::{self, RunOptions};
use cpefleet::scenario::{Overrides, Scenario};
use tokio_util::sync::CancellationToken;

const POLICY: &str = r#"
seed: life
bootstrap:
  events: ["0 BOOTSTRAP"]
  discover: false
  connection_request_credentials: true
  periodic_inform: { enable: true, interval: 300 }
tasks:
  - name: first-contact
    events: ["0 BOOTSTRAP"]
    rpcs:
      - SetParameterAttributes:
          - { name: "{root}WiFi.SSID.1.SSID", notification: 2 }
      - SetParameterValues:
          "{root}IP.Diagnostics.IPPing.Host": "127.0.0.1"
          "{root}IP.Diagnostics.IPPing.DiagnosticsState": "Requested"
      - ScheduleInform: { delay_seconds: 60, command_key: "si-{serial}" }
      - Upload: { file_type: "1 Vendor Configuration File" }
  - name: reboot-when-scheduled
    events: ["3 SCHEDULED"]
    rpcs:
      - Reboot: { command_key: "rb-{serial}" }
  - name: reset-half-after-reboot
    events: ["M Reboot"]
    share: 50%
    rpcs:
      - FactoryReset
connection_requests:
  rate: 100
  share: 100%
  start_after: 8
  interval: 0
  timeout: 2
"#;

const DEVICES: u64 = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_code_path_over_real_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml");
    let scenario = format!(
        "name: life
seed: 8
time_scale: 60
duration: 12s
fleet:
  max_sessions: 64
  groups:
    - name: gw
      template: {}
      count: {DEVICES}
      reboot_time: 30s
phases:
  - boot: {{ over: 1s }}
  - steady: {{ for: 3s }}
  - churn: {{ for: 8s, value_changes: 200/h, parameter: Device.WiFi.SSID.1.SSID }}
",
        template.display()
    );
    let path = dir.path().join("life.yaml");
    std::fs::write(&path, &scenario).unwrap();
    let s = Scenario::parse(&scenario, &path, &Overrides::default()).unwrap();
    let cancel = CancellationToken::new();
    let acs = acs::start(
        AcsConfig::new(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            Policy::parse(POLICY).unwrap(),
        ),
        cancel.clone(),
    )
    .await
    .unwrap();
    let opts = RunOptions {
        shards: Some(2),
        grace: Duration::from_secs(5),
        ..RunOptions::default()
    };
    let r = fleet::run(&s, &acs.url(), &opts, cancel.child_token())
        .await
        .unwrap();
    let st = &r.stats;
    assert_eq!(st.failed, 0, "{:?}", st.errors);
    let n = |e: &str| st.events.get(e).copied().unwrap_or(0);
    for (event, at_least) in [
        ("1 BOOT", 2 * DEVICES),
        ("3 SCHEDULED", DEVICES),
        ("M ScheduleInform", DEVICES),
        ("8 DIAGNOSTICS COMPLETE", DEVICES),
        ("7 TRANSFER COMPLETE", DEVICES),
        ("M Upload", DEVICES),
        ("M Reboot", DEVICES),
        ("6 CONNECTION REQUEST", DEVICES),
        ("4 VALUE CHANGE", DEVICES),
        ("2 PERIODIC", DEVICES),
    ] {
        assert!(
            n(event) >= at_least,
            "{event}: {} < {at_least}; {:?}",
            n(event),
            st.events
        );
    }
    // Half the devices were factory reset: they bootstrap a second time.
    let again = n("0 BOOTSTRAP") - DEVICES;
    assert!(
        (2..=8).contains(&again),
        "{again} re-bootstraps: {:?}",
        st.events
    );

    // The ACS saw the uploads, their TransferCompletes, and the diagnostics result.
    assert_eq!(acs.files().uploads().len() as u64, DEVICES);
    let status = acs.status();
    assert!(
        status.transfers.complete_ok >= DEVICES,
        "{:?}",
        status.transfers
    );
    cancel.cancel();
}
