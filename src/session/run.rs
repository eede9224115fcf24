//! The session itself: linear code that reads like TR-069 §3.7.
//!
//! Inform first; then the CPE's own requests (unless the ACS holds them); then the empty POST;
//! then the ACS's requests, each answered through the device, until the ACS sends an empty
//! answer. Authentication (401 → retry on the same socket), redirects (≤ 5, same POST to the new
//! URL), cookies and reconnects are handled below the protocol logic in [`Http::post`]
//! (`post.rs`), so the loop stays readable. The device behind [`SessionDevice`] is pure; this
//! module and `post` are the only places that wait on the network.

use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use tokio::time::Instant;

use crate::cwmp::{
    decode_acs, encode_cpe_parts, AcsMessage, AcsRequest, AcsResponse, CpeMessage, CpeRequest,
    CwmpVersion, Envelope, Fault, Header, Inform, XsdType,
};
use crate::session::checks::{check_exchange, Check, CheckState, Observed, Sent, SessionChecks};

use super::error::SessionError;
use super::post::Http;
use super::report::{Exchange, SessionReport, Timings};
use super::trace::Trace;
use crate::net::client::{Connector, Endpoint, Response};

/// The device's side of a session: pure decisions, no I/O.
pub trait SessionDevice: Send {
    /// The Inform that opens the session (events, RetryCount, ParameterList).
    fn inform(&mut self) -> Inform;
    /// The ACS acknowledged the Inform: its events are delivered.
    fn inform_acknowledged(&mut self);
    /// The next CPE request to send before the empty POST (TransferComplete, …).
    fn next_request(&mut self) -> Option<CpeRequest>;
    /// Whether a request is waiting (without taking it).
    fn has_request(&self) -> bool;
    /// The ACS answered that request: `Ok` with its response, or `Err` with its fault.
    fn request_answered(&mut self, req: &CpeRequest, answer: Result<&AcsResponse, &Fault>);
    /// Executes an ACS request and gives the message to send back (a response or a fault).
    fn apply(&mut self, req: &AcsRequest) -> CpeMessage;

    // The hooks below have no-op defaults: a fleet device answers at once, and its sessions
    // only count the protocol checks (no allocation). A conformance device overrides them.

    /// When to answer this ACS request: at once, late, or never (the CPE drops the session).
    fn answer_timing(&mut self, _req: &AcsRequest) -> Answering {
        Answering::Now
    }
    /// The data model's type of a parameter, for the xsi:type check (None: not checked).
    fn param_kind(&mut self, _path: &str) -> Option<XsdType> {
        None
    }
    /// A protocol check failed on the ACS message named `message` (an RPC name or "HTTP").
    fn check_failed(&mut self, _check: Check, _reason: &'static str, _message: &'static str) {}
}

/// How a device answers one ACS request (conformance steps: "late", "not at all").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answering {
    Now,
    After(Duration),
    /// Never: the CPE closes the connection and the session ends (label `injected_reset`).
    Never,
}

/// ACS bodies larger than this are decoded on tokio's blocking pool. Decoding is linear, but a
/// 4 MiB envelope (the largest accepted) still takes tens of milliseconds; on a runtime thread
/// that time is stolen from every other session it serves and from `/metrics`, which shares
/// the runtime. Small bodies (nearly all) stay inline: a hop to the pool costs more than them.
const DECODE_INLINE_MAX: usize = 64 * 1024;

async fn decode_off_thread(body: &Bytes) -> Result<Envelope<AcsMessage>, crate::cwmp::DecodeError> {
    if body.len() <= DECODE_INLINE_MAX {
        return decode_acs(body);
    }
    let owned = body.clone();
    match tokio::task::spawn_blocking(move || decode_acs(&owned)).await {
        Ok(decoded) => decoded,
        // The pool is shutting down with the runtime: decode here rather than lose the answer.
        Err(_) => decode_acs(body),
    }
}

/// Per-session settings (shared by a group's devices; credentials are the device's own).
#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub acs: Endpoint,
    pub connector: Connector,
    /// Source address for this session (from the pool), if any.
    pub local_addr: Option<IpAddr>,
    /// ManagementServer.Username / Password.
    pub credentials: Option<(String, String)>,
    pub version: CwmpVersion,
    /// Limit per HTTP exchange (TR-069 suggests 30 s).
    pub exchange_timeout: Duration,
    /// Limit for the whole session.
    pub session_timeout: Duration,
    /// Largest ACS body accepted.
    pub max_body: usize,
    /// Most exchanges in one session (an ACS that never ends it is a failure, not a hang).
    pub max_exchanges: u32,
    pub user_agent: String,
    /// Prefix of the CPE's own cwmp:IDs.
    pub id_prefix: String,
    /// Injected network trouble (none by default).
    pub impairments: Impairments,
}

