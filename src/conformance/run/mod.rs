//! Executes conformance cases: each case's scripted device is driven step by step through real
//! CWMP sessions (`session::run`) against the ACS. The device is a fleet [`Cpe`] (the same pure
//! RPC semantics as a load run) wrapped so it can answer with a fault, late or never, queue CPE
//! requests, and remember what the ACS sent; protocol-check failures come back through the
//! session's `check_failed` hook with the device, the session and the message named.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use bytes::Bytes;
use http::header::{
    AUTHORIZATION, CONNECTION, CONTENT_TYPE, COOKIE, HOST, SET_COOKIE, WWW_AUTHENTICATE,
};
use http::{Request, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use tokio_util::sync::CancellationToken;

use crate::auth::{Challenge, DigestChallenge};
use crate::cr::{
    CrAuth, CrAuthenticator, CrConfig, CrDevice, CrResult, CrRouter, CrStats, CrTransport,
};
use crate::cwmp::{
    encode_cpe, AcsRequest, AcsResponse, CpeMessage, CpeRequest, CpeResponse, CwmpVersion,
    DateTime, DuOperation, Envelope, EventCode, EventStruct, Fault, Header, Inform,
    SetParameterValuesFault, TransferCompleteFaultStruct, XsdType,
};
use crate::device::life::Life;
use crate::device::{Device, Effect};
use crate::fleet::cpe::Cpe;
use crate::model::Template;
use crate::net::body::Body;
use crate::net::client::{Connection, Connector, Endpoint, Response};
use crate::session::transfer::{self, TransferLimits};
use crate::session::{self, Answering, SessionConfig, SessionDevice};

use super::case::{AnswerStep, Case, Cond, ExpectStep, HttpStep, InformStep, Step, WaitStep};
use super::profile::AcsProfile;
use super::result::{CaseResult, SuiteResult, MAX_CHECK_DETAILS};
use crate::session::checks::Check;

mod calls;
mod effects;

/// How long a step waits for the ACS to have recorded what a session just told it, and how
/// often it asks. An ACS may answer a session's last message (TR-069 §3.7.1.4, its 204) before
/// it has written the device's record: GenieACS 1.2 commits at the end of the session, so its
/// NBI can answer 404 for a device, or an old value, for a moment after the session.
const RECORD_WAIT: Duration = Duration::from_secs(5);
const RECORD_POLL: Duration = Duration::from_millis(100);

/// Asks the ACS (`ask`) again every [`RECORD_POLL`] until `settled` holds of its answer or
/// [`RECORD_WAIT`] is over, and returns the last answer.
async fn until_recorded<T, F, Fut>(mut ask: F, settled: impl Fn(&T) -> bool) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let deadline = Instant::now() + RECORD_WAIT;
    loop {
        let answer = ask().await;
        if settled(&answer) || Instant::now() >= deadline {
            return answer;
        }
        tokio::time::sleep(RECORD_POLL).await;
    }
}
mod expect;
mod scripted;
mod steps;
mod udp;

use calls::*;
use scripted::*;

/// How to run a suite.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// The ACS's CWMP URL.
    pub acs_url: String,
    /// Base of the ACS's northbound API (`{nbi}`); the ACS URL by default.
    pub nbi_url: Option<String>,
    /// ManagementServer.Username/Password of the devices (a case may set its own).
    pub username: Option<String>,
    pub password: Option<String>,
    /// Per HTTP exchange.
    pub exchange_timeout: Duration,
    /// Address the devices' connection-request listeners bind (the ACS must reach it).
    pub cr_ip: std::net::IpAddr,
    /// What the ACS offers beyond TR-069 (cases needing more are skipped).
    pub profile: AcsProfile,
    /// Least time between the end of a device's session and its next one. A real CPE never
    /// comes back within milliseconds; GenieACS answers `400 CPE already in session` to one
    /// that does, while it still saves the previous session.
    pub session_gap: Duration,
    /// Mixed into every device's serial number, so that runs against a persistent ACS never
    /// meet the devices (tasks, faults) of an earlier run. None: serials depend on the case
    /// name only.
    pub run_id: Option<u32>,
}

/// A run id for [`SuiteOptions::run_id`] (from the clock and the process id): 1..=4_000_000,
/// so that the serials, `CPF<run id><case number:03>`, stay within a u32 device index.
pub fn new_run_id() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let h = (t ^ (u64::from(std::process::id()) << 20)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 32) as u32 % 4_000_000 + 1
}

impl SuiteOptions {
    pub fn new(acs_url: &str) -> Self {
        SuiteOptions {
            acs_url: acs_url.to_string(),
            nbi_url: None,
            username: None,
            password: None,
            exchange_timeout: Duration::from_secs(10),
            cr_ip: [127, 0, 0, 1].into(),
            profile: AcsProfile::embedded(None, false),
            session_gap: Duration::ZERO,
            run_id: None,
        }
    }
}

