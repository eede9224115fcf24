//! One CWMP session as the ACS sees it, pure: no sockets, no clock, no store. The server feeds
//! it decoded CPE messages (and empty POSTs) and sends whatever [`Reply`] comes back; what the
//! session learnt is collected in a [`SessionLog`] the server applies to the store at the end.
//!
//! States follow GenieACS's `processRequest`: the server holds no session before the Inform
//! (state 0); after the InformResponse the CPE may send TransferComplete / GetRPCMethods
//! (answered) or other CPE requests (fault 8000, well-formed unlike GenieACS's) until its empty
//! POST (state 1); then the ACS sends its queued requests one per HTTP response, checks each
//! answer's cwmp:ID and type, and ends with 204 when nothing is left (state 2).
//!
//! The work of a session is a queue of [`Step`]s planned by the policy at Inform time. Steps
//! whose requests depend on earlier answers (tree discovery, "set only what differs") are
//! expanded lazily when they are reached.

use std::collections::{HashMap, VecDeque};

use crate::cwmp::{
    AcsMessage, AcsRequest, AcsResponse, CpeMessage, CpeRequest, CpeResponse, CwmpVersion,
    Envelope, Fault, GetParameterNames, GetParameterValues, GetRPCMethodsResponse, Header,
    InformResponse, ParameterInfoStruct, ParameterValueStruct, SetParameterValues, XsdType,
};

use super::misbehave::{Misbehave, Misbehaviour};
use super::store::{
    name_ok, FirmwareState, SessionLog, SessionOutcome, TaskResult, TransferResult,
};

/// GenieACS's `GPV_BATCH_SIZE`.
pub const DEFAULT_GPV_BATCH: usize = 32;
/// Names one discovery keeps at most (a hostile CPE cannot make the session grow further).
pub const MAX_DISCOVERED: usize = 50_000;
/// The methods the ACS answers when a CPE asks (GenieACS lists exactly these).
pub const ACS_METHODS: [&str; 3] = ["Inform", "GetRPCMethods", "TransferComplete"];

/// What the server does with one CPE message.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// 200 with this envelope; the session goes on.
    Send(Box<Envelope<AcsMessage>>),
    /// 204 No Content + `Connection: close`: the session is over.
    End(SessionOutcome),
    /// 400 with this short text + `Connection: close`: the session is over.
    Reject {
        text: &'static str,
        outcome: SessionOutcome,
    },
}

/// One unit of planned work.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Discover the tree like GenieACS, then read every parameter not yet known.
    Discover(Discovery),
    /// Set values, sending only those that differ from what the session learnt.
    Provision(Provision),
    /// A fixed request.
    Rpc(PlannedRpc),
}

/// A request planned as is. Download and Upload get their CommandKey from the cwmp:ID.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRpc {
    /// The policy task it belongs to (results are recorded under this name).
    pub task: String,
    pub request: AcsRequest,
    /// The firmware wave's Download (its result settles the device's wave state).
    pub firmware: bool,
}

/// Tree discovery: GPN `""` NextLevel=1 (the root object), NextLevel=1 below it down to
/// `next_level_depth` levels, NextLevel=0 for the objects below that (whole subtrees in one
/// answer), then GPV of every parameter found that the session does not know yet, in batches.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovery {
    next_level_depth: u8,
    gpv_batch: usize,
    gpn_queue: VecDeque<(String, bool, u8)>,
    to_read: Vec<String>,
    read_pos: usize,
    gpns: u32,
    gpvs: u32,
}

impl Discovery {
    pub fn new(next_level_depth: u8, gpv_batch: usize) -> Self {
        let mut gpn_queue = VecDeque::new();
        gpn_queue.push_back((String::new(), true, 0));
        Discovery {
            next_level_depth,
            gpv_batch: gpv_batch.max(1),
            gpn_queue,
            to_read: Vec::new(),
            read_pos: 0,
            gpns: 0,
            gpvs: 0,
        }
    }

    fn next(&mut self, known: &HashMap<String, Known>) -> Option<(AcsRequest, Origin)> {
        if let Some((path, next_level, level)) = self.gpn_queue.pop_front() {
            self.gpns += 1;
            let req = AcsRequest::GetParameterNames(GetParameterNames {
                parameter_path: path.clone(),
                next_level,
            });
            return Some((
                req,
                Origin::Gpn {
                    path,
                    next_level,
                    level,
                },
            ));
        }
        let mut batch = Vec::new();
        while batch.len() < self.gpv_batch {
            let Some(name) = self.to_read.get(self.read_pos) else {
                break;
            };
            self.read_pos += 1;
            if !known.contains_key(name) {
                batch.push(name.clone());
            }
        }
        if batch.is_empty() {
            return None;
        }
        self.gpvs += 1;
        Some((
            AcsRequest::GetParameterValues(GetParameterValues {
                parameter_names: batch,
            }),
            Origin::DiscoveryGpv,
        ))
    }

