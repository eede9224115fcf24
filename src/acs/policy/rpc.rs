//! One planned RPC from a task's YAML, with its `{placeholders}` expanded.

use super::*;

pub(super) fn rpc_request(
    spec: &PolicySpec,
    r: &RpcSpec,
    task: &TaskSpec,
    ctx: &PlanContext<'_>,
    device: Option<&DeviceRecord>,
) -> Option<AcsRequest> {
    let x = |s: &str| expand(s, ctx);
    Some(match r {
        RpcSpec::GetRPCMethods => AcsRequest::GetRPCMethods,
        RpcSpec::GetParameterNames(g) => AcsRequest::GetParameterNames(GetParameterNames {
            parameter_path: x(&g.path),
            next_level: g.next_level,
        }),
        RpcSpec::GetParameterValues(names) => AcsRequest::GetParameterValues(GetParameterValues {
            parameter_names: names.iter().map(|n| x(n)).collect(),
        }),
        RpcSpec::SetParameterValues(map) => set_values(map, ctx, device),
        RpcSpec::GetParameterAttributes(names) => {
            AcsRequest::GetParameterAttributes(GetParameterAttributes {
                parameter_names: names.iter().map(|n| x(n)).collect(),
            })
        }
        RpcSpec::SetParameterAttributes(list) => set_attributes(list, ctx),
        RpcSpec::AddObject(path) => AcsRequest::AddObject(AddObject {
            object_name: x(path),
            parameter_key: String::new(),
        }),
        RpcSpec::DeleteObject(path) => AcsRequest::DeleteObject(DeleteObject {
            object_name: x(path),
            parameter_key: String::new(),
        }),
        RpcSpec::Reboot(r) => AcsRequest::Reboot(Reboot {
            command_key: x(&r.command_key),
        }),
        RpcSpec::FactoryReset => AcsRequest::FactoryReset,
        RpcSpec::Download(d) => download(spec, d, ctx)?,
        RpcSpec::Upload(u) => upload(u, task, ctx),
        RpcSpec::ScheduleInform(s) => AcsRequest::ScheduleInform(ScheduleInform {
            delay_seconds: s.delay_seconds,
            command_key: x(&s.command_key),
        }),
        RpcSpec::ScheduleDownload(d) => schedule_download(spec, d, ctx)?,
        RpcSpec::ChangeDUState(ops) => change_du_state(ops, ctx),
    })
}

/// A served file's URL and size, or a URL as given (size 0: unknown).
fn file_url(
    spec: &PolicySpec,
    file: &Option<String>,
    url: &Option<String>,
    ctx: &PlanContext<'_>,
) -> Option<(String, u64)> {
    match (file, url) {
        (Some(f), _) => Some((format!("{}/{}", ctx.file_base_url, f), file_size(spec, f))),
        (None, Some(u)) => Some((expand(u, ctx), 0)),
        (None, None) => None,
    }
}

fn schedule_download(
    spec: &PolicySpec,
    d: &ScheduleDownloadSpec,
    ctx: &PlanContext<'_>,
) -> Option<AcsRequest> {
    let (url, size) = file_url(spec, &d.file, &d.url, ctx)?;
    Some(AcsRequest::ScheduleDownload(
        crate::cwmp::ScheduleDownload {
            command_key: String::new(),
            file_type: d.file_type.clone(),
            url,
            username: String::new(),
            password: String::new(),
            file_size: u32::try_from(size).unwrap_or(u32::MAX),
            target_file_name: d.target_file_name.clone(),
            time_window_list: d
                .windows
                .iter()
                .map(|w| crate::cwmp::TimeWindowStruct {
                    window_start: w.start,
                    window_end: w.end,
                    window_mode: w.mode.clone(),
                    user_message: w.user_message.clone(),
                    max_retries: w.max_retries,
                })
                .collect(),
        },
    ))
}

fn change_du_state(ops: &[DuOpSpec], ctx: &PlanContext<'_>) -> AcsRequest {
    let x = |s: &str| expand(s, ctx);
    let url = |o: &DuFileSpec| match (&o.file, &o.url) {
        (Some(f), _) => format!("{}/{}", ctx.file_base_url, f),
        (None, Some(u)) => x(u),
        (None, None) => String::new(),
    };
    let operations = ops
        .iter()
        .map(|op| match op {
            DuOpSpec::Install(o) => crate::cwmp::DuOperation::Install {
                url: url(o),
                uuid: x(&o.uuid),
                username: String::new(),
                password: String::new(),
                execution_env_ref: x(&o.execution_env_ref),
            },
            DuOpSpec::Update(o) => crate::cwmp::DuOperation::Update {
                uuid: x(&o.uuid),
                version: x(&o.version),
                url: url(o),
                username: String::new(),
                password: String::new(),
            },
            DuOpSpec::Uninstall(o) => crate::cwmp::DuOperation::Uninstall {
                uuid: x(&o.uuid),
                version: x(&o.version),
                execution_env_ref: x(&o.execution_env_ref),
            },
        })
        .collect();
    AcsRequest::ChangeDUState(crate::cwmp::ChangeDUState {
        operations,
        command_key: String::new(),
    })
}