/// Runs the cases one after the other (each with its own device); a case whose needs the ACS
/// lacks is skipped with the reason.
pub async fn run_suite(cases: &[Case], opts: &SuiteOptions) -> SuiteResult {
    let mut out = SuiteResult::default();
    for (n, case) in cases.iter().enumerate() {
        if let Some(why) = opts.profile.skip_reason(&case.spec.requires) {
            out.cases.push(CaseResult::skipped(case, why));
            continue;
        }
        let r = run_case(case, n as u32, opts).await;
        out.checks.merge(&r.0.checks);
        for d in r.1 {
            if out.check_failures.len() < MAX_CHECK_DETAILS {
                out.check_failures.push(d);
            }
        }
        out.cases.push(r.0);
    }
    out
}

/// An HTTP call's status and body, or why it got none.
type HttpAnswer = Result<(u16, String), String>;

/// Everything one case's run holds.
struct Run<'a> {
    opts: &'a SuiteOptions,
    dev: Scripted,
    version: CwmpVersion,
    credentials: Option<(String, String)>,
    captured: BTreeMap<String, String>,
    failures: Vec<String>,
    /// First session of the current expectation window.
    window: u32,
    window_open: bool,
    last_auth: Option<&'static str>,
    cr: Arc<Notify>,
    overload: Vec<(Connection, String)>,
    connector: Connector,
    checks: crate::session::checks::CheckCounts,
    /// When the device's last session ended (the next waits `session_gap` after it).
    last_end: Option<Instant>,
    /// An NBI call with `connection_request` in flight: the ACS answers it once the session
    /// its connection request triggers has run, so the device must not wait for it.
    pending: Option<(String, HttpStep, JoinHandle<HttpAnswer>)>,
    /// Files put on the ACS (removed at the end).
    files: Vec<String>,
    /// ScheduleDownloads accepted, each held until its first window opens.
    scheduled: Vec<(Instant, crate::cwmp::ScheduleDownload)>,
    /// The device's UDP connection-request socket, once a `stun_binding` step put it behind
    /// a NAT; and the flag that then hides it from HTTP connection requests.
    udp: Option<udp::UdpSide>,
    behind_nat: Arc<std::sync::atomic::AtomicBool>,
    /// The device's XMPP side, for cases that need `xmpp` (TR-069 Annex K).
    xmpp: Option<super::xmpp::XmppDevice>,
}

fn now() -> DateTime {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    DateTime::from_unix_ms(ms - ms % 1000)
}

fn default_index(name: &str) -> u32 {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (h % 9_000_000) as u32 + 1_000_000
}

/// The device index of case number `n`: with a run id, `<run id><n:03>`.
fn case_index(case: &Case, n: u32, run_id: Option<u32>) -> u32 {
    match (run_id, case.spec.device.index) {
        (Some(r), _) => r.wrapping_mul(1000).wrapping_add(n % 1000),
        (None, Some(i)) => i,
        (None, None) => default_index(&case.spec.name),
    }
}

async fn run_case(case: &Case, n: u32, opts: &SuiteOptions) -> (CaseResult, Vec<(Check, String)>) {
    let t0 = Instant::now();
    let spec = &case.spec;
    let mut result = CaseResult::skipped(case, String::new());
    result.skipped = None;
    let template = match Template::load(&case.template_path()) {
        Ok(t) => Arc::new(t),
        Err(e) => {
            result.failures.push(format!("template: {e}"));
            return (result, Vec::new());
        }
    };
    let listener = match CrListener::start(opts).await {
        Ok(l) => l,
        Err(e) => {
            result.failures.push(e);
            return (result, Vec::new());
        }
    };
    let index = case_index(case, n, opts.run_id);
    let mut cpe = scripted_cpe(index, template, &listener.base);
    let xmpp = match xmpp_device(case, opts, index, &listener.wake, &mut cpe).await {
        Ok(x) => x,
        Err(e) => {
            result.failures.push(e);
            listener.stop();
            return (result, Vec::new());
        }
    };
    let version = spec
        .device
        .cwmp_version
        .unwrap_or_else(|| cpe.template.cwmp_version());
    let mut run = Run::new(opts, cpe, version, credentials(case, opts), &listener);
    run.xmpp = xmpp;
    for (i, step) in spec.steps.iter().enumerate() {
        if let Err(e) = run.step(step).await {
            run.failures.push(format!("step {}: {e}", i + 1));
            break;
        }
    }
    if let Err(e) = run.join_pending().await {
        run.failures.push(e);
    }
    run.release().await;
    listener.stop();
    let id = run.device_id();
    let nbi = run.nbi();
    for e in opts.profile.cleanup(&nbi, &id, &run.files).await {
        run.failures.push(format!("cleanup: {e}"));
    }
    let check_failures = run.dev.check_failures.clone();
    run.finish(&mut result);
    result.seconds = t0.elapsed().as_secs_f64();
    (result, check_failures)
}

