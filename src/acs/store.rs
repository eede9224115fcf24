//! What the embedded ACS learns, in memory and bounded: fleet-wide counters (sessions by
//! outcome, RPCs by name, faults by code, rejections, connection requests, transfers) and one
//! record per device (last Inform, values learnt, task results, TransferCompletes, CR results).
//!
//! Counters are atomics. Device records (kept under every policy, the null one included, so
//! `/status/devices/<id>` always answers) sit in a sharded map; everything per device is
//! capped so a long run or a hostile CPE cannot grow memory without bound. [`Store::snapshot`] and [`Store::device`] are what
//! `GET /status` and `GET /status/devices/<id>` serve.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use tokio::time::Instant;

use serde::Serialize;

use crate::cwmp::{CwmpVersion, Inform, XsdType};

/// Bounds on what the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// Devices recorded at most; later new devices are counted (`devices_dropped`) only.
    pub max_devices: usize,
    /// Parameter values kept per device.
    pub max_values_per_device: usize,
    /// Task results kept per device (oldest dropped first).
    pub max_tasks_per_device: usize,
    /// TransferComplete results kept per device (oldest dropped first).
    pub max_transfers_per_device: usize,
    /// Longest parameter value kept, in bytes; a longer one is skipped (`value_too_long`).
    pub max_value_len: usize,
    /// Bytes of names and values kept per device; past it new values are skipped
    /// (`device_full`), so a device's record is bounded whatever its CPE reports.
    pub max_bytes_per_device: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            max_devices: 200_000,
            max_values_per_device: 4096,
            max_tasks_per_device: 64,
            max_transfers_per_device: 16,
            max_value_len: 16 * 1024,
            max_bytes_per_device: 1 << 20,
        }
    }
}

/// How a session ended. The label is a fixed metric name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionOutcome {
    /// The ACS had nothing more: 204.
    Completed,
    /// No message for the session timeout (30 s).
    Timeout,
    /// A response whose cwmp:ID (or type) does not match the outstanding request.
    InvalidResponse,
    /// A message the session state does not allow (Inform twice, CPE request after the empty
    /// POST, an unsolicited response).
    BadSessionState,
    /// A message of the session that could not be decoded.
    Malformed,
    /// SupportedCWMPVersions without a version in common: fault 8006.
    VersionMismatch,
    /// The ACS was shut down with the session open.
    Shutdown,
}

impl SessionOutcome {
    pub const ALL: [SessionOutcome; 7] = [
        SessionOutcome::Completed,
        SessionOutcome::Timeout,
        SessionOutcome::InvalidResponse,
        SessionOutcome::BadSessionState,
        SessionOutcome::Malformed,
        SessionOutcome::VersionMismatch,
        SessionOutcome::Shutdown,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SessionOutcome::Completed => "completed",
            SessionOutcome::Timeout => "timeout",
            SessionOutcome::InvalidResponse => "invalid_response",
            SessionOutcome::BadSessionState => "bad_session_state",
            SessionOutcome::Malformed => "malformed",
            SessionOutcome::VersionMismatch => "version_mismatch",
            SessionOutcome::Shutdown => "shutdown",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|o| *o == self).unwrap_or(0)
    }
}

/// Requests refused before or outside a session, by reason (fixed labels).
pub const REJECTIONS: &[&str] = &[
    "invalid_session",
    "bad_session_state",
    "unrecognized_version",
    "malformed",
    "missing_device_id",
    "body_too_large",
    "method_not_allowed",
    "unsupported_encoding",
    "overloaded",
    "auth_challenge",
    "auth_failed",
    "device_id_too_long",
];

/// What a CPE reported that the ACS did not keep or echo, by reason (fixed labels).
pub const SKIPPED: &[&str] = &[
    "name_too_long",
    "value_too_long",
    "device_full",
    "event_too_long",
];

/// Longest parameter name: `string(256)` in the cwmp-1-x schemas (ParameterValueStruct,
/// ParameterInfoStruct). A longer name is neither stored nor put into a request.
pub const MAX_NAME_LEN: usize = 256;

/// Events kept per device from one Inform, and the longest EventCode (`string(64)`).
const MAX_EVENTS: usize = 64;
const MAX_EVENT_LEN: usize = 64;

/// What is wrong with an Inform's DeviceId, if anything: the cwmp-1-x schemas bound
/// Manufacturer, ProductClass and SerialNumber to 64 characters and OUI to 6 (TR-069 A.3.3.1).
pub fn device_id_problem(d: &crate::cwmp::DeviceIdStruct) -> Option<&'static str> {
    let too_long = |s: &str, max: usize| s.len() > max && s.chars().count() > max;
    if too_long(&d.manufacturer, 64) {
        Some("Invalid DeviceId: Manufacturer longer than 64 characters")
    } else if too_long(&d.oui, 6) {
        Some("Invalid DeviceId: OUI longer than 6 characters")
    } else if too_long(&d.product_class, 64) {
        Some("Invalid DeviceId: ProductClass longer than 64 characters")
    } else if too_long(&d.serial_number, 64) {
        Some("Invalid DeviceId: SerialNumber longer than 64 characters")
    } else {
        None
    }
}

