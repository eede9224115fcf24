//! UDP connection requests and STUN over real loopback sockets: hostile datagrams on the shared
//! listener (each counted under its fixed reason, never a panic), keep-alives against the
//! embedded STUN server with integrity and a NAT that moves mappings, and against a real STUN
//! server (coturn's `turnserver`, else `SKIPPED`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cpefleet::acs::stun_server::{self, StunCredentials, StunServerStats};
use cpefleet::cr::udp::message::build;
use cpefleet::cr::udp::{
    keepalive, BindingSink, KeepAliveConfig, NatModel, NatSpec, UdpCrConfig, UdpCrReject,
    UdpEndpoint, UdpRouter, UdpStats,
};
use cpefleet::cr::{CrDevice, CrResult};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::support::coturn::coturn;
use crate::support::skip::skip;

struct Router {
    by_user: HashMap<String, (usize, CrDevice)>,
    woken: Mutex<Vec<u32>>,
}

impl Router {
    fn new(n: u32) -> Router {
        let by_user = (0..n)
            .map(|i| {
                let d = CrDevice {
                    index: i,
                    username: format!("00D09E-HGW181-CPF%2D{i}"),
                    password: format!("pw{i}"),
                };
                (d.username.clone(), (i as usize, d))
            })
            .collect();
        Router {
            by_user,
            woken: Mutex::new(vec![]),
        }
    }
}

impl UdpRouter for Router {
    fn resolve_user(&self, usernames: &[String; 2]) -> Option<(usize, CrDevice)> {
        usernames.iter().find_map(|u| self.by_user.get(u).cloned())
    }
    fn deliver(&self, index: u32, _at: Instant) -> CrResult {
        self.woken.lock().unwrap().push(index);
        CrResult::Accepted
    }
}

#[derive(Default)]
struct Sink(Mutex<Vec<(u32, SocketAddr, bool)>>);

