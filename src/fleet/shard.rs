//! One shard of the fleet: a single task owning a slice of the devices (index % shards), their
//! timer queue, a bounded inbox, and the sessions and transfers it started.
//!
//! Idle devices are plain data in a `Vec`; a session exists only while it runs, bounded by the
//! shard's share of `--max-sessions`. A device due while the shard is at its cap waits in the
//! ready queue and the wait is measured (schedule lag), which is how a report tells "the ACS is
//! slow" apart from "the simulator is saturated". Sessions check their device out by move and
//! return it with their report; nothing is locked.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rand::Rng;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;

use crate::cwmp::{DateTime, EventCode, TransferCompleteFaultStruct};
use crate::device::{Device, DeviceView, Effect, Env};
use crate::model::Template;
use crate::scenario::plan::{self, Arrivals, PhaseKind};
use crate::session::retry::RetryPolicy;
use crate::session::trace::Trace;
use crate::session::transfer::{self, TransferFault};
use crate::session::{SessionConfig, SessionReport};

use super::cpe::Cpe;
use super::life::{self, Life};
use super::stats::{SessionEnd, ShardStats};
use super::timer::TimerQueue;
use super::FleetCtx;

/// Messages to a shard (bounded inbox; a full inbox is a counted 503 at the listener).
#[derive(Debug)]
pub enum ShardMsg {
    ConnectionRequest { index: u32, at: Instant },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Off,
    Idle,
    /// Due, waiting for a session slot.
    Queued,
    InSession,
    Rebooting,
}

/// Slot flags.
const ACS_SET_PERIODIC: u8 = 1;
/// Power was lost while the session ran: the device goes off when it returns.
const POWER_LOST: u8 = 2;
/// The device has bootstrapped with this ACS at least once.
const BOOTSTRAPPED: u8 = 4;

/// One device in the shard.
struct Slot {
    device: Device,
    life: Life,
    /// Next periodic inform, ms since the fleet started (real time); u64::MAX = none.
    periodic_due: u64,
    gen: u32,
    state: State,
    flags: u8,
    group: u16,
}

/// Size of a device's slot (for memory estimates).
pub fn slot_bytes() -> usize {
    std::mem::size_of::<Slot>()
}

/// Rare per-device state, kept only while it exists: an entry left empty is removed (see
/// [`Shard::tidy_side`]), or every device that ever had a session would pay a map entry
/// (~90-190 bytes with the table's slack) for nothing.
#[derive(Default)]
struct Side {
    reboot_key: Option<String>,
    /// Real-time due (ms) and what fires.
    timers: Vec<(u64, Pending)>,
    cr_at: Option<Instant>,
    due_ms: Option<u64>,
    /// Events that arrived while the device was checked out for a session (its Life is in
    /// the session task): merged when it comes back, then a new session starts (R5.6).
    held: Vec<EventCode>,
}

impl Side {
    fn is_empty(&self) -> bool {
        self.reboot_key.is_none()
            && self.timers.is_empty()
            && self.cr_at.is_none()
            && self.due_ms.is_none()
    }
}

enum Pending {
    /// The TR-069 retry wait after a failed session is over: a session is due even with no
    /// event left (a failure after the InformResponse still owes the ACS a session).
    Retry,
    ScheduleInform(String),
    Download(crate::cwmp::Download),
    Upload(crate::cwmp::Upload),
    Diagnostics(String),
    /// A finished transfer waiting `apply_delay` before it takes effect.
    Apply {
        firmware: bool,
        key: String,
        method: EventCode,
        fault: TransferCompleteFaultStruct,
        start: DateTime,
        complete: DateTime,
        version: Option<String>,
    },
}

enum TaskResult {
    Session {
        slot: u32,
        cpe: Box<Cpe>,
        /// Boxed: the report (with its per-session check counts) dwarfs the other variant.
        report: Box<SessionReport>,
        due_ms: u64,
        /// When the connection request that made the device due arrived.
        cr_at: Option<Instant>,
        /// When the session itself began (after any impairment) and ended.
        began: Instant,
        ended: Instant,
    },
    Transfer {
        slot: u32,
        upload: bool,
        key: String,
        firmware: bool,
        version: Option<String>,
        result: Result<u64, TransferFault>,
        start: DateTime,
    },
}

/// An open-model or churn generator active in this shard.
struct Generator {
    what: GenKind,
    arrivals: Arrivals,
    phase_start_ms: u64,
    next_ms: Option<u64>,
    rng: rand::rngs::SmallRng,
}

enum GenKind {
    Session(EventCode),
    ValueChange(Option<String>),
    Reboot,
}

pub struct Shard {
    id: u32,
    ctx: Arc<FleetCtx>,
    slots: Vec<Slot>,
    side: HashMap<u32, Side>,
    timers: TimerQueue,
    ready: VecDeque<u32>,
    tasks: JoinSet<TaskResult>,
    sessions: usize,
    cap: usize,
    inbox: mpsc::Receiver<ShardMsg>,
    stats: ShardStats,
    phases_applied: usize,
    generators: Vec<Generator>,
    session_seq: u64,
    churn_seq: u64,
}

impl Shard {
    pub fn new(id: u32, ctx: Arc<FleetCtx>, inbox: mpsc::Receiver<ShardMsg>) -> Shard {
        let shards = ctx.shards.max(1);
        let mut slots = Vec::new();
        let mut local = id;
        while local < ctx.count {
            let index = ctx.first + local;
            let g = ctx.group_of(index);
            let tid = ctx.groups[g].template_id;
            slots.push(Slot {
                device: Device::with_template(index, tid),
                life: Life::default(),
                periodic_due: u64::MAX,
                gen: 0,
                state: State::Off,
                flags: if ctx.groups[g].bootstrapped {
                    BOOTSTRAPPED
                } else {
                    0
                },
                group: g as u16,
            });
            local += shards;
        }
        let cap = (ctx.max_sessions / shards as usize).max(1);
        Shard {
            id,
            timers: TimerQueue::with_capacity(slots.len()),
            slots,
            side: HashMap::new(),
            ready: VecDeque::new(),
            tasks: JoinSet::new(),
            sessions: 0,
            cap,
            inbox,
            stats: ShardStats::default(),
            phases_applied: 0,
            generators: Vec::new(),
            session_seq: 0,
            churn_seq: 0,
            ctx,
        }
    }

