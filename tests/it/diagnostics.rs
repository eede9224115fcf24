//! Diagnostics with results under tokio's paused clock (TR-143, TR-181 `IP.Diagnostics.`,
//! TR-098 `IPPingDiagnostics.` and friends): a requested test ends with `8 DIAGNOSTICS
//! COMPLETE`, and its results, drawn from the group's model and the run's seed, are what GPV
//! reads in that session; a new request restarts a test, `Canceled` stops it, a reboot ends it
//! in `Error_Internal` (or the model's nearest error state where its enum lacks that one).

use std::sync::Arc;

use cpefleet::cwmp::{
    AcsRequest, CpeMessage, CpeResponse, GetParameterValues, ParameterValueStruct, Reboot,
    ScheduleInform, SetParameterValues, XsdType,
};

use crate::support::script::{run_one, run_with_until, Script, Seen};

const MODEL: &str = "diagnostics: { latency: 30ms, jitter: 10ms, loss: 20%, hops: 5, download_size: 1MiB, upload_per_s: 1MiB, duration: 10s }";

fn spv(pairs: &[(&str, &str)]) -> AcsRequest {
    AcsRequest::SetParameterValues(SetParameterValues {
        parameter_list: pairs
            .iter()
            .map(|(n, v)| ParameterValueStruct::new(*n, *v, XsdType::Other))
            .map(|mut p| {
                p.kind = None;
                p
            })
            .collect(),
        parameter_key: "diag".into(),
    })
}

fn gpv(names: &[&str]) -> AcsRequest {
    AcsRequest::GetParameterValues(GetParameterValues {
        parameter_names: names.iter().map(|n| n.to_string()).collect(),
    })
}

fn inform_in(seconds: u32) -> AcsRequest {
    AcsRequest::ScheduleInform(ScheduleInform {
        delay_seconds: seconds,
        command_key: format!("in-{seconds}"),
    })
}

/// The values the device answered GPV with in a session, by name.
fn values(s: &Seen) -> std::collections::HashMap<String, String> {
    s.answers
        .iter()
        .filter_map(|a| match a {
            CpeMessage::Response(CpeResponse::GetParameterValuesResponse(r)) => {
                Some(r.parameter_list.clone())
            }
            _ => None,
        })
        .flatten()
        .map(|p| (p.name, p.value))
        .collect()
}

fn num(v: &std::collections::HashMap<String, String>, name: &str) -> u64 {
    v.get(name)
        .unwrap_or_else(|| panic!("{name} not read: {v:?}"))
        .parse()
        .unwrap()
}

const PING: &str = "Device.IP.Diagnostics.IPPing.";
const TRACE: &str = "Device.IP.Diagnostics.TraceRoute.";
const DOWN: &str = "Device.IP.Diagnostics.DownloadDiagnostics.";
const UP: &str = "Device.IP.Diagnostics.UploadDiagnostics.";

fn tr181_script() -> Arc<Script> {
    Script::new(vec![
        vec![spv(&[
            ("Device.IP.Diagnostics.IPPing.Host", "acs.example.net"),
            ("Device.IP.Diagnostics.IPPing.NumberOfRepetitions", "50"),
            ("Device.IP.Diagnostics.IPPing.DiagnosticsState", "Requested"),
            ("Device.IP.Diagnostics.TraceRoute.Host", "acs.example.net"),
            (
                "Device.IP.Diagnostics.TraceRoute.DiagnosticsState",
                "Requested",
            ),
            (
                "Device.IP.Diagnostics.DownloadDiagnostics.DownloadURL",
                "http://files.example.net/1MiB",
            ),
            (
                "Device.IP.Diagnostics.DownloadDiagnostics.DiagnosticsState",
                "Requested",
            ),
            (
                "Device.IP.Diagnostics.UploadDiagnostics.UploadURL",
                "http://files.example.net/up",
            ),
            (
                "Device.IP.Diagnostics.UploadDiagnostics.TestFileLength",
                "2097152",
            ),
            (
                "Device.IP.Diagnostics.UploadDiagnostics.DiagnosticsState",
                "Requested",
            ),
        ])],
        vec![gpv(&[PING, TRACE, DOWN, UP])],
    ])
}

