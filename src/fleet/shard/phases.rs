//! Phases in a shard: power-ups spread over a ramp, outages, and the open-model and churn
//! arrival generators, each a pure function of (seed, phase, device) (`crate::seed`, `scenario::plan`).

use super::*;

impl Shard {
    // === phases ===

    pub(super) fn apply_phases(&mut self) {
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

    pub(super) fn start_phase(&mut self, n: u64, start: u64, kind: &PhaseKind) {
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
                        || !seed::selected(seed, n, u64::from(index), *share)
                    {
                        continue;
                    }
                    let at =
                        start + seed::spread(seed, n, u64::from(index), *over).as_millis() as u64;
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
                    if !seed::selected(seed, n, u64::from(index), *share) {
                        continue;
                    }
                    let back = start
                        + down.as_millis() as u64
                        + seed::spread(seed, n, u64::from(index), *recover_over).as_millis() as u64;
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
                        seed ^ seed::mix(n) ^ u64::from(self.id),
                    ),
                    phase_start_ms: start,
                    next_ms: None,
                    rng: seed::picker(seed ^ u64::from(self.id), n),
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
                            seed ^ seed::mix(n * 7 + salt) ^ u64::from(self.id),
                        ),
                        phase_start_ms: start,
                        next_ms: None,
                        rng: seed::picker(seed ^ u64::from(self.id) ^ salt, n),
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

    pub(super) fn fire_generators(&mut self, now: u64) {
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

    pub(super) fn arrival(&mut self, slot: u32, at: u64, what: GenKind) {
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
                let mut level = None;
                self.with_view(slot, |v| {
                    for p in &candidates {
                        if let Ok(a) = v.set_local(p, &value) {
                            active = a;
                            level = v.notification_at(p);
                            return;
                        }
                    }
                });
                // TR-069 §3.2.1: off means the change is never reported; count it apart so a
                // churn that produces no Inform is visible.
                match level {
                    Some(2) => self.stats.value_changes.active += 1,
                    Some(1) => self.stats.value_changes.passive += 1,
                    Some(_) => self.stats.value_changes.not_notified += 1,
                    None => {}
                }
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
}
