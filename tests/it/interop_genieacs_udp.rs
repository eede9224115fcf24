//! The interop tier, UDP connection requests (TR-069 Annex G): a real GenieACS 1.2.16 wakes a
//! cpefleet device behind the simulated NAT over UDP, and the NBI task completes (200).
//!
//! The devices keep their STUN bindings with a real STUN server (coturn's `turnserver`, started
//! here; without it, the fleet's own STUN server) and report the mapped address as
//! UDPConnectionRequestAddress. GenieACS sends its datagram (three copies) from
//! `GENIEACS_UDP_CONNECTION_REQUEST_PORT` (`scripts/test.sh` sets it) and, beside it, an HTTP
//! request to ConnectionRequestURL, which a device behind the NAT never gets (the fleet's
//! listener answers 404): so the session that runs the task was opened by UDP.
//!
//! Same rules as `interop_genieacs`: without GenieACS, `SKIPPED`; under its lock.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::interop_genieacs::{genieacs, lock, nbi_get, root, Genie};
use crate::support::child::{self, Guard};
use crate::support::coturn::{coturn, which};
use crate::support::skip::in_ci;

/// Polls `done` every 500 ms for at most `secs` seconds (blocking: NBI calls are curl).
fn poll(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..secs * 2 {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    done()
}

/// `curl -X POST` with a JSON body: (status, body).
fn nbi_post(url: &str, body: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args([
            "-s",
            "-m",
            "40",
            "-X",
            "POST",
            "-w",
            "\n%{http_code}",
            "-d",
            body,
            url,
        ])
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

/// The gateway template with serials of this run (`UDP<run><index:03>`), so that a GenieACS
/// kept across runs never meets an earlier run's devices.
fn template(dir: &Path, run: u32) -> std::path::PathBuf {
    let text = std::fs::read_to_string(root().join("data-models/tr181-gateway.yaml")).unwrap();
    let pattern = "pattern: \"CPF{index:08}\"";
    assert!(
        text.contains(pattern),
        "the template's serial pattern moved"
    );
    let path = dir.join("gateway.yaml");
    let serial = format!("pattern: \"UDP{run:06}{{index:03}}\"");
    std::fs::write(&path, text.replace(pattern, &serial)).unwrap();
    path
}

/// The fleet: `count` gateways behind the NAT, STUN at `stun` (None: the fleet's own server).
fn scenario(dir: &Path, template: &Path, count: u32, stun: Option<std::net::SocketAddr>) -> String {
    let server = stun.map_or(String::new(), |a| {
        format!(
            "server: \"{}\"\n          port: {}\n          ",
            a.ip(),
            a.port()
        )
    });
    let yaml = format!(
        r#"name: genieacs-udp
seed: 7
time_scale: 60
duration: 120s
fleet:
  max_sessions: 20
  connection_requests: {{ listen: "127.0.0.1:0" }}
  groups:
    - name: natted
      template: {template}
      count: {count}
      connection_requests:
        transport: udp
        stun:
          {server}min_keep_alive: 2s
          max_keep_alive: 4s
        nat: {{ mapping_lifetime: 60s, changes_per_hour: 0, ports: 2 }}
phases:
  - boot: {{ over: 2s }}
  - steady: {{ for: 118s }}
"#,
        template = template.display()
    );
    let path = dir.join("udp.yaml");
    std::fs::write(&path, yaml).unwrap();
    path.display().to_string()
}

/// The projection of one device's parameter, as GenieACS's NBI lists it.
fn device_json(g: &Genie, id: &str, projection: &str) -> String {
    let q = format!("%7B%22_id%22%3A%22{id}%22%7D");
    nbi_get(&format!(
        "{}devices/?query={q}&projection={projection}",
        g.nbi
    ))
    .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_nbi_task_reaches_a_device_over_udp_and_completes() {
    let Some(g) = genieacs("an_nbi_task_reaches_a_device_over_udp_and_completes") else {
        return;
    };
    let stun = coturn().await;
    if stun.is_none() {
        assert!(
            !(in_ci() && which("turnserver").is_some()),
            "coturn is installed but did not start (CI=true)"
        );
        eprintln!("note: no coturn: the devices use the fleet's own STUN server");
    }
    if let Ok(port) = std::env::var("CPEFLEET_GENIEACS_UDP_CR_PORT") {
        eprintln!("GenieACS sends UDP connection requests from port {port}");
    }
    let _l = lock().lock().await;
    let run = cpefleet::conformance::new_run_id() % 1_000_000;
    let dir = tempfile::tempdir().unwrap();
    let template = template(dir.path(), run);
    let path = scenario(dir.path(), &template, 3, stun.as_ref().map(|s| s.addr));
    let report = dir.path().join("r.json");
    let mut fleet = Guard(child::spawn(&[
        "run",
        &path,
        "--acs",
        &g.cwmp,
        "--quiet",
        "--report-json",
        report.to_str().unwrap(),
    ]));
    let id = format!("00D09E-HGW181-UDP{run:06}001");
    let (task, ok) = tokio::task::block_in_place(|| drive(&g, &id));
    let _ = fleet.stop();
    let stderr = fleet.0.stderr.take().map_or(String::new(), |mut e| {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut e, &mut s);
        s
    });
    for i in 0..3 {
        let url = format!("{}devices/00D09E-HGW181-UDP{run:06}{i:03}", g.nbi);
        let _ = Command::new("curl")
            .args(["-s", "-X", "DELETE", &url])
            .status();
    }
    assert!(ok, "{task}\nfleet: {stderr}");
    eprintln!("{task}");
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&report).unwrap_or_else(|e| panic!("{e}: {stderr}")),
    )
    .unwrap();
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    let udp = &doc["connection_requests"]["udp"];
    let http = &doc["connection_requests"]["http"];
    eprintln!("fleet: udp {udp}\nfleet: http {http}");
    // GenieACS's datagram woke the device: accepted, its copies ignored as replays, a session.
    assert!(n(&udp["accepted"]) >= 1, "{udp}");
    assert!(n(&udp["sessions"]) >= 1, "{udp}");
    assert!(n(&udp["rejected_replayed"]) >= 2, "three copies: {udp}");
    assert_eq!(n(&udp["rejected_bad_signature"]), 0, "{udp}");
    // Its HTTP request beside it found no one behind the NAT, and woke nobody.
    assert!(n(&http["not_found"]) >= 1, "{http}");
    assert_eq!(n(&http["accepted"]), 0, "{http}");
    assert!(n(&udp["stun_responses"]) >= 3, "{udp}");
}

