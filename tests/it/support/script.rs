//! A scripted ACS without sockets for fleet tests under tokio's paused clock: in a device's
//! n-th session it sends the n-th list of requests, and records what the device informed,
//! reported and answered.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cpefleet::cwmp::{AcsRequest, AcsResponse, CpeMessage, CpeRequest, Inform};
use cpefleet::fleet::cpe::Cpe;
use cpefleet::fleet::runner::{Runner, SessionFuture};
use cpefleet::fleet::{self, RunOptions};
use cpefleet::metrics::RunResult;
use cpefleet::scenario::{Overrides, Scenario};
use cpefleet::session::trace::Trace;
use cpefleet::session::{SessionConfig, SessionDevice, SessionReport, Timings};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// One session as the scripted ACS saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at_ms: u64,
    /// "code" or "code(key)".
    pub events: Vec<String>,
    /// (CommandKey, FaultCode) of each TransferComplete sent.
    pub completes: Vec<(String, u32)>,
    pub software_version: String,
    /// Fault codes the device answered the script's requests with.
    pub faults: Vec<u32>,
    /// Every request the device sent after its Inform (TransferComplete, DUStateChangeComplete…).
    pub reports: Vec<CpeRequest>,
    /// What the device answered each of the script's requests with.
    pub answers: Vec<CpeMessage>,
    /// The Inform itself.
    pub inform: Inform,
}

/// An ACS without sockets: in the device's n-th session it sends `script[n]`.
pub struct Script {
    t0: Instant,
    script: Vec<Vec<AcsRequest>>,
    sessions: Mutex<HashMap<u32, usize>>,
    seen: Mutex<Vec<Seen>>,
}

impl Script {
    pub fn new(script: Vec<Vec<AcsRequest>>) -> Arc<Script> {
        Arc::new(Script {
            t0: Instant::now(),
            script,
            sessions: Mutex::default(),
            seen: Mutex::default(),
        })
    }
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Runner for Script {
    fn run<'a>(
        &'a self,
        cfg: &'a SessionConfig,
        cpe: &'a mut Cpe,
        _trace: Option<&'a mut Trace>,
    ) -> SessionFuture<'a> {
        Box::pin(async move {
            let inform = cpe.inform();
            let n = {
                let mut m = self.sessions.lock().unwrap();
                let n = m.entry(cpe.device.index()).or_default();
                *n += 1;
                *n - 1
            };
            cpe.inform_acknowledged();
            let mut completes = vec![];
            let mut reports = vec![];
            while let Some(r) = cpe.next_request() {
                if let CpeRequest::TransferComplete(tc) = &r {
                    completes.push((tc.command_key.clone(), tc.fault.fault_code));
                }
                let answer = match &r {
                    CpeRequest::DUStateChangeComplete(_) => {
                        AcsResponse::DUStateChangeCompleteResponse
                    }
                    CpeRequest::AutonomousDUStateChangeComplete(_) => {
                        AcsResponse::AutonomousDUStateChangeCompleteResponse
                    }
                    _ => AcsResponse::TransferCompleteResponse,
                };
                cpe.request_answered(&r, Ok(&answer));
                reports.push(r);
            }
            let mut faults = vec![];
            let mut answers = vec![];
            for req in self.script.get(n).into_iter().flatten() {
                let answer = cpe.apply(req);
                if let CpeMessage::Fault(f) = &answer {
                    faults.push(f.code);
                }
                answers.push(answer);
            }
            let root = cpe.with_view(|v| v.template().root().to_string());
            let software_version = cpe.with_view(|v| {
                v.get(&format!("{root}DeviceInfo.SoftwareVersion"))
                    .map(|p| p.value)
                    .unwrap_or_default()
            });
            self.seen.lock().unwrap().push(Seen {
                at_ms: self.t0.elapsed().as_millis() as u64,
                events: inform
                    .events
                    .iter()
                    .map(|e| match e.command_key.as_str() {
                        "" => e.code.as_str().to_string(),
                        k => format!("{}({k})", e.code.as_str()),
                    })
                    .collect(),
                completes,
                software_version,
                faults,
                reports,
                answers,
                inform,
            });
            SessionReport {
                inform_acknowledged: true,
                outcome: Ok(()),
                timings: Timings::default(),
                version: cfg.version,
                acs_requests: vec![],
                connections: 1,
                checks: Default::default(),
                auth: None,
            }
        })
    }
}

/// One device of `data-models/<template>.yaml`, bootstrapped, periodic informs a day apart (so
/// only the script's doings start sessions), `group` added to its group's keys.
pub async fn run_one(
    script: Arc<Script>,
    template: &str,
    duration: &str,
    group: &str,
) -> RunResult {
    run_with(script, template, duration, group, "").await
}

/// [`run_one`] with `extra` appended to the scenario (e.g. a `phases:` list).
pub async fn run_with(
    script: Arc<Script>,
    template: &str,
    duration: &str,
    group: &str,
    extra: &str,
) -> RunResult {
    run_scenario(script, template, duration, group, extra, None).await
}

/// [`run_with`] ending as soon as `done(sessions seen so far)` holds (checked every 20 ms):
/// for runs on the real clock, whose `duration` is then only an upper bound.
pub async fn run_with_until(
    script: Arc<Script>,
    template: &str,
    duration: &str,
    group: &str,
    extra: &str,
    done: impl Fn(&[Seen]) -> bool,
) -> RunResult {
    run_scenario(script, template, duration, group, extra, Some(&done)).await
}

/// When a run may end early (the sessions seen so far).
type Done<'a> = &'a dyn Fn(&[Seen]) -> bool;

/// No watcher at all without `done`: under the paused clock its wake-ups would be most of a
/// long run's work.
async fn run_scenario(
    script: Arc<Script>,
    template: &str,
    duration: &str,
    group: &str,
    extra: &str,
    done: Option<Done<'_>>,
) -> RunResult {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.yaml");
    // A name of data-models/, or a path to a template file.
    let template = if template.contains('/') {
        std::path::PathBuf::from(template)
    } else {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("data-models/{template}.yaml"))
    };
    let src = format!(
        "name: scripted\nseed: 4\nduration: {duration}\nfleet:\n  groups: [{{ name: g, template: {}, count: 1, bootstrapped: true, periodic_interval: 24h, {group} }}]\n{extra}",
        template.display()
    );
    std::fs::write(&path, &src).unwrap();
    let s = Scenario::parse(&src, &path, &Overrides::default()).unwrap();
    let opts = RunOptions {
        shards: Some(1),
        runner: Some(script.clone()),
        ..RunOptions::default()
    };
    let end = CancellationToken::new();
    let watch = async {
        let Some(done) = done else { return };
        while !end.is_cancelled() && !done(&script.seen()) {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        end.cancel();
    };
    let run = async {
        let r = fleet::run(&s, "http://127.0.0.1:9/acs", &opts, end.clone()).await;
        end.cancel();
        r
    };
    let (result, ()) = tokio::join!(run, watch);
    result.unwrap()
}