    fn index_of(&self, slot: u32) -> u32 {
        self.ctx.first + self.id + slot * self.ctx.shards.max(1)
    }

    fn slot_of(&self, index: u32) -> Option<u32> {
        let local = index.checked_sub(self.ctx.first)?;
        let shards = self.ctx.shards.max(1);
        (local % shards == self.id).then_some(local / shards)
    }

    fn now_ms(&self) -> u64 {
        self.ctx.started.elapsed().as_millis() as u64
    }

    fn at(&self, ms: u64) -> Instant {
        self.ctx.started + Duration::from_millis(ms)
    }

    fn template(&self, slot: u32) -> &Arc<Template> {
        &self.ctx.groups[self.slots[slot as usize].group as usize].template
    }

    /// Drops the device's side entry once nothing is left in it, and gives the table's memory
    /// back after a storm (a boot storm queues every device at once) has passed.
    fn tidy_side(&mut self, slot: u32) {
        if self.side.get(&slot).is_some_and(Side::is_empty) {
            self.side.remove(&slot);
        }
        let cap = self.side.capacity();
        if cap > 4096 && self.side.len() < cap / 8 {
            self.side.shrink_to(self.side.len() * 2);
        }
        let cap = self.ready.capacity();
        if cap > 4096 && self.ready.len() < cap / 8 {
            self.ready.shrink_to(self.ready.len() * 2);
        }
    }

    fn wake(&mut self, slot: u32, due_ms: u64) {
        let s = &mut self.slots[slot as usize];
        s.gen = s.gen.wrapping_add(1);
        self.timers.push(due_ms, slot, s.gen);
    }

    /// Runs until the end of the scenario or cancellation; returns the shard's figures.
    pub async fn run(mut self, cancel: CancellationToken) -> ShardStats {
        let end_ms = self.ctx.duration.as_millis() as u64;
        loop {
            self.apply_phases();
            let now = self.now_ms();
            if now >= end_ms {
                break;
            }
            self.fire_timers(now);
            self.fire_generators(now);
            self.admit();
            let next = [
                self.timers.next_due(),
                self.generators.iter().filter_map(|g| g.next_ms).min(),
                self.ctx
                    .phases
                    .get(self.phases_applied)
                    .map(|p| p.start.as_millis() as u64),
                Some(end_ms),
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(end_ms);
            let wake_at = self.at(next);
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                Some(done) = self.tasks.join_next(), if !self.tasks.is_empty() => {
                    match done {
                        Ok(r) => self.finished(r),
                        Err(e) => self.task_failed(e),
                    }
                }
                Some(msg) = self.inbox.recv() => self.message(msg),
                _ = sleep_until(wake_at) => {}
            }
        }
        self.drain().await;
        self.stats.side_entries = self.side.len() as u64;
        self.stats
    }

    /// Stop admitting; let running sessions finish within the grace period, then cancel the
    /// rest. Every session started ends counted: succeeded, failed or cancelled.
    async fn drain(&mut self) {
        let deadline = Instant::now() + self.ctx.grace;
        while !self.tasks.is_empty() {
            tokio::select! {
                done = self.tasks.join_next() => match done {
                    Some(Ok(r)) => self.finished_draining(r),
                    Some(Err(e)) => self.task_failed(e),
                    None => break,
                },
                _ = sleep_until(deadline) => {
                    self.tasks.abort_all();
                    while let Some(done) = self.tasks.join_next().await {
                        match done {
                            Ok(r) => self.finished_draining(r),
                            Err(e) => self.task_failed(e),
                        }
                    }
                    break;
                }
            }
        }
        self.ctx
            .live
            .in_flight
            .fetch_sub(self.sessions as u64, Ordering::Relaxed);
        self.sessions = 0;
        self.stats.record_queued(0, &self.ctx.live);
    }

    fn finished_draining(&mut self, r: TaskResult) {
        // The device's state no longer matters, but the session's outcome is counted.
        if let TaskResult::Session {
            slot,
            cpe,
            report,
            cr_at,
            began,
            ..
        } = &r
        {
            self.count_outcome(*slot, cpe, report, None, *cr_at, *began);
            self.sessions = self.sessions.saturating_sub(1);
        }
    }

    fn task_failed(&mut self, e: tokio::task::JoinError) {
        // An aborted session (end of the grace period) is cancelled; a panic is a bug, counted
        // loudly as a failure.
        let now = self.now_ms();
        self.stats
            .record_lost(e.is_cancelled(), now, &self.ctx.live);
        self.sessions = self.sessions.saturating_sub(1);
    }

    // === phases ===

    fn apply_phases(&mut self) {
        let now = self.now_ms();
        while let Some(p) = self.ctx.phases.get(self.phases_applied) {
            let start = p.start.as_millis() as u64;
            if start > now {
                break;
            }
            let n = self.phases_applied as u64;
            let kind = p.kind.clone();
            self.phases_applied += 1;
            self.start_phase(n, start, &kind);
        }
    }

