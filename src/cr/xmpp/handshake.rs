//! Stream headers and the steps of logging in, as text: the client's stream (RFC 6120 §4.7),
//! resource binding (§7), and the external component's handshake (XEP-0114 §3:
//! `<handshake>` holds the lowercase hex SHA-1 of the stream id followed by the secret).

use sha1::{Digest, Sha1};

use crate::cwmp::encode::escape;

pub const NS_CLIENT: &str = "jabber:client";
pub const NS_COMPONENT: &str = "jabber:component:accept";
pub const NS_STREAMS: &str = "http://etherx.jabber.org/streams";
pub const NS_BIND: &str = "urn:ietf:params:xml:ns:xmpp-bind";

/// A client's stream header to `domain`.
pub fn client_open(domain: &str) -> String {
    format!(
        "<?xml version='1.0'?><stream:stream to='{}' version='1.0' xml:lang='en' \
         xmlns='{NS_CLIENT}' xmlns:stream='{NS_STREAMS}'>",
        escape(domain)
    )
}

/// A component's stream header naming its domain (XEP-0114 §3).
pub fn component_open(domain: &str) -> String {
    format!(
        "<?xml version='1.0'?><stream:stream to='{}' xmlns='{NS_COMPONENT}' \
         xmlns:stream='{NS_STREAMS}'>",
        escape(domain)
    )
}

/// The server side of a component stream: its header with the stream id.
pub fn component_accept(domain: &str, id: &str) -> String {
    format!(
        "<?xml version='1.0'?><stream:stream from='{}' id='{}' xmlns='{NS_COMPONENT}' \
         xmlns:stream='{NS_STREAMS}'>",
        escape(domain),
        escape(id)
    )
}

/// The handshake digest: hex(SHA-1(stream id ‖ secret)).
pub fn handshake_digest(stream_id: &str, secret: &str) -> String {
    let mut h = Sha1::new();
    h.update(stream_id.as_bytes());
    h.update(secret.as_bytes());
    hex::encode(h.finalize())
}

pub fn handshake(stream_id: &str, secret: &str) -> String {
    format!(
        "<handshake>{}</handshake>",
        handshake_digest(stream_id, secret)
    )
}

/// Binds `resource` (RFC 6120 §7.6).
pub fn bind(id: &str, resource: &str) -> String {
    format!(
        "<iq type='set' id='{}'><bind xmlns='{NS_BIND}'><resource>{}</resource></bind></iq>",
        escape(id),
        escape(resource)
    )
}

/// Initial presence, so the server routes to this resource (RFC 6121 §4.2).
pub const PRESENCE: &str = "<presence/>";
pub const CLOSE: &str = "</stream:stream>";
