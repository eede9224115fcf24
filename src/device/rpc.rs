//! [`DeviceView::apply`]: the CPE side of every ACS -> CPE RPC (TR-069 Annex A; each method
//! cites its section). Each handler validates everything before it
//! changes anything, so a fault leaves the device as it was.

use crate::cwmp::{
    AcsRequest, AddObject, AddObjectResponse, AllQueuedTransferStruct, CancelTransfer, CpeMessage,
    CpeResponse, CwmpVersion, DateTime, DeleteObject, DeleteObjectResponse, Download,
    DownloadResponse, Fault, GetAllQueuedTransfersResponse, GetParameterAttributes,
    GetParameterAttributesResponse, GetParameterNames, GetParameterNamesResponse,
    GetParameterValues, GetParameterValuesResponse, GetQueuedTransfersResponse,
    GetRPCMethodsResponse, ParameterAttributeStruct, ParameterInfoStruct, ParameterValueStruct,
    QueuedTransferStruct, ScheduleDownload, SetParameterAttributes, SetParameterValues,
    SetParameterValuesFault, SetParameterValuesResponse, Upload, UploadResponse,
};
use std::collections::HashSet;

use crate::device::delta::{Attr, Key, QueuedTransfer, MAX_QUEUED_TRANSFERS};
use crate::device::limit::Budget;
use crate::device::view::DeviceView;
use crate::device::{Applied, Effect};
use crate::model::path::{self, Inst};
use crate::model::template::segment_count;
use crate::model::{flag, Node, ObjId, Role};

/// The methods this CPE implements, by the CWMP version that introduced them (TR-069 A.3.1.1:
/// the list is exact; anything else is answered 9000, §3.6 and A.5). ChangeDUState is not listed: deployment
/// units are not modelled.
const METHODS: &[(&str, CwmpVersion)] = &[
    ("GetRPCMethods", CwmpVersion::V1_0),
    ("SetParameterValues", CwmpVersion::V1_0),
    ("GetParameterValues", CwmpVersion::V1_0),
    ("GetParameterNames", CwmpVersion::V1_0),
    ("SetParameterAttributes", CwmpVersion::V1_0),
    ("GetParameterAttributes", CwmpVersion::V1_0),
    ("AddObject", CwmpVersion::V1_0),
    ("DeleteObject", CwmpVersion::V1_0),
    ("Download", CwmpVersion::V1_0),
    ("Reboot", CwmpVersion::V1_0),
    ("GetQueuedTransfers", CwmpVersion::V1_0),
    ("ScheduleInform", CwmpVersion::V1_0),
    ("Upload", CwmpVersion::V1_0),
    ("FactoryReset", CwmpVersion::V1_0),
    ("GetAllQueuedTransfers", CwmpVersion::V1_1),
    ("ScheduleDownload", CwmpVersion::V1_2),
    ("CancelTransfer", CwmpVersion::V1_2),
];

type Outcome = Result<(CpeResponse, Vec<Effect>), Fault>;

fn ok(r: CpeResponse) -> Outcome {
    Ok((r, Vec::new()))
}

