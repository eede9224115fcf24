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
            counter!(names::CONNECTION_REQUESTS_TOTAL, "result" => r.label()).absolute(l.cr.get(r));
        }
        self.handle.run_upkeep();
        self.handle.render()
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
