//! Data-model templates.

pub mod file;