/// Whether a CPE-reported parameter name may be stored or echoed.
pub fn name_ok(name: &str) -> bool {
    name.len() <= MAX_NAME_LEN || name.chars().count() <= MAX_NAME_LEN
}

/// ACS -> CPE requests, for the per-name counters.
pub const ACS_RPCS: &[&str] = &crate::cwmp::AcsRequest::NAMES;

/// CPE -> ACS requests the ACS received.
pub const CPE_REQUESTS: &[&str] = &[
    "Inform",
    "TransferComplete",
    "AutonomousTransferComplete",
    "GetRPCMethods",
    "RequestDownload",
    "DUStateChangeComplete",
    "AutonomousDUStateChangeComplete",
    "Kicked",
];

/// Results of connection requests the ACS sent.
pub const CR_RESULTS: &[&str] = &[
    "ok",
    "auth_failed",
    "no_credentials",
    "busy",
    "http_error",
    "unreachable",
    "timeout",
];

/// A fixed set of names, one atomic each, plus "other".
#[derive(Debug)]
struct Named {
    names: &'static [&'static str],
    counts: Vec<AtomicU64>,
}

impl Named {
    fn new(names: &'static [&'static str]) -> Self {
        Named {
            names,
            counts: (0..=names.len()).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn add(&self, name: &str, n: u64) {
        let i = self
            .names
            .iter()
            .position(|x| *x == name)
            .unwrap_or(self.names.len());
        if let Some(c) = self.counts.get(i) {
            c.fetch_add(n, Relaxed);
        }
    }

    fn get(&self, name: &str) -> u64 {
        self.names
            .iter()
            .position(|x| *x == name)
            .and_then(|i| self.counts.get(i))
            .map_or(0, |c| c.load(Relaxed))
    }

    /// Non-zero counts only, so the JSON stays short.
    fn snapshot(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for (i, c) in self.counts.iter().enumerate() {
            let v = c.load(Relaxed);
            if v > 0 {
                let name = self.names.get(i).copied().unwrap_or("other");
                m.insert(name.to_string(), v);
            }
        }
        m
    }
}

/// Distinct fault codes kept in the per-code counters; more are folded into code 0.
const MAX_FAULT_CODES: usize = 256;

/// Fleet-wide counters.
#[derive(Debug)]
struct Counters {
    sessions_started: AtomicU64,
    sessions_active: AtomicI64,
    outcomes: Vec<AtomicU64>,
    rpcs_sent: Named,
    responses_ok: Named,
    cpe_requests: Named,
    cpe_faults: Mutex<BTreeMap<u32, u64>>,
    acs_faults: Mutex<BTreeMap<u32, u64>>,
    rejections: Named,
    skipped: Named,
    cr: Named,
    downloads_sent: AtomicU64,
    uploads_sent: AtomicU64,
    transfer_complete_ok: AtomicU64,
    transfer_complete_fault: AtomicU64,
    wave_started: AtomicU64,
    wave_succeeded: AtomicU64,
    wave_failed: AtomicU64,
    devices_dropped: AtomicU64,
    /// Events of the Informs answered with an InformResponse (TR-069 §3.7.1.5: delivered).
    events: Named,
    /// Devices whose Informs carried `0 BOOTSTRAP` once, and those that carried it again.
    devices_bootstrapped: AtomicU64,
    devices_bootstrapped_again: AtomicU64,
}

/// The event codes of TR-069 Table 7 counted by name in `GET /status` "events"; any other
/// code (vendor `X ...`) counts as "other", so the set stays fixed.
const EVENT_CODES: &[&str] = &[
    "0 BOOTSTRAP",
    "1 BOOT",
    "2 PERIODIC",
    "3 SCHEDULED",
    "4 VALUE CHANGE",
    "5 KICKED",
    "6 CONNECTION REQUEST",
    "7 TRANSFER COMPLETE",
    "8 DIAGNOSTICS COMPLETE",
    "9 REQUEST DOWNLOAD",
    "10 AUTONOMOUS TRANSFER COMPLETE",
    "11 DU STATE CHANGE COMPLETE",
    "12 AUTONOMOUS DU STATE CHANGE COMPLETE",
    "13 WAKEUP",
    "14 HEARTBEAT",
    "M Reboot",
    "M ScheduleInform",
    "M Download",
    "M ScheduleDownload",
    "M Upload",
    "M ChangeDUState",
];

/// One parameter value as learnt from an Inform or a GetParameterValuesResponse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParamValue {
    pub value: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
}

/// The result of one ACS request (a policy task's RPC, discovery, provisioning).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskResult {
    /// Policy task name, or "discovery" / "provisioning" / "firmware_wave".
    pub task: String,
    pub rpc: &'static str,
    pub at_ms: i64,
    /// "ok", "fault", "invalid_response" or "session_terminated".
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault_code: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault_string: Option<String>,
    /// Per-parameter SetParameterValues faults: (name, code).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parameter_faults: Vec<(String, u32)>,
    /// Short result detail (InstanceNumber, Status, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A TransferComplete the CPE reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferResult {
    pub command_key: String,
    pub fault_code: u32,
    pub fault_string: String,
    pub start_time: String,
    pub complete_time: String,
    pub at_ms: i64,
}

