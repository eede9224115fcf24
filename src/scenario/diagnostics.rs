//! A group's `diagnostics:` section: the network its diagnostic tests see (TR-143 / TR-181
//! `IP.Diagnostics.`). Every value is a quantity that parses itself during deserialisation, so a
//! bad one is reported at its line and column; `measure` is `model` (default) or `real`.

use serde::Deserialize;

use crate::device::diagnostics::DiagnosticsModel;
use crate::units::{Dur, Share, Size};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiagnosticsSpec {
    /// Mean round-trip time (default 20ms).
    #[serde(default)]
    pub latency: Option<Dur>,
    /// Each round trip is latency ± jitter (default 5ms).
    #[serde(default)]
    pub jitter: Option<Dur>,
    /// Share of pings lost (default 0%).
    #[serde(default)]
    pub loss: Option<Share>,
    /// Hops to a TraceRoute host (default 8).
    #[serde(default)]
    pub hops: Option<u32>,
    /// Bytes per second a DownloadDiagnostics test gets (default 6MiB ≈ 50 Mbit/s).
    #[serde(default)]
    pub download_per_s: Option<Size>,
    /// Bytes per second an UploadDiagnostics test gets (default 1.25 MB ≈ 10 Mbit/s).
    #[serde(default)]
    pub upload_per_s: Option<Size>,
    /// The DownloadDiagnostics test file's size (default 10MiB).
    #[serde(default)]
    pub download_size: Option<Size>,
    /// How long a test takes, simulated (default 5s).
    #[serde(default)]
    pub duration: Option<Dur>,
    /// `real`: Download/UploadDiagnostics against a loopback URL are measured for real.
    #[serde(default)]
    pub measure: Measure,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Measure {
    #[default]
    Model,
    Real,
}

impl DiagnosticsSpec {
    /// The model, defaults filled in. A zero throughput would make a test last forever: it is
    /// refused with the key's name (the caller locates it).
    pub fn model(&self) -> Result<DiagnosticsModel, String> {
        let d = DiagnosticsModel::default();
        let rate = |v: Option<Size>, key: &str, default: u64| match v {
            Some(Size(0)) => Err(format!("diagnostics.{key}: must be more than 0")),
            Some(Size(n)) => Ok(n),
            None => Ok(default),
        };
        Ok(DiagnosticsModel {
            latency: self.latency.map_or(d.latency, |x| x.0),
            jitter: self.jitter.map_or(d.jitter, |x| x.0),
            loss: self.loss.map_or(d.loss, |x| x.0),
            hops: match self.hops {
                Some(0) => return Err("diagnostics.hops: must be 1 to 64".into()),
                Some(h) => h.min(64),
                None => d.hops,
            },
            download_rate: rate(self.download_per_s, "download_per_s", d.download_rate)?,
            upload_rate: rate(self.upload_per_s, "upload_per_s", d.upload_rate)?,
            download_size: self.download_size.map_or(d.download_size, |x| x.0),
            duration: self.duration.map_or(d.duration, |x| x.0),
            measure_real: self.measure == Measure::Real,
        })
    }
}