#[tokio::test(start_paused = true)]
async fn tr181_tests_complete_with_results_readable_in_the_next_session() {
    let script = tr181_script();
    run_one(script.clone(), "tr181-gateway", "2m", MODEL).await;
    let seen = script.seen();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert_eq!(
        seen[1].events,
        vec!["8 DIAGNOSTICS COMPLETE"],
        "one event for four tests"
    );
    assert!(
        seen[1].at_ms >= 10_000,
        "after the test's 10 s: {}",
        seen[1].at_ms
    );
    let v = values(&seen[1]);
    for o in [PING, TRACE, DOWN, UP] {
        assert_eq!(v[&format!("{o}DiagnosticsState")], "Complete", "{o}");
    }
    // IPPing: 50 pings, a fifth of them lost, round trips 30 ± 10 ms.
    let ok = num(&v, &format!("{PING}SuccessCount"));
    assert_eq!(ok + num(&v, &format!("{PING}FailureCount")), 50);
    assert!((25..=48).contains(&ok), "about 80% answered: {ok}");
    let (min, avg, max) = (
        num(&v, &format!("{PING}MinimumResponseTime")),
        num(&v, &format!("{PING}AverageResponseTime")),
        num(&v, &format!("{PING}MaximumResponseTime")),
    );
    assert!(
        20 <= min && min <= avg && avg <= max && max <= 40,
        "{min} {avg} {max}"
    );
    assert!(min < max, "the jitter spreads them");
    // TraceRoute: five hops, the last one the host.
    assert_eq!(num(&v, &format!("{TRACE}RouteHopsNumberOfEntries")), 5);
    assert_eq!(v[&format!("{TRACE}RouteHops.5.Host")], "acs.example.net");
    assert_eq!(
        v[&format!("{TRACE}RouteHops.1.RTTimes")].split(',').count(),
        3
    );
    // Download / Upload: the model's file, at the model's rate.
    assert_eq!(num(&v, &format!("{DOWN}TestBytesReceived")), 1 << 20);
    assert_eq!(num(&v, &format!("{UP}TestBytesSent")), 2 << 20);
    assert_ne!(v[&format!("{UP}BOMTime")], "0001-01-01T00:00:00Z");
    assert!(
        v[&format!("{UP}BOMTime")] < v[&format!("{UP}EOMTime")],
        "{v:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_same_seed_gives_the_same_results() {
    let mut runs = vec![];
    for _ in 0..2 {
        let script = tr181_script();
        run_one(script.clone(), "tr181-gateway", "2m", MODEL).await;
        let mut v: Vec<(String, String)> = values(&script.seen()[1])
            .into_iter()
            // dateTimes count from the run's start on the wall clock; everything else is drawn.
            .filter(|(_, v)| !v.ends_with('Z'))
            .collect();
        v.sort();
        runs.push(v);
    }
    assert_eq!(runs[0], runs[1]);
}

#[tokio::test(start_paused = true)]
async fn tr098_ping_has_results_too() {
    let p = "InternetGatewayDevice.IPPingDiagnostics.";
    let script = Script::new(vec![
        vec![spv(&[
            ("InternetGatewayDevice.IPPingDiagnostics.Host", "10.0.0.1"),
            (
                "InternetGatewayDevice.IPPingDiagnostics.NumberOfRepetitions",
                "20",
            ),
            (
                "InternetGatewayDevice.IPPingDiagnostics.DiagnosticsState",
                "Requested",
            ),
        ])],
        vec![gpv(&[p])],
    ]);
    run_one(script.clone(), "tr098-igd", "2m", MODEL).await;
    let seen = script.seen();
    assert_eq!(seen[1].events, vec!["8 DIAGNOSTICS COMPLETE"], "{seen:#?}");
    let v = values(&seen[1]);
    assert_eq!(v[&format!("{p}DiagnosticsState")], "Complete");
    assert_eq!(
        num(&v, &format!("{p}SuccessCount")) + num(&v, &format!("{p}FailureCount")),
        20
    );
    assert!(num(&v, &format!("{p}AverageResponseTime")) >= 20);
}

#[tokio::test(start_paused = true)]
async fn a_reboot_during_a_test_reports_error_internal() {
    let script = Script::new(vec![
        vec![
            spv(&[
                ("Device.IP.Diagnostics.IPPing.Host", "acs.example.net"),
                ("Device.IP.Diagnostics.IPPing.DiagnosticsState", "Requested"),
            ]),
            AcsRequest::Reboot(Reboot {
                command_key: "rb".into(),
            }),
        ],
        vec![],
        vec![gpv(&[PING])],
    ]);
    run_one(
        script.clone(),
        "tr181-gateway",
        "2m",
        &format!("{MODEL}, reboot_time: 30s"),
    )
    .await;
    let seen = script.seen();
    let done: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.events.contains(&"8 DIAGNOSTICS COMPLETE".to_string()))
        .collect();
    assert_eq!(done.len(), 1, "{seen:#?}");
    assert!(
        seen[1].events.contains(&"M Reboot(rb)".to_string()),
        "{seen:#?}"
    );
    let read = seen
        .iter()
        .find(|s| !values(s).is_empty())
        .expect("GPV ran");
    assert_eq!(
        values(read)[&format!("{PING}DiagnosticsState")],
        "Error_Internal"
    );
}