impl BindingSink for Sink {
    fn binding(&self, index: u32, addr: SocketAddr, nat_detected: bool) {
        self.0.lock().unwrap().push((index, addr, nat_detected));
    }
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Polls `done` every 20 ms for at most `secs` seconds.
async fn wait_until(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..secs * 50 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    done()
}

#[tokio::test]
async fn hostile_datagrams_are_counted_by_reason_and_valid_ones_delivered() {
    let ep = Arc::new(
        UdpEndpoint::bind(
            [127, 0, 0, 1].into(),
            1,
            3,
            UdpCrConfig::default(),
            Arc::default(),
        )
        .await
        .unwrap(),
    );
    let router = Arc::new(Router::new(3));
    let cancel = CancellationToken::new();
    tokio::spawn(cpefleet::cr::udp::serve(
        ep.clone(),
        router.clone(),
        None,
        cancel.clone(),
    ));
    let to = ep.local_addr(0).unwrap();
    let hp = to.to_string();
    let user = "00D09E-HGW181-CPF%2D1";
    let ts = now_s();
    let valid = build(&hp, ts, "77", user, "c1", "pw1");
    let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut sent: Vec<(Vec<u8>, Option<UdpCrReject>)> = vec![
        // GenieACS sends each request three times: one accepted, two replays.
        (valid.clone().into_bytes(), None),
        (valid.clone().into_bytes(), Some(UdpCrReject::Replayed)),
        (valid.into_bytes(), Some(UdpCrReject::Replayed)),
        (
            build(&hp, ts, "78", user, "c1", "wrong").into_bytes(),
            Some(UdpCrReject::BadSignature),
        ),
        (
            build(&hp, ts - 3600, "79", user, "c1", "pw1").into_bytes(),
            Some(UdpCrReject::StaleTimestamp),
        ),
        (
            build(&hp, ts, "80", "nobody", "c1", "pw1").into_bytes(),
            Some(UdpCrReject::UnknownUser),
        ),
        (
            b"GET http://x?ts=1&id=1 HTTP/1.1\r\n\r\n".to_vec(),
            Some(UdpCrReject::MissingField),
        ),
    ];
    // Garbage: random bytes that are not STUN (first byte with a high bit) and oversized data.
    let mut x = 0x1234_5678u32;
    for i in 0..200 {
        let len = 1 + (i * 37) % 1400;
        let mut g: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        g[0] |= 0x80;
        sent.push((g, Some(UdpCrReject::Malformed)));
    }
    sent.push((vec![b'G'; 60_000], Some(UdpCrReject::Malformed)));
    for (d, _) in &sent {
        sender.send_to(d, to).await.unwrap();
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    // A stray STUN message with no keep-alive driver: counted, not a request.
    sender.send_to(&[0u8; 20], to).await.unwrap();
    let stats: &UdpStats = &ep.stats;
    let total = sent.len() as u64;
    let seen = wait_until(10, || {
        UdpStats::get(&stats.received) == total && UdpStats::get(&stats.stun_stray) == 1
    })
    .await;
    assert!(
        seen,
        "received {} of {total}",
        UdpStats::get(&stats.received)
    );
    assert_eq!(UdpStats::get(&stats.accepted), 1);
    assert_eq!(*router.woken.lock().unwrap(), vec![1]);
    for r in UdpCrReject::ALL {
        let want = sent.iter().filter(|(_, w)| *w == Some(r)).count() as u64;
        assert_eq!(stats.rejected(r), want, "{}", r.label());
    }
    assert_eq!(
        stats.rejected_total() + 1,
        total,
        "every datagram accounted for"
    );
    cancel.cancel();
}

/// Starts a keep-alive driver for `count` devices against `server` and returns its sink.
async fn keepalives(
    server: SocketAddr,
    count: u32,
    ports: u16,
    creds: Option<(&str, &str)>,
    nat: Option<NatSpec>,
    cancel: &CancellationToken,
) -> (Arc<UdpEndpoint>, Arc<Sink>) {
    let ep = Arc::new(
        UdpEndpoint::bind(
            [127, 0, 0, 1].into(),
            ports,
            count as usize,
            UdpCrConfig::default(),
            Arc::default(),
        )
        .await
        .unwrap(),
    );
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(cpefleet::cr::udp::serve(
        ep.clone(),
        Arc::new(Router::new(0)),
        Some(tx),
        cancel.clone(),
    ));
    let sink = Arc::new(Sink::default());
    let cfg = KeepAliveConfig {
        server,
        username: creds.map(|c| c.0.to_string()),
        password: creds.map(|c| c.1.to_string()),
        min: Duration::from_millis(300),
        max: Duration::from_millis(500),
        nat: nat.map(|n| NatModel::new(n, 11)),
        seed: 11,
        first: 0,
        count,
    };
    tokio::spawn(keepalive::run(
        cfg,
        ep.clone(),
        sink.clone(),
        rx,
        cancel.clone(),
    ));
    (ep, sink)
}

#[tokio::test]
async fn keepalives_with_integrity_against_the_embedded_stun_server_follow_nat_changes() {
    let cancel = CancellationToken::new();
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let server = socket.local_addr().unwrap();
    let sstats = Arc::new(StunServerStats::default());
    let creds = StunCredentials {
        username: "cpe".into(),
        password: "stun-secret".into(),
    };
    tokio::spawn(stun_server::serve(
        socket,
        Some(creds),
        sstats.clone(),
        cancel.clone(),
    ));
    // Every keep-alive sees a change (3600/h over ~0.4 s idle is p ≈ 0.33; 30 devices).
    let nat = NatSpec {
        mapping_lifetime: Duration::from_secs(60),
        changes_per_hour: 3600.0,
        ports: 3,
    };
    let (ep, sink) = keepalives(
        server,
        30,
        3,
        Some(("cpe", "stun-secret")),
        Some(nat),
        &cancel,
    )
    .await;
    let ports: Vec<SocketAddr> = (0..3).map(|k| ep.local_addr(k).unwrap()).collect();
    // A change is learnt from a response and flagged in the device's next request.
    let done = wait_until(20, || {
        UdpStats::get(&ep.stats.binding_changes) >= 5 && sstats.binding_changes.load(Relaxed) >= 1
    })
    .await;
    assert!(
        done,
        "binding changes: {}",
        UdpStats::get(&ep.stats.binding_changes)
    );
    let got = sink.0.lock().unwrap().clone();
    let devices: std::collections::HashSet<u32> = got.iter().map(|b| b.0).collect();
    assert_eq!(devices.len(), 30, "every device reported a binding");
    assert!(got.iter().all(|(_, a, nat)| ports.contains(a) && *nat));
    assert_eq!(sstats.unauthorized.load(Relaxed), 0);
    assert!(
        sstats.binding_changes.load(Relaxed) >= 1,
        "BINDING-CHANGE reached the server"
    );
    assert!(sstats.tr111_bindings.load(Relaxed) >= 30);
    assert_eq!(UdpStats::get(&ep.stats.stun_errors), 0);
    cancel.cancel();
}

#[tokio::test]
async fn wrong_stun_password_is_refused_and_counted() {
    let cancel = CancellationToken::new();
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let server = socket.local_addr().unwrap();
    let sstats = Arc::new(StunServerStats::default());
    let creds = StunCredentials {
        username: "cpe".into(),
        password: "right".into(),
    };
    tokio::spawn(stun_server::serve(
        socket,
        Some(creds),
        sstats.clone(),
        cancel.clone(),
    ));
    let (ep, sink) = keepalives(server, 4, 1, Some(("cpe", "wrong")), None, &cancel).await;
    assert!(wait_until(10, || UdpStats::get(&ep.stats.stun_errors) >= 4).await);
    assert!(
        sink.0.lock().unwrap().is_empty(),
        "no binding without a response"
    );
    cancel.cancel();
}

#[tokio::test]
async fn devices_keep_bindings_with_coturn_and_report_the_mapped_address() {
    let Some(server) = coturn().await else {
        skip("coturn's turnserver is not installed or did not start (apt-get install coturn)");
        return;
    };
    let cancel = CancellationToken::new();
    let (ep, sink) = keepalives(server.addr, 50, 2, None, None, &cancel).await;
    let ports: Vec<SocketAddr> = (0..2).map(|k| ep.local_addr(k).unwrap()).collect();
    let all = wait_until(20, || {
        let got = sink.0.lock().unwrap();
        got.iter()
            .map(|b| b.0)
            .collect::<std::collections::HashSet<_>>()
            .len()
            == 50
    })
    .await;
    assert!(all, "bindings: {}", sink.0.lock().unwrap().len());
    let got = sink.0.lock().unwrap().clone();
    // On loopback the mapped address is the device's own shared socket: no NAT detected.
    assert!(
        got.iter().all(|(_, a, nat)| ports.contains(a) && !*nat),
        "{got:?}"
    );
    // Keep-alives continue: each device sends again within its maximum period.
    let before = UdpStats::get(&ep.stats.stun_requests);
    assert!(wait_until(10, || UdpStats::get(&ep.stats.stun_requests) >= before + 50).await);
    assert!(UdpStats::get(&ep.stats.stun_responses) >= 50);
    assert_eq!(
        UdpStats::get(&ep.stats.binding_changes),
        0,
        "no NAT, no change"
    );
    cancel.cancel();
}

/// A STUN server that drops the first copy of every request: each device still binds, through
/// its retransmission (RFC 5389 §7.2.1), and none gives up; a server that never answers makes
/// every device give up after its transmissions, counted.
#[tokio::test]
async fn unanswered_requests_are_retransmitted_then_given_up() {
    let cancel = CancellationToken::new();
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let lossy = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let stats = StunServerStats::default();
        let mut seen = std::collections::HashSet::new();
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            // The transaction id: bytes 8..20 of the header.
            if seen.insert(buf[8..20].to_vec()) {
                continue;
            }
            if let Some(r) = stun_server::answer(&buf[..n], from, None, &stats) {
                let _ = socket.send_to(&r, from).await;
            }
        }
    });
    let (ep, sink) = keepalives(lossy, 20, 2, None, None, &cancel).await;
    let bound = wait_until(20, || {
        let got = sink.0.lock().unwrap();
        got.iter()
            .map(|b| b.0)
            .collect::<std::collections::HashSet<_>>()
            .len()
            == 20
    })
    .await;
    assert!(bound, "bindings: {}", sink.0.lock().unwrap().len());
    assert!(UdpStats::get(&ep.stats.stun_retransmits) >= 20);
    assert_eq!(UdpStats::get(&ep.stats.stun_timeouts), 0);
    // A black hole: four transmissions each, then the device gives up until its next period.
    let hole = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (ep, sink) = keepalives(hole.local_addr().unwrap(), 5, 1, None, None, &cancel).await;
    assert!(wait_until(20, || UdpStats::get(&ep.stats.stun_timeouts) >= 5).await);
    assert!(UdpStats::get(&ep.stats.stun_retransmits) >= 15);
    assert!(sink.0.lock().unwrap().is_empty());
    cancel.cancel();
}

