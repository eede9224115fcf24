//! Conformance: cpefleet plays scripted CPEs and scores the ACS.
//!
//! - `case`: the step language of a conformance case (YAML, validated with file:line:column);
//! - `cond`: the conditions an expectation puts on a value;
//! - `profile`: what the ACS offers beyond TR-069 (NBI dialect, optional tasks) and its NBI calls;
//! - `http`: the runner's own bounded HTTP/1.1 client;
//! - `run`: executes cases against an ACS, one scripted device through real sessions;
//! - `result`: per-case and per-check results, the terminal summary, JSON and JUnit.

pub mod case;
pub mod cond;
pub(crate) mod http;
pub mod profile;
pub mod result;
pub mod run;
pub mod xmpp;

pub use crate::session::checks::{Check, CheckCounts};
pub use case::{Case, CaseError};
pub use profile::{AcsProfile, Dialect};
pub use result::{CaseResult, SuiteResult};
pub use run::{new_run_id, run_suite, SuiteOptions};
pub use xmpp::XmppJoin;