/// TR-098 too: a reboot ends its IPPingDiagnostics in `Error_Internal` (in TR-098's enum) and
/// its Download/UploadDiagnostics, whose enums have no `Error_Internal`, in
/// `Error_TransferFailed` / `Error_NoTransferComplete`.
#[tokio::test(start_paused = true)]
async fn tr098_a_reboot_during_a_test_reports_its_models_error() {
    let (ping, down, up) = (
        "InternetGatewayDevice.IPPingDiagnostics.",
        "InternetGatewayDevice.DownloadDiagnostics.",
        "InternetGatewayDevice.UploadDiagnostics.",
    );
    let script = Script::new(vec![
        vec![
            spv(&[
                (&format!("{ping}Host"), "10.0.0.1"),
                (&format!("{ping}DiagnosticsState"), "Requested"),
                (
                    &format!("{down}DownloadURL"),
                    "http://files.example.net/1MiB",
                ),
                (&format!("{down}DiagnosticsState"), "Requested"),
                (&format!("{up}UploadURL"), "http://files.example.net/up"),
                (&format!("{up}DiagnosticsState"), "Requested"),
            ]),
            AcsRequest::Reboot(Reboot {
                command_key: "rb".into(),
            }),
        ],
        vec![],
        vec![gpv(&[ping, down, up])],
    ]);
    run_one(
        script.clone(),
        "tr098-igd",
        "2m",
        &format!("{MODEL}, reboot_time: 30s"),
    )
    .await;
    let seen = script.seen();
    let done = seen
        .iter()
        .filter(|s| s.events.contains(&"8 DIAGNOSTICS COMPLETE".to_string()))
        .count();
    assert_eq!(done, 1, "{seen:#?}");
    assert!(
        seen[1].events.contains(&"M Reboot(rb)".to_string()),
        "{seen:#?}"
    );
    let read = seen
        .iter()
        .find(|s| !values(s).is_empty())
        .expect("GPV ran");
    let v = values(read);
    assert_eq!(v[&format!("{ping}DiagnosticsState")], "Error_Internal");
    assert_eq!(
        v[&format!("{down}DiagnosticsState")],
        "Error_TransferFailed"
    );
    assert_eq!(
        v[&format!("{up}DiagnosticsState")],
        "Error_NoTransferComplete"
    );
}

