//! The scripted device: a fleet CPE that answers as the case says and remembers what the ACS sent.

use super::*;

/// One ACS message the device saw, flattened for expectations.
#[derive(Debug, Clone)]
pub(super) struct Seen {
    pub(super) session: u32,
    pub(super) name: &'static str,
    pub(super) params: Vec<(String, String)>,
    pub(super) fields: Vec<(String, String)>,
}

/// How to answer the next matching requests.
#[derive(Debug, Clone)]
pub(super) struct Rule {
    pub(super) step: AnswerStep,
    pub(super) left: u32,
}

/// The scripted device: a fleet CPE plus what a script needs.
pub(super) struct Scripted {
    pub(super) cpe: Cpe,
    pub(super) serial: String,
    pub(super) session: u32,
    pub(super) rules: Vec<Rule>,
    pub(super) queued: Vec<CpeRequest>,
    pub(super) seen: Vec<Seen>,
    pub(super) check_failures: Vec<(Check, String)>,
}

impl SessionDevice for Scripted {
    fn inform(&mut self) -> Inform {
        self.cpe.inform()
    }
    fn inform_acknowledged(&mut self) {
        self.cpe.inform_acknowledged()
    }
    fn next_request(&mut self) -> Option<CpeRequest> {
        if self.queued.is_empty() {
            self.cpe.next_request()
        } else {
            Some(self.queued.remove(0))
        }
    }
    fn has_request(&self) -> bool {
        !self.queued.is_empty() || self.cpe.has_request()
    }
    fn request_answered(&mut self, req: &CpeRequest, answer: Result<&AcsResponse, &Fault>) {
        let (name, params, fields) = match answer {
            Ok(AcsResponse::GetRPCMethodsResponse(m)) => (
                "GetRPCMethodsResponse",
                m.method_list
                    .iter()
                    .map(|x| (x.clone(), String::new()))
                    .collect(),
                vec![],
            ),
            Ok(r) => (r.name(), vec![], vec![]),
            Err(f) => (
                match req {
                    CpeRequest::GetRPCMethods => "GetRPCMethodsResponse",
                    CpeRequest::DUStateChangeComplete(_) => "DUStateChangeCompleteResponse",
                    CpeRequest::AutonomousDUStateChangeComplete(_) => {
                        "AutonomousDUStateChangeCompleteResponse"
                    }
                    _ => "TransferCompleteResponse",
                },
                vec![],
                vec![("FaultCode".to_string(), f.code.to_string())],
            ),
        };
        self.seen.push(Seen {
            session: self.session,
            name,
            params,
            fields,
        });
        self.cpe.request_answered(req, answer)
    }
    fn apply(&mut self, req: &AcsRequest) -> CpeMessage {
        let (params, mut fields) = flatten(req);
        let name = req.name();
        let rule = self
            .rules
            .iter_mut()
            .find(|r| r.left > 0 && r.step.rpc.0 == name && r.step.fault.is_some());
        let msg = match rule {
            Some(r) => {
                r.left -= 1;
                let code = r.step.fault.unwrap_or(9002);
                let mut f = Fault::new(code);
                if let (AcsRequest::SetParameterValues(spv), Some(pc)) =
                    (req, r.step.parameter_fault)
                {
                    f.set_parameter_values_faults = spv
                        .parameter_list
                        .iter()
                        .map(|p| SetParameterValuesFault {
                            parameter_name: p.name.clone(),
                            code: pc,
                            string: Fault::new(pc).string,
                        })
                        .collect();
                }
                CpeMessage::Fault(f)
            }
            None => self.cpe.apply(req),
        };
        match &msg {
            CpeMessage::Response(CpeResponse::AddObjectResponse(a)) => {
                fields.push(("InstanceNumber".into(), a.instance_number.to_string()))
            }
            CpeMessage::Fault(f) => fields.push(("AnsweredFault".into(), f.code.to_string())),
            _ => {}
        }
        self.seen.push(Seen {
            session: self.session,
            name,
            params,
            fields,
        });
        msg
    }
    fn answer_timing(&mut self, req: &AcsRequest) -> Answering {
        let name = req.name();
        let Some(r) = self
            .rules
            .iter_mut()
            .find(|r| r.left > 0 && r.step.rpc.0 == name && r.step.fault.is_none())
        else {
            return Answering::Now;
        };
        r.left -= 1;
        if r.step.drop {
            Answering::Never
        } else {
            Answering::After(r.step.delay.map_or(Duration::ZERO, |d| d.0))
        }
    }
    fn param_kind(&mut self, path: &str) -> Option<XsdType> {
        self.cpe.with_view(|v| v.get(path).and_then(|p| p.kind))
    }
    fn check_failed(&mut self, check: Check, reason: &'static str, message: &'static str) {
        self.check_failures.push((
            check,
            format!(
                "{}: {reason} (device {}, session {}, message {message})",
                check.label(),
                self.serial,
                self.session
            ),
        ));
    }
}

