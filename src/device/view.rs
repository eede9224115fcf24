//! [`DeviceView`]: a device read through its template — path lookup, current values
//! (delta over template over generator), attributes, the Inform, local value changes. The RPC
//! handlers (`rpc.rs`) build on these reads.
//!
//! Two read paths: a device whose instances are the template's uses the template's sorted
//! concrete table (binary search, range scan, no allocation per lookup); one with added or
//! deleted instances walks the schema, asking the delta which instances exist.

use crate::cwmp::{DeviceIdStruct, EventStruct, Fault, Inform, ParameterValueStruct};
use crate::device::delta::{Delta, Key};
use crate::device::limit::AnswerLimit;
use crate::device::{Device, Env, ACTIVE_CHANGE};
use crate::model::generate::{GenCtx, Ident};
use crate::model::path::{self, Inst, MAX_DEPTH};
use crate::model::{flag, Instances, Node, ObjId, ParamId, Role, Source, Template};

/// A device seen through its template: reads and applies RPCs. Pure.
pub struct DeviceView<'a> {
    pub(super) t: &'a Template,
    pub(super) d: &'a mut Device,
    pub(super) env: Env<'a>,
    /// How much one answer may build (9004 beyond).
    pub(super) limit: AnswerLimit,
}

/// Which instances exist on this device (template's, minus deleted, plus added).
pub(super) struct DevInstances<'t> {
    pub t: &'t Template,
    pub d: Option<&'t Delta>,
}

impl Instances for DevInstances<'_> {
    fn list(&self, table: ObjId, parent: &Inst) -> Vec<u32> {
        let mut v = self.t.initial_instances(table, parent);
        if let Some(d) = self.d {
            v.retain(|n| parent.push(*n).is_none_or(|i| !d.is_deleted(&(table, i))));
            v.extend(
                d.added
                    .iter()
                    .filter(|(o, i)| {
                        *o == table
                            && i.len() == parent.len() + 1
                            && i.truncate(parent.len()) == *parent
                    })
                    .filter_map(|(_, i)| i.last()),
            );
            v.sort_unstable();
            v.dedup();
        }
        v
    }
}

impl<'a> DeviceView<'a> {
    pub fn new(template: &'a Template, device: &'a mut Device, env: &Env<'a>) -> Self {
        DeviceView {
            t: template,
            d: device,
            env: *env,
            limit: AnswerLimit::default(),
        }
    }

    /// The same view with another answer limit (the group's `answer_limit:`).
    pub fn with_limit(mut self, limit: AnswerLimit) -> Self {
        self.limit = limit;
        self
    }

    pub fn template(&self) -> &Template {
        self.t
    }

    pub fn device(&self) -> &Device {
        self.d
    }

    /// The per-device connection-request path (unique per index, no leading slash).
    pub fn cr_path(&self) -> String {
        crate::model::cr_path(self.d.index)
    }

    /// The Inform's DeviceId, from DeviceInfo's identity parameters.
    pub fn device_id(&self) -> DeviceIdStruct {
        let [m, o, p, s] = self.t.identity;
        DeviceIdStruct {
            manufacturer: self.value(m, &Inst::EMPTY),
            oui: self.value(o, &Inst::EMPTY),
            product_class: self.value(p, &Inst::EMPTY),
            serial_number: self.value(s, &Inst::EMPTY),
        }
    }

    /// The DeviceId's SerialNumber alone (what a session's cwmp:ID prefix needs).
    pub fn serial_number(&self) -> String {
        self.value(self.t.identity[3], &Inst::EMPTY)
    }

    /// A parameter's current value and type, as the device itself sees it (hidden values
    /// included: the session layer needs the real passwords).
    pub fn get(&self, path: &str) -> Option<ParameterValueStruct> {
        match self.lookup(path)? {
            (Node::Param(pid), inst) => {
                let def = self.t.param(pid)?;
                Some(ParameterValueStruct::new(
                    path,
                    self.value(pid, &inst),
                    def.kind,
                ))
            }
            _ => None,
        }
    }

    /// A value written on this device (by the ACS, or a local change) rather than its
    /// template's: `None` while the template's value stands.
    pub fn written(&self, path: &str) -> Option<String> {
        let (Node::Param(pid), inst) = self.lookup(path)? else {
            return None;
        };
        self.delta()?.value(&(pid, inst)).map(str::to_string)
    }