/// Where the device stands in the firmware wave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirmwareState {
    pub command_key: String,
    pub sent_ms: i64,
    /// "pending", "ok" or "failed".
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault_code: Option<u32>,
}

/// Connection requests sent to one device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CrStats {
    pub sent: u64,
    pub ok: u64,
    pub failed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_result: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_ms: Option<i64>,
}

/// Everything the ACS knows about one device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeviceRecord {
    pub device_id: String,
    pub manufacturer: String,
    pub oui: String,
    pub product_class: String,
    pub serial_number: String,
    pub cwmp_version: String,
    /// "Device." or "InternetGatewayDevice." as seen in the Inform.
    pub root: String,
    pub first_inform_ms: i64,
    pub last_inform_ms: i64,
    pub informs: u64,
    /// Informs that carried `0 BOOTSTRAP` (once per device unless it was reset or re-homed).
    pub bootstraps: u32,
    pub last_events: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_request_url: Option<String>,
    pub sessions: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_session_outcome: Option<&'static str>,
    pub parameters: BTreeMap<String, ParamValue>,
    pub parameters_dropped: u64,
    /// Bytes of the names and values in `parameters` (bounded by `max_bytes_per_device`).
    #[serde(skip)]
    pub parameter_bytes: usize,
    pub tasks: Vec<TaskResult>,
    /// Policy tasks that ran on this device (once-only tasks are not planned again).
    pub tasks_done: BTreeSet<String>,
    pub transfers: Vec<TransferResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware: Option<FirmwareState>,
    /// The ConnectionRequestUsername the ACS set (or learnt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cr_username: Option<String>,
    /// The password that goes with it: used for connection requests, never served.
    #[serde(skip)]
    pub cr_password: Option<String>,
    pub connection_requests: CrStats,
    /// A session of this device is open (from its Inform to the session's end): the ACS sends
    /// it no connection request then, since what the ACS wants done can be done in that
    /// session, and the credentials it is setting are not the CPE's yet (TR-069 §3.2.2).
    #[serde(skip)]
    pub in_session: bool,
}

impl DeviceRecord {
    /// The learnt xsi type of a parameter, if any.
    pub fn kind_of(&self, name: &str) -> Option<XsdType> {
        self.parameters
            .get(name)
            .and_then(|p| p.kind)
            .map(XsdType::from_xsi)
    }
}

/// What an Inform tells the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InformRecord {
    pub device_id: String,
    pub manufacturer: String,
    pub oui: String,
    pub product_class: String,
    pub serial_number: String,
    pub cwmp_version: &'static str,
    pub root: String,
    pub at_ms: i64,
    pub events: Vec<String>,
    pub connection_request_url: Option<String>,
    pub values: Vec<(String, String, Option<XsdType>)>,
}

impl InformRecord {
    /// What the store keeps of an Inform: the device's identity, its data-model root (the
    /// Inform's own, or the version's default), events, ConnectionRequestURL and values.
    /// `keep_values: false` drops the values (the `IgnoreValueChange` misbehaviour).
    pub fn of(inform: &Inform, version: CwmpVersion, at_ms: i64, keep_values: bool) -> Self {
        let root = match super::policy::root_of(&inform.parameter_list) {
            "" if version >= CwmpVersion::V1_2 => "Device.".to_string(),
            "" => "InternetGatewayDevice.".to_string(),
            r => r.to_string(),
        };
        let connection_request_url = inform
            .parameter_list
            .iter()
            .find(|p| p.name.ends_with("ManagementServer.ConnectionRequestURL"))
            .map(|p| p.value.clone())
            .filter(|u| !u.is_empty());
        let values = if keep_values {
            inform
                .parameter_list
                .iter()
                .map(|p| (p.name.clone(), p.value.clone(), p.kind))
                .collect()
        } else {
            Vec::new()
        };
        InformRecord {
            device_id: super::policy::device_id(&inform.device_id),
            manufacturer: inform.device_id.manufacturer.clone(),
            oui: inform.device_id.oui.clone(),
            product_class: inform.device_id.product_class.clone(),
            serial_number: inform.device_id.serial_number.clone(),
            cwmp_version: version.as_str(),
            root,
            at_ms,
            events: inform
                .events
                .iter()
                .map(|e| e.code.as_str().to_string())
                .collect(),
            connection_request_url,
            values,
        }
    }
}

/// What one session learnt, applied at its end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionLog {
    pub values: Vec<(String, String, Option<XsdType>)>,
    pub tasks: Vec<TaskResult>,
    pub tasks_done: Vec<String>,
    pub transfers: Vec<TransferResult>,
    /// The firmware-wave Download sent in this session: accepted (pending, or "ok" when the
    /// CPE applied it at once) or refused with a fault ("failed").
    pub firmware: Option<FirmwareState>,
    /// ConnectionRequestUsername/Password the CPE accepted in this session.
    pub cr_credentials: Option<(String, String)>,
    /// Names the CPE reported longer than [`MAX_NAME_LEN`]: not asked for, not stored.
    pub names_skipped: u64,
}

impl SessionLog {
    pub fn is_empty(&self) -> bool {
        *self == SessionLog::default()
    }
}

