//! A device's life inside its shard: power, reboots, due times, the periodic schedule and the
//! rare timers (scheduled informs, transfers, diagnostics, retries), read through the template.

use super::*;

impl Shard {
    // === device life ===

    pub(super) fn with_view<R>(
        &mut self,
        slot: u32,
        f: impl FnOnce(&mut DeviceView<'_>) -> R,
    ) -> R {
        let sim = self.ctx.sim_now();
        let ctx = self.ctx.clone();
        let s = &mut self.slots[slot as usize];
        let template = &ctx.groups[s.group as usize].template;
        let env = Env {
            seed: ctx.seed,
            now: sim,
            cr_url_base: &ctx.cr_url_base,
            udp: Some(&ctx.udp_addrs),
        };
        let mut view = DeviceView::new(template, &mut s.device, &env);
        f(&mut view)
    }

    pub(super) fn power_off(&mut self, slot: u32) {
        let s = &mut self.slots[slot as usize];
        match s.state {
            State::InSession => s.flags |= POWER_LOST,
            State::Off => {}
            _ => {
                if s.state != State::Rebooting {
                    self.ctx.live.online.fetch_sub(1, Ordering::Relaxed);
                }
                s.state = State::Off;
                self.drop_side(slot);
            }
        }
        self.ready.retain(|x| *x != slot);
    }

    pub(super) fn power_on(&mut self, slot: u32) {
        let sim = self.ctx.sim_now();
        let s = &mut self.slots[slot as usize];
        // Persisted state survives (TR-069 §3.7.1.5): owed TransferCompletes and keyed events
        // stay; BOOT is new, BOOTSTRAP only until the ACS first acknowledged one.
        s.life.rebooted(None);
        if s.flags & BOOTSTRAPPED == 0 {
            s.life.add(EventCode::Bootstrap);
        }
        s.device.set_boot_time(sim);
        s.state = State::Idle;
        let s = &mut self.slots[slot as usize];
        let first_boot = s.flags & BOOTSTRAPPED == 0;
        let component = self.ctx.groups[s.group as usize]
            .xmpp
            .as_ref()
            .is_some_and(|p| matches!(p.mode, crate::scenario::xmpp::XmppMode::Component { .. }));
        s.periodic_due = u64::MAX;
        self.ctx.live.online.fetch_add(1, Ordering::Relaxed);
        if component && first_boot {
            // The component serves the device from the start: its ConnReqJabberID (a group
            // value, stored nowhere per device) becomes known, as when a CPE's XMPP connection
            // first comes up, and the ACS hears of it in the boot Inform (Annex K).
            let path = format!(
                "{}ManagementServer.ConnReqJabberID",
                self.template(slot).root()
            );
            let _ = self.with_view(slot, |v| v.note_local_change(&path));
        }
        let now = self.now_ms();
        self.make_due(slot, now);
    }

    pub(super) fn reboot(&mut self, slot: u32, key: Option<String>) {
        self.diagnostics_interrupted(slot);
        let s = &mut self.slots[slot as usize];
        s.state = State::Rebooting;
        self.ctx.live.online.fetch_sub(1, Ordering::Relaxed);
        self.side.entry(slot).or_default().reboot_key = key;
        let g = &self.ctx.groups[s.group as usize];
        let down = self.ctx.real(g.reboot_time);
        let at = self.now_ms() + down.as_millis() as u64;
        self.wake(slot, at);
    }

    pub(super) fn reboot_done(&mut self, slot: u32) {
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

    pub(super) fn make_due(&mut self, slot: u32, due_ms: u64) {
        let s = &mut self.slots[slot as usize];
        if s.state != State::Idle {
            return;
        }
        s.state = State::Queued;
        s.gen = s.gen.wrapping_add(1);
        let side = self.side.entry(slot).or_default();
        side.due_ms = Some(due_ms);
        side.queued_at = Some(Instant::now());
        self.ready.push_back(slot);
    }

    pub(super) fn message(&mut self, msg: ShardMsg) {
        if let ShardMsg::XmppLink { index, .. } | ShardMsg::UdpBinding { index, .. } = &msg {
            if let Some(slot) = self.slot_of(*index) {
                if self.slots[slot as usize].state == State::InSession {
                    self.side.entry(slot).or_default().held_msgs.push(msg);
                    return;
                }
            }
        }
        match msg {
            ShardMsg::ConnectionRequest { index, at, via } => {
                let Some(slot) = self.slot_of(index) else {
                    self.stats.cr_fate.count(via, CrFate::Unserved);
                    return;
                };
                self.connection_request(slot, at, via);
            }
            ShardMsg::XmppLink { index, jid, status } => {
                if let Some(slot) = self.slot_of(index) {
                    self.xmpp_link(slot, jid.as_deref(), status);
                }
            }
            ShardMsg::UdpBinding {
                index,
                addr,
                nat_detected,
            } => self.udp_binding(index, addr, nat_detected),
        }
    }

    /// The device's XMPP client connection changed (TR-069 Annex K): XMPP.Connection.1's
    /// Status, LastChangeDate and JabberID follow it (TR-181), and ConnReqJabberID takes the
    /// bound JID, a value change the ACS hears of per its notification (active by default).
    pub(super) fn xmpp_link(&mut self, slot: u32, jid: Option<&str>, status: &str) {
        let root = self.template(slot).root().to_string();
        let conn = format!("{root}XMPP.Connection.1.");
        let now = self.ctx.sim_now().format();
        let active = self.with_view(slot, |v| {
            let mut active = false;
            let changed = v
                .get(&format!("{conn}Status"))
                .is_some_and(|p| p.value != status);
            if changed {
                let _ = v.set_local(&format!("{conn}Status"), status);
                let _ = v.set_local(&format!("{conn}LastChangeDate"), &now);
            }
            if let Some(jid) = jid {
                let _ = v.set_local(&format!("{conn}JabberID"), jid);
                let path = format!("{root}ManagementServer.ConnReqJabberID");
                active |= v.set_local(&path, jid).unwrap_or(false);
            }
            active
        });
        if active && self.slots[slot as usize].state == State::Idle {
            self.slots[slot as usize].life.add(EventCode::ValueChange);
            let now = self.now_ms();
            self.make_due(slot, now);
        }
    }

    /// A connection request the listener accepted (HTTP, UDP or XMPP): the device opens a session
    /// with `6 CONNECTION REQUEST`, now or right after the one it is in; its fate is counted.
    fn connection_request(&mut self, slot: u32, at: Instant, via: CrTransport) {
        let s = &mut self.slots[slot as usize];
        let state = s.state;
        if matches!(state, State::Off | State::Rebooting) {
            self.stats.cr_fate.count(via, CrFate::DeviceOff);
            return;
        }
        let side = self.side.entry(slot).or_default();
        if side.cr_at.is_some() {
            // One session answers both: the event is already pending.
            self.stats.cr_fate.count(via, CrFate::Merged);
            return;
        }
        side.cr_at = Some(at);
        side.cr_via = via;
        if state == State::InSession {
            side.held.push(EventCode::ConnectionRequest);
            return;
        }
        s.life.add(EventCode::ConnectionRequest);
        // Idle: start now. Queued: the event rides along in the session it waits for
        // (TR-069 §3.2.2); in a session (above): a new one right after.
        let now = self.now_ms();
        self.make_due(slot, now);
    }

    /// A new STUN binding: the device's UDPConnectionRequestAddress (`host:port`, TR-069
    /// Annex G), NATDetected and STUNEnable become their new values (in the device's binding
    /// byte, `device::binding`), notified per each one's notification attribute; an active
    /// one opens a `4 VALUE CHANGE` session.
    fn udp_binding(&mut self, index: u32, addr: std::net::SocketAddr, nat_detected: bool) {
        let Some(slot) = self.slot_of(index) else {
            return;
        };
        if self.slots[slot as usize].state == State::InSession {
            // Its record is in the session task: written when it comes back.
            self.side.entry(slot).or_default().binding = Some((addr, nat_detected));
            return;
        }
        let active = self.with_view(slot, |v| v.stun_binding(addr, nat_detected));
        let s = &mut self.slots[slot as usize];
        if active && s.state == State::Idle {
            s.life.add(EventCode::ValueChange);
            let now = self.now_ms();
            self.make_due(slot, now);
        }
    }

    /// Fires every device due by `now`, and with timer slack every one due within it: devices
    /// due a few ms apart then share this wake-up of the process instead of one each (issue #17).
    /// Each keeps its own due time, so one fired early starts with no lag, never a negative
    /// one, and one fired late has its lateness counted as before (`start_session`).
    pub(super) fn fire_timers(&mut self, now: u64) {
        let horizon = now.saturating_add(self.ctx.timer_slack_ms);
        while let Some(e) = self.timers.pop_due(horizon) {
            let Some(s) = self.slots.get(e.slot as usize) else {
                continue;
            };
            if s.gen != e.gen {
                continue; // rescheduled since
            }
            match s.state {
                State::Off => self.power_on(e.slot),
                State::Rebooting => self.reboot_done(e.slot),
                State::Idle => self.idle_wake(e.slot, horizon, e.due_ms),
                State::Queued | State::InSession => {}
            }
        }
    }

    /// An idle device's timer fired: periodic inform, scheduled inform, transfers, retries;
    /// everything of it due by `horizon` (now, plus the timer slack).
    pub(super) fn idle_wake(&mut self, slot: u32, horizon: u64, due: u64) {
        let now = self.now_ms();
        let s = &mut self.slots[slot as usize];
        if s.periodic_due <= horizon {
            s.life.add(EventCode::Periodic);
            let consumed = std::mem::replace(&mut s.periodic_due, u64::MAX);
            if consumed > now {
                // Fired early (slack): the next periodic inform follows this one's due time,
                // not a clock still before it (see `next_periodic`).
                self.side.entry(slot).or_default().periodic_floor = Some(consumed);
            }
        }
        let mut fired = Vec::new();
        if let Some(side) = self.side.get_mut(&slot) {
            let mut i = 0;
            while i < side.timers.len() {
                if side.timers[i].0 <= horizon {
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

    pub(super) fn pending_fired(&mut self, slot: u32, p: Pending) {
        match p {
            Pending::Retry => {}
            Pending::ScheduleInform(key) => {
                let l = &mut self.slots[slot as usize].life;
                l.add(EventCode::Scheduled);
                l.add_keyed(EventCode::MScheduleInform, &key);
            }
            Pending::Diagnostics(object) => self.diagnostics_done(slot, &object, false),
            Pending::DiagnosticsInterrupted(object) => self.diagnostics_done(slot, &object, true),
            Pending::Measuring(..) => {}
            Pending::Measured(done) => self.measured_apply(slot, &done),
            Pending::Download(d) => self.start_download(slot, d, None),
            Pending::Scheduled(s) => self.start_scheduled(slot, s),
            Pending::DuApply(d) => self.du_apply(slot, &d),
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

    /// Holds a rare timer `sim_secs` simulated seconds from now, as a session's effects ask. It
    /// does not reschedule the device: `session_ended` does that once, after all the effects.
    pub(super) fn hold_timer(&mut self, slot: u32, sim_secs: u64, p: Pending) {
        let at = self.now_ms() + self.ctx.real(Duration::from_secs(sim_secs)).as_millis() as u64;
        self.side.entry(slot).or_default().timers.push((at, p));
    }

    pub(super) fn add_timer(&mut self, slot: u32, due_ms: u64, p: Pending) {
        self.side.entry(slot).or_default().timers.push((due_ms, p));
        self.schedule_next(slot);
    }

    /// Sets the device's next wake: the earliest of its periodic inform and rare timers.
    pub(super) fn schedule_next(&mut self, slot: u32) {
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

    /// The next periodic inform in real ms, from PeriodicInformEnable/Interval/Time (TR-181 ManagementServer).
    pub(super) fn next_periodic(&mut self, slot: u32) -> u64 {
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
        // Taken whether or not periodic informs are on, so no side entry is left behind.
        let (now_ms, sim_now) = self.periodic_base(slot);
        let s = &self.slots[slot as usize];
        let g = &self.ctx.groups[s.group as usize];
        let interval = match (g.periodic_interval, s.flags & ACS_SET_PERIODIC != 0) {
            (Some(d), false) => Some(d.as_secs().max(1) as u32),
            _ => interval,
        };
        let Some(interval) = interval.filter(|_| enable) else {
            return u64::MAX;
        };
        // Unknown PeriodicInformTime: the device's phase is its boot time, as on a real CPE.
        let next = life::next_periodic(sim_now, interval, time, boot.unix_ms());
        let mut wait = Duration::from_millis((next.unix_ms() - sim_now.unix_ms()).max(0) as u64);
        if g.jitter > 0.0 {
            // Drawn per (seed, device, periodic ordinal since boot): a clock reading (the due
            // instant) would move every jitter from one run to the next.
            let index = self.index_of(slot);
            let ordinal = (next.unix_ms() - boot.unix_ms()).div_euclid(i64::from(interval) * 1000);
            let u = seed::event_unit(
                self.ctx.seed,
                seed::Stream::PeriodicJitter,
                u64::from(index),
                ordinal as u64,
            );
            wait += Duration::from_secs(u64::from(interval)).mul_f64(g.jitter * u);
        }
        now_ms + self.ctx.real(wait).as_millis() as u64
    }

    /// The instant (real ms, simulated time) the next periodic inform is counted from: now, or
    /// for a device whose last one timer slack fired early and whose session already ended,
    /// that inform's due time. Counted from now, "the next one strictly after now" would be the
    /// one just sent, and the device would inform twice.
    fn periodic_base(&mut self, slot: u32) -> (u64, DateTime) {
        let floor = self
            .side
            .get_mut(&slot)
            .and_then(|s| s.periodic_floor.take());
        self.tidy_side(slot);
        let now_ms = self.now_ms();
        match floor {
            // The due time was stored in whole ms, rounded down twice (the real clock, the
            // simulated wait): 2 ms past it is past the inform it stands for.
            Some(f) if f + 2 > now_ms => (f + 2, self.ctx.sim_at(f + 2)),
            _ => (now_ms, self.ctx.sim_now()),
        }
    }
}
