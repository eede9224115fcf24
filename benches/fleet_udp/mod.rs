//! UDP connection-request figures (TR-069 Annex G), a module of `benches/fleet.rs`:
//!
//! ```text
//! udp-memory N,N [--active 100000]   N devices reachable by UDP connection request, `active` of
//!                                    them keeping STUN bindings alive every 30–60 s (the rest
//!                                    every 5–10 min): RSS, bytes per device against the same
//!                                    N on HTTP only (alternated), keep-alive lag, and a
//!                                    sample of devices woken over UDP
//! cr-transports                      connection requests/s by transport, HTTP and UDP
//!                                    alternated in one sitting (A, B, A, B): min/median/max
//! ```
//!
//! The STUN server runs in its own process (this bench binary, `stun-server`), like the null
//! ACS, so the fleet's CPU is its own; it also tells the bench the fleet's shared UDP sockets
//! (the addresses it maps), which are where an ACS sends a UDP connection request.

use super::*;

use cpefleet::cr::udp::message::build;
use cpefleet::cr::udp::{UdpCrReject, UdpStats};

mod memory;
mod transports;

pub use memory::{udp_memory, udp_memory_one};
pub use transports::{cr_load_udp_main, cr_transports};

// === the STUN server's process ===

/// `stun-server`: answers Binding Requests on 127.0.0.1 (cpefleet's minimal server), prints its
/// address, then each new source address as `from ADDR` (at most 64).
pub fn stun_server_main() {
    runtime().block_on(async {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("STUN bind");
        println!("{}", socket.local_addr().expect("STUN address"));
        let stats = cpefleet::acs::stun_server::StunServerStats::default();
        let mut seen: Vec<SocketAddr> = Vec::new();
        let mut buf = vec![0u8; 2048];
        loop {
            let Ok((n, from)) = socket.recv_from(&mut buf).await else {
                continue;
            };
            if seen.len() < 64 && !seen.contains(&from) {
                seen.push(from);
                println!("from {from}");
            }
            let reply = cpefleet::acs::stun_server::answer(&buf[..n], from, None, &stats);
            if let Some(r) = reply {
                let _ = socket.try_send_to(&r, from);
            }
        }
    });
}

/// The STUN server's child process and the fleet sockets it has seen.
struct StunPeer {
    peer: Peer,
    sources: Arc<Mutex<Vec<SocketAddr>>>,
}

fn spawn_stun() -> StunPeer {
    let mut child = Command::new(std::env::current_exe().expect("current exe"))
        .arg("stun-server")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn STUN server");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let addr = lines
        .next()
        .and_then(Result::ok)
        .expect("STUN server address");
    let sources = Arc::new(Mutex::new(Vec::new()));
    let s = sources.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if let Some(a) = line.strip_prefix("from ").and_then(|a| a.parse().ok()) {
                s.lock().unwrap_or_else(|e| e.into_inner()).push(a);
            }
        }
    });
    StunPeer {
        peer: Peer { child, addr },
        sources,
    }
}

impl StunPeer {
    fn sources(&self) -> Vec<SocketAddr> {
        self.sources
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

// === scenarios ===

/// One group: `udp: Some((min, max, mapping lifetime))` puts it behind the NAT with STUN
/// keep-alives of that period (seconds); `None` is an HTTP group.
struct GroupSpec {
    name: &'static str,
    count: u32,
    udp: Option<(u64, u64, u64)>,
}

fn udp_scenario(acs: &str, stun: &str, groups: &[GroupSpec], boot_over: Duration) -> Scenario {
    let (host, port) = stun.rsplit_once(':').expect("STUN host:port");
    let mut g = String::new();
    for x in groups {
        g.push_str(&format!(
            "    - name: {}\n      template: {}\n      count: {}\n      bootstrapped: true\n      periodic_interval: 24h\n      jitter: 100%\n",
            x.name,
            gateway().display(),
            x.count
        ));
        if let Some((min, max, life)) = x.udp {
            g.push_str(&format!(
                "      connection_requests:\n        transport: udp\n        stun: {{ server: \"{host}\", port: {port}, min_keep_alive: {min}s, max_keep_alive: {max}s }}\n        nat: {{ mapping_lifetime: {life}s, changes_per_hour: 0, ports: 4 }}\n"
            ));
        }
    }
    let yaml = format!(
        "name: bench-udp\nseed: 1\nduration: 7200s\nacs:\n  url: \"{acs}\"\nfleet:\n  max_sessions: 512\n  connection_requests:\n    listen: \"127.0.0.1:0\"\n  groups:\n{g}phases:\n  - boot: {{ over: {}ms }}\n",
        boot_over.as_millis().max(1)
    );
    Scenario::parse(
        &yaml,
        &manifest().join("scenarios/bench.yaml"),
        &Overrides::default(),
    )
    .expect("bench scenario")
}

/// GenieACS's UDP connection request to device `index` (credentials `creds`), at `to`.
fn datagram(to: SocketAddr, creds: &(String, String), id: u64) -> Vec<u8> {
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let cn = format!("{id:016x}");
    build(
        &to.to_string(),
        ts,
        &id.to_string(),
        &creds.0,
        &cn,
        &creds.1,
    )
    .into_bytes()
}

fn median(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let m = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    (v[0], m, v[v.len() - 1])
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
