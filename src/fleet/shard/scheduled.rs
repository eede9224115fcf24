//! ScheduleDownload in the fleet (TR-069 A.4.1.8): each time window's attempt starts at the
//! moment its WindowMode allows (drawn from the run's seed, the device and the CommandKey,
//! never from a clock), a failed attempt is retried per MaxRetries inside its window and then
//! in the next window, and the outcome is reported with `M ScheduleDownload`; a download that
//! could not complete inside the windows is fault 9020.

use super::*;
use crate::cwmp::ScheduleDownload;
use crate::device::window;

/// A ScheduleDownload in progress: which window, which attempt in it, and when it was
/// accepted (simulated unix ms; the windows count from there).
#[derive(Debug)]
pub(super) struct Scheduled {
    pub(super) sd: ScheduleDownload,
    window: usize,
    attempt: u32,
    accepted_ms: i64,
}

impl Shard {
    /// The ScheduleDownloadResponse went out: plan the first window's attempt.
    pub(super) fn schedule_download(&mut self, slot: u32, sd: ScheduleDownload) {
        let s = Scheduled {
            sd,
            window: 0,
            attempt: 0,
            accepted_ms: self.ctx.sim_now().unix_ms(),
        };
        self.plan_window(slot, Box::new(s));
    }

    /// Holds the attempt of `s.window` until the moment its mode allows.
    fn plan_window(&mut self, slot: u32, s: Box<Scheduled>) {
        let Some(w) = s.sd.time_window_list.get(s.window) else {
            return;
        };
        let key = seed::fnv1a(s.sd.command_key.as_bytes()) ^ s.window as u64;
        let draw = seed::unit(
            self.ctx.seed,
            seed::mix(key ^ 0x5CD0),
            u64::from(self.index_of(slot)),
        );
        let at_ms = s.accepted_ms + i64::from(window::attempt_start(w, draw)) * 1000;
        let wait_s = (at_ms - self.ctx.sim_now().unix_ms()).max(0) as u64 / 1000;
        let at = self.now_ms() + self.ctx.real(Duration::from_secs(wait_s)).as_millis() as u64;
        self.add_timer(slot, at, Pending::Scheduled(s));
    }

    /// The attempt's moment came: download as a Download would, remembering the schedule.
    pub(super) fn start_scheduled(&mut self, slot: u32, s: Box<Scheduled>) {
        let d = s.sd.download();
        self.start_download(slot, d, Some(s));
    }

    /// An attempt ended at `complete`. Returns the result to report, or None when a later
    /// attempt (this window's retry, or the next window) takes over.
    pub(super) fn scheduled_attempt_ended(
        &mut self,
        slot: u32,
        mut s: Box<Scheduled>,
        result: &Result<u64, TransferFault>,
        complete: DateTime,
    ) -> Option<Result<u64, TransferFault>> {
        let w = s.sd.time_window_list.get(s.window)?;
        let end_ms = s.accepted_ms + i64::from(w.window_end) * 1000;
        let in_time = complete.unix_ms() <= end_ms;
        if result.is_ok() && in_time {
            return Some(result.clone());
        }
        if in_time && s.attempt + 1 < window::attempts(w) {
            s.attempt += 1;
            let now = self.now_ms();
            self.add_timer(slot, now, Pending::Scheduled(s));
            return None;
        }
        if s.window + 1 < s.sd.time_window_list.len() {
            s.window += 1;
            s.attempt = 0;
            self.slots[slot as usize]
                .device
                .transfer_waiting(&s.sd.command_key);
            self.plan_window(slot, s);
            return None;
        }
        Some(match result {
            Err(f) if in_time => Err(f.clone()),
            _ => Err(TransferFault {
                code: 9020,
                reason: "could not complete within the time windows".into(),
            }),
        })
    }
}
