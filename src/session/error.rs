//! Why a session failed, by class. Every variant has a fixed metric label; hot-path variants
//! carry no large strings (a status code, a fault code, a decode error's own label).

use std::time::Duration;

use crate::cwmp::DecodeError;

use crate::net::client::TransportError;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The ACS answered with an HTTP status the session cannot continue after.
    #[error("ACS answered HTTP {0}")]
    Status(u16),
    /// `503` (overload): `retry_after` is the ACS's `Retry-After`, honoured as a floor on the
    /// next attempt.
    #[error("ACS overloaded (503), Retry-After {retry_after:?}")]
    Overloaded { retry_after: Option<Duration> },
    /// A second 401 after answering a challenge (wrong credentials), or an unusable challenge.
    #[error("authentication failed: {0}")]
    Auth(&'static str),
    #[error("more than {0} redirects")]
    TooManyRedirects(u8),
    #[error("ACS message could not be decoded: {0}")]
    Decode(#[from] DecodeError),
    /// The ACS answered a CPE request with a different cwmp:ID.
    #[error("ACS answered with cwmp:ID {got:?}, expected {expected:?}")]
    WrongId { expected: String, got: String },
    /// The ACS sent a message that makes no sense at this point (e.g. an RPC response after the
    /// empty POST, an empty answer to the Inform).
    #[error("unexpected {got} from the ACS while waiting for {expected}")]
    Unexpected {
        expected: &'static str,
        got: &'static str,
    },
    /// A SOAP fault in answer to the Inform (other than 8005, which is retried).
    #[error("ACS fault {0} in answer to the Inform")]
    InformFault(u32),
    /// 8005 (retry request) kept coming.
    #[error("ACS kept answering 8005 (retry request)")]
    RetryExhausted,
    /// The whole session took longer than its limit.
    #[error("session exceeded {0:?}")]
    SessionTimeout(Duration),
    /// More exchanges than the session allows (an ACS that never ends the session).
    #[error("session exceeded {0} exchanges")]
    TooManyExchanges(u32),
    #[error("session cancelled")]
    Cancelled,
    /// An impairment the scenario asked for (not the ACS's fault).
    #[error("injected {0}")]
    Injected(&'static str),
    /// An `acs_outage` phase: the simulator's transport kept the ACS out of reach.
    #[error("ACS unreachable (acs_outage, {})", .0.label())]
    AcsOutage(crate::net::wan::OutageMode),
}

impl SessionError {
    /// The fixed metric label.
    pub fn label(&self) -> &'static str {
        match self {
            SessionError::Transport(t) => t.label(),
            SessionError::Status(s) => match *s {
                400 => "http_400",
                401 => "http_401",
                403 => "http_403",
                404 => "http_404",
                405 => "http_405",
                415 => "http_415",
                500..=599 => "http_5xx",
                _ => "http_status",
            },
            SessionError::Overloaded { .. } => "http_503",
            SessionError::Auth(_) => "auth_failed",
            SessionError::TooManyRedirects(_) => "too_many_redirects",
            SessionError::Decode(d) => d.label(),
            SessionError::WrongId { .. } => "wrong_cwmp_id",
            SessionError::Unexpected { .. } => "unexpected_message",
            SessionError::InformFault(_) => "inform_fault",
            SessionError::RetryExhausted => "retry_exhausted",
            SessionError::SessionTimeout(_) => "session_timeout",
            SessionError::TooManyExchanges(_) => "too_many_exchanges",
            SessionError::Cancelled => "cancelled",
            SessionError::Injected(_) => "injected_reset",
            SessionError::AcsOutage(mode) => mode.label(),
        }
    }

    /// The floor the ACS asked for before the next attempt.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SessionError::Overloaded { retry_after } => *retry_after,
            _ => None,
        }
    }
}
