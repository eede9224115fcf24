//! Metrics beyond the end-of-run report: the Prometheus exporter and the live view.
//!
//! - `names`: every exported metric's name, help text and buckets;
//! - `handles`: a shard's cached Prometheus handles (no-ops unless the exporter is on);
//! - `exporter`: the recorder and the `/metrics` endpoint (`--metrics-listen`);
//! - `counts`: how sessions ended, a shard's and the report's;
//! - `cr_fate`: what became of each accepted connection request, by transport;
//! - `stats`: what shards count and measure, merged exactly at the end;
//! - `timeline`: per-interval counts and latencies over a run, bounded, mergeable;
//! - `progress`: the live progress bar (terminal) or periodic lines (not a terminal).
//!
//! Exact latency figures are hdrhistograms recorded in the shards ([`stats`]);
//! Prometheus histograms are the live, bucketed view of the same measurements.

pub mod counts;
pub mod cr_fate;
pub mod exporter;
pub mod handles;
pub mod names;
pub mod progress;
pub mod stats;
pub mod timeline;
pub mod transport;

pub use stats::RunResult;

use std::sync::atomic::{AtomicBool, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether the Prometheus recorder is installed (shards created after it record into it).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

fn set_enabled() {
    ENABLED.store(true, Ordering::Relaxed);
}