    fn start_phase(&mut self, n: u64, start: u64, kind: &PhaseKind) {
        let seed = self.ctx.seed;
        // This shard's part of a fleet-wide rate: one of `shards` in this process, which itself
        // holds `count` of the `total` devices when the run is split over processes.
        let shards = f64::from(self.ctx.shards.max(1)) * f64::from(self.ctx.total.max(1))
            / f64::from(self.ctx.count.max(1));
        let len = self
            .ctx
            .phases
            .get(n as usize + 1)
            .map(|next| next.start)
            .unwrap_or(self.ctx.duration)
            .saturating_sub(Duration::from_millis(start));
        match kind {
            PhaseKind::Boot {
                over,
                groups,
                share,
            } => {
                for slot in 0..self.slots.len() as u32 {
                    let index = self.index_of(slot);
                    let s = &self.slots[slot as usize];
                    let g = &self.ctx.groups[s.group as usize];
                    if s.state != State::Off
                        || (!groups.is_empty() && !groups.contains(&g.name))
                        || !plan::selected(seed, n, u64::from(index), *share)
                    {
                        continue;
                    }
                    let at =
                        start + plan::spread(seed, n, u64::from(index), *over).as_millis() as u64;
                    self.wake(slot, at);
                }
            }
            PhaseKind::Outage {
                share,
                down,
                recover_over,
            } => {
                for slot in 0..self.slots.len() as u32 {
                    let index = self.index_of(slot);
                    if !plan::selected(seed, n, u64::from(index), *share) {
                        continue;
                    }
                    let back = start
                        + down.as_millis() as u64
                        + plan::spread(seed, n, u64::from(index), *recover_over).as_millis() as u64;
                    self.power_off(slot);
                    self.wake(slot, back);
                }
            }
            PhaseKind::Steady => {}
            PhaseKind::Rate {
                from,
                to,
                poisson,
                event,
            } => {
                // Each shard carries its share of the rate over its own devices: no messages,
                // and the union of the shards' processes is the requested one.
                self.generators.push(Generator {
                    what: GenKind::Session(event.clone()),
                    arrivals: Arrivals::new(
                        from / shards,
                        to / shards,
                        len,
                        *poisson,
                        seed ^ plan::mix(n) ^ u64::from(self.id),
                    ),
                    phase_start_ms: start,
                    next_ms: None,
                    rng: plan::picker(seed ^ u64::from(self.id), n),
                });
            }
            PhaseKind::Churn {
                value_changes_per_s,
                reboots_per_s,
                parameter,
            } => {
                // Per device per simulated second → this shard's devices, real time.
                let k = self.slots.len() as f64 * self.ctx.time_scale;
                for (rate, what, salt) in [
                    (
                        *value_changes_per_s,
                        GenKind::ValueChange(parameter.clone()),
                        1u64,
                    ),
                    (*reboots_per_s, GenKind::Reboot, 2),
                ] {
                    if rate <= 0.0 {
                        continue;
                    }
                    self.generators.push(Generator {
                        what,
                        arrivals: Arrivals::new(
                            rate * k,
                            rate * k,
                            len,
                            true,
                            seed ^ plan::mix(n * 7 + salt) ^ u64::from(self.id),
                        ),
                        phase_start_ms: start,
                        next_ms: None,
                        rng: plan::picker(seed ^ u64::from(self.id) ^ salt, n),
                    });
                }
            }
        }
        for g in &mut self.generators {
            if g.next_ms.is_none() && g.phase_start_ms == start {
                g.next_ms = g.arrivals.next().map(|d| start + d.as_millis() as u64);
            }
        }
    }

    fn fire_generators(&mut self, now: u64) {
        for gi in 0..self.generators.len() {
            while let Some(at) = self.generators[gi].next_ms.filter(|t| *t <= now) {
                let n = self.slots.len();
                if n > 0 {
                    let slot = self.generators[gi].rng.random_range(0..n) as u32;
                    let what = match &self.generators[gi].what {
                        GenKind::Session(e) => GenKind::Session(e.clone()),
                        GenKind::ValueChange(p) => GenKind::ValueChange(p.clone()),
                        GenKind::Reboot => GenKind::Reboot,
                    };
                    self.arrival(slot, at, what);
                }
                let g = &mut self.generators[gi];
                g.next_ms = g
                    .arrivals
                    .next()
                    .map(|d| g.phase_start_ms + d.as_millis() as u64);
            }
        }
        self.generators.retain(|g| g.next_ms.is_some());
    }

    fn arrival(&mut self, slot: u32, at: u64, what: GenKind) {
        let state = self.slots[slot as usize].state;
        match what {
            GenKind::Session(event) => {
                if state != State::Idle {
                    // The device is busy, off or already waiting: the arrival cannot become a
                    // session of its own. Counted, never silently skipped.
                    self.stats.dropped += 1;
                    return;
                }
                self.slots[slot as usize].life.add(event);
                self.make_due(slot, at);
            }
            GenKind::ValueChange(param) => {
                if matches!(state, State::Off | State::Rebooting | State::InSession) {
                    self.stats.dropped += 1;
                    return;
                }
                self.churn_seq += 1;
                let value = format!("churn-{}", self.churn_seq);
                let root = self.template(slot).root().to_string();
                let candidates = match param {
                    Some(p) => vec![p],
                    None => vec![
                        format!("{root}WiFi.SSID.1.SSID"),
                        format!("{root}LANDevice.1.WLANConfiguration.1.SSID"),
                        format!("{root}DeviceInfo.ProvisioningCode"),
                    ],
                };
                let mut active = false;
                self.with_view(slot, |v| {
                    for p in &candidates {
                        if let Ok(a) = v.set_local(p, &value) {
                            active = a;
                            return;
                        }
                    }
                });
                if active && state == State::Idle {
                    self.slots[slot as usize].life.add(EventCode::ValueChange);
                    self.make_due(slot, at);
                }
            }
            GenKind::Reboot => {
                if state != State::Idle {
                    self.stats.dropped += 1;
                    return;
                }
                self.reboot(slot, None);
            }
        }
    }