/// The NBI side: the device is known, the ACS reads its binding (a task run in its next
/// periodic session), then a task with `?connection_request` completes. Returns what happened
/// and whether the last task was answered 200.
fn drive(g: &Genie, id: &str) -> (String, bool) {
    let mut log = String::new();
    if !poll(60, || device_json(g, id, "_id").contains(id)) {
        return (format!("{id} never informed GenieACS"), false);
    }
    let ms = "Device.ManagementServer";
    let refresh = format!(
        r#"{{"name":"getParameterValues","parameterNames":["{ms}.UDPConnectionRequestAddress","{ms}.STUNEnable"]}}"#
    );
    let (code, body) = nbi_post(&format!("{}devices/{id}/tasks", g.nbi), &refresh);
    log.push_str(&format!("refresh task: {code} {body}\n"));
    let projection = format!("{ms}.UDPConnectionRequestAddress");
    let seen = poll(60, || {
        device_json(g, id, &projection).contains("\"_value\":\"127.0.0.1:")
    });
    log.push_str(&format!(
        "binding in GenieACS: {}\n",
        device_json(g, id, &format!("{projection},{ms}.STUNEnable"))
    ));
    if !seen {
        return (log, false);
    }
    let uptime = r#"{"name":"getParameterValues","parameterNames":["Device.DeviceInfo.UpTime"]}"#;
    let url = format!(
        "{}devices/{id}/tasks?connection_request&timeout=20000",
        g.nbi
    );
    let (code, body) = nbi_post(&url, uptime);
    log.push_str(&format!("task with ?connection_request: {code} {body}"));
    (log, code == 200)
}