impl DeviceView<'_> {
    /// Apply one ACS request: the response (or a cwmp Fault) and the effects for the session
    /// layer.
    pub fn apply(&mut self, req: &AcsRequest) -> Applied {
        let supported = METHODS
            .iter()
            .any(|(m, v)| *m == req.name() && *v <= self.t.cwmp_version());
        let outcome = if !supported {
            Err(Fault::new(9000))
        } else {
            match req {
                AcsRequest::GetRPCMethods => {
                    ok(CpeResponse::GetRPCMethodsResponse(GetRPCMethodsResponse {
                        method_list: METHODS
                            .iter()
                            .filter(|(_, v)| *v <= self.t.cwmp_version())
                            .map(|(m, _)| m.to_string())
                            .collect(),
                    }))
                }
                AcsRequest::GetParameterNames(r) => self.get_parameter_names(r),
                AcsRequest::GetParameterValues(r) => self.get_parameter_values(r),
                AcsRequest::SetParameterValues(r) => self.set_parameter_values(r),
                AcsRequest::GetParameterAttributes(r) => self.get_parameter_attributes(r),
                AcsRequest::SetParameterAttributes(r) => self.set_parameter_attributes(r),
                AcsRequest::AddObject(r) => self.add_object(r),
                AcsRequest::DeleteObject(r) => self.delete_object(r),
                AcsRequest::Reboot(r) => Ok((
                    CpeResponse::RebootResponse,
                    vec![Effect::Reboot {
                        command_key: r.command_key.clone(),
                    }],
                )),
                AcsRequest::FactoryReset => Ok((
                    CpeResponse::FactoryResetResponse,
                    vec![Effect::FactoryReset],
                )),
                AcsRequest::Download(r) => self.download(r),
                AcsRequest::Upload(r) => self.upload(r),
                AcsRequest::ScheduleInform(r) => {
                    // DelaySeconds must be positive (TR-069 A.4.1.2).
                    if r.delay_seconds == 0 {
                        Err(Fault::new(9003))
                    } else {
                        Ok((
                            CpeResponse::ScheduleInformResponse,
                            vec![Effect::ScheduleInform {
                                delay_seconds: r.delay_seconds,
                                command_key: r.command_key.clone(),
                            }],
                        ))
                    }
                }
                AcsRequest::ScheduleDownload(r) => self.schedule_download(r),
                AcsRequest::CancelTransfer(r) => self.cancel_transfer(r),
                AcsRequest::GetQueuedTransfers => ok(CpeResponse::GetQueuedTransfersResponse(
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
                )),
                AcsRequest::GetAllQueuedTransfers => ok(
                    CpeResponse::GetAllQueuedTransfersResponse(GetAllQueuedTransfersResponse {
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
                    }),
                ),
                // Not reachable (not in METHODS), kept explicit for when DUs are modelled.
                AcsRequest::ChangeDUState(_) | AcsRequest::Unknown(_) => Err(Fault::new(9000)),
            }
        };
        match outcome {
            Ok((response, effects)) => Applied {
                message: CpeMessage::Response(response),
                effects,
            },
            Err(fault) => Applied {
                message: CpeMessage::Fault(fault),
                effects: Vec::new(),
            },
        }
    }

    /// TR-069 A.3.2.3. The list is bounded by the answer limit (9004 beyond).
    fn get_parameter_names(&self, r: &GetParameterNames) -> Outcome {
        let p = r.parameter_path.as_str();
        let mut list = Vec::new();
        let mut budget = Budget::new(self.limit);
        let mut push = |name: &str, node: Node| {
            if budget.entry(name.len()) {
                list.push(ParameterInfoStruct {
                    name: name.to_string(),
                    writable: self.node_writable(node),
                })
            }
        };
        if p.is_empty() {
            if r.next_level {
                push(self.t.root(), Node::Object(ObjId(0)));
            } else {
                self.visit("", usize::MAX, &mut |name, node, _| push(name, node));
            }
        } else if !path::is_partial(p) {
            if r.next_level {
                return Err(Fault::new(9003));
            }
            match self.lookup(p) {
                Some((node @ Node::Param(_), _)) => push(p, node),
                _ => return Err(Fault::new(9005)),
            }
        } else {
            if self.lookup(p).is_none() {
                return Err(Fault::new(9005));
            }
            let level = segment_count(p);
            if r.next_level {
                self.visit(p, level + 1, &mut |name, node, _| {
                    if segment_count(name) == level + 1 {
                        push(name, node)
                    }
                });
            } else {
                self.visit(p, usize::MAX, &mut |name, node, _| push(name, node));
            }
        }
        budget.check()?;
        ok(CpeResponse::GetParameterNamesResponse(
            GetParameterNamesResponse {
                parameter_list: list,
            },
        ))
    }

    fn node_writable(&self, node: Node) -> bool {
        match node {
            Node::Param(pid) => self.t.param(pid).is_some_and(|p| p.has(flag::WRITABLE)),
            Node::Object(_) => false,
            Node::Table(o) | Node::Instance(o) => self
                .t
                .object(o)
                .and_then(|d| d.table.as_ref())
                .is_some_and(|t| t.writable),
        }
    }

    /// The parameters a GPV/GPA/SPA name stands for (TR-069 A.3.2.2): a full name, or everything
    /// below a partial path. 9005 if the name is unknown; 9004 once `budget` is spent (each entry
    /// is counted before it is built, so an over-limit request never holds more than the limit).
    fn expand(&self, name: &str, budget: &mut Budget) -> Result<Vec<(String, Key)>, Fault> {
        let mut out = Vec::new();
        if path::is_partial(name) {
            if !name.is_empty() && self.lookup(name).is_none() {
                return Err(Fault::new(9005));
            }
            self.visit(name, usize::MAX, &mut |p, node, inst| {
                if let Node::Param(pid) = node {
                    if budget.entry(p.len()) {
                        out.push((p.to_string(), (pid, *inst)));
                    }
                }
            });
        } else {
            match self.lookup(name) {
                Some((Node::Param(pid), inst)) => {
                    if budget.entry(name.len()) {
                        out.push((name.to_string(), (pid, inst)));
                    }
                }
                _ => return Err(Fault::new(9005)),
            }
        }
        budget.check()?;
        Ok(out)
    }

    fn get_parameter_values(&self, r: &GetParameterValues) -> Outcome {
        Budget::request(self.limit, r.parameter_names.len())?;
        let mut budget = Budget::new(self.limit);
        let mut list = Vec::new();
        for name in &r.parameter_names {
            // Any unknown name faults the whole call (9005, TR-069 A.3.2.2).
            for (p, (pid, inst)) in self.expand(name, &mut budget)? {
                let Some(def) = self.t.param(pid) else {
                    continue;
                };
                let value = self.read_value(pid, &inst);
                if !budget.add(value.len() as u64) {
                    return Err(Fault::new(9004));
                }
                list.push(ParameterValueStruct::new(p, value, def.kind));
            }
        }
        ok(CpeResponse::GetParameterValuesResponse(
            GetParameterValuesResponse {
                parameter_list: list,
            },
        ))
    }

    /// TR-069 A.3.2.1: atomic; per-parameter faults under a 9003.
    /// Linear in the list: duplicates are found with a hash set (comparing each name with all
    /// before it cost 1 s of a runtime thread for 30k names), and the list is bounded by the
    /// answer limit's parameter count before any name is looked at.
    fn set_parameter_values(&mut self, r: &SetParameterValues) -> Outcome {
        Budget::request(self.limit, r.parameter_list.len())?;
        let mut seen = HashSet::with_capacity(r.parameter_list.len());
        let mut faults = Vec::new();
        let mut writes: Vec<(Key, Box<str>)> = Vec::with_capacity(r.parameter_list.len());
        for pv in &r.parameter_list {
            if !seen.insert(pv.name.as_str()) {
                return Err(Fault::new(9003));
            }
            let code = match self.lookup(&pv.name) {
                Some((Node::Param(pid), inst)) if !path::is_partial(&pv.name) => {
                    match self.t.param(pid) {
                        None => Some(9005),
                        Some(def) if !def.has(flag::WRITABLE) => Some(9008),
                        // No xsi:type given: accept; a different one: 9006.
                        Some(def) if pv.kind.is_some_and(|k| k != def.kind) => Some(9006),
                        Some(def) => match def.kind.canonical(&pv.value) {
                            Some(c) if def.admits(&c) => {
                                writes.push(((pid, inst), c.into_boxed_str()));
                                None
                            }
                            _ => Some(9007),
                        },
                    }
                }
                _ => Some(9005),
            };
            if let Some(code) = code {
                faults.push(SetParameterValuesFault::new(pv.name.clone(), code));
            }
        }
        if !faults.is_empty() {
            let mut f = Fault::new(9003);
            f.set_parameter_values_faults = faults;
            return Err(f);
        }
        let mut effects = Vec::new();
        for (key, value) in writes {
            let Some(def) = self.t.param(key.0) else {
                continue;
            };
            let changed = self.value(key.0, &key.1) != *value;
            let effect = match def.role {
                // Rewriting a value with itself changes nothing to act on.
                Role::PeriodicInform if changed => Some(Effect::PeriodicInformChanged),
                Role::AcsUrl if changed => Some(Effect::ManagementServerUrlChanged),
                Role::CrCredentials if changed => Some(Effect::ConnectionRequestCredentialsChanged),
                Role::DiagnosticsState if &*value == "Requested" => {
                    Some(Effect::DiagnosticsRequested {
                        object: path::to_concrete(
                            path::parent(&def.path).unwrap_or_default(),
                            &key.1,
                        ),
                    })
                }
                _ => None,
            };
            if let Some(e) = effect {
                if !effects.contains(&e) {
                    effects.push(e);
                }
            }
            // ACS-made changes never notify the ACS (TR-069 A.3.2.4): no note_change here.
            self.d.delta_mut().set_value(key, value);
        }
        self.set_parameter_key(&r.parameter_key);
        Ok((
            CpeResponse::SetParameterValuesResponse(SetParameterValuesResponse { status: 0 }),
            effects,
        ))
    }

    /// ParameterKey follows every successful SPV/AddObject/DeleteObject (TR-069 A.3.2.1, A.3.2.6, A.3.2.7).
    fn set_parameter_key(&mut self, key: &str) {
        let d = self.d.delta_mut();
        d.parameter_key = Some(key.into());
    }

    fn get_parameter_attributes(&self, r: &GetParameterAttributes) -> Outcome {
        Budget::request(self.limit, r.parameter_names.len())?;
        let mut budget = Budget::new(self.limit);
        let mut list = Vec::new();
        for name in &r.parameter_names {
            for (p, key) in self.expand(name, &mut budget)? {
                let access_list = self.access_list(&key);
                let access_bytes: usize = access_list.iter().map(|a| a.len()).sum();
                if !budget.add(access_bytes as u64) {
                    return Err(Fault::new(9004));
                }
                list.push(ParameterAttributeStruct {
                    name: p,
                    notification: self.notification(&key),
                    access_list,
                });
            }
        }
        ok(CpeResponse::GetParameterAttributesResponse(
            GetParameterAttributesResponse {
                parameter_list: list,
            },
        ))
    }

    /// TR-069 A.3.2.4. Notification 3–6 (lightweight, CWMP 1.4 Annex M) is not offered: 9003.
    fn set_parameter_attributes(&mut self, r: &SetParameterAttributes) -> Outcome {
        Budget::request(self.limit, r.parameter_list.len())?;
        // `Device.` named many times would otherwise queue the whole tree each time.
        let mut budget = Budget::new(self.limit);
        let mut updates: Vec<(Key, Option<u8>, Option<Vec<String>>)> = Vec::new();
        for s in &r.parameter_list {
            let params = self.expand(&s.name, &mut budget)?;
            let notification = if s.notification_change {
                match s.notification {
                    Some(n @ 0..=2) => Some(n),
                    _ => return Err(Fault::new(9003)),
                }
            } else {
                None
            };
            let access = if s.access_list_change {
                // "Subscriber" is the only entity TR-069 defines.
                if s.access_list.iter().any(|a| a != "Subscriber") {
                    return Err(Fault::new(9003));
                }
                Some(s.access_list.clone())
            } else {
                None
            };
            for (_, key) in params {
                if notification == Some(2)
                    && self.t.param(key.0).is_some_and(|p| p.has(flag::CAN_DENY))
                {
                    return Err(Fault::new(9009));
                }
                updates.push((key, notification, access.clone()));
            }
        }
        for (key, notification, access) in updates {
            let Some(def) = self.t.param(key.0) else {
                continue;
            };
            let current = self.delta().and_then(|d| d.attr(&key)).cloned();
            let mut attr = current.unwrap_or_else(|| Attr {
                notification: def.notification,
                access_list: def.access_list.clone(),
            });
            if let Some(n) = notification {
                attr.notification = n;
            }
            if let Some(a) = access {
                attr.access_list = a.into_iter().map(String::into_boxed_str).collect();
            }
            let is_default =
                attr.notification == def.notification && attr.access_list == def.access_list;
            if is_default {
                if let Some(d) = self.d.delta.as_mut() {
                    d.set_attr(key, None);
                }
            } else {
                self.d.delta_mut().set_attr(key, Some(attr));
            }
        }
        self.d.shrink();
        ok(CpeResponse::SetParameterAttributesResponse)
    }

    /// TR-069 A.3.2.6.
    fn add_object(&mut self, r: &AddObject) -> Outcome {
        let name = r.object_name.as_str();
        let (table, parent) = match self.lookup(name) {
            Some((Node::Table(o), inst)) if path::is_partial(name) => (o, inst),
            _ => return Err(Fault::new(9005)),
        };
        let def = self
            .t
            .object(table)
            .and_then(|o| o.table.as_ref())
            .ok_or_else(|| Fault::new(9005))?;
        if !def.writable {
            return Err(Fault::new(9005));
        }
        let existing = self.instances().list_len(table, &parent);
        if def.max_entries.is_some_and(|m| existing >= m as usize) {
            return Err(Fault::new(9004));
        }
        // Next = highest ever assigned + 1, never reused (TR-069 A.3.2.6).
        let highest_initial = self.t.initial_instances(table, &parent).into_iter().max();
        let last = self
            .delta()
            .and_then(|d| d.last_assigned(&(table, parent)))
            .into_iter()
            .chain(highest_initial)
            .max()
            .unwrap_or(0);
        let n = last.checked_add(1).ok_or_else(|| Fault::new(9004))?;
        let inst = parent.push(n).ok_or_else(|| Fault::new(9004))?;
        let d = self.d.delta_mut();
        d.add_instance((table, inst));
        d.set_last_assigned((table, parent), n);
        self.set_parameter_key(&r.parameter_key);
        ok(CpeResponse::AddObjectResponse(AddObjectResponse {
            instance_number: n,
            status: 0,
        }))
    }

    fn delete_object(&mut self, r: &DeleteObject) -> Outcome {
        let name = r.object_name.as_str();
        let (table, inst) = match self.lookup(name) {
            Some((Node::Instance(o), inst)) if path::is_partial(name) => (o, inst),
            _ => return Err(Fault::new(9005)),
        };
        if !self.node_writable(Node::Instance(table)) {
            return Err(Fault::new(9005));
        }
        let initial = self.t.is_initial(table, &inst);
        let t = self.t;
        let Some(table_path) = t.object(table).map(|o| o.path.clone()) else {
            return Err(Fault::new(9005));
        };
        let under = |o: ObjId| {
            t.object(o)
                .is_some_and(|d| d.path.starts_with(&*table_path))
        };
        let param_under = |p| t.param(p).is_some_and(|d| d.path.starts_with(&*table_path));
        let d = self.d.delta_mut();
        if d.is_added(&(table, inst)) || initial {
            d.delete_instance((table, inst), initial, &under, &param_under);
        }
        self.set_parameter_key(&r.parameter_key);
        ok(CpeResponse::DeleteObjectResponse(DeleteObjectResponse {
            status: 0,
        }))
    }

    fn queue(&mut self, t: QueuedTransfer, url: &str) -> Result<(), Fault> {
        // HTTP is required, HTTPS expected; others are unsupported here (TR-069 §3.4.3; others fault 9013).
        let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        if !matches!(scheme.as_deref(), Some("http") | Some("https")) {
            return Err(Fault::new(9013));
        }
        if self.d.transfers().len() >= MAX_QUEUED_TRANSFERS {
            return Err(Fault::new(9004));
        }
        self.d.delta_mut().transfers.push(t);
        Ok(())
    }

    /// TR-069 A.3.2.8: accepted and queued; Status 1 with Unknown Times, TransferComplete later.
    fn download(&mut self, r: &Download) -> Outcome {
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
        )?;
        Ok((
            CpeResponse::DownloadResponse(DownloadResponse {
                status: 1,
                start_time: DateTime::UNKNOWN,
                complete_time: DateTime::UNKNOWN,
            }),
            vec![Effect::Download(r.clone())],
        ))
    }

    fn upload(&mut self, r: &Upload) -> Outcome {
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

    fn schedule_download(&mut self, r: &ScheduleDownload) -> Outcome {
        // One or two time windows, each well-formed (TR-069 A.4.1.8).
        let windows_ok = (1..=2).contains(&r.time_window_list.len())
            && r.time_window_list
                .iter()
                .all(|w| w.window_start <= w.window_end);
        if !windows_ok {
            return Err(Fault::new(9003));
        }
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
        )?;
        Ok((
            CpeResponse::ScheduleDownloadResponse,
            vec![Effect::ScheduleDownload(r.clone())],
        ))
    }

    /// Cancels every not-yet-started transfer with the CommandKey. One in progress or done:
    /// 9021 (not permitted in the current state). No such transfer: 9003 — TR-069 gives no
    /// dedicated code and the argument names nothing the CPE has.
    fn cancel_transfer(&mut self, r: &CancelTransfer) -> Outcome {
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

impl crate::device::view::DevInstances<'_> {
    fn list_len(&self, table: ObjId, parent: &Inst) -> usize {
        use crate::model::Instances;
        self.list(table, parent).len()
    }
}
