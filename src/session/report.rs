//! What a session returns to its caller: the outcome and the time each phase took. The metrics
//! layer records these where the session ends (no channel message per request).

use std::time::Duration;

use crate::cwmp::CwmpVersion;

use super::error::SessionError;

/// Which exchange a latency belongs to: the CPE POST that opened it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exchange {
    /// Inform → InformResponse.
    Inform,
    /// A CPE request (TransferComplete, GetRPCMethods, …) → its response.
    CpeRequest(&'static str),
    /// The empty POST → the ACS's first request (or the end of the session).
    EmptyPost,
    /// The response to an ACS request (named by the ACS RPC) → the ACS's next message.
    AcsRpc(&'static str),
}

impl Exchange {
    /// A label from a fixed set (RPC names are the spec's).
    pub fn label(&self) -> &'static str {
        match self {
            Exchange::Inform => "Inform",
            Exchange::CpeRequest(n) | Exchange::AcsRpc(n) => n,
            Exchange::EmptyPost => "EmptyPost",
        }
    }
}

/// Phase timings of one session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timings {
    /// TCP connect of the first connection.
    pub connect: Option<Duration>,
    pub tls: Option<Duration>,
    /// The 401 challenge round trip, when the ACS challenged.
    pub auth_challenge: Option<Duration>,
    /// Every HTTP exchange in order, with its duration (after any auth retry).
    pub exchanges: Vec<(Exchange, Duration)>,
    /// Whole session, from the start of the connect to the end.
    pub total: Duration,
    /// What the WAN model did to it (stalls, time waited).
    pub wan: super::wan::WanTally,
}

impl Timings {
    /// Inform → InformResponse, if it completed.
    pub fn inform(&self) -> Option<Duration> {
        self.exchanges
            .iter()
            .find(|(e, _)| *e == Exchange::Inform)
            .map(|(_, d)| *d)
    }
}

/// The session's result, always returned (never an `Err` to the scheduler).
#[derive(Debug)]
pub struct SessionReport {
    pub outcome: Result<(), SessionError>,
    pub timings: Timings,
    /// The Inform was answered: its events count as delivered even if the session failed later.
    pub inform_acknowledged: bool,
    /// The version the session ended up speaking (the ACS may pick one with UseCWMPVersion).
    pub version: CwmpVersion,
    /// ACS requests answered, by RPC name, in order.
    pub acs_requests: Vec<&'static str>,
    /// TCP connections opened (reconnects and redirects add to it).
    pub connections: u32,
    /// Protocol checks scored on the ACS's answers (pass/fail per check).
    pub checks: crate::session::checks::SessionChecks,
    /// The scheme the ACS challenged with ("Digest" or "Basic"), if it did.
    pub auth: Option<&'static str>,
}

impl SessionReport {
    pub fn is_ok(&self) -> bool {
        self.outcome.is_ok()
    }
    /// "ok" or the error's label.
    pub fn label(&self) -> &'static str {
        match &self.outcome {
            Ok(()) => "ok",
            Err(e) => e.label(),
        }
    }
}
