//! Runs that end on an event rather than after a guessed time: a loaded 2-core machine may
//! need several times longer than an idle one to get through a scripted device life, so the
//! scenario's duration is only the upper bound and the run ends as soon as what the test
//! checks has happened.

use std::time::Duration;

use cpefleet::fleet::{self, RunOptions};
use cpefleet::metrics::RunResult;
use cpefleet::scenario::Scenario;
use tokio_util::sync::CancellationToken;

/// Runs the fleet of `s` against `acs_url` until `done()` holds (checked every 100 ms) or the
/// scenario ends; the fleet then ends as on Ctrl-C (running sessions finish within the grace).
pub async fn run_until(
    s: &Scenario,
    acs_url: &str,
    opts: &RunOptions,
    cancel: &CancellationToken,
    done: impl Fn() -> bool,
) -> RunResult {
    let end = cancel.child_token();
    let watch = async {
        while !end.is_cancelled() && !done() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        end.cancel();
    };
    let run = async {
        let r = fleet::run(s, acs_url, opts, end.clone()).await;
        end.cancel();
        r
    };
    let (result, ()) = tokio::join!(run, watch);
    result.unwrap()
}
