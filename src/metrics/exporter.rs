//! The Prometheus endpoint (`--metrics-listen ADDR`): installs the global recorder
//! (metrics-exporter-prometheus, explicit buckets so histograms are real Prometheus
//! histograms) and serves `GET /metrics` with hyper.
//!
//! The endpoint is ours rather than the exporter crate's listener so that the bound address is
//! known (port 0 works) and gauges are read from the live atomics at scrape time: devices by
//! state and sessions in flight are exact at the moment Prometheus asks, with no polling task.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ::metrics::{counter, gauge};
use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::cr::CrResult;
use crate::metrics::stats::Live;
use crate::net::ServeOptions;

use super::names;

#[derive(Debug, thiserror::Error)]
pub enum ExporterError {
    #[error("metrics listener {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("Prometheus recorder: {0}")]
    Recorder(String),
}

impl ExporterError {
    pub fn label(&self) -> &'static str {
        match self {
            ExporterError::Listen { .. } => "metrics_listen",
            ExporterError::Recorder(_) => "metrics_recorder",
        }
    }
}

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the global recorder once per process (later calls reuse it) and returns its
/// handle. From then on, shards created record into it.
pub fn install() -> Result<PrometheusHandle, ExporterError> {
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    let mut b = PrometheusBuilder::new();
    for (name, buckets) in names::HISTOGRAMS {
        b = b
            .set_buckets_for_metric(Matcher::Full(name.to_string()), buckets)
            .map_err(|e| ExporterError::Recorder(e.to_string()))?;
    }
    let recorder = b.build_recorder();
    let handle = recorder.handle();
    ::metrics::set_global_recorder(recorder).map_err(|e| ExporterError::Recorder(e.to_string()))?;
    names::describe();
    super::set_enabled();
    let _ = HANDLE.set(handle.clone());
    Ok(handle)
}

/// What a scrape reads besides the recorder.
struct Scrape {
    handle: PrometheusHandle,
    live: Arc<Live>,
    devices: u64,
}

impl Scrape {
    /// Gauges and listener counters from the live atomics, then the exposition text.
    fn render(&self) -> String {
        let l = &self.live;
        let online = Live::get(&l.online).min(self.devices);
        let in_session = Live::get(&l.in_flight);
        let queued = Live::get(&l.queued);
        let idle = online.saturating_sub(in_session + queued);
        for (state, v) in
            names::DEVICE_STATES
                .iter()
                .zip([self.devices - online, idle, queued, in_session])
        {
            gauge!(names::DEVICES, "state" => *state).set(v as f64);
        }
        gauge!(names::SESSIONS_IN_FLIGHT).set(in_session as f64);
        for r in CrResult::ALL {
            counter!(names::CONNECTION_REQUESTS_TOTAL, "transport" => "http", "result" => r.label())
                .absolute(l.cr.get(r));
        }
        udp_metrics(&l.udp);
        xmpp_metrics(&l.xmpp);
        self.handle.run_upkeep();
        self.handle.render()
    }
}

/// The UDP side: requests by result (accepted or the rejection reason), STUN keep-alives.
fn udp_metrics(u: &crate::cr::udp::UdpStats) {
    use crate::cr::udp::{UdpCrReject, UdpStats};
    let g = UdpStats::get;
    let udp = |result: &'static str| counter!(names::CONNECTION_REQUESTS_TOTAL, "transport" => "udp", "result" => result);
    udp("accepted").absolute(g(&u.accepted));
    for r in UdpCrReject::ALL {
        udp(r.label()).absolute(u.rejected(r));
    }
    for (kind, c) in [
        ("request", &u.stun_requests),
        ("response", &u.stun_responses),
        ("error", &u.stun_errors),
        ("retransmit", &u.stun_retransmits),
        ("timeout", &u.stun_timeouts),
        ("stray", &u.stun_stray),
        ("binding_change", &u.binding_changes),
        ("late_keepalive", &u.keepalive_late),
        ("overflow", &u.overflow),
    ] {
        counter!(names::STUN_TOTAL, "kind" => kind).absolute(g(c));
    }
    gauge!(names::STUN_KEEPALIVE_LAG_MAX).set(g(&u.keepalive_lag_ms_max) as f64 / 1000.0);
}

/// The XMPP side: IQs by result (accepted or the refusal's reason), connection state.
fn xmpp_metrics(x: &crate::cr::xmpp::XmppStats) {
    use crate::cr::xmpp::XmppCrResult;
    use std::sync::atomic::Ordering::Relaxed;
    for r in XmppCrResult::ALL {
        counter!(names::CONNECTION_REQUESTS_TOTAL, "transport" => "xmpp", "result" => r.label())
            .absolute(x.get(r));
    }
    gauge!(names::XMPP_CONNECTIONS).set(x.connected.load(Relaxed).max(0) as f64);
    for (kind, c) in [
        ("login", &x.logins),
        ("disconnect", &x.disconnects),
        ("login_refused", &x.auth_failures),
        ("keep_alive", &x.keep_alives),
    ] {
        counter!(names::XMPP_TOTAL, "kind" => kind).absolute(c.load(Relaxed));
    }
}

/// Installs the recorder and serves `/metrics` on `listen` until `cancel`; returns the bound
/// address.
pub async fn serve(
    listen: SocketAddr,
    live: Arc<Live>,
    devices: u64,
    cancel: CancellationToken,
) -> Result<SocketAddr, ExporterError> {
    let handle = install()?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| ExporterError::Listen {
            addr: listen,
            source,
        })?;
    let bound = listener
        .local_addr()
        .map_err(|source| ExporterError::Listen {
            addr: listen,
            source,
        })?;
    let scrape = Arc::new(Scrape {
        handle,
        live,
        devices,
    });
    let opts = ServeOptions {
        header_timeout: Some(Duration::from_secs(10)),
        accept_backoff: Duration::from_millis(50),
        ..ServeOptions::default()
    };
    tokio::spawn(crate::net::serve(listener, opts, cancel, move || {
        let scrape = scrape.clone();
        service_fn(move |req| {
            let scrape = scrape.clone();
            async move { Ok::<_, Infallible>(answer(&scrape, &req)) }
        })
    }));
    Ok(bound)
}

fn answer(scrape: &Scrape, req: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let (status, ctype, body) = match (req.method(), req.uri().path()) {
        (&Method::GET, "/metrics") => (
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            scrape.render(),
        ),
        (&Method::GET, "/") => (
            StatusCode::OK,
            "text/plain; charset=utf-8",
            "cpefleet: metrics at /metrics\n".to_string(),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found\n".to_string(),
        ),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    if let Ok(v) = http::HeaderValue::from_str(ctype) {
        resp.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    resp
}
