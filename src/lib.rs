//! cpefleet: a TR-069 (CWMP) CPE fleet simulator and load tester.
//!
//! # Layout
//! - [`cwmp`]: the SOAP/CWMP codec. Pure: bytes in, typed messages out, and back.
//! - [`model`]: data-model templates loaded from `data-models/*.yaml`, immutable and shared by
//!   every device of a type; per-device values come from generators, computed on read.
//! - [`device`]: one virtual CPE's small mutable state and its RPC semantics (pure).
//! - [`import`]: template importers (genieacs-sim CSV dumps, BBF data-model XML).
//! - [`render`]: what device N of a template would send (the `render` subcommand).
//! - [`metrics`]: the Prometheus exporter, the run's timeline and the live progress display;
//!   [`report`]: the end-of-run report (text, JSON, JUnit, HTML), merged and compared;
//!   [`threshold`]: the scenario's pass/fail limits.
//!
//! The pure core (codec, model, device) does no I/O and is tested with plain unit tests; the
//! I/O edges (sessions, scheduler, listeners, exporter) build on it.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod acs;
pub mod auth;
pub mod cli;
pub mod conformance;
pub mod cr;
pub mod cwmp;
pub mod device;
pub mod fleet;
pub mod import;
pub mod metrics;
pub mod model;
pub mod net;
pub mod render;
pub mod report;
pub mod session;
pub mod shutdown;
pub mod threshold;

pub mod scenario;
pub mod seed;
pub mod units;