const SHARDS: usize = 16;

/// The ACS's memory.
#[derive(Debug)]
pub struct Store {
    started: Instant,
    limits: StoreLimits,
    counters: Counters,
    shards: Vec<Mutex<HashMap<String, DeviceRecord>>>,
    hasher: std::collections::hash_map::RandomState,
    /// Device ids in first-Inform order, for connection-request rounds.
    order: Mutex<Vec<String>>,
}

impl Default for Store {
    fn default() -> Self {
        Store::new(StoreLimits::default())
    }
}

impl Store {
    pub fn new(limits: StoreLimits) -> Self {
        Store {
            started: Instant::now(),
            limits,
            counters: Counters {
                sessions_started: AtomicU64::new(0),
                sessions_active: AtomicI64::new(0),
                outcomes: SessionOutcome::ALL
                    .iter()
                    .map(|_| AtomicU64::new(0))
                    .collect(),
                rpcs_sent: Named::new(ACS_RPCS),
                responses_ok: Named::new(ACS_RPCS),
                cpe_requests: Named::new(CPE_REQUESTS),
                cpe_faults: Mutex::new(BTreeMap::new()),
                acs_faults: Mutex::new(BTreeMap::new()),
                rejections: Named::new(REJECTIONS),
                skipped: Named::new(SKIPPED),
                cr: Named::new(CR_RESULTS),
                downloads_sent: AtomicU64::new(0),
                uploads_sent: AtomicU64::new(0),
                transfer_complete_ok: AtomicU64::new(0),
                transfer_complete_fault: AtomicU64::new(0),
                wave_started: AtomicU64::new(0),
                wave_succeeded: AtomicU64::new(0),
                wave_failed: AtomicU64::new(0),
                devices_dropped: AtomicU64::new(0),
                events: Named::new(EVENT_CODES),
                devices_bootstrapped: AtomicU64::new(0),
                devices_bootstrapped_again: AtomicU64::new(0),
            },
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: std::collections::hash_map::RandomState::new(),
            order: Mutex::new(Vec::new()),
        }
    }

    pub fn limits(&self) -> StoreLimits {
        self.limits
    }

    fn shard(&self, id: &str) -> Option<&Mutex<HashMap<String, DeviceRecord>>> {
        let h = self.hasher.hash_one(id);
        self.shards.get((h as usize) % SHARDS)
    }

    // ---- counters -----------------------------------------------------------------------

    pub fn session_started(&self) {
        self.counters.sessions_started.fetch_add(1, Relaxed);
        self.counters.sessions_active.fetch_add(1, Relaxed);
    }

    pub fn session_ended(&self, outcome: SessionOutcome) {
        self.counters.sessions_active.fetch_sub(1, Relaxed);
        if let Some(c) = self.counters.outcomes.get(outcome.index()) {
            c.fetch_add(1, Relaxed);
        }
    }

    pub fn sessions_active(&self) -> u64 {
        self.counters.sessions_active.load(Relaxed).max(0) as u64
    }

    pub fn sessions_ended(&self, outcome: SessionOutcome) -> u64 {
        self.counters
            .outcomes
            .get(outcome.index())
            .map_or(0, |c| c.load(Relaxed))
    }

    pub fn rpc_sent(&self, name: &str) {
        self.counters.rpcs_sent.add(name, 1);
        match name {
            "Download" => {
                self.counters.downloads_sent.fetch_add(1, Relaxed);
            }
            "Upload" => {
                self.counters.uploads_sent.fetch_add(1, Relaxed);
            }
            _ => {}
        }
    }

    /// A successful response to an ACS request (`request` is the request's name).
    pub fn response_ok(&self, request: &str) {
        self.counters.responses_ok.add(request, 1);
    }

    pub fn rpcs_sent(&self, name: &str) -> u64 {
        self.counters.rpcs_sent.get(name)
    }

    pub fn cpe_request(&self, name: &str) {
        self.counters.cpe_requests.add(name, 1);
    }

    pub fn cpe_fault(&self, code: u32) {
        bump_code(&self.counters.cpe_faults, code);
    }

    pub fn acs_fault(&self, code: u32) {
        bump_code(&self.counters.acs_faults, code);
    }

    /// `reason` is one of [`REJECTIONS`].
    pub fn rejected(&self, reason: &str) {
        self.counters.rejections.add(reason, 1);
    }

    pub fn rejections(&self, reason: &str) -> u64 {
        self.counters.rejections.get(reason)
    }

    /// `reason` is one of [`SKIPPED`].
    pub fn skipped(&self, reason: &str, n: u64) {
        if n > 0 {
            self.counters.skipped.add(reason, n);
        }
    }

    pub fn skips(&self, reason: &str) -> u64 {
        self.counters.skipped.get(reason)
    }

    pub fn transfer_complete(&self, fault_code: u32) {
        if fault_code == 0 {
            self.counters.transfer_complete_ok.fetch_add(1, Relaxed);
        } else {
            self.counters.transfer_complete_fault.fetch_add(1, Relaxed);
        }
    }

    pub fn wave_started(&self) -> u64 {
        self.counters.wave_started.load(Relaxed)
    }

