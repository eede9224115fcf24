//! Every parseable request gets an answer (TR-069 A.5): an RPC whose arguments are wrong draws
//! the spec's fault — 9003 (invalid arguments), 9005 (invalid parameter name), 9007 (invalid
//! value), 9013 (unsupported protocol) … — changes nothing, and the session goes on. First RPC
//! by RPC on the TR-181 gateway; then through real sessions against the embedded ACS, whose
//! policy sends the same wrong requests and then one right one in the same session.

use std::path::Path;
use std::time::Duration;

use cpefleet::cwmp::*;
use cpefleet::device::{Device, DeviceView, Env};
use cpefleet::fleet::RunOptions;
use cpefleet::model::Template;

use crate::support::embedded::Embedded;

fn gateway() -> Template {
    Template::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml"))
        .unwrap()
}

fn spv(name: &str, value: &str, kind: XsdType, key: &str) -> AcsRequest {
    AcsRequest::SetParameterValues(SetParameterValues {
        parameter_list: vec![ParameterValueStruct::new(name, value, kind)],
        parameter_key: key.into(),
    })
}

fn download(file_type: &str, url: &str) -> AcsRequest {
    AcsRequest::Download(Download {
        command_key: "k".into(),
        file_type: file_type.into(),
        url: url.into(),
        ..Download::default()
    })
}

fn window(start: u32, end: u32, mode: &str) -> TimeWindowStruct {
    TimeWindowStruct {
        window_start: start,
        window_end: end,
        window_mode: mode.into(),
        user_message: String::new(),
        max_retries: -1,
    }
}

fn schedule(windows: Vec<TimeWindowStruct>, file_type: &str) -> AcsRequest {
    AcsRequest::ScheduleDownload(ScheduleDownload {
        command_key: "sd".into(),
        file_type: file_type.into(),
        url: "http://acs.example/fw.bin".into(),
        time_window_list: windows,
        ..ScheduleDownload::default()
    })
}

fn cdu(op: DuOperation) -> AcsRequest {
    AcsRequest::ChangeDUState(ChangeDUState {
        operations: vec![op],
        command_key: "c".into(),
    })
}

