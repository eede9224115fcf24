//! The embedded ACS: a CWMP server for quickstarts, tests and benchmarks, and its file server.

pub mod file_server;
pub mod policy;
pub mod session;
pub mod store;
