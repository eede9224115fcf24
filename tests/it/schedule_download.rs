//! ScheduleDownload through the fleet under tokio's paused clock (TR-069 A.4.1.8): each window's
//! mode decides when the download starts, a failure moves to the next window, the outcome is
//! reported with `M ScheduleDownload`, CancelTransfer withdraws a scheduled one, and a firmware
//! installed by one survives a FactoryReset. The file server is the embedded ACS's, for real.

use std::sync::Arc;

use cpefleet::acs::file_server::{self, FileStore};
use cpefleet::cwmp::{AcsRequest, CancelTransfer, ScheduleDownload, TimeWindowStruct};
use cpefleet::metrics::RunResult;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::support::script::{run_one, Script, Seen};

async fn file_server() -> (String, Arc<FileStore>, CancellationToken) {
    let store = Arc::new(FileStore::new(None));
    store.put("fw-9.9.bin", FileStore::synthetic(2048));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let cancel = CancellationToken::new();
    tokio::spawn(file_server::serve(listener, store.clone(), cancel.clone()));
    (base, store, cancel)
}

fn window(start: u32, end: u32, mode: &str) -> TimeWindowStruct {
    TimeWindowStruct {
        window_start: start,
        window_end: end,
        window_mode: mode.into(),
        user_message: String::new(),
        max_retries: 0,
    }
}

fn schedule(key: &str, url: &str, windows: Vec<TimeWindowStruct>) -> AcsRequest {
    AcsRequest::ScheduleDownload(ScheduleDownload {
        command_key: key.into(),
        file_type: "1 Firmware Upgrade Image".into(),
        url: url.into(),
        time_window_list: windows,
        ..ScheduleDownload::default()
    })
}

/// One bootstrapped gateway, simulated time = real (paused) time.
async fn run(script: Arc<Script>, duration: &str) -> RunResult {
    run_one(script, "tr181-gateway", duration, "reboot_time: 10s").await
}

fn with_complete(seen: &[Seen]) -> Vec<&Seen> {
    seen.iter().filter(|s| !s.completes.is_empty()).collect()
}

#[tokio::test(start_paused = true)]
async fn immediately_starts_at_the_window_and_reports_m_schedule_download() {
    let (base, store, cancel) = file_server().await;
    let url = format!("{base}/fw-9.9.bin");
    let script = Script::new(vec![vec![schedule(
        "sd-1",
        &url,
        vec![window(120, 600, "2 Immediately")],
    )]]);
    run(script.clone(), "15m").await;
    cancel.cancel();
    let seen = script.seen();
    let done = with_complete(&seen);
    assert_eq!(done.len(), 1, "{seen:#?}");
    assert_eq!(done[0].completes, vec![("sd-1".to_string(), 0)]);
    assert!(
        done[0]
            .events
            .contains(&"M ScheduleDownload(sd-1)".to_string())
            && done[0].events.contains(&"7 TRANSFER COMPLETE".to_string())
            && !done[0].events.iter().any(|e| e.starts_with("M Download")),
        "{:?}",
        done[0].events
    );
    // Not before the window opened (120 s after the first session), nor long after.
    assert!(
        (120_000..=200_000).contains(&done[0].at_ms),
        "{}",
        done[0].at_ms
    );
    assert_eq!(store.download_count(), 1);
    assert_eq!(done[0].software_version, "9.9", "the image was installed");
}

#[tokio::test(start_paused = true)]
async fn a_failed_first_window_moves_to_the_second_then_reports_its_fault() {
    let (base, store, cancel) = file_server().await;
    let url = format!("{base}/missing.bin");
    let script = Script::new(vec![vec![schedule(
        "sd-2",
        &url,
        vec![
            window(10, 60, "4 Confirmation Needed"),
            window(300, 400, "3 When Idle"),
        ],
    )]]);
    run(script.clone(), "15m").await;
    cancel.cancel();
    let seen = script.seen();
    let done = with_complete(&seen);
    assert_eq!(done.len(), 1, "{seen:#?}");
    assert_eq!(done[0].completes, vec![("sd-2".to_string(), 9016)]);
    assert!(
        done[0].at_ms >= 300_000,
        "after the second window opened: {}",
        done[0].at_ms
    );
    assert!(done[0]
        .events
        .contains(&"M ScheduleDownload(sd-2)".to_string()));
    assert_eq!(store.download_count(), 0, "nothing was there to download");
}

