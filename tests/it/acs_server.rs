//! The embedded ACS over real sockets, driven by hand-written CWMP envelopes through a tiny
//! raw-TCP HTTP/1.1 client (so every header and every connection close is visible): sessions
//! and cookies, GenieACS's error answers, Digest auth, overload, the provisioning policy's
//! bootstrap, firmware download, connection requests, `/status`, and the schema validity of
//! every envelope the ACS emits.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::schema;

use cpefleet::acs::policy::{cr_password, Policy};
use cpefleet::acs::{start, AcsConfig, AcsHandle};
use cpefleet::auth::{Challenge, DigestResponse};
use cpefleet::cwmp::{decode_acs, AcsMessage, AcsRequest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

const NS10: &str = "urn:dslforum-org:cwmp-1-0";
const NS12: &str = "urn:dslforum-org:cwmp-1-2";

// ---- a tiny HTTP/1.1 client -----------------------------------------------------------------

#[derive(Debug, Clone)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn names(&self) -> Vec<String> {
        self.headers
            .iter()
            .map(|(k, _)| k.to_ascii_lowercase())
            .collect()
    }

    fn cookie(&self) -> String {
        let v = self.header("set-cookie").expect("Set-Cookie");
        v.strip_prefix("session=").expect("session=").to_string()
    }

    /// The ACS request this 200 carries.
    fn request(&self) -> (String, AcsRequest) {
        assert_eq!(self.status, 200, "{self:?}");
        let env = decode_acs(self.body.as_bytes()).expect("decodable ACS message");
        match env.body {
            AcsMessage::Request(r) => (env.header.id.unwrap_or_default(), r),
            other => panic!("expected an ACS request, got {other:?}"),
        }
    }
}

struct Http {
    s: TcpStream,
    buf: Vec<u8>,
    host: String,
}

const IO_LIMIT: Duration = Duration::from_secs(10);

impl Http {
    async fn connect(addr: SocketAddr) -> Http {
        Http {
            s: TcpStream::connect(addr).await.expect("connect"),
            buf: Vec::new(),
            host: addr.to_string(),
        }
    }

