//! Phases in a shard: power-ups spread over a ramp, outages, and what an open-model or churn
//! arrival does to its device; each choice a pure function of (seed, phase, device)
//! (`crate::seed`; the generators themselves are in `generators.rs`).

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
            } => self.boot(n, start, *over, groups, *share),
            PhaseKind::Outage {
                share,
                down,
                recover_over,
            } => self.outage(n, start, *share, *down, *recover_over),
            // The ACS's outage is in the transport (session::wan); the devices carry on.
            PhaseKind::Steady | PhaseKind::AcsOutage { .. } => {}
            PhaseKind::Rate { .. } => self.start_rate(n, start, len, kind),
            PhaseKind::Churn { .. } => self.start_churn(n, start, len, kind),
        }
    }

    /// Powers up the selected devices that are off, spread over `over`.
    fn boot(&mut self, n: u64, start: u64, over: Duration, groups: &[String], share: f64) {
        let seed = self.ctx.seed;
        for slot in 0..self.slots.len() as u32 {
            let index = self.index_of(slot);
            let s = &self.slots[slot as usize];
            let g = &self.ctx.groups[s.group as usize];
            if s.state != State::Off
                || (!groups.is_empty() && !groups.contains(&g.name))
                || !seed::selected(seed, n, u64::from(index), share)
            {
                continue;
            }
            let at = start + seed::spread(seed, n, u64::from(index), over).as_millis() as u64;
            self.wake(slot, at);
        }
    }

    /// Powers off the selected devices; each comes back after `down`, spread over `recover_over`.
    fn outage(&mut self, n: u64, start: u64, share: f64, down: Duration, recover_over: Duration) {
        let seed = self.ctx.seed;
        for slot in 0..self.slots.len() as u32 {
            let index = self.index_of(slot);
            if !seed::selected(seed, n, u64::from(index), share) {
                continue;
            }
            let back = start
                + down.as_millis() as u64
                + seed::spread(seed, n, u64::from(index), recover_over).as_millis() as u64;
            self.power_off(slot);
            self.wake(slot, back);
        }
    }

    /// Arrival `tag` (phase, number) of a generator reaches device `slot` at `at`.
    pub(super) fn arrival(&mut self, slot: u32, at: u64, what: GenKind, tag: (u64, u64)) {
        let state = self.slots[slot as usize].state;
        match what {
            GenKind::Session(event) => {
                if state != State::Idle {
                    // The device is busy, off or already waiting: the arrival cannot become a
                    // session of its own. Counted, never silently skipped.
                    self.stats.sessions.dropped += 1;
                    return;
                }
                self.slots[slot as usize].life.add(event);
                self.make_due(slot, at);
            }
            GenKind::ValueChange(param) => {
                if matches!(state, State::Off | State::Rebooting | State::InSession) {
                    self.stats.sessions.dropped += 1;
                    return;
                }
                // Named by the phase and the device's change number: the same value in every run.
                let value = format!("churn-{}.{}", tag.0, tag.1 + 1);
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
                    self.stats.sessions.dropped += 1;
                    return;
                }
                self.reboot(slot, None);
            }
            GenKind::DuChange(url) => {
                if state != State::Idle {
                    self.stats.sessions.dropped += 1;
                    return;
                }
                self.autonomous_du_change(slot, url.as_deref());
            }
        }
    }
}
