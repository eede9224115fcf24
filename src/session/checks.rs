//! The protocol checks scored on every ACS message of any session (load or conformance): a
//! fixed set of named checks, each a pure function of one observed exchange (what the CPE sent,
//! what the ACS answered: status, headers, body, decoded message) and a little per-session
//! state. Verdicts carry a `&'static str` reason, so the pass path and the counting of failures
//! allocate nothing; only a caller that wants details (a conformance run) builds strings.

use http::HeaderMap;
use serde::Serialize;

use crate::cwmp::{AcsMessage, AcsRequest, AcsResponse, CwmpVersion, Envelope, XsdType};
use crate::seed::fnv1a;

/// A protocol check, by name (TR-069 section in [`Check::section`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Check {
    MaxEnvelopes,
    IdEchoed,
    Namespace,
    NoRpcBeforeEmptyPost,
    ParameterKey,
    XsiTypes,
    SessionEnd,
    NoRequestAfterEnd,
    TransferCompleteAnswered,
    Cookies,
}

impl Check {
    pub const ALL: [Check; 10] = [
        Check::MaxEnvelopes,
        Check::IdEchoed,
        Check::Namespace,
        Check::NoRpcBeforeEmptyPost,
        Check::ParameterKey,
        Check::XsiTypes,
        Check::SessionEnd,
        Check::NoRequestAfterEnd,
        Check::TransferCompleteAnswered,
        Check::Cookies,
    ];

    /// The fixed label (metrics, JUnit, JSON).
    pub fn label(self) -> &'static str {
        match self {
            Check::MaxEnvelopes => "inform_response_max_envelopes",
            Check::IdEchoed => "cwmp_id_echoed",
            Check::Namespace => "namespace_matches_version",
            Check::NoRpcBeforeEmptyPost => "no_rpc_before_empty_post",
            Check::ParameterKey => "spv_parameter_key",
            Check::XsiTypes => "xsi_types_match_model",
            Check::SessionEnd => "session_ends_204_or_empty_200",
            Check::NoRequestAfterEnd => "no_request_after_204",
            Check::TransferCompleteAnswered => "transfer_complete_answered",
            Check::Cookies => "cookies_consistent",
        }
    }

    /// Where TR-069 (Amendment 6) says so.
    pub fn section(self) -> &'static str {
        match self {
            Check::MaxEnvelopes => "A.3.3.1",
            Check::IdEchoed => "3.5",
            Check::Namespace => "3.5 / A.2",
            Check::NoRpcBeforeEmptyPost => "3.7.1.4",
            Check::ParameterKey => "A.3.2.1",
            Check::XsiTypes => "3.5 / A.3.2.1",
            Check::SessionEnd => "3.7.1.4",
            Check::NoRequestAfterEnd => "3.7.1.4",
            Check::TransferCompleteAnswered => "A.3.3.2",
            Check::Cookies => "3.4.2",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Pass/fail counts per check: a fixed array, `Copy`, merged by addition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckCounts {
    pub pass: [u64; 10],
    pub fail: [u64; 10],
}

impl CheckCounts {
    pub fn record(&mut self, c: Check, pass: bool) {
        let slot = if pass { &mut self.pass } else { &mut self.fail };
        if let Some(n) = slot.get_mut(c.index()) {
            *n += 1;
        }
    }
    pub fn passed(&self, c: Check) -> u64 {
        self.pass.get(c.index()).copied().unwrap_or(0)
    }
    pub fn failed(&self, c: Check) -> u64 {
        self.fail.get(c.index()).copied().unwrap_or(0)
    }
    pub fn any_failed(&self) -> bool {
        self.fail.iter().any(|n| *n > 0)
    }
    pub fn is_empty(&self) -> bool {
        self.pass.iter().chain(self.fail.iter()).all(|n| *n == 0)
    }
    pub fn merge(&mut self, o: &CheckCounts) {
        for (a, b) in self.pass.iter_mut().zip(o.pass.iter()) {
            *a += b;
        }
        for (a, b) in self.fail.iter_mut().zip(o.fail.iter()) {
            *a += b;
        }
    }
    /// `{label: {pass, fail}}` for checks that ran.
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for c in Check::ALL {
            if self.passed(c) + self.failed(c) > 0 {
                m.insert(
                    c.label().into(),
                    serde_json::json!({"pass": self.passed(c), "fail": self.failed(c)}),
                );
            }
        }
        serde_json::Value::Object(m)
    }
}

/// One session's pass/fail counts: small (40 bytes) because it rides in every session report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionChecks {
    pass: [u16; 10],
    fail: [u16; 10],
}

