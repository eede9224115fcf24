//! The ACS's side of an XMPP connection request: over an established stream (a client login,
//! as GenieACS makes, or the component stream the embedded ACS accepts), send the Annex K IQ
//! and read the answer. Results are the ACS store's connection-request labels.

use std::time::Duration;

use super::conn::{Conn, ConnError};
use super::connreq;
use super::stream::StreamEvent;

/// One request, one answer; other stanzas meanwhile are skipped (at most `MAX_SKIPPED`).
pub struct CrSender {
    conn: Conn,
    from: String,
    next_id: u64,
}

const MAX_SKIPPED: usize = 1024;

impl CrSender {
    /// `from`: the JID the requests come from (the ACS's own).
    pub fn new(conn: Conn, from: &str) -> Self {
        CrSender {
            conn,
            from: from.to_owned(),
            next_id: 0,
        }
    }

    /// Sends a connection request to `to` and waits for its answer: `ok`, `auth_failed`,
    /// `unreachable` (service-unavailable: offline, not allowed, busy), `timeout` or
    /// `xmpp_error`.
    pub async fn connection_request(
        &mut self,
        to: &str,
        username: &str,
        password: &str,
        timeout: Duration,
    ) -> Result<&'static str, ConnError> {
        self.next_id += 1;
        let id = format!("cr{}", self.next_id);
        let iq = connreq::request(&id, &self.from, to, username, password);
        self.conn.send(&iq).await?;
        let deadline = tokio::time::Instant::now() + timeout;
        for _ in 0..MAX_SKIPPED {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let ev = match self.conn.next(Some(left)).await {
                Err(ConnError::Timeout(_)) => return Ok("timeout"),
                other => other?,
            };
            match ev {
                StreamEvent::Stanza(el) if el.local() == "iq" && el.attr("id") == Some(&id) => {
                    return Ok(connreq::outcome(&el));
                }
                StreamEvent::Close => return Err(ConnError::Closed),
                _ => {}
            }
        }
        Ok("xmpp_error")
    }
}
