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
use tokio_util::sync::CancellationToken;

use crate::auth::{Challenge, DigestChallenge};
use crate::cr::{CrAuth, CrAuthenticator, CrConfig, CrDevice, CrResult, CrRouter, CrStats};
use crate::cwmp::{
    encode_cpe, AcsRequest, AcsResponse, CpeMessage, CpeRequest, CpeResponse, CwmpVersion,
    DateTime, Envelope, EventCode, EventStruct, Fault, Header, Inform, SetParameterValuesFault,
    TransferCompleteFaultStruct, XsdType,
};
use crate::device::life::Life;
use crate::device::{Device, Effect};
use crate::fleet::cpe::Cpe;
use crate::model::Template;
use crate::net::body::Body;
use crate::net::client::{Connection, Connector, Endpoint, Response};
use crate::session::transfer::{self, TransferLimits};
use crate::session::{self, Answering, SessionConfig, SessionDevice};

use super::case::{AnswerStep, Case, Cond, ExpectStep, HttpStep, InformStep, Step};
use super::result::{CaseResult, SuiteResult, MAX_CHECK_DETAILS};
use crate::session::checks::Check;

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
        }
    }
}

/// Runs the cases one after the other (each with its own device).
pub async fn run_suite(cases: &[Case], opts: &SuiteOptions) -> SuiteResult {
    let mut out = SuiteResult::default();
    for case in cases {
        let r = run_case(case, opts).await;
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

/// One ACS message the device saw, flattened for expectations.
#[derive(Debug, Clone)]
struct Seen {
    session: u32,
    name: &'static str,
    params: Vec<(String, String)>,
    fields: Vec<(String, String)>,
}

/// How to answer the next matching requests.
#[derive(Debug, Clone)]
struct Rule {
    step: AnswerStep,
    left: u32,
}

/// The scripted device: a fleet CPE plus what a script needs.
struct Scripted {
    cpe: Cpe,
    serial: String,
    session: u32,
    rules: Vec<Rule>,
    queued: Vec<CpeRequest>,
    seen: Vec<Seen>,
    check_failures: Vec<(Check, String)>,
}

impl SessionDevice for Scripted {
    fn inform(&mut self) -> Inform {
        self.cpe.inform()
    }
    fn inform_acknowledged(&mut self) {
        self.cpe.inform_acknowledged()
    }
    fn next_request(&mut self) -> Option<CpeRequest> {
        if self.queued.is_empty() {
            self.cpe.next_request()
        } else {
            Some(self.queued.remove(0))
        }
    }
    fn has_request(&self) -> bool {
        !self.queued.is_empty() || self.cpe.has_request()
    }
    fn request_answered(&mut self, req: &CpeRequest, answer: Result<&AcsResponse, &Fault>) {
        let (name, params, fields) = match answer {
            Ok(AcsResponse::GetRPCMethodsResponse(m)) => (
                "GetRPCMethodsResponse",
                m.method_list
                    .iter()
                    .map(|x| (x.clone(), String::new()))
                    .collect(),
                vec![],
            ),
            Ok(r) => (r.name(), vec![], vec![]),
            Err(f) => (
                match req {
                    CpeRequest::GetRPCMethods => "GetRPCMethodsResponse",
                    _ => "TransferCompleteResponse",
                },
                vec![],
                vec![("FaultCode".to_string(), f.code.to_string())],
            ),
        };
        self.seen.push(Seen {
            session: self.session,
            name,
            params,
            fields,
        });
        self.cpe.request_answered(req, answer)
    }
    fn apply(&mut self, req: &AcsRequest) -> CpeMessage {
        let (params, mut fields) = flatten(req);
        let name = req.name();
        let rule = self
            .rules
            .iter_mut()
            .find(|r| r.left > 0 && r.step.rpc.0 == name && r.step.fault.is_some());
        let msg = match rule {
            Some(r) => {
                r.left -= 1;
                let code = r.step.fault.unwrap_or(9002);
                let mut f = Fault::new(code);
                if let (AcsRequest::SetParameterValues(spv), Some(pc)) =
                    (req, r.step.parameter_fault)
                {
                    f.set_parameter_values_faults = spv
                        .parameter_list
                        .iter()
                        .map(|p| SetParameterValuesFault {
                            parameter_name: p.name.clone(),
                            code: pc,
                            string: Fault::new(pc).string,
                        })
                        .collect();
                }
                CpeMessage::Fault(f)
            }
            None => self.cpe.apply(req),
        };
        match &msg {
            CpeMessage::Response(CpeResponse::AddObjectResponse(a)) => {
                fields.push(("InstanceNumber".into(), a.instance_number.to_string()))
            }
            CpeMessage::Fault(f) => fields.push(("AnsweredFault".into(), f.code.to_string())),
            _ => {}
        }
        self.seen.push(Seen {
            session: self.session,
            name,
            params,
            fields,
        });
        msg
    }
    fn answer_timing(&mut self, req: &AcsRequest) -> Answering {
        let name = req.name();
        let Some(r) = self
            .rules
            .iter_mut()
            .find(|r| r.left > 0 && r.step.rpc.0 == name && r.step.fault.is_none())
        else {
            return Answering::Now;
        };
        r.left -= 1;
        if r.step.drop {
            Answering::Never
        } else {
            Answering::After(r.step.delay.map_or(Duration::ZERO, |d| d.0))
        }
    }
    fn param_kind(&mut self, path: &str) -> Option<XsdType> {
        self.cpe.with_view(|v| v.get(path).and_then(|p| p.kind))
    }
    fn check_failed(&mut self, check: Check, reason: &'static str, message: &'static str) {
        self.check_failures.push((
            check,
            format!(
                "{}: {reason} (device {}, session {}, message {message})",
                check.label(),
                self.serial,
                self.session
            ),
        ));
    }
}

/// The fields and parameters of an ACS request, as expectations name them.
type Pairs = Vec<(String, String)>;

fn flatten(req: &AcsRequest) -> (Pairs, Pairs) {
    let f = |k: &str, v: String| (k.to_string(), v);
    match req {
        AcsRequest::SetParameterValues(s) => (
            s.parameter_list
                .iter()
                .map(|p| (p.name.clone(), p.value.clone()))
                .collect(),
            vec![f("ParameterKey", s.parameter_key.clone())],
        ),
        AcsRequest::GetParameterValues(g) => (
            g.parameter_names
                .iter()
                .map(|n| (n.clone(), String::new()))
                .collect(),
            vec![],
        ),
        AcsRequest::GetParameterNames(g) => (
            vec![],
            vec![
                f("ParameterPath", g.parameter_path.clone()),
                f("NextLevel", g.next_level.to_string()),
            ],
        ),
        AcsRequest::GetParameterAttributes(g) => (
            g.parameter_names
                .iter()
                .map(|n| (n.clone(), String::new()))
                .collect(),
            vec![],
        ),
        AcsRequest::SetParameterAttributes(a) => (
            a.parameter_list
                .iter()
                .map(|p| {
                    (
                        p.name.clone(),
                        p.notification.map_or(String::new(), |n| n.to_string()),
                    )
                })
                .collect(),
            vec![],
        ),
        AcsRequest::AddObject(a) => (
            vec![],
            vec![
                f("ObjectName", a.object_name.clone()),
                f("ParameterKey", a.parameter_key.clone()),
            ],
        ),
        AcsRequest::DeleteObject(d) => (
            vec![],
            vec![
                f("ObjectName", d.object_name.clone()),
                f("ParameterKey", d.parameter_key.clone()),
            ],
        ),
        AcsRequest::Reboot(r) => (vec![], vec![f("CommandKey", r.command_key.clone())]),
        AcsRequest::Download(d) => (
            vec![],
            vec![
                f("CommandKey", d.command_key.clone()),
                f("FileType", d.file_type.clone()),
                f("URL", d.url.clone()),
                f("FileSize", d.file_size.to_string()),
                f("DelaySeconds", d.delay_seconds.to_string()),
            ],
        ),
        AcsRequest::Upload(u) => (
            vec![],
            vec![
                f("CommandKey", u.command_key.clone()),
                f("FileType", u.file_type.clone()),
                f("URL", u.url.clone()),
            ],
        ),
        AcsRequest::ScheduleInform(s) => (
            vec![],
            vec![
                f("DelaySeconds", s.delay_seconds.to_string()),
                f("CommandKey", s.command_key.clone()),
            ],
        ),
        _ => (vec![], vec![]),
    }
}

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

async fn run_case(case: &Case, opts: &SuiteOptions) -> (CaseResult, Vec<(Check, String)>) {
    let t0 = Instant::now();
    let spec = &case.spec;
    let mut result = CaseResult {
        name: spec.name.clone(),
        section: spec.section.clone(),
        title: spec.title.clone(),
        file: case.path.display().to_string(),
        passed: false,
        failures: Vec::new(),
        sessions: 0,
        seconds: 0.0,
        checks: Default::default(),
    };
    let template = match Template::load(&case.template_path()) {
        Ok(t) => Arc::new(t),
        Err(e) => {
            result.failures.push(format!("template: {e}"));
            return (result, Vec::new());
        }
    };
    // The device's connection-request listener (the fleet's, with no authentication): any
    // request to any path wakes the script.
    let cr = Arc::new(Notify::new());
    let (listener, cr_base) = match TcpListener::bind(SocketAddr::new(opts.cr_ip, 0)).await {
        Ok(l) => {
            let base = l
                .local_addr()
                .map(|a| format!("http://{a}"))
                .unwrap_or_default();
            (l, base)
        }
        Err(e) => {
            result
                .failures
                .push(format!("connection-request listener: {e}"));
            return (result, Vec::new());
        }
    };
    let cr_stop = CancellationToken::new();
    let cr_task = tokio::spawn(crate::cr::serve(
        listener,
        Arc::new(WakeScript(cr.clone())),
        Arc::new(CrConfig {
            auth: CrAuthenticator::new(CrAuth::None, "cpefleet", ""),
            max_connections: 16,
            header_timeout: Duration::from_secs(5),
        }),
        Arc::new(CrStats::default()),
        cr_stop.clone(),
    ));
    let index = spec
        .device
        .index
        .unwrap_or_else(|| default_index(&spec.name));
    let version = spec
        .device
        .cwmp_version
        .unwrap_or_else(|| template.cwmp_version());
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
    };
    cpe.device.set_boot_time(now());
    let serial = cpe.with_view(|v| v.device_id().serial_number);
    let credentials = spec
        .device
        .username
        .clone()
        .or_else(|| opts.username.clone())
        .map(|u| {
            (
                u,
                spec.device
                    .password
                    .clone()
                    .or_else(|| opts.password.clone())
                    .unwrap_or_default(),
            )
        });
    let mut run = Run {
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
        cr,
        overload: Vec::new(),
        connector: Connector {
            connect_timeout: Duration::from_secs(5),
            tls: None,
            tls_error: None,
        },
        checks: Default::default(),
    };
    for (i, step) in spec.steps.iter().enumerate() {
        if let Err(e) = run.step(step).await {
            run.failures.push(format!("step {}: {e}", i + 1));
            break;
        }
    }
    run.release().await;
    cr_stop.cancel();
    cr_task.abort();
    let Run {
        dev,
        mut failures,
        checks,
        ..
    } = run;
    for (_, d) in &dev.check_failures {
        failures.push(d.clone());
    }
    result.sessions = dev.session;
    result.passed = failures.is_empty();
    result.failures = failures;
    result.checks = checks;
    result.seconds = t0.elapsed().as_secs_f64();
    (result, dev.check_failures)
}

impl Run<'_> {
    fn expand(&self, s: &str) -> String {
        let mut out = s.to_string();
        let id = self
            .dev
            .cpe
            .with_view_ref(|v| crate::acs::policy::device_id(&v.device_id()));
        let nbi = self
            .opts
            .nbi_url
            .clone()
            .unwrap_or_else(|| self.opts.acs_url.clone());
        out = out
            .replace("{serial}", &self.dev.serial)
            .replace("{device_id}", &id.replace('%', "%25"))
            .replace("{acs}", &self.opts.acs_url)
            .replace("{nbi}", &nbi);
        for (k, v) in &self.captured {
            out = out.replace(&format!("{{captured.{k}}}"), v);
        }
        out
    }

    async fn step(&mut self, step: &Step) -> Result<(), String> {
        match step {
            Step::Inform(i) => self.inform(i).await,
            Step::Expect(e) => self.expect(e).await,
            Step::Answer(a) => {
                self.dev.rules.push(Rule {
                    step: a.clone(),
                    left: a.times,
                });
                Ok(())
            }
            Step::SetLocal(s) => {
                let value = self.expand(&s.value);
                let path = self.expand(&s.path);
                self.dev
                    .cpe
                    .with_view(|v| v.set_local(&path, &value))
                    .map(|_| ())
                    .map_err(|f| format!("set_local {path}: fault {}", f.code))
            }
            Step::Http(h) => self.http(h).await,
            Step::ExpectConnectionRequest(w) => {
                let waited = tokio::time::timeout(w.within.0, self.cr.notified()).await;
                if waited.is_err() {
                    return Err(format!(
                        "no connection request from the ACS within {:?}",
                        w.within.0
                    ));
                }
                self.dev.cpe.life.add(EventCode::ConnectionRequest);
                self.session(None, None, "ok", None).await
            }
            Step::Reboot => {
                self.dev.cpe.life = Life::known_boot();
                self.dev.cpe.device.set_boot_time(now());
                self.session(None, None, "ok", None).await
            }
            Step::FactoryReset => {
                self.dev.cpe.with_view(|v| v.factory_reset());
                self.dev.cpe.life = Life::first_boot();
                self.session(None, None, "ok", None).await
            }
            Step::CpeRequest(_) => {
                self.dev.queued.push(CpeRequest::GetRPCMethods);
                Ok(())
            }
            Step::ExpectAuth(scheme) => match self.last_auth {
                Some(s) if s.eq_ignore_ascii_case(scheme) => Ok(()),
                Some(s) => Err(format!("the ACS challenged with {s}, expected {scheme}")),
                None => Err(format!(
                    "the ACS did not challenge the device (expected {scheme})"
                )),
            },
            Step::Overload(o) => self.overload(o.sessions).await,
            Step::Release => {
                self.release().await;
                Ok(())
            }
            Step::Sleep(d) => {
                tokio::time::sleep(d.0).await;
                Ok(())
            }
        }
    }

    async fn inform(&mut self, i: &InformStep) -> Result<(), String> {
        let events = i.events.as_ref().map(|e| {
            e.iter()
                .map(|s| EventCode::parse(&self.expand(s)))
                .collect::<Vec<_>>()
        });
        self.session(
            events,
            i.cwmp_version,
            i.outcome.as_deref().unwrap_or("ok"),
            i.retry_after,
        )
        .await
    }

    /// One session; `events` replace the pending single events.
    async fn session(
        &mut self,
        events: Option<Vec<EventCode>>,
        version: Option<CwmpVersion>,
        outcome: &str,
        retry_after: Option<bool>,
    ) -> Result<(), String> {
        if let Some(ev) = events {
            let life = &mut self.dev.cpe.life;
            life.events = Default::default();
            for e in ev {
                if e.as_str().starts_with("M ") {
                    life.add_keyed(e, "");
                } else {
                    life.add(e);
                }
            }
        } else if !self.dev.cpe.life.has_events() {
            self.dev.cpe.life.add(EventCode::Periodic);
        }
        if !self.window_open {
            self.window = self.dev.session + 1;
            self.window_open = true;
        }
        self.dev.session += 1;
        self.dev.cpe.now = now();
        let cfg = SessionConfig {
            acs: Endpoint::parse(&self.opts.acs_url).map_err(|e| format!("ACS URL: {e}"))?,
            connector: self.connector.clone(),
            local_addr: None,
            credentials: self.credentials.clone(),
            version: version.unwrap_or(self.version),
            exchange_timeout: self.opts.exchange_timeout,
            session_timeout: Duration::from_secs(120),
            max_body: 4 * 1024 * 1024,
            max_exchanges: 5_000,
            user_agent: concat!("cpefleet-conformance/", env!("CARGO_PKG_VERSION")).to_string(),
            id_prefix: format!("{}-{}", self.dev.serial, self.dev.session),
            impairments: Default::default(),
        };
        let report = session::run(&cfg, &mut self.dev, None).await;
        self.checks.add(&report.checks);
        self.last_auth = report.auth;
        self.dev.cpe.life.session_ended(report.is_ok());
        let label = report.label();
        if label != outcome {
            return Err(format!(
                "session {} ended {}{}, expected {outcome}",
                self.dev.session,
                label,
                report
                    .outcome
                    .as_ref()
                    .err()
                    .map_or(String::new(), |e| format!(" ({e})"))
            ));
        }
        if let (Some(want), Err(e)) = (retry_after, &report.outcome) {
            if e.retry_after().is_some() != want {
                return Err(format!(
                    "the ACS's {label} came {} Retry-After",
                    if want { "without" } else { "with" }
                ));
            }
        }
        self.effects().await;
        Ok(())
    }

    /// What the ACS asked for, carried out between sessions (time-compressed: a reboot or a
    /// scheduled inform is due at once).
    async fn effects(&mut self) {
        let effects = std::mem::take(&mut self.dev.cpe.effects);
        for e in effects {
            match e {
                Effect::Reboot { command_key } => {
                    let life = &mut self.dev.cpe.life;
                    life.add(EventCode::Boot);
                    life.add_keyed(EventCode::MReboot, &command_key);
                    self.dev.cpe.device.set_boot_time(now());
                }
                Effect::FactoryReset => {
                    self.dev.cpe.with_view(|v| v.factory_reset());
                    self.dev.cpe.life = Life::first_boot();
                }
                Effect::ScheduleInform { command_key, .. } => {
                    let life = &mut self.dev.cpe.life;
                    life.add(EventCode::Scheduled);
                    life.add_keyed(EventCode::MScheduleInform, &command_key);
                }
                Effect::Download(d) => {
                    let start = now();
                    self.dev.cpe.device.transfer_started(&d.command_key);
                    let limits = TransferLimits {
                        timeout: Duration::from_secs(30),
                        max_bytes: 64 << 20,
                    };
                    let r = transfer::download(
                        &self.connector,
                        &d.url,
                        (&d.username, &d.password),
                        d.file_size,
                        &limits,
                    )
                    .await;
                    let fault = match &r {
                        Ok(_) => TransferCompleteFaultStruct {
                            fault_code: 0,
                            fault_string: String::new(),
                        },
                        Err(f) => f.to_struct(self.version, false),
                    };
                    let firmware = d.file_type.starts_with("1 ");
                    let life = &mut self.dev.cpe.life;
                    life.transfer_done(EventCode::MDownload, &d.command_key, fault, start, now());
                    if firmware && r.is_ok() {
                        life.add(EventCode::Boot);
                        self.dev.cpe.device.set_boot_time(now());
                    }
                }
                _ => {}
            }
        }
    }

    async fn expect(&mut self, e: &ExpectStep) -> Result<(), String> {
        let matches = |run: &Run<'_>| -> Vec<Seen> {
            run.dev
                .seen
                .iter()
                .filter(|s| s.session >= run.window && s.name == e.rpc.0)
                .filter(|s| run.satisfies(s, e))
                .cloned()
                .collect()
        };
        let mut found = matches(self);
        loop {
            let sessions_in_window = (self.dev.session + 1).saturating_sub(self.window);
            // Found ends the wait (for `absent` too: it has already failed).
            if !found.is_empty() || sessions_in_window >= e.within_sessions {
                break;
            }
            // The ACS has more sessions to do it in: the device informs again (what is
            // pending, else a periodic inform).
            self.session(None, None, "ok", None).await?;
            found = matches(self);
        }
        self.window_open = false;
        let what = || {
            let mut s = e.rpc.0.to_string();
            for (k, c) in e.params.iter().chain(e.fields.iter()) {
                s.push_str(&format!(" {k} {}", c.describe()));
            }
            s
        };
        if e.absent {
            return match found.first() {
                Some(s) => Err(format!(
                    "the ACS sent {} in session {} (it must not)",
                    what(),
                    s.session
                )),
                None => Ok(()),
            };
        }
        let Some(first) = found.first() else {
            let got: Vec<&str> = self
                .dev
                .seen
                .iter()
                .filter(|s| s.session >= self.window)
                .map(|s| s.name)
                .collect();
            return Err(format!(
                "expected {} within {} session(s); the ACS sent {:?}",
                what(),
                e.within_sessions,
                got
            ));
        };
        if let Some(max) = e.max_count {
            let n = self
                .dev
                .seen
                .iter()
                .filter(|s| s.session >= self.window && s.name == e.rpc.0)
                .filter(|s| self.satisfies(s, e))
                .count();
            if n > max as usize {
                return Err(format!(
                    "the ACS sent {} {n} times (at most {max})",
                    e.rpc.0
                ));
            }
        }
        for (var, from) in &e.capture {
            let v = lookup(first, from)
                .ok_or_else(|| format!("capture {var}: {from} is not in the {}", e.rpc.0))?;
            self.captured.insert(var.clone(), v.to_string());
        }
        Ok(())
    }

    fn satisfies(&self, s: &Seen, e: &ExpectStep) -> bool {
        let x = |v: &str| self.expand(v);
        let check = |map: &BTreeMap<String, Cond>, list: &[(String, String)]| {
            map.iter().all(|(k, c)| {
                let k = self.expand(k);
                let v = list.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
                c.holds(v, &x)
            })
        };
        check(&e.params, &s.params) && check(&e.fields, &s.fields)
    }

    async fn http(&mut self, h: &HttpStep) -> Result<(), String> {
        let url = self.expand(&h.url);
        let body = h
            .body
            .as_deref()
            .map(|b| self.expand(b))
            .unwrap_or_default();
        let (status, text) = http_call(&h.method, &url, &body, self.credentials.as_ref())
            .await
            .map_err(|e| format!("{} {url}: {e}", h.method))?;
        let ok = if h.expect_status.is_empty() {
            (200..300).contains(&status)
        } else {
            h.expect_status.contains(&status)
        };
        if !ok {
            return Err(format!(
                "{} {url} answered {status}, expected {:?}",
                h.method,
                if h.expect_status.is_empty() {
                    vec![200]
                } else {
                    h.expect_status.clone()
                }
            ));
        }
        if let Some(want) = &h.body_contains {
            let want = self.expand(want);
            if !text.contains(&want) {
                return Err(format!(
                    "{} {url}: the answer does not contain {want:?}",
                    h.method
                ));
            }
        }
        Ok(())
    }

    /// Opens sessions of other devices (Inform answered, then left open).
    async fn overload(&mut self, n: u32) -> Result<(), String> {
        let ep = Endpoint::parse(&self.opts.acs_url).map_err(|e| e.to_string())?;
        for k in 0..n {
            let index = self.dev.cpe.device.index().wrapping_add(7_000_000 + k);
            let mut dev = Device::new(index);
            let inform = {
                let env = crate::device::Env {
                    seed: 1,
                    now: now(),
                    cr_url_base: "",
                };
                let v = crate::device::DeviceView::new(&self.dev.cpe.template, &mut dev, &env);
                v.inform(
                    vec![EventStruct {
                        code: EventCode::Periodic,
                        command_key: String::new(),
                    }],
                    0,
                )
            };
            let mut body = Vec::new();
            encode_cpe(
                &Envelope::new(
                    CwmpVersion::V1_0,
                    Header::with_id(format!("load-{k}")),
                    CpeMessage::Request(CpeRequest::Inform(inform)),
                ),
                &mut body,
            );
            let mut conn = plain_connector()
                .connect(&ep, None)
                .await
                .map_err(|e| e.to_string())?;
            let creds = self.credentials.clone();
            let resp = post(&mut conn, &ep, &body, None, creds.as_ref()).await?;
            let cookie = resp
                .headers
                .get(SET_COOKIE)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(';').next().unwrap_or("").to_string());
            match (resp.status.as_u16(), cookie) {
                (200, Some(c)) => self.overload.push((conn, c)),
                (st, _) => return Err(format!("overload session {k}: the ACS answered {st}")),
            }
        }
        Ok(())
    }

    /// Ends the sessions `overload` opened (empty POST, whatever the answer).
    async fn release(&mut self) {
        let Ok(ep) = Endpoint::parse(&self.opts.acs_url) else {
            return;
        };
        for (mut conn, cookie) in std::mem::take(&mut self.overload) {
            let _ = post(&mut conn, &ep, b"", Some(&cookie), None).await;
        }
    }
}

