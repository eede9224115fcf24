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

mod counters;
mod names;
mod records;
mod status;

use counters::*;
pub use names::*;
pub use records::*;
pub use status::*;

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
                cr_transport: Named::new(&["http", "udp", "xmpp"]),
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
    pub fn cr_result(
        &self,
        device_id: &str,
        transport: crate::cr::CrTransport,
        result: &'static str,
        now_ms: i64,
    ) {
        self.counters.cr.add(result, 1);
        self.counters.cr_transport.add(transport.label(), 1);
        self.update(device_id, |d| {
            let s = &mut d.connection_requests;
            s.sent += 1;
            if matches!(result, "ok" | "udp_sent") {
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
            for r in log.du_changes {
                if d.du_changes.len() >= limits.max_transfers_per_device {
                    d.du_changes.remove(0);
                }
                d.du_changes.push(r);
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
            connection_requests_by_transport: c.cr_transport.snapshot(),
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

#[cfg(test)]
mod tests;
