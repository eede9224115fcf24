//! The fixed names the store counts by, and the bounds on names it accepts.

use crate::cwmp::methods::{request_count, requests_of, Caller};

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
pub(super) const MAX_EVENTS: usize = 64;
pub(super) const MAX_EVENT_LEN: usize = 64;

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
pub const CPE_REQUESTS: &[&str] = &CPE_REQUEST_NAMES;
const CPE_REQUEST_NAMES: [&str; request_count(Caller::Cpe)] = requests_of(Caller::Cpe);

/// Results of connection requests the ACS sent. `udp_sent`: a UDP connection request's
/// datagrams went out (TR-069 Annex G: nothing comes back; the device's session is the answer).
pub const CR_RESULTS: &[&str] = &[
    "ok",
    "udp_sent",
    "auth_failed",
    "no_credentials",
    "busy",
    "http_error",
    "unreachable",
    "timeout",
    // A UDP connection request has no answer: the datagrams went out (TR-069 Annex G).
    "udp_sent",
    // An XMPP error answer other than not-authorized / service-unavailable (Annex K).
    "xmpp_error",
];
