//! cpefleet's own NBI tasks beyond GenieACS's (whose NBI has none of them): `scheduleDownload`
//! (TR-069 A.4.1.8), `cancelTransfer` (A.4.1.9) and `changeDUState` (A.4.1.10), in the same
//! JSON dialect (camelCase keys, files named by their name on the ACS's file server).
//!
//! ```json
//! {"name": "scheduleDownload", "fileName": "fw-2.0.bin", "commandKey": "sd-1",
//!  "timeWindows": [{"start": 0, "end": 600, "mode": "2 Immediately", "maxRetries": 1}]}
//! {"name": "cancelTransfer", "commandKey": "sd-1"}
//! {"name": "changeDUState", "commandKey": "cdu-1", "operations": [
//!   {"install": {"fileName": "app-1.0.ipk", "uuid": "", "executionEnvRef": ""}},
//!   {"update": {"uuid": "…", "fileName": "app-2.0.ipk"}},
//!   {"uninstall": {"uuid": "…", "version": "2.0"}}]}
//! ```

use serde_json::Value;

use crate::cwmp::{
    AcsRequest, CancelTransfer, ChangeDUState, DuOperation, ScheduleDownload, TimeWindowStruct,
};

use super::*;

fn text(t: &Value, k: &str) -> Option<String> {
    t.get(k).and_then(|v| v.as_str()).map(str::to_string)
}

fn num(t: &Value, k: &str) -> Option<i64> {
    t.get(k).and_then(|v| v.as_i64())
}

/// A file on the ACS's file server by `fileName`, else a `url` as given.
fn url_of(t: &Value, file_base: &str) -> Option<String> {
    text(t, "fileName")
        .map(|f| format!("{file_base}/{f}"))
        .or_else(|| text(t, "url"))
}

/// `scheduleDownload`: one window of an hour, at any time, when none is given. The
/// `overlapping_windows` bug makes the second window start where the first does.
pub(super) fn schedule_download(
    t: &Value,
    key: String,
    file_base: &str,
    bad: Misbehaviour,
    files: &FileStore,
) -> Option<AcsRequest> {
    let mut windows: Vec<TimeWindowStruct> = match t.get("timeWindows") {
        None => vec![TimeWindowStruct {
            window_start: 0,
            window_end: 3600,
            window_mode: "1 At Any Time".into(),
            user_message: String::new(),
            max_retries: -1,
        }],
        Some(list) => list
            .as_array()?
            .iter()
            .map(|w| {
                Some(TimeWindowStruct {
                    window_start: u32::try_from(num(w, "start")?).ok()?,
                    window_end: u32::try_from(num(w, "end")?).ok()?,
                    window_mode: text(w, "mode").unwrap_or_else(|| "1 At Any Time".into()),
                    user_message: text(w, "userMessage").unwrap_or_default(),
                    max_retries: i32::try_from(num(w, "maxRetries").unwrap_or(-1)).ok()?,
                })
            })
            .collect::<Option<Vec<_>>>()?,
    };
    if bad.has(Misbehave::OverlappingWindows) {
        if let [a, b] = windows.as_mut_slice() {
            b.window_start = a.window_start;
        }
    }
    let file = text(t, "fileName");
    Some(AcsRequest::ScheduleDownload(ScheduleDownload {
        command_key: text(t, "commandKey").unwrap_or(key),
        file_type: text(t, "fileType").unwrap_or_else(|| "1 Firmware Upgrade Image".into()),
        url: url_of(t, file_base)?,
        username: String::new(),
        password: String::new(),
        file_size: file
            .and_then(|f| files.size(&f))
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        target_file_name: text(t, "targetFileName").unwrap_or_default(),
        time_window_list: windows,
    }))
}

pub(super) fn cancel_transfer(t: &Value) -> Option<AcsRequest> {
    Some(AcsRequest::CancelTransfer(CancelTransfer {
        command_key: text(t, "commandKey")?,
    }))
}

/// `changeDUState`: each operation an object with one key, `install`, `update` or `uninstall`.
pub(super) fn change_du_state(t: &Value, key: String, file_base: &str) -> Option<AcsRequest> {
    let operations = t
        .get("operations")?
        .as_array()?
        .iter()
        .map(|op| {
            let s = |o: &Value, k: &str| text(o, k).unwrap_or_default();
            if let Some(o) = op.get("install") {
                Some(DuOperation::Install {
                    url: url_of(o, file_base)?,
                    uuid: s(o, "uuid"),
                    username: String::new(),
                    password: String::new(),
                    execution_env_ref: s(o, "executionEnvRef"),
                })
            } else if let Some(o) = op.get("update") {
                Some(DuOperation::Update {
                    uuid: s(o, "uuid"),
                    version: s(o, "version"),
                    url: url_of(o, file_base).unwrap_or_default(),
                    username: String::new(),
                    password: String::new(),
                })
            } else {
                let o = op.get("uninstall")?;
                Some(DuOperation::Uninstall {
                    uuid: s(o, "uuid"),
                    version: s(o, "version"),
                    execution_env_ref: s(o, "executionEnvRef"),
                })
            }
        })
        .collect::<Option<Vec<_>>>()?;
    if operations.is_empty() {
        return None;
    }
    Some(AcsRequest::ChangeDUState(ChangeDUState {
        operations,
        command_key: text(t, "commandKey").unwrap_or(key),
    }))
}

/// The `one_parameter_per_spv` bug: a SetParameterValues split into one per parameter, in name
/// order (so `…DiagnosticsState` goes before `…Host`).
pub(super) fn split_spv(request: AcsRequest) -> Vec<AcsRequest> {
    let AcsRequest::SetParameterValues(spv) = request else {
        return vec![request];
    };
    let mut list = spv.parameter_list;
    list.sort_by(|a, b| a.name.cmp(&b.name));
    list.into_iter()
        .map(|p| {
            AcsRequest::SetParameterValues(crate::cwmp::SetParameterValues {
                parameter_list: vec![p],
                parameter_key: spv.parameter_key.clone(),
            })
        })
        .collect()
}