    // === device life ===

    fn with_view<R>(&mut self, slot: u32, f: impl FnOnce(&mut DeviceView<'_>) -> R) -> R {
        let sim = self.ctx.sim_now();
        let ctx = self.ctx.clone();
        let s = &mut self.slots[slot as usize];
        let template = &ctx.groups[s.group as usize].template;
        let env = Env {
            seed: ctx.seed,
            now: sim,
            cr_url_base: &ctx.cr_url_base,
        };
        let mut view = DeviceView::new(template, &mut s.device, &env);
        f(&mut view)
    }

    fn power_off(&mut self, slot: u32) {
        let s = &mut self.slots[slot as usize];
        match s.state {
            State::InSession => s.flags |= POWER_LOST,
            State::Off => {}
            _ => {
                if s.state != State::Rebooting {
                    self.ctx.live.online.fetch_sub(1, Ordering::Relaxed);
                }
                s.state = State::Off;
                self.side.remove(&slot);
            }
        }
        self.ready.retain(|x| *x != slot);
    }

    fn power_on(&mut self, slot: u32) {
        let sim = self.ctx.sim_now();
        let s = &mut self.slots[slot as usize];
        // Persisted state survives (TR-069 R2.2): owed TransferCompletes and keyed events
        // stay; BOOT is new, BOOTSTRAP only until the ACS first acknowledged one.
        s.life.rebooted(None);
        if s.flags & BOOTSTRAPPED == 0 {
            s.life.add(EventCode::Bootstrap);
        }
        s.device.set_boot_time(sim);
        s.state = State::Idle;
        s.periodic_due = u64::MAX;
        self.ctx.live.online.fetch_add(1, Ordering::Relaxed);
        let now = self.now_ms();
        self.make_due(slot, now);
    }

    fn reboot(&mut self, slot: u32, key: Option<String>) {
        let s = &mut self.slots[slot as usize];
        s.state = State::Rebooting;
        self.ctx.live.online.fetch_sub(1, Ordering::Relaxed);
        self.side.entry(slot).or_default().reboot_key = key;
        let g = &self.ctx.groups[s.group as usize];
        let down = self.ctx.real(g.reboot_time);
        let at = self.now_ms() + down.as_millis() as u64;
        self.wake(slot, at);
    }

    fn reboot_done(&mut self, slot: u32) {
        let key = self.side.get_mut(&slot).and_then(|s| s.reboot_key.take());
        self.tidy_side(slot);
        let sim = self.ctx.sim_now();
        let s = &mut self.slots[slot as usize];
        s.life.rebooted(key.as_deref());
        s.device.set_boot_time(sim);
        s.state = State::Idle;
        self.ctx.live.online.fetch_add(1, Ordering::Relaxed);
        let now = self.now_ms();
        self.make_due(slot, now);
    }

    fn make_due(&mut self, slot: u32, due_ms: u64) {
        let s = &mut self.slots[slot as usize];
        if s.state != State::Idle {
            return;
        }
        s.state = State::Queued;
        s.gen = s.gen.wrapping_add(1);
        self.side.entry(slot).or_default().due_ms = Some(due_ms);
        self.ready.push_back(slot);
    }

    fn message(&mut self, msg: ShardMsg) {
        match msg {
            ShardMsg::ConnectionRequest { index, at } => {
                let Some(slot) = self.slot_of(index) else {
                    return;
                };
                let s = &mut self.slots[slot as usize];
                match s.state {
                    State::Off | State::Rebooting => {}
                    State::InSession => {
                        let side = self.side.entry(slot).or_default();
                        side.held.push(EventCode::ConnectionRequest);
                        side.cr_at = Some(at);
                    }
                    _ => {
                        s.life.add(EventCode::ConnectionRequest);
                        self.side.entry(slot).or_default().cr_at = Some(at);
                        // Idle: start now. Queued or in a session: the event rides along or
                        // starts a new session right after (R5.6).
                        let now = self.now_ms();
                        self.make_due(slot, now);
                    }
                }
            }
        }
    }

    fn fire_timers(&mut self, now: u64) {
        while let Some(e) = self.timers.pop_due(now) {
            let Some(s) = self.slots.get(e.slot as usize) else {
                continue;
            };
            if s.gen != e.gen {
                continue; // rescheduled since
            }
            match s.state {
                State::Off => self.power_on(e.slot),
                State::Rebooting => self.reboot_done(e.slot),
                State::Idle => self.idle_wake(e.slot, now, e.due_ms),
                State::Queued | State::InSession => {}
            }
        }
    }

    /// An idle device's timer fired: periodic inform, scheduled inform, transfers, retries.
    fn idle_wake(&mut self, slot: u32, now: u64, due: u64) {
        let s = &mut self.slots[slot as usize];
        if s.periodic_due <= now {
            s.life.add(EventCode::Periodic);
            s.periodic_due = u64::MAX;
        }
        let mut fired = Vec::new();
        if let Some(side) = self.side.get_mut(&slot) {
            let mut i = 0;
            while i < side.timers.len() {
                if side.timers[i].0 <= now {
                    fired.push(side.timers.remove(i).1);
                } else {
                    i += 1;
                }
            }
        }
        self.tidy_side(slot);
        let mut retry = false;
        for p in fired {
            retry |= matches!(p, Pending::Retry);
            self.pending_fired(slot, p);
        }
        let s = &self.slots[slot as usize];
        if s.state == State::Idle
            && (retry || s.life.has_events() || s.life.has_transfer_complete())
        {
            self.make_due(slot, due);
        } else if s.state == State::Idle {
            self.schedule_next(slot);
        }
    }

    fn pending_fired(&mut self, slot: u32, p: Pending) {
        match p {
            Pending::Retry => {}
            Pending::ScheduleInform(key) => {
                let l = &mut self.slots[slot as usize].life;
                l.add(EventCode::Scheduled);
                l.add_keyed(EventCode::MScheduleInform, &key);
            }
            Pending::Diagnostics(object) => {
                let _ = self.with_view(slot, |v| {
                    v.set_local(&format!("{object}DiagnosticsState"), "Complete")
                });
                self.slots[slot as usize]
                    .life
                    .add(EventCode::DiagnosticsComplete);
            }
            Pending::Download(d) => self.start_download(slot, d),
            Pending::Upload(u) => self.start_upload(slot, u),
            Pending::Apply {
                firmware,
                key,
                method,
                fault,
                start,
                complete,
                version,
            } => {
                self.slots[slot as usize]
                    .life
                    .transfer_done(method, &key, fault, start, complete);
                if firmware {
                    if let Some(v) = version {
                        let root = self.template(slot).root().to_string();
                        let _ = self.with_view(slot, |view| {
                            view.set_local(&format!("{root}DeviceInfo.SoftwareVersion"), &v)
                        });
                    }
                    self.reboot(slot, None);
                }
            }
        }
    }

    fn add_timer(&mut self, slot: u32, due_ms: u64, p: Pending) {
        self.side.entry(slot).or_default().timers.push((due_ms, p));
        self.schedule_next(slot);
    }

    /// Sets the device's next wake: the earliest of its periodic inform and rare timers.
    fn schedule_next(&mut self, slot: u32) {
        if self.slots[slot as usize].state != State::Idle {
            return;
        }
        if self.slots[slot as usize].periodic_due == u64::MAX {
            let due = self.next_periodic(slot);
            self.slots[slot as usize].periodic_due = due;
        }
        let side_min = self
            .side
            .get(&slot)
            .and_then(|s| s.timers.iter().map(|t| t.0).min())
            .unwrap_or(u64::MAX);
        let due = self.slots[slot as usize].periodic_due.min(side_min);
        if due != u64::MAX {
            self.wake(slot, due);
        }
    }

    /// The next periodic inform in real ms, from PeriodicInformEnable/Interval/Time (R5.17).
    fn next_periodic(&mut self, slot: u32) -> u64 {
        let root = self.template(slot).root().to_string();
        let (enable, interval, time, boot) = self.with_view(slot, |v| {
            let get = |p: &str| {
                v.get(&format!("{root}ManagementServer.{p}"))
                    .map(|x| x.value)
            };
            let enable = get("PeriodicInformEnable").is_some_and(|x| x == "true" || x == "1");
            let interval = get("PeriodicInformInterval").and_then(|x| x.parse::<u32>().ok());
            let time = get("PeriodicInformTime")
                .and_then(|x| DateTime::parse(&x))
                .unwrap_or(DateTime::UNKNOWN);
            (enable, interval, time, v.device().boot_time())
        });
        let s = &self.slots[slot as usize];
        let g = &self.ctx.groups[s.group as usize];
        let interval = match (g.periodic_interval, s.flags & ACS_SET_PERIODIC != 0) {
            (Some(d), false) => Some(d.as_secs().max(1) as u32),
            _ => interval,
        };
        let Some(interval) = interval.filter(|_| enable) else {
            return u64::MAX;
        };
        let sim_now = self.ctx.sim_now();
        // Unknown PeriodicInformTime: the device's phase is its boot time, as on a real CPE.
        let next = life::next_periodic(sim_now, interval, time, boot.unix_ms());
        let mut wait = Duration::from_millis((next.unix_ms() - sim_now.unix_ms()).max(0) as u64);
        if g.jitter > 0.0 {
            let index = self.index_of(slot);
            let u = plan::unit(self.ctx.seed, next.unix_ms() as u64, u64::from(index));
            wait += Duration::from_secs(u64::from(interval)).mul_f64(g.jitter * u);
        }
        self.now_ms() + self.ctx.real(wait).as_millis() as u64
    }

    // === sessions ===

    fn admit(&mut self) {
        while self.sessions < self.cap {
            let Some(slot) = self.ready.pop_front() else {
                return;
            };
            if self.slots[slot as usize].state != State::Queued {
                continue;
            }
            self.start_session(slot);
        }
        // Devices still waiting are behind the cap: late (and a live gauge).
        self.stats.record_queued(self.ready.len(), &self.ctx.live);
    }

    fn session_config(&mut self, slot: u32) -> SessionConfig {
        let g = &self.ctx.groups[self.slots[slot as usize].group as usize];
        let version = g.version;
        let (g_reset, g_slow) = (g.reset_rate, g.slow_body_rate);
        let (user_pat, pass_pat) = (g.username.clone(), g.password.clone());
        let root = self.template(slot).root().to_string();
        let index = self.index_of(slot);
        let (user, pass, id) = self.with_view(slot, |v| {
            let get = |p: &str| {
                v.get(&format!("{root}ManagementServer.{p}"))
                    .map(|x| x.value)
                    .filter(|x| !x.is_empty())
            };
            (get("Username"), get("Password"), v.device_id())
        });
        let expand = |pat: &str| {
            pat.replace("{index}", &index.to_string())
                .replace("{serial}", &id.serial_number)
                .replace("{oui}", &id.oui)
                .replace("{product_class}", &id.product_class)
        };
        let username = user_pat
            .as_deref()
            .map(expand)
            .or(user)
            .or(self.ctx.acs_username.clone());
        let password = pass_pat
            .as_deref()
            .map(expand)
            .or(pass)
            .or(self.ctx.acs_password.clone());
        let mut cfg = self.ctx.session.clone();
        cfg.version = version;
        cfg.impairments = crate::session::Impairments {
            reset_rate: g_reset,
            slow_body_rate: g_slow,
            // A slow link: 128 bytes every 100 ms (an Inform takes a few seconds to arrive).
            slow_chunk: 128,
            slow_delay: Duration::from_millis(100),
            seed: plan::mix(self.ctx.seed ^ plan::mix(u64::from(index)) ^ self.session_seq),
        };
        cfg.credentials = username.map(|u| (u, password.unwrap_or_default()));
        cfg.id_prefix = format!("{}-{}", id.serial_number, self.session_seq);
        if let Some((cp, kp)) = &self.ctx.client_cert_pattern {
            let (cert, key) = (expand(cp), expand(kp));
            self.device_tls(&mut cfg, cert, key);
        }
        if !self.ctx.source_addresses.is_empty() {
            let n = self.ctx.source_addresses.len();
            cfg.local_addr = Some(self.ctx.source_addresses[index as usize % n]);
        }
        cfg
    }

    /// The device's own client certificate (mTLS from a path pattern), cached.
    fn device_tls(&self, cfg: &mut SessionConfig, cert: String, key: String) {
        let Ok(mut cache) = self.ctx.cert_cache.lock() else {
            return;
        };
        if let Some(c) = cache.get(&cert) {
            cfg.connector.tls = Some(c.clone());
            return;
        }
        match crate::session::tls::client_config(
            &self.ctx.tls_options,
            Some((std::path::Path::new(&cert), std::path::Path::new(&key))),
        ) {
            Ok(c) => {
                if cache.len() >= super::CERT_CACHE {
                    cache.clear();
                }
                cache.insert(cert, c.clone());
                cfg.connector.tls = Some(c);
            }
            // The session fails with this (label tls_client_cert) instead of connecting
            // without the device's certificate.
            Err(e) => cfg.connector.tls_error = Some(e.to_string().into()),
        }
    }

    fn start_session(&mut self, slot: u32) {
        self.session_seq += 1;
        let now = self.now_ms();
        let side = self.side.entry(slot).or_default();
        let due_ms = side.due_ms.take().unwrap_or(now);
        let cr_at = side.cr_at.take();
        self.tidy_side(slot);
        // µs precision: the due time is whole ms, the start is not.
        let lag = Instant::now().saturating_duration_since(self.at(due_ms));
        let cfg = self.session_config(slot);
        let index = self.index_of(slot);
        let s = &mut self.slots[slot as usize];
        s.state = State::InSession;
        let g = &self.ctx.groups[s.group as usize];
        let cpe = Box::new(Cpe {
            template: g.template.clone(),
            device: std::mem::replace(&mut s.device, Device::with_template(index, g.template_id)),
            life: std::mem::take(&mut s.life),
            seed: self.ctx.seed,
            now: self.ctx.sim_now(),
            cr_url_base: self.ctx.cr_url_base.clone(),
            effects: Vec::new(),
            faults: Vec::new(),
        });
        let events = cpe.life.inform_events();
        self.stats.record_start(
            now,
            lag,
            events.iter().map(|e| e.code.as_str()),
            &self.ctx.live,
        );
        self.sessions += 1;
        let trace = self.ctx.trace_path(index, self.session_seq);
        let latency = g.latency;
        let runner = self.ctx.runner.clone();
        self.tasks.spawn(async move {
            let mut cpe = cpe;
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            let mut trace = trace.and_then(|p| Trace::create(&p).ok());
            let began = Instant::now();
            let report = Box::new(runner.run(&cfg, cpe.as_mut(), trace.as_mut()).await);
            let ended = Instant::now();
            if let Some(t) = trace {
                t.finish();
            }
            TaskResult::Session {
                slot,
                cpe,
                report,
                due_ms,
                cr_at,
                began,
                ended,
            }
        });
    }

    /// Records a session's end where it ends (no message per session): `due` is its intended
    /// start, `None` when drained.
    fn count_outcome(
        &mut self,
        slot: u32,
        cpe: &Cpe,
        report: &SessionReport,
        from_due: Option<Duration>,
        cr_at: Option<Instant>,
        began: Instant,
    ) {
        let t = &report.timings;
        // The Inform went out once the connection (and TLS) was up.
        let inform_sent = t.connect.is_some() || report.inform_acknowledged;
        let cr_to_inform = cr_at.filter(|_| inform_sent).map(|cr| {
            began.saturating_duration_since(cr)
                + t.connect.unwrap_or_default()
                + t.tls.unwrap_or_default()
        });
        let group = self.slots[slot as usize].group;
        let ctx = self.ctx.clone();
        let end = SessionEnd {
            report,
            group,
            group_name: &ctx.groups[group as usize].name,
            at_ms: self.now_ms(),
            from_due,
            cr_to_inform,
            faults: &cpe.faults,
        };
        self.stats.record_end(&end, &ctx.live);
        // The protocol checks scored on this session's ACS messages (conformance).
        self.stats.checks.add(&report.checks);
    }

    fn finished(&mut self, r: TaskResult) {
        match r {
            TaskResult::Session {
                slot,
                cpe,
                report,
                due_ms,
                cr_at,
                began,
                ended,
            } => {
                self.sessions -= 1;
                let from_due = ended.saturating_duration_since(self.at(due_ms));
                self.count_outcome(slot, &cpe, &report, Some(from_due), cr_at, began);
                self.session_ended(slot, *cpe, &report);
            }
            TaskResult::Transfer {
                slot,
                upload,
                key,
                firmware,
                version,
                result,
                start,
            } => self.transfer_ended(slot, upload, key, firmware, version, result, start),
        }
    }

    fn session_ended(&mut self, slot: u32, cpe: Cpe, report: &SessionReport) {
        let ok = report.is_ok();
        let Cpe {
            device,
            mut life,
            effects,
            ..
        } = cpe;
        life.session_ended(ok);
        if let Some(side) = self.side.get_mut(&slot) {
            for e in side.held.drain(..) {
                life.add(e);
            }
        }
        let s = &mut self.slots[slot as usize];
        s.device = device;
        s.life = life;
        s.state = State::Idle;
        if report.inform_acknowledged {
            s.flags |= BOOTSTRAPPED;
        }
        if s.flags & POWER_LOST != 0 {
            s.flags &= !POWER_LOST;
            s.state = State::Off;
            self.ctx.live.online.fetch_sub(1, Ordering::Relaxed);
            return; // the outage's power-on timer brings it back
        }
        let index = self.index_of(slot);
        let mut rebooting = false;
        for e in effects {
            match e {
                Effect::Reboot { command_key } => {
                    self.reboot(slot, Some(command_key));
                    rebooting = true;
                }
                Effect::FactoryReset => {
                    self.with_view(slot, |v| v.factory_reset());
                    self.ctx.router.reset_credentials(index);
                    let s = &mut self.slots[slot as usize];
                    s.life.factory_reset();
                    s.flags &= !(BOOTSTRAPPED | ACS_SET_PERIODIC);
                    self.side.remove(&slot);
                    self.reboot(slot, None);
                    rebooting = true;
                }
                Effect::Download(d) => {
                    let at = self.now_ms()
                        + self
                            .ctx
                            .real(Duration::from_secs(u64::from(d.delay_seconds)))
                            .as_millis() as u64;
                    self.side
                        .entry(slot)
                        .or_default()
                        .timers
                        .push((at, Pending::Download(d)));
                }
                Effect::Upload(u) => {
                    let at = self.now_ms()
                        + self
                            .ctx
                            .real(Duration::from_secs(u64::from(u.delay_seconds)))
                            .as_millis() as u64;
                    self.side
                        .entry(slot)
                        .or_default()
                        .timers
                        .push((at, Pending::Upload(u)));
                }
                Effect::ScheduleDownload(sd) => {
                    let start = sd.time_window_list.first().map_or(0, |w| w.window_start);
                    let at = self.now_ms()
                        + self
                            .ctx
                            .real(Duration::from_secs(u64::from(start)))
                            .as_millis() as u64;
                    let d = crate::cwmp::Download {
                        command_key: sd.command_key,
                        file_type: sd.file_type,
                        url: sd.url,
                        username: sd.username,
                        password: sd.password,
                        file_size: sd.file_size,
                        target_file_name: sd.target_file_name,
                        delay_seconds: 0,
                        success_url: String::new(),
                        failure_url: String::new(),
                    };
                    self.side
                        .entry(slot)
                        .or_default()
                        .timers
                        .push((at, Pending::Download(d)));
                }
                Effect::ScheduleInform {
                    delay_seconds,
                    command_key,
                } => {
                    let at = self.now_ms()
                        + self
                            .ctx
                            .real(Duration::from_secs(u64::from(delay_seconds)))
                            .as_millis() as u64;
                    self.side
                        .entry(slot)
                        .or_default()
                        .timers
                        .push((at, Pending::ScheduleInform(command_key)));
                }
                Effect::CancelTransfer { command_key } => {
                    if let Some(side) = self.side.get_mut(&slot) {
                        side.timers.retain(|(_, p)| match p {
                            Pending::Download(d) => d.command_key != command_key,
                            Pending::Upload(u) => u.command_key != command_key,
                            _ => true,
                        });
                    }
                }
                Effect::PeriodicInformChanged => {
                    let s = &mut self.slots[slot as usize];
                    s.flags |= ACS_SET_PERIODIC;
                    s.periodic_due = u64::MAX;
                }
                Effect::ManagementServerUrlChanged => {
                    let s = &mut self.slots[slot as usize];
                    s.life.add(EventCode::Bootstrap);
                    s.flags &= !BOOTSTRAPPED;
                }
                Effect::ConnectionRequestCredentialsChanged => {
                    let root = self.template(slot).root().to_string();
                    let (u, p) = self.with_view(slot, |v| {
                        let get = |n: &str| {
                            v.get(&format!("{root}ManagementServer.{n}"))
                                .map(|x| x.value)
                                .unwrap_or_default()
                        };
                        (
                            get("ConnectionRequestUsername"),
                            // Hidden parameters read back empty: ask the delta for the stored one.
                            v.get(&format!("{root}ManagementServer.ConnectionRequestPassword"))
                                .map(|p| p.value)
                                .unwrap_or_default(),
                        )
                    });
                    self.ctx.router.set_credentials(index, u, p);
                }
                Effect::DiagnosticsRequested { object } => {
                    // Diagnostics "run" for a few simulated seconds, then report 8 DIAGNOSTICS
                    // COMPLETE.
                    let at =
                        self.now_ms() + self.ctx.real(Duration::from_secs(5)).as_millis() as u64;
                    self.side
                        .entry(slot)
                        .or_default()
                        .timers
                        .push((at, Pending::Diagnostics(object)));
                }
            }
        }
        if rebooting {
            return;
        }
        let s = &self.slots[slot as usize];
        if !ok {
            // TR-069 retry: a randomised wait growing with the consecutive failures, at least
            // what a 503's Retry-After asked for.
            let root = self.template(slot).root().to_string();
            let (m, k) = self.with_view(slot, |v| {
                let get = |p: &str| {
                    v.get(&format!("{root}ManagementServer.{p}"))
                        .and_then(|x| x.value.parse::<u32>().ok())
                };
                (
                    get("CWMPRetryMinimumWaitInterval").unwrap_or(5),
                    get("CWMPRetryIntervalMultiplier").unwrap_or(2000),
                )
            });
            let policy = RetryPolicy::new(m, k);
            let retries = u32::from(self.slots[slot as usize].life.retry);
            let index = u64::from(self.index_of(slot));
            let mut rng = <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(plan::mix(
                self.ctx.seed ^ index ^ self.session_seq,
            ));
            let sim_wait = Duration::from_millis(policy.wait_ms(retries, &mut rng));
            let mut wait = self.ctx.real(sim_wait);
            if let Some(ra) = report.outcome.as_ref().err().and_then(|e| e.retry_after()) {
                wait = wait.max(self.ctx.real(ra));
            }
            let at = self.now_ms() + wait.as_millis() as u64;
            self.add_timer(slot, at, Pending::Retry);
            return;
        }
        if s.life.has_events() || s.life.has_transfer_complete() || s.device.active_change_pending()
        {
            let now = self.now_ms();
            self.make_due(slot, now);
        } else {
            self.schedule_next(slot);
        }
    }

    // === transfers ===

    fn start_download(&mut self, slot: u32, d: crate::cwmp::Download) {
        let index = self.index_of(slot);
        self.slots[slot as usize]
            .device
            .transfer_started(&d.command_key);
        let g = &self.ctx.groups[self.slots[slot as usize].group as usize];
        let firmware = d.file_type.starts_with("1 ");
        let fail = g.download_failure_rate > 0.0
            && plan::unit(
                self.ctx.seed,
                crate::scenario::plan::mix(d.command_key.len() as u64 ^ 0xD0),
                u64::from(index),
            ) < g.download_failure_rate;
        let connector = self.ctx.transfer_connector.clone();
        let limits = self.ctx.transfer_limits.clone();
        let start = self.ctx.sim_now();
        let version = firmware.then(|| version_from_url(&d.url));
        self.tasks.spawn(async move {
            let result = if fail {
                Err(TransferFault {
                    code: 9010,
                    reason: "simulated download failure".into(),
                })
            } else {
                transfer::download(
                    &connector,
                    &d.url,
                    (&d.username, &d.password),
                    d.file_size,
                    &limits,
                )
                .await
            };
            TaskResult::Transfer {
                slot,
                upload: false,
                key: d.command_key,
                firmware,
                version,
                result,
                start,
            }
        });
    }

    fn start_upload(&mut self, slot: u32, u: crate::cwmp::Upload) {
        let index = self.index_of(slot);
        self.slots[slot as usize]
            .device
            .transfer_started(&u.command_key);
        let body = Bytes::from(format!(
            "# cpefleet device {index} upload {} ({})\n{}\n",
            u.command_key,
            u.file_type,
            "x".repeat(1024)
        ));
        let connector = self.ctx.transfer_connector.clone();
        let limits = self.ctx.transfer_limits.clone();
        let start = self.ctx.sim_now();
        self.tasks.spawn(async move {
            let result = transfer::upload(
                &connector,
                &u.url,
                (&u.username, &u.password),
                body,
                &limits,
            )
            .await;
            TaskResult::Transfer {
                slot,
                upload: true,
                key: u.command_key,
                firmware: false,
                version: None,
                result,
                start,
            }
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn transfer_ended(
        &mut self,
        slot: u32,
        upload: bool,
        key: String,
        firmware: bool,
        version: Option<String>,
        result: Result<u64, TransferFault>,
        start: DateTime,
    ) {
        let complete = self.ctx.sim_now();
        let v = self.ctx.groups[self.slots[slot as usize].group as usize].version;
        let fault = match &result {
            Ok(_) => TransferCompleteFaultStruct {
                fault_code: 0,
                fault_string: String::new(),
            },
            Err(f) => {
                self.stats.error(f.label());
                f.to_struct(v, upload)
            }
        };
        let method = if upload {
            EventCode::MUpload
        } else {
            EventCode::MDownload
        };
        let ok = result.is_ok();
        let apply = Pending::Apply {
            firmware: firmware && ok,
            key,
            method,
            fault,
            start,
            complete,
            version,
        };
        if firmware && ok {
            let delay = self.ctx.groups[self.slots[slot as usize].group as usize].apply_delay;
            let at = self.now_ms() + self.ctx.real(delay).as_millis() as u64;
            if self.slots[slot as usize].state == State::Idle {
                self.add_timer(slot, at, apply);
            } else {
                self.side.entry(slot).or_default().timers.push((at, apply));
            }
        } else if self.slots[slot as usize].state == State::InSession {
            // The device's Life is in the session task: apply when it comes back.
            let now = self.now_ms();
            self.side.entry(slot).or_default().timers.push((now, apply));
        } else {
            self.pending_fired(slot, apply);
            if self.slots[slot as usize].state == State::Idle {
                let now = self.now_ms();
                self.make_due(slot, now);
            }
        }
    }
}

/// "fw-2.0.bin" → "2.0": the SoftwareVersion a firmware image installs (the simulator has no
/// image to read it from, so the file name is the convention).
fn version_from_url(url: &str) -> String {
    let file = url.rsplit('/').next().unwrap_or(url);
    let stem = file
        .split('.')
        .next()
        .map_or(file, |_| file.rsplit_once('.').map_or(file, |(s, _)| s));
    stem.trim_start_matches("fw-")
        .trim_start_matches("firmware-")
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn firmware_versions_from_file_names() {
        assert_eq!(super::version_from_url("http://acs:7567/fw-2.0.bin"), "2.0");
        assert_eq!(
            super::version_from_url("http://x/fw-V100R001IRQC56B018.bin"),
            "V100R001IRQC56B018"
        );
        assert_eq!(super::version_from_url("http://x/image"), "image");
    }
}