/// Network trouble injected into a session, decided per session from a seed so a run is
/// reproducible.
#[derive(Debug, Clone, Default)]
pub struct Impairments {
    /// Share of sessions whose connection the CPE drops right after the InformResponse (the
    /// ACS is left with a half-done session, as with a CPE losing its link).
    pub reset_rate: f64,
    /// Share of POSTs whose body is trickled: `slow_chunk` bytes every `slow_delay`.
    pub slow_body_rate: f64,
    pub slow_chunk: usize,
    pub slow_delay: Duration,
    /// Seed of this session's draws.
    pub seed: u64,
    /// The WAN between the device and the ACS: waits on every exchange, both directions.
    pub wan: crate::net::wan::WanModel,
    /// When the ACS is unreachable (`acs_outage` phases).
    pub acs_outages: super::wan::AcsOutages,
}

impl Impairments {
    pub fn is_none(&self) -> bool {
        self.reset_rate <= 0.0 && self.slow_body_rate <= 0.0 && self.wan.is_none()
    }
}

/// How often a request answered with 8005 (retry request) is re-sent (easycwmp uses 10).
const MAX_8005_RETRIES: u32 = 10;

/// Runs one session to its end. Never panics on ACS input and always returns a report.
pub async fn run(
    cfg: &SessionConfig,
    dev: &mut dyn SessionDevice,
    trace: Option<&mut Trace>,
) -> SessionReport {
    let started = Instant::now();
    let mut s = Session {
        http: Http::new(cfg, started + cfg.session_timeout, trace),
        timings: Timings::default(),
        version: cfg.version,
        next_id: 1,
        inform_acknowledged: false,
        acs_requests: Vec::new(),
        exchanges: 0,
        check_state: CheckState::default(),
        checks: SessionChecks::default(),
    };
    let outcome = s.drive(dev).await;
    s.timings.wan = s.http.link.tally;
    s.timings.total = started.elapsed();
    SessionReport {
        outcome,
        timings: s.timings,
        inform_acknowledged: s.inform_acknowledged,
        version: s.version,
        acs_requests: s.acs_requests,
        connections: s.http.connections,
        checks: s.checks,
        auth: s.http.auth_scheme(),
    }
}

struct Session<'a> {
    http: Http<'a>,
    timings: Timings,
    version: CwmpVersion,
    next_id: u32,
    inform_acknowledged: bool,
    acs_requests: Vec<&'static str>,
    exchanges: u32,
    check_state: CheckState,
    checks: SessionChecks,
}

/// What came back from one POST, decoded.
enum Answer {
    /// 204, or 200 with an empty (or whitespace) body: the ACS has nothing more.
    Empty,
    Message(Box<Envelope<AcsMessage>>),
}

