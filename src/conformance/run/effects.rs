//! What the ACS asked for, carried out between sessions, time-compressed where waiting would
//! only slow the case: a reboot or a scheduled inform is due at once, a diagnostic test ends
//! at once with the results of the default model. Transfers are real: downloads and DU files
//! are fetched from the URL the ACS gave; a ScheduleDownload waits (in real time) for its
//! first window to open, so a CancelTransfer can withdraw it before.

use super::*;

use crate::cwmp::{ChangeDUState, ScheduleDownload};
use crate::device::diagnostics::DiagnosticsModel;

/// Per transfer the scripted device makes.
const TRANSFER_LIMITS: TransferLimits = TransferLimits {
    timeout: Duration::from_secs(30),
    max_bytes: 64 << 20,
};

impl Run<'_> {
    pub(super) async fn effects(&mut self) {
        let effects = std::mem::take(&mut self.dev.cpe.effects);
        for e in effects {
            match e {
                Effect::Reboot { command_key } => {
                    let life = &mut self.dev.cpe.life;
                    life.add(EventCode::Boot);
                    life.add_keyed(EventCode::MReboot, &command_key);
                    self.dev.cpe.device.set_boot_time(now());
                }
                Effect::FactoryReset => {
                    self.dev.cpe.with_view(|v| v.factory_reset());
                    self.dev.cpe.life = Life::first_boot();
                }
                Effect::ScheduleInform { command_key, .. } => {
                    let life = &mut self.dev.cpe.life;
                    life.add(EventCode::Scheduled);
                    life.add_keyed(EventCode::MScheduleInform, &command_key);
                }
                Effect::Download(d) => {
                    let (key, url, auth) = (&d.command_key, &d.url, (&d.username, &d.password));
                    let method = EventCode::MDownload;
                    self.download(key, url, auth, d.file_size, &d.file_type, method)
                        .await;
                }
                Effect::ScheduleDownload(sd) => {
                    let start = sd.time_window_list.first().map_or(0, |w| w.window_start);
                    let due = Instant::now() + Duration::from_secs(u64::from(start));
                    self.scheduled.push((due, sd));
                }
                Effect::CancelTransfer { command_key } => {
                    self.scheduled.retain(|(_, s)| s.command_key != command_key);
                }
                Effect::ChangeDuState(r) => self.change_du_state(r).await,
                Effect::DiagnosticsRequested { object } => {
                    let model = DiagnosticsModel::default();
                    self.dev.cpe.now = now();
                    self.dev
                        .cpe
                        .with_view(|v| v.finish_diagnostic(&object, &model, None));
                    self.dev.cpe.life.add(EventCode::DiagnosticsComplete);
                }
                _ => {}
            }
        }
        self.scheduled_due().await;
    }

    /// Runs the ScheduleDownloads whose first window has opened (TR-069 A.4.1.8), reported
    /// with `M ScheduleDownload`.
    pub(super) async fn scheduled_due(&mut self) {
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.scheduled)
            .into_iter()
            .partition(|(at, _)| *at <= now);
        self.scheduled = later;
        for (_, sd) in due {
            let ScheduleDownload {
                command_key,
                url,
                username,
                password,
                file_size,
                file_type,
                ..
            } = sd;
            let auth = (&username, &password);
            let method = EventCode::MScheduleDownload;
            self.download(&command_key, &url, auth, file_size, &file_type, method)
                .await;
        }
    }

    /// One download for real, its TransferComplete owed under `method`; a firmware image is
    /// applied at once (`1 BOOT`).
    async fn download(
        &mut self,
        key: &str,
        url: &str,
        auth: (&String, &String),
        size: u32,
        file_type: &str,
        method: EventCode,
    ) {
        let start = now();
        self.dev.cpe.device.transfer_started(key);
        let auth = (auth.0.as_str(), auth.1.as_str());
        let r = transfer::download(&self.connector, url, auth, size, &TRANSFER_LIMITS).await;
        let fault = match &r {
            Ok(_) => TransferCompleteFaultStruct {
                fault_code: 0,
                fault_string: String::new(),
            },
            Err(f) => f.to_struct(self.version, false),
        };
        let life = &mut self.dev.cpe.life;
        life.transfer_done(method, key, fault, start, now());
        if file_type.starts_with("1 ") && r.is_ok() {
            life.add(EventCode::Boot);
            self.dev.cpe.device.set_boot_time(now());
        }
    }

    /// The DU files of each operation, fetched for real in order.
    async fn du_files(
        &mut self,
        urls: Vec<Option<String>>,
    ) -> Vec<crate::device::software::Fetched> {
        let mut fetched = Vec::with_capacity(urls.len());
        for url in urls {
            fetched.push(match url {
                None => None,
                Some(u) => Some(
                    transfer::download(&self.connector, &u, ("", ""), 0, &TRANSFER_LIMITS)
                        .await
                        .map_err(|f| (f.code, f.reason)),
                ),
            });
        }
        fetched
    }

    /// ChangeDUState: files fetched, operations applied, DUStateChangeComplete owed.
    async fn change_du_state(&mut self, r: ChangeDUState) {
        let start = now();
        let urls = self.dev.cpe.with_view(|v| v.du_fetches(&r));
        let fetched = self.du_files(urls).await;
        self.dev.cpe.now = now();
        let report = self
            .dev
            .cpe
            .with_view(|v| v.change_du_state(&r, &fetched, start));
        self.dev.cpe.life.du_done(report);
    }

    /// The `du_change` step: the device's own change of the unit at `url`, reported per its
    /// DUStateChangeComplPolicy.
    pub(super) async fn du_change(&mut self, url: &str) -> Result<(), String> {
        let url = self.expand(url);
        let op = self
            .dev
            .cpe
            .with_view(|v| v.autonomous_du_plan(Some(&url)))
            .ok_or("du_change: nothing to change")?;
        let start = now();
        let req = ChangeDUState {
            operations: vec![op.clone()],
            command_key: String::new(),
        };
        let urls = self.dev.cpe.with_view(|v| v.du_fetches(&req));
        let fetched = self.du_files(urls).await.pop().flatten();
        self.dev.cpe.now = now();
        if let Some(report) = self
            .dev
            .cpe
            .with_view(|v| v.autonomous_du_change(&op, fetched, start))
        {
            self.dev.cpe.life.autonomous_du_done(report);
        }
        Ok(())
    }
}
