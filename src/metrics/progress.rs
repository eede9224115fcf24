//! Live progress while a run goes: on a terminal an indicatif bar (phase, time left, devices
//! online, sessions/s, in flight, p50/p99 of the sessions just ended, errors); otherwise a
//! plain line every few seconds, for logs and CI. Off with `--quiet`.
//!
//! It only reads: the live atomics, and the latency window shards hand over every half
//! second (one lock per shard per interval, never per session).

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::metrics::stats::Live;
use crate::scenario::{Phase, PhaseKind};
use crate::units;

/// What the display needs to know about the run.
#[derive(Debug, Clone)]
pub struct ProgressSpec {
    pub duration: Duration,
    pub devices: u64,
    /// Phase starts and names, in order.
    pub phases: Vec<(Duration, &'static str)>,
}

impl ProgressSpec {
    pub fn new(duration: Duration, devices: u64, phases: &[Phase]) -> ProgressSpec {
        ProgressSpec {
            duration,
            devices,
            phases: phases
                .iter()
                .map(|p| (p.start, phase_name(&p.kind)))
                .collect(),
        }
    }

    /// The phase running at `elapsed`.
    pub fn phase_at(&self, elapsed: Duration) -> &'static str {
        if elapsed >= self.duration {
            return "draining";
        }
        self.phases
            .iter()
            .rev()
            .find(|(start, _)| *start <= elapsed)
            .map_or("starting", |(_, n)| n)
    }
}

pub fn phase_name(k: &PhaseKind) -> &'static str {
    k.name()
}

/// One reading of the live figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub elapsed: Duration,
    pub phase: &'static str,
    pub online: u64,
    pub devices: u64,
    pub started: u64,
    pub rate: f64,
    pub in_flight: u64,
    pub failed: u64,
    /// p50 and p99 (ms) of the sessions that ended since the last reading.
    pub p50_p99: Option<(f64, f64)>,
    pub left: Duration,
}

impl Reading {
    fn latency(&self) -> String {
        match self.p50_p99 {
            Some((a, b)) => format!("p50 {a:.1} ms  p99 {b:.1} ms"),
            None => "p50 -  p99 -".to_string(),
        }
    }

    /// The plain line (not a terminal).
    pub fn line(&self) -> String {
        format!(
            "[{:>6}] {}  online {}/{}  sessions {} ({:.1}/s)  in flight {}  {}  errors {}  left {}",
            units::fmt_duration(self.elapsed),
            self.phase,
            self.online,
            self.devices,
            self.started,
            self.rate,
            self.in_flight,
            self.latency(),
            self.failed,
            units::fmt_duration(self.left),
        )
    }

    /// The bar's message (the bar itself shows the phase and time).
    fn message(&self) -> String {
        format!(
            "online {}/{}  {:.1} sessions/s  in flight {}  {}  errors {}  left {}",
            self.online,
            self.devices,
            self.rate,
            self.in_flight,
            self.latency(),
            self.failed,
            units::fmt_duration(self.left),
        )
    }
}

struct Reader {
    live: Arc<Live>,
    spec: ProgressSpec,
    t0: Instant,
    last_started: u64,
    last_at: Instant,
}

impl Reader {
    fn read(&mut self) -> Reading {
        let now = Instant::now();
        let started = Live::get(&self.live.started);
        let dt = now.duration_since(self.last_at).as_secs_f64().max(1e-3);
        let rate = started.saturating_sub(self.last_started) as f64 / dt;
        self.last_started = started;
        self.last_at = now;
        let w = self.live.take_window();
        let elapsed = now.duration_since(self.t0);
        Reading {
            elapsed,
            phase: self.spec.phase_at(elapsed),
            online: Live::get(&self.live.online),
            devices: self.spec.devices,
            started,
            rate,
            in_flight: Live::get(&self.live.in_flight),
            failed: Live::get(&self.live.failed),
            p50_p99: (!w.is_empty()).then(|| {
                (
                    w.value_at_quantile(0.5) as f64 / 1000.0,
                    w.value_at_quantile(0.99) as f64 / 1000.0,
                )
            }),
            left: self.spec.duration.saturating_sub(elapsed),
        }
    }
}

/// Shows progress until `stop`; a terminal bar is cleared when it stops.
pub async fn run(live: Arc<Live>, spec: ProgressSpec, stop: CancellationToken) {
    let t0 = Instant::now();
    let tty = std::io::stderr().is_terminal();
    let mut reader = Reader {
        live,
        spec,
        t0,
        last_started: 0,
        last_at: t0,
    };
    let every = if tty {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(5)
    };
    let bar = tty.then(|| {
        let total = reader.spec.duration.as_millis() as u64;
        let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{prefix:>9} [{bar:24}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        b.set_style(style);
        b.set_prefix("starting");
        b
    });
    let mut tick = tokio::time::interval_at(t0 + every, every);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tick.tick() => {}
        }
        let r = reader.read();
        match &bar {
            Some(b) => {
                b.set_position(r.elapsed.as_millis() as u64);
                b.set_prefix(r.phase);
                b.set_message(r.message());
            }
            None => eprintln!("{}", r.line()),
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_phase_follows_the_timeline() {
        let spec = ProgressSpec {
            duration: Duration::from_secs(100),
            devices: 10,
            phases: vec![
                (Duration::ZERO, "boot"),
                (Duration::from_secs(10), "steady"),
                (Duration::from_secs(60), "rate"),
            ],
        };
        assert_eq!(spec.phase_at(Duration::from_secs(5)), "boot");
        assert_eq!(spec.phase_at(Duration::from_secs(10)), "steady");
        assert_eq!(spec.phase_at(Duration::from_secs(99)), "rate");
        assert_eq!(spec.phase_at(Duration::from_secs(100)), "draining");
    }

    #[test]
    fn a_reading_shows_latency_from_the_window() {
        let live = Arc::new(Live::default());
        live.started.store(50, std::sync::atomic::Ordering::Relaxed);
        {
            let mut w = live.window.lock().unwrap();
            for v in 1..=100u64 {
                w.record(v * 1000).unwrap();
            }
        }
        let t0 = Instant::now();
        let mut r = Reader {
            live: live.clone(),
            spec: ProgressSpec::new(Duration::from_secs(60), 10, &[]),
            t0,
            last_started: 0,
            last_at: t0,
        };
        let reading = r.read();
        let (p50, p99) = reading.p50_p99.unwrap();
        assert!(
            (p50 - 50.0).abs() < 0.1 && (p99 - 99.0).abs() < 0.1,
            "{p50} {p99}"
        );
        assert_eq!(reading.started, 50);
        assert!(reading.line().contains("p50 50.0 ms"));
        // The window was taken: the next reading has no latency until sessions end again.
        assert_eq!(r.read().p50_p99, None);
    }
}
