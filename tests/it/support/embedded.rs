//! A fleet of TR-181 gateways against the embedded ACS over loopback: the set-up shared by the
//! tests that drive real sessions through a device's life (a scenario written to a temporary
//! file and parsed, the ACS with its policy on 127.0.0.1:0, one token to stop it).

use std::net::SocketAddr;
use std::path::Path;

use cpefleet::acs::{self, AcsConfig, AcsHandle, Policy};
use cpefleet::fleet::{self, RunOptions};
use cpefleet::metrics::RunResult;
use cpefleet::scenario::{Overrides, Scenario};
use tokio_util::sync::CancellationToken;

/// The scenario, the running ACS, and the token that stops the ACS (cancelled on drop, so a
/// failing test does not leave its ACS serving).
pub struct Embedded {
    pub scenario: Scenario,
    pub acs: AcsHandle,
    pub cancel: CancellationToken,
    /// Holds the scenario file for as long as the test runs.
    _dir: tempfile::TempDir,
}

impl Embedded {
    /// Starts the embedded ACS with `policy` (YAML) on a free port, and parses the scenario
    /// `scenario(gateway)` builds, `gateway` being the path of `data-models/tr181-gateway.yaml`
    /// for its groups' `template`.
    pub async fn start(policy: &str, scenario: impl FnOnce(&str) -> String) -> Embedded {
        let dir = tempfile::tempdir().unwrap();
        let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml");
        let src = scenario(&template.display().to_string());
        let path = dir.path().join("scenario.yaml");
        std::fs::write(&path, &src).unwrap();
        let scenario = Scenario::parse(&src, &path, &Overrides::default()).unwrap();
        let cancel = CancellationToken::new();
        let acs = acs::start(
            AcsConfig::new(
                SocketAddr::from(([127, 0, 0, 1], 0)),
                Policy::parse(policy).unwrap(),
            ),
            cancel.clone(),
        )
        .await
        .unwrap();
        Embedded {
            scenario,
            acs,
            cancel,
            _dir: dir,
        }
    }

    /// Runs the whole scenario against the ACS.
    pub async fn run(&self, opts: &RunOptions) -> RunResult {
        fleet::run(
            &self.scenario,
            &self.acs.url(),
            opts,
            self.cancel.child_token(),
        )
        .await
        .unwrap()
    }

    /// Runs the scenario until `done()` holds (see [`super::until::run_until`]).
    pub async fn run_until(&self, opts: &RunOptions, done: impl Fn() -> bool) -> RunResult {
        super::until::run_until(&self.scenario, &self.acs.url(), opts, &self.cancel, done).await
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