    async fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 8192];
        let n = tokio::time::timeout(IO_LIMIT, self.s.read(&mut chunk))
            .await
            .expect("read timed out")
            .unwrap_or(0);
        self.buf.extend_from_slice(&chunk[..n]);
        n
    }

    async fn read_response(&mut self) -> Resp {
        let head_end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            assert!(self.fill().await > 0, "connection closed before a response");
        };
        let head = String::from_utf8(self.buf[..head_end].to_vec()).expect("utf-8 head");
        self.buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status code");
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let find = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        let body = if status == 204 || status == 304 {
            Vec::new()
        } else if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            let mut out = Vec::new();
            loop {
                let line_end = loop {
                    if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                        break i;
                    }
                    assert!(self.fill().await > 0, "closed inside a chunk");
                };
                let size_text = String::from_utf8_lossy(&self.buf[..line_end]).to_string();
                let size = usize::from_str_radix(size_text.trim(), 16).expect("chunk size");
                self.buf.drain(..line_end + 2);
                while self.buf.len() < size + 2 {
                    assert!(self.fill().await > 0, "closed inside a chunk");
                }
                out.extend_from_slice(&self.buf[..size]);
                self.buf.drain(..size + 2);
                if size == 0 {
                    break out;
                }
            }
        } else {
            let n: usize = find("content-length")
                .and_then(|v| v.parse().ok())
                .expect("Content-Length");
            while self.buf.len() < n {
                assert!(self.fill().await > 0, "closed inside a body");
            }
            self.buf.drain(..n).collect()
        };
        Resp {
            status,
            headers,
            // Files are binary; CWMP bodies are UTF-8 and compared as text.
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    async fn raw(&mut self, bytes: &[u8]) -> Resp {
        self.s.write_all(bytes).await.expect("write");
        self.read_response().await
    }

    /// A CPE POST: SOAPAction only on requests, no Content-Type on the empty POST.
    async fn post(&mut self, body: &str, cookie: Option<&str>, extra: &[(&str, &str)]) -> Resp {
        let mut req = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nUser-Agent: acs-test\r\n",
            self.host
        );
        if !body.is_empty() {
            req.push_str("Content-Type: text/xml; charset=\"utf-8\"\r\n");
            if is_cpe_request(body) {
                req.push_str("SOAPAction: \"\"\r\n");
            }
        }
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        for (k, v) in extra {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(c) = cookie {
            req.push_str(&format!("Cookie: session={c}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        self.raw(req.as_bytes()).await
    }

    async fn get(&mut self, path: &str) -> Resp {
        let req = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.host);
        self.raw(req.as_bytes()).await
    }

    /// True when the server closed the connection (EOF within a second).
    async fn closed_by_server(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(
            tokio::time::timeout(Duration::from_secs(2), self.s.read(&mut b)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }
}

fn is_cpe_request(body: &str) -> bool {
    [
        "cwmp:Inform>",
        "cwmp:TransferComplete>",
        "cwmp:GetRPCMethods>",
        "cwmp:Kicked>",
    ]
    .iter()
    .any(|t| body.contains(&format!("<{t}")))
}

// ---- hand-written envelopes -----------------------------------------------------------------

fn envelope(ns: &str, id: &str, extra_header: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:soap-enc=\"http://schemas.xmlsoap.org/soap/encoding/\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:cwmp=\"{ns}\"><soap-env:Header><cwmp:ID soap-env:mustUnderstand=\"1\">{id}</cwmp:ID>{extra_header}</soap-env:Header><soap-env:Body>{body}</soap-env:Body></soap-env:Envelope>"
    )
}

fn inform_with(
    ns: &str,
    extra_header: &str,
    serial: &str,
    events: &[&str],
    params: &[(&str, &str, &str)],
) -> String {
    let ev: String = events
        .iter()
        .map(|e| {
            format!(
                "<EventStruct><EventCode>{e}</EventCode><CommandKey></CommandKey></EventStruct>"
            )
        })
        .collect();
    let pl: String = params
        .iter()
        .map(|(n, v, t)| {
            format!("<ParameterValueStruct><Name>{n}</Name><Value xsi:type=\"xsd:{t}\">{v}</Value></ParameterValueStruct>")
        })
        .collect();
    let body = format!(
        "<cwmp:Inform><DeviceId><Manufacturer>cpefleet</Manufacturer><OUI>00D09E</OUI><ProductClass>HGW181</ProductClass><SerialNumber>{serial}</SerialNumber></DeviceId><Event soap-enc:arrayType=\"cwmp:EventStruct[{}]\">{ev}</Event><MaxEnvelopes>1</MaxEnvelopes><CurrentTime>2026-11-25T16:17:12Z</CurrentTime><RetryCount>0</RetryCount><ParameterList soap-enc:arrayType=\"cwmp:ParameterValueStruct[{}]\">{pl}</ParameterList></cwmp:Inform>",
        events.len(),
        params.len()
    );
    envelope(ns, "cpe-1", extra_header, &body)
}

fn inform(ns: &str, serial: &str, events: &[&str]) -> String {
    inform_with(
        ns,
        "",
        serial,
        events,
        &[
            ("Device.DeviceInfo.SoftwareVersion", "1.0", "string"),
            (
                "Device.ManagementServer.ConnectionRequestURL",
                "http://127.0.0.1:9/cr",
                "string",
            ),
        ],
    )
}

fn gpv_response(ns: &str, id: &str, values: &[(&str, &str, &str)]) -> String {
    let items: String = values
        .iter()
        .map(|(n, v, t)| {
            format!("<ParameterValueStruct><Name>{n}</Name><Value xsi:type=\"xsd:{t}\">{v}</Value></ParameterValueStruct>")
        })
        .collect();
    envelope(
        ns,
        id,
        "",
        &format!(
            "<cwmp:GetParameterValuesResponse><ParameterList soap-enc:arrayType=\"cwmp:ParameterValueStruct[{}]\">{items}</ParameterList></cwmp:GetParameterValuesResponse>",
            values.len()
        ),
    )
}

fn gpn_response(ns: &str, id: &str, names: &[(String, bool)]) -> String {
    let items: String = names
        .iter()
        .map(|(n, w)| {
            format!(
                "<ParameterInfoStruct><Name>{n}</Name><Writable>{}</Writable></ParameterInfoStruct>",
                u8::from(*w)
            )
        })
        .collect();
    envelope(
        ns,
        id,
        "",
        &format!(
            "<cwmp:GetParameterNamesResponse><ParameterList soap-enc:arrayType=\"cwmp:ParameterInfoStruct[{}]\">{items}</ParameterList></cwmp:GetParameterNamesResponse>",
            names.len()
        ),
    )
}

fn empty_response(ns: &str, id: &str, name: &str) -> String {
    envelope(ns, id, "", &format!("<cwmp:{name}></cwmp:{name}>"))
}

fn status_response(ns: &str, id: &str, name: &str) -> String {
    envelope(
        ns,
        id,
        "",
        &format!("<cwmp:{name}><Status>0</Status></cwmp:{name}>"),
    )
}

fn cpe_fault(ns: &str, id: &str, code: u32) -> String {
    envelope(
        ns,
        id,
        "",
        &format!("<soap-env:Fault><faultcode>Client</faultcode><faultstring>CWMP fault</faultstring><detail><cwmp:Fault><FaultCode>{code}</FaultCode><FaultString>x</FaultString></cwmp:Fault></detail></soap-env:Fault>"),
    )
}

// ---- ACS set-up ---------------------------------------------------------------------------

struct Acs {
    handle: AcsHandle,
    cancel: CancellationToken,
}

impl Acs {
    async fn start(cfg: AcsConfig) -> Acs {
        let cancel = CancellationToken::new();
        let handle = start(cfg, cancel.clone()).await.expect("ACS starts");
        Acs { handle, cancel }
    }

    async fn null() -> Acs {
        Acs::start(AcsConfig::new(loopback(), Policy::Null)).await
    }

    async fn with_policy(yaml: &str) -> Acs {
        Acs::start(AcsConfig::new(
            loopback(),
            Policy::parse(yaml).expect("policy"),
        ))
        .await
    }

    fn addr(&self) -> SocketAddr {
        self.handle.local_addr()
    }

    async fn conn(&self) -> Http {
        Http::connect(self.addr()).await
    }

    async fn status_json(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self.conn().await.get(path).await;
        (
            r.status,
            serde_json::from_str(&r.body).expect("status is JSON"),
        )
    }
}

impl Drop for Acs {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

const DEV: &str = "00D09E-HGW181-";

// ---- sessions and GenieACS's answers ---------------------------------------------------------

#[tokio::test]
async fn null_policy_inform_then_empty_post_ends_with_204() {
    let acs = Acs::null().await;
    let mut c = acs.conn().await;
    let r = c
        .post(&inform(NS10, "N1", &["2 PERIODIC"]), None, &[])
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.names(),
        [
            "content-length",
            "server",
            "soapserver",
            "content-type",
            "set-cookie",
            "date",
            "connection"
        ]
    );
    assert_eq!(r.header("connection"), Some("keep-alive"));
    assert_eq!(
        r.header("content-type"),
        Some("text/xml; charset=\"utf-8\"")
    );
    let cookie = r.cookie();
    assert_eq!(cookie.len(), 16);
    assert!(cookie
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert!(r.body.starts_with(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap-env:Envelope xmlns:soap-enc=\"http://schemas.xmlsoap.org/soap/encoding/\" xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:cwmp=\"urn:dslforum-org:cwmp-1-0\">"
    ), "{}", r.body);
    assert!(r.body.contains(
        "<soap-env:Header><cwmp:ID soap-env:mustUnderstand=\"1\">cpe-1</cwmp:ID></soap-env:Header><soap-env:Body><cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>"
    ));
    let r = c.post("", Some(&cookie), &[]).await;
    assert_eq!(r.status, 204);
    // GenieACS also sends `Content-Length: 0`; hyper never writes one on a 204 (RFC 9110
    // forbids it), which every HTTP client reads the same.
    assert_eq!(r.names(), ["server", "soapserver", "connection", "date"]);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.closed_by_server().await);
    let s = acs.handle.status();
    assert_eq!(s.sessions.started, 1);
    assert_eq!(s.sessions.ended.get("completed"), Some(&1));
    assert_eq!(s.sessions.active, 0);
    // The null policy records the device too (the README sends users to its status).
    assert_eq!(s.devices.known, 1);
}

/// `/status/devices/<id>` answers under the default null policy, as the README says: the
/// device's identity, its last Inform's events and values.
#[tokio::test]
async fn null_policy_records_devices_for_their_status() {
    let acs = Acs::null().await;
    let mut c = acs.conn().await;
    let r = c.post(&inform(NS10, "N7", &["1 BOOT"]), None, &[]).await;
    assert_eq!(r.status, 200);
    let cookie = r.cookie();
    assert_eq!(c.post("", Some(&cookie), &[]).await.status, 204);
    let (code, d) = acs.status_json(&format!("/status/devices/{DEV}N7")).await;
    assert_eq!(code, 200, "{d}");
    assert_eq!(d["serial_number"], "N7");
    assert_eq!(d["last_events"][0], "1 BOOT");
    assert_eq!(
        d["parameters"]["Device.DeviceInfo.SoftwareVersion"]["value"],
        "1.0"
    );
    let (_, list) = acs.status_json("/status/devices").await;
    assert_eq!(list["devices"][0], format!("{DEV}N7").as_str());
}

#[tokio::test]
async fn a_session_needs_its_cookie_even_on_the_same_socket() {
    let acs = Acs::null().await;
    let mut c = acs.conn().await;
    let r = c
        .post(&inform(NS10, "C1", &["2 PERIODIC"]), None, &[])
        .await;
    assert_eq!(r.status, 200);
    let r = c.post("", None, &[]).await;
    assert_eq!((r.status, r.body.as_str()), (400, "Invalid session"));
    assert_eq!(r.names(), ["content-length", "connection", "date"]);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.closed_by_server().await);
    // First message of a connection that is not an Inform, without a cookie.
    let tc = envelope(
        NS10,
        "cpe-2",
        "",
        "<cwmp:GetRPCMethods></cwmp:GetRPCMethods>",
    );
    let r = acs.conn().await.post(&tc, None, &[]).await;
    assert_eq!((r.status, r.body.as_str()), (400, "Invalid session"));
    assert!(acs.handle.status().rejected["invalid_session"] >= 2);
}

#[tokio::test]
async fn a_session_survives_a_new_connection_with_its_cookie() {
    let acs = Acs::null().await;
    let mut c = acs.conn().await;
    let cookie = c
        .post(&inform(NS10, "R1", &["2 PERIODIC"]), None, &[])
        .await
        .cookie();
    drop(c);
    let mut c2 = acs.conn().await;
    // A CPE request in state 1 on the new connection, then the empty POST.
    let rpc = envelope(
        NS10,
        "cpe-2",
        "",
        "<cwmp:GetRPCMethods></cwmp:GetRPCMethods>",
    );
    let r = c2.post(&rpc, Some(&cookie), &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<MethodList soap-enc:arrayType=\"xsd:string[3]\"><string>Inform</string><string>GetRPCMethods</string><string>TransferComplete</string></MethodList>"), "{}", r.body);
    assert!(r.body.contains(">cpe-2</cwmp:ID>"));
    assert!(r.header("set-cookie").is_none());
    assert_eq!(c2.post("", Some(&cookie), &[]).await.status, 204);
}

#[tokio::test]
async fn unsupported_cpe_methods_get_a_well_formed_fault_8000() {
    let acs = Acs::null().await;
    let mut c = acs.conn().await;
    let cookie = c
        .post(&inform(NS10, "K1", &["2 PERIODIC"]), None, &[])
        .await
        .cookie();
    let kicked = envelope(
        NS10,
        "cpe-7",
        "",
        "<cwmp:Kicked><Command>c</Command><Referer>r</Referer><Arg>a</Arg><Next>n</Next></cwmp:Kicked>",
    );
    let r = c.post(&kicked, Some(&cookie), &[]).await;
    assert_eq!(r.status, 200);
    let env = decode_acs(r.body.as_bytes()).expect("well-formed fault");
    match env.body {
        AcsMessage::Fault(f) => assert_eq!(f.code, 8000),
        other => panic!("{other:?}"),
    }
    assert!(r
        .body
        .contains("<soap-env:Fault><faultcode>Server</faultcode>"));
    assert_eq!(env.header.id.as_deref(), Some("cpe-7"));
    assert_eq!(c.post("", Some(&cookie), &[]).await.status, 204);
    assert_eq!(acs.handle.status().acs_faults["8000"], 1);
}

#[tokio::test]
async fn bad_session_state_inform_twice_and_cpe_request_after_the_empty_post() {
    let acs = Acs::null().await;
    let mut c = acs.conn().await;
    let cookie = c
        .post(&inform(NS10, "B1", &["2 PERIODIC"]), None, &[])
        .await
        .cookie();
    let r = c
        .post(&inform(NS10, "B1", &["2 PERIODIC"]), Some(&cookie), &[])
        .await;
    assert_eq!((r.status, r.body.as_str()), (400, "Bad session state"));
    assert_eq!(r.header("connection"), Some("close"));

    let acs = Acs::with_policy(
        "tasks:\n  - name: uptime\n    rpcs:\n      - GetParameterValues: [\"{root}DeviceInfo.UpTime\"]\n",
    )
    .await;
    let mut c = acs.conn().await;
    let cookie = c
        .post(&inform(NS12, "B2", &["2 PERIODIC"]), None, &[])
        .await
        .cookie();
    let (_, q) = c.post("", Some(&cookie), &[]).await.request();
    assert!(matches!(q, AcsRequest::GetParameterValues(_)));
    let rpc = envelope(
        NS12,
        "cpe-3",
        "",
        "<cwmp:GetRPCMethods></cwmp:GetRPCMethods>",
    );
    let r = c.post(&rpc, Some(&cookie), &[]).await;
    assert_eq!((r.status, r.body.as_str()), (400, "Bad session state"));
    assert!(c.closed_by_server().await);
    let (code, d) = acs.status_json(&format!("/status/devices/{DEV}B2")).await;
    assert_eq!(code, 200);
    assert_eq!(d["last_session_outcome"], "bad_session_state");
    assert_eq!(d["tasks"][0]["task"], "uptime");
    assert_eq!(d["tasks"][0]["result"], "session_terminated");
}

/// Answers the outstanding GetParameterValues (of DeviceInfo.UpTime) with a cwmp:ID that is
/// not the one the ACS sent.
async fn answer_with_the_wrong_id(c: &mut Http, cookie: &str) -> Resp {
    let body = gpv_response(
        NS12,
        "not-the-id",
        &[("Device.DeviceInfo.UpTime", "5", "unsignedInt")],
    );
    c.post(&body, Some(cookie), &[]).await
}

#[tokio::test]
async fn a_wrong_cwmp_id_ends_the_session_and_is_recorded() {
    let acs = Acs::with_policy(
        "tasks:\n  - name: uptime\n    repeat: true\n    rpcs:\n      - GetParameterValues: [\"{root}DeviceInfo.UpTime\"]\n",
    )
    .await;
    let mut c = acs.conn().await;
    let cookie = c
        .post(&inform(NS12, "W1", &["2 PERIODIC"]), None, &[])
        .await
        .cookie();
    let (id, _) = c.post("", Some(&cookie), &[]).await.request();
    assert_eq!(id.len(), 15);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    let r = answer_with_the_wrong_id(&mut c, &cookie).await;
    assert_eq!(r.status, 204);
    assert!(c.closed_by_server().await);
    let s = acs.handle.status();
    assert_eq!(s.sessions.ended.get("invalid_response"), Some(&1));
    let d = acs.handle.device(&format!("{DEV}W1")).expect("device");
    assert_eq!(d.tasks.last().map(|t| t.result), Some("invalid_response"));

    // The right ID is accepted and the value learnt.
    let mut c = acs.conn().await;
    let cookie = c
        .post(&inform(NS12, "W1", &["2 PERIODIC"]), None, &[])
        .await
        .cookie();
    let (id, _) = c.post("", Some(&cookie), &[]).await.request();
    let r = c
        .post(
            &gpv_response(
                NS12,
                &id,
                &[("Device.DeviceInfo.UpTime", "5", "unsignedInt")],
            ),
            Some(&cookie),
            &[],
        )
        .await;
    assert_eq!(r.status, 204);
    let d = acs.handle.device(&format!("{DEV}W1")).expect("device");
    assert_eq!(d.parameters["Device.DeviceInfo.UpTime"].value, "5");
    assert_eq!(d.tasks.last().map(|t| t.result), Some("ok"));
}

/// `cpefleet acs`, the binary, serves a CPE that is not cpefleet: hand-written envelopes over
/// plain HTTP, as curl would send them, including a wrong cwmp:ID and a malformed body. On
/// SIGTERM it exits 0 and prints what it learnt.
#[tokio::test]
async fn the_acs_binary_serves_a_hand_written_cpe() {
    use std::io::Read;
    use std::process::Stdio;

    use crate::support::child;

    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "tasks:\n  - name: uptime\n    rpcs:\n      - GetParameterValues: [\"{root}DeviceInfo.UpTime\"]\n",
    )
    .unwrap();
    let mut child = child::cpefleet()
        .args(["acs", "--listen", "127.0.0.1:0", "--policy"])
        .arg(&policy)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cpefleet acs");
    // It announces "cpefleet ACS listening on http://ADDR/ (…)" on stderr.
    let stderr = child::stderr_lines(&mut child);
    let line = child::wait_for_line(&stderr, &mut Vec::new(), "listening on http://");
    let addr: SocketAddr = line
        .split("listening on http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));

    // Inform → InformResponse with a session cookie; empty POST → the task's GPV.
    let mut c = Http::connect(addr).await;
    let r = c.post(&inform(NS12, "B1", &["1 BOOT"]), None, &[]).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("InformResponse"), "{}", r.body);
    let cookie = r.cookie();
    let (id, req) = c.post("", Some(&cookie), &[]).await.request();
    assert!(matches!(req, AcsRequest::GetParameterValues(_)), "{req:?}");
    assert!(!id.is_empty());
    // A response carrying another cwmp:ID ends the session.
    let r = answer_with_the_wrong_id(&mut c, &cookie).await;
    assert_eq!(r.status, 204);
    // A malformed body on a new connection is a 400, and the ACS carries on.
    let r = Http::connect(addr)
        .await
        .post("<soap-env:Envelope><broken", None, &[])
        .await;
    assert_eq!(r.status, 400);
    let r = Http::connect(addr).await.get("/status").await;
    assert_eq!(r.status, 200);
    let live: serde_json::Value = serde_json::from_str(&r.body).expect("status is JSON");
    assert_eq!(live["sessions"]["ended"]["invalid_response"], 1, "{live}");

    child::signal(&child, "-TERM");
    assert_eq!(
        child::wait_exit(&mut child),
        Some(0),
        "the ACS stops on SIGTERM"
    );
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let last: serde_json::Value = serde_json::from_str(&out).expect("final status is JSON");
    assert_eq!(last["sessions"]["started"], 1, "{last}");
    assert_eq!(last["sessions"]["ended"]["invalid_response"], 1, "{last}");
    assert_eq!(last["rpcs_sent"]["GetParameterValues"], 1, "{last}");
}

