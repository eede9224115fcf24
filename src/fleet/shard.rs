//! One shard of the fleet: a single task owning a slice of the devices (index % shards), their
//! timer queue, a bounded inbox, and the sessions and transfers it started.
//!
//! Idle devices are plain data in a `Vec`; a session exists only while it runs, bounded by the
//! shard's share of `--max-sessions`. A device due while the shard is at its cap waits in the
//! ready queue and the wait is measured (schedule lag), which is how a report tells "the ACS is
//! slow" apart from "the simulator is saturated". Sessions check their device out by move and
//! return it with their report; nothing is locked.
//!
//! This file holds the shard's state and its loop; `phases`, `device`, `sessions` and
//! `transfers` hold the rest of its methods, by concern.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;

use crate::cwmp::{DateTime, EventCode, TransferCompleteFaultStruct};
use crate::device::{Device, DeviceView, Effect, Env};
use crate::model::Template;
use crate::scenario::plan::{Arrivals, PhaseKind};
use crate::seed;
use crate::session::retry::RetryPolicy;
use crate::session::trace::Trace;
use crate::session::transfer::{self, TransferFault};
use crate::session::{SessionConfig, SessionReport};

use super::cpe::Cpe;
use super::timer::TimerQueue;
use super::FleetCtx;
use crate::cr::CrTransport;
use crate::device::life::{self, Life};
use crate::metrics::cr_fate::CrFate;
use crate::metrics::stats::{SessionEnd, ShardStats};
use generators::{GenKind, Generator};

mod device;
mod diagnostics;
mod generators;
mod phases;
mod scheduled;
mod sessions;
mod software;
mod transfers;

/// Messages to a shard (bounded inbox; a full inbox is a counted 503 at the listener).
#[derive(Debug)]
pub enum ShardMsg {
    ConnectionRequest {
        index: u32,
        at: Instant,
        /// Which listener accepted it (its fate is counted under this transport).
        via: crate::cr::CrTransport,
    },
    /// The device's XMPP client connection changed (TR-069 Annex K, TR-181
    /// XMPP.Connection.{i}): up with the JID it bound, or down.
    XmppLink {
        index: u32,
        jid: Option<Box<str>>,
        /// XMPP.Connection.1.Status.
        status: &'static str,
    },
    /// STUN told the device its public address (TR-069 Annex G): write
    /// UDPConnectionRequestAddress and NATDetected, a value change like any other.
    UdpBinding {
        index: u32,
        addr: std::net::SocketAddr,
        nat_detected: bool,
    },
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
    /// The transport of the pending connection request (`cr_at`).
    cr_via: crate::cr::CrTransport,
    due_ms: Option<u64>,
    /// When the device entered the ready queue (due → here is the simulator's own lag).
    queued_at: Option<Instant>,
    /// The due time (real ms) of a periodic inform that timer slack fired before it was due,
    /// until the next one is scheduled after it (`next_periodic`).
    periodic_floor: Option<u64>,
    /// Events that arrived while the device was checked out for a session (its Life is in
    /// the session task): merged when it comes back, then a new session starts (TR-069 §3.2.2).
    held: Vec<EventCode>,
    /// A STUN binding (address, NATDetected) that arrived while the device was in a session:
    /// written when it comes back (the keep-alive driver reports a binding only once).
    binding: Option<(std::net::SocketAddr, bool)>,
    /// Other local changes (an XMPP link) that arrived while the device was checked out:
    /// written to a device that is not there, they would be lost when it comes back, so they
    /// are handled again then.
    held_msgs: Vec<ShardMsg>,
}

impl Side {
    fn is_empty(&self) -> bool {
        self.reboot_key.is_none()
            && self.timers.is_empty()
            && self.cr_at.is_none()
            && self.binding.is_none()
            && self.due_ms.is_none()
            && self.queued_at.is_none()
            && self.periodic_floor.is_none()
            && self.held_msgs.is_empty()
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
    /// A test the device's reboot cut short: reported as `Error_Internal`.
    DiagnosticsInterrupted(String),
    /// A test measured for real is running (object, run number); never fires (due u64::MAX),
    /// its transfer's end does.
    Measuring(String, u64),
    /// A real test's transfer ended while the device was in a session.
    Measured(Box<diagnostics::MeasuredDone>),
    /// A ScheduleDownload's next attempt is due (its window and try count inside).
    Scheduled(Box<scheduled::Scheduled>),
    /// A ChangeDUState's files arrived while the device was in a session.
    DuApply(Box<software::DuDone>),
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
        /// When the connection request that made the device due arrived, and over what.
        cr_at: Option<(Instant, CrTransport)>,
        /// When the session itself began (after any impairment) and ended.
        began: Instant,
        ended: Instant,
    },
    Transfer {
        slot: u32,
        done: TransferDone,
    },
    /// A ChangeDUState's files were fetched.
    Du {
        slot: u32,
        done: Box<software::DuDone>,
    },
    /// A diagnostic test's real transfer ended.
    Measured {
        slot: u32,
        done: Box<diagnostics::MeasuredDone>,
    },
}

/// What a finished Download or Upload task brings back for the device's TransferComplete.
#[derive(Debug)]
struct TransferDone {
    upload: bool,
    key: String,
    firmware: bool,
    /// The SoftwareVersion a firmware image carries, applied after the reboot.
    version: Option<String>,
    result: Result<u64, TransferFault>,
    start: DateTime,
    /// Set when a ScheduleDownload asked for it: its windows decide what a failure means.
    scheduled: Option<Box<scheduled::Scheduled>>,
}

