//! The SOAP envelope around every CWMP message: version (namespace), header elements and body.

use super::version::CwmpVersion;

/// SOAP header elements of CWMP. Absent elements are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Header {
    /// `cwmp:ID`: correlates a response with its request; echoed byte for byte.
    pub id: Option<String>,
    /// ACS only: `true` stops the CPE from sending requests in its next POSTs.
    pub hold_requests: Option<bool>,
    /// Deprecated (TR-069 Issue 1): tolerated on decode, never encoded.
    pub no_more_requests: Option<bool>,
    /// CWMP 1.3+, Inform only: seconds the ACS should wait for the CPE's next message.
    pub session_timeout: Option<u32>,
    /// CWMP 1.4, Inform only: e.g. "1.0,1.1,1.2,1.3,1.4".
    pub supported_cwmp_versions: Option<String>,
    /// CWMP 1.4, InformResponse only: the version the ACS picked.
    pub use_cwmp_version: Option<String>,
}

impl Header {
    /// A header carrying only `cwmp:ID`.
    pub fn with_id(id: impl Into<String>) -> Self {
        Header {
            id: Some(id.into()),
            ..Header::default()
        }
    }
}

/// One SOAP envelope. `version` decides the namespace on encode; on decode it comes from the
/// namespace URI refined by the 1.3/1.4 Inform headers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Envelope<B> {
    pub version: CwmpVersion,
    pub header: Header,
    pub body: B,
}

impl<B> Envelope<B> {
    pub fn new(version: CwmpVersion, header: Header, body: B) -> Self {
        Envelope {
            version,
            header,
            body,
        }
    }
}
