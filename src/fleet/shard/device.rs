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
                self.side.remove(&slot);
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
        s.periodic_due = u64::MAX;
        self.ctx.live.online.fetch_add(1, Ordering::Relaxed);
        let now = self.now_ms();
        self.make_due(slot, now);
    }

    pub(super) fn reboot(&mut self, slot: u32, key: Option<String>) {
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
        self.side.entry(slot).or_default().due_ms = Some(due_ms);
        self.ready.push_back(slot);
    }

    pub(super) fn message(&mut self, msg: ShardMsg) {
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
                        // starts a new session right after (TR-069 §3.2.2).
                        let now = self.now_ms();
                        self.make_due(slot, now);
                    }
                }
            }
        }
    }

    pub(super) fn fire_timers(&mut self, now: u64) {
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
    pub(super) fn idle_wake(&mut self, slot: u32, now: u64, due: u64) {
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
        // A device waiting to retry a failed session holds new events (a periodic inform)
        // for that retry: its wait is the TR-069 back-off or the ACS's Retry-After, whichever
        // is longer (TR-069 §3.2.1.1), never cut short by another timer.
        let retry_pending = self
            .side
            .get(&slot)
            .is_some_and(|side| side.timers.iter().any(|t| matches!(t.1, Pending::Retry)));
        let s = &self.slots[slot as usize];
        if s.state == State::Idle
            && (retry
                || (!retry_pending && (s.life.has_events() || s.life.has_transfer_complete())))
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
            let u = seed::unit(self.ctx.seed, next.unix_ms() as u64, u64::from(index));
            wait += Duration::from_secs(u64::from(interval)).mul_f64(g.jitter * u);
        }
        self.now_ms() + self.ctx.real(wait).as_millis() as u64
    }
}
