//! ChangeDUState in the fleet: the DU files are fetched for real (each Install's or Update's
//! URL, as a Download is), then the operations are applied to the device and its
//! DUStateChangeComplete is owed (TR-069 A.4.1.10, A.4.2.6). A churn phase's autonomous DU
//! changes go the same way, reported (AutonomousDUStateChangeComplete) only as far as the
//! device's DUStateChangeComplPolicy says.

use super::*;
use crate::cwmp::ChangeDUState;
use crate::device::software::Fetched;

/// A ChangeDUState whose files were fetched, waiting to be applied.
#[derive(Debug)]
pub(super) struct DuDone {
    req: ChangeDUState,
    fetched: Vec<Fetched>,
    start: DateTime,
    /// The device's own change (one operation), not the ACS's.
    autonomous: bool,
}

impl Shard {
    pub(super) fn start_change_du_state(&mut self, slot: u32, req: ChangeDUState) {
        self.fetch_du_files(slot, req, false);
    }

    /// A churn phase's autonomous change of the unit at `url` (none: uninstall the first).
    pub(super) fn autonomous_du_change(&mut self, slot: u32, url: Option<&str>) {
        let Some(op) = self.with_view(slot, |v| v.autonomous_du_plan(url)) else {
            // Nothing installed and no unit to install: the arrival changes nothing.
            self.stats.sessions.dropped += 1;
            return;
        };
        let req = ChangeDUState {
            operations: vec![op],
            command_key: String::new(),
        };
        self.fetch_du_files(slot, req, true);
    }

    /// Fetches each operation's file in order, over the group's WAN like a Download (its legs
    /// seeded per device, the session that asked and the operation).
    fn fetch_du_files(&mut self, slot: u32, req: ChangeDUState, autonomous: bool) {
        let urls = self.with_view(slot, |v| v.du_fetches(&req));
        let connector = self.ctx.transfer_connector.clone();
        let limits = self.ctx.transfer_limits.clone();
        let start = self.ctx.sim_now();
        let wan = self.ctx.groups[self.slots[slot as usize].group as usize].wan;
        let ordinal = self.transfer_ordinal(slot, &req.command_key);
        let (seed, index) = (self.ctx.seed, u64::from(self.index_of(slot)));
        let task = self.tasks.spawn(async move {
            let mut fetched = Vec::with_capacity(urls.len());
            for (i, url) in urls.into_iter().enumerate() {
                let Some(u) = url else {
                    fetched.push(None);
                    continue;
                };
                let legs = seed::event(seed, seed::Stream::Transfers, index, ordinal ^ i as u64);
                let get =
                    transfer::download_over(&connector, &u, ("", ""), 0, &limits, wan.bandwidth);
                let got = crate::session::wan::paced(wan, legs, get).await;
                fetched.push(Some(got.map_err(|f| (f.code, f.reason))));
            }
            TaskResult::Du {
                slot,
                done: Box::new(DuDone {
                    req,
                    fetched,
                    start,
                    autonomous,
                }),
            }
        });
        self.transfer_tasks.insert(task.id());
    }

    /// The files are in: apply now, or when the device's session is over.
    pub(super) fn du_fetched(&mut self, slot: u32, done: Box<DuDone>) {
        if self.slots[slot as usize].state == State::InSession {
            let now = self.now_ms();
            self.side
                .entry(slot)
                .or_default()
                .timers
                .push((now, Pending::DuApply(done)));
            return;
        }
        self.du_apply(slot, &done);
        // An autonomous change the policy filtered out leaves nothing to report.
        let s = &self.slots[slot as usize];
        if s.state == State::Idle && s.life.has_events() {
            let now = self.now_ms();
            self.make_due(slot, now);
        }
    }

    pub(super) fn du_apply(&mut self, slot: u32, done: &DuDone) {
        if done.autonomous {
            let (Some(op), fetched) = (done.req.operations.first(), done.fetched.first()) else {
                return;
            };
            let fetched = fetched.cloned().flatten();
            let report = self.with_view(slot, |v| v.autonomous_du_change(op, fetched, done.start));
            if let Some(r) = report {
                self.slots[slot as usize].life.autonomous_du_done(r);
            }
            return;
        }
        let report = self.with_view(slot, |v| {
            v.change_du_state(&done.req, &done.fetched, done.start)
        });
        self.slots[slot as usize].life.du_done(report);
    }
}
