//! The XMPP transport's counters, read by the metrics exporter and the report: connection
//! requests by result, and connection state. Kept here, beside the transport, until the
//! connection-request report groups every transport's figures.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use super::connreq::XmppCrResult;

#[derive(Debug, Default)]
pub struct XmppStats {
    results: [AtomicU64; XmppCrResult::ALL.len()],
    /// Connections logged in now (client mode: one per device; component mode: 0 or 1).
    pub connected: AtomicI64,
    /// The most `connected` has been (the report's figure: at the end every connection is
    /// closed).
    pub connected_max: AtomicI64,
    /// Successful logins, including reconnects.
    pub logins: AtomicU64,
    /// Connections lost or refused (each followed by a back-off).
    pub disconnects: AtomicU64,
    /// Of those, logins the server refused (SASL, bind, component handshake).
    pub auth_failures: AtomicU64,
    /// Whitespace keep-alives sent (KeepAliveInterval).
    pub keep_alives: AtomicU64,
}

/// Counts one connection as up for as long as it lives (also when its task is cancelled).
pub struct Connected<'a>(&'a XmppStats);

impl<'a> Connected<'a> {
    pub fn new(s: &'a XmppStats) -> Self {
        let now = s.connected.fetch_add(1, Ordering::Relaxed) + 1;
        s.connected_max.fetch_max(now, Ordering::Relaxed);
        Connected(s)
    }
}

impl Drop for Connected<'_> {
    fn drop(&mut self) {
        self.0.connected.fetch_sub(1, Ordering::Relaxed);
    }
}

impl XmppStats {
    fn slot(r: XmppCrResult) -> usize {
        XmppCrResult::ALL.iter().position(|x| *x == r).unwrap_or(0)
    }

    pub fn count(&self, r: XmppCrResult) {
        self.results[Self::slot(r)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self, r: XmppCrResult) -> u64 {
        self.results[Self::slot(r)].load(Ordering::Relaxed)
    }

    /// Every connection request received (valid or not).
    pub fn received(&self) -> u64 {
        XmppCrResult::ALL.iter().map(|r| self.get(*r)).sum()
    }
}