pub struct Shard {
    id: u32,
    ctx: Arc<FleetCtx>,
    slots: Vec<Slot>,
    side: HashMap<u32, Side>,
    timers: TimerQueue,
    ready: VecDeque<u32>,
    tasks: JoinSet<TaskResult>,
    /// Which of `tasks` are file transfers, not sessions: a task that ends in a `JoinError`
    /// (aborted at the end of the grace period, or a panic) brings no result to say which it
    /// was, and a lost transfer must not be counted as a lost session.
    transfer_tasks: HashSet<tokio::task::Id>,
    sessions: usize,
    cap: usize,
    inbox: mpsc::Receiver<ShardMsg>,
    stats: ShardStats,
    phases_applied: usize,
    generators: Vec<Generator>,
    session_seq: u64,
    /// Diagnostic tests measured for real so far (each run's number).
    measure_seq: u64,
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
            transfer_tasks: HashSet::new(),
            sessions: 0,
            cap,
            inbox,
            stats: ShardStats::default(),
            phases_applied: 0,
            generators: Vec::new(),
            session_seq: 0,
            measure_seq: 0,
            ctx,
        }
    }

    /// The shard's number (devices `index % shards == id`).
    pub fn id(&self) -> u32 {
        self.id
    }

    fn index_of(&self, slot: u32) -> u32 {
        self.ctx.first + self.id + slot * self.ctx.shards.max(1)
    }

    fn slot_of(&self, index: u32) -> Option<u32> {
        let local = index.checked_sub(self.ctx.first)?;
        if local >= self.ctx.count {
            return None;
        }
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
        let gen = s.gen;
        let slots = &self.slots;
        let live = |slot: u32, gen: u32| slots.get(slot as usize).is_some_and(|s| s.gen == gen);
        self.timers.push(due_ms, slot, gen, live);
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
                self.generators.iter().filter_map(Generator::next_ms).min(),
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
                Some(done) = self.tasks.join_next_with_id(), if !self.tasks.is_empty() => {
                    match done {
                        Ok((id, r)) => {
                            self.transfer_tasks.remove(&id);
                            self.finished(r)
                        }
                        Err(e) => self.task_failed(e),
                    }
                }
                Some(msg) = self.inbox.recv() => self.message(msg),
                _ = sleep_until(wake_at) => {}
            }
        }
        self.drain().await;
        self.count_unserved();
        self.stats.side_entries = self.side.len() as u64;
        self.stats
    }

    /// Stop admitting; let running sessions finish within the grace period (or until "quit
    /// now"), then cancel the rest. Every session started ends counted: succeeded, failed or cancelled.
    async fn drain(&mut self) {
        let deadline = Instant::now() + self.ctx.grace;
        let quit = self.ctx.quit.clone();
        let cut_off = async move {
            tokio::select! {
                _ = sleep_until(deadline) => {}
                _ = quit.cancelled() => {}
            }
        };
        tokio::pin!(cut_off);
        while !self.tasks.is_empty() {
            tokio::select! {
                done = self.tasks.join_next_with_id() => match done {
                    Some(Ok((id, r))) => self.finished_draining(id, r),
                    Some(Err(e)) => self.task_failed(e),
                    None => break,
                },
                _ = &mut cut_off => {
                    self.tasks.abort_all();
                    while let Some(done) = self.tasks.join_next_with_id().await {
                        match done {
                            Ok((id, r)) => self.finished_draining(id, r),
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

    /// Connection requests still pending when the run ended (on a device, or in the inbox)
    /// are counted `unserved`, so every accepted one is accounted for. The inbox is closed
    /// first: a listener still running is refused from now on (its `busy`), never lost.
    fn count_unserved(&mut self) {
        self.inbox.close();
        for side in self.side.values() {
            if side.cr_at.is_some() {
                self.stats.cr_fate.count(side.cr_via, CrFate::Unserved);
            }
        }
        while let Ok(msg) = self.inbox.try_recv() {
            if let ShardMsg::ConnectionRequest { via, .. } = msg {
                self.stats.cr_fate.count(via, CrFate::Unserved);
            }
        }
    }

    /// Forgets a device's rare state (it went off, or was reset); a connection request
    /// pending on it will never get its session.
    fn drop_side(&mut self, slot: u32) {
        if let Some(side) = self.side.remove(&slot) {
            if side.cr_at.is_some() {
                let fate = crate::metrics::cr_fate::CrFate::DeviceOff;
                self.stats.cr_fate.count(side.cr_via, fate);
            }
        }
    }

    fn finished_draining(&mut self, id: tokio::task::Id, r: TaskResult) {
        self.transfer_tasks.remove(&id);
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
        if self.transfer_tasks.remove(&e.id()) {
            // A Download or Upload cut off by the end of the run (or a bug): the device never
            // reports its TransferComplete, which is counted; no session was lost.
            self.stats.error(if e.is_cancelled() {
                "transfer_cancelled"
            } else {
                "panic"
            });
            return;
        }
        // An aborted session (end of the grace period) is cancelled; a panic is a bug, counted
        // loudly as a failure.
        let now = self.now_ms();
        self.stats
            .record_lost(e.is_cancelled(), now, &self.ctx.live);
        self.sessions = self.sessions.saturating_sub(1);
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
