//! One CWMP session over one HTTP/1.1 connection: the I/O edge around the pure core.
//!
//! - `run`: the session's protocol logic, against the [`SessionDevice`] trait, and `post` its
//!   HTTP side (reconnects, cookies, authentication, redirects);
//! - `checks`: the protocol checks scored on every ACS message of any session (pure);
//! - `cookie`, `retry`, `trace`, `transfer`: the pieces it uses (the connection itself is
//!   [`crate::net::client`]);
//! - `wan`: the WAN model's waits on every exchange and the `acs_outage` gate;
//! - `report`, `error`: what it returns.

pub mod checks;
pub mod cookie;
pub mod error;
mod post;
pub mod report;
pub mod retry;
pub mod run;
pub mod trace;
pub mod transfer;
pub mod wan;

pub use error::SessionError;
pub use report::{Exchange, SessionReport, Timings};
pub use run::{run, Answering, Impairments, SessionConfig, SessionDevice};