    /// The Inform for these events: forced-inform parameters, then parameters with a pending
    /// (passive or active) value change, each once, with current values (TR-069 A.3.3.1).
    pub fn inform(&self, events: Vec<EventStruct>, retry_count: u32) -> Inform {
        let mut keys: Vec<Key> = Vec::new();
        for &pid in self.t.forced.iter() {
            let Some(def) = self.t.param(pid) else {
                continue;
            };
            for inst in self.instances_of(def.obj) {
                keys.push((pid, inst));
            }
        }
        if let Some(d) = self.delta() {
            for key in &d.changed {
                if !keys.contains(key) && self.key_exists(key) {
                    keys.push(*key);
                }
            }
        }
        let parameter_list = keys
            .iter()
            .filter_map(|(pid, inst)| {
                let def = self.t.param(*pid)?;
                Some(ParameterValueStruct::new(
                    path::to_concrete(&def.path, inst),
                    self.read_value(*pid, inst),
                    def.kind,
                ))
            })
            .collect();
        Inform {
            device_id: self.device_id(),
            events,
            max_envelopes: 1,
            current_time: self.env.now,
            retry_count,
            parameter_list,
        }
    }

    /// After InformResponse: the reported value changes are delivered, forget them.
    pub fn informed(&mut self) {
        self.d.flags &= !ACTIVE_CHANGE;
        if let Some(d) = self.d.delta.as_mut() {
            d.changed.clear();
        }
        self.d.shrink();
    }

    /// A local change (churn, a conformance step). Reportable per the notification attribute
    /// (1 passive, 2 active; forceEnabled counts as 2). Returns whether an active notification
    /// (a `4 VALUE CHANGE` session) is now due.
    pub fn set_local(&mut self, path: &str, value: &str) -> Result<bool, Fault> {
        let Some((Node::Param(pid), inst)) = self.lookup(path) else {
            return Err(Fault::new(9005));
        };
        let def = self.t.param(pid).ok_or_else(|| Fault::new(9005))?;
        let canonical = def.kind.canonical(value).ok_or_else(|| Fault::new(9007))?;
        if self.value(pid, &inst) == canonical {
            return Ok(self.d.active_change_pending());
        }
        let key = (pid, inst);
        let notification = self.notification(&key);
        let d = self.d.delta_mut();
        d.set_value(key, canonical.into_boxed_str());
        if notification >= 1 {
            d.note_change(key);
        }
        if notification == 2 {
            self.d.flags |= ACTIVE_CHANGE;
        }
        Ok(self.d.active_change_pending())
    }

    /// A new STUN binding (TR-069 Annex G): `addr` becomes UDPConnectionRequestAddress, and
    /// NATDetected and STUNEnable follow; each one that changed is notified per its attribute,
    /// as a local change is. Returns whether an active change awaits an Inform. Kept in the
    /// device's binding byte when the fleet's address table takes `addr` (see `binding`),
    /// else written as values.
    pub fn stun_binding(&mut self, addr: std::net::SocketAddr, nat_detected: bool) -> bool {
        let root = self.t.root().to_string();
        let names = ["UDPConnectionRequestAddress", "NATDetected", "STUNEnable"];
        let paths = names.map(|n| format!("{root}ManagementServer.{n}"));
        let Some(entry) = self.env.udp.and_then(|t| t.intern(addr)) else {
            let values = [addr.to_string(), nat_detected.to_string(), "true".into()];
            let mut active = false;
            for (p, v) in paths.iter().zip(values) {
                active |= self.set_local(p, &v).unwrap_or(false);
            }
            return active;
        };
        let keys = paths.map(|p| match self.lookup(&p) {
            Some((Node::Param(pid), inst)) => Some((pid, inst)),
            _ => None,
        });
        let before = keys.map(|k| k.map(|(pid, inst)| self.value(pid, &inst)));
        self.d.udp = super::binding::pack(entry, nat_detected);
        for (key, old) in keys.into_iter().zip(before) {
            let (Some(key), Some(old)) = (key, old) else {
                continue;
            };
            if self.value(key.0, &key.1) == old {
                continue;
            }
            let notification = self.notification(&key);
            if notification >= 1 {
                self.d.delta_mut().note_change(key);
            }
            if notification == 2 {
                self.d.flags |= ACTIVE_CHANGE;
            }
        }
        self.d.active_change_pending()
    }

    /// A STUN-binding parameter's value from the device's binding byte, if it has one.
    fn binding_value(&self, role: Role) -> Option<String> {
        if !matches!(
            role,
            Role::UdpCrAddress | Role::NatDetected | Role::StunEnable
        ) {
            return None;
        }
        let (entry, nat) = super::binding::unpack(self.d.udp)?;
        match role {
            Role::UdpCrAddress => Some(self.env.udp?.get(entry)?.to_string()),
            Role::NatDetected => Some(nat.to_string()),
            _ => Some("true".into()),
        }
    }

