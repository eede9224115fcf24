//! The `GET /status` snapshot.

use super::*;

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
    /// Connection requests sent, by transport (`http`, `udp`, `xmpp`).
    pub connection_requests_by_transport: BTreeMap<String, u64>,
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