#[tokio::test]
async fn bad_input_gets_400_never_a_crash() {
    let acs = Acs::null().await;
    let full = inform(NS10, "X1", &["2 PERIODIC"]);
    let cut = &full[..full.len() / 2];
    let r = acs.conn().await.post(cut, None, &[]).await;
    assert_eq!(r.status, 400);
    assert!(!r.body.is_empty() && r.body.len() <= 200, "{}", r.body);
    assert_eq!(r.header("connection"), Some("close"));

    let r = acs
        .conn()
        .await
        .post("hello, this is not XML", None, &[])
        .await;
    assert_eq!(r.status, 400);

    // Unknown namespace, GenieACS-rejected cwmp-1-4, and an Inform in no namespace.
    for ns in ["urn:dslforum-org:cwmp-2-0", "urn:dslforum-org:cwmp-1-4"] {
        let r = acs
            .conn()
            .await
            .post(&inform(ns, "X2", &["2 PERIODIC"]), None, &[])
            .await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (400, "Unrecognized CWMP version"),
            "{ns}"
        );
    }
    let no_ns = inform(NS10, "X3", &["1 BOOT"]).replace("cwmp:Inform", "Inform");
    let r = acs.conn().await.post(&no_ns, None, &[]).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (400, "Unrecognized CWMP version")
    );

    // No DeviceId, empty SerialNumber.
    let no_dev = inform(NS10, "X4", &["1 BOOT"]).replace(
        "<DeviceId><Manufacturer>cpefleet</Manufacturer><OUI>00D09E</OUI><ProductClass>HGW181</ProductClass><SerialNumber>X4</SerialNumber></DeviceId>",
        "",
    );
    let r = acs.conn().await.post(&no_dev, None, &[]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("DeviceId"), "{}", r.body);
    let r = acs
        .conn()
        .await
        .post(&inform(NS10, "", &["1 BOOT"]), None, &[])
        .await;
    assert_eq!(r.status, 400);

    // A body over the limit is refused from its Content-Length.
    let mut c = acs.conn().await;
    let r = c
        .raw(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n<")
        .await;
    assert_eq!((r.status, r.body.as_str()), (400, "Request body too large"));

    // Only POST.
    let r = acs.conn().await.get("/").await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.body, "405 Method Not Allowed");

    // A malformed message inside a session ends it.
    let mut c = acs.conn().await;
    let cookie = c
        .post(&inform(NS10, "X5", &["2 PERIODIC"]), None, &[])
        .await
        .cookie();
    let r = c.post("<soap-env:Envelope", Some(&cookie), &[]).await;
    assert_eq!(r.status, 400);
    let s = acs.handle.status();
    assert_eq!(s.sessions.ended.get("malformed"), Some(&1));
    assert_eq!(s.sessions.active, 0);
    // Still serving.
    let mut c = acs.conn().await;
    let cookie = c
        .post(&inform(NS10, "X6", &["2 PERIODIC"]), None, &[])
        .await
        .cookie();
    assert_eq!(c.post("", Some(&cookie), &[]).await.status, 204);
}

