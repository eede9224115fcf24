//! The embedded ACS: a CWMP server for quickstarts, tests and benchmarks (`cpefleet acs`, and
//! `cpefleet run` without an ACS URL), with its file server and status endpoint.
//!
//! - [`server`]: HTTP I/O (hyper), sessions by cookie, auth, overload, `/status`.
//! - [`session`]: one CWMP session as a pure state machine.
//! - [`policy`]: what the ACS asks of devices (null or YAML), pure planning.
//! - [`store`]: what the ACS learnt, bounded, served as JSON.
//! - [`file_server`]: firmware images and uploads.
//! - `cr_sender`: connection requests to devices at a fixed rate.

mod cr_sender;
pub mod file_server;
pub mod misbehave;
pub mod policy;
pub mod server;
pub mod session;
pub mod store;

pub use cr_sender::connection_request;
pub use misbehave::{Misbehave, Misbehaviour};
pub use policy::{Policy, PolicyError};
pub use server::{start, AcsConfig, AcsError, AcsHandle};
pub use store::{DeviceRecord, StatusSnapshot, Store, StoreLimits};