    fn on_names(
        &mut self,
        path: &str,
        next_level: bool,
        level: u8,
        list: Vec<ParameterInfoStruct>,
        writable: &mut HashMap<String, bool>,
    ) -> u64 {
        let mut skipped = 0;
        for p in list {
            if writable.len() >= MAX_DISCOVERED {
                break;
            }
            // A name past the schema's string(256) is never echoed back in a request (nor
            // kept): a CPE reporting a 70,000-character name gets it skipped and counted.
            if !name_ok(&p.name) {
                skipped += 1;
                continue;
            }
            // Only names below the asked path: a CPE echoing the path itself (or answering
            // about something else) must not make the walk loop.
            if !p.name.starts_with(path) || p.name.len() <= path.len() {
                continue;
            }
            let is_object = p.name.ends_with('.');
            if writable.insert(p.name.clone(), p.writable).is_some() {
                continue;
            }
            if is_object {
                if next_level {
                    let child_level = level.saturating_add(1);
                    let nl = child_level <= self.next_level_depth;
                    self.gpn_queue.push_back((p.name, nl, child_level));
                }
            } else {
                self.to_read.push(p.name);
            }
        }
        skipped
    }
}

/// Values to set, relative to the device's root object ("ManagementServer.PeriodicInformEnable"
/// under "Device." or "InternetGatewayDevice.").
#[derive(Debug, Clone, PartialEq)]
pub struct Provision {
    pub task: String,
    pub entries: Vec<Desired>,
    /// The ConnectionRequestUsername/Password among the entries: remembered for connection
    /// requests once the CPE accepts the SetParameterValues.
    pub cr_credentials: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub suffix: String,
    pub value: String,
    pub kind: XsdType,
}

