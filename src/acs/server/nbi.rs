//! GenieACS's NBI dialect (queue a task for a device) and the `/status` endpoints.

use super::*;
use crate::acs::cr_target;
use crate::acs::udp_cr::CrTransportChoice;

/// `POST /devices/<device id>/tasks[?connection_request]` in GenieACS's NBI dialect: the task
/// (JSON: `getParameterValues`, `setParameterValues`, `addObject`, `deleteObject`, `reboot`,
/// `factoryReset`, `download`, `getRPCMethods`, and cpefleet's `scheduleInform`,
/// `scheduleDownload`, `cancelTransfer` and `changeDUState`, see nbi_tasks.rs) is queued for
/// the device's next session. With `connection_request`, a connection request is sent at once:
/// 200 when the device accepted it, 202 when the task only waits in the queue (GenieACS answers
/// 202 when the device did not come online in time). `&transport=http|udp|xmpp` picks the
/// transport (default `auto`, as in `cr_target.rs`); 400 for another value.
pub(super) async fn nbi_task(shared: &Shared, req: Request<Incoming>) -> Resp {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let cr = query
        .split('&')
        .any(|kv| kv.starts_with("connection_request"));
    let choice = match query
        .split('&')
        .find_map(|kv| kv.strip_prefix("transport="))
        .map(CrTransportChoice::parse)
    {
        None => CrTransportChoice::Auto,
        Some(Some(c)) => c,
        Some(None) => return bad_request("transport: use auto, http, udp or xmpp"),
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(id) = path
        .strip_prefix("/devices/")
        .and_then(|p| p.strip_suffix("/tasks"))
        .map(percent_decode)
    else {
        return plain(StatusCode::NOT_FOUND, "Not found");
    };
    let body = match tokio::time::timeout(
        REQUEST_TIMEOUT,
        Limited::new(req.into_body(), 64 * 1024).collect(),
    )
    .await
    {
        Ok(Ok(b)) => b.to_bytes(),
        _ => return bad_request("Request body not received"),
    };
    let Ok(task) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return bad_request("Invalid JSON");
    };
    let Some(device) = shared.store.device(&id) else {
        return json(
            StatusCode::NOT_FOUND,
            br#"{"error":"No such device"}"#.to_vec(),
        );
    };
    let seq = shared.nbi_seq.fetch_add(1, Relaxed);
    let base = file_base_url(host.as_deref(), shared.fs_addr);
    let Some(request) = nbi_request(&task, seq, &base, shared.bad, &shared.files) else {
        return bad_request("Invalid task");
    };
    let requests = if shared.bad.has(Misbehave::OneParameterPerSpv) {
        nbi_tasks::split_spv(request)
    } else {
        vec![request]
    };
    // Queued per device, bounded like the device's task results: past it the caller waits.
    let queued = shared.nbi.lock().ok().is_some_and(|mut m| {
        let q = m.entry(id.clone()).or_default();
        let room = q.len() + requests.len() <= shared.store.limits().max_tasks_per_device;
        if room {
            q.extend(requests);
        }
        room
    });
    if !queued {
        return json(
            StatusCode::SERVICE_UNAVAILABLE,
            br#"{"error":"Too many queued tasks for this device"}"#.to_vec(),
        );
    }
    let mut status = StatusCode::ACCEPTED;
    if cr
        && !shared.bad.has(Misbehave::NoConnectionRequest)
        && connection_request(shared, &id, &device, choice).await
    {
        status = StatusCode::OK;
    }
    json(status, serde_json::to_vec(&task).unwrap_or_default())
}

/// One connection request to the device at once, over the transport `choice` picks; true
/// when the device accepted it (HTTP, XMPP) or the datagrams went out (a UDP connection
/// request has no answer, TR-069 Annex G).
async fn connection_request(
    shared: &Shared,
    id: &str,
    device: &DeviceRecord,
    choice: CrTransportChoice,
) -> bool {
    let choice = match choice {
        CrTransportChoice::Auto if shared.bad.has(Misbehave::HttpInsteadOfXmpp) => {
            CrTransportChoice::Http
        }
        c => c,
    };
    let Some(target) = cr_target::choose(choice, device, shared.xmpp.as_ref()) else {
        return false;
    };
    // Deliberate bugs (conformance self-tests): a wrong password in an XMPP IQ, a UDP
    // request signed with a wrong one.
    let wrong = match target {
        cr_target::Target::Xmpp(_) => shared.bad.has(Misbehave::XmppWrongPassword),
        cr_target::Target::Udp(_) => shared.bad.has(Misbehave::UdpBadSignature),
        cr_target::Target::Http(_) => false,
    };
    let bad_password = device.cr_password.as_deref().map(|p| format!("{p}-wrong"));
    let creds = device
        .cr_username
        .as_deref()
        .zip(match (wrong, &bad_password) {
            (true, Some(w)) => Some(w.as_str()),
            _ => device.cr_password.as_deref(),
        });
    let senders = cr_target::Senders {
        udp: match target {
            cr_target::Target::Udp(_) => tokio::net::UdpSocket::bind("0.0.0.0:0")
                .await
                .ok()
                .map(Arc::new),
            _ => None,
        },
        xmpp: shared.xmpp.clone(),
    };
    let result = senders.send(&target, creds, Duration::from_secs(2)).await;
    shared
        .store
        .cr_result(id, target.transport(), result, unix_ms());
    matches!(result, "ok" | "udp_sent")
}