#[tokio::test]
async fn cwmp_versions_are_answered_in_the_informs_namespace() {
    let acs = Acs::null().await;
    // 1.4: cwmp-1-2 plus SupportedCWMPVersions.
    let hdr = "<cwmp:SupportedCWMPVersions soap-env:mustUnderstand=\"0\">1.0,1.1,1.2,1.3,1.4</cwmp:SupportedCWMPVersions>";
    let r = acs
        .conn()
        .await
        .post(
            &inform_with(NS12, hdr, "V1", &["2 PERIODIC"], &[]),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("xmlns:cwmp=\"urn:dslforum-org:cwmp-1-2\""));
    assert!(
        r.body.contains(
            "<cwmp:UseCWMPVersion soap-env:mustUnderstand=\"1\">1.4</cwmp:UseCWMPVersion>"
        ),
        "{}",
        r.body
    );
    // The highest version both know.
    let hdr = "<cwmp:SupportedCWMPVersions soap-env:mustUnderstand=\"0\">1.0,1.2,1.9</cwmp:SupportedCWMPVersions>";
    let r = acs
        .conn()
        .await
        .post(
            &inform_with(NS12, hdr, "V2", &["2 PERIODIC"], &[]),
            None,
            &[],
        )
        .await;
    assert!(r.body.contains(">1.2</cwmp:UseCWMPVersion>"), "{}", r.body);
    // Nothing in common: fault 8006, no session.
    let hdr = "<cwmp:SupportedCWMPVersions soap-env:mustUnderstand=\"0\">2.0</cwmp:SupportedCWMPVersions>";
    let r = acs
        .conn()
        .await
        .post(
            &inform_with(NS12, hdr, "V3", &["2 PERIODIC"], &[]),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.header("set-cookie").is_none());
    assert_eq!(r.header("connection"), Some("close"));
    match decode_acs(r.body.as_bytes()).expect("fault").body {
        AcsMessage::Fault(f) => assert_eq!(f.code, 8006),
        other => panic!("{other:?}"),
    }
    // 1.1, and the non-standard cwmp-1-3 echoed like GenieACS does.
    for (ns, serial) in [
        ("urn:dslforum-org:cwmp-1-1", "V4"),
        ("urn:dslforum-org:cwmp-1-3", "V5"),
    ] {
        let mut c = acs.conn().await;
        let r = c
            .post(&inform(ns, serial, &["2 PERIODIC"]), None, &[])
            .await;
        assert_eq!(r.status, 200, "{ns}");
        assert!(
            r.body.contains(&format!("xmlns:cwmp=\"{ns}\"")),
            "{}",
            r.body
        );
        assert_eq!(c.post("", Some(&r.cookie()), &[]).await.status, 204);
    }
    assert_eq!(acs.handle.status().sessions.ended["version_mismatch"], 1);
}

#[tokio::test]
async fn transfer_complete_is_answered_before_the_empty_post() {
    let acs = Acs::with_policy("seed: t\n").await;
    let mut c = acs.conn().await;
    let cookie = c
        .post(
            &inform(NS10, "T1", &["7 TRANSFER COMPLETE", "M Download"]),
            None,
            &[],
        )
        .await
        .cookie();
    let tc = envelope(
        NS10,
        "cpe-2",
        "",
        "<cwmp:TransferComplete><CommandKey>k1</CommandKey><FaultStruct><FaultCode>9010</FaultCode><FaultString>Download failure</FaultString></FaultStruct><StartTime>0001-01-01T00:00:00Z</StartTime><CompleteTime>0001-01-01T00:00:00Z</CompleteTime></cwmp:TransferComplete>",
    );
    let r = c.post(&tc, Some(&cookie), &[]).await;
    assert_eq!(r.status, 200);
    assert!(r
        .body
        .contains("<cwmp:TransferCompleteResponse></cwmp:TransferCompleteResponse>"));
    assert_eq!(c.post("", Some(&cookie), &[]).await.status, 204);
    let d = acs.handle.device(&format!("{DEV}T1")).expect("device");
    assert_eq!(d.transfers[0].command_key, "k1");
    assert_eq!(d.transfers[0].fault_code, 9010);
    assert_eq!(acs.handle.status().transfers.complete_fault, 1);
}

// ---- auth and overload ----------------------------------------------------------------------

fn digest_answer(challenge: &str, user: &str, pass: &str) -> String {
    let Ok(Some(Challenge::Digest(c))) = Challenge::parse(challenge) else {
        panic!("not a Digest challenge: {challenge}");
    };
    c.authorization(user, pass, "POST", "/", 1, "0a4f113b0a4f113b")
}

#[tokio::test]
async fn digest_auth_challenge_then_success_on_the_same_socket() {
    let mut cfg = AcsConfig::new(loopback(), Policy::Null);
    cfg.auth = Some(("cpe".into(), "secret".into()));
    let acs = Acs::start(cfg).await;
    let body = inform(NS10, "A1", &["2 PERIODIC"]);
    let mut c = acs.conn().await;
    let r = c.post(&body, None, &[]).await;
    assert_eq!((r.status, r.body.as_str()), (401, "Unauthorized"));
    assert_eq!(r.header("connection"), Some("keep-alive"));
    let ch = r.header("www-authenticate").expect("challenge").to_string();
    assert!(
        ch.starts_with("Digest realm=\"cpefleet\",qop=\"auth\",nonce=\""),
        "{ch}"
    );
    let auth = digest_answer(&ch, "cpe", "secret");
    let r = c.post(&body, None, &[("Authorization", &auth)]).await;
    assert_eq!(r.status, 200);
    let cookie = r.cookie();
    // The rest of the connection is not challenged.
    assert_eq!(c.post("", Some(&cookie), &[]).await.status, 204);

    // The nonce is stateless (time + MAC): an answer on another connection is accepted too,
    // and a session continuing on a new connection is challenged again, like GenieACS.
    let mut c = acs.conn().await;
    let ch = c
        .post(&body, None, &[])
        .await
        .header("www-authenticate")
        .unwrap()
        .to_string();
    let auth = digest_answer(&ch, "cpe", "secret");
    let mut other = acs.conn().await;
    let r = other.post(&body, None, &[("Authorization", &auth)]).await;
    assert_eq!(r.status, 200);
    let cookie = r.cookie();
    let r = acs.conn().await.post("", Some(&cookie), &[]).await;
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").is_some());

    // Wrong password: 401 without a challenge, connection closed.
    let mut c = acs.conn().await;
    let r = c.post(&body, None, &[]).await;
    let ch = r.header("www-authenticate").expect("challenge").to_string();
    let auth = digest_answer(&ch, "cpe", "guess");
    let r = c.post(&body, None, &[("Authorization", &auth)]).await;
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").is_none());
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.closed_by_server().await);
    let s = acs.handle.status();
    assert_eq!(s.rejected["auth_failed"], 1);
    assert_eq!(s.sessions.started, 2);
}

#[tokio::test]
async fn new_sessions_beyond_the_limit_get_503_and_running_ones_finish() {
    let mut cfg = AcsConfig::new(loopback(), Policy::Null);
    cfg.max_concurrent_sessions = Some(1);
    let acs = Acs::start(cfg).await;
    let mut first = acs.conn().await;
    let cookie = first
        .post(&inform(NS10, "O1", &["2 PERIODIC"]), None, &[])
        .await
        .cookie();
    let mut second = acs.conn().await;
    let r = second
        .post(&inform(NS10, "O2", &["2 PERIODIC"]), None, &[])
        .await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("60"));
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.body, "503 Service Unavailable");
    // The open session is not refused.
    assert_eq!(first.post("", Some(&cookie), &[]).await.status, 204);
    // And the slot is free again.
    let mut third = acs.conn().await;
    let r = third
        .post(&inform(NS10, "O2", &["2 PERIODIC"]), None, &[])
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(acs.handle.status().rejected["overloaded"], 1);
}