impl SessionChecks {
    pub fn record(&mut self, c: Check, pass: bool) {
        let slot = if pass { &mut self.pass } else { &mut self.fail };
        if let Some(n) = slot.get_mut(c.index()) {
            *n = n.saturating_add(1);
        }
    }
}

impl CheckCounts {
    /// Adds one session's counts.
    pub fn add(&mut self, s: &SessionChecks) {
        for (a, b) in self.pass.iter_mut().zip(s.pass.iter()) {
            *a += u64::from(*b);
        }
        for (a, b) in self.fail.iter_mut().zip(s.fail.iter()) {
            *a += u64::from(*b);
        }
    }
}

/// What the CPE's POST was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent<'a> {
    /// The Inform, with its cwmp:ID.
    Inform(&'a str),
    /// A CPE request (TransferComplete, GetRPCMethods, ...) with its name and cwmp:ID.
    Request(&'static str, &'a str),
    /// The empty POST.
    Empty,
    /// The response (or fault) to an ACS request.
    Response,
}

/// One exchange as observed by the session, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    pub sent: Sent<'a>,
    pub status: u16,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// The decoded ACS message (None for an empty or undecodable answer).
    pub message: Option<&'a Envelope<AcsMessage>>,
    /// The version the session speaks at this exchange.
    pub version: CwmpVersion,
}

/// What the checks remember within one session (no heap).
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckState {
    /// HoldRequests of the ACS's last message.
    pub hold: bool,
    /// The ACS already ended its turn with 204 / an empty 200.
    pub ended: bool,
    /// Hash of the session cookie first set (name=value).
    cookie: Option<(u64, u64)>,
}

