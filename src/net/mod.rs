//! Network plumbing shared by every I/O edge, and nothing CWMP-specific:
//!
//! - `listen`: server-side listening sockets with a load target's backlog;
//! - `serve`: the one accept loop every HTTP server of the crate runs;
//! - `client`: one bounded HTTP/1.1 client connection (TCP, optional TLS, hyper's
//!   connection-level client);
//! - `body`: request bodies, whole or trickled;
//! - `tls`: the client's TLS configuration;
//! - `wan`: the WAN between a device and the ACS as a pure model (delay, stalls, bandwidth).
//! - `query`: URL query strings (percent-decoding, parameters).
pub mod body;
pub mod client;
pub mod listen;
pub mod query;
pub mod serve;
pub mod tls;
pub mod wan;

pub use listen::{listen, BACKLOG};
pub use serve::{serve, ServeOptions};
