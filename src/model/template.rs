//! The compiled, immutable template shared (as `Arc<Template>`) by every device of a type.
//!
//! Two views of one data model:
//! - the schema: objects (`ObjectDef`, tables included) and parameters (`ParamDef`) with their
//!   types, flags, defaults and generators, looked up by schema path (`…SSID.{i}.SSID`);
//! - the concrete tree of an untouched device: every object and parameter path sorted in
//!   [`path::cmp_paths`] order in one string arena, so a partial-path query is a binary search
//!   plus a range scan and a full-name lookup is a binary search, both without allocating.
//!
//! A device whose instances were added or deleted is walked through the schema instead
//! ([`Template::walk`]), asking an [`Instances`] oracle which instances exist; the walk
//! visits in the same order as the sorted table (a test checks they agree).

use std::collections::HashMap;
use std::ops::Range;

use crate::cwmp::{CwmpVersion, XsdType};
use crate::model::generate::{Gen, Ident};
use crate::model::path::{self, Inst};

/// Index of a parameter definition (schema level).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ParamId(pub u32);

/// Index of an object definition (schema level). `ObjId(0)` is the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjId(pub u32);

/// What a concrete path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// A single (non-table) object, e.g. `Device.WiFi.`.
    Object(ObjId),
    /// The table object itself, e.g. `Device.WiFi.SSID.`.
    Table(ObjId),
    /// One instance of a table, e.g. `Device.WiFi.SSID.2.`.
    Instance(ObjId),
    Param(ParamId),
}

/// Parameter flag bits (one byte per parameter).
pub mod flag {
    pub const WRITABLE: u8 = 1;
    pub const FORCED_INFORM: u8 = 2;
    pub const HIDDEN: u8 = 4;
    /// TR-106 activeNotify canDeny: the CPE may refuse active notification (SPA -> 9009).
    pub const CAN_DENY: u8 = 8;
    /// TR-106 activeNotify forceEnabled: always active, whatever the attribute says.
    pub const FORCE_ENABLED: u8 = 16;
}

/// A parameter the RPC layer treats specially.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    None,
    /// ManagementServer.ParameterKey: reads the device's ParameterKey.
    ParameterKey,
    /// ManagementServer.PeriodicInformEnable / Interval / Time.
    PeriodicInform,
    /// ManagementServer.URL.
    AcsUrl,
    /// ManagementServer.ConnectionRequestUsername / Password.
    CrCredentials,
    /// `…DiagnosticsState`: setting it to "Requested" starts a diagnostic.
    DiagnosticsState,
    /// ManagementServer.UDPConnectionRequestAddress / NATDetected / STUNEnable: read from the
    /// device's STUN binding when it has one (TR-069 Annex G).
    UdpCrAddress,
    NatDetected,
    StunEnable,
}

/// Where an untouched device's value of a parameter comes from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Source {
    /// A literal, already canonical for the type.
    Literal(Box<str>),
    Gen(Gen),
    /// `<Table>NumberOfEntries`: the number of instances of that table under the same parent.
    Count(ObjId),
    /// No default given: the type's null value.
    Null,
}

#[derive(Debug, Clone)]
pub(crate) struct ParamDef {
    /// Schema path (`Device.WiFi.SSID.{i}.SSID`).
    pub path: Box<str>,
    pub obj: ObjId,
    pub kind: XsdType,
    pub flags: u8,
    pub notification: u8,
    pub access_list: Box<[Box<str>]>,
    pub source: Source,
    pub allowed: Box<[Box<str>]>,
    pub range: Option<(i64, i64)>,
    pub max_length: Option<u32>,
    pub salt: u64,
    pub role: Role,
}

impl ParamDef {
    pub fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }

    pub fn name(&self) -> &str {
        path::leaf(&self.path)
    }

    /// Whether a canonical value passes the enum, range and max_length facets (fault 9007 if
    /// not). The lexical check against the type is the caller's.
    pub fn admits(&self, canonical: &str) -> bool {
        if !self.allowed.is_empty() && !self.allowed.iter().any(|a| &**a == canonical) {
            return false;
        }
        if let Some((lo, hi)) = self.range {
            match canonical.trim().parse::<i128>() {
                Ok(v) if v >= i128::from(lo) && v <= i128::from(hi) => {}
                _ => return false,
            }
        }
        if let Some(max) = self.max_length {
            if canonical.chars().count() > max as usize {
                return false;
            }
        }
        true
    }
}