    /// Claims one firmware-wave slot if fewer than `allowance` have started.
    pub fn try_claim_wave_slot(&self, allowance: u64) -> bool {
        self.counters
            .wave_started
            .fetch_update(Relaxed, Relaxed, |n| (n < allowance).then_some(n + 1))
            .is_ok()
    }

    /// Gives back a claimed slot whose Download never went out (session ended first).
    pub fn release_wave_slot(&self) {
        let _ = self
            .counters
            .wave_started
            .fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1));
    }

    /// `result` is one of [`CR_RESULTS`].
    pub fn cr_result(&self, device_id: &str, result: &'static str, now_ms: i64) {
        self.counters.cr.add(result, 1);
        self.update(device_id, |d| {
            let s = &mut d.connection_requests;
            s.sent += 1;
            if result == "ok" {
                s.ok += 1;
            } else {
                s.failed += 1;
            }
            s.last_result = Some(result);
            s.last_ms = Some(now_ms);
        });
    }

    pub fn cr_count(&self, result: &str) -> u64 {
        self.counters.cr.get(result)
    }

    // ---- devices ------------------------------------------------------------------------

    /// Records an Inform: creates the device (unless the store is full) and updates what the
    /// Inform shows.
    /// An Inform was answered with an InformResponse: its events are delivered.
    pub fn inform_accepted<'e>(&self, events: impl IntoIterator<Item = &'e str>) {
        for e in events {
            self.counters.events.add(e, 1);
        }
    }

    pub fn record_inform(&self, r: InformRecord) {
        let skips = self.record_inform_locked(r);
        self.count_skips(&skips);
    }

    fn count_skips(&self, skips: &Skips) {
        for (reason, n) in SKIPPED.iter().zip(skips.0) {
            self.skipped(reason, n);
        }
    }

    fn record_inform_locked(&self, r: InformRecord) -> Skips {
        let mut skips = Skips::default();
        let Some(shard) = self.shard(&r.device_id) else {
            return skips;
        };
        let Ok(mut map) = shard.lock() else {
            return skips;
        };
        let limits = self.limits;
        if !map.contains_key(&r.device_id) {
            let Ok(mut order) = self.order.lock() else {
                return skips;
            };
            if order.len() >= limits.max_devices {
                self.counters.devices_dropped.fetch_add(1, Relaxed);
                return skips;
            }
            order.push(r.device_id.clone());
            map.insert(
                r.device_id.clone(),
                DeviceRecord {
                    device_id: r.device_id.clone(),
                    first_inform_ms: r.at_ms,
                    ..DeviceRecord::default()
                },
            );
        }
        let Some(d) = map.get_mut(&r.device_id) else {
            return skips;
        };
        d.manufacturer = r.manufacturer;
        d.oui = r.oui;
        d.product_class = r.product_class;
        d.serial_number = r.serial_number;
        d.cwmp_version = r.cwmp_version.to_string();
        d.root = r.root;
        d.last_inform_ms = r.at_ms;
        d.informs += 1;
        d.sessions += 1;
        d.in_session = true;
        if r.events.iter().any(|e| e == "0 BOOTSTRAP") {
            d.bootstraps = d.bootstraps.saturating_add(1);
            // Counted once per device at each step, so the totals stay per device.
            match d.bootstraps {
                1 => self.counters.devices_bootstrapped.fetch_add(1, Relaxed),
                2 => self
                    .counters
                    .devices_bootstrapped_again
                    .fetch_add(1, Relaxed),
                _ => 0,
            };
        }
        d.last_events.clear();
        for e in r.events.into_iter().take(MAX_EVENTS) {
            if e.len() > MAX_EVENT_LEN {
                skips.note(Some("event_too_long"));
            } else {
                d.last_events.push(e);
            }
        }
        match r.connection_request_url {
            // A URL is a parameter value (string(256) in TR-069 Annex B).
            Some(u) if u.len() > MAX_NAME_LEN => skips.note(Some("value_too_long")),
            Some(u) => d.connection_request_url = Some(u),
            None => {}
        }
        for (name, value, kind) in r.values {
            skips.note(put_value(d, limits, name, value, kind));
        }
        skips
    }

    /// Applies what a session learnt.
    pub fn finish_session(&self, device_id: &str, outcome: SessionOutcome, log: SessionLog) {
        let limits = self.limits;
        let mut wave = (0u64, 0u64);
        let mut skips = Skips::default();
        self.skipped("name_too_long", log.names_skipped);
        self.update(device_id, |d| {
            d.in_session = false;
            d.last_session_outcome = Some(outcome.label());
            for (name, value, kind) in log.values {
                skips.note(put_value(d, limits, name, value, kind));
            }
            for t in log.tasks {
                if d.tasks.len() >= limits.max_tasks_per_device {
                    d.tasks.remove(0);
                }
                d.tasks.push(t);
            }
            d.tasks_done.extend(log.tasks_done);
            if let Some(fw) = log.firmware {
                match fw.result {
                    "ok" => wave.0 += 1,
                    "failed" => wave.1 += 1,
                    _ => {}
                }
                d.firmware = Some(fw);
            }
            for t in log.transfers {
                if let Some(fw) = d.firmware.as_mut() {
                    if fw.command_key == t.command_key && fw.result == "pending" {
                        if t.fault_code == 0 {
                            fw.result = "ok";
                            wave.0 += 1;
                        } else {
                            fw.result = "failed";
                            fw.fault_code = Some(t.fault_code);
                            wave.1 += 1;
                        }
                    }
                }
                if d.transfers.len() >= limits.max_transfers_per_device {
                    d.transfers.remove(0);
                }
                d.transfers.push(t);
            }
            if let Some((u, p)) = log.cr_credentials {
                d.cr_username = Some(u);
                d.cr_password = Some(p);
            }
        });
        self.counters.wave_succeeded.fetch_add(wave.0, Relaxed);
        self.counters.wave_failed.fetch_add(wave.1, Relaxed);
        self.count_skips(&skips);
    }

    fn update(&self, device_id: &str, f: impl FnOnce(&mut DeviceRecord)) {
        let Some(shard) = self.shard(device_id) else {
            return;
        };
        if let Ok(mut map) = shard.lock() {
            if let Some(d) = map.get_mut(device_id) {
                f(d);
            }
        }
    }

    /// Runs `f` on the device's record (None when unknown) under its shard lock: planning
    /// reads a few fields without cloning the record.
    pub fn with_device<T>(&self, device_id: &str, f: impl FnOnce(Option<&DeviceRecord>) -> T) -> T {
        let guard = self.shard(device_id).and_then(|s| s.lock().ok());
        match guard {
            Some(map) => f(map.get(device_id)),
            None => f(None),
        }
    }

    /// A copy of one device's record.
    pub fn device(&self, device_id: &str) -> Option<DeviceRecord> {
        self.with_device(device_id, |d| d.cloned())
    }

    pub fn device_count(&self) -> usize {
        self.order.lock().map(|o| o.len()).unwrap_or(0)
    }

    /// Device ids from position `from` in first-Inform order, at most `max`.
    pub fn device_ids(&self, from: usize, max: usize) -> Vec<String> {
        self.order
            .lock()
            .map(|o| o.iter().skip(from).take(max).cloned().collect())
            .unwrap_or_default()
    }

    /// The summary `GET /status` serves.
    pub fn snapshot(&self) -> StatusSnapshot {
        let c = &self.counters;
        let outcomes = SessionOutcome::ALL
            .iter()
            .filter_map(|o| {
                let v = self.sessions_ended(*o);
                (v > 0).then(|| (o.label().to_string(), v))
            })
            .collect();
        let codes = |m: &Mutex<BTreeMap<u32, u64>>| {
            m.lock()
                .map(|m| m.iter().map(|(k, v)| (k.to_string(), *v)).collect())
                .unwrap_or_default()
        };
        StatusSnapshot {
            uptime_s: self.started.elapsed().as_secs_f64(),
            sessions: SessionCounts {
                started: c.sessions_started.load(Relaxed),
                active: self.sessions_active(),
                ended: outcomes,
            },
            rpcs_sent: c.rpcs_sent.snapshot(),
            responses_ok: c.responses_ok.snapshot(),
            cpe_requests: c.cpe_requests.snapshot(),
            cpe_faults: codes(&c.cpe_faults),
            acs_faults: codes(&c.acs_faults),
            rejected: c.rejections.snapshot(),
            skipped: c.skipped.snapshot(),
            connection_requests: c.cr.snapshot(),
            transfers: TransferCounts {
                downloads_sent: c.downloads_sent.load(Relaxed),
                uploads_sent: c.uploads_sent.load(Relaxed),
                complete_ok: c.transfer_complete_ok.load(Relaxed),
                complete_fault: c.transfer_complete_fault.load(Relaxed),
            },
            firmware_wave: WaveCounts {
                started: c.wave_started.load(Relaxed),
                succeeded: c.wave_succeeded.load(Relaxed),
                failed: c.wave_failed.load(Relaxed),
            },
            devices: DeviceCounts {
                known: self.device_count(),
                cap: self.limits.max_devices,
                dropped: c.devices_dropped.load(Relaxed),
                bootstrapped: c.devices_bootstrapped.load(Relaxed),
                bootstrapped_again: c.devices_bootstrapped_again.load(Relaxed),
            },
            events: c.events.snapshot(),
        }
    }
}