/// (what is wrong, the request, the fault code, the per-parameter code of a 9003 from SPV).
fn wrong() -> Vec<(&'static str, AcsRequest, u32, Option<u32>)> {
    let long = "k".repeat(33);
    let diag = "Device.IP.Diagnostics.IPPing.DiagnosticsState";
    vec![
        (
            "SPV unknown name",
            spv("Device.No.Such", "1", XsdType::String, "k"),
            9003,
            Some(9005),
        ),
        (
            "SPV wrong type",
            spv(
                "Device.ManagementServer.PeriodicInformInterval",
                "60",
                XsdType::String,
                "k",
            ),
            9003,
            Some(9006),
        ),
        (
            "SPV value out of range",
            spv(
                "Device.ManagementServer.PeriodicInformInterval",
                "0",
                XsdType::UnsignedInt,
                "k",
            ),
            9003,
            Some(9007),
        ),
        (
            "SPV a read-only DiagnosticsState value",
            spv(diag, "Complete", XsdType::String, "k"),
            9003,
            Some(9007),
        ),
        (
            "SPV a read-only parameter",
            spv(
                "Device.DeviceInfo.SoftwareVersion",
                "9",
                XsdType::String,
                "k",
            ),
            9003,
            Some(9008),
        ),
        (
            "SPV ParameterKey over 32",
            spv(
                "Device.ManagementServer.PeriodicInformInterval",
                "60",
                XsdType::UnsignedInt,
                &long,
            ),
            9003,
            None,
        ),
        (
            "GPV unknown name",
            AcsRequest::GetParameterValues(GetParameterValues {
                parameter_names: vec!["Device.DeviceInfo.NoSuch".into()],
            }),
            9005,
            None,
        ),
        (
            "GPN a parameter with NextLevel",
            AcsRequest::GetParameterNames(GetParameterNames {
                parameter_path: "Device.DeviceInfo.SoftwareVersion".into(),
                next_level: true,
            }),
            9003,
            None,
        ),
        (
            "SPA a notification not offered",
            AcsRequest::SetParameterAttributes(SetParameterAttributes {
                parameter_list: vec![SetParameterAttributesStruct {
                    name: "Device.DeviceInfo.SoftwareVersion".into(),
                    notification_change: true,
                    notification: Some(5),
                    access_list_change: false,
                    access_list: vec![],
                }],
            }),
            9003,
            None,
        ),
        (
            "AddObject on a single object",
            AcsRequest::AddObject(AddObject {
                object_name: "Device.DeviceInfo.".into(),
                parameter_key: "k".into(),
            }),
            9005,
            None,
        ),
        (
            "DeleteObject of no instance",
            AcsRequest::DeleteObject(DeleteObject {
                object_name: "Device.IP.Interface.99.".into(),
                parameter_key: "k".into(),
            }),
            9005,
            None,
        ),
        (
            "Reboot CommandKey over 32",
            AcsRequest::Reboot(Reboot {
                command_key: long.clone(),
            }),
            9003,
            None,
        ),
        (
            "Download unknown FileType",
            download("9 Nonsense", "http://acs.example/f"),
            9003,
            None,
        ),
        (
            "Download without a URL",
            download("1 Firmware Upgrade Image", ""),
            9003,
            None,
        ),
        (
            "Download over FTP",
            download("1 Firmware Upgrade Image", "ftp://acs.example/f"),
            9013,
            None,
        ),
        (
            "Upload a download FileType",
            AcsRequest::Upload(Upload {
                command_key: "u".into(),
                file_type: "1 Firmware Upgrade Image".into(),
                url: "http://acs.example/up".into(),
                ..Upload::default()
            }),
            9003,
            None,
        ),
        (
            "ScheduleInform in 0 s",
            AcsRequest::ScheduleInform(ScheduleInform {
                delay_seconds: 0,
                command_key: "s".into(),
            }),
            9003,
            None,
        ),
        (
            "ScheduleDownload without windows",
            schedule(vec![], "1 Firmware Upgrade Image"),
            9003,
            None,
        ),
        (
            "ScheduleDownload overlapping windows",
            schedule(
                vec![
                    window(0, 600, "1 At Any Time"),
                    window(300, 900, "1 At Any Time"),
                ],
                "1 Firmware Upgrade Image",
            ),
            9003,
            None,
        ),
        (
            "ScheduleDownload unknown mode",
            schedule(
                vec![window(0, 600, "5 Whenever")],
                "1 Firmware Upgrade Image",
            ),
            9003,
            None,
        ),
        (
            "ScheduleDownload unknown FileType",
            schedule(vec![window(0, 600, "2 Immediately")], "Firmware"),
            9003,
            None,
        ),
        (
            "CancelTransfer of nothing queued",
            AcsRequest::CancelTransfer(CancelTransfer {
                command_key: "none".into(),
            }),
            9003,
            None,
        ),
        (
            "ChangeDUState Install without a URL",
            cdu(DuOperation::Install {
                url: String::new(),
                uuid: String::new(),
                username: String::new(),
                password: String::new(),
                execution_env_ref: String::new(),
            }),
            9003,
            None,
        ),
        (
            "ChangeDUState Uninstall without a UUID",
            cdu(DuOperation::Uninstall {
                uuid: String::new(),
                version: String::new(),
                execution_env_ref: String::new(),
            }),
            9003,
            None,
        ),
    ]
}