/// Runs every check that applies to this exchange; `kind_of` gives the data model's type of a
/// parameter (None: unknown to the device); `out` gets each verdict (`Err` = failed, reason).
pub fn check_exchange(
    st: &mut CheckState,
    x: &Observed<'_>,
    kind_of: &mut dyn FnMut(&str) -> Option<XsdType>,
    out: &mut dyn FnMut(Check, Result<(), &'static str>),
) {
    cookies(st, x.headers, out);
    if let Some(env) = x.message {
        out(
            Check::Namespace,
            if env.version.namespace() == x.version.namespace()
                || (x.version == CwmpVersion::V1_3 && env.version == CwmpVersion::V1_3)
            {
                Ok(())
            } else {
                Err("the ACS message uses another CWMP namespace than the session")
            },
        );
    }
    match x.sent {
        Sent::Inform(id) => after_inform(st, x, id, out),
        Sent::Request(name, id) => after_cpe_request(st, x, name, id, out),
        Sent::Empty | Sent::Response => after_cpe_turn(st, x, kind_of, out),
    }
}

/// The ACS's answer to the Inform: an InformResponse (or fault) echoing its cwmp:ID.
fn after_inform(
    st: &mut CheckState,
    x: &Observed<'_>,
    id: &str,
    out: &mut dyn FnMut(Check, Result<(), &'static str>),
) {
    let env = x.message;
    match env.map(|e| &e.body) {
        Some(AcsMessage::Response(AcsResponse::InformResponse(r))) => {
            out(
                Check::MaxEnvelopes,
                if r.max_envelopes == 1 {
                    Ok(())
                } else {
                    Err("InformResponse MaxEnvelopes is not 1")
                },
            );
            out(Check::IdEchoed, id_echoed(id, env));
            st.hold = env.is_some_and(|e| e.header.hold_requests == Some(true));
        }
        Some(AcsMessage::Request(_)) => out(
            Check::NoRpcBeforeEmptyPost,
            Err("an ACS request in answer to the Inform"),
        ),
        Some(AcsMessage::Fault(_)) => out(Check::IdEchoed, id_echoed(id, env)),
        _ => {}
    }
}

/// The ACS's answer to a CPE request `name` sent with cwmp:ID `id`.
fn after_cpe_request(
    st: &CheckState,
    x: &Observed<'_>,
    name: &str,
    id: &str,
    out: &mut dyn FnMut(Check, Result<(), &'static str>),
) {
    let env = x.message;
    let m = env.map(|e| &e.body);
    match m {
        Some(AcsMessage::Request(_)) if !st.hold => out(
            Check::NoRpcBeforeEmptyPost,
            Err("an ACS request in answer to a CPE request"),
        ),
        Some(AcsMessage::Request(_)) => {}
        Some(AcsMessage::Response(r)) => {
            out(Check::IdEchoed, id_echoed(id, env));
            if name == "TransferComplete" {
                out(
                    Check::TransferCompleteAnswered,
                    if matches!(r, AcsResponse::TransferCompleteResponse) {
                        Ok(())
                    } else {
                        Err("TransferComplete answered with another response")
                    },
                );
            }
        }
        Some(AcsMessage::Fault(f)) => {
            out(Check::IdEchoed, id_echoed(id, env));
            // 8005 asks the CPE to retry: not a refusal.
            if name == "TransferComplete" && f.code != 8005 {
                out(
                    Check::TransferCompleteAnswered,
                    Err("TransferComplete answered with a SOAP fault"),
                );
            }
        }
        None if name == "TransferComplete" => out(
            Check::TransferCompleteAnswered,
            Err("TransferComplete not answered with a TransferCompleteResponse"),
        ),
        None => {}
    }
    if st.ended {
        if let Some(AcsMessage::Request(_)) = m {
            out(
                Check::NoRequestAfterEnd,
                Err("an ACS request after the ACS ended the session with 204"),
            );
        }
    }
}

/// The ACS's answer to the empty POST or to a CPE response: a request or the end of the session.
fn after_cpe_turn(
    st: &mut CheckState,
    x: &Observed<'_>,
    kind_of: &mut dyn FnMut(&str) -> Option<XsdType>,
    out: &mut dyn FnMut(Check, Result<(), &'static str>),
) {
    let empty = x.status == 204 || (x.status == 200 && x.body.iter().all(u8::is_ascii_whitespace));
    if let Some(env) = x.message {
        st.hold = env.header.hold_requests == Some(true);
    }
    match x.message.map(|e| &e.body) {
        Some(AcsMessage::Request(req)) => {
            out(
                Check::NoRequestAfterEnd,
                if st.ended {
                    Err("an ACS request after the ACS ended the session with 204")
                } else {
                    Ok(())
                },
            );
            if let AcsRequest::SetParameterValues(spv) = req {
                out(Check::ParameterKey, parameter_key(x.body));
                out(
                    Check::XsiTypes,
                    xsi_types(&spv.parameter_list, &mut *kind_of),
                );
            }
        }
        Some(AcsMessage::Response(_) | AcsMessage::Fault(_)) => out(
            Check::SessionEnd,
            Err("a response or fault where a request or the end was due"),
        ),
        None if empty => {
            st.ended = true;
            out(Check::SessionEnd, Ok(()));
        }
        None => out(
            Check::SessionEnd,
            match x.status {
                200 => Err("a 200 whose body is neither empty nor a SOAP message"),
                // These are for the session layer (challenge, redirect, retry).
                401 | 301..=308 | 503 => return,
                _ => Err("the session ended with an HTTP error status"),
            },
        ),
    }
}

fn id_echoed(sent: &str, env: Option<&Envelope<AcsMessage>>) -> Result<(), &'static str> {
    match env.and_then(|e| e.header.id.as_deref()) {
        Some(id) if id == sent => Ok(()),
        Some(_) => Err("the response carries another cwmp:ID than the request"),
        None => Err("the response carries no cwmp:ID"),
    }
}

/// A ParameterKey element is mandatory in SetParameterValues (it may be empty).
fn parameter_key(body: &[u8]) -> Result<(), &'static str> {
    if body
        .windows(13)
        .any(|w| w == b"ParameterKey>" || w == b"ParameterKey/")
    {
        Ok(())
    } else {
        Err("SetParameterValues without a ParameterKey element")
    }
}

fn xsi_types(
    list: &[crate::cwmp::ParameterValueStruct],
    kind_of: &mut dyn FnMut(&str) -> Option<XsdType>,
) -> Result<(), &'static str> {
    for p in list {
        let Some(model) = kind_of(&p.name) else {
            continue;
        };
        match p.kind {
            None => return Err("a SetParameterValues value without an xsi:type"),
            Some(k) if k != model => {
                return Err("a SetParameterValues xsi:type differs from the data model's type")
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// A cookie set once must not be replaced by another value of the same name mid-session.
fn cookies(
    st: &mut CheckState,
    headers: &HeaderMap,
    out: &mut dyn FnMut(Check, Result<(), &'static str>),
) {
    for v in headers.get_all(http::header::SET_COOKIE) {
        let Ok(s) = v.to_str() else { continue };
        let pair = s.split(';').next().unwrap_or("").trim();
        let Some((name, value)) = pair.split_once('=') else {
            continue;
        };
        let (n, v) = (
            fnv1a(name.trim().as_bytes()),
            fnv1a(value.trim().as_bytes()),
        );
        match st.cookie {
            None => {
                st.cookie = Some((n, v));
                out(Check::Cookies, Ok(()));
            }
            Some((n0, v0)) if n0 == n => out(
                Check::Cookies,
                if v0 == v {
                    Ok(())
                } else {
                    Err("the ACS changed its session cookie mid-session")
                },
            ),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests;
