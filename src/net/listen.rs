//! Server-side listening sockets (the embedded ACS, its file server, the connection-request
//! listener), made in one place so that each gets what a load target needs.
//!
//! tokio's `TcpListener::bind` listens with a backlog of 1024. A fleet opens up to
//! `max_sessions` connections at once (2000 in `scenarios/million-idle.yaml`); once the accept
//! queue is full the kernel drops the SYNs and each client retries after its 1 s initial
//! retransmission timeout, which then shows in the ACS's measured connect latency (p90
//! 1026 ms in that scenario). 4096 is today's default `net.core.somaxconn`, which caps it.

use std::io;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket};

/// The accept-queue length asked for; the kernel caps it at `net.core.somaxconn`.
pub const BACKLOG: u32 = 4096;

/// Binds and listens on `addr` with [`BACKLOG`]. Like `TcpListener::bind` on Unix it sets
/// `SO_REUSEADDR`, so a restarted server rebinds while old connections sit in TIME_WAIT.
/// Must be called inside a tokio runtime.
pub fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}
