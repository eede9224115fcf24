//! Diagnostics that produce results (TR-143, TR-181 `Device.IP.Diagnostics.`, TR-098
//! `InternetGatewayDevice.IPPingDiagnostics.` and friends): when a requested test ends, its
//! result parameters are written from a per-group [`DiagnosticsModel`] (latency, jitter, loss,
//! hops, throughput), each draw a function of (run seed, device, test ordinal), never of a
//! clock. Pure: the session layer decides when a test ends and calls [`DeviceView::finish_diagnostic`].

use std::time::Duration;

use crate::cwmp::DateTime;
use crate::device::rpc::objects::By;
use crate::device::view::DeviceView;
use crate::seed;

/// Which test an object runs, by its last path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    IpPing,
    TraceRoute,
    Download,
    Upload,
}

impl Kind {
    /// "Device.IP.Diagnostics.IPPing." / "InternetGatewayDevice.IPPingDiagnostics." → IpPing …
    pub fn of(object: &str) -> Option<Kind> {
        let last = object.trim_end_matches('.').rsplit('.').next()?;
        Some(match last {
            "IPPing" | "IPPingDiagnostics" => Kind::IpPing,
            "TraceRoute" | "TraceRouteDiagnostics" => Kind::TraceRoute,
            "DownloadDiagnostics" => Kind::Download,
            "UploadDiagnostics" => Kind::Upload,
            _ => return None,
        })
    }
}

/// What a group's network looks like to its diagnostics (the scenario's `diagnostics:`).
#[derive(Debug, Clone, PartialEq)]
pub struct DiagnosticsModel {
    /// Mean round-trip time to a test host.
    pub latency: Duration,
    /// Each round trip is `latency ± jitter` (uniform).
    pub jitter: Duration,
    /// Share of pings lost.
    pub loss: f64,
    /// Hops to a TraceRoute host.
    pub hops: u32,
    /// Download and upload throughput, bytes per second.
    pub download_rate: u64,
    pub upload_rate: u64,
    /// Bytes a DownloadDiagnostics test file holds.
    pub download_size: u64,
    /// Simulated time a test takes before `8 DIAGNOSTICS COMPLETE`.
    pub duration: Duration,
    /// Measure Download/UploadDiagnostics for real when their URL is on loopback.
    pub measure_real: bool,
}

impl Default for DiagnosticsModel {
    fn default() -> Self {
        DiagnosticsModel {
            latency: Duration::from_millis(20),
            jitter: Duration::from_millis(5),
            loss: 0.0,
            hops: 8,
            download_rate: 6_250_000,
            upload_rate: 1_250_000,
            download_size: 10 << 20,
            duration: Duration::from_secs(5),
            measure_real: false,
        }
    }
}

/// A transfer test measured for real: bytes moved between two instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measured {
    pub bytes: u64,
    pub start: DateTime,
    pub end: DateTime,
}

/// The DiagnosticsState an interrupted test ends in: a reboot or an internal failure.
pub const INTERRUPTED: &str = "Error_Internal";

/// A Download/UploadDiagnostics test to run for real: the user asked for it (`measure:
/// real`) and its URL is on loopback, where nothing but this host is measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealTransfer {
    pub url: String,
    /// UploadDiagnostics: bytes to send (TestFileLength, at most [`MAX_REAL_UPLOAD`]).
    pub upload: Option<u64>,
}

/// Most bytes a real UploadDiagnostics sends (the embedded file server takes 16 MiB).
pub const MAX_REAL_UPLOAD: u64 = 16 << 20;

