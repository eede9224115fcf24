//! The embedded ACS: a CWMP server for quickstarts, tests and benchmarks (`cpefleet acs`, and
//! `cpefleet run` without an ACS URL), with its file server and status endpoint.
//!
//! - [`server`]: HTTP I/O (hyper), sessions by cookie, auth, overload, `/status`.
//! - [`session`]: one CWMP session as a pure state machine.
//! - [`policy`]: what the ACS asks of devices (null or YAML), pure planning.
//! - [`store`]: what the ACS learnt, bounded, served as JSON.
//! - [`file_server`]: firmware images and uploads.
//! - `cr_sender`: connection requests to devices at a fixed rate.
//! - [`cr_target`]: which transport one connection request takes (HTTP, UDP, XMPP), and sending it.
//! - [`udp_cr`]: UDP connection requests (TR-069 Annex G), as GenieACS sends them.
//! - [`stun_server`]: a minimal STUN server for UDP connection requests without set-up.
//! - [`xmpp`]: XMPP connection requests through a component connection the ACS accepts.

mod cr_sender;
pub mod cr_target;
pub mod file_server;
pub mod misbehave;
pub mod policy;
pub mod server;
pub mod session;
pub mod store;
pub mod stun_server;
pub mod udp_cr;
pub mod xmpp;

pub use cr_sender::connection_request;
pub use misbehave::{Misbehave, Misbehaviour};
pub use policy::{Policy, PolicyError};
pub use server::{start, AcsConfig, AcsError, AcsHandle};
pub use store::{DeviceRecord, StatusSnapshot, Store, StoreLimits};