fn bump_code(m: &Mutex<BTreeMap<u32, u64>>, code: u32) {
    if let Ok(mut m) = m.lock() {
        let key = if m.len() >= MAX_FAULT_CODES && !m.contains_key(&code) {
            0
        } else {
            code
        };
        *m.entry(key).or_insert(0) += 1;
    }
}

/// Keeps one value unless it breaks a bound; the reason ([`SKIPPED`]) when it does not.
fn put_value(
    d: &mut DeviceRecord,
    limits: StoreLimits,
    name: String,
    value: String,
    kind: Option<XsdType>,
) -> Option<&'static str> {
    if !name_ok(&name) {
        return Some("name_too_long");
    }
    if value.len() > limits.max_value_len {
        return Some("value_too_long");
    }
    let kind = kind.map(XsdType::xsi);
    if let Some(slot) = d.parameters.get_mut(&name) {
        let bytes = d.parameter_bytes - slot.value.len() + value.len();
        if bytes > limits.max_bytes_per_device {
            return Some("device_full");
        }
        d.parameter_bytes = bytes;
        // A value without a type keeps the type learnt before.
        let kind = kind.or(slot.kind);
        *slot = ParamValue { value, kind };
    } else if d.parameters.len() >= limits.max_values_per_device {
        d.parameters_dropped += 1;
    } else {
        let bytes = d.parameter_bytes + name.len() + value.len();
        if bytes > limits.max_bytes_per_device {
            return Some("device_full");
        }
        d.parameter_bytes = bytes;
        d.parameters.insert(name, ParamValue { value, kind });
    }
    None
}

