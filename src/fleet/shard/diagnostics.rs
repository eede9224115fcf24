//! Diagnostic tests in the fleet: a requested test runs for the group's simulated duration,
//! then its results are written from the group's model and `8 DIAGNOSTICS COMPLETE` is due. A
//! new request for the same object restarts the test; `Canceled` stops it; a reboot during it
//! ends it in `Error_Internal`, still reported (TR-181 `DiagnosticsState`).
//!
//! With `measure: real`, a Download/UploadDiagnostics whose URL is on loopback moves its bytes
//! for real: the test ends when the transfer does, with the bytes counted and the time taken
//! on the wall clock (TR-143 ROMTime…EOMTime), whatever the run's time scale.

use super::*;
use crate::device::diagnostics::{Measured, RealTransfer};

/// A real test's transfer outcome, for the run that started it.
#[derive(Debug)]
pub(super) struct MeasuredDone {
    object: String,
    run: u64,
    result: Result<Measured, TransferFault>,
}

impl Shard {
    pub(super) fn diagnostics_requested(&mut self, slot: u32, object: String) {
        // Requested again while running: terminated and restarted with the current inputs.
        self.diagnostics_canceled(slot, &object);
        let g = &self.ctx.groups[self.slots[slot as usize].group as usize];
        let model = g.diagnostics.clone();
        if let Some(t) = self.with_view(slot, |v| v.real_transfer(&object, &model)) {
            self.measure(slot, object, t);
            return;
        }
        let secs = model.duration.as_secs().max(1);
        self.hold_timer(slot, secs, Pending::Diagnostics(object));
    }

    pub(super) fn diagnostics_canceled(&mut self, slot: u32, object: &str) {
        if let Some(side) = self.side.get_mut(&slot) {
            side.timers.retain(|(_, p)| {
                !matches!(p, Pending::Diagnostics(o) | Pending::DiagnosticsInterrupted(o)
                    | Pending::Measuring(o, _) if o == object)
            });
        }
    }

    /// The device goes down: tests in progress cannot finish (a real one's transfer result
    /// finds no run to end and is dropped).
    pub(super) fn diagnostics_interrupted(&mut self, slot: u32) {
        let now = self.now_ms();
        if let Some(side) = self.side.get_mut(&slot) {
            for (due, p) in side.timers.iter_mut() {
                match p {
                    Pending::Diagnostics(o) => {
                        *p = Pending::DiagnosticsInterrupted(std::mem::take(o));
                    }
                    Pending::Measuring(o, _) => {
                        *p = Pending::DiagnosticsInterrupted(std::mem::take(o));
                        *due = now;
                    }
                    _ => {}
                }
            }
        }
    }

    /// The test's time is up (or it was interrupted): results, state, and the event.
    pub(super) fn diagnostics_done(&mut self, slot: u32, object: &str, interrupted: bool) {
        let g = self.slots[slot as usize].group as usize;
        let model = self.ctx.groups[g].diagnostics.clone();
        self.with_view(slot, |v| {
            if interrupted {
                v.interrupt_diagnostic(object);
            } else {
                v.finish_diagnostic(object, &model, None);
            }
        });
        self.slots[slot as usize]
            .life
            .add(EventCode::DiagnosticsComplete);
    }

    /// Starts the real transfer of a test; a marker stands for the run until it ends.
    fn measure(&mut self, slot: u32, object: String, t: RealTransfer) {
        self.measure_seq += 1;
        let run = self.measure_seq;
        self.side
            .entry(slot)
            .or_default()
            .timers
            .push((u64::MAX, Pending::Measuring(object.clone(), run)));
        let connector = self.ctx.transfer_connector.clone();
        let limits = self.ctx.transfer_limits.clone();
        let start = self.ctx.sim_now();
        let task = self.tasks.spawn(async move {
            // Real time when the clock runs (a paused test clock measures its own time), never
            // scaled: what is measured is this host moving the bytes.
            let t0 = Instant::now();
            let moved = match t.upload {
                None => transfer::download(&connector, &t.url, ("", ""), 0, &limits).await,
                Some(n) => {
                    let body = Bytes::from(vec![b'x'; n as usize]);
                    transfer::upload(&connector, &t.url, ("", ""), body, &limits).await
                }
            };
            let took = t0.elapsed().as_millis() as i64;
            let result = moved.map(|bytes| Measured {
                bytes,
                start,
                end: DateTime::from_unix_ms(start.unix_ms() + took),
            });
            TaskResult::Measured {
                slot,
                done: Box::new(MeasuredDone {
                    object,
                    run,
                    result,
                }),
            }
        });
        self.transfer_tasks.insert(task.id());
    }

    /// A real test's transfer ended: its results, unless the run was canceled, restarted or
    /// cut short by a reboot meanwhile.
    pub(super) fn measured(&mut self, slot: u32, done: Box<MeasuredDone>) {
        let Some(side) = self.side.get_mut(&slot) else {
            return;
        };
        let Some(i) = side.timers.iter().position(
            |(_, p)| matches!(p, Pending::Measuring(o, r) if *o == done.object && *r == done.run),
        ) else {
            return;
        };
        side.timers.remove(i);
        let now = self.now_ms();
        if self.slots[slot as usize].state == State::InSession {
            // The device's view is in the session task: apply when it comes back.
            self.side
                .entry(slot)
                .or_default()
                .timers
                .push((now, Pending::Measured(done)));
            return;
        }
        self.measured_apply(slot, &done);
        if self.slots[slot as usize].state == State::Idle {
            self.make_due(slot, now);
        }
    }

    pub(super) fn measured_apply(&mut self, slot: u32, done: &MeasuredDone) {
        let g = self.slots[slot as usize].group as usize;
        let model = self.ctx.groups[g].diagnostics.clone();
        self.with_view(slot, |v| match &done.result {
            Ok(m) => v.finish_diagnostic(&done.object, &model, Some(*m)),
            Err(f) => v.transfer_test_failed(&done.object, f.code),
        });
        self.slots[slot as usize]
            .life
            .add(EventCode::DiagnosticsComplete);
    }
}
