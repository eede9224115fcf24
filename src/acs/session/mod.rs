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

mod cpe_requests;
mod discovery;
mod messages;
mod provision;

pub use discovery::Discovery;
pub use messages::{fault_reply, inform_response, negotiate};
pub use provision::{Desired, Provision};

/// GenieACS's `GPV_BATCH_SIZE`.
pub const DEFAULT_GPV_BATCH: usize = 32;
/// Names one discovery keeps at most (a hostile CPE cannot make the session grow further).
pub const MAX_DISCOVERED: usize = 50_000;
/// The methods the ACS answers when a CPE asks (GenieACS lists exactly these).
/// GenieACS lists the first three; the completion reports of autonomous transfers (CWMP 1.1)
/// and of deployment-unit changes (1.2) are answered as well, and listed to a CPE whose
/// session's version has them (TR-069 A.3.1.1: the list is exact).
pub const ACS_METHODS: [(&str, CwmpVersion); 6] = [
    ("Inform", CwmpVersion::V1_0),
    ("GetRPCMethods", CwmpVersion::V1_0),
    ("TransferComplete", CwmpVersion::V1_0),
    ("AutonomousTransferComplete", CwmpVersion::V1_1),
    ("DUStateChangeComplete", CwmpVersion::V1_2),
    ("AutonomousDUStateChangeComplete", CwmpVersion::V1_2),
];

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

    pub(super) fn reply(&self, id: Option<String>, body: AcsResponse) -> Reply {
        Reply::Send(Box::new(Envelope::new(
            self.version,
            Header {
                id,
                ..Header::default()
            },
            AcsMessage::Response(body),
        )))
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
            AcsRequest::ScheduleDownload(d) if d.command_key.is_empty() => {
                d.command_key = id.clone();
                Some(id.clone())
            }
            AcsRequest::ChangeDUState(c) if c.command_key.is_empty() => {
                c.command_key = id.clone();
                None
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

    /// Long (over 80 lines): one arm per (request origin, response) pair.
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
mod tests;
