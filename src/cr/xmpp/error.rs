//! What can go wrong on an XMPP stream, each with a fixed metric label.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmppError {
    #[error("not well-formed XML")]
    Malformed,
    #[error("a comment, processing instruction or DTD, which XMPP forbids (RFC 6120 §11.1)")]
    RestrictedXml,
    #[error("a stanza over the size limit")]
    TooLarge,
    #[error("elements nested over the depth limit")]
    TooDeep,
    #[error("the peer sent {0} where the protocol expects something else")]
    Unexpected(String),
    #[error("authentication failed: {0}")]
    AuthFailed(String),
    #[error("the server answered SCRAM with a bad proof or parameters")]
    Scram,
    #[error("the server offers no SASL mechanism we speak (PLAIN, SCRAM-SHA-1)")]
    NoMechanism,
    #[error("the server requires TLS (STARTTLS), which this client does not speak")]
    TlsRequired,
    #[error("stream error from the peer: {0}")]
    StreamError(String),
    #[error("the component handshake was refused")]
    HandshakeRefused,
}

impl XmppError {
    pub fn label(&self) -> &'static str {
        match self {
            XmppError::Malformed => "malformed",
            XmppError::RestrictedXml => "restricted_xml",
            XmppError::TooLarge => "too_large",
            XmppError::TooDeep => "too_deep",
            XmppError::Unexpected(_) => "unexpected",
            XmppError::AuthFailed(_) => "auth_failed",
            XmppError::Scram => "scram",
            XmppError::NoMechanism => "no_mechanism",
            XmppError::TlsRequired => "tls_required",
            XmppError::StreamError(_) => "stream_error",
            XmppError::HandshakeRefused => "handshake_refused",
        }
    }
}
