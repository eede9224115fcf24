//! The run over time: per interval, sessions started, finished and failed, and the session
//! latencies of the sessions that finished in it (raw and from the intended start). This is
//! what the HTML report plots.
//!
//! Bounded whatever the run's length: intervals start at one second and, when a run outgrows
//! [`MAX_INTERVALS`], neighbours are merged pairwise and the width doubles. Widths are always
//! one second times a power of two, so two timelines (shards, or processes of a distributed
//! run) merge exactly by coarsening the finer one first. Interval histograms have one
//! significant digit (about 6 % resolution, plenty for a plot, ~1 KiB each); the exact figures
//! are in the run's full histograms.

use hdrhistogram::Histogram;

/// At most this many intervals are kept.
pub const MAX_INTERVALS: usize = 600;
const BASE_WIDTH_MS: u64 = 1000;

/// A small per-interval latency histogram (µs, one significant digit, grows as needed).
pub fn interval_histogram() -> Histogram<u32> {
    Histogram::new(1).unwrap_or_else(|_| unreachable!("1 significant figure is valid"))
}

fn record(h: &mut Histogram<u32>, d: std::time::Duration) {
    // Clamped to an hour, then recorded with growth (saturating_record would clamp to the
    // current, tiny, range of an auto-resizing histogram).
    let us = (d.as_micros().min(3_600_000_000) as u64).max(1);
    let _ = h.record(us);
}

/// One interval's figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Interval {
    pub started: u64,
    pub finished: u64,
    pub failed: u64,
    /// Session time of the sessions that ended in the interval (µs); `None` while empty.
    pub latency: Option<Histogram<u32>>,
    /// The same sessions measured from their intended start.
    pub intended: Option<Histogram<u32>>,
}

impl Interval {
    fn add(&mut self, o: &Interval) {
        self.started += o.started;
        self.finished += o.finished;
        self.failed += o.failed;
        for (mine, theirs) in [
            (&mut self.latency, &o.latency),
            (&mut self.intended, &o.intended),
        ] {
            if let Some(t) = theirs {
                let _ = mine.get_or_insert_with(interval_histogram).add(t);
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    width_ms: u64,
    intervals: Vec<Interval>,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            width_ms: BASE_WIDTH_MS,
            intervals: Vec::new(),
        }
    }
}

impl Timeline {
    /// Rebuilds a timeline from its parts (a report read back); the width is rounded up to one
    /// second times a power of two and the intervals coarsened to fit.
    pub fn from_parts(width_ms: u64, intervals: Vec<Interval>) -> Timeline {
        let mut t = Timeline {
            width_ms: BASE_WIDTH_MS,
            intervals,
        };
        while t.width_ms < width_ms {
            t.width_ms *= 2;
        }
        while t.intervals.len() > MAX_INTERVALS {
            t.coarsen();
        }
        t
    }

    pub fn width_ms(&self) -> u64 {
        self.width_ms
    }

    pub fn intervals(&self) -> &[Interval] {
        &self.intervals
    }

    pub fn total_started(&self) -> u64 {
        self.intervals.iter().map(|i| i.started).sum()
    }

    fn at(&mut self, at_ms: u64) -> &mut Interval {
        while at_ms / self.width_ms >= MAX_INTERVALS as u64 {
            self.coarsen();
        }
        let i = (at_ms / self.width_ms) as usize;
        if self.intervals.len() <= i {
            self.intervals.resize_with(i + 1, Interval::default);
        }
        &mut self.intervals[i]
    }

    /// Doubles the width, merging neighbours.
    fn coarsen(&mut self) {
        let old = std::mem::take(&mut self.intervals);
        let mut it = old.into_iter();
        while let Some(mut a) = it.next() {
            if let Some(b) = it.next() {
                a.add(&b);
            }
            self.intervals.push(a);
        }
        self.width_ms *= 2;
    }

    pub fn started(&mut self, at_ms: u64) {
        self.at(at_ms).started += 1;
    }

    pub fn finished(
        &mut self,
        at_ms: u64,
        failed: bool,
        took: std::time::Duration,
        from_due: std::time::Duration,
    ) {
        let i = self.at(at_ms);
        i.finished += 1;
        i.failed += u64::from(failed);
        record(i.latency.get_or_insert_with(interval_histogram), took);
        record(i.intended.get_or_insert_with(interval_histogram), from_due);
    }

    /// A session that ended without a report (aborted or panicked): counted, no latency.
    pub fn lost(&mut self, at_ms: u64, failed: bool) {
        let i = self.at(at_ms);
        i.finished += 1;
        i.failed += u64::from(failed);
    }

    /// Adds another timeline (same origin), exactly.
    pub fn merge(&mut self, o: &Timeline) {
        let mut other = o.clone();
        while other.width_ms < self.width_ms {
            other.coarsen();
        }
        while self.width_ms < other.width_ms {
            self.coarsen();
        }
        if self.intervals.len() < other.intervals.len() {
            self.intervals
                .resize_with(other.intervals.len(), Interval::default);
        }
        for (mine, theirs) in self.intervals.iter_mut().zip(&other.intervals) {
            mine.add(theirs);
        }
        while self.intervals.len() > MAX_INTERVALS {
            self.coarsen();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn counts_land_in_their_second() {
        let mut t = Timeline::default();
        t.started(10);
        t.started(999);
        t.started(1000);
        t.finished(2500, true, ms(5), ms(7));
        assert_eq!(t.width_ms(), 1000);
        let i = t.intervals();
        assert_eq!(
            (i[0].started, i[1].started, i[2].finished, i[2].failed),
            (2, 1, 1, 1)
        );
        assert!(i[0].latency.is_none());
        let h = i[2].latency.as_ref().unwrap();
        assert_eq!(h.len(), 1);
        assert!(h.equivalent(h.max(), 5000), "{}", h.max());
    }

    #[test]
    fn long_runs_coarsen_and_stay_bounded() {
        let mut t = Timeline::default();
        for s in 0..3000u64 {
            t.started(s * 1000);
        }
        assert!(t.intervals().len() <= MAX_INTERVALS);
        assert_eq!(
            t.width_ms(),
            8000,
            "3000 s in at most 600 intervals of 2^k s"
        );
        assert_eq!(t.total_started(), 3000, "nothing lost by coarsening");
        assert_eq!(t.intervals()[0].started, 8);
    }

    #[test]
    fn merging_timelines_of_different_widths_is_exact() {
        let mut whole = Timeline::default();
        let mut a = Timeline::default();
        let mut b = Timeline::default();
        for s in 0..1500u64 {
            whole.finished(s * 1000, false, ms(s % 50 + 1), ms(s % 50 + 2));
            // `a` sees only the first 100 s: it stays at 1 s intervals.
            if s < 100 {
                a.finished(s * 1000, false, ms(s % 50 + 1), ms(s % 50 + 2));
            } else {
                b.finished(s * 1000, false, ms(s % 50 + 1), ms(s % 50 + 2));
            }
        }
        assert!(a.width_ms() < b.width_ms());
        a.merge(&b);
        assert_eq!(a, whole);
    }
}