/// The fields and parameters of an ACS request, as expectations name them.
pub(super) type Pairs = Vec<(String, String)>;

/// Long (over 80 lines): one arm per ACS request type.
pub(super) fn flatten(req: &AcsRequest) -> (Pairs, Pairs) {
    let f = |k: &str, v: String| (k.to_string(), v);
    match req {
        AcsRequest::SetParameterValues(s) => (
            s.parameter_list
                .iter()
                .map(|p| (p.name.clone(), p.value.clone()))
                .collect(),
            vec![f("ParameterKey", s.parameter_key.clone())],
        ),
        AcsRequest::GetParameterValues(g) => (
            g.parameter_names
                .iter()
                .map(|n| (n.clone(), String::new()))
                .collect(),
            vec![],
        ),
        AcsRequest::GetParameterNames(g) => (
            vec![],
            vec![
                f("ParameterPath", g.parameter_path.clone()),
                f("NextLevel", g.next_level.to_string()),
            ],
        ),
        AcsRequest::GetParameterAttributes(g) => (
            g.parameter_names
                .iter()
                .map(|n| (n.clone(), String::new()))
                .collect(),
            vec![],
        ),
        AcsRequest::SetParameterAttributes(a) => (
            a.parameter_list
                .iter()
                .map(|p| {
                    (
                        p.name.clone(),
                        p.notification.map_or(String::new(), |n| n.to_string()),
                    )
                })
                .collect(),
            vec![],
        ),
        AcsRequest::AddObject(a) => (
            vec![],
            vec![
                f("ObjectName", a.object_name.clone()),
                f("ParameterKey", a.parameter_key.clone()),
            ],
        ),
        AcsRequest::DeleteObject(d) => (
            vec![],
            vec![
                f("ObjectName", d.object_name.clone()),
                f("ParameterKey", d.parameter_key.clone()),
            ],
        ),
        AcsRequest::Reboot(r) => (vec![], vec![f("CommandKey", r.command_key.clone())]),
        AcsRequest::Download(d) => (
            vec![],
            vec![
                f("CommandKey", d.command_key.clone()),
                f("FileType", d.file_type.clone()),
                f("URL", d.url.clone()),
                f("FileSize", d.file_size.to_string()),
                f("DelaySeconds", d.delay_seconds.to_string()),
            ],
        ),
        AcsRequest::Upload(u) => (
            vec![],
            vec![
                f("CommandKey", u.command_key.clone()),
                f("FileType", u.file_type.clone()),
                f("URL", u.url.clone()),
            ],
        ),
        AcsRequest::ScheduleInform(s) => (
            vec![],
            vec![
                f("DelaySeconds", s.delay_seconds.to_string()),
                f("CommandKey", s.command_key.clone()),
            ],
        ),
        other => (vec![], flatten_transfers(other)),
    }
}

/// The fields of ScheduleDownload (its windows as `TimeWindowList.N.WindowStart` …),
/// CancelTransfer and ChangeDUState (`Operations.N.Type`, `.URL`, `.UUID`, `.Version`).
fn flatten_transfers(req: &AcsRequest) -> Pairs {
    let f = |k: String, v: &str| (k, v.to_string());
    match req {
        AcsRequest::ScheduleDownload(s) => {
            let mut v = vec![
                f("CommandKey".into(), &s.command_key),
                f("FileType".into(), &s.file_type),
                f("URL".into(), &s.url),
                f("FileSize".into(), &s.file_size.to_string()),
            ];
            for (i, w) in s.time_window_list.iter().enumerate() {
                let k = |n: &str| format!("TimeWindowList.{}.{n}", i + 1);
                v.push(f(k("WindowStart"), &w.window_start.to_string()));
                v.push(f(k("WindowEnd"), &w.window_end.to_string()));
                v.push(f(k("WindowMode"), &w.window_mode));
                v.push(f(k("MaxRetries"), &w.max_retries.to_string()));
            }
            v
        }
        AcsRequest::CancelTransfer(c) => vec![f("CommandKey".into(), &c.command_key)],
        AcsRequest::ChangeDUState(c) => {
            let mut v = vec![f("CommandKey".into(), &c.command_key)];
            for (i, op) in c.operations.iter().enumerate() {
                let k = |n: &str| format!("Operations.{}.{n}", i + 1);
                let (kind, url, uuid, version) = match op {
                    DuOperation::Install { url, uuid, .. } => ("Install", url, uuid, ""),
                    DuOperation::Update {
                        url, uuid, version, ..
                    } => ("Update", url, uuid, version.as_str()),
                    DuOperation::Uninstall { uuid, version, .. } => {
                        ("Uninstall", uuid, uuid, version.as_str())
                    }
                };
                v.push(f(k("Type"), kind));
                if kind != "Uninstall" {
                    v.push(f(k("URL"), url));
                }
                v.push(f(k("UUID"), uuid));
                v.push(f(k("Version"), version));
            }
            v
        }
        _ => vec![],
    }
}