#[test]
fn each_rpc_with_wrong_arguments_draws_its_fault_and_changes_nothing() {
    let t = gateway();
    let mut d = Device::new(3);
    let env = Env {
        seed: 1,
        now: DateTime::from_unix_ms(1_800_000_000_000),
        cr_url_base: "http://127.0.0.1:7548",
        udp: None,
    };
    for (what, req, code, per_param) in wrong() {
        let a = DeviceView::new(&t, &mut d, &env).apply(&req);
        let CpeMessage::Fault(f) = a.message else {
            panic!("{what}: answered {:?}", a.message)
        };
        assert_eq!(f.code, code, "{what}");
        assert!(a.effects.is_empty(), "{what}: {:?}", a.effects);
        // 9013 (unsupported protocol) is the CPE's own limit: a Server fault (A.5).
        assert_eq!(f.is_client(), code != 9013, "{what}: who is to blame");
        let params: Vec<u32> = f
            .set_parameter_values_faults
            .iter()
            .map(|p| p.code)
            .collect();
        assert_eq!(params, per_param.into_iter().collect::<Vec<_>>(), "{what}");
        assert!(d.delta().is_none(), "{what}: a fault changes nothing");
    }
}

const POLICY: &str = r#"
seed: wrong
tasks:
  - name: wrong
    events: ["1 BOOT"]
    rpcs:
      - SetParameterValues: { "{root}IP.Diagnostics.IPPing.DiagnosticsState": Complete }
      - GetParameterValues: ["{root}DeviceInfo.NoSuch"]
      - GetParameterNames: { path: "{root}DeviceInfo.SoftwareVersion", next_level: true }
      - SetParameterAttributes: [{ name: "{root}DeviceInfo.SoftwareVersion", notification: 5 }]
      - AddObject: "{root}DeviceInfo."
      - DeleteObject: "{root}IP.Interface.99."
      - Reboot: { command_key: "a-command-key-of-forty-characters-long!!" }
      - Download: { url: "http://127.0.0.1:9/f", file_type: "9 Nonsense" }
      - Upload: { file_type: "1 Firmware Upgrade Image" }
      - ChangeDUState: [{ install: { url: "" } }]
      - GetParameterValues: ["{root}DeviceInfo.SoftwareVersion"]
"#;

/// The same wrong requests in one session from the embedded ACS: each answered with its fault,
/// the right one after them answered, and no session lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_requests_in_a_real_session_are_faulted_and_the_session_goes_on() {
    let e = Embedded::start(POLICY, |gateway| {
        format!(
            "name: wrong\nseed: 2\ntime_scale: 60\nduration: 3s\nfleet:\n  groups: [{{ name: g, template: {gateway}, count: 2, bootstrapped: true }}]\n"
        )
    })
    .await;
    let acs = &e.acs;
    let opts = RunOptions {
        shards: Some(1),
        grace: Duration::from_secs(5),
        ..RunOptions::default()
    };
    let result = e.run(&opts).await;
    let st = &result.stats;
    assert_eq!(st.sessions.failed, 0, "no session lost: {:?}", st.errors);
    assert!(st.sessions.succeeded >= 2);
    for i in 0..2 {
        let id = format!("00D09E-HGW181-CPF{i:08}");
        let d = acs.device(&id).unwrap_or_else(|| panic!("{id} unknown"));
        let got: Vec<(&str, Option<u32>)> = d
            .tasks
            .iter()
            .filter(|t| t.task == "wrong")
            .map(|t| (t.result, t.fault_code))
            .collect();
        let mut want: Vec<(&str, Option<u32>)> =
            [9003, 9005, 9003, 9003, 9005, 9005, 9003, 9003, 9003, 9003]
                .into_iter()
                .map(|c| ("fault", Some(c)))
                .collect();
        want.push(("ok", None));
        assert_eq!(got, want, "{id}: {:?}", d.tasks);
        let spv = d
            .tasks
            .iter()
            .find(|t| t.rpc == "SetParameterValues")
            .unwrap();
        assert_eq!(
            spv.parameter_faults,
            vec![(
                "Device.IP.Diagnostics.IPPing.DiagnosticsState".to_string(),
                9007
            )]
        );
        assert_eq!(d.last_session_outcome, Some("completed"), "{id}");
    }
}
