use super::*;
use crate::cwmp::CwmpVersion;
use crate::session::Timings;

fn report(total_ms: u64, outcome: Result<(), SessionError>) -> SessionReport {
    SessionReport {
        inform_acknowledged: outcome.is_ok(),
        outcome,
        timings: Timings {
            connect: Some(Duration::from_micros(300)),
            exchanges: vec![
                (Exchange::Inform, Duration::from_millis(total_ms / 2)),
                (
                    Exchange::AcsRpc("GetParameterValues"),
                    Duration::from_millis(total_ms / 4),
                ),
            ],
            total: Duration::from_millis(total_ms),
            ..Timings::default()
        },
        version: CwmpVersion::V1_0,
        acs_requests: vec!["GetParameterValues"],
        connections: 1,
        checks: Default::default(),
        auth: None,
    }
}

fn end<'a>(r: &'a SessionReport, faults: &'a [(&'static str, u32)]) -> SessionEnd<'a> {
    SessionEnd {
        report: r,
        group: 0,
        group_name: "gw",
        at_ms: 1500,
        from_due: Some(r.timings.total + Duration::from_millis(100)),
        cr_to_inform: None,
        faults,
    }
}

#[test]
fn a_session_end_records_outcome_phases_rpcs_and_faults() {
    let live = Live::default();
    let mut s = ShardStats::default();
    s.record_start(
        1000,
        Duration::from_millis(100),
        Duration::ZERO,
        ["1 BOOT"],
        &live,
    );
    let ok = report(40, Ok(()));
    s.record_end(&end(&ok, &[]), &live);
    s.record_start(
        1000,
        Duration::ZERO,
        Duration::ZERO,
        ["1 BOOT", "2 PERIODIC"],
        &live,
    );
    let faulted = report(80, Ok(()));
    s.record_end(&end(&faulted, &[("GetParameterValues", 9005)]), &live);
    s.record_start(1000, Duration::ZERO, Duration::ZERO, ["2 PERIODIC"], &live);
    let failed = report(20, Err(SessionError::Status(500)));
    s.record_end(&end(&failed, &[]), &live);

    assert_eq!(
        (s.sessions.started, s.sessions.succeeded, s.sessions.failed),
        (3, 2, 1)
    );
    assert_eq!(s.errors["http_5xx"], 1);
    assert_eq!(s.events["1 BOOT"], 2);
    assert_eq!(s.events["2 PERIODIC"], 2);
    assert_eq!(s.faults[&9005], 1);
    assert_eq!(s.rpcs["GetParameterValues"], RpcCount { ok: 2, fault: 1 });
    assert_eq!(s.rpcs["Inform"], RpcCount { ok: 2, fault: 0 });
    assert_eq!(s.session.len(), 3);
    assert_eq!(s.connect.len(), 3);
    assert!(s.tls.is_empty());
    assert_eq!(s.exchanges["Inform"].len(), 3);
    assert_eq!(s.groups["gw"].len(), 3);
    // From the due time: 100 ms more than the session itself, within 0.1 %.
    let d = s.session_intended.max() as f64 - s.session.max() as f64;
    assert!((d - 100_000.0).abs() < 200.0, "{d}");
    assert_eq!(Live::get(&live.in_flight), 0);
    assert_eq!(Live::get(&live.failed), 1);
    assert_eq!(s.timeline.total_started(), 3);
}

#[test]
fn merging_two_halves_equals_the_whole() {
    let live = Live::default();
    let mut whole = ShardStats::default();
    let mut a = ShardStats::default();
    let mut b = ShardStats::default();
    for i in 1..=1000u64 {
        let r = report(i % 97 + 1, Ok(()));
        let e = SessionEnd {
            at_ms: i * 10,
            ..end(&r, &[])
        };
        whole.record_start(
            i * 10,
            Duration::from_millis(i % 7),
            Duration::ZERO,
            ["2 PERIODIC"],
            &live,
        );
        whole.record_end(&e, &live);
        let half = if i % 2 == 0 { &mut a } else { &mut b };
        half.record_start(
            i * 10,
            Duration::from_millis(i % 7),
            Duration::ZERO,
            ["2 PERIODIC"],
            &live,
        );
        half.record_end(&e, &live);
    }
    a.error("http_503");
    whole.error("http_503");
    a.merge(&b);
    assert_eq!(a.sessions.started, whole.sessions.started);
    assert_eq!(a.errors, whole.errors);
    assert_eq!(a.events, whole.events);
    assert_eq!(a.rpcs, whole.rpcs);
    assert_eq!(a.session, whole.session);
    assert_eq!(a.session_intended, whole.session_intended);
    assert_eq!(a.lag, whole.lag);
    assert_eq!(a.exchanges["Inform"], whole.exchanges["Inform"]);
    assert_eq!(a.groups["gw"], whole.groups["gw"]);
    assert_eq!(a.timeline, whole.timeline);
}

#[test]
fn out_of_range_values_are_clamped_not_lost() {
    let mut h = histogram();
    record(&mut h, Duration::from_secs(10 * 3600));
    record(&mut h, Duration::ZERO);
    assert_eq!(h.len(), 2);
}

#[test]
fn the_queued_gauge_follows_each_shard() {
    let live = Live::default();
    let (mut a, mut b) = (ShardStats::default(), ShardStats::default());
    a.record_queued(5, &live);
    b.record_queued(3, &live);
    a.record_queued(2, &live);
    assert_eq!(Live::get(&live.queued), 5);
    assert_eq!(a.sessions.late, 5, "the peak is kept");
    b.record_queued(0, &live);
    a.record_queued(0, &live);
    assert_eq!(Live::get(&live.queued), 0);
}