/// Counts of values skipped, by reason, in [`SKIPPED`] order.
#[derive(Default)]
struct Skips([u64; 4]);

impl Skips {
    fn note(&mut self, reason: Option<&'static str>) {
        if let Some(i) = reason.and_then(|r| SKIPPED.iter().position(|s| *s == r)) {
            self.0[i] += 1;
        }
    }
}

/// `GET /status`.
#[derive(Debug, Clone, Serialize)]
pub struct StatusSnapshot {
    pub uptime_s: f64,
    pub sessions: SessionCounts,
    /// ACS requests sent, by RPC name.
    pub rpcs_sent: BTreeMap<String, u64>,
    /// CPE responses (not faults) received, by the name of the request they answer.
    pub responses_ok: BTreeMap<String, u64>,
    /// CPE requests received, by name.
    pub cpe_requests: BTreeMap<String, u64>,
    /// CPE faults received, by FaultCode.
    pub cpe_faults: BTreeMap<String, u64>,
    /// ACS faults sent, by FaultCode.
    pub acs_faults: BTreeMap<String, u64>,
    /// Requests refused outside a session, by reason.
    pub rejected: BTreeMap<String, u64>,
    /// What CPEs reported that was neither stored nor echoed, by reason ([`SKIPPED`]).
    pub skipped: BTreeMap<String, u64>,
    /// Connection requests sent, by result.
    pub connection_requests: BTreeMap<String, u64>,
    pub transfers: TransferCounts,
    pub firmware_wave: WaveCounts,
    pub devices: DeviceCounts,
    /// Events of the Informs answered, by code.
    pub events: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionCounts {
    pub started: u64,
    pub active: u64,
    pub ended: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TransferCounts {
    pub downloads_sent: u64,
    pub uploads_sent: u64,
    pub complete_ok: u64,
    pub complete_fault: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaveCounts {
    pub started: u64,
    pub succeeded: u64,
    pub failed: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceCounts {
    pub known: usize,
    pub cap: usize,
    pub dropped: u64,
    /// Devices that sent `0 BOOTSTRAP` at least once / more than once (recorded devices only:
    /// the null policy records none).
    pub bootstrapped: u64,
    pub bootstrapped_again: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inform(id: &str, at: i64, values: Vec<(&str, &str)>) -> InformRecord {
        InformRecord {
            device_id: id.into(),
            manufacturer: "M".into(),
            oui: "00D09E".into(),
            product_class: "HGW".into(),
            serial_number: "S1".into(),
            cwmp_version: "1.0",
            root: "Device.".into(),
            at_ms: at,
            events: vec!["2 PERIODIC".into()],
            connection_request_url: Some("http://127.0.0.1:1/cr".into()),
            values: values
                .into_iter()
                .map(|(n, v)| (n.to_string(), v.to_string(), Some(XsdType::String)))
                .collect(),
        }
    }

    #[test]
    fn event_codes_are_the_standard_ones() {
        let standard: Vec<&str> = crate::cwmp::EventCode::STANDARD
            .iter()
            .map(|e| e.as_str())
            .collect();
        assert_eq!(EVENT_CODES, standard.as_slice());
    }

    #[test]
    fn delivered_events_and_bootstraps_are_counted_per_device() {
        let s = Store::default();
        s.inform_accepted(["0 BOOTSTRAP", "1 BOOT"]);
        s.inform_accepted(["2 PERIODIC", "X ACME Thing"]);
        let boot = |id: &str| InformRecord {
            events: vec!["0 BOOTSTRAP".into(), "1 BOOT".into()],
            ..inform(id, 1, vec![])
        };
        s.record_inform(boot("a"));
        s.record_inform(boot("b"));
        s.record_inform(inform("a", 2, vec![]));
        let st = s.snapshot();
        assert_eq!(
            (st.devices.bootstrapped, st.devices.bootstrapped_again),
            (2, 0)
        );
        s.record_inform(boot("a"));
        s.record_inform(boot("a"));
        let st = s.snapshot();
        assert_eq!(
            (st.devices.bootstrapped, st.devices.bootstrapped_again),
            (2, 1)
        );
        assert_eq!(s.device("a").map(|d| d.bootstraps), Some(3));
        let want: BTreeMap<String, u64> = [
            ("0 BOOTSTRAP", 1),
            ("1 BOOT", 1),
            ("2 PERIODIC", 1),
            ("other", 1),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(st.events, want);
    }

    #[test]
    fn devices_are_capped_and_counted() {
        let s = Store::new(StoreLimits {
            max_devices: 2,
            ..StoreLimits::default()
        });
        for (i, id) in ["a", "b", "c", "a"].iter().enumerate() {
            s.record_inform(inform(id, i as i64, vec![]));
        }
        assert_eq!(s.device_count(), 2);
        assert!(s.device("c").is_none());
        let a = s.device("a").unwrap();
        assert_eq!((a.informs, a.first_inform_ms, a.last_inform_ms), (2, 0, 3));
        assert_eq!(s.snapshot().devices.dropped, 1);
        assert_eq!(s.device_ids(1, 10), vec!["b".to_string()]);
    }

    #[test]
    fn values_per_device_are_capped_and_keep_types() {
        let s = Store::new(StoreLimits {
            max_values_per_device: 2,
            ..StoreLimits::default()
        });
        s.record_inform(inform(
            "d",
            1,
            vec![("X.A", "1"), ("X.B", "2"), ("X.C", "3")],
        ));
        let d = s.device("d").unwrap();
        assert_eq!(d.parameters.len(), 2);
        assert_eq!(d.parameters_dropped, 1);
        s.finish_session(
            "d",
            SessionOutcome::Completed,
            SessionLog {
                values: vec![("X.A".into(), "9".into(), None)],
                ..SessionLog::default()
            },
        );
        let d = s.device("d").unwrap();
        assert_eq!(d.parameters["X.A"].value, "9");
        assert_eq!(d.parameters["X.A"].kind, Some("xsd:string"));
        assert_eq!(d.kind_of("X.A"), Some(XsdType::String));
        assert_eq!(d.last_session_outcome, Some("completed"));
    }

    #[test]
    fn firmware_transfer_complete_settles_the_wave() {
        let s = Store::default();
        s.record_inform(inform("d", 1, vec![]));
        assert!(s.try_claim_wave_slot(1));
        assert!(!s.try_claim_wave_slot(1));
        s.finish_session(
            "d",
            SessionOutcome::Completed,
            SessionLog {
                firmware: Some(FirmwareState {
                    command_key: "k1".into(),
                    sent_ms: 2,
                    result: "pending",
                    fault_code: None,
                }),
                ..SessionLog::default()
            },
        );
        assert_eq!(s.device("d").unwrap().firmware.unwrap().result, "pending");
        let tc = |code: u32| TransferResult {
            command_key: "k1".into(),
            fault_code: code,
            fault_string: String::new(),
            start_time: String::new(),
            complete_time: String::new(),
            at_ms: 5,
        };
        s.finish_session(
            "d",
            SessionOutcome::Completed,
            SessionLog {
                transfers: vec![tc(9010)],
                ..SessionLog::default()
            },
        );
        let d = s.device("d").unwrap();
        assert_eq!(d.firmware.as_ref().unwrap().result, "failed");
        assert_eq!(d.firmware.as_ref().unwrap().fault_code, Some(9010));
        let snap = s.snapshot();
        assert_eq!(
            (snap.firmware_wave.started, snap.firmware_wave.failed),
            (1, 1)
        );
        // A repeated TransferComplete does not count twice.
        s.finish_session(
            "d",
            SessionOutcome::Completed,
            SessionLog {
                transfers: vec![tc(0)],
                ..SessionLog::default()
            },
        );
        assert_eq!(s.snapshot().firmware_wave.succeeded, 0);
        assert_eq!(s.device("d").unwrap().transfers.len(), 2);
    }

    #[test]
    fn counters_snapshot_lists_non_zero_only() {
        let s = Store::default();
        s.rpc_sent("GetParameterValues");
        s.rpc_sent("GetParameterValues");
        s.rpc_sent("Download");
        s.rpc_sent("Bogus");
        s.cpe_fault(9005);
        s.rejected("invalid_session");
        s.session_started();
        s.session_ended(SessionOutcome::InvalidResponse);
        let snap = s.snapshot();
        assert_eq!(snap.rpcs_sent["GetParameterValues"], 2);
        assert_eq!(snap.rpcs_sent["other"], 1);
        assert!(!snap.rpcs_sent.contains_key("Reboot"));
        assert_eq!(snap.transfers.downloads_sent, 1);
        assert_eq!(snap.cpe_faults["9005"], 1);
        assert_eq!(snap.rejected["invalid_session"], 1);
        assert_eq!(snap.sessions.ended["invalid_response"], 1);
        assert_eq!(snap.sessions.active, 0);
        let json = serde_json::to_string(&snap).unwrap();
        assert!(json.contains("\"invalid_response\":1"), "{json}");
    }

    #[test]
    fn cr_results_are_recorded_per_device() {
        let s = Store::default();
        s.record_inform(inform("d", 1, vec![]));
        s.cr_result("d", "auth_failed", 10);
        s.cr_result("d", "ok", 11);
        let d = s.device("d").unwrap();
        assert_eq!(
            (d.connection_requests.sent, d.connection_requests.ok),
            (2, 1)
        );
        assert_eq!(d.connection_requests.last_result, Some("ok"));
        assert_eq!(s.cr_count("auth_failed"), 1);
        // The password is never serialised.
        let json = serde_json::to_string(&d).unwrap();
        assert!(!json.contains("cr_password"));
    }
}
