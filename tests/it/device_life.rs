//! A device's life over real sessions with the embedded ACS: every event-code path a CPE
//! produces — BOOTSTRAP, BOOT, PERIODIC, SCHEDULED with M ScheduleInform, VALUE CHANGE after
//! an active-notification change, DIAGNOSTICS COMPLETE, TRANSFER COMPLETE with M Upload, BOOT
//! with M Reboot, CONNECTION REQUEST, and BOOTSTRAP again after a factory reset.

use std::time::Duration;

use cpefleet::acs;
use cpefleet::fleet::RunOptions;

use crate::support::embedded::Embedded;

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

/// The events every device's life must show, and how many of each at least.
const LIFE: [(&str, u64); 10] = [
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
];

/// The ACS has seen every device's whole life: each event of [`LIFE`], a second BOOTSTRAP
/// for each factory reset it sent, the uploads and their TransferCompletes. The run ends on
/// this rather than after a fixed time a loaded machine may not fit the life in.
fn life_done(acs: &acs::AcsHandle) -> bool {
    let status = acs.status();
    let n = |e: &str| status.events.get(e).copied().unwrap_or(0);
    let resets = status.rpcs_sent.get("FactoryReset").copied().unwrap_or(0);
    LIFE.iter().all(|(e, at_least)| n(e) >= *at_least)
        && n("0 BOOTSTRAP") >= DEVICES + resets
        && acs.files().uploads().len() as u64 >= DEVICES
        && status.transfers.complete_ok >= DEVICES
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_code_path_over_real_sessions() {
    let e = Embedded::start(POLICY, |gateway| {
        format!(
            "name: life
seed: 8
time_scale: 60
duration: 120s
fleet:
  max_sessions: 64
  groups:
    - name: gw
      template: {gateway}
      count: {DEVICES}
      reboot_time: 30s
phases:
  - boot: {{ over: 1s }}
  - steady: {{ for: 3s }}
  - churn: {{ for: 116s, value_changes: 200/h, parameter: Device.WiFi.SSID.1.SSID }}
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
    // Normally over in about 10 s; at the latest after the scenario's 120 s.
    let r = e.run_until(&opts, || life_done(acs)).await;
    let st = &r.stats;
    assert_eq!(st.sessions.failed, 0, "{:?}", st.errors);
    let n = |e: &str| st.events.get(e).copied().unwrap_or(0);
    for (event, at_least) in LIFE {
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
}

/// A churn on a parameter whose notification is off produces no Inform: the changes are
/// counted as never notifiable (stats, JSON and text report), apart from delivered ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_that_cannot_be_notified_are_counted_apart() {
    let e = Embedded::start("seed: q\n", |gateway| {
        format!(
            "name: quiet-churn
seed: 3
time_scale: 60
duration: 6s
fleet:
  max_sessions: 16
  groups:
    - {{ name: gw, template: {gateway}, count: 5 }}
phases:
  - boot: {{ over: 1s }}
  - churn: {{ for: 5s, value_changes: 600/h, parameter: Device.WiFi.SSID.1.SSID }}
"
        )
    })
    .await;
    let r = e.run(&RunOptions::default()).await;
    e.cancel.cancel();
    let v = r.stats.value_changes;
    assert!(v.not_notified > 0, "{v:?}");
    assert_eq!((v.active, v.passive), (0, 0), "{v:?}");
    assert!(
        !r.stats.events.contains_key("4 VALUE CHANGE"),
        "{:?}",
        r.stats.events
    );
    let report = cpefleet::report::Report::from_run(&r, "quiet-churn");
    let text = cpefleet::report::text::render(&report);
    assert!(
        text.contains(&format!(
            "{} not notifiable (notification off",
            v.not_notified
        )),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["value_changes"]["not_notified"], v.not_notified);
}