impl Cpe {
    /// Reads the device without changing it (a copy of the record; device records are small).
    fn with_view_ref<R>(&self, f: impl FnOnce(&crate::device::DeviceView<'_>) -> R) -> R {
        let mut d = self.device.clone();
        let env = crate::device::Env {
            seed: self.seed,
            now: self.now,
            cr_url_base: &self.cr_url_base,
        };
        let v = crate::device::DeviceView::new(&self.template, &mut d, &env);
        f(&v)
    }
}

fn lookup<'a>(s: &'a Seen, name: &str) -> Option<&'a str> {
    s.fields
        .iter()
        .chain(s.params.iter())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The conformance device's connection-request router: every path is the device, and a
/// request wakes the script.
struct WakeScript(Arc<Notify>);

impl CrRouter for WakeScript {
    fn resolve(&self, _path: &str) -> Option<CrDevice> {
        Some(CrDevice {
            index: 0,
            username: String::new(),
            password: String::new(),
        })
    }
    fn deliver(&self, _index: u32, _at: Instant) -> CrResult {
        self.0.notify_one();
        CrResult::Accepted
    }
}

/// Per request the runner makes itself (the `http` step, overload sessions).
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer such a request reads: more is an error, never unbounded memory.
const MAX_ANSWER: usize = 4 << 20;

