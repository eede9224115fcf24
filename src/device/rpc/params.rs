//! The parameter RPCs (TR-069 A.3.2.1-A.3.2.5): names, values and attributes, read and
//! written.

use std::collections::HashSet;

use crate::cwmp::{
    CpeResponse, Fault, GetParameterAttributes, GetParameterAttributesResponse, GetParameterNames,
    GetParameterNamesResponse, GetParameterValues, GetParameterValuesResponse,
    ParameterAttributeStruct, ParameterInfoStruct, ParameterValueStruct, SetParameterAttributes,
    SetParameterValues, SetParameterValuesFault, SetParameterValuesResponse,
};
use crate::device::delta::{Attr, Key};
use crate::device::limit::Budget;
use crate::device::view::DeviceView;
use crate::device::Effect;
use crate::model::path;
use crate::model::template::segment_count;
use crate::model::{flag, Node, ObjId, Role};

use super::{ok, Outcome};

impl DeviceView<'_> {
    /// TR-069 A.3.2.3. The list is bounded by the answer limit (9004 beyond).
    pub(super) fn get_parameter_names(&self, r: &GetParameterNames) -> Outcome {
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

    pub(super) fn node_writable(&self, node: Node) -> bool {
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
    pub(super) fn expand(
        &self,
        name: &str,
        budget: &mut Budget,
    ) -> Result<Vec<(String, Key)>, Fault> {
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

    pub(super) fn get_parameter_values(&self, r: &GetParameterValues) -> Outcome {
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
    pub(super) fn set_parameter_values(&mut self, r: &SetParameterValues) -> Outcome {
        Budget::request(self.limit, r.parameter_list.len())?;
        let mut seen = HashSet::with_capacity(r.parameter_list.len());
        let mut faults = Vec::new();
        let mut writes: Vec<(Key, Box<str>)> = Vec::with_capacity(r.parameter_list.len());
        for pv in &r.parameter_list {
            if !seen.insert(pv.name.as_str()) {
                return Err(Fault::new(9003));
            }
            let code = match self.spv_write(pv) {
                Ok(w) => {
                    writes.push(w);
                    None
                }
                Err(code) => Some(code),
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
        let mut touched = Vec::new();
        for (key, value) in writes {
            let Some(def) = self.t.param(key.0) else {
                continue;
            };
            let changed = self.value(key.0, &key.1) != *value;
            if changed && def.role != Role::DiagnosticsState {
                touched.push(path::to_concrete(
                    path::parent(&def.path).unwrap_or_default(),
                    &key.1,
                ));
            }
            let effect = match def.role {
                // Rewriting a value with itself changes nothing to act on.
                Role::PeriodicInform if changed => Some(Effect::PeriodicInformChanged),
                Role::AcsUrl if changed => Some(Effect::ManagementServerUrlChanged),
                Role::CrCredentials if changed => Some(Effect::ConnectionRequestCredentialsChanged),
                Role::DiagnosticsState => {
                    let object =
                        path::to_concrete(path::parent(&def.path).unwrap_or_default(), &key.1);
                    match &*value {
                        "Requested" => Some(Effect::DiagnosticsRequested { object }),
                        "Canceled" => Some(Effect::DiagnosticsCanceled { object }),
                        _ => None,
                    }
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
        let ended = self.test_inputs_changed(touched, &effects);
        effects.extend(ended);
        self.set_parameter_key(&r.parameter_key);
        Ok((
            CpeResponse::SetParameterValuesResponse(SetParameterValuesResponse { status: 0 }),
            effects,
        ))
    }

    /// One SetParameterValues entry as the write it makes, or its per-parameter fault: 9005
    /// unknown, 9008 not writable, 9006 another type, 9007 a value the parameter refuses.
    fn spv_write(&self, pv: &ParameterValueStruct) -> Result<(Key, Box<str>), u32> {
        let (pid, inst) = match self.lookup(&pv.name) {
            Some((Node::Param(pid), inst)) if !path::is_partial(&pv.name) => (pid, inst),
            _ => return Err(9005),
        };
        let def = self.t.param(pid).ok_or(9005u32)?;
        if !def.has(flag::WRITABLE) {
            return Err(9008);
        }
        // No xsi:type given: accept; a different one: 9006.
        if pv.kind.is_some_and(|k| k != def.kind) {
            return Err(9006);
        }
        // TR-181 DiagnosticsState: None, Complete and the Error_ states are read-only values;
        // the ACS writes Requested or Canceled.
        if def.role == Role::DiagnosticsState
            && !matches!(pv.value.trim(), "Requested" | "Canceled")
        {
            return Err(9007);
        }
        match def.kind.canonical(&pv.value) {
            Some(c) if def.admits(&c) => Ok(((pid, inst), c.into_boxed_str())),
            _ => Err(9007),
        }
    }

    /// TR-181 `DiagnosticsState`: modifying a test's inputs while it runs terminates it and
    /// sets the state to None, unless the same SetParameterValues requests (or cancels) it.
    fn test_inputs_changed(&mut self, touched: Vec<String>, effects: &[Effect]) -> Vec<Effect> {
        let mut out: Vec<Effect> = Vec::new();
        for object in touched {
            let named = |e: &Effect| {
                matches!(e, Effect::DiagnosticsRequested { object: o }
                    | Effect::DiagnosticsCanceled { object: o } if *o == object)
            };
            if effects.iter().chain(out.iter()).any(named) {
                continue;
            }
            let state = format!("{object}DiagnosticsState");
            if self.get(&state).is_some_and(|p| p.value == "Requested") {
                let _ = self.set_local(&state, "None");
                out.push(Effect::DiagnosticsCanceled { object });
            }
        }
        out
    }

    /// ParameterKey follows every successful SPV/AddObject/DeleteObject (TR-069 A.3.2.1, A.3.2.6, A.3.2.7).
    pub(super) fn set_parameter_key(&mut self, key: &str) {
        let d = self.d.delta_mut();
        d.parameter_key = Some(key.into());
    }

    pub(super) fn get_parameter_attributes(&self, r: &GetParameterAttributes) -> Outcome {
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
    pub(super) fn set_parameter_attributes(&mut self, r: &SetParameterAttributes) -> Outcome {
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
}