#[tokio::test(start_paused = true)]
async fn canceled_stops_a_test_and_a_new_request_restarts_it() {
    let script = Script::new(vec![
        vec![
            spv(&[
                ("Device.IP.Diagnostics.IPPing.Host", "acs.example.net"),
                ("Device.IP.Diagnostics.IPPing.DiagnosticsState", "Requested"),
            ]),
            inform_in(2),
        ],
        vec![
            spv(&[("Device.IP.Diagnostics.IPPing.DiagnosticsState", "Canceled")]),
            inform_in(30),
        ],
        vec![
            gpv(&[PING]),
            spv(&[("Device.IP.Diagnostics.IPPing.DiagnosticsState", "Requested")]),
            inform_in(5),
        ],
        // 5 s into a 10 s test: requested again, so it starts over and completes once.
        vec![spv(&[(
            "Device.IP.Diagnostics.IPPing.DiagnosticsState",
            "Requested",
        )])],
        vec![gpv(&[PING])],
    ]);
    run_one(script.clone(), "tr181-gateway", "3m", MODEL).await;
    let seen = script.seen();
    assert_eq!(seen.len(), 5, "{seen:#?}");
    assert_eq!(
        values(&seen[2])[&format!("{PING}DiagnosticsState")],
        "Canceled"
    );
    assert!(
        seen[..4]
            .iter()
            .all(|s| !s.events.contains(&"8 DIAGNOSTICS COMPLETE".to_string())),
        "{seen:#?}"
    );
    assert_eq!(seen[4].events, vec!["8 DIAGNOSTICS COMPLETE"]);
    // The restarted test ran its full 10 s from the second request.
    assert!(seen[4].at_ms >= seen[3].at_ms + 10_000, "{seen:#?}");
    assert_eq!(
        values(&seen[4])[&format!("{PING}DiagnosticsState")],
        "Complete"
    );
}

#[test]
fn a_bad_model_value_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.yaml");
    let template =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml");
    let src = format!(
        "name: d\nduration: 1m\nfleet:\n  groups:\n    - name: g\n      template: {}\n      count: 1\n      diagnostics:\n        latency: fast\n",
        template.display()
    );
    std::fs::write(&path, &src).unwrap();
    let err = cpefleet::scenario::Scenario::parse(&src, &path, &Default::default()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains(":9:"), "located at its line: {text}");
    let src = src.replace("latency: fast", "measure: sometimes");
    let text = cpefleet::scenario::Scenario::parse(&src, &path, &Default::default())
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("measure") || text.contains("sometimes"),
        "{text}"
    );
}

