//! cpefleet: a TR-069 (CWMP) CPE fleet simulator and load tester.
//!
//! # Layout
//! Modules in layers: a module imports only modules of its own layer or below, and modules of
//! one layer do not import each other in a loop (`tests/it/layers.rs` checks every
//! `crate::…` path against this table). The pure core (codec, model, device, planner) does no
//! I/O and is tested with plain unit tests; the I/O edges build on it.
//!
//! Layer 0, building blocks that know nothing of the rest:
//! - [`cwmp`]: the SOAP/CWMP codec. Pure: bytes in, typed messages out, and back.
//! - [`auth`]: HTTP Basic and Digest, client and server side (pure).
//! - [`units`]: human quantities (`30s`, `100/s`, `25%`, `10k`): one parser each, and the YAML
//!   newtypes every file format uses.
//! - [`seed`]: seeded dice, pure functions of (seed, stream, index) behind every random choice.
//! - [`net`]: listening sockets and the one accept loop of every server, the bounded HTTP/1.1
//!   client, request bodies, client TLS.
//! - [`shutdown`]: Ctrl-C and SIGTERM handling.
//!
//! Layer 1, built on layer 0 only:
//! - [`model`]: data-model templates loaded from `data-models/*.yaml`, immutable and shared by
//!   every device of a type; per-device values come from generators, computed on read.
//! - [`cr`]: connection requests, ACS to CPE: the decision (pure) and the fleet's one listener.
//! - [`threshold`]: the scenario's pass/fail limits and their verdicts (pure); here rather than
//!   beside the report because the scenario file embeds them.
//!
//! Layer 2, one device, one session, one file, one ACS:
//! - [`device`]: one virtual CPE's small mutable state, its RPC semantics and its life between
//!   sessions: pending events, retries, owed TransferCompletes (pure).
//! - [`session`]: one CWMP session over one HTTP connection, and the protocol checks every
//!   session scores on the ACS's messages.
//! - [`scenario`]: the scenario file validated into a run plan; phases as arithmetic.
//! - [`import`]: template importers (genieacs-sim CSV dumps, BBF data-model XML).
//! - [`acs`]: the embedded ACS (server, policy, per-device store, connection-request sender).
//!
//! Layer 3, what a run measures and shows:
//! - [`metrics`]: a shard's statistics and the run's result, the Prometheus exporter, the
//!   timeline and the live progress display.
//! - [`render`]: what device N of a template would send (the `render` subcommand).
//!
//! Layer 4, the run:
//! - [`fleet`]: many virtual CPEs in one process: shards (a thread each under `cpefleet run`),
//!   timers, the CR router.
//! - [`report`]: the end-of-run report (text, JSON, JUnit, HTML), merged and compared.
//!
//! Layer 5:
//! - [`conformance`]: scripted CPEs that score an ACS, through real sessions.
//!
//! Layer 6:
//! - [`cli`]: the command line (clap types and the commands); `main.rs` only calls it.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

// In layer order (see Layout).
pub mod auth;
pub mod cwmp;
pub mod net;
pub mod seed;
pub mod shutdown;
pub mod units;

pub mod cr;
pub mod model;
pub mod threshold;

pub mod acs;
pub mod device;
pub mod import;
pub mod scenario;
pub mod session;

pub mod metrics;
pub mod render;

pub mod fleet;
pub mod report;

pub mod conformance;

pub mod cli;