#[derive(Debug, Clone)]
pub(crate) struct TableDef {
    pub writable: bool,
    pub max_entries: Option<u32>,
    /// Every initial instance (full instance numbers, parent's first), sorted.
    pub initial: Box<[Inst]>,
}

#[derive(Debug, Clone)]
pub(crate) struct ObjectDef {
    /// Schema path; a table's ends in `{i}.`.
    pub path: Box<str>,
    pub parent: Option<ObjId>,
    /// Number of tables on the path (the length of its instance numbers).
    pub depth: usize,
    pub table: Option<TableDef>,
    pub params: Range<u32>,
    /// Direct child objects in tree order.
    pub children: Box<[ObjId]>,
}

impl ObjectDef {
    /// The object's own name segment (`SSID` for `Device.WiFi.SSID.{i}.`).
    pub fn name(&self) -> &str {
        let p = self.path.strip_suffix("{i}.").unwrap_or(&self.path);
        path::leaf(p)
    }
}

/// One concrete path of an untouched device.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    start: u32,
    len: u32,
    /// Number of path segments (`Device.WiFi.` = 2, `Device.WiFi.Enable` = 3).
    pub level: u8,
    pub node: Node,
    pub inst: Inst,
}

/// Which instances of a table exist under a parent instance, for devices whose instances
/// differ from the template's.
pub(crate) trait Instances {
    fn list(&self, table: ObjId, parent: &Inst) -> Vec<u32>;
}

/// The shared, compiled template. See the module doc.
#[derive(Debug, Clone)]
pub struct Template {
    pub(crate) name: Box<str>,
    pub(crate) root: Box<str>,
    pub(crate) version: CwmpVersion,
    pub(crate) objects: Box<[ObjectDef]>,
    pub(crate) params: Box<[ParamDef]>,
    /// Schema path (objects as `X.` / `X.{i}.`, parameters) -> node.
    pub(crate) schema: HashMap<Box<str>, Node>,
    /// Concrete paths of an untouched device.
    pub(crate) arena: Box<str>,
    pub(crate) entries: Box<[Entry]>,
    /// Concrete path -> index in `entries`, for exact lookups.
    pub(crate) exact: HashMap<Box<str>, u32>,
    /// Per-instance value overrides declared by concrete keys (`X.1.` in the file), sorted.
    pub(crate) overrides: Box<[((ParamId, Inst), Source)]>,
    /// Forced-inform parameters.
    pub(crate) forced: Box<[ParamId]>,
    /// DeviceInfo Manufacturer, ManufacturerOUI, ProductClass, SerialNumber.
    pub(crate) identity: [ParamId; 4],
    pub(crate) param_count: usize,
}

impl Template {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `Device.` or `InternetGatewayDevice.`.
    pub fn root(&self) -> &str {
        &self.root
    }

    pub fn cwmp_version(&self) -> CwmpVersion {
        self.version
    }

    /// Concrete parameters of an untouched device.
    pub fn parameter_count(&self) -> usize {
        self.param_count
    }