/// `measure: real` on the real clock (a paused one would jump while the bytes are in
/// flight): Download/UploadDiagnostics against the embedded ACS's file server on loopback move
/// their bytes for real and report them; a test whose URL is elsewhere keeps the model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_tests_on_loopback_are_measured_for_real() {
    use cpefleet::acs::file_server::{self, FileStore};
    let store = Arc::new(FileStore::new(None));
    store.put("3MiB.bin", FileStore::synthetic(3 << 20));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let cancel = tokio_util::sync::CancellationToken::new();
    tokio::spawn(file_server::serve(listener, store.clone(), cancel.clone()));
    let down = format!("{base}/3MiB.bin");
    let up = format!("{base}/uploads/diag");
    let script = Script::new(vec![
        vec![spv(&[
            (
                "Device.IP.Diagnostics.DownloadDiagnostics.DownloadURL",
                &down,
            ),
            (
                "Device.IP.Diagnostics.DownloadDiagnostics.DiagnosticsState",
                "Requested",
            ),
            ("Device.IP.Diagnostics.UploadDiagnostics.UploadURL", &up),
            (
                "Device.IP.Diagnostics.UploadDiagnostics.TestFileLength",
                "1048576",
            ),
            (
                "Device.IP.Diagnostics.UploadDiagnostics.DiagnosticsState",
                "Requested",
            ),
        ])],
        // Each test reports when its transfer ends: one or two sessions.
        vec![gpv(&[DOWN, UP])],
        vec![gpv(&[DOWN, UP])],
    ]);
    let model = MODEL.replace("duration: 10s", "duration: 10s, measure: real");
    // Real transfers on the real clock: the run ends once a session has read both tests
    // Complete (the 60 s duration is only an upper bound).
    let both_complete = |seen: &[Seen]| {
        let v: std::collections::HashMap<String, String> = seen.iter().flat_map(values).collect();
        [DOWN, UP].iter().all(|o| {
            v.get(&format!("{o}DiagnosticsState"))
                .is_some_and(|s| s == "Complete")
        })
    };
    run_with_until(
        script.clone(),
        "tr181-gateway",
        "60s",
        &model,
        "time_scale: 100\n",
        both_complete,
    )
    .await;
    cancel.cancel();
    let seen = script.seen();
    assert!((2..=3).contains(&seen.len()), "{seen:#?}");
    for s in &seen[1..] {
        assert_eq!(s.events, vec!["8 DIAGNOSTICS COMPLETE"], "{seen:#?}");
    }
    // The latest reading of each value.
    let v: std::collections::HashMap<String, String> = seen.iter().flat_map(values).collect();
    for o in [DOWN, UP] {
        assert_eq!(v[&format!("{o}DiagnosticsState")], "Complete", "{o}: {v:?}");
        assert!(
            v[&format!("{o}BOMTime")] <= v[&format!("{o}EOMTime")],
            "{v:?}"
        );
    }
    // The file's size, not the model's 1 MiB; fetched once; the upload arrived whole.
    assert_eq!(num(&v, &format!("{DOWN}TestBytesReceived")), 3 << 20);
    assert_eq!(store.download_count(), 1);
    let uploads = store.uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].0, "/uploads/diag");
    assert_eq!(uploads[0].1.len(), 1 << 20);
    assert_eq!(num(&v, &format!("{UP}TestBytesSent")), 1 << 20);
}

#[tokio::test(start_paused = true)]
async fn real_measurement_applies_only_on_loopback_and_failures_have_their_state() {
    let script = Script::new(vec![
        vec![spv(&[
            (
                "Device.IP.Diagnostics.DownloadDiagnostics.DownloadURL",
                "http://files.example.net/1MiB",
            ),
            (
                "Device.IP.Diagnostics.DownloadDiagnostics.DiagnosticsState",
                "Requested",
            ),
            // Loopback, nothing listening on port 9: the connection fails.
            (
                "Device.IP.Diagnostics.UploadDiagnostics.UploadURL",
                "http://127.0.0.1:9/up",
            ),
            (
                "Device.IP.Diagnostics.UploadDiagnostics.DiagnosticsState",
                "Requested",
            ),
        ])],
        vec![gpv(&[DOWN, UP])],
        vec![gpv(&[DOWN, UP])],
    ]);
    let model = MODEL.replace("duration: 10s", "duration: 10s, measure: real");
    run_one(script.clone(), "tr181-gateway", "2m", &model).await;
    let seen = script.seen();
    let all: std::collections::HashMap<String, String> = seen.iter().flat_map(values).collect();
    // Not on loopback: the model's file and result.
    assert_eq!(
        all[&format!("{DOWN}DiagnosticsState")],
        "Complete",
        "{seen:#?}"
    );
    assert_eq!(num(&all, &format!("{DOWN}TestBytesReceived")), 1 << 20);
    assert_eq!(
        all[&format!("{UP}DiagnosticsState")],
        "Error_InitConnectionFailed",
        "{seen:#?}"
    );
    assert!(seen
        .iter()
        .any(|s| s.events.contains(&"8 DIAGNOSTICS COMPLETE".to_string())));
}

