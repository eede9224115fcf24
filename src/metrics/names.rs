//! Every Prometheus metric cpefleet exports: names (prefix `cpefleet_`, base unit seconds,
//! counters ending in `_total`), their help text, and the explicit histogram buckets. Labels
//! come only from fixed sets: RPC names, event codes, fault codes, outcomes, error labels,
//! device group names from the scenario — never a device id.

use ::metrics::{describe_counter, describe_gauge, describe_histogram, Unit};

/// Sessions ended, by `group` and `outcome` (succeeded, failed, cancelled).
pub const SESSIONS_TOTAL: &str = "cpefleet_sessions_total";
/// RPCs by `rpc` (spec name) and `outcome` (ok, fault).
pub const RPCS_TOTAL: &str = "cpefleet_rpcs_total";
/// Inform events sent, by `event` code ("1 BOOT", "2 PERIODIC", …).
pub const EVENTS_TOTAL: &str = "cpefleet_events_total";
/// CWMP faults by `code`: the CPE's answers to ACS requests, the ACS's answers to Informs.
pub const FAULTS_TOTAL: &str = "cpefleet_faults_total";
/// Failed sessions by error `label` (a fixed set, see `SessionError::label`).
pub const ERRORS_TOTAL: &str = "cpefleet_errors_total";
/// Connection requests received, by `result` (accepted, challenged, auth_failed, …).
pub const CONNECTION_REQUESTS_TOTAL: &str = "cpefleet_connection_requests_total";
/// WAN-model stalls (a lost packet's retransmission wait), by `direction` (up, down).
pub const WAN_STALLS_TOTAL: &str = "cpefleet_wan_stalls_total";
/// Session attempts that met an `acs_outage` phase, by `mode` (acs_outage_refused,
/// acs_outage_blackhole): each is retried per the TR-069 §3.2.1.1 back-off.
pub const ACS_OUTAGE_ATTEMPTS_TOTAL: &str = "cpefleet_acs_outage_attempts_total";
/// STUN keep-alives of UDP connection-request devices, by kind.
pub const STUN_TOTAL: &str = "cpefleet_stun_total";
pub const STUN_KEEPALIVE_LAG_MAX: &str = "cpefleet_stun_keepalive_lag_max_seconds";
/// XMPP connections of connection-request devices (TR-069 Annex K) up now.
pub const XMPP_CONNECTIONS: &str = "cpefleet_xmpp_connections";
/// XMPP connection events, by kind.
pub const XMPP_TOTAL: &str = "cpefleet_xmpp_total";
/// Devices by `state` (offline, idle, queued, in_session).
pub const DEVICES: &str = "cpefleet_devices";
/// Sessions running now.
pub const SESSIONS_IN_FLIGHT: &str = "cpefleet_sessions_in_flight";
/// Whole session (connect to end), by `group`.
pub const SESSION_DURATION: &str = "cpefleet_session_duration_seconds";
/// Whole session measured from its intended start (due time), by `group`: coordinated
/// omission corrected.
pub const SESSION_DURATION_FROM_DUE: &str = "cpefleet_session_duration_from_due_seconds";
/// One exchange, by `rpc` (Inform, EmptyPost, or the RPC name).
pub const RPC_DURATION: &str = "cpefleet_rpc_duration_seconds";
/// Connection set-up, by `phase` (tcp_connect, tls_handshake, auth_challenge).
pub const SESSION_PHASE_DURATION: &str = "cpefleet_session_phase_duration_seconds";
/// Connection request received → Inform sent.
pub const CR_TO_INFORM: &str = "cpefleet_cr_to_inform_seconds";
/// Due time → session start (waiting for a session slot).
pub const SCHEDULE_LAG: &str = "cpefleet_schedule_lag_seconds";

/// Device states of [`DEVICES`].
pub const DEVICE_STATES: [&str; 4] = ["offline", "idle", "queued", "in_session"];

/// Buckets (seconds) of whole-session histograms.
pub const SESSION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    120.0, 300.0,
];
/// Buckets (seconds) of single exchanges and connection phases.
pub const RPC_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0,
];
/// Buckets (seconds) of waits: schedule lag and CR → Inform.
pub const WAIT_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// Every histogram with its buckets.
pub const HISTOGRAMS: [(&str, &[f64]); 6] = [
    (SESSION_DURATION, SESSION_BUCKETS),
    (SESSION_DURATION_FROM_DUE, SESSION_BUCKETS),
    (RPC_DURATION, RPC_BUCKETS),
    (SESSION_PHASE_DURATION, RPC_BUCKETS),
    (CR_TO_INFORM, WAIT_BUCKETS),
    (SCHEDULE_LAG, WAIT_BUCKETS),
];

/// Registers help text and units (the exporter prints them as `# HELP`).
pub fn describe() {
    describe_counter!(
        SESSIONS_TOTAL,
        "Sessions ended, by device group and outcome."
    );
    describe_counter!(RPCS_TOTAL, "RPCs by name and outcome (ok, fault).");
    describe_counter!(EVENTS_TOTAL, "Inform events sent, by event code.");
    describe_counter!(FAULTS_TOTAL, "CWMP faults by code.");
    describe_counter!(ERRORS_TOTAL, "Failed sessions by error label.");
    describe_counter!(
        CONNECTION_REQUESTS_TOTAL,
        "Connection requests received, by transport (http, udp, xmpp) and result."
    );
    describe_gauge!(
        XMPP_CONNECTIONS,
        "XMPP connections up now (client mode: one per device; component mode: one per group)."
    );
    describe_counter!(
        XMPP_TOTAL,
        "XMPP connections (TR-069 Annex K): login, disconnect, login_refused, keep_alive."
    );
    describe_counter!(
        STUN_TOTAL,
        "STUN keep-alives (TR-069 Annex G): request, response, error, retransmit, timeout, stray, binding_change, late_keepalive (more than STUNMaximumKeepAlivePeriod after the previous one), overflow."
    );
    describe_gauge!(
        STUN_KEEPALIVE_LAG_MAX,
        Unit::Seconds,
        "Worst delay of a STUN keep-alive past its due time."
    );
    describe_counter!(
        WAN_STALLS_TOTAL,
        "WAN-model stalls (lost-packet retransmission waits), by direction."
    );
    describe_counter!(
        ACS_OUTAGE_ATTEMPTS_TOTAL,
        "Session attempts that met an acs_outage phase, by mode; each is retried with back-off."
    );
    describe_gauge!(DEVICES, "Devices by state.");
    describe_gauge!(SESSIONS_IN_FLIGHT, "Sessions running now.");
    describe_histogram!(
        SESSION_DURATION,
        Unit::Seconds,
        "Whole CWMP session, TCP connect to end, by device group."
    );
    describe_histogram!(
        SESSION_DURATION_FROM_DUE,
        Unit::Seconds,
        "Whole CWMP session measured from its intended start (due time), by device group."
    );
    describe_histogram!(
        RPC_DURATION,
        Unit::Seconds,
        "One HTTP exchange of a session, by RPC (Inform, EmptyPost or the ACS RPC answered)."
    );
    describe_histogram!(
        SESSION_PHASE_DURATION,
        Unit::Seconds,
        "Connection set-up phases: tcp_connect, tls_handshake, auth_challenge."
    );
    describe_histogram!(
        CR_TO_INFORM,
        Unit::Seconds,
        "Connection request received to Inform sent."
    );
    describe_histogram!(
        SCHEDULE_LAG,
        Unit::Seconds,
        "Due time to session start (waiting for a session slot)."
    );
}