/// Whether `url`'s host is this machine (`localhost`, 127.0.0.0/8, ::1).
pub fn is_loopback(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host_port.split(':').next().unwrap_or(""),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl DeviceView<'_> {
    /// Ends the test of `object` ("…IPPing."): writes its results and its DiagnosticsState,
    /// which is returned ("Complete" or one of the data model's Error_ values). `measured`
    /// replaces the model's transfer figures when the test ran for real.
    pub fn finish_diagnostic(
        &mut self,
        object: &str,
        model: &DiagnosticsModel,
        measured: Option<Measured>,
    ) -> &'static str {
        let run = self.d.delta_mut().next_diagnostic_run();
        let mut dice = Dice {
            seed: self.env.seed ^ seed::fnv1a(object.as_bytes()),
            stream: u64::from(run),
            index: u64::from(self.d.index()),
            n: 0,
        };
        let state = match Kind::of(object) {
            Some(Kind::IpPing) => self.ping(object, model, &mut dice),
            Some(Kind::TraceRoute) => self.trace_route(object, model, &mut dice),
            Some(Kind::Download) => self.transfer_test(object, model, &mut dice, measured, true),
            Some(Kind::Upload) => self.transfer_test(object, model, &mut dice, measured, false),
            None => INTERRUPTED,
        };
        self.end_state(object, state)
    }

    /// A test that could not finish (the device rebooted during it).
    pub fn interrupt_diagnostic(&mut self, object: &str) {
        self.end_state(object, INTERRUPTED);
    }

    /// Writes the DiagnosticsState a test ended in, as the object's data model spells it
    /// (returned): TR-098's Download/UploadDiagnostics say `Completed` where TR-181 and
    /// TR-098's ping and trace route say `Complete` (tr-098-1-8-0), and TR-098's transfer tests
    /// have no `Error_Internal`, so an interrupted one reports its model's transfer failure.
    fn end_state(&mut self, object: &str, state: &'static str) -> &'static str {
        let allowed = self.allowed(&format!("{object}DiagnosticsState"));
        let admits = |s: &str| allowed.is_empty() || allowed.iter().any(|a| a == s);
        let alternatives: &[&'static str] = match state {
            "Complete" => &["Completed"],
            INTERRUPTED => &[
                "Error_TransferFailed",
                "Error_NoTransferComplete",
                "Error_Other",
            ],
            "Error_Timeout" => &["Error_NoTransferComplete"],
            _ => &[],
        };
        let state = if admits(state) {
            state
        } else {
            alternatives
                .iter()
                .copied()
                .find(|s| admits(s))
                .unwrap_or(state)
        };
        self.put(object, "DiagnosticsState", state);
        state
    }

    /// The values `path`'s enum admits (empty: any).
    fn allowed(&self, path: &str) -> Vec<String> {
        match self.lookup(path) {
            Some((crate::model::Node::Param(pid), _)) => self
                .t
                .param(pid)
                .map(|d| d.allowed.iter().map(|a| a.to_string()).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// The transfer `object`'s test makes for real, when the model says `real` and the URL
    /// is on loopback; None: the model's figures are used.
    pub fn real_transfer(&self, object: &str, model: &DiagnosticsModel) -> Option<RealTransfer> {
        if !model.measure_real {
            return None;
        }
        let (url, upload) = match Kind::of(object)? {
            Kind::Download => (self.input(object, "DownloadURL")?, None),
            Kind::Upload => (
                self.input(object, "UploadURL")?,
                Some(
                    self.input_u64(object, "TestFileLength")
                        .unwrap_or(1 << 20)
                        .min(MAX_REAL_UPLOAD),
                ),
            ),
            Kind::IpPing | Kind::TraceRoute => return None,
        };
        is_loopback(&url).then_some(RealTransfer { url, upload })
    }

    /// A real transfer test failed with a TR-069 transfer fault `code`: its DiagnosticsState
    /// (TR-181 Download/UploadDiagnostics error states), which is returned.
    pub fn transfer_test_failed(&mut self, object: &str, code: u32) -> &'static str {
        let state = match code {
            9015 => "Error_InitConnectionFailed",
            9017 => "Error_Timeout",
            9012 => "Error_LoginFailed",
            _ => "Error_TransferFailed",
        };
        self.end_state(object, state)
    }

    /// Writes a result; a parameter the template lacks (TR-098 has no `…Detailed`) is skipped.
    fn put(&mut self, object: &str, name: &str, value: &str) {
        let _ = self.set_local(&format!("{object}{name}"), value);
    }

    fn input(&self, object: &str, name: &str) -> Option<String> {
        self.get(&format!("{object}{name}")).map(|p| p.value)
    }

    fn input_u64(&self, object: &str, name: &str) -> Option<u64> {
        self.input(object, name).and_then(|v| v.parse().ok())
    }

    /// TR-181 IPPing / TR-098 IPPingDiagnostics.
    fn ping(&mut self, object: &str, m: &DiagnosticsModel, dice: &mut Dice) -> &'static str {
        if self
            .input(object, "Host")
            .unwrap_or_default()
            .trim()
            .is_empty()
        {
            return "Error_CannotResolveHostName";
        }
        let reps = self
            .input_u64(object, "NumberOfRepetitions")
            .unwrap_or(4)
            .clamp(1, 10_000);
        let mut rtts_us = Vec::new();
        for _ in 0..reps {
            if dice.next() >= m.loss {
                rtts_us.push(rtt_us(m, dice.next()));
            }
        }
        let ok = rtts_us.len() as u64;
        let (min, max, avg) = match ok {
            0 => (0, 0, 0),
            _ => (
                rtts_us.iter().copied().min().unwrap_or(0),
                rtts_us.iter().copied().max().unwrap_or(0),
                rtts_us.iter().sum::<u64>() / ok,
            ),
        };
        let ms = |us: u64| (us / 1000).to_string();
        self.put(object, "SuccessCount", &ok.to_string());
        self.put(object, "FailureCount", &(reps - ok).to_string());
        self.put(object, "AverageResponseTime", &ms(avg));
        self.put(object, "MinimumResponseTime", &ms(min));
        self.put(object, "MaximumResponseTime", &ms(max));
        self.put(object, "AverageResponseTimeDetailed", &avg.to_string());
        self.put(object, "MinimumResponseTimeDetailed", &min.to_string());
        self.put(object, "MaximumResponseTimeDetailed", &max.to_string());
        "Complete"
    }

    /// TR-181 TraceRoute / TR-098 TraceRouteDiagnostics: one RouteHops instance per hop.
    fn trace_route(&mut self, object: &str, m: &DiagnosticsModel, dice: &mut Dice) -> &'static str {
        let host = self.input(object, "Host").unwrap_or_default();
        if host.trim().is_empty() {
            return "Error_CannotResolveHostName";
        }
        let max = self.input_u64(object, "MaxHopCount").unwrap_or(30) as u32;
        let tries = self
            .input_u64(object, "NumberOfTries")
            .unwrap_or(3)
            .clamp(1, 3);
        let table = format!("{object}RouteHops.");
        for n in self.instance_numbers(&table) {
            let _ = self.delete_instance(&format!("{table}{n}."), By::Device);
        }
        let hops = m.hops.clamp(1, max.max(1));
        let mut total_us = 0;
        for hop in 1..=hops {
            let Ok(i) = self.add_instance(&table, By::Device) else {
                break;
            };
            // Each hop is a little further than the last; the last is the host itself.
            let times: Vec<String> = (0..tries)
                .map(|_| {
                    let us = rtt_us(m, dice.next()) * u64::from(hop) / u64::from(hops);
                    total_us = us;
                    (us / 1000).max(1).to_string()
                })
                .collect();
            let (name, addr) = if hop == hops {
                (host.clone(), host.clone())
            } else {
                (format!("hop-{hop}.isp.example"), format!("10.{hop}.0.1"))
            };
            let at = format!("{table}{i}.");
            // TR-181 names, then TR-098's (`HopHost`, …); each model has only its own.
            for (name_181, name_098, v) in [
                ("Host", "HopHost", name.as_str()),
                ("HostAddress", "HopHostAddress", addr.as_str()),
                ("ErrorCode", "HopErrorCode", "0"),
                ("RTTimes", "HopRTTimes", &times.join(",")),
            ] {
                self.put(&at, name_181, v);
                self.put(&at, name_098, v);
            }
        }
        self.put(object, "RouteHopsNumberOfEntries", &hops.to_string());
        self.put(object, "ResponseTime", &(total_us / 1000).to_string());
        if m.hops > max {
            return "Error_MaxHopCountExceeded";
        }
        "Complete"
    }

    /// TR-143 DownloadDiagnostics / UploadDiagnostics: the transfer's times and byte counts.
    fn transfer_test(
        &mut self,
        object: &str,
        m: &DiagnosticsModel,
        dice: &mut Dice,
        measured: Option<Measured>,
        download: bool,
    ) -> &'static str {
        let url_param = if download { "DownloadURL" } else { "UploadURL" };
        let url = self.input(object, url_param).unwrap_or_default();
        if url
            .split_once("://")
            .is_none_or(|(_, rest)| rest.is_empty())
        {
            return "Error_InitConnectionFailed";
        }
        let rtt = rtt_us(m, dice.next()) as i64 / 1000;
        // Measured on loopback: no modelled round trip inside the measured span.
        let rtt = if measured.is_some() { 0 } else { rtt };
        let now = self.env.now.unix_ms();
        let (bytes, rom, eom) = match measured {
            Some(x) => (x.bytes, x.start.unix_ms(), x.end.unix_ms()),
            None => {
                let bytes = if download {
                    m.download_size
                } else {
                    self.input_u64(object, "TestFileLength").unwrap_or(1 << 20)
                };
                let rate = if download {
                    m.download_rate
                } else {
                    m.upload_rate
                }
                .max(1);
                let took = (bytes.saturating_mul(1000) / rate) as i64;
                (bytes, now - took - 2 * rtt, now)
            }
        };
        let at = |ms: i64| DateTime::from_unix_ms(ms).to_string();
        self.put(object, "TCPOpenRequestTime", &at(rom));
        self.put(object, "TCPOpenResponseTime", &at(rom + rtt));
        self.put(object, "ROMTime", &at(rom + rtt));
        self.put(object, "BOMTime", &at(rom + 2 * rtt));
        self.put(object, "EOMTime", &at(eom));
        // Request and response headers on top of the file itself.
        let total = (bytes + 400).to_string();
        if download {
            self.put(object, "TestBytesReceived", &bytes.to_string());
            self.put(object, "TotalBytesReceived", &total);
        } else {
            self.put(object, "TestBytesSent", &bytes.to_string());
            self.put(object, "TotalBytesSent", &total);
        }
        "Complete"
    }
}