#[tokio::test]
async fn idle_sessions_expire() {
    let mut cfg = AcsConfig::new(loopback(), Policy::Null);
    cfg.session_timeout = Duration::from_millis(300);
    cfg.max_concurrent_sessions = Some(1);
    let acs = Acs::start(cfg).await;
    let mut c = acs.conn().await;
    let cookie = c
        .post(&inform(NS10, "E1", &["2 PERIODIC"]), None, &[])
        .await
        .cookie();
    // Wait for the sweep to expire it (an event), bounded, rather than a guessed time.
    for _ in 0..1000 {
        if acs.handle.status().sessions.ended.contains_key("timeout") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let s = acs.handle.status();
    assert_eq!(s.sessions.ended.get("timeout"), Some(&1));
    assert_eq!(s.sessions.active, 0);
    let r = acs.conn().await.post("", Some(&cookie), &[]).await;
    assert_eq!((r.status, r.body.as_str()), (400, "Invalid session"));
    // The expired session's slot is free.
    let r = acs
        .conn()
        .await
        .post(&inform(NS10, "E2", &["2 PERIODIC"]), None, &[])
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn a_cwmp_1_3_session_timeout_header_is_honoured() {
    let mut cfg = AcsConfig::new(loopback(), Policy::Null);
    cfg.session_timeout = Duration::from_millis(300);
    let acs = Acs::start(cfg).await;
    let hdr = "<cwmp:SessionTimeout soap-env:mustUnderstand=\"0\">5</cwmp:SessionTimeout>";
    let mut c = acs.conn().await;
    let r = c
        .post(
            &inform_with(NS12, hdr, "ST1", &["2 PERIODIC"], &[]),
            None,
            &[],
        )
        .await;
    let cookie = r.cookie();
    tokio::time::sleep(Duration::from_millis(900)).await;
    // Past the ACS's own 300 ms, within the CPE's 5 s.
    assert_eq!(c.post("", Some(&cookie), &[]).await.status, 204);
}

// ---- a small TR-181 CPE for the provisioning policy ------------------------------------------

/// name -> (value, xsd type, writable)
type Tree = BTreeMap<String, (String, &'static str, bool)>;

fn tree() -> Tree {
    let mut t = Tree::new();
    let mut p = |n: &str, v: &str, ty: &'static str, w: bool| {
        t.insert(n.to_string(), (v.to_string(), ty, w));
    };
    p("Device.RootDataModelVersion", "2.15", "string", false);
    p(
        "Device.DeviceInfo.Manufacturer",
        "cpefleet",
        "string",
        false,
    );
    p("Device.DeviceInfo.SoftwareVersion", "1.0", "string", false);
    for i in 0..30 {
        p(
            &format!("Device.DeviceInfo.X_Param{i:02}"),
            "v",
            "string",
            false,
        );
    }
    p("Device.ManagementServer.URL", "http://acs", "string", true);
    p(
        "Device.ManagementServer.ConnectionRequestURL",
        "http://127.0.0.1:9/cr",
        "string",
        false,
    );
    p(
        "Device.ManagementServer.ConnectionRequestUsername",
        "",
        "string",
        true,
    );
    p(
        "Device.ManagementServer.ConnectionRequestPassword",
        "",
        "string",
        true,
    );
    p(
        "Device.ManagementServer.PeriodicInformEnable",
        "true",
        "boolean",
        true,
    );
    p(
        "Device.ManagementServer.PeriodicInformInterval",
        "60",
        "unsignedInt",
        true,
    );
    p("Device.WiFi.SSID.1.SSID", "home", "string", true);
    p("Device.WiFi.SSID.1.Enable", "1", "boolean", true);
    t
}

fn objects(t: &Tree) -> Vec<String> {
    let mut out: Vec<String> = t
        .keys()
        .flat_map(|n| {
            n.match_indices('.')
                .map(|(i, _)| n[..=i].to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// GetParameterNames over the tree, as TR-069 defines it.
fn gpn(t: &Tree, path: &str, next_level: bool) -> Vec<(String, bool)> {
    if path.is_empty() && next_level {
        return vec![("Device.".into(), false)];
    }
    let mut names: Vec<(String, bool)> = objects(t)
        .into_iter()
        .map(|o| (o, false))
        .chain(t.iter().map(|(n, (_, _, w))| (n.clone(), *w)))
        .filter(|(n, _)| n.starts_with(path) && n.as_str() != path)
        .filter(|(n, _)| {
            if !next_level {
                return true;
            }
            let rest = &n[path.len()..];
            let rest = rest.strip_suffix('.').unwrap_or(rest);
            !rest.contains('.')
        })
        .collect();
    names.sort();
    names
}

struct Cpe {
    tree: Tree,
    ns: &'static str,
    /// Every ACS request seen, in order.
    seen: Vec<AcsRequest>,
    /// Every ACS envelope body received.
    bodies: Vec<String>,
}

impl Cpe {
    fn new(ns: &'static str) -> Self {
        Cpe {
            tree: tree(),
            ns,
            seen: Vec::new(),
            bodies: Vec::new(),
        }
    }

    fn answer(&mut self, id: &str, q: &AcsRequest) -> String {
        let ns = self.ns;
        match q {
            AcsRequest::GetParameterNames(g) => {
                gpn_response(ns, id, &gpn(&self.tree, &g.parameter_path, g.next_level))
            }
            AcsRequest::GetParameterValues(g) => {
                if let Some(bad) = g.parameter_names.iter().find(|n| !self.tree.contains_key(*n)) {
                    let _ = bad;
                    return cpe_fault(ns, id, 9005);
                }
                let vals: Vec<(&str, &str, &str)> = g
                    .parameter_names
                    .iter()
                    .filter_map(|n| {
                        self.tree
                            .get_key_value(n)
                            .map(|(k, (v, t, _))| (k.as_str(), v.as_str(), *t))
                    })
                    .collect();
                gpv_response(ns, id, &vals)
            }
            AcsRequest::SetParameterValues(s) => {
                for p in &s.parameter_list {
                    if let Some(slot) = self.tree.get_mut(&p.name) {
                        slot.0 = p.value.clone();
                    }
                }
                status_response(ns, id, "SetParameterValuesResponse")
            }
            AcsRequest::GetParameterAttributes(_) => envelope(
                ns,
                id,
                "",
                "<cwmp:GetParameterAttributesResponse><ParameterList soap-enc:arrayType=\"cwmp:ParameterAttributeStruct[1]\"><ParameterAttributeStruct><Name>Device.DeviceInfo.SoftwareVersion</Name><Notification>2</Notification><AccessList soap-enc:arrayType=\"xsd:string[0]\"></AccessList></ParameterAttributeStruct></ParameterList></cwmp:GetParameterAttributesResponse>",
            ),
            AcsRequest::SetParameterAttributes(_) => {
                empty_response(ns, id, "SetParameterAttributesResponse")
            }
            AcsRequest::AddObject(_) => envelope(
                ns,
                id,
                "",
                "<cwmp:AddObjectResponse><InstanceNumber>2</InstanceNumber><Status>0</Status></cwmp:AddObjectResponse>",
            ),
            AcsRequest::DeleteObject(_) => status_response(ns, id, "DeleteObjectResponse"),
            AcsRequest::Reboot(_) => empty_response(ns, id, "RebootResponse"),
            AcsRequest::FactoryReset => empty_response(ns, id, "FactoryResetResponse"),
            AcsRequest::ScheduleInform(_) => empty_response(ns, id, "ScheduleInformResponse"),
            AcsRequest::Download(_) | AcsRequest::Upload(_) => {
                let name = if matches!(q, AcsRequest::Download(_)) {
                    "DownloadResponse"
                } else {
                    "UploadResponse"
                };
                envelope(
                    ns,
                    id,
                    "",
                    &format!("<cwmp:{name}><Status>1</Status><StartTime>0001-01-01T00:00:00Z</StartTime><CompleteTime>0001-01-01T00:00:00Z</CompleteTime></cwmp:{name}>"),
                )
            }
            AcsRequest::GetRPCMethods => envelope(
                ns,
                id,
                "",
                "<cwmp:GetRPCMethodsResponse><MethodList soap-enc:arrayType=\"xsd:string[1]\"><string>GetRPCMethods</string></MethodList></cwmp:GetRPCMethodsResponse>",
            ),
            other => panic!("unexpected request {other:?}"),
        }
    }

    /// Runs one session from the Inform to the 204.
    async fn session(&mut self, acs: &Acs, serial: &str, events: &[&str]) {
        let (mut c, cookie) = self.inform(acs, serial, events).await;
        self.finish(&mut c, &cookie).await;
    }

    /// Opens a session: the Inform and its answer. Returns the connection and the cookie.
    async fn inform(&mut self, acs: &Acs, serial: &str, events: &[&str]) -> (Http, String) {
        let params = [
            (
                "Device.DeviceInfo.SoftwareVersion",
                self.tree["Device.DeviceInfo.SoftwareVersion"].0.clone(),
                "string",
            ),
            (
                "Device.ManagementServer.ConnectionRequestURL",
                self.tree["Device.ManagementServer.ConnectionRequestURL"]
                    .0
                    .clone(),
                "string",
            ),
        ];
        let p: Vec<(&str, &str, &str)> = params
            .iter()
            .map(|(n, v, t)| (*n, v.as_str(), *t))
            .collect();
        let mut c = acs.conn().await;
        let r = c
            .post(&inform_with(self.ns, "", serial, events, &p), None, &[])
            .await;
        assert_eq!(r.status, 200);
        self.bodies.push(r.body.clone());
        let cookie = r.cookie();
        (c, cookie)
    }

    /// The rest of a session: the empty POST, then every ACS request answered until the 204.
    async fn finish(&mut self, c: &mut Http, cookie: &str) {
        let mut r = c.post("", Some(cookie), &[]).await;
        for _ in 0..500 {
            if r.status == 204 {
                return;
            }
            self.bodies.push(r.body.clone());
            let (id, q) = r.request();
            let answer = self.answer(&id, &q);
            self.seen.push(q);
            r = c.post(&answer, Some(cookie), &[]).await;
        }
        panic!("session did not end");
    }
}

const PROVISIONING: &str = r#"
seed: test
bootstrap:
  periodic_inform: { interval: 300 }
"#;

#[tokio::test]
async fn bootstrap_discovers_the_tree_then_reads_in_batches_then_sets_what_differs() {
    let acs = Acs::with_policy(PROVISIONING).await;
    let mut cpe = Cpe::new(NS12);
    cpe.session(&acs, "P1", &["0 BOOTSTRAP", "1 BOOT"]).await;
    let kinds: Vec<&str> = cpe.seen.iter().map(|q| q.name()).collect();
    // GPNs first, then GPVs, then one SPV.
    let first_gpv = kinds
        .iter()
        .position(|k| *k == "GetParameterValues")
        .expect("GPV");
    let spv = kinds
        .iter()
        .position(|k| *k == "SetParameterValues")
        .expect("SPV");
    assert!(
        kinds[..first_gpv].iter().all(|k| *k == "GetParameterNames"),
        "{kinds:?}"
    );
    assert!(
        kinds[first_gpv..spv]
            .iter()
            .all(|k| *k == "GetParameterValues"),
        "{kinds:?}"
    );
    assert_eq!(spv, kinds.len() - 1, "{kinds:?}");
    let AcsRequest::GetParameterNames(g0) = &cpe.seen[0] else {
        panic!()
    };
    assert_eq!((g0.parameter_path.as_str(), g0.next_level), ("", true));
    let AcsRequest::GetParameterNames(g1) = &cpe.seen[1] else {
        panic!()
    };
    assert_eq!(
        (g1.parameter_path.as_str(), g1.next_level),
        ("Device.", true)
    );
    // Below the first level, whole subtrees with NextLevel=0.
    assert!(cpe.seen[2..first_gpv]
        .iter()
        .all(|q| matches!(q, AcsRequest::GetParameterNames(g) if !g.next_level)));
    let mut read = Vec::new();
    for q in &cpe.seen[first_gpv..spv] {
        let AcsRequest::GetParameterValues(g) = q else {
            panic!()
        };
        assert!(g.parameter_names.len() <= 32);
        read.extend(g.parameter_names.iter().cloned());
    }
    // Every parameter read once, except the ones the Inform carried.
    let mut expected: Vec<String> = cpe
        .tree
        .keys()
        .filter(|n| {
            !matches!(
                n.as_str(),
                "Device.DeviceInfo.SoftwareVersion"
                    | "Device.ManagementServer.ConnectionRequestURL"
            )
        })
        .cloned()
        .collect();
    read.sort();
    expected.sort();
    assert_eq!(read, expected);
    assert_eq!(spv - first_gpv, 2, "{} names in batches of 32", read.len());
    let AcsRequest::SetParameterValues(s) = &cpe.seen[spv] else {
        panic!()
    };
    let set: Vec<(&str, &str)> = s
        .parameter_list
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    let id = format!("{DEV}P1");
    let password = cr_password("test", &id);
    // PeriodicInformEnable already true: not sent.
    assert_eq!(
        set,
        vec![
            (
                "Device.ManagementServer.ConnectionRequestPassword",
                password.as_str()
            ),
            (
                "Device.ManagementServer.ConnectionRequestUsername",
                id.as_str()
            ),
            ("Device.ManagementServer.PeriodicInformInterval", "300"),
        ]
    );
    assert!(s.parameter_list.iter().all(|p| p.kind.is_some()));

    // The status endpoint shows the device afterwards.
    let (code, d) = acs.status_json(&format!("/status/devices/{id}")).await;
    assert_eq!(code, 200);
    assert_eq!(d["device_id"], id.as_str());
    assert_eq!(d["serial_number"], "P1");
    assert_eq!(d["root"], "Device.");
    assert_eq!(d["cr_username"], id.as_str());
    assert!(d.get("cr_password").is_none());
    assert_eq!(d["parameters"]["Device.DeviceInfo.X_Param07"]["value"], "v");
    assert_eq!(d["last_events"][0], "0 BOOTSTRAP");
    assert_eq!(d["last_session_outcome"], "completed");
    let (code, s) = acs.status_json("/status").await;
    assert_eq!(code, 200);
    assert_eq!(s["devices"]["known"], 1);
    assert_eq!(s["rpcs_sent"]["SetParameterValues"], 1);
    assert_eq!(
        s["rpcs_sent"]["GetParameterValues"].as_u64(),
        Some((spv - first_gpv) as u64)
    );
    let (code, _) = acs.status_json("/status/devices/nobody").await;
    assert_eq!(code, 404);
    let (_, list) = acs.status_json("/status/devices").await;
    assert_eq!(list["devices"][0], id.as_str());

    // A periodic session afterwards: nothing to do.
    let before = cpe.seen.len();
    cpe.session(&acs, "P1", &["2 PERIODIC"]).await;
    assert_eq!(cpe.seen.len(), before);
}

const EVERYTHING: &str = r#"
seed: all
files:
  - { name: config.cfg, size: 73 }
firmware_wave:
  file: fw-2.0.bin
  size: 4042
  rate: 100
  events: ["1 BOOT"]
tasks:
  - name: all-rpcs
    events: ["1 BOOT"]
    rpcs:
      - GetRPCMethods
      - GetParameterNames: { path: "{root}DeviceInfo.", next_level: false }
      - GetParameterValues: ["{root}DeviceInfo.SoftwareVersion"]
      - SetParameterValues:
          "{root}WiFi.SSID.1.SSID": "net-{serial}"
          "{root}WiFi.SSID.1.Enable": false
      - GetParameterAttributes: ["{root}DeviceInfo.SoftwareVersion"]
      - SetParameterAttributes:
          - { name: "{root}DeviceInfo.SoftwareVersion", notification: 2 }
          - { name: "{root}WiFi.SSID.1.SSID", access_list: [Subscriber] }
      - AddObject: "{root}NAT.PortMapping."
      - DeleteObject: "{root}NAT.PortMapping.1."
      - Download: { file: config.cfg, file_type: "3 Vendor Configuration File" }
      - Upload: {}
      - ScheduleInform: { delay_seconds: 60 }
      - Reboot: { command_key: rb }
      - FactoryReset
"#;

#[tokio::test]
async fn tasks_and_the_firmware_wave_send_every_rpc_with_real_file_urls() {
    let acs = Acs::with_policy(EVERYTHING).await;
    let mut cpe = Cpe::new(NS12);
    cpe.session(&acs, "F1", &["1 BOOT"]).await;
    let kinds: Vec<&str> = cpe.seen.iter().map(|q| q.name()).collect();
    assert_eq!(
        kinds,
        [
            "GetRPCMethods",
            "GetParameterNames",
            "GetParameterValues",
            "SetParameterValues",
            "GetParameterAttributes",
            "SetParameterAttributes",
            "AddObject",
            "DeleteObject",
            "Download",
            "Upload",
            "ScheduleInform",
            "Reboot",
            "FactoryReset",
            "Download",
        ]
    );
    let AcsRequest::SetParameterValues(s) = &cpe.seen[3] else {
        panic!()
    };
    let set: Vec<(&str, &str, &str)> = s
        .parameter_list
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.value.as_str(),
                p.kind.map_or("", |k| k.xsi()),
            )
        })
        .collect();
    assert_eq!(
        set,
        vec![
            ("Device.WiFi.SSID.1.Enable", "false", "xsd:boolean"),
            ("Device.WiFi.SSID.1.SSID", "net-F1", "xsd:string"),
        ]
    );
    // Download CommandKey = its cwmp:ID; URL on the ACS's own file server; real size.
    let fs_port = acs.handle.file_server_addr().port();
    let downloads: Vec<_> = cpe
        .seen
        .iter()
        .filter_map(|q| match q {
            AcsRequest::Download(d) => Some(d.clone()),
            _ => None,
        })
        .collect();
    let cfg = &downloads[0];
    assert_eq!(cfg.url, format!("http://127.0.0.1:{fs_port}/config.cfg"));
    assert_eq!(
        (cfg.file_size, cfg.file_type.as_str()),
        (73, "3 Vendor Configuration File")
    );
    let fw = &downloads[1];
    assert_eq!(fw.url, format!("http://127.0.0.1:{fs_port}/fw-2.0.bin"));
    assert_eq!(
        (fw.file_size, fw.file_type.as_str()),
        (4042, "1 Firmware Upgrade Image")
    );
    let fw_body = cpe
        .bodies
        .iter()
        .find(|b| b.contains("fw-2.0.bin"))
        .expect("firmware Download body");
    let id = decode_acs(fw_body.as_bytes()).unwrap().header.id.unwrap();
    assert_eq!(fw.command_key, id);

    // The file is really there, with that size.
    let mut f = Http::connect(acs.handle.file_server_addr()).await;
    let r = f.get("/fw-2.0.bin").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("4042"));

    // The firmware TransferComplete settles the wave.
    let mut c = acs.conn().await;
    let cookie = c
        .post(
            &inform(NS12, "F1", &["1 BOOT", "7 TRANSFER COMPLETE", "M Download"]),
            None,
            &[],
        )
        .await
        .cookie();
    let tc = envelope(
        NS12,
        "cpe-2",
        "",
        &format!("<cwmp:TransferComplete><CommandKey>{}</CommandKey><FaultStruct><FaultCode>0</FaultCode><FaultString></FaultString></FaultStruct><StartTime>2026-11-25T16:17:13Z</StartTime><CompleteTime>2026-11-25T16:17:14Z</CompleteTime></cwmp:TransferComplete>", fw.command_key),
    );
    assert_eq!(c.post(&tc, Some(&cookie), &[]).await.status, 200);
    assert_eq!(c.post("", Some(&cookie), &[]).await.status, 204);
    let d = acs.handle.device(&format!("{DEV}F1")).expect("device");
    assert_eq!(d.firmware.as_ref().map(|f| f.result), Some("ok"));
    let s = acs.handle.status();
    assert_eq!((s.firmware_wave.started, s.firmware_wave.succeeded), (1, 1));
    assert_eq!(s.transfers.downloads_sent, 2);
    assert!(d.tasks_done.contains("all-rpcs"));
}

// ---- connection requests --------------------------------------------------------------------

/// A CPE connection-request listener: 401 Digest first, then 200 when the credentials match
/// `expected` (set by the test once the ACS provisioned them).
async fn cr_listener(
    expected: Arc<Mutex<Option<(String, String)>>>,
) -> (SocketAddr, Arc<Mutex<Vec<u16>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let answers: Arc<Mutex<Vec<u16>>> = Arc::default();
    let log = answers.clone();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else { return };
            let expected = expected.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let mut h = Http {
                    s,
                    buf: Vec::new(),
                    host: String::new(),
                };
                loop {
                    let head_end = loop {
                        if let Some(i) = h.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i;
                        }
                        if h.fill().await == 0 {
                            return;
                        }
                    };
                    let head = String::from_utf8_lossy(&h.buf[..head_end]).to_string();
                    h.buf.drain(..head_end + 4);
                    let auth = head
                        .split("\r\n")
                        .filter_map(|l| l.split_once(':'))
                        .find(|(k, _)| k.trim().eq_ignore_ascii_case("authorization"))
                        .and_then(|(_, v)| v.trim().strip_prefix("Digest ").map(str::to_string));
                    let ok = match (auth, expected.lock().unwrap().clone()) {
                        (Some(a), Some((u, p))) => DigestResponse::parse(&a)
                            .is_some_and(|r| r.username == u && r.verify(&p, "GET")),
                        _ => false,
                    };
                    let status = if ok { 200 } else { 401 };
                    log.lock().unwrap().push(status);
                    let reply = if ok {
                        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_string()
                    } else {
                        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"cpe\", qop=\"auth\", nonce=\"n0\", opaque=\"o1\"\r\nContent-Length: 0\r\n\r\n".to_string()
                    };
                    if h.s.write_all(reply.as_bytes()).await.is_err() || ok {
                        return;
                    }
                }
            });
        }
    });
    (addr, answers)
}

