//! `cpefleet run`: the fleet against an ACS (or the embedded one), reports written at the end.

use super::*;
use crate::{acs, report};

/// `cpefleet run`. Long (~98 lines): the run's steps in order (outputs, ACS, exporter,
/// progress, fleet, reports) share one runtime and one shutdown, each step a call.
pub(super) fn run_cmd(a: RunArgs) -> anyhow::Result<i32> {
    let mut s = load_scenario(&a.scenario, &a.overrides)?;
    // Before anything runs: a report lost to a typo'd path after an hour-long run is the worst
    // way to learn about it.
    check_outputs(&[
        ("--report-json", a.report_json.as_deref()),
        ("--report-html", a.report_html.as_deref()),
        ("--junit", a.junit.as_deref()),
    ])?;
    if let Some(u) = &a.cr_url {
        s.cr.url = Some(u.clone());
    }
    let shard_of = match (a.shard, a.shard_from_env) {
        (Some(sh), _) => Some(sh),
        (None, true) => Some(shard_from_env()?),
        (None, false) => None,
    };
    // Templates are checked before anything starts, so a bad one is input (exit 2).
    fleet::load_templates(&s).map_err(|e| InputError(e.to_string()))?;
    let trace = trace_spec(&a)?;
    let rt = runtime()?;
    rt.block_on(async move {
        let shutdown = crate::shutdown::install();
        let cancel = shutdown.stop.clone();
        // No ACS URL: the embedded ACS, in this process, on loopback.
        let embedded = embedded_acs(&s, &cancel).await?;
        attach_embedded_xmpp(&mut s, embedded.as_ref())?;
        let acs_url = match (&s.acs.url, &embedded) {
            (Some(u), _) => u.clone(),
            (None, Some(h)) => h.url(),
            (None, None) => unreachable!("started above"),
        };
        let live = std::sync::Arc::new(crate::metrics::stats::Live::default());
        let metrics_stop = tokio_util::sync::CancellationToken::new();
        if let Some(addr) = a.metrics_listen {
            metrics_exporter(addr, &live, s.devices(), &metrics_stop).await?;
        }
        let opts = RunOptions {
            shard_of,
            shards: a.shards,
            shard_runtime: a.shard_runtime,
            grace: a.grace,
            quit: Some(shutdown.quit.clone()),
            trace,
            live: Some(live.clone()),
            ..RunOptions::default()
        };
        let progress_stop = tokio_util::sync::CancellationToken::new();
        let progress = (!a.quiet).then(|| {
            let spec = ProgressSpec::new(s.duration, s.devices(), &s.phases);
            tokio::spawn(crate::metrics::progress::run(
                live,
                spec,
                progress_stop.clone(),
            ))
        });
        let cr_source = if a.overrides.cr_listen.is_some() {
            "--cr-listen"
        } else {
            "fleet.connection_requests.listen"
        };
        let result = fleet::run(&s, &acs_url, &opts, cancel)
            .await
            .map_err(|e| match e {
                e @ fleet::FleetError::Listen { .. } => anyhow::anyhow!("{cr_source}: {e}"),
                e => e.into(),
            });
        progress_stop.cancel();
        if let Some(p) = progress {
            let _ = p.await;
        }
        let result = result?;
        let mut report = Report::from_run(&result, &s.name);
        report.partial = shutdown.quit_code().is_some();
        report.judge(&s.thresholds);
        if let Some(h) = &embedded {
            report.embedded_acs = Some(serde_json::to_value(h.status())?);
        }
        // Files first: after SIGHUP the terminal may be gone, the files are what matters.
        write_reports(
            &report,
            a.report_json.as_deref(),
            a.report_html.as_deref(),
            a.junit.as_deref(),
        )?;
        if let Some(code) = shutdown.quit_code() {
            crate::shutdown::say("cpefleet: quit before the end: the report is partial");
            return Ok(code);
        }
        print!("{}", report::text::render(&report));
        if let Some(h) = &embedded {
            print_embedded_status(h);
        }
        if a.metrics_listen.is_some() && !a.metrics_linger.is_zero() {
            tokio::time::sleep(a.metrics_linger).await;
        }
        metrics_stop.cancel();
        Ok(verdict(&report))
    })
}

