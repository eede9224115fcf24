//! The arrival generators of `rate` and `churn` phases, drawn so that a device's arrivals are a
//! function of (seed, device, event ordinal) alone — not of how many shards or processes the
//! run has, nor of which shard a device landed in:
//!
//! - open-model arrivals (`rate`) are one fleet-wide process, the same in every shard: arrival
//!   k of phase n goes to device `event_below(seed, Arrivals, n, k, total)`, and each shard keeps
//!   the arrivals of its own devices (the others generate the same sequence and keep theirs);
//! - churn is a Poisson process per device (the rate is per device): device d's j-th gap is
//!   `event_exp(seed, stream, d, (n, j))` over its rate, held in a timer queue of one entry per
//!   device that has an arrival left in the phase (16 bytes each).

use super::*;

/// An open-model or churn generator active in this shard.
pub(super) enum Generator {
    /// One fleet-wide arrival process, replayed in every shard.
    Fleet {
        what: GenKind,
        arrivals: Arrivals,
        phase: u64,
        phase_start_ms: u64,
        /// The next arrival's number in the phase and its time.
        ordinal: u64,
        next_ms: Option<u64>,
    },
    /// One Poisson process per device of this shard.
    PerDevice {
        what: GenKind,
        stream: seed::Stream,
        phase: u64,
        /// Arrivals per device per real millisecond.
        per_ms: f64,
        end_ms: u64,
        /// Each device's next arrival; the entry's `gen` is its number in the phase.
        queue: TimerQueue,
    },
}

pub(super) enum GenKind {
    Session(EventCode),
    ValueChange(Option<String>),
    Reboot,
    /// An autonomous DU change of the unit at this URL (fleet/shard/software.rs).
    DuChange(Option<String>),
}

impl GenKind {
    fn clone_kind(&self) -> GenKind {
        match self {
            GenKind::Session(e) => GenKind::Session(e.clone()),
            GenKind::ValueChange(p) => GenKind::ValueChange(p.clone()),
            GenKind::Reboot => GenKind::Reboot,
            GenKind::DuChange(u) => GenKind::DuChange(u.clone()),
        }
    }
}

impl Generator {
    /// When this generator next fires (None: done).
    pub(super) fn next_ms(&self) -> Option<u64> {
        match self {
            Generator::Fleet { next_ms, .. } => *next_ms,
            Generator::PerDevice { queue, .. } => queue.next_due(),
        }
    }
}

/// One arrival: the slot it goes to (None: a device of another shard or process), when, what,
/// and its tag (phase, number).
struct Arrival {
    slot: Option<u32>,
    at: u64,
    what: GenKind,
    tag: (u64, u64),
}

/// The ordinal of a device's `j`-th churn event of phase `n`.
fn churn_ordinal(phase: u64, j: u32) -> u64 {
    (phase << 32) | u64::from(j)
}

impl Shard {
    /// A `rate` phase: the fleet-wide process, every arrival numbered.
    pub(super) fn start_rate(&mut self, n: u64, start: u64, len: Duration, kind: &PhaseKind) {
        let PhaseKind::Rate {
            from,
            to,
            poisson,
            event,
        } = kind
        else {
            return;
        };
        let mut arrivals = Arrivals::new(*from, *to, len, *poisson, self.ctx.seed ^ seed::mix(n));
        let next_ms = arrivals.next().map(|d| start + d.as_millis() as u64);
        self.generators.push(Generator::Fleet {
            what: GenKind::Session(event.clone()),
            arrivals,
            phase: n,
            phase_start_ms: start,
            ordinal: 0,
            next_ms,
        });
    }

    /// A `churn` phase: value changes, reboots and autonomous DU changes, a Poisson process
    /// per device for each.
    pub(super) fn start_churn(&mut self, n: u64, start: u64, len: Duration, kind: &PhaseKind) {
        let PhaseKind::Churn {
            value_changes_per_s,
            reboots_per_s,
            parameter,
            du_changes_per_s,
            du_url,
        } = kind
        else {
            return;
        };
        let end_ms = start + len.as_millis() as u64;
        for (rate, what, stream) in [
            (
                *value_changes_per_s,
                GenKind::ValueChange(parameter.clone()),
                seed::Stream::ValueChanges,
            ),
            (*reboots_per_s, GenKind::Reboot, seed::Stream::Reboots),
            (
                *du_changes_per_s,
                GenKind::DuChange(du_url.clone()),
                seed::Stream::DuChanges,
            ),
        ] {
            if rate <= 0.0 {
                continue;
            }
            // Per device per simulated second → per real millisecond.
            let per_ms = rate * self.ctx.time_scale / 1000.0;
            let mut queue = TimerQueue::with_capacity(self.slots.len());
            for slot in 0..self.slots.len() as u32 {
                let index = u64::from(self.index_of(slot));
                let gap = seed::event_exp(self.ctx.seed, stream, index, churn_ordinal(n, 0));
                let at = start + (gap / per_ms) as u64;
                if at < end_ms {
                    queue.push(at, slot, 0, |_, _| true);
                }
            }
            self.generators.push(Generator::PerDevice {
                what,
                stream,
                phase: n,
                per_ms,
                end_ms,
                queue,
            });
        }
    }

    pub(super) fn fire_generators(&mut self, now: u64) {
        for gi in 0..self.generators.len() {
            while let Some(a) = self.next_arrival(gi, now) {
                if let Some(slot) = a.slot {
                    self.arrival(slot, a.at, a.what, a.tag);
                }
            }
        }
        self.generators.retain(|g| g.next_ms().is_some());
    }

    /// Generator `gi`'s next arrival due at `now`, the generator advanced past it.
    fn next_arrival(&mut self, gi: usize, now: u64) -> Option<Arrival> {
        let (seed, total) = (self.ctx.seed, self.ctx.total.max(1));
        match &mut self.generators[gi] {
            Generator::Fleet {
                what,
                arrivals,
                phase,
                phase_start_ms,
                ordinal,
                next_ms,
            } => {
                let at = next_ms.filter(|t| *t <= now)?;
                let k = *ordinal;
                *ordinal += 1;
                *next_ms = arrivals
                    .next()
                    .map(|d| *phase_start_ms + d.as_millis() as u64);
                let index = seed::event_below(seed, seed::Stream::Arrivals, *phase, k, total);
                let (what, tag) = (what.clone_kind(), (*phase, k));
                Some(Arrival {
                    slot: self.slot_of(index),
                    at,
                    what,
                    tag,
                })
            }
            Generator::PerDevice {
                what,
                stream,
                phase,
                per_ms,
                end_ms,
                queue,
            } => {
                let e = queue.pop_due(now)?;
                let j = e.gen + 1;
                let index = self.ctx.first + self.id + e.slot * self.ctx.shards.max(1);
                let gap =
                    seed::event_exp(seed, *stream, u64::from(index), churn_ordinal(*phase, j));
                let next = e.due_ms + (gap / *per_ms) as u64;
                if next < *end_ms {
                    // One entry per device at any time: none is ever stale.
                    queue.push(next, e.slot, j, |_, _| true);
                }
                Some(Arrival {
                    slot: Some(e.slot),
                    at: e.due_ms,
                    what: what.clone_kind(),
                    tag: (*phase, u64::from(e.gen)),
                })
            }
        }
    }
}