#[tokio::test]
async fn connection_requests_use_the_credentials_the_acs_set() {
    let expected: Arc<Mutex<Option<(String, String)>>> = Arc::default();
    let (cr_addr, answers) = cr_listener(expected.clone()).await;
    let policy = "seed: cr\nbootstrap:\n  discover: false\nconnection_requests:\n  rate: 50\n";
    let acs = Acs::with_policy(policy).await;
    let mut cpe = Cpe::new(NS12);
    cpe.tree
        .get_mut("Device.ManagementServer.ConnectionRequestURL")
        .unwrap()
        .0 = format!("http://{cr_addr}/cr/1");
    let id = format!("{DEV}CR1");
    // What the ACS will set (the device id and a password derived from the seed), known to
    // the CPE before its session ends: the ACS may send the request at once after it.
    *expected.lock().unwrap() = Some((id.clone(), cr_password("cr", &id)));
    cpe.session(&acs, "CR1", &["0 BOOTSTRAP", "1 BOOT"]).await;
    // The ACS set them as expected.
    assert_eq!(
        cpe.tree["Device.ManagementServer.ConnectionRequestUsername"].0,
        id
    );
    assert_eq!(
        cpe.tree["Device.ManagementServer.ConnectionRequestPassword"].0,
        cr_password("cr", &id)
    );
    let mut done = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if acs.handle.status().connection_requests.get("ok") == Some(&1) {
            done = true;
            break;
        }
    }
    assert!(
        done,
        "no successful CR: {:?}",
        acs.handle.status().connection_requests
    );
    assert_eq!(*answers.lock().unwrap(), vec![401, 200]);
    let d = acs.handle.device(&id).expect("device");
    assert_eq!(
        (d.connection_requests.sent, d.connection_requests.ok),
        (1, 1)
    );
    // Once per device (interval 0): no second request.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(answers.lock().unwrap().len(), 2);
}

