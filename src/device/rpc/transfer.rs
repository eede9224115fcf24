//! The file-transfer RPCs: Download, Upload, ScheduleDownload, CancelTransfer and the queue
//! listings (TR-069 A.3.2.8, A.4.1.5, A.4.1.8, A.4.1.9, A.3.2.10, A.4.1.6).

use crate::cwmp::{
    AllQueuedTransferStruct, CancelTransfer, CpeResponse, DateTime, Download, DownloadResponse,
    Fault, GetAllQueuedTransfersResponse, GetQueuedTransfersResponse, QueuedTransferStruct,
    ScheduleDownload, Upload, UploadResponse,
};
use crate::device::delta::{QueuedTransfer, MAX_QUEUED_TRANSFERS};
use crate::device::view::DeviceView;
use crate::device::Effect;

use super::{args, ok, Outcome};

impl DeviceView<'_> {
    /// TR-069 A.3.2.10 (GetQueuedTransfers).
    pub(super) fn queued_transfers(&self) -> Outcome {
        ok(CpeResponse::GetQueuedTransfersResponse(
            GetQueuedTransfersResponse {
                transfer_list: self
                    .d
                    .transfers()
                    .iter()
                    .map(|t| QueuedTransferStruct {
                        command_key: t.command_key.clone(),
                        state: t.state,
                    })
                    .collect(),
            },
        ))
    }

    /// TR-069 A.4.1.6 (GetAllQueuedTransfers).
    pub(super) fn all_queued_transfers(&self) -> Outcome {
        ok(CpeResponse::GetAllQueuedTransfersResponse(
            GetAllQueuedTransfersResponse {
                transfer_list: self
                    .d
                    .transfers()
                    .iter()
                    .map(|t| AllQueuedTransferStruct {
                        command_key: t.command_key.clone(),
                        state: t.state,
                        is_download: t.is_download,
                        file_type: t.file_type.clone(),
                        file_size: t.file_size,
                        target_file_name: t.target_file_name.clone(),
                    })
                    .collect(),
            },
        ))
    }

    pub(super) fn queue(&mut self, t: QueuedTransfer, url: &str) -> Result<(), Fault> {
        // HTTP is required, HTTPS expected; others are unsupported here (TR-069 §3.4.3: 9013).
        // No URL, or not one at all: 9003.
        args::url(url, args::MAX_URL_LEN)?;
        if self.d.transfers().len() >= MAX_QUEUED_TRANSFERS {
            return Err(Fault::new(9004));
        }
        self.d.delta_mut().transfers.push(t);
        Ok(())
    }

    /// Checks a download's file type and queues it, not yet started: a Download's and a
    /// ScheduleDownload's (its windows checked first) are one record.
    fn queue_download(&mut self, r: &Download) -> Result<(), Fault> {
        args::download_file_type(&r.file_type)?;
        self.queue(
            QueuedTransfer {
                command_key: r.command_key.clone(),
                is_download: true,
                file_type: r.file_type.clone(),
                file_size: r.file_size,
                target_file_name: r.target_file_name.clone(),
                state: 1,
            },
            &r.url,
        )
    }

    /// TR-069 A.3.2.8: accepted and queued; Status 1 with Unknown Times, TransferComplete later.
    pub(super) fn download(&mut self, r: &Download) -> Outcome {
        self.queue_download(r)?;
        Ok((
            CpeResponse::DownloadResponse(DownloadResponse {
                status: 1,
                start_time: DateTime::UNKNOWN,
                complete_time: DateTime::UNKNOWN,
            }),
            vec![Effect::Download(r.clone())],
        ))
    }

    pub(super) fn upload(&mut self, r: &Upload) -> Outcome {
        args::upload_file_type(&r.file_type)?;
        self.queue(
            QueuedTransfer {
                command_key: r.command_key.clone(),
                is_download: false,
                file_type: r.file_type.clone(),
                file_size: 0,
                target_file_name: String::new(),
                state: 1,
            },
            &r.url,
        )?;
        Ok((
            CpeResponse::UploadResponse(UploadResponse {
                status: 1,
                start_time: DateTime::UNKNOWN,
                complete_time: DateTime::UNKNOWN,
            }),
            vec![Effect::Upload(r.clone())],
        ))
    }

    pub(super) fn schedule_download(&mut self, r: &ScheduleDownload) -> Outcome {
        // One or two well-formed, ordered time windows with known modes (TR-069 A.4.1.8).
        crate::device::window::validate(&r.time_window_list)?;
        self.queue_download(&r.download())?;
        Ok((
            CpeResponse::ScheduleDownloadResponse,
            vec![Effect::ScheduleDownload(r.clone())],
        ))
    }

    /// Cancels every not-yet-started transfer with the CommandKey. One in progress or done:
    /// 9021 (not permitted in the current state). No such transfer: 9003 — TR-069 gives no
    /// dedicated code and the argument names nothing the CPE has.
    pub(super) fn cancel_transfer(&mut self, r: &CancelTransfer) -> Outcome {
        let matching: Vec<&QueuedTransfer> = self
            .d
            .transfers()
            .iter()
            .filter(|t| t.command_key == r.command_key)
            .collect();
        if matching.is_empty() {
            return Err(Fault::new(9003));
        }
        if matching.iter().any(|t| t.state != 1) {
            return Err(Fault::new(9021));
        }
        if let Some(d) = self.d.delta.as_mut() {
            d.transfers.retain(|t| t.command_key != r.command_key);
        }
        self.d.shrink();
        Ok((
            CpeResponse::CancelTransferResponse,
            vec![Effect::CancelTransfer {
                command_key: r.command_key.clone(),
            }],
        ))
    }
}