pub(super) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (c, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A GenieACS NBI task as the RPC it stands for.
/// Long (over 80 lines): one arm per NBI task name.
pub(super) fn nbi_request(
    t: &serde_json::Value,
    seq: u32,
    file_base: &str,
    bad: Misbehaviour,
    files: &FileStore,
) -> Option<crate::cwmp::AcsRequest> {
    use crate::cwmp::{self as c, AcsRequest as R};
    let s = |k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let object = |k: &str| {
        let mut o = s(k)?;
        if !o.ends_with('.') {
            o.push('.');
        }
        if bad.has(Misbehave::ObjectNameWithoutDot) {
            o.pop();
        }
        Some(o)
    };
    let key = format!("nbi-{seq}");
    Some(match t.get("name")?.as_str()? {
        "getParameterValues" => R::GetParameterValues(c::GetParameterValues {
            parameter_names: t
                .get("parameterNames")?
                .as_array()?
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
        }),
        "setParameterValues" => R::SetParameterValues(c::SetParameterValues {
            parameter_list: t
                .get("parameterValues")?
                .as_array()?
                .iter()
                .filter_map(|v| {
                    let a = v.as_array()?;
                    let name = a.first()?.as_str()?.to_string();
                    let value = match a.get(1)? {
                        serde_json::Value::String(x) => x.clone(),
                        other => other.to_string(),
                    };
                    let kind = a
                        .get(2)
                        .and_then(|k| k.as_str())
                        .map_or(c::XsdType::String, policy::kind_of_name);
                    Some(c::ParameterValueStruct {
                        name,
                        value,
                        kind: Some(kind),
                    })
                })
                .collect(),
            parameter_key: key,
        }),
        "addObject" => R::AddObject(c::AddObject {
            object_name: object("objectName")?,
            parameter_key: key,
        }),
        "deleteObject" => R::DeleteObject(c::DeleteObject {
            object_name: object("objectName")?,
            parameter_key: key,
        }),
        "reboot" => R::Reboot(c::Reboot { command_key: key }),
        "factoryReset" => R::FactoryReset,
        "getRPCMethods" => R::GetRPCMethods,
        "scheduleInform" => R::ScheduleInform(c::ScheduleInform {
            delay_seconds: if bad.has(Misbehave::ScheduleInformZeroDelay) {
                0
            } else {
                t.get("delaySeconds")
                    .and_then(|v| v.as_u64())
                    .and_then(|v| u32::try_from(v).ok())
                    .unwrap_or(5)
            },
            command_key: s("commandKey").unwrap_or(key),
        }),
        "download" => {
            let file = s("fileName").or_else(|| s("file"))?;
            R::Download(c::Download {
                file_type: s("fileType").unwrap_or_else(|| "1 Firmware Upgrade Image".into()),
                url: format!("{file_base}/{file}"),
                file_size: files
                    .size(&file)
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0),
                ..c::Download::default()
            })
        }
        "scheduleDownload" => nbi_tasks::schedule_download(t, key, file_base, bad, files)?,
        "cancelTransfer" => nbi_tasks::cancel_transfer(t)?,
        "changeDUState" => nbi_tasks::change_du_state(t, key, file_base)?,
        _ => return None,
    })
}

/// `GET /status`, `/status/devices`, `/status/devices/<id>`; None for other paths.
pub(super) fn status_request(shared: &Shared, path: &str) -> Option<Resp> {
    let store = &*shared.store;
    let to_json = |v: serde_json::Result<Vec<u8>>| match v {
        Ok(b) => json(StatusCode::OK, b),
        Err(_) => plain(StatusCode::INTERNAL_SERVER_ERROR, "serialisation failed"),
    };
    match path.trim_end_matches('/') {
        "/status" => Some(to_json(serde_json::to_vec(&store.snapshot()))),
        "/status/devices" => {
            let ids = store.device_ids(0, 10_000);
            Some(to_json(serde_json::to_vec(&serde_json::json!({
                "total": store.device_count(),
                "devices": ids,
            }))))
        }
        p => {
            let id = p.strip_prefix("/status/devices/")?;
            Some(match store.device(id) {
                Some(d) => to_json(serde_json::to_vec(&d)),
                None => json(
                    StatusCode::NOT_FOUND,
                    br#"{"error":"unknown device"}"#.to_vec(),
                ),
            })
        }
    }
}