/// One round trip in microseconds: `latency ± jitter` for a draw in `[0, 1)`.
fn rtt_us(m: &DiagnosticsModel, u: f64) -> u64 {
    let base = m.latency.as_micros() as f64;
    let spread = m.jitter.as_micros() as f64;
    (base + spread * (2.0 * u - 1.0)).max(1.0) as u64
}

/// The draws of one test: (seed ^ object, test ordinal, device) and a counter.
struct Dice {
    seed: u64,
    stream: u64,
    index: u64,
    n: u64,
}

impl Dice {
    fn next(&mut self) -> f64 {
        self.n += 1;
        seed::unit(self.seed ^ seed::mix(self.n), self.stream, self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_name_their_test_in_both_models() {
        assert_eq!(
            Kind::of("Device.IP.Diagnostics.IPPing."),
            Some(Kind::IpPing)
        );
        assert_eq!(
            Kind::of("InternetGatewayDevice.IPPingDiagnostics."),
            Some(Kind::IpPing)
        );
        assert_eq!(
            Kind::of("Device.IP.Diagnostics.TraceRoute."),
            Some(Kind::TraceRoute)
        );
        assert_eq!(
            Kind::of("InternetGatewayDevice.TraceRouteDiagnostics."),
            Some(Kind::TraceRoute)
        );
        assert_eq!(
            Kind::of("InternetGatewayDevice.DownloadDiagnostics."),
            Some(Kind::Download)
        );
        assert_eq!(
            Kind::of("Device.IP.Diagnostics.UploadDiagnostics."),
            Some(Kind::Upload)
        );
        assert_eq!(Kind::of("Device.IP.Diagnostics."), None);
    }

    #[test]
    fn loopback_urls() {
        for u in [
            "http://127.0.0.1:7567/f",
            "http://localhost/x",
            "https://[::1]:443/",
            "http://user:pw@127.0.0.2:80/a",
        ] {
            assert!(is_loopback(u), "{u}");
        }
        for u in [
            "http://10.0.0.1/f",
            "http://files.example.net/1MiB",
            "http://[2001:db8::1]/",
            "not a url",
        ] {
            assert!(!is_loopback(u), "{u}");
        }
    }

    #[test]
    fn round_trips_stay_within_the_jitter() {
        let m = DiagnosticsModel::default();
        assert_eq!(rtt_us(&m, 0.5), 20_000);
        assert_eq!(rtt_us(&m, 0.0), 15_000);
        assert!(rtt_us(&m, 0.999) <= 25_000);
    }
}