    /// A parameter whose value changed without the device storing it: its value is computed
    /// (a generator or a group-level value), and what changed is that it now applies, e.g. the
    /// ConnReqJabberID of a device whose XMPP connection came up (TR-069 Annex K). Reported
    /// per the notification attribute like [`DeviceView::set_local`], but the delta it needs
    /// lasts only until the Inform that carries it.
    pub fn note_local_change(&mut self, path: &str) -> Result<bool, Fault> {
        let Some((Node::Param(pid), inst)) = self.lookup(path) else {
            return Err(Fault::new(9005));
        };
        let key = (pid, inst);
        let notification = self.notification(&key);
        if notification >= 1 {
            self.d.delta_mut().note_change(key);
        }
        if notification == 2 {
            self.d.flags |= ACTIVE_CHANGE;
        }
        Ok(self.d.active_change_pending())
    }

    /// The effective notification attribute of a parameter (0 off, 1 passive, 2 active;
    /// forceEnabled counts as 2), None when the device has no such parameter.
    pub fn notification_at(&self, path: &str) -> Option<u8> {
        let Some((Node::Param(pid), inst)) = self.lookup(path) else {
            return None;
        };
        Some(self.notification(&(pid, inst)))
    }

    /// FactoryReset: drop all ACS-written state (values, attributes, instances, ParameterKey,
    /// queued transfers) and pending changes.
    /// Back to the factory state, except the installed firmware: a real CPE resets its
    /// configuration, not its image, so `DeviceInfo.SoftwareVersion` stays what the last
    /// firmware Download made it.
    pub fn factory_reset(&mut self) {
        let firmware_path = format!("{}DeviceInfo.SoftwareVersion", self.t.root());
        let firmware = self.written(&firmware_path);
        self.d.delta = None;
        self.d.flags = 0;
        if let Some(v) = firmware {
            // Not a change to notify: the reset's 0 BOOTSTRAP Inform carries it anyway.
            let _ = self.set_local(&firmware_path, &v);
            if let Some(d) = self.d.delta.as_mut() {
                d.changed.clear();
            }
            self.d.flags = 0;
        }
    }

    // === reads used by the RPC handlers ===

    pub(super) fn delta(&self) -> Option<&Delta> {
        self.d.delta.as_deref()
    }

    fn structural(&self) -> bool {
        self.delta().is_some_and(|d| d.has_structure())
    }

