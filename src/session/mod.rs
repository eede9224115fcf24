//! One CWMP session over one HTTP/1.1 connection: the I/O edge around the pure core.
//!
//! - `run`: the session's protocol logic, against the [`SessionDevice`] trait;
//! - `checks`: the protocol checks scored on every ACS message of any session (pure);
//! - `cookie`, `retry`, `trace`, `transfer`: the pieces it uses (the connection itself is
//!   [`crate::net::client`]);
//! - `report`, `error`: what it returns.

pub mod checks;
pub mod cookie;
pub mod error;
pub mod report;
pub mod retry;
pub mod run;
pub mod trace;
pub mod transfer;

pub use error::SessionError;
pub use report::{Exchange, SessionReport, Timings};
pub use run::{run, Answering, Impairments, SessionConfig, SessionDevice};
