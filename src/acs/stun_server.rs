//! A minimal STUN server beside the embedded ACS, so a UDP connection-request run needs no
//! outside set-up (TR-069 Annex G: an empty STUNServerAddress means the ACS's host). It answers
//! Binding Requests with MAPPED-ADDRESS (classic RFC 3489 clients) and XOR-MAPPED-ADDRESS (RFC
//! 5389 ones), and, when credentials are configured, asks for USERNAME and MESSAGE-INTEGRITY
//! with a 401 as RFC 3489 §9.2 does. It keeps no per-client state.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

use crate::cr::stun::{self, Builder, Kind};

/// What the server saw.
#[derive(Debug, Default)]
pub struct StunServerStats {
    pub requests: AtomicU64,
    pub answered: AtomicU64,
    /// Requests carrying TR-111's CONNECTION-REQUEST-BINDING / BINDING-CHANGE.
    pub tr111_bindings: AtomicU64,
    pub binding_changes: AtomicU64,
    pub unauthorized: AtomicU64,
    /// Not a Binding Request (or undecodable): ignored.
    pub ignored: AtomicU64,
}

/// Short-term credentials the server demands (RFC 5389 §10.1); `None`: anyone.
#[derive(Debug, Clone)]
pub struct StunCredentials {
    pub username: String,
    pub password: String,
}

/// Serves on `socket` until `cancel`.
pub async fn serve(
    socket: UdpSocket,
    credentials: Option<StunCredentials>,
    stats: Arc<StunServerStats>,
    cancel: CancellationToken,
) {
    let mut buf = vec![0u8; stun::MAX_MESSAGE];
    loop {
        let (n, from) = tokio::select! {
            _ = cancel.cancelled() => return,
            r = socket.recv_from(&mut buf) => match r {
                Ok(x) => x,
                Err(_) => continue,
            },
        };
        if let Some(reply) = answer(&buf[..n], from, credentials.as_ref(), &stats) {
            if socket.try_send_to(&reply, from).is_ok() {
                stats.answered.fetch_add(1, Relaxed);
            }
        }
    }
}

/// The reply to one datagram from `from`, if it gets one (pure apart from the counters).
pub fn answer(
    datagram: &[u8],
    from: SocketAddr,
    credentials: Option<&StunCredentials>,
    stats: &StunServerStats,
) -> Option<Vec<u8>> {
    let req = match stun::decode(datagram) {
        Ok(m) if m.kind == Kind::BindingRequest => m,
        _ => {
            stats.ignored.fetch_add(1, Relaxed);
            return None;
        }
    };
    stats.requests.fetch_add(1, Relaxed);
    if req.connection_request_binding {
        stats.tr111_bindings.fetch_add(1, Relaxed);
    }
    if req.binding_change {
        stats.binding_changes.fetch_add(1, Relaxed);
    }
    if !req.unknown_required.is_empty() {
        return Some(
            Builder::new(Kind::BindingError, &req.txid)
                .error(420, "Unknown Attribute")
                .finish(),
        );
    }
    if let Some(c) = credentials {
        let ok = req.username.as_deref() == Some(c.username.as_str())
            && req.verify_integrity(datagram, c.password.as_bytes());
        if !ok {
            stats.unauthorized.fetch_add(1, Relaxed);
            return Some(
                Builder::new(Kind::BindingError, &req.txid)
                    .error(401, "Unauthorized")
                    .finish(),
            );
        }
    }
    let mut b = Builder::new(Kind::BindingSuccess, &req.txid).mapped(from);
    if req.is_rfc5389() {
        b = b.xor_mapped(from);
    }
    if let Some(c) = credentials {
        b = b.integrity(c.password.as_bytes());
    }
    Some(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_bindings_and_demands_integrity_when_configured() {
        let stats = StunServerStats::default();
        let from: SocketAddr = "192.0.2.9:40000".parse().unwrap();
        let id = Builder::rfc5389_id(5);
        let plain = Builder::new(Kind::BindingRequest, &id)
            .connection_request_binding()
            .finish();
        let r = stun::decode(&answer(&plain, from, None, &stats).unwrap()).unwrap();
        assert_eq!(
            (r.kind, r.mapped, r.xor_mapped),
            (Kind::BindingSuccess, Some(from), Some(from))
        );
        let creds = StunCredentials {
            username: "u".into(),
            password: "p".into(),
        };
        let r = stun::decode(&answer(&plain, from, Some(&creds), &stats).unwrap()).unwrap();
        assert_eq!(r.error.map(|e| e.0), Some(401));
        let signed = Builder::new(Kind::BindingRequest, &id)
            .username("u")
            .integrity(b"p")
            .finish();
        let raw = answer(&signed, from, Some(&creds), &stats).unwrap();
        let r = stun::decode(&raw).unwrap();
        assert_eq!(r.address(), Some(from));
        assert!(r.verify_integrity(&raw, b"p"));
        assert!(answer(b"GET / HTTP/1.1", from, None, &stats).is_none());
        assert_eq!(stats.requests.load(Relaxed), 3);
        assert_eq!(stats.tr111_bindings.load(Relaxed), 2);
        assert_eq!(
            (
                stats.unauthorized.load(Relaxed),
                stats.ignored.load(Relaxed)
            ),
            (1, 1)
        );
    }
}