/// TR-098's other diagnostics objects (TR-098 Amendment 2, TR-143), as the shipped TR-098
/// gateway has them: TR-098 spells a transfer test's success `Completed`.
#[tokio::test(start_paused = true)]
async fn tr098_trace_route_download_and_upload_have_results() {
    let igd = "InternetGatewayDevice.";
    let (trace, down, up) = (
        "InternetGatewayDevice.TraceRouteDiagnostics.",
        "InternetGatewayDevice.DownloadDiagnostics.",
        "InternetGatewayDevice.UploadDiagnostics.",
    );
    let script = Script::new(vec![
        vec![spv(&[
            (&format!("{trace}Host"), "10.9.9.9"),
            (&format!("{trace}DiagnosticsState"), "Requested"),
            (
                &format!("{down}DownloadURL"),
                "http://files.example.net/1MiB",
            ),
            (&format!("{down}DiagnosticsState"), "Requested"),
            (&format!("{up}UploadURL"), "http://files.example.net/up"),
            (&format!("{up}TestFileLength"), "65536"),
            (&format!("{up}DiagnosticsState"), "Requested"),
        ])],
        vec![gpv(&[trace, down, up])],
    ]);
    run_one(script.clone(), "tr098-igd", "2m", MODEL).await;
    let seen = script.seen();
    assert_eq!(seen[1].events, vec!["8 DIAGNOSTICS COMPLETE"], "{seen:#?}");
    let v = values(&seen[1]);
    for (o, done) in [(trace, "Complete"), (down, "Completed"), (up, "Completed")] {
        assert_eq!(v[&format!("{o}DiagnosticsState")], done, "{o}: {v:?}");
    }
    // TR-098 names its hop parameters Hop…: five hops, the last one the host.
    assert_eq!(num(&v, &format!("{trace}RouteHopsNumberOfEntries")), 5);
    assert_eq!(v[&format!("{trace}RouteHops.5.HopHost")], "10.9.9.9");
    assert_eq!(
        v[&format!("{trace}RouteHops.1.HopRTTimes")]
            .split(',')
            .count(),
        3
    );
    assert!(num(&v, &format!("{trace}ResponseTime")) > 0);
    assert_eq!(num(&v, &format!("{down}TestBytesReceived")), 1 << 20);
    assert!(num(&v, &format!("{up}TotalBytesSent")) > 65536);
    assert!(
        v[&format!("{down}BOMTime")] < v[&format!("{down}EOMTime")],
        "{v:?}"
    );
    assert!(v.keys().all(|k| k.starts_with(igd)));
}

/// TR-181: changing a running test's inputs ends it in `None`, with no 8 DIAGNOSTICS COMPLETE;
/// changing them together with a new request restarts it.
#[tokio::test(start_paused = true)]
async fn changing_a_running_tests_inputs_ends_it_in_none() {
    let script = Script::new(vec![
        vec![
            spv(&[
                ("Device.IP.Diagnostics.IPPing.Host", "acs.example.net"),
                ("Device.IP.Diagnostics.IPPing.DiagnosticsState", "Requested"),
            ]),
            inform_in(2),
        ],
        vec![
            spv(&[("Device.IP.Diagnostics.IPPing.Host", "other.example.net")]),
            gpv(&[PING]),
            inform_in(30),
        ],
        vec![
            gpv(&[PING]),
            spv(&[
                ("Device.IP.Diagnostics.IPPing.Host", "third.example.net"),
                ("Device.IP.Diagnostics.IPPing.DiagnosticsState", "Requested"),
            ]),
        ],
        vec![gpv(&[PING])],
    ]);
    run_one(script.clone(), "tr181-gateway", "3m", MODEL).await;
    let seen = script.seen();
    assert_eq!(seen.len(), 4, "{seen:#?}");
    assert_eq!(values(&seen[1])[&format!("{PING}DiagnosticsState")], "None");
    assert_eq!(values(&seen[2])[&format!("{PING}DiagnosticsState")], "None");
    assert!(
        seen[..3]
            .iter()
            .all(|s| !s.events.contains(&"8 DIAGNOSTICS COMPLETE".to_string())),
        "{seen:#?}"
    );
    assert_eq!(seen[3].events, vec!["8 DIAGNOSTICS COMPLETE"]);
    assert_eq!(
        values(&seen[3])[&format!("{PING}DiagnosticsState")],
        "Complete"
    );
}
