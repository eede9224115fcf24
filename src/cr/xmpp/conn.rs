//! One XMPP TCP connection at the I/O edge: bytes from the socket into the pure
//! [`StreamReader`], text out. Shared by the device client, the device-side component and the
//! embedded ACS's component server.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::error::XmppError;
use super::stream::{Limits, StreamEvent, StreamReader};

/// Why a connection ended.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error(transparent)]
    Xmpp(#[from] XmppError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("the peer closed the connection")]
    Closed,
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

impl ConnError {
    pub fn label(&self) -> &'static str {
        match self {
            ConnError::Xmpp(e) => e.label(),
            ConnError::Io(_) => "io",
            ConnError::Closed => "closed",
            ConnError::Timeout(_) => "timeout",
        }
    }
}

pub struct Conn {
    sock: TcpStream,
    reader: StreamReader,
    buf: Box<[u8]>,
}

impl Conn {
    pub fn new(sock: TcpStream, limits: Limits) -> Self {
        let _ = sock.set_nodelay(true);
        Conn {
            sock,
            reader: StreamReader::new(limits),
            // Small: stanzas here are short, and a million-device component shares one.
            buf: vec![0u8; 4096].into_boxed_slice(),
        }
    }

    pub async fn send(&mut self, text: &str) -> Result<(), ConnError> {
        self.sock.write_all(text.as_bytes()).await?;
        Ok(())
    }

    /// A new stream on the same socket (after SASL success).
    pub fn restart(&mut self) {
        self.reader.restart();
    }

    /// The next stream event; `None` within `timeout` is an error only when `timeout` is set.
    pub async fn next(&mut self, timeout: Option<Duration>) -> Result<StreamEvent, ConnError> {
        loop {
            if let Some(ev) = self.reader.next_event()? {
                return Ok(ev);
            }
            let read = self.sock.read(&mut self.buf);
            let n = match timeout {
                Some(t) => tokio::time::timeout(t, read)
                    .await
                    .map_err(|_| ConnError::Timeout(t))??,
                None => read.await?,
            };
            if n == 0 {
                return Err(ConnError::Closed);
            }
            self.reader.feed(&self.buf[..n])?;
        }
    }
}

/// Connection state, as a gauge reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Connecting = 0,
    Up = 1,
    Backoff = 2,
}

/// Reconnect waits: doubling from `min` to `max`, with the seeded jitter the caller passes
/// (0.0–1.0) taking off up to half, so a fleet that lost its server does not come back in one
/// wave.
pub fn backoff(attempt: u32, min: Duration, max: Duration, jitter: f64) -> Duration {
    let base = min.saturating_mul(1u32 << attempt.min(16)).min(max);
    base.mul_f64(1.0 - 0.5 * jitter.clamp(0.0, 1.0))
}