/// SetParameterValues with each value's type chosen as GenieACS chooses it.
fn set_values(
    map: &BTreeMap<String, ValueSpec>,
    ctx: &PlanContext<'_>,
    device: Option<&DeviceRecord>,
) -> AcsRequest {
    let x = |s: &str| expand(s, ctx);
    let parameter_list = map
        .iter()
        .map(|(name, v)| {
            let name = x(name);
            let (scalar, explicit) = match v {
                ValueSpec::Typed(t) => (&t.value, t.kind.as_deref().map(kind_of_name)),
                ValueSpec::Plain(s) => (s, None),
            };
            // Explicit type first (a test may want a mismatch), then what the device
            // reported (GenieACS's rule), then the YAML scalar's own type.
            let kind = explicit
                .or_else(|| device.and_then(|d| d.kind_of(&name)))
                .or_else(|| {
                    ctx.params
                        .iter()
                        .find(|p| p.name == name)
                        .and_then(|p| p.kind)
                })
                .unwrap_or_else(|| scalar.natural_kind());
            let value = x(&scalar.text());
            let value = kind.canonical(&value).unwrap_or(value);
            ParameterValueStruct {
                name,
                value,
                kind: Some(kind),
            }
        })
        .collect();
    AcsRequest::SetParameterValues(SetParameterValues {
        parameter_list,
        parameter_key: String::new(),
    })
}

fn set_attributes(list: &[SpaSpec], ctx: &PlanContext<'_>) -> AcsRequest {
    let x = |s: &str| expand(s, ctx);
    AcsRequest::SetParameterAttributes(SetParameterAttributes {
        parameter_list: list
            .iter()
            .map(|a| SetParameterAttributesStruct {
                name: x(&a.name),
                notification_change: a.notification.is_some(),
                // 0 rather than GenieACS's empty element: the schema wants an int.
                notification: Some(a.notification.unwrap_or(0)),
                access_list_change: a.access_list.is_some(),
                access_list: a.access_list.clone().unwrap_or_default(),
            })
            .collect(),
    })
}

/// Download of a served file (its URL on the file server) or of a URL; `None` without either.
fn download(spec: &PolicySpec, d: &DownloadSpec, ctx: &PlanContext<'_>) -> Option<AcsRequest> {
    let x = |s: &str| expand(s, ctx);
    let (url, size) = match (&d.file, &d.url) {
        (Some(f), _) => (format!("{}/{}", ctx.file_base_url, f), file_size(spec, f)),
        (None, Some(u)) => (x(u), u64::from(d.file_size.unwrap_or(0))),
        (None, None) => return None,
    };
    Some(AcsRequest::Download(Download {
        command_key: String::new(),
        file_type: d.file_type.clone(),
        url,
        username: d.username.clone(),
        password: d.password.clone(),
        file_size: d
            .file_size
            .unwrap_or_else(|| u32::try_from(size).unwrap_or(u32::MAX)),
        target_file_name: d.target_file_name.clone(),
        delay_seconds: d.delay_seconds,
        success_url: String::new(),
        failure_url: String::new(),
    }))
}

fn upload(u: &UploadSpec, task: &TaskSpec, ctx: &PlanContext<'_>) -> AcsRequest {
    let x = |s: &str| expand(s, ctx);
    AcsRequest::Upload(Upload {
        command_key: String::new(),
        file_type: u.file_type.clone(),
        url: match &u.url {
            Some(url) => x(url),
            None => format!(
                "{}/uploads/{}/{}",
                ctx.file_base_url, ctx.device_id, task.name
            ),
        },
        username: String::new(),
        password: String::new(),
        delay_seconds: u.delay_seconds,
    })
}

/// A TR-106 (`unsignedInt`) or xsi (`xsd:unsignedInt`) type name.
pub fn kind_of_name(name: &str) -> XsdType {
    XsdType::from_tr106(name).unwrap_or_else(|| XsdType::from_xsi(name))
}

/// Replaces `{root}`, `{device_id}`, `{oui}`, `{product_class}`, `{serial}` and `{files}`
/// (the file server's base URL as this device reaches it, e.g. for a diagnostic's URL).
pub fn expand(s: &str, ctx: &PlanContext<'_>) -> String {
    if !s.contains('{') {
        return s.to_string();
    }
    s.replace("{root}", ctx.root)
        .replace("{files}", ctx.file_base_url)
        .replace("{device_id}", ctx.device_id)
        .replace("{oui}", &ctx.device.oui)
        .replace("{product_class}", &ctx.device.product_class)
        .replace("{serial}", &ctx.device.serial_number)
}