#[tokio::test(start_paused = true)]
async fn a_scheduled_download_can_be_cancelled_before_its_window() {
    let (base, store, cancel) = file_server().await;
    let url = format!("{base}/fw-9.9.bin");
    let script = Script::new(vec![
        vec![
            schedule("sd-3", &url, vec![window(600, 900, "1 At Any Time")]),
            // A session before the window opens, to cancel it in.
            AcsRequest::ScheduleInform(cpefleet::cwmp::ScheduleInform {
                delay_seconds: 60,
                command_key: "si".into(),
            }),
        ],
        vec![
            AcsRequest::CancelTransfer(CancelTransfer {
                command_key: "sd-3".into(),
            }),
            AcsRequest::ScheduleInform(cpefleet::cwmp::ScheduleInform {
                delay_seconds: 60,
                command_key: "si-2".into(),
            }),
        ],
        // Nothing of that key is left: the ACS is told so.
        vec![AcsRequest::CancelTransfer(CancelTransfer {
            command_key: "sd-3".into(),
        })],
    ]);
    run(script.clone(), "20m").await;
    cancel.cancel();
    let seen = script.seen();
    assert!(with_complete(&seen).is_empty(), "{seen:#?}");
    assert_eq!(
        store.download_count(),
        0,
        "the cancelled download never ran"
    );
    assert!(seen.len() >= 3, "{seen:#?}");
    assert!(
        seen[1].faults.is_empty(),
        "the first cancel is accepted: {seen:#?}"
    );
    assert_eq!(
        seen[2].faults,
        vec![9003],
        "nothing left to cancel: {seen:#?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_download_that_cannot_finish_in_its_window_is_9020() {
    // A file server that accepts and never answers: the attempt outlives its window.
    let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/fw.bin", server.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut conns = vec![];
        while let Ok((c, _)) = server.accept().await {
            conns.push(c);
        }
    });
    let script = Script::new(vec![vec![schedule(
        "sd-4",
        &url,
        vec![window(0, 30, "2 Immediately")],
    )]]);
    run(script.clone(), "15m").await;
    held.abort();
    let seen = script.seen();
    let done = with_complete(&seen);
    assert_eq!(done.len(), 1, "{seen:#?}");
    assert_eq!(done[0].completes, vec![("sd-4".to_string(), 9020)]);
}

#[tokio::test(start_paused = true)]
async fn factory_reset_keeps_the_installed_firmware() {
    let (base, _store, cancel) = file_server().await;
    let url = format!("{base}/fw-9.9.bin");
    let script = Script::new(vec![
        vec![schedule("sd-5", &url, vec![window(0, 60, "2 Immediately")])],
        // The TransferComplete's session (after the image's reboot).
        vec![AcsRequest::FactoryReset],
    ]);
    run(script.clone(), "10m").await;
    cancel.cancel();
    let seen = script.seen();
    let after_reset: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.events.contains(&"0 BOOTSTRAP".to_string()))
        .collect();
    assert_eq!(after_reset.len(), 1, "{seen:#?}");
    assert_eq!(after_reset[0].software_version, "9.9", "{seen:#?}");
}

#[tokio::test(start_paused = true)]
async fn between_its_windows_a_scheduled_download_can_be_cancelled() {
    let (base, _store, cancel) = file_server().await;
    let url = format!("{base}/missing.bin");
    let script = Script::new(vec![
        vec![
            schedule(
                "sd-6",
                &url,
                vec![
                    window(0, 60, "2 Immediately"),
                    window(600, 900, "2 Immediately"),
                ],
            ),
            // A session after the first window failed, before the second opens.
            AcsRequest::ScheduleInform(cpefleet::cwmp::ScheduleInform {
                delay_seconds: 120,
                command_key: "si".into(),
            }),
        ],
        vec![
            AcsRequest::GetAllQueuedTransfers,
            AcsRequest::CancelTransfer(CancelTransfer {
                command_key: "sd-6".into(),
            }),
        ],
    ]);
    run(script.clone(), "20m").await;
    cancel.cancel();
    let seen = script.seen();
    assert!(seen.len() >= 2, "{seen:#?}");
    // Waiting for its second window: queued, not started (state 1), and cancelled.
    let cpefleet::cwmp::CpeMessage::Response(
        cpefleet::cwmp::CpeResponse::GetAllQueuedTransfersResponse(q),
    ) = &seen[1].answers[0]
    else {
        panic!("{seen:#?}")
    };
    assert_eq!(q.transfer_list.len(), 1);
    assert_eq!(q.transfer_list[0].state, 1, "{q:?}");
    assert!(seen[1].faults.is_empty(), "{seen:#?}");
    assert!(
        with_complete(&seen).is_empty(),
        "the second window never ran: {seen:#?}"
    );
}