    pub(super) fn instances(&self) -> DevInstances<'_> {
        DevInstances {
            t: self.t,
            d: self.delta(),
        }
    }

    /// What an existing concrete path names on this device (not `""`).
    pub(super) fn lookup(&self, p: &str) -> Option<(Node, Inst)> {
        if !self.structural() {
            let e = self.t.entries().get(self.t.find_entry(p)?)?;
            return Some((e.node, e.inst));
        }
        let (node, inst) = self.t.resolve(p)?;
        let (obj, levels) = match node {
            Node::Table(o) => (o, self.t.object(o)?.depth.saturating_sub(1)),
            Node::Instance(o) | Node::Object(o) => (o, self.t.object(o)?.depth),
            Node::Param(pid) => {
                let o = self.t.param(pid)?.obj;
                (o, self.t.object(o)?.depth)
            }
        };
        self.chain_exists(obj, &inst, levels)
            .then_some((node, inst))
    }

    fn key_exists(&self, (pid, inst): &Key) -> bool {
        self.t
            .param(*pid)
            .and_then(|p| Some((p.obj, self.t.object(p.obj)?.depth)))
            .is_some_and(|(o, depth)| self.chain_exists(o, inst, depth))
    }

    /// Whether the first `levels` tables on `obj`'s path have the instances `inst` names.
    fn chain_exists(&self, obj: ObjId, inst: &Inst, levels: usize) -> bool {
        let (chain, len) = self.table_chain(obj);
        chain
            .iter()
            .take(len.min(levels))
            .enumerate()
            .all(|(k, table)| self.instance_exists(*table, &inst.truncate(k + 1)))
    }

    /// The tables on `obj`'s path, outermost first.
    pub(super) fn table_chain(&self, obj: ObjId) -> ([ObjId; MAX_DEPTH], usize) {
        let mut chain = [ObjId(0); MAX_DEPTH];
        let mut len = 0;
        let mut cur = Some(obj);
        while let Some(o) = cur {
            let Some(def) = self.t.object(o) else { break };
            if def.table.is_some() {
                if let Some(slot) = chain.get_mut(len) {
                    *slot = o;
                    len += 1;
                }
            }
            cur = def.parent;
        }
        if let Some(c) = chain.get_mut(..len) {
            c.reverse();
        }
        (chain, len)
    }

    pub(super) fn instance_exists(&self, table: ObjId, inst: &Inst) -> bool {
        let initial = self.t.is_initial(table, inst);
        match self.delta() {
            None => initial,
            Some(d) => (initial && !d.is_deleted(&(table, *inst))) || d.is_added(&(table, *inst)),
        }
    }

    /// Every existing instance-number tuple of `obj` (one empty tuple outside tables).
    pub(super) fn instances_of(&self, obj: ObjId) -> Vec<Inst> {
        let (chain, len) = self.table_chain(obj);
        let oracle = self.instances();
        let mut out = vec![Inst::EMPTY];
        for table in chain.iter().take(len) {
            out = out
                .iter()
                .flat_map(|p| {
                    oracle
                        .list(*table, p)
                        .into_iter()
                        .filter_map(|n| p.push(n))
                        .collect::<Vec<_>>()
                })
                .collect();
        }
        out
    }

    /// Visit the subtree at an existing partial path (`""` = everything) in tree order, down to
    /// `max_level` path segments.
    pub(super) fn visit(
        &self,
        prefix: &str,
        max_level: usize,
        f: &mut dyn FnMut(&str, Node, &Inst),
    ) {
        if !self.structural() {
            let range = self.t.entry_range(prefix);
            for e in self.t.entries().get(range).unwrap_or(&[]) {
                if usize::from(e.level) <= max_level {
                    f(self.t.entry_path(e), e.node, &e.inst);
                }
            }
            return;
        }
        let start = if prefix.is_empty() {
            Some((Node::Object(ObjId(0)), Inst::EMPTY))
        } else {
            self.lookup(prefix)
        };
        let start_path = if prefix.is_empty() {
            self.t.root()
        } else {
            prefix
        };
        if let Some(start) = start {
            self.t
                .walk(start, start_path, &self.instances(), max_level, f);
        }
    }

    /// The current value, hidden or not.
    pub(super) fn value(&self, pid: ParamId, inst: &Inst) -> String {
        self.value_inner(pid, inst, true)
    }

    /// The value as GetParameterValues and the Inform report it: hidden parameters read back as
    /// their type's null value (TR-106: hidden parameters read back as null).
    pub(super) fn read_value(&self, pid: ParamId, inst: &Inst) -> String {
        match self.t.param(pid) {
            Some(def) if def.has(flag::HIDDEN) => def.kind.null_value().to_string(),
            _ => self.value(pid, inst),
        }
    }

    fn value_inner(&self, pid: ParamId, inst: &Inst, with_ident: bool) -> String {
        let Some(def) = self.t.param(pid) else {
            return String::new();
        };
        if let Some(d) = self.delta() {
            if def.role == Role::ParameterKey {
                if let Some(k) = &d.parameter_key {
                    return k.to_string();
                }
            }
            if let Some(v) = d.value(&(pid, *inst)) {
                return v.to_string();
            }
        }
        if let Some(v) = self.binding_value(def.role) {
            return v;
        }
        match self.t.source(pid, inst) {
            Some(Source::Literal(v)) => v.to_string(),
            Some(Source::Gen(g)) => {
                // Identity placeholders resolve one level deep only, so a pattern quoting an
                // identity value whose own pattern quotes another cannot recurse.
                let ident = |id: Ident| {
                    if with_ident {
                        self.value_inner(self.t.ident_param(id), &Inst::EMPTY, false)
                    } else {
                        String::new()
                    }
                };
                let ctx = GenCtx {
                    seed: self.env.seed,
                    index: self.d.index,
                    inst: inst.as_slice(),
                    now: self.env.now,
                    boot: self.d.boot_time(),
                    salt: def.salt,
                    cr_url_base: self.env.cr_url_base,
                    ident: &ident,
                };
                g.eval(&ctx)
            }
            Some(Source::Count(table)) => self.instances().list(*table, inst).len().to_string(),
            Some(Source::Null) | None => def.kind.null_value().to_string(),
        }
    }

    /// Effective notification: forceEnabled is always active (TR-106 forceEnabled).
    pub(super) fn notification(&self, key: &Key) -> u8 {
        let Some(def) = self.t.param(key.0) else {
            return 0;
        };
        if def.has(flag::FORCE_ENABLED) {
            return 2;
        }
        self.delta()
            .and_then(|d| d.attr(key))
            .map_or(def.notification, |a| a.notification)
    }

    pub(super) fn access_list(&self, key: &Key) -> Vec<String> {
        match self.delta().and_then(|d| d.attr(key)) {
            Some(a) => a.access_list.iter().map(|s| s.to_string()).collect(),
            None => self
                .t
                .param(key.0)
                .map(|p| p.access_list.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default(),
        }
    }
}