/// The crate's HTTP client, plain HTTP only (the runner's own requests go to lab endpoints).
fn plain_connector() -> Connector {
    Connector {
        connect_timeout: CALL_TIMEOUT,
        tls: None,
        tls_error: None,
    }
}

/// A CWMP POST on `conn`, answering a Digest challenge once.
async fn post(
    conn: &mut Connection,
    ep: &Endpoint,
    body: &[u8],
    cookie: Option<&str>,
    creds: Option<&(String, String)>,
) -> Result<Response, String> {
    let mut authz: Option<String> = None;
    for _ in 0..2 {
        let mut req = Request::post(ep.path.as_str()).header(HOST, ep.authority());
        if !body.is_empty() {
            req = req
                .header(CONTENT_TYPE, "text/xml; charset=\"utf-8\"")
                .header("SOAPAction", "\"\"");
        }
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        if let Some(a) = &authz {
            req = req.header(AUTHORIZATION, a.as_str());
        }
        let req = req
            .body(Body::full(Bytes::copy_from_slice(body)))
            .map_err(|e| e.to_string())?;
        let resp = conn
            .send(req, CALL_TIMEOUT, MAX_ANSWER)
            .await
            .map_err(|e| e.to_string())?;
        if resp.status != StatusCode::UNAUTHORIZED || authz.is_some() {
            return Ok(resp);
        }
        let Some(a) = digest_answer(&resp.headers, creds, "POST", &ep.path) else {
            return Ok(resp);
        };
        authz = Some(a);
    }
    Err("authentication failed".into())
}

