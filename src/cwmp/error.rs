//! Decode errors. Each names the element path where decoding stopped and has a fixed metric label.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The body is empty or whitespace: not an envelope (callers treat an empty HTTP body as
    /// "nothing more" before decoding).
    #[error("empty body: not a SOAP envelope")]
    Empty,
    /// Not well-formed XML (or not UTF-8).
    #[error("malformed XML at byte {offset} in {path}: {message}")]
    Xml {
        path: String,
        offset: u64,
        message: String,
    },
    /// Well-formed XML that is not a SOAP envelope of the expected shape.
    #[error("not a CWMP envelope at {path}: {reason}")]
    Envelope { path: String, reason: &'static str },
    /// A cwmp namespace URI the codec does not know.
    #[error("unknown CWMP namespace {namespace:?} at {path}")]
    Version { path: String, namespace: String },
    /// A message of the other direction (e.g. an Inform given to `decode_acs`).
    #[error("{name} is not a message of this direction (at {path})")]
    Direction { path: String, name: String },
    /// An RPC element in a cwmp namespace that no CPE->ACS message has (`decode_cpe` only; an
    /// unknown ACS->CPE RPC decodes as `AcsRequest::Unknown`).
    #[error("unknown CWMP method {name} at {path}")]
    UnknownRpc { path: String, name: String },
    /// A required element is absent.
    #[error("missing element {path}")]
    Missing { path: String },
    /// An element's text is not a valid value of its type.
    #[error("invalid {expected} {value:?} at {path}")]
    Value {
        path: String,
        value: String,
        expected: &'static str,
    },
    /// A hostile-input bound was hit (nesting depth, array items, text size).
    #[error("limit exceeded at {path}: {what}")]
    Limit { path: String, what: &'static str },
}

impl DecodeError {
    /// A fixed, bounded label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Empty => "decode_empty",
            Self::Xml { .. } => "decode_xml",
            Self::Envelope { .. } => "decode_envelope",
            Self::Version { .. } => "decode_version",
            Self::Direction { .. } => "decode_direction",
            Self::UnknownRpc { .. } => "decode_unknown_rpc",
            Self::Missing { .. } => "decode_missing",
            Self::Value { .. } => "decode_value",
            Self::Limit { .. } => "decode_limit",
        }
    }

    /// The element path the error names ("" for an empty body).
    pub fn path(&self) -> &str {
        match self {
            Self::Empty => "",
            Self::Xml { path, .. }
            | Self::Envelope { path, .. }
            | Self::Version { path, .. }
            | Self::Direction { path, .. }
            | Self::UnknownRpc { path, .. }
            | Self::Missing { path }
            | Self::Value { path, .. }
            | Self::Limit { path, .. } => path,
        }
    }
}