/// A device in its session when its one request (`interval: 0`) falls due gets it once the
/// session ends (TR-069 §3.2.2: none during a session), even though the sender's cursor passed
/// it while it was busy.
#[tokio::test]
async fn a_device_busy_when_its_connection_request_is_due_gets_it_after_the_session() {
    let expected: Arc<Mutex<Option<(String, String)>>> = Arc::default();
    let (cr_addr, answers) = cr_listener(expected.clone()).await;
    let policy = "seed: cr\nbootstrap:\n  discover: false\nconnection_requests:\n  rate: 50\n";
    let acs = Acs::with_policy(policy).await;
    let mut cpe = Cpe::new(NS12);
    cpe.tree
        .get_mut("Device.ManagementServer.ConnectionRequestURL")
        .unwrap()
        .0 = format!("http://{cr_addr}/cr/2");
    let id = format!("{DEV}CR2");
    *expected.lock().unwrap() = Some((id.clone(), cr_password("cr", &id)));
    let (mut c, cookie) = cpe.inform(&acs, "CR2", &["0 BOOTSTRAP", "1 BOOT"]).await;
    // The session stays open while the sender scans: it passes the device (in session) by.
    // Only an upper bound: on a loaded machine fewer scans happen, and the test checks less,
    // never wrongly.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        tokio::task::yield_now().await;
    }
    assert!(
        answers.lock().unwrap().is_empty(),
        "a request during the session"
    );
    cpe.finish(&mut c, &cookie).await;
    let mut ok = false;
    for _ in 0..200 {
        if acs.handle.status().connection_requests.get("ok") == Some(&1) {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        ok,
        "no request after the session: {:?}",
        acs.handle.status().connection_requests
    );
    assert_eq!(*answers.lock().unwrap(), vec![401, 200]);
}

#[tokio::test]
async fn connection_request_results_are_classified() {
    use cpefleet::acs::connection_request;
    let expected: Arc<Mutex<Option<(String, String)>>> =
        Arc::new(Mutex::new(Some(("u".into(), "p".into()))));
    let (addr, _) = cr_listener(expected).await;
    let url = format!("http://{addr}/x");
    let t = Duration::from_secs(2);
    assert_eq!(connection_request(&url, Some(("u", "p")), t).await, "ok");
    assert_eq!(
        connection_request(&url, Some(("u", "bad")), t).await,
        "auth_failed"
    );
    assert_eq!(connection_request(&url, None, t).await, "no_credentials");
    // Nothing listens on port 9 of loopback.
    assert_eq!(
        connection_request("http://127.0.0.1:9/", Some(("u", "p")), t).await,
        "unreachable"
    );
}

// ---- schema -------------------------------------------------------------------------------