/// `scenarios/cr-udp.yaml` against the embedded ACS, shortened: every UDP connection request
/// is accounted for in the JSON report. The listener's `received` is `accepted` plus the
/// rejections by reason (GenieACS's three copies: two replays per request); every accepted
/// one has a fate (a session with `6 CONNECTION REQUEST`, merged into one already pending,
/// the device off, or unserved at the end); every datagram the ACS sent arrived, but for the
/// requests it sent after the fleet's listener closed.
#[test]
fn cr_udp_scenario_accounts_for_every_connection_request() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cpefleet"))
        .arg("run")
        .arg(root.join("scenarios/cr-udp.yaml"))
        .args(["--duration", "16s", "--quiet", "--report-json"])
        .arg(&json)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or_else(|| panic!("{v} in {doc}"));
    let udp = &doc["connection_requests"]["udp"];
    let http = &doc["connection_requests"]["http"];
    let rejected: u64 = UdpCrReject::ALL
        .iter()
        .map(|r| n(&udp[format!("rejected_{}", r.label())]))
        .sum();
    assert_eq!(n(&udp["received"]), n(&udp["accepted"]) + rejected, "{udp}");
    let fates = ["sessions", "merged", "device_off", "unserved"];
    let fated: u64 = fates.iter().map(|f| n(&udp[f])).sum();
    assert_eq!(n(&udp["accepted"]), fated, "{udp}");
    assert!(
        n(&udp["sessions"]) >= 20,
        "every device woken at least once: {udp}"
    );
    // No session failed, so each one with the event was opened by a UDP request (the ACS
    // sent none over HTTP).
    assert_eq!(n(&doc["sessions"]["failed"]), 0, "{doc}");
    assert_eq!(n(&http["accepted"]), 0, "{http}");
    assert_eq!(
        n(&doc["events"]["6 CONNECTION REQUEST"]),
        n(&udp["sessions"]),
        "{doc}"
    );
    // Three datagrams per request the ACS sent; only the last ones can miss the listener.
    let sent = n(&doc["embedded_acs"]["connection_requests"]["udp_sent"]);
    let received = n(&udp["received"]);
    assert!(
        received <= 3 * sent && 3 * sent - received <= 6,
        "ACS sent {sent} requests, the fleet received {received} datagrams"
    );
    assert!(
        n(&udp["rejected_replayed"]) <= 2 * n(&udp["accepted"]),
        "{udp}"
    );
    assert_eq!(n(&udp["rejected_bad_signature"]), 0, "{udp}");
    assert!(n(&udp["stun_responses"]) >= 20, "{udp}");
}
