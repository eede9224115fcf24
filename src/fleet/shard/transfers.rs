//! File transfers a Download or Upload asked for: run as tasks beside the sessions, their
//! TransferComplete applied when the device is back.

use super::*;
use crate::fleet::shard::scheduled;

impl Shard {
    // === transfers ===

    pub(super) fn start_download(
        &mut self,
        slot: u32,
        d: crate::cwmp::Download,
        scheduled: Option<Box<scheduled::Scheduled>>,
    ) {
        let index = self.index_of(slot);
        self.slots[slot as usize]
            .device
            .transfer_started(&d.command_key);
        let g = &self.ctx.groups[self.slots[slot as usize].group as usize];
        let firmware = d.file_type.starts_with("1 ");
        let ordinal = self.transfer_ordinal(slot, &d.command_key);
        let fail = g.download_failure_rate > 0.0
            && seed::event_unit(
                self.ctx.seed,
                seed::Stream::Faults,
                u64::from(index),
                ordinal,
            ) < g.download_failure_rate;
        let legs = seed::event(
            self.ctx.seed,
            seed::Stream::Transfers,
            u64::from(index),
            ordinal,
        );
        let connector = self.ctx.transfer_connector.clone();
        let limits = self.ctx.transfer_limits.clone();
        let start = self.ctx.sim_now();
        let version = firmware.then(|| version_from_url(&d.url));
        let wan = g.wan;
        let task = self.tasks.spawn(async move {
            let result = if fail {
                Err(TransferFault {
                    code: 9010,
                    reason: "simulated download failure".into(),
                })
            } else {
                let get = transfer::download_over(
                    &connector,
                    &d.url,
                    (&d.username, &d.password),
                    d.file_size,
                    &limits,
                    wan.bandwidth,
                );
                crate::session::wan::paced(wan, legs, get).await
            };
            TaskResult::Transfer {
                slot,
                done: TransferDone {
                    upload: false,
                    key: d.command_key,
                    firmware,
                    version,
                    result,
                    start,
                    scheduled,
                },
            }
        });
        self.transfer_tasks.insert(task.id());
    }

    /// A transfer's event ordinal: the session that asked for it and its key. Its dice (an
    /// injected failure, its WAN legs) are then the same in every run with the seed, whatever
    /// ran before on other devices.
    pub(super) fn transfer_ordinal(&self, slot: u32, key: &str) -> u64 {
        (u64::from(self.slots[slot as usize].life.ordinal) << 32)
            ^ (seed::fnv1a(key.as_bytes()) >> 32)
    }

    pub(super) fn start_upload(&mut self, slot: u32, u: crate::cwmp::Upload) {
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
        let wan = self.ctx.groups[self.slots[slot as usize].group as usize].wan;
        let ordinal = self.transfer_ordinal(slot, &u.command_key);
        let legs = seed::event(
            self.ctx.seed,
            seed::Stream::Transfers,
            u64::from(index),
            ordinal,
        );
        let task = self.tasks.spawn(async move {
            let put = transfer::upload(
                &connector,
                &u.url,
                (&u.username, &u.password),
                body,
                &limits,
            );
            let result = crate::session::wan::paced(wan, legs, put).await;
            TaskResult::Transfer {
                slot,
                done: TransferDone {
                    upload: true,
                    key: u.command_key,
                    firmware: false,
                    version: None,
                    result,
                    start,
                    scheduled: None,
                },
            }
        });
        self.transfer_tasks.insert(task.id());
    }

    pub(super) fn transfer_ended(&mut self, slot: u32, mut done: TransferDone) {
        let complete = self.ctx.sim_now();
        let mut method = if done.upload {
            EventCode::MUpload
        } else {
            EventCode::MDownload
        };
        if let Some(s) = done.scheduled.take() {
            // A window's failure may be retried later; only the last one is reported.
            let Some(result) = self.scheduled_attempt_ended(slot, s, &done.result, complete) else {
                return;
            };
            done.result = result;
            method = EventCode::MScheduleDownload;
        }
        let TransferDone {
            upload,
            key,
            firmware,
            version,
            result,
            start,
            ..
        } = done;
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