/// `--trace SELECTOR DIR`, parsed.
fn trace_spec(a: &RunArgs) -> Result<Option<TraceSpec>, InputError> {
    Ok(match &a.trace {
        Some(v) if v.len() == 2 => Some(
            TraceSpec::parse(&v[0], PathBuf::from(&v[1]))
                .map_err(|e| InputError(format!("--trace: {e}")))?,
        ),
        _ => None,
    })
}

/// No ACS URL: the embedded ACS, in this process, on loopback.
async fn embedded_acs(
    s: &Scenario,
    cancel: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<Option<acs::AcsHandle>> {
    if s.acs.url.is_some() {
        return Ok(None);
    }
    let policy = match &s.acs.policy {
        Some(p) => Policy::load(p).map_err(|e| InputError(e.to_string()))?,
        None => Policy::from_arg("null").map_err(|e| InputError(e.to_string()))?,
    };
    let mut cfg = AcsConfig::new(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), policy);
    cfg.xmpp = embedded_xmpp(s);
    Ok(Some(acs::start(cfg, cancel.child_token()).await?))
}

/// Groups in XMPP component mode with `server: embedded`: the embedded ACS accepts their
/// component connection (with the first such group's secret).
fn embedded_xmpp(s: &Scenario) -> Option<acs::xmpp::XmppGatewayConfig> {
    use crate::scenario::xmpp::XmppMode;
    s.groups.iter().find_map(|g| match g.xmpp.as_ref()? {
        p @ crate::scenario::xmpp::XmppPlan { server: None, .. } => match &p.mode {
            XmppMode::Component { secret } => Some(acs::xmpp::XmppGatewayConfig {
                listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                secret: secret.clone(),
            }),
            XmppMode::Client { .. } => None,
        },
        _ => None,
    })
}

/// Points `server: embedded` groups at the embedded ACS's component port.
fn attach_embedded_xmpp(s: &mut Scenario, acs: Option<&acs::AcsHandle>) -> anyhow::Result<()> {
    let addr = acs.and_then(acs::AcsHandle::xmpp_addr);
    for g in &mut s.groups {
        if let Some(plan) = g.xmpp.as_mut().filter(|p| p.server.is_none()) {
            let a = addr.ok_or_else(|| {
                InputError(format!(
                    "group {}: xmpp server: embedded needs the embedded ACS (no acs.url)",
                    g.name
                ))
            })?;
            plan.server = Some(a);
        }
    }
    Ok(())
}

/// The Prometheus exporter for `--metrics-listen`, until `stop`.
async fn metrics_exporter(
    addr: std::net::SocketAddr,
    live: &std::sync::Arc<crate::metrics::stats::Live>,
    devices: u64,
    stop: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<()> {
    let bound = crate::metrics::exporter::serve(addr, live.clone(), devices, stop.clone())
        .await
        // A listener that cannot bind is a failure of the run (exit 1), not bad input.
        .map_err(|e| anyhow::anyhow!("--metrics-listen: {e}"))?;
    eprintln!("metrics at http://{bound}/metrics");
    Ok(())
}

/// The embedded ACS's view of the run, in one line.
pub(super) fn print_embedded_status(h: &acs::AcsHandle) {
    let st = h.status();
    let ended: Vec<String> = st
        .sessions
        .ended
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    println!(
        "embedded ACS: {} sessions ({}), {} devices known",
        st.sessions.started,
        ended.join(", "),
        st.devices.known
    );
    if !st.connection_requests.is_empty() {
        let pairs = |m: &std::collections::BTreeMap<String, u64>| {
            m.iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "embedded ACS: connection requests sent by transport ({}), by result ({})",
            pairs(&st.connection_requests_by_transport),
            pairs(&st.connection_requests)
        );
    }
}