/// The `Authorization` answering a 401's Digest challenge with `creds`, if both are there.
fn digest_answer(
    headers: &http::HeaderMap,
    creds: Option<&(String, String)>,
    method: &str,
    uri: &str,
) -> Option<String> {
    let (user, pass) = creds?;
    let ch: DigestChallenge = headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| match Challenge::parse(v) {
            Ok(Some(Challenge::Digest(d))) => Some(d),
            _ => None,
        })?;
    Some(ch.authorization(user, pass, method, uri, 1, "0a4f113b"))
}

/// A plain HTTP call (the external trigger step); returns the status and the body as text. A
/// Digest challenge (the embedded ACS protects its NBI with the CPEs' credentials) is answered
/// once with `creds`.
async fn http_call(
    method: &str,
    url: &str,
    body: &str,
    creds: Option<&(String, String)>,
) -> Result<(u16, String), String> {
    let ep = Endpoint::parse(url).map_err(|e| e.to_string())?;
    if ep.tls {
        return Err("https is not supported by the http step".into());
    }
    let method = http::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    let mut authz: Option<String> = None;
    loop {
        let mut conn = plain_connector()
            .connect(&ep, None)
            .await
            .map_err(|e| e.to_string())?;
        let mut req = Request::builder()
            .method(method.clone())
            .uri(ep.path.as_str())
            .header(HOST, ep.authority())
            .header(CONNECTION, "close");
        if !body.is_empty() {
            req = req.header(CONTENT_TYPE, "application/json");
        }
        if let Some(a) = &authz {
            req = req.header(AUTHORIZATION, a.as_str());
        }
        let req = req
            .body(Body::full(Bytes::copy_from_slice(body.as_bytes())))
            .map_err(|e| e.to_string())?;
        let resp = conn
            .send(req, CALL_TIMEOUT, MAX_ANSWER)
            .await
            .map_err(|e| e.to_string())?;
        if resp.status == StatusCode::UNAUTHORIZED && authz.is_none() {
            if let Some(a) = digest_answer(&resp.headers, creds, method.as_str(), &ep.path) {
                authz = Some(a);
                continue;
            }
        }
        return Ok((
            resp.status.as_u16(),
            String::from_utf8_lossy(&resp.body).into_owned(),
        ));
    }
}