#[tokio::test]
async fn every_envelope_the_acs_emits_validates_against_the_schema() {
    let script = schema::validator();
    let mut bodies: Vec<(String, String)> = Vec::new();
    // Every RPC of a task plus the firmware wave, in 1.0 and 1.2 namespaces.
    for (ns, serial) in [(NS10, "S10"), (NS12, "S12")] {
        let acs = Acs::with_policy(EVERYTHING).await;
        let mut cpe = Cpe::new(ns);
        cpe.session(&acs, serial, &["1 BOOT"]).await;
        let acs2 = Acs::with_policy(PROVISIONING).await;
        cpe.session(&acs2, serial, &["0 BOOTSTRAP"]).await;
        for (i, b) in cpe.bodies.into_iter().enumerate() {
            bodies.push((format!("{serial}-{i:02}"), b));
        }
    }
    // Answers to CPE requests: GetRPCMethodsResponse, TransferCompleteResponse, fault 8000,
    // a 1.4 InformResponse with UseCWMPVersion, fault 8006.
    let acs = Acs::null().await;
    for ns in [NS10, NS12] {
        let mut c = acs.conn().await;
        let cookie = c
            .post(&inform(ns, "Q1", &["2 PERIODIC"]), None, &[])
            .await
            .cookie();
        for (label, req) in [
            ("getrpc", envelope(ns, "cpe-2", "", "<cwmp:GetRPCMethods></cwmp:GetRPCMethods>")),
            ("tc", envelope(ns, "cpe-3", "", "<cwmp:TransferComplete><CommandKey>k</CommandKey><FaultStruct><FaultCode>0</FaultCode><FaultString></FaultString></FaultStruct><StartTime>0001-01-01T00:00:00Z</StartTime><CompleteTime>0001-01-01T00:00:00Z</CompleteTime></cwmp:TransferComplete>")),
            ("kicked", envelope(ns, "cpe-4", "", "<cwmp:Kicked><Command>c</Command><Referer>r</Referer><Arg>a</Arg><Next>n</Next></cwmp:Kicked>")),
        ] {
            let r = c.post(&req, Some(&cookie), &[]).await;
            assert_eq!(r.status, 200);
            bodies.push((format!("{label}-{}", &ns[ns.len() - 3..]), r.body));
        }
    }
    for (label, list) in [("use14", "1.0,1.1,1.2,1.3,1.4"), ("f8006", "3.0")] {
        let hdr = format!("<cwmp:SupportedCWMPVersions soap-env:mustUnderstand=\"0\">{list}</cwmp:SupportedCWMPVersions>");
        let r = acs
            .conn()
            .await
            .post(
                &inform_with(NS12, &hdr, "Q2", &["2 PERIODIC"], &[]),
                None,
                &[],
            )
            .await;
        bodies.push((label.to_string(), r.body));
    }
    let kinds: std::collections::BTreeSet<String> = bodies
        .iter()
        .filter_map(|(_, b)| {
            let i = b.find("<soap-env:Body><")? + "<soap-env:Body><".len();
            let rest = &b[i..];
            Some(rest[..rest.find(['>', ' '])?].to_string())
        })
        .collect();
    for k in [
        "cwmp:InformResponse",
        "cwmp:GetParameterNames",
        "cwmp:GetParameterValues",
        "cwmp:SetParameterValues",
        "cwmp:GetParameterAttributes",
        "cwmp:SetParameterAttributes",
        "cwmp:AddObject",
        "cwmp:DeleteObject",
        "cwmp:Download",
        "cwmp:Upload",
        "cwmp:ScheduleInform",
        "cwmp:Reboot",
        "cwmp:FactoryReset",
        "cwmp:GetRPCMethods",
        "cwmp:GetRPCMethodsResponse",
        "cwmp:TransferCompleteResponse",
        "soap-env:Fault",
    ] {
        assert!(kinds.contains(k), "{k} not covered: {kinds:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<(String, Vec<u8>)> = bodies
        .into_iter()
        .map(|(label, b)| (label, b.into_bytes()))
        .collect();
    schema::validate(&script, dir.path(), &files);
}

#[tokio::test]
async fn responses_to_acs_requests_are_counted() {
    let acs = Acs::with_policy(
        "tasks:\n  - name: r\n    rpcs:\n      - Reboot: {}\n      - FactoryReset\n",
    )
    .await;
    let mut c = acs.conn().await;
    let cookie = c
        .post(&inform(NS10, "Z1", &["1 BOOT"]), None, &[])
        .await
        .cookie();
    let (id, q) = c.post("", Some(&cookie), &[]).await.request();
    assert!(matches!(q, AcsRequest::Reboot(_)));
    let (id2, q) = c
        .post(
            &empty_response(NS10, &id, "RebootResponse"),
            Some(&cookie),
            &[],
        )
        .await
        .request();
    assert_eq!(q, AcsRequest::FactoryReset);
    let r = c
        .post(&cpe_fault(NS10, &id2, 9001), Some(&cookie), &[])
        .await;
    assert_eq!(r.status, 204);
    let s = acs.handle.status();
    assert_eq!(s.responses_ok["Reboot"], 1);
    assert_eq!(s.cpe_faults["9001"], 1);
    assert_eq!(s.rpcs_sent["FactoryReset"], 1);
    let d = acs.handle.device(&format!("{DEV}Z1")).unwrap();
    let fr = d.tasks.iter().find(|t| t.rpc == "FactoryReset").unwrap();
    assert_eq!((fr.result, fr.fault_code), ("fault", Some(9001)));
}

#[tokio::test]
async fn many_parallel_sessions_all_complete_and_are_counted() {
    let acs = Arc::new(Acs::null().await);
    let mut tasks = Vec::new();
    for i in 0..100 {
        let acs = acs.clone();
        tasks.push(tokio::spawn(async move {
            for j in 0..5 {
                let mut c = acs.conn().await;
                let r = c
                    .post(
                        &inform(NS10, &format!("M{i}-{j}"), &["2 PERIODIC"]),
                        None,
                        &[],
                    )
                    .await;
                assert_eq!(r.status, 200);
                let r = c.post("", Some(&r.cookie()), &[]).await;
                assert_eq!(r.status, 204);
            }
        }));
    }
    for t in tasks {
        t.await.expect("session task");
    }
    let s = acs.handle.status();
    assert_eq!(s.sessions.started, 500);
    assert_eq!(s.sessions.ended["completed"], 500);
    assert_eq!(s.sessions.active, 0);
    assert_eq!(s.cpe_requests["Inform"], 500);
}

// ---- what a hostile CPE can make the ACS keep or echo ------------------------------------------

/// A DeviceId past the schema's lengths (SerialNumber string(64)) is refused with 400 and
/// counted, and nothing of it is stored: 100 such Informs used to take the ACS to 1.6 GB.
#[tokio::test]
async fn device_ids_past_the_schema_lengths_are_refused_and_not_stored() {
    let acs = Acs::with_policy(PROVISIONING).await;
    let long = "S".repeat(100_000);
    for _ in 0..3 {
        let r = acs
            .conn()
            .await
            .post(&inform(NS12, &long, &["2 PERIODIC"]), None, &[])
            .await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.body.contains("SerialNumber longer than 64"), "{}", r.body);
    }
    let s = acs.handle.status();
    assert_eq!(s.rejected.get("device_id_too_long"), Some(&3));
    assert_eq!(s.devices.known, 0, "nothing stored");
    // 64 characters is within the schema.
    let ok = "S".repeat(64);
    let r = acs
        .conn()
        .await
        .post(&inform(NS12, &ok, &["2 PERIODIC"]), None, &[])
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(acs.handle.status().devices.known, 1);
}

/// A CPE reporting a 70,000-character name (the schema allows 256) does not get it back in a
/// GetParameterValues, nor stored; each is counted under `skipped.name_too_long`. A value past
/// the store's length bound is skipped too.
#[tokio::test]
async fn names_past_256_characters_are_neither_echoed_nor_stored() {
    let acs = Acs::with_policy(PROVISIONING).await;
    let mut cpe = Cpe::new(NS12);
    let long_name = format!("Device.DeviceInfo.{}", "N".repeat(70_000));
    cpe.tree
        .insert(long_name.clone(), ("x".into(), "string", false));
    let long_value = "v".repeat(100_000);
    cpe.tree.insert(
        "Device.DeviceInfo.X_Big".into(),
        (long_value, "string", false),
    );
    cpe.session(&acs, "H1", &["0 BOOTSTRAP", "1 BOOT"]).await;
    let mut read = 0;
    for q in &cpe.seen {
        match q {
            AcsRequest::GetParameterValues(g) => {
                read += g.parameter_names.len();
                assert!(
                    g.parameter_names.iter().all(|n| n.len() <= 256),
                    "a name past 256 characters was echoed"
                );
            }
            AcsRequest::GetParameterNames(g) => assert!(g.parameter_path.len() <= 256),
            _ => {}
        }
    }
    assert!(read > 30, "the rest of the tree was read ({read} names)");
    let s = acs.handle.status();
    assert!(
        s.skipped.get("name_too_long").copied().unwrap_or(0) >= 1,
        "{:?}",
        s.skipped
    );
    assert_eq!(s.skipped.get("value_too_long"), Some(&1), "{:?}", s.skipped);
    let d = acs
        .handle
        .store()
        .device(&format!("{DEV}H1"))
        .expect("device");
    assert!(d.parameters.keys().all(|k| k.len() <= 256));
    assert!(!d.parameters.contains_key("Device.DeviceInfo.X_Big"));
    assert!(d.parameters.len() > 30);
}

/// When the ACS requires credentials of CPEs, its NBI task endpoint requires them too: a task
/// without credentials is refused (401 with a challenge), with them it is queued.
#[tokio::test]
async fn nbi_tasks_need_the_acs_credentials() {
    let mut cfg = AcsConfig::new(loopback(), Policy::parse(PROVISIONING).unwrap());
    cfg.auth = Some(("cpe".into(), "secret".into()));
    let acs = Acs::start(cfg).await;
    // A device the ACS knows (authenticated Inform).
    let body = inform(NS12, "N1", &["2 PERIODIC"]);
    let mut c = acs.conn().await;
    let ch = c.post(&body, None, &[]).await;
    let auth = digest_answer(ch.header("www-authenticate").unwrap(), "cpe", "secret");
    assert_eq!(
        c.post(&body, None, &[("Authorization", &auth)])
            .await
            .status,
        200
    );
    let task = r#"{"name":"reboot"}"#;
    let post_task = |authz: Option<String>| {
        let mut req = format!(
            "POST /devices/{DEV}N1/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            task.len()
        );
        if let Some(a) = authz {
            req.push_str(&format!("Authorization: {a}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(task);
        req
    };
    let mut c = acs.conn().await;
    let r = c.raw(post_task(None).as_bytes()).await;
    assert_eq!(r.status, 401, "a task without credentials: {}", r.body);
    let ch = r.header("www-authenticate").expect("challenge").to_string();
    let r = c
        .raw(post_task(Some(digest_answer(&ch, "cpe", "guess"))).as_bytes())
        .await;
    assert_eq!(r.status, 401, "wrong password");
    let mut c = acs.conn().await;
    let r = c.raw(post_task(None).as_bytes()).await;
    let ch = r.header("www-authenticate").expect("challenge").to_string();
    let r = c
        .raw(post_task(Some(digest_answer(&ch, "cpe", "secret"))).as_bytes())
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
}
