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

/// Every wait of [`cli_until`] ends by this bound: a hung child fails the test, never hangs the
/// suite.
pub const CLI_BOUND: Duration = Duration::from_secs(120);

/// Runs the `cpefleet` commands `children` at once until `done()` holds (checked every 20 ms)
/// or every child has exited by itself, then ends those still running as Ctrl-C does (SIGINT:
/// no new sessions, running ones finish, the reports are written and the verdict is the exit
/// code). Their scenario's duration is only an upper bound. Call `done` only on what the
/// children cannot reach before their signal handler is installed (e.g. sessions an ACS in
/// this process has seen end), so the SIGINT never meets the default handler.
pub async fn cli_until(
    children: Vec<std::process::Command>,
    done: impl Fn() -> bool,
) -> Vec<std::process::Output> {
    use std::process::Stdio;
    let mut running: Vec<std::process::Child> = children
        .into_iter()
        .map(|mut c| {
            c.stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn cpefleet")
        })
        .collect();
    let deadline = tokio::time::Instant::now() + CLI_BOUND;
    loop {
        let all_exited = running
            .iter_mut()
            .all(|c| c.try_wait().ok().flatten().is_some());
        if all_exited || done() {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            for c in &mut running {
                let _ = c.kill();
            }
            panic!("the condition did not hold within {CLI_BOUND:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for c in &mut running {
        if c.try_wait().ok().flatten().is_none() {
            let ok = std::process::Command::new("kill")
                .args(["-INT", &c.id().to_string()])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "kill -INT {}", c.id());
        }
    }
    let mut outputs = Vec::new();
    for c in running {
        let pid = c.id();
        let wait = tokio::task::spawn_blocking(move || c.wait_with_output());
        match tokio::time::timeout(CLI_BOUND, wait).await {
            Ok(out) => outputs.push(out.unwrap().unwrap()),
            Err(_) => {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
                panic!("cpefleet {pid} did not exit within {CLI_BOUND:?} of its SIGINT");
            }
        }
    }
    outputs
}

/// Sessions the ACS has seen end (any outcome), with none still open.
pub fn sessions_over(acs: &cpefleet::acs::AcsHandle, at_least: u64) -> bool {
    let s = acs.status();
    s.sessions.active == 0 && s.sessions.ended.values().sum::<u64>() >= at_least
}