/// The device's connection-request listener (the fleet's, with no authentication): any
/// request to any path wakes the script, until the device is behind a NAT.
struct CrListener {
    wake: Arc<Notify>,
    behind_nat: Arc<std::sync::atomic::AtomicBool>,
    /// `http://ip:port` of the listener.
    base: String,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl CrListener {
    async fn start(opts: &SuiteOptions) -> Result<CrListener, String> {
        let listener = TcpListener::bind(SocketAddr::new(opts.cr_ip, 0))
            .await
            .map_err(|e| format!("connection-request listener: {e}"))?;
        let base = listener
            .local_addr()
            .map(|a| format!("http://{a}"))
            .unwrap_or_default();
        let wake = Arc::new(Notify::new());
        let behind_nat = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop = CancellationToken::new();
        let task = tokio::spawn(crate::cr::serve(
            listener,
            Arc::new(WakeScript(wake.clone(), behind_nat.clone())),
            Arc::new(CrConfig {
                auth: CrAuthenticator::new(CrAuth::None, "cpefleet", ""),
                max_connections: 16,
                header_timeout: Duration::from_secs(5),
            }),
            Arc::new(CrStats::default()),
            stop.clone(),
        ));
        Ok(CrListener {
            wake,
            behind_nat,
            base,
            stop,
            task,
        })
    }

    fn stop(self) {
        self.stop.cancel();
        self.task.abort();
    }
}

/// For a case that needs `xmpp`: the device joins the ACS's XMPP server and its
/// ConnReqJabberID (notification active by default) becomes its JID, so the ACS hears of it in
/// the first Inform, as from a CPE whose XMPP connection came up (TR-069 Annex K).
async fn xmpp_device(
    case: &Case,
    opts: &SuiteOptions,
    index: u32,
    http: &Arc<Notify>,
    cpe: &mut Cpe,
) -> Result<Option<super::xmpp::XmppDevice>, String> {
    let join = match &opts.profile.xmpp {
        Some(j) if case.spec.requires.contains(&super::case::Capability::Xmpp) => j,
        _ => return Ok(None),
    };
    let dev = super::xmpp::XmppDevice::start(join, index, http.clone()).await?;
    let path = format!("{}ManagementServer.ConnReqJabberID", cpe.template.root());
    let (user, pass) = steps::cr_credentials(cpe);
    dev.set_credentials(user, pass);
    cpe.with_view(|v| v.set_local(&path, &dev.jid))
        .map_err(|f| format!("{path}: fault {}", f.code))?;
    Ok(Some(dev))
}

/// The case's device, booted for the first time, its connection-request URL on `cr_base`.
fn scripted_cpe(index: u32, template: Arc<Template>, cr_base: &str) -> Cpe {
    let mut cpe = Cpe {
        template,
        device: Device::new(index),
        life: Life::first_boot(),
        seed: 1,
        now: now(),
        cr_url_base: cr_base.into(),
        answer_limit: Default::default(),
        effects: Vec::new(),
        faults: Vec::new(),
        cr_router: None,
        udp_addrs: None,
        events: None,
    };
    cpe.device.set_boot_time(now());
    cpe
}

/// The username and password the device presents: the case's, else the suite's.
fn credentials(case: &Case, opts: &SuiteOptions) -> Option<(String, String)> {
    let device = &case.spec.device;
    device
        .username
        .clone()
        .or_else(|| opts.username.clone())
        .map(|u| {
            (
                u,
                device
                    .password
                    .clone()
                    .or_else(|| opts.password.clone())
                    .unwrap_or_default(),
            )
        })
}

impl<'a> Run<'a> {
    fn new(
        opts: &'a SuiteOptions,
        mut cpe: Cpe,
        version: CwmpVersion,
        credentials: Option<(String, String)>,
        listener: &CrListener,
    ) -> Run<'a> {
        let serial = cpe.with_view(|v| v.device_id().serial_number);
        Run {
            opts,
            dev: Scripted {
                cpe,
                serial,
                session: 0,
                rules: Vec::new(),
                queued: Vec::new(),
                seen: Vec::new(),
                check_failures: Vec::new(),
            },
            version,
            credentials,
            captured: BTreeMap::new(),
            failures: Vec::new(),
            window: 1,
            window_open: false,
            last_auth: None,
            cr: listener.wake.clone(),
            overload: Vec::new(),
            connector: Connector {
                connect_timeout: Duration::from_secs(5),
                tls: None,
                tls_error: None,
            },
            checks: Default::default(),
            last_end: None,
            pending: None,
            files: Vec::new(),
            scheduled: Vec::new(),
            udp: None,
            behind_nat: listener.behind_nat.clone(),
            xmpp: None,
        }
    }

    /// Writes the run's outcome into the case's result: failures (the protocol checks' too),
    /// sessions, checks.
    fn finish(self, result: &mut CaseResult) {
        let Run {
            dev,
            mut failures,
            checks,
            ..
        } = self;
        for (_, d) in &dev.check_failures {
            failures.push(d.clone());
        }
        result.sessions = dev.session;
        result.passed = failures.is_empty();
        result.failures = failures;
        result.checks = checks;
    }
}