    /// Concrete objects and parameters of an untouched device, in tree order.
    pub fn paths(&self) -> impl Iterator<Item = &str> + '_ {
        self.entries.iter().map(|e| self.entry_path(e))
    }

    pub(crate) fn param(&self, id: ParamId) -> Option<&ParamDef> {
        self.params.get(id.0 as usize)
    }

    pub(crate) fn object(&self, id: ObjId) -> Option<&ObjectDef> {
        self.objects.get(id.0 as usize)
    }

    pub(crate) fn entry_path(&self, e: &Entry) -> &str {
        self.arena
            .get(e.start as usize..(e.start + e.len) as usize)
            .unwrap_or("")
    }

    /// The entry index of an exact concrete path of an untouched device.
    pub(crate) fn find_entry(&self, p: &str) -> Option<usize> {
        // A hash lookup: GenieACS asks for 32 full names per GPV, and a bisection over
        // segment-wise comparisons costs ~10x more per name.
        self.exact.get(p).map(|&i| i as usize)
    }

    /// The entries at and below a partial path (`""` = all) of an untouched device.
    pub(crate) fn entry_range(&self, prefix: &str) -> Range<usize> {
        let start = self
            .entries
            .partition_point(|e| path::cmp_paths(self.entry_path(e), prefix).is_lt());
        let len = self
            .entries
            .get(start..)
            .unwrap_or(&[])
            .iter()
            .take_while(|e| self.entry_path(e).starts_with(prefix))
            .count();
        start..start + len
    }

    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Resolve a concrete path against the schema (no existence check of instances).
    pub(crate) fn resolve(&self, p: &str) -> Option<(Node, Inst)> {
        let (schema, inst) = path::to_schema(p)?;
        let node = *self.schema.get(schema.as_str())?;
        // `X.{i}.` in the index names the instance; a concrete `X.` names the table.
        Some((node, inst))
    }

    /// Whether an instance exists in an untouched device.
    pub(crate) fn is_initial(&self, table: ObjId, inst: &Inst) -> bool {
        self.object(table)
            .and_then(|o| o.table.as_ref())
            .is_some_and(|t| t.initial.binary_search(inst).is_ok())
    }

    /// The initial instance numbers of `table` under `parent`.
    pub(crate) fn initial_instances(&self, table: ObjId, parent: &Inst) -> Vec<u32> {
        let Some(t) = self.object(table).and_then(|o| o.table.as_ref()) else {
            return Vec::new();
        };
        let start = t
            .initial
            .partition_point(|i| i.truncate(parent.len()) < *parent);
        t.initial
            .get(start..)
            .unwrap_or(&[])
            .iter()
            .take_while(|i| i.truncate(parent.len()) == *parent)
            .filter_map(|i| i.last())
            .collect()
    }

    /// The value an untouched device's parameter has, before generators run.
    pub(crate) fn source(&self, id: ParamId, inst: &Inst) -> Option<&Source> {
        if !self.overrides.is_empty() {
            if let Ok(i) = self
                .overrides
                .binary_search_by(|(k, _)| k.cmp(&(id, *inst)))
            {
                return self.overrides.get(i).map(|(_, s)| s);
            }
        }
        self.param(id).map(|p| &p.source)
    }

    /// The identity parameter for a generator placeholder.
    pub(crate) fn ident_param(&self, id: Ident) -> ParamId {
        match id {
            Ident::Oui => self.identity[1],
            Ident::ProductClass => self.identity[2],
            Ident::Serial => self.identity[3],
        }
    }

    /// Visit, in tree order, the subtree at `start` (an object node with its instance
    /// numbers and concrete path), asking `inst` which table instances exist. Stops descending
    /// below `max_level` segments.
    pub(crate) fn walk(
        &self,
        start: (Node, Inst),
        start_path: &str,
        instances: &dyn Instances,
        max_level: usize,
        f: &mut dyn FnMut(&str, Node, &Inst),
    ) {
        let mut buf = String::with_capacity(128);
        buf.push_str(start_path);
        self.walk_node(start.0, start.1, &mut buf, instances, max_level, f);
    }

    fn walk_node(
        &self,
        node: Node,
        inst: Inst,
        buf: &mut String,
        instances: &dyn Instances,
        max_level: usize,
        f: &mut dyn FnMut(&str, Node, &Inst),
    ) {
        let level = segment_count(buf);
        if level > max_level {
            return;
        }
        f(buf, node, &inst);
        if level >= max_level {
            // Every child (parameter, object or instance) is one segment deeper.
            return;
        }
        match node {
            Node::Param(_) => {}
            Node::Table(obj) => {
                for n in instances.list(obj, &inst) {
                    let Some(child) = inst.push(n) else { continue };
                    let mark = buf.len();
                    use std::fmt::Write;
                    let _ = write!(buf, "{n}.");
                    self.walk_node(Node::Instance(obj), child, buf, instances, max_level, f);
                    buf.truncate(mark);
                }
            }
            Node::Object(obj) | Node::Instance(obj) => {
                let Some(def) = self.object(obj) else { return };
                for pid in def.params.clone() {
                    let Some(p) = self.params.get(pid as usize) else {
                        continue;
                    };
                    let mark = buf.len();
                    buf.push_str(p.name());
                    f(buf, Node::Param(ParamId(pid)), &inst);
                    buf.truncate(mark);
                }
                for &child in def.children.iter() {
                    let Some(c) = self.object(child) else {
                        continue;
                    };
                    let mark = buf.len();
                    buf.push_str(c.name());
                    buf.push('.');
                    let node = if c.table.is_some() {
                        Node::Table(child)
                    } else {
                        Node::Object(child)
                    };
                    self.walk_node(node, inst, buf, instances, max_level, f);
                    buf.truncate(mark);
                }
            }
        }
    }

    /// Build the sorted concrete table from the schema (at load).
    pub(crate) fn build_entries(&mut self) {
        struct Initial<'t>(&'t Template);
        impl Instances for Initial<'_> {
            fn list(&self, table: ObjId, parent: &Inst) -> Vec<u32> {
                self.0.initial_instances(table, parent)
            }
        }
        let mut arena = String::new();
        let mut entries = Vec::new();
        let root = self.root.to_string();
        self.walk(
            (Node::Object(ObjId(0)), Inst::EMPTY),
            &root,
            &Initial(self),
            usize::MAX,
            &mut |p, node, inst| {
                let start = u32::try_from(arena.len()).unwrap_or(u32::MAX);
                arena.push_str(p);
                entries.push(Entry {
                    start,
                    len: u32::try_from(p.len()).unwrap_or(0),
                    level: u8::try_from(segment_count(p)).unwrap_or(u8::MAX),
                    node,
                    inst: *inst,
                });
            },
        );
        self.param_count = entries
            .iter()
            .filter(|e| matches!(e.node, Node::Param(_)))
            .count();
        self.exact = entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let p = arena
                    .get(e.start as usize..(e.start + e.len) as usize)
                    .unwrap_or("");
                (p.into(), u32::try_from(i).unwrap_or(u32::MAX))
            })
            .collect();
        self.arena = arena.into_boxed_str();
        self.entries = entries.into_boxed_slice();
    }
}