impl Session<'_> {
    async fn drive(&mut self, dev: &mut dyn SessionDevice) -> Result<(), SessionError> {
        let mut hold = self.inform(dev).await?;
        self.inform_acknowledged = true;
        dev.inform_acknowledged();
        let imp = &self.http.cfg.impairments;
        if imp.reset_rate > 0.0 && crate::seed::unit(imp.seed, 0x7e5e7, 0) < imp.reset_rate {
            // Injected: the link goes down after the InformResponse.
            self.http.conn = None;
            return Err(SessionError::Injected("reset"));
        }

        // CPE requests, then the empty POST, then the ACS's requests.
        loop {
            hold = self.send_cpe_requests(dev, hold).await?;
            let answer = self
                .exchange(
                    dev,
                    Exchange::EmptyPost,
                    Sent::Empty,
                    &Header::default(),
                    None,
                    false,
                )
                .await?;
            hold = self.answer_acs_requests(dev, answer, hold).await?;
            // The ACS is done. If requests were held back and the ACS no longer holds them,
            // they go now (TR-069 §3.7.1.4); otherwise the session is over.
            if hold || !dev.has_request() {
                return Ok(());
            }
        }
    }

    /// Sends the Inform until the ACS acknowledges it (with a fresh cwmp:ID after each 8005
    /// Retry request fault); returns the InformResponse's HoldRequests.
    async fn inform(&mut self, dev: &mut dyn SessionDevice) -> Result<bool, SessionError> {
        let inform = dev.inform();
        let mut header = Header::with_id(self.fresh_id());
        match self.version {
            CwmpVersion::V1_3 => header.session_timeout = Some(30),
            CwmpVersion::V1_4 => {
                header.session_timeout = Some(30);
                header.supported_cwmp_versions = Some(self.version.supported_list().to_string());
            }
            _ => {}
        }
        let inform_msg = CpeMessage::Request(CpeRequest::Inform(inform));
        let mut tries = 0;
        loop {
            let id = header.id.clone().unwrap_or_default();
            let answer = self
                .exchange(
                    dev,
                    Exchange::Inform,
                    Sent::Inform(&id),
                    &header,
                    Some(&inform_msg),
                    true,
                )
                .await?;
            let Answer::Message(env) = answer else {
                return Err(SessionError::Unexpected {
                    expected: "InformResponse",
                    got: "empty answer",
                });
            };
            check_id(&id, &env.header)?;
            match env.body {
                AcsMessage::Response(AcsResponse::InformResponse(_)) => {
                    if let Some(v) = env
                        .header
                        .use_cwmp_version
                        .as_deref()
                        .and_then(CwmpVersion::parse)
                    {
                        // The ACS picked a version from our list (CWMP 1.4 negotiation).
                        if v <= self.version {
                            self.version = v;
                        }
                    }
                    return Ok(env.header.hold_requests.unwrap_or(false));
                }
                AcsMessage::Fault(f) if f.code == 8005 => {
                    tries += 1;
                    if tries > MAX_8005_RETRIES {
                        return Err(SessionError::RetryExhausted);
                    }
                    header.id = Some(self.fresh_id());
                }
                AcsMessage::Fault(f) => return Err(SessionError::InformFault(f.code)),
                other => {
                    return Err(SessionError::Unexpected {
                        expected: "InformResponse",
                        got: message_name(&other),
                    })
                }
            }
        }
    }

    /// Answers the ACS's requests until it sends an empty body; returns the last HoldRequests
    /// seen (`hold` if the ACS sent none).
    async fn answer_acs_requests(
        &mut self,
        dev: &mut dyn SessionDevice,
        mut answer: Answer,
        mut hold: bool,
    ) -> Result<bool, SessionError> {
        loop {
            let env = match answer {
                Answer::Empty => return Ok(hold),
                Answer::Message(env) => env,
            };
            hold = env.header.hold_requests.unwrap_or(false);
            let req = match env.body {
                AcsMessage::Request(r) => r,
                other => {
                    return Err(SessionError::Unexpected {
                        expected: "an ACS request",
                        got: message_name(&other),
                    })
                }
            };
            let name = req.name();
            self.acs_requests.push(name);
            match dev.answer_timing(&req) {
                Answering::Now => {}
                Answering::After(d) => tokio::time::sleep(d).await,
                Answering::Never => {
                    self.http.conn = None;
                    return Err(SessionError::Injected("no answer"));
                }
            }
            let reply = dev.apply(&req);
            // A response echoes the request's cwmp:ID byte for byte.
            let header = Header {
                id: env.header.id.clone(),
                ..Header::default()
            };
            answer = self
                .exchange(
                    dev,
                    Exchange::AcsRpc(name),
                    Sent::Response,
                    &header,
                    Some(&reply),
                    false,
                )
                .await?;
        }
    }

    /// Sends the device's pending requests unless held; returns the hold state after them.
    async fn send_cpe_requests(
        &mut self,
        dev: &mut dyn SessionDevice,
        mut hold: bool,
    ) -> Result<bool, SessionError> {
        while !hold {
            let Some(req) = dev.next_request() else { break };
            let msg = CpeMessage::Request(req);
            let CpeMessage::Request(req) = &msg else {
                unreachable!("constructed as a request")
            };
            let mut tries = 0;
            loop {
                let id = self.fresh_id();
                let header = Header::with_id(id.clone());
                let answer = self
                    .exchange(
                        dev,
                        Exchange::CpeRequest(req.name()),
                        Sent::Request(req.name(), &id),
                        &header,
                        Some(&msg),
                        true,
                    )
                    .await?;
                let Answer::Message(env) = answer else {
                    return Err(SessionError::Unexpected {
                        expected: "a response to the CPE request",
                        got: "empty answer",
                    });
                };
                check_id(&id, &env.header)?;
                hold = env.header.hold_requests.unwrap_or(false);
                match &env.body {
                    AcsMessage::Response(r) => dev.request_answered(req, Ok(r)),
                    AcsMessage::Fault(f) if f.code == 8005 => {
                        tries += 1;
                        if tries > MAX_8005_RETRIES {
                            return Err(SessionError::RetryExhausted);
                        }
                        continue;
                    }
                    AcsMessage::Fault(f) => dev.request_answered(req, Err(f)),
                    AcsMessage::Request(r) => {
                        return Err(SessionError::Unexpected {
                            expected: "a response to the CPE request",
                            got: r.name(),
                        })
                    }
                }
                break;
            }
        }
        Ok(hold)
    }

    fn fresh_id(&mut self) -> String {
        let id = format!("{}-{}", self.http.cfg.id_prefix, self.next_id);
        self.next_id += 1;
        id
    }

    /// One POST and its decoded answer, timed, with the protocol checks scored on the answer.
    /// `msg` None is the empty POST.
    #[allow(clippy::too_many_arguments)]
    async fn exchange(
        &mut self,
        dev: &mut dyn SessionDevice,
        kind: Exchange,
        sent: Sent<'_>,
        header: &Header,
        msg: Option<&CpeMessage>,
        is_request: bool,
    ) -> Result<Answer, SessionError> {
        self.exchanges += 1;
        if self.exchanges > self.http.cfg.max_exchanges {
            return Err(SessionError::TooManyExchanges(self.http.cfg.max_exchanges));
        }
        let body = match msg {
            None => Bytes::new(),
            Some(msg) => {
                // Encoded from borrowed parts: no copy of the message per exchange (measured,
                // BENCHMARKS.md).
                let mut buf = Vec::with_capacity(4096);
                encode_cpe_parts(self.version, header, msg, &mut buf);
                Bytes::from(buf)
            }
        };
        let t0 = Instant::now();
        let resp = self.http.post(body, is_request, &mut self.timings).await?;
        self.timings.exchanges.push((kind, t0.elapsed()));
        let has_body = !resp.body.iter().all(u8::is_ascii_whitespace);
        let decoded = match resp.status {
            StatusCode::OK if has_body => Some(decode_off_thread(&resp.body).await),
            // SOAP 1.1 §6.2: a SOAP Fault travels with HTTP 500 (many ACSs send CWMP faults
            // so). Only a body that decodes to a Fault is one; any other 500 stays http_5xx.
            StatusCode::INTERNAL_SERVER_ERROR if has_body => decode_off_thread(&resp.body)
                .await
                .ok()
                .filter(|e| matches!(e.body, AcsMessage::Fault(_)))
                .map(Ok),
            _ => None,
        };
        self.score(
            dev,
            &Observed {
                sent,
                status: resp.status.as_u16(),
                headers: &resp.headers,
                body: &resp.body,
                message: decoded.as_ref().and_then(|d| d.as_ref().ok()),
                version: self.version,
            },
        );
        match (resp.status, decoded) {
            (_, Some(d)) => Ok(Answer::Message(Box::new(d?))),
            (StatusCode::NO_CONTENT | StatusCode::OK, None) => Ok(Answer::Empty),
            (StatusCode::SERVICE_UNAVAILABLE, None) => Err(SessionError::Overloaded {
                retry_after: retry_after(&resp),
            }),
            (s, None) => Err(SessionError::Status(s.as_u16())),
        }
    }

    /// Scores the protocol checks on one answer. Failures go to the device (which may keep
    /// details); the pass path allocates nothing.
    fn score(&mut self, dev: &mut dyn SessionDevice, x: &Observed<'_>) {
        let mut failed: [Option<(Check, &'static str)>; Check::ALL.len()] =
            [None; Check::ALL.len()];
        let counts = &mut self.checks;
        check_exchange(
            &mut self.check_state,
            x,
            &mut |p| dev.param_kind(p),
            &mut |c, r| {
                counts.record(c, r.is_ok());
                if let Err(reason) = r {
                    if let Some(slot) = failed.iter_mut().find(|s| s.is_none()) {
                        *slot = Some((c, reason));
                    }
                }
            },
        );
        let name = x.message.map_or("HTTP", |e| message_name(&e.body));
        for (c, reason) in failed.into_iter().flatten() {
            dev.check_failed(c, reason, name);
        }
    }
}

fn message_name(m: &AcsMessage) -> &'static str {
    match m {
        AcsMessage::Request(r) => r.name(),
        AcsMessage::Response(r) => r.name(),
        AcsMessage::Fault(_) => "Fault",
    }
}

/// A response to a CPE request must carry the request's cwmp:ID; a missing ID is tolerated
/// (some ACSs omit the header), a different one is a broken ACS.
fn check_id(expected: &str, got: &Header) -> Result<(), SessionError> {
    match got.id.as_deref() {
        Some(id) if id != expected => Err(SessionError::WrongId {
            expected: expected.to_string(),
            got: id.chars().take(64).collect(),
        }),
        _ => Ok(()),
    }
}

/// `Retry-After` in seconds (the HTTP-date form is rare from ACSs and is ignored).
fn retry_after(resp: &Response) -> Option<Duration> {
    resp.headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(86_400)))
}
