//! One CWMP session over one HTTP/1.1 connection: the I/O edge around the pure core.
//!
//! - `run`: the session's protocol logic, against the [`SessionDevice`] trait;
//! - `transport`: TCP/TLS connection and bounded exchanges (hyper's connection-level client);
//! - `cookie`, `retry`, `tls`, `trace`: the pieces it uses;
//! - `report`, `error`: what it returns.

pub mod body;
pub mod cookie;
pub mod error;
pub mod report;
pub mod retry;
pub mod run;
pub mod tls;
pub mod trace;
pub mod transfer;
pub mod transport;

pub use error::SessionError;
pub use report::{Exchange, SessionReport, Timings};
pub use run::{run, Answering, Impairments, SessionConfig, SessionDevice};