/// Number of path segments (`Device.WiFi.` = 2, `Device.WiFi.Enable` = 3, `""` = 0).
pub(crate) fn segment_count(p: &str) -> usize {
    let body = p.strip_suffix('.').unwrap_or(p);
    if body.is_empty() {
        0
    } else {
        body.bytes().filter(|&b| b == b'.').count() + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GATEWAY: &str = include_str!("../../tests/it/fixtures/gateway.yaml");

    struct Initial<'t>(&'t Template);
    impl Instances for Initial<'_> {
        fn list(&self, table: ObjId, parent: &Inst) -> Vec<u32> {
            self.0.initial_instances(table, parent)
        }
    }

    #[test]
    fn template_is_shareable_across_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Template>();
        shareable::<std::sync::Arc<Template>>();
    }

    #[test]
    fn concrete_table_is_sorted_and_matches_the_walk() {
        let t = Template::from_yaml_str(GATEWAY, "gateway.yaml").unwrap();
        let paths: Vec<&str> = t.paths().collect();
        assert!(paths
            .windows(2)
            .all(|w| path::cmp_paths(w[0], w[1]).is_lt()));
        let mut walked = Vec::new();
        t.walk(
            (Node::Object(ObjId(0)), Inst::EMPTY),
            "Device.",
            &Initial(&t),
            usize::MAX,
            &mut |p, _, _| walked.push(p.to_string()),
        );
        assert_eq!(walked, paths);
    }

    #[test]
    fn lookups_and_ranges() {
        let t = Template::from_yaml_str(GATEWAY, "gateway.yaml").unwrap();
        let e = t.entries()[t.find_entry("Device.WiFi.SSID.2.SSID").unwrap()];
        assert!(matches!(e.node, Node::Param(_)));
        assert_eq!(e.inst.as_slice(), &[2]);
        assert_eq!(t.find_entry("Device.WiFi.SSID.02.SSID"), None);
        assert_eq!(t.find_entry("Device.WiFi.SSID.3.SSID"), None);
        let r = t.entry_range("Device.WiFi.");
        let inside: Vec<&str> = t.entries()[r].iter().map(|e| t.entry_path(e)).collect();
        assert_eq!(inside.first(), Some(&"Device.WiFi."));
        assert_eq!(inside.len(), 1 + 1 + 1 + 2 * 7);
        assert!(inside.iter().all(|p| p.starts_with("Device.WiFi.")));
        assert_eq!(t.entry_range("").len(), t.entries().len());
        assert_eq!(
            t.initial_instances(ObjId(0), &Inst::EMPTY),
            Vec::<u32>::new()
        );
    }

    #[test]
    fn number_of_entries_counts_its_table() {
        let t = Template::from_yaml_str(GATEWAY, "gateway.yaml").unwrap();
        let Some(Node::Param(pid)) = t.schema.get("Device.WiFi.SSIDNumberOfEntries").copied()
        else {
            panic!()
        };
        let Some(Node::Table(ssid)) = t.schema.get("Device.WiFi.SSID.").copied() else {
            panic!()
        };
        assert_eq!(t.param(pid).map(|p| &p.source), Some(&Source::Count(ssid)));
        assert!(!t.param(pid).unwrap().has(flag::WRITABLE));
    }
}
