//! One CWMP session over one HTTP/1.1 connection (the I/O edge around the pure core).

pub mod cookie;
pub mod retry;
pub mod tls;
pub mod transport;