impl Provision {
    /// The SetParameterValues list: only values that differ, only parameters the discovery
    /// saw as writable (when it ran), typed as the CPE reported them, sorted by name.
    fn resolve(
        &self,
        root: &str,
        known: &HashMap<String, Known>,
        writable: &HashMap<String, bool>,
    ) -> Vec<ParameterValueStruct> {
        let mut out: Vec<ParameterValueStruct> = Vec::new();
        for d in &self.entries {
            let name = format!("{root}{}", d.suffix);
            if !writable.is_empty() && writable.get(&name) != Some(&true) {
                continue;
            }
            let current = known.get(&name);
            let kind = current.and_then(|k| k.kind).unwrap_or(d.kind);
            if current.is_some_and(|k| same_value(kind, &k.value, &d.value)) {
                continue;
            }
            let value = kind.canonical(&d.value).unwrap_or_else(|| d.value.clone());
            out.push(ParameterValueStruct {
                name,
                value,
                kind: Some(kind),
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

fn same_value(kind: XsdType, a: &str, b: &str) -> bool {
    match (kind.canonical(a), kind.canonical(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// A value the session knows (from the Inform or a GetParameterValuesResponse).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Known {
    value: String,
    kind: Option<XsdType>,
}

#[derive(Debug, Clone, PartialEq)]
enum Origin {
    Gpn {
        path: String,
        next_level: bool,
        level: u8,
    },
    DiscoveryGpv,
    Provision {
        task: String,
        cr: Option<(String, String)>,
    },
    Task {
        task: String,
        firmware: bool,
    },
}

impl Origin {
    fn task(&self) -> &str {
        match self {
            Origin::Gpn { .. } | Origin::DiscoveryGpv => "discovery",
            Origin::Provision { task, .. } | Origin::Task { task, .. } => task,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Outstanding {
    id: String,
    request: &'static str,
    response: &'static str,
    command_key: Option<String>,
    origin: Origin,
    /// Kept only under the `retry_faulted` misbehaviour (to send it again).
    again: Option<(AcsRequest, u8)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// After the InformResponse: CPE requests until the empty POST.
    CpeRequests,
    /// After the empty POST: ACS requests.
    AcsRequests,
    Over,
}

/// What the policy planned for this session, with what the Inform told.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionPlan {
    pub device_id: String,
    /// "Device." or "InternetGatewayDevice.".
    pub root: String,
    pub steps: Vec<Step>,
    /// The Inform's ParameterList: values known without asking.
    pub known: Vec<ParameterValueStruct>,
}

/// One session. Cheap when the plan is empty (the null policy): no maps are filled.
#[derive(Debug, Clone)]
pub struct AcsSession {
    version: CwmpVersion,
    phase: Phase,
    id_base: u64,
    seq: u16,
    outstanding: Option<Outstanding>,
    device_id: String,
    root: String,
    steps: VecDeque<Step>,
    known: HashMap<String, Known>,
    writable: HashMap<String, bool>,
    log: SessionLog,
    now_ms: i64,
    misbehaviour: Misbehaviour,
}

/// CWMP 1.4 negotiation: the highest version both sides support, for `UseCWMPVersion`.
/// `Ok(None)` when the CPE did not announce SupportedCWMPVersions; fault 8006 when nothing in
/// its list is a version this ACS knows.
pub fn negotiate(header: &Header) -> Result<Option<CwmpVersion>, Fault> {
    let Some(list) = header.supported_cwmp_versions.as_deref() else {
        return Ok(None);
    };
    list.split(',')
        .filter_map(CwmpVersion::parse)
        .max()
        .map(Some)
        .ok_or_else(|| Fault::new(8006))
}

/// The InformResponse (GenieACS: MaxEnvelopes 1, the Inform's cwmp:ID echoed).
pub fn inform_response(
    version: CwmpVersion,
    inform_header: &Header,
    use_version: Option<CwmpVersion>,
) -> Envelope<AcsMessage> {
    Envelope::new(
        version,
        Header {
            id: inform_header.id.clone(),
            use_cwmp_version: use_version.map(|v| v.as_str().to_string()),
            ..Header::default()
        },
        AcsMessage::Response(AcsResponse::InformResponse(InformResponse {
            max_envelopes: 1,
        })),
    )
}

/// A fault answering a CPE request (8000 for an unsupported method).
pub fn fault_reply(version: CwmpVersion, id: Option<String>, code: u32) -> Envelope<AcsMessage> {
    Envelope::new(
        version,
        Header {
            id,
            ..Header::default()
        },
        AcsMessage::Fault(Fault::new(code)),
    )
}

impl AcsSession {
    /// A session whose InformResponse has just been sent. `start_ms` seeds the cwmp:IDs (the
    /// first 11 hex digits are the start time, like GenieACS).
    pub fn new(version: CwmpVersion, start_ms: i64, plan: SessionPlan) -> Self {
        let mut known = HashMap::new();
        if !plan.steps.is_empty() {
            known.reserve(plan.known.len());
            for p in plan.known {
                known.insert(
                    p.name,
                    Known {
                        value: p.value,
                        kind: p.kind,
                    },
                );
            }
        }
        AcsSession {
            version,
            phase: Phase::CpeRequests,
            id_base: (start_ms.max(0) as u64) & 0xFFF_FFFF_FFFF,
            seq: 0,
            outstanding: None,
            device_id: plan.device_id,
            root: plan.root,
            steps: plan.steps.into(),
            known,
            writable: HashMap::new(),
            log: SessionLog::default(),
            now_ms: start_ms,
            misbehaviour: Misbehaviour::default(),
        }
    }

    /// Deliberate bugs for conformance self-tests (none by default).
    pub fn set_misbehaviour(&mut self, m: Misbehaviour) {
        self.misbehaviour = m;
    }

    pub fn version(&self) -> CwmpVersion {
        self.version
    }

    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    pub fn is_over(&self) -> bool {
        self.phase == Phase::Over
    }

    /// True while the firmware wave's Download is still queued (never sent): the server gives
    /// the wave slot back when the session ends like that.
    pub fn firmware_unsent(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s, Step::Rpc(r) if r.firmware))
    }

    /// What the session learnt; call once it is over.
    pub fn take_log(&mut self) -> SessionLog {
        std::mem::take(&mut self.log)
    }

    /// The session is dropped without an answer (timeout, shutdown): the outstanding request
    /// is recorded as terminated.
    pub fn abandon(&mut self, now_ms: i64) {
        self.now_ms = now_ms;
        if let Some(o) = self.outstanding.take() {
            self.record(&o, "session_terminated", None, None);
        }
        self.phase = Phase::Over;
    }

    /// The CPE's empty POST.
    pub fn on_empty(&mut self, now_ms: i64) -> Reply {
        self.now_ms = now_ms;
        match self.phase {
            Phase::CpeRequests => {
                self.phase = Phase::AcsRequests;
                self.next_request()
            }
            Phase::AcsRequests if self.outstanding.is_none() => self.end(SessionOutcome::Completed),
            // An empty POST while our request is unanswered.
            Phase::AcsRequests | Phase::Over => self.bad_state(),
        }
    }

    /// A CPE message with a body.
    pub fn on_message(&mut self, env: Envelope<CpeMessage>, now_ms: i64) -> Reply {
        self.now_ms = now_ms;
        let id = env.header.id;
        match (self.phase, env.body) {
            (Phase::CpeRequests, CpeMessage::Request(CpeRequest::Inform(_))) => self.bad_state(),
            // The deliberate bug: jump the queue with a request of our own.
            (Phase::CpeRequests, CpeMessage::Request(_))
                if self.misbehaviour.has(Misbehave::RpcBeforeEmptyPost) =>
            {
                self.steps.push_front(Step::Rpc(PlannedRpc {
                    task: "misbehave".into(),
                    request: AcsRequest::GetRPCMethods,
                    firmware: false,
                }));
                self.phase = Phase::AcsRequests;
                self.next_request()
            }
            (Phase::CpeRequests, CpeMessage::Request(req)) => self.cpe_request(id, req),
            (Phase::AcsRequests, CpeMessage::Response(resp)) => self.cpe_response(id, resp),
            (Phase::AcsRequests, CpeMessage::Fault(f)) => self.cpe_fault(id, f),
            _ => self.bad_state(),
        }
    }

    /// A CPE request whose method the codec does not know (state 1): fault 8000, as for any
    /// unsupported method; elsewhere it breaks the session.
    pub fn on_unknown_request(&mut self, id: Option<String>, now_ms: i64) -> Reply {
        self.now_ms = now_ms;
        if self.phase == Phase::CpeRequests {
            Reply::Send(Box::new(fault_reply(self.version, id, 8000)))
        } else {
            self.bad_state()
        }
    }

    /// A message of this session that could not be decoded.
    pub fn on_malformed(&mut self, now_ms: i64) {
        self.now_ms = now_ms;
        if let Some(o) = self.outstanding.take() {
            self.record(&o, "invalid_response", None, None);
        }
        self.phase = Phase::Over;
    }

    fn end(&mut self, outcome: SessionOutcome) -> Reply {
        self.phase = Phase::Over;
        Reply::End(outcome)
    }

    fn bad_state(&mut self) -> Reply {
        if let Some(o) = self.outstanding.take() {
            self.record(&o, "session_terminated", None, None);
        }
        self.phase = Phase::Over;
        Reply::Reject {
            text: "Bad session state",
            outcome: SessionOutcome::BadSessionState,
        }
    }

    fn reply(&self, id: Option<String>, body: AcsResponse) -> Reply {
        Reply::Send(Box::new(Envelope::new(
            self.version,
            Header {
                id,
                ..Header::default()
            },
            AcsMessage::Response(body),
        )))
    }

    fn cpe_request(&mut self, id: Option<String>, req: CpeRequest) -> Reply {
        match req {
            CpeRequest::Inform(_) => self.bad_state(),
            CpeRequest::TransferComplete(_)
                if self.misbehaviour.has(Misbehave::RejectTransferComplete) =>
            {
                Reply::Send(Box::new(fault_reply(self.version, id, 8000)))
            }
            CpeRequest::TransferComplete(tc) => {
                self.log.transfers.push(TransferResult {
                    command_key: tc.command_key,
                    fault_code: tc.fault.fault_code,
                    fault_string: tc.fault.fault_string,
                    start_time: tc.start_time.format(),
                    complete_time: tc.complete_time.format(),
                    at_ms: self.now_ms,
                });
                self.reply(id, AcsResponse::TransferCompleteResponse)
            }
            CpeRequest::GetRPCMethods => self.reply(
                id,
                AcsResponse::GetRPCMethodsResponse(GetRPCMethodsResponse {
                    method_list: ACS_METHODS
                        .iter()
                        .take(if self.misbehaviour.has(Misbehave::RpcMethodsIncomplete) {
                            1
                        } else {
                            ACS_METHODS.len()
                        })
                        .map(|m| m.to_string())
                        .collect(),
                }),
            ),
            _ => Reply::Send(Box::new(fault_reply(self.version, id, 8000))),
        }
    }

    fn next_request(&mut self) -> Reply {
        loop {
            let Some(step) = self.steps.front_mut() else {
                return self.end(SessionOutcome::Completed);
            };
            let (req, origin) = match step {
                Step::Discover(d) => match d.next(&self.known) {
                    Some(x) => x,
                    None => {
                        let detail = format!(
                            "{} names, {} GetParameterNames, {} GetParameterValues",
                            self.writable.len(),
                            d.gpns,
                            d.gpvs
                        );
                        self.steps.pop_front();
                        self.log.tasks.push(TaskResult {
                            task: "discovery".into(),
                            rpc: "GetParameterNames",
                            at_ms: self.now_ms,
                            result: "ok",
                            fault_code: None,
                            fault_string: None,
                            parameter_faults: Vec::new(),
                            detail: Some(detail),
                        });
                        continue;
                    }
                },
                Step::Provision(p) => {
                    let list = p.resolve(&self.root, &self.known, &self.writable);
                    let origin = Origin::Provision {
                        task: p.task.clone(),
                        cr: p.cr_credentials.clone(),
                    };
                    self.steps.pop_front();
                    if list.is_empty() {
                        continue;
                    }
                    (
                        AcsRequest::SetParameterValues(SetParameterValues {
                            parameter_list: list,
                            parameter_key: String::new(),
                        }),
                        origin,
                    )
                }
                Step::Rpc(_) => {
                    let Some(Step::Rpc(r)) = self.steps.pop_front() else {
                        continue;
                    };
                    if !self.log.tasks_done.contains(&r.task) && !r.firmware {
                        self.log.tasks_done.push(r.task.clone());
                    }
                    (
                        r.request,
                        Origin::Task {
                            task: r.task,
                            firmware: r.firmware,
                        },
                    )
                }
            };
            return self.send(req, origin);
        }
    }

    fn send(&mut self, req: AcsRequest, origin: Origin) -> Reply {
        self.send_try(req, origin, 0)
    }

    fn send_try(&mut self, mut req: AcsRequest, origin: Origin, tries: u8) -> Reply {
        let id = format!("{:011x}{:04x}", self.id_base, self.seq);
        self.seq = self.seq.wrapping_add(1);
        // GenieACS: a transfer's CommandKey is its cwmp:ID, so a TransferComplete names it.
        let command_key = match &mut req {
            AcsRequest::Download(d) => {
                d.command_key = id.clone();
                Some(id.clone())
            }
            AcsRequest::Upload(u) => {
                u.command_key = id.clone();
                Some(id.clone())
            }
            _ => None,
        };
        self.outstanding = Some(Outstanding {
            id: id.clone(),
            request: req.name(),
            response: req.response_name(),
            command_key,
            origin,
            again: self
                .misbehaviour
                .has(Misbehave::RetryFaulted)
                .then(|| (req.clone(), tries)),
        });
        Reply::Send(Box::new(Envelope::new(
            self.version,
            Header::with_id(id),
            AcsMessage::Request(req),
        )))
    }

    fn check(&mut self, id: Option<&str>, response: &str) -> Result<Outstanding, Reply> {
        let Some(o) = self.outstanding.take() else {
            return Err(self.bad_state());
        };
        if id != Some(o.id.as_str()) || (!response.is_empty() && response != o.response) {
            self.record(&o, "invalid_response", None, None);
            return Err(self.end(SessionOutcome::InvalidResponse));
        }
        Ok(o)
    }

    fn cpe_response(&mut self, id: Option<String>, resp: CpeResponse) -> Reply {
        let o = match self.check(id.as_deref(), resp.name()) {
            Ok(o) => o,
            Err(r) => return r,
        };
        let mut detail = None;
        match (&o.origin, resp) {
            (
                Origin::Gpn {
                    path,
                    next_level,
                    level,
                },
                CpeResponse::GetParameterNamesResponse(g),
            ) => {
                if let Some(Step::Discover(d)) = self.steps.front_mut() {
                    self.log.names_skipped += d.on_names(
                        path,
                        *next_level,
                        *level,
                        g.parameter_list,
                        &mut self.writable,
                    );
                }
                // Discovery is summarised once at its end, not per request.
                return self.next_request();
            }
            (origin, CpeResponse::GetParameterValuesResponse(g)) => {
                let n = g.parameter_list.len();
                for p in g.parameter_list {
                    if self.known.len() < MAX_DISCOVERED && name_ok(&p.name) {
                        self.known.insert(
                            p.name.clone(),
                            Known {
                                value: p.value.clone(),
                                kind: p.kind,
                            },
                        );
                    }
                    self.log.values.push((p.name, p.value, p.kind));
                }
                if matches!(origin, Origin::DiscoveryGpv) {
                    return self.next_request();
                }
                detail = Some(format!("{n} values"));
            }
            (Origin::Provision { cr, .. }, CpeResponse::SetParameterValuesResponse(s)) => {
                if let Some(c) = cr {
                    self.log.cr_credentials = Some(c.clone());
                }
                detail = Some(format!("Status {}", s.status));
            }
            (_, CpeResponse::SetParameterValuesResponse(s)) => {
                detail = Some(format!("Status {}", s.status))
            }
            (_, CpeResponse::AddObjectResponse(a)) => {
                detail = Some(format!(
                    "InstanceNumber {} Status {}",
                    a.instance_number, a.status
                ))
            }
            (_, CpeResponse::DeleteObjectResponse(d)) => {
                detail = Some(format!("Status {}", d.status))
            }
            (origin, CpeResponse::DownloadResponse(d)) => {
                if let (Origin::Task { firmware: true, .. }, Some(key)) = (origin, &o.command_key) {
                    self.log.firmware = Some(FirmwareState {
                        command_key: key.clone(),
                        sent_ms: self.now_ms,
                        result: if d.status == 0 { "ok" } else { "pending" },
                        fault_code: None,
                    });
                }
                detail = Some(format!("Status {}", d.status));
            }
            (_, CpeResponse::UploadResponse(u)) => detail = Some(format!("Status {}", u.status)),
            (_, CpeResponse::GetParameterAttributesResponse(g)) => {
                detail = Some(format!("{} attributes", g.parameter_list.len()))
            }
            (_, CpeResponse::GetRPCMethodsResponse(m)) => {
                detail = Some(m.method_list.join(","));
            }
            _ => {}
        }
        if let Some(d) = detail.as_mut() {
            if let Some(k) = &o.command_key {
                d.push_str(" CommandKey ");
                d.push_str(k);
            }
        }
        self.record(&o, "ok", None, detail);
        self.next_request()
    }

    fn cpe_fault(&mut self, id: Option<String>, f: Fault) -> Reply {
        let o = match self.check(id.as_deref(), "") {
            Ok(o) => o,
            Err(r) => return r,
        };
        if let (Origin::Task { firmware: true, .. }, Some(key)) = (&o.origin, &o.command_key) {
            self.log.firmware = Some(FirmwareState {
                command_key: key.clone(),
                sent_ms: self.now_ms,
                result: "failed",
                fault_code: Some(f.code),
            });
        }
        self.record(&o, "fault", Some(&f), None);
        if let Some((req, tries)) = o.again {
            if tries < 3 {
                return self.send_try(req, o.origin, tries + 1);
            }
        }
        self.next_request()
    }

    fn record(
        &mut self,
        o: &Outstanding,
        result: &'static str,
        fault: Option<&Fault>,
        detail: Option<String>,
    ) {
        self.log.tasks.push(TaskResult {
            task: o.origin.task().to_string(),
            rpc: o.request,
            at_ms: self.now_ms,
            result,
            fault_code: fault.map(|f| f.code),
            fault_string: fault.map(|f| f.string.clone()),
            parameter_faults: fault
                .map(|f| {
                    f.set_parameter_values_faults
                        .iter()
                        .map(|p| (p.parameter_name.clone(), p.code))
                        .collect()
                })
                .unwrap_or_default(),
            detail,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cwmp::{
        DateTime, Download, GetParameterNamesResponse, GetParameterValuesResponse, Reboot,
        SetParameterValuesFault, SetParameterValuesResponse, TransferComplete,
        TransferCompleteFaultStruct,
    };

    fn pv(name: &str, value: &str, kind: XsdType) -> ParameterValueStruct {
        ParameterValueStruct {
            name: name.into(),
            value: value.into(),
            kind: Some(kind),
        }
    }

    fn cpe(id: &str, body: CpeMessage) -> Envelope<CpeMessage> {
        Envelope::new(CwmpVersion::V1_0, Header::with_id(id), body)
    }

    fn sent(r: &Reply) -> (&str, &AcsMessage) {
        match r {
            Reply::Send(env) => (env.header.id.as_deref().unwrap_or(""), &env.body),
            other => panic!("expected a message, got {other:?}"),
        }
    }

    fn request(r: &Reply) -> (String, AcsRequest) {
        match sent(r) {
            (id, AcsMessage::Request(q)) => (id.to_string(), q.clone()),
            other => panic!("expected a request, got {other:?}"),
        }
    }

    fn names(list: &[(&str, bool)]) -> CpeMessage {
        CpeMessage::Response(CpeResponse::GetParameterNamesResponse(
            GetParameterNamesResponse {
                parameter_list: list
                    .iter()
                    .map(|(n, w)| ParameterInfoStruct {
                        name: n.to_string(),
                        writable: *w,
                    })
                    .collect(),
            },
        ))
    }

    #[test]
    fn null_plan_ends_at_the_empty_post() {
        let mut s = AcsSession::new(CwmpVersion::V1_0, 1000, SessionPlan::default());
        assert_eq!(s.on_empty(1001), Reply::End(SessionOutcome::Completed));
        assert!(s.is_over());
        assert!(s.take_log().is_empty());
    }

    #[test]
    fn ids_are_fifteen_hex_digits_from_the_start_time() {
        let start = 0x1a2137f3119_i64;
        let plan = SessionPlan {
            steps: vec![
                Step::Rpc(PlannedRpc {
                    task: "t".into(),
                    request: AcsRequest::Reboot(Reboot::default()),
                    firmware: false,
                }),
                Step::Rpc(PlannedRpc {
                    task: "t".into(),
                    request: AcsRequest::FactoryReset,
                    firmware: false,
                }),
            ],
            ..SessionPlan::default()
        };
        let mut s = AcsSession::new(CwmpVersion::V1_0, start, plan);
        let (id0, _) = request(&s.on_empty(start));
        assert_eq!(id0, "1a2137f31190000");
        let r = s.on_message(
            cpe(&id0, CpeMessage::Response(CpeResponse::RebootResponse)),
            start,
        );
        let (id1, req) = request(&r);
        assert_eq!(id1, "1a2137f31190001");
        assert_eq!(req, AcsRequest::FactoryReset);
    }

    #[test]
    fn state_one_answers_cpe_requests_and_faults_the_rest() {
        let mut s = AcsSession::new(CwmpVersion::V1_2, 5, SessionPlan::default());
        let r = s.on_message(
            cpe("cpe-2", CpeMessage::Request(CpeRequest::GetRPCMethods)),
            6,
        );
        match sent(&r) {
            ("cpe-2", AcsMessage::Response(AcsResponse::GetRPCMethodsResponse(m))) => {
                assert_eq!(m.method_list, ACS_METHODS.map(String::from).to_vec())
            }
            other => panic!("{other:?}"),
        }
        let tc = TransferComplete {
            command_key: "k".into(),
            fault: TransferCompleteFaultStruct {
                fault_code: 9010,
                fault_string: "nope".into(),
            },
            start_time: DateTime::UNKNOWN,
            complete_time: DateTime::UNKNOWN,
        };
        let r = s.on_message(
            cpe(
                "cpe-3",
                CpeMessage::Request(CpeRequest::TransferComplete(tc)),
            ),
            7,
        );
        assert!(matches!(
            sent(&r),
            (
                "cpe-3",
                AcsMessage::Response(AcsResponse::TransferCompleteResponse)
            )
        ));
        let r = s.on_message(
            cpe(
                "cpe-4",
                CpeMessage::Request(CpeRequest::Kicked(Default::default())),
            ),
            8,
        );
        match sent(&r) {
            ("cpe-4", AcsMessage::Fault(f)) => assert_eq!(f.code, 8000),
            other => panic!("{other:?}"),
        }
        assert_eq!(s.on_empty(9), Reply::End(SessionOutcome::Completed));
        let log = s.take_log();
        assert_eq!(log.transfers.len(), 1);
        assert_eq!(log.transfers[0].fault_code, 9010);
    }

    #[test]
    fn inform_twice_and_requests_after_the_empty_post_are_bad_state() {
        let mut s = AcsSession::new(CwmpVersion::V1_0, 5, SessionPlan::default());
        let r = s.on_message(
            cpe(
                "cpe-1",
                CpeMessage::Request(CpeRequest::Inform(Default::default())),
            ),
            6,
        );
        assert!(matches!(
            r,
            Reply::Reject {
                text: "Bad session state",
                ..
            }
        ));
        let plan = SessionPlan {
            steps: vec![Step::Rpc(PlannedRpc {
                task: "reboot".into(),
                request: AcsRequest::Reboot(Reboot::default()),
                firmware: false,
            })],
            ..SessionPlan::default()
        };
        let mut s = AcsSession::new(CwmpVersion::V1_0, 5, plan);
        let _ = request(&s.on_empty(6));
        let r = s.on_message(
            cpe("cpe-2", CpeMessage::Request(CpeRequest::GetRPCMethods)),
            7,
        );
        assert_eq!(
            r,
            Reply::Reject {
                text: "Bad session state",
                outcome: SessionOutcome::BadSessionState
            }
        );
        let log = s.take_log();
        assert_eq!(log.tasks[0].result, "session_terminated");
        assert_eq!(log.tasks[0].task, "reboot");
    }

    #[test]
    fn wrong_id_or_wrong_type_ends_the_session_as_invalid_response() {
        let plan = || SessionPlan {
            steps: vec![Step::Rpc(PlannedRpc {
                task: "r".into(),
                request: AcsRequest::Reboot(Reboot::default()),
                firmware: false,
            })],
            ..SessionPlan::default()
        };
        let mut s = AcsSession::new(CwmpVersion::V1_0, 5, plan());
        let _ = request(&s.on_empty(6));
        let r = s.on_message(
            cpe(
                "not-mine",
                CpeMessage::Response(CpeResponse::RebootResponse),
            ),
            7,
        );
        assert_eq!(r, Reply::End(SessionOutcome::InvalidResponse));
        assert_eq!(s.take_log().tasks[0].result, "invalid_response");

        let mut s = AcsSession::new(CwmpVersion::V1_0, 5, plan());
        let (id, _) = request(&s.on_empty(6));
        let r = s.on_message(
            cpe(&id, CpeMessage::Response(CpeResponse::FactoryResetResponse)),
            7,
        );
        assert_eq!(r, Reply::End(SessionOutcome::InvalidResponse));
    }

    #[test]
    fn discovery_walks_then_reads_in_batches_then_provisions() {
        let plan = SessionPlan {
            device_id: "00D09E-HGW-S1".into(),
            root: "Device.".into(),
            steps: vec![
                Step::Discover(Discovery::new(1, 32)),
                Step::Provision(Provision {
                    task: "provisioning".into(),
                    entries: vec![
                        Desired {
                            suffix: "ManagementServer.PeriodicInformEnable".into(),
                            value: "true".into(),
                            kind: XsdType::Boolean,
                        },
                        Desired {
                            suffix: "ManagementServer.PeriodicInformInterval".into(),
                            value: "300".into(),
                            kind: XsdType::UnsignedInt,
                        },
                        Desired {
                            suffix: "ManagementServer.ConnectionRequestUsername".into(),
                            value: "00D09E-HGW-S1".into(),
                            kind: XsdType::String,
                        },
                        Desired {
                            suffix: "ManagementServer.Absent".into(),
                            value: "x".into(),
                            kind: XsdType::String,
                        },
                    ],
                    cr_credentials: Some(("00D09E-HGW-S1".into(), "pw".into())),
                }),
            ],
            known: vec![pv(
                "Device.DeviceInfo.SoftwareVersion",
                "1.0",
                XsdType::String,
            )],
        };
        let mut s = AcsSession::new(CwmpVersion::V1_2, 0x100, plan);
        let (id, q) = request(&s.on_empty(1));
        assert_eq!(
            q,
            AcsRequest::GetParameterNames(GetParameterNames {
                parameter_path: String::new(),
                next_level: true
            })
        );
        let r = s.on_message(cpe(&id, names(&[("Device.", false)])), 2);
        let (id, q) = request(&r);
        assert_eq!(
            q,
            AcsRequest::GetParameterNames(GetParameterNames {
                parameter_path: "Device.".into(),
                next_level: true
            })
        );
        let r = s.on_message(
            cpe(
                &id,
                names(&[
                    ("Device.DeviceInfo.", false),
                    ("Device.ManagementServer.", false),
                    ("Device.RootDataModelVersion", false),
                ]),
            ),
            3,
        );
        let (id, q) = request(&r);
        assert_eq!(
            q,
            AcsRequest::GetParameterNames(GetParameterNames {
                parameter_path: "Device.DeviceInfo.".into(),
                next_level: false
            })
        );
        let mut info: Vec<(String, bool)> = (0..40)
            .map(|i| (format!("Device.DeviceInfo.P{i}"), false))
            .collect();
        info.push(("Device.DeviceInfo.SoftwareVersion".into(), false));
        let info_ref: Vec<(&str, bool)> = info.iter().map(|(n, w)| (n.as_str(), *w)).collect();
        let r = s.on_message(cpe(&id, names(&info_ref)), 4);
        let (id, q) = request(&r);
        assert!(matches!(q, AcsRequest::GetParameterNames(ref g)
            if g.parameter_path == "Device.ManagementServer." && !g.next_level));
        let r = s.on_message(
            cpe(
                &id,
                names(&[
                    ("Device.ManagementServer.PeriodicInformEnable", true),
                    ("Device.ManagementServer.PeriodicInformInterval", true),
                    ("Device.ManagementServer.ConnectionRequestUsername", true),
                ]),
            ),
            5,
        );
        // 40 + 1 (root param) + 3 names to read, SoftwareVersion known from the Inform: 44.
        let mut batches = Vec::new();
        let mut r = r;
        loop {
            let (id, q) = request(&r);
            let AcsRequest::GetParameterValues(g) = q else {
                break;
            };
            assert!(g.parameter_names.len() <= 32);
            assert!(!g
                .parameter_names
                .contains(&"Device.DeviceInfo.SoftwareVersion".to_string()));
            batches.push(g.parameter_names.len());
            let parameter_list = g
                .parameter_names
                .iter()
                .map(|n| match n.as_str() {
                    "Device.ManagementServer.PeriodicInformEnable" => pv(n, "1", XsdType::Boolean),
                    "Device.ManagementServer.PeriodicInformInterval" => {
                        pv(n, "60", XsdType::UnsignedInt)
                    }
                    _ => pv(n, "v", XsdType::String),
                })
                .collect();
            let msg = CpeMessage::Response(CpeResponse::GetParameterValuesResponse(
                GetParameterValuesResponse { parameter_list },
            ));
            r = s.on_message(cpe(&id, msg), 6);
        }
        assert_eq!(batches, vec![32, 12]);
        let (id, q) = request(&r);
        let AcsRequest::SetParameterValues(spv) = q else {
            panic!("expected SPV, got {q:?}");
        };
        // Enable was "1" (= true): not sent. The absent parameter is dropped.
        let got: Vec<(&str, &str)> = spv
            .parameter_list
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "Device.ManagementServer.ConnectionRequestUsername",
                    "00D09E-HGW-S1"
                ),
                ("Device.ManagementServer.PeriodicInformInterval", "300"),
            ]
        );
        let r = s.on_message(
            cpe(
                &id,
                CpeMessage::Response(CpeResponse::SetParameterValuesResponse(
                    SetParameterValuesResponse { status: 0 },
                )),
            ),
            7,
        );
        assert_eq!(r, Reply::End(SessionOutcome::Completed));
        let log = s.take_log();
        assert_eq!(
            log.cr_credentials,
            Some(("00D09E-HGW-S1".into(), "pw".into()))
        );
        assert_eq!(log.values.len(), 44);
        assert!(log
            .tasks
            .iter()
            .any(|t| t.task == "discovery" && t.result == "ok"));
        assert!(log
            .tasks
            .iter()
            .any(|t| t.task == "provisioning" && t.rpc == "SetParameterValues"));
    }

    #[test]
    fn discovery_ignores_names_outside_the_asked_path() {
        let mut d = Discovery::new(5, 32);
        let mut w = HashMap::new();
        let known = HashMap::new();
        let _ = d.next(&known);
        d.on_names(
            "Device.",
            true,
            1,
            vec![
                ParameterInfoStruct {
                    name: "Device.".into(),
                    writable: false,
                },
                ParameterInfoStruct {
                    name: "Other.X".into(),
                    writable: false,
                },
            ],
            &mut w,
        );
        assert!(d.next(&known).is_none());
    }

    #[test]
    fn faults_are_recorded_and_the_firmware_download_settles() {
        let plan = SessionPlan {
            steps: vec![
                Step::Rpc(PlannedRpc {
                    task: "firmware_wave".into(),
                    request: AcsRequest::Download(Download {
                        file_type: "1 Firmware Upgrade Image".into(),
                        ..Download::default()
                    }),
                    firmware: true,
                }),
                Step::Rpc(PlannedRpc {
                    task: "ssid".into(),
                    request: AcsRequest::SetParameterValues(SetParameterValues::default()),
                    firmware: false,
                }),
            ],
            ..SessionPlan::default()
        };
        let mut s = AcsSession::new(CwmpVersion::V1_0, 0x200, plan);
        assert!(s.firmware_unsent());
        let r = s.on_empty(1);
        let (id, q) = request(&r);
        let AcsRequest::Download(d) = q else {
            panic!("{q:?}")
        };
        assert_eq!(d.command_key, id);
        assert!(!s.firmware_unsent());
        let r = s.on_message(
            cpe(
                &id,
                CpeMessage::Fault(Fault {
                    code: 9010,
                    string: "x".into(),
                    set_parameter_values_faults: vec![],
                }),
            ),
            2,
        );
        let (id, _) = request(&r);
        let r = s.on_message(
            cpe(
                &id,
                CpeMessage::Fault(Fault {
                    code: 9003,
                    string: "Invalid arguments".into(),
                    set_parameter_values_faults: vec![SetParameterValuesFault::new(
                        "Device.X", 9007,
                    )],
                }),
            ),
            3,
        );
        assert_eq!(r, Reply::End(SessionOutcome::Completed));
        let log = s.take_log();
        let fw = log.firmware.unwrap();
        assert_eq!((fw.result, fw.fault_code), ("failed", Some(9010)));
        let spv = log.tasks.iter().find(|t| t.task == "ssid").unwrap();
        assert_eq!(spv.fault_code, Some(9003));
        assert_eq!(spv.parameter_faults, vec![("Device.X".to_string(), 9007)]);
        assert_eq!(log.tasks_done, vec!["ssid".to_string()]);
    }

    #[test]
    fn negotiation_picks_the_highest_common_version() {
        let h = |s: &str| Header {
            supported_cwmp_versions: Some(s.into()),
            ..Header::default()
        };
        assert_eq!(negotiate(&Header::default()), Ok(None));
        assert_eq!(
            negotiate(&h("1.0,1.1,1.2,1.3,1.4")),
            Ok(Some(CwmpVersion::V1_4))
        );
        assert_eq!(negotiate(&h("1.2, 1.0")), Ok(Some(CwmpVersion::V1_2)));
        assert_eq!(negotiate(&h("2.0,3.1")).map_err(|f| f.code), Err(8006));
        let env = inform_response(
            CwmpVersion::V1_4,
            &Header::with_id("cpe-1"),
            Some(CwmpVersion::V1_4),
        );
        assert_eq!(env.header.use_cwmp_version.as_deref(), Some("1.4"));
        assert_eq!(env.header.id.as_deref(), Some("cpe-1"));
    }

    #[test]
    fn abandon_marks_the_outstanding_request() {
        let plan = SessionPlan {
            steps: vec![Step::Rpc(PlannedRpc {
                task: "r".into(),
                request: AcsRequest::Reboot(Reboot::default()),
                firmware: false,
            })],
            ..SessionPlan::default()
        };
        let mut s = AcsSession::new(CwmpVersion::V1_0, 1, plan);
        let _ = s.on_empty(2);
        // An empty POST instead of the RebootResponse.
        assert!(matches!(s.on_empty(3), Reply::Reject { .. }));
        let log = s.take_log();
        assert_eq!(log.tasks[0].result, "session_terminated");
        let mut s = AcsSession::new(CwmpVersion::V1_0, 1, SessionPlan::default());
        s.abandon(5);
        assert!(s.is_over());
    }
}
