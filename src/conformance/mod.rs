//! Conformance: cpefleet plays scripted CPEs and scores the ACS.
//!
//! - `case`: the step language of a conformance case (YAML, validated with file:line:column);
//! - `run`: executes cases against an ACS, one scripted device through real sessions;
//! - `result`: per-case and per-check results, the terminal summary, JSON and JUnit.

pub mod case;
pub mod result;
pub mod run;

pub use crate::session::checks::{Check, CheckCounts};
pub use case::{Case, CaseError};
pub use result::{CaseResult, SuiteResult};
pub use run::{run_suite, SuiteOptions};
