//! YAML text -> [`TemplateFile`] (serde, shape errors with serde_yaml's location) -> validated,
//! compiled [`Template`]. Semantic errors found after deserialising are placed by finding the
//! offending key in the source text ([`Locator`]), so every error reads `file:line:col: …`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::cwmp::{CwmpVersion, XsdType};
use crate::model::error::{ModelError, Problem};
use crate::model::file::{ObjectSpec, ParamSpec, TemplateFile};
use crate::model::generate::{salt, Gen, Ident};
use crate::model::locate::{duplicate_key, Locator};
use crate::model::path::{self, Inst, MAX_DEPTH};
use crate::model::template::{
    flag, Node, ObjId, ObjectDef, ParamDef, ParamId, Role, Source, TableDef, Template,
};

/// Most instances one table may start with per parent, and in all: a typo like
/// `instances: 100000000` should be an error, not an out-of-memory.
const MAX_INSTANCES: u32 = 65_535;
const MAX_TOTAL_INSTANCES: usize = 1_000_000;

/// The four identity parameters of DeviceInfo, in [`Template::identity`] order.
const IDENTITY: [&str; 4] = [
    "Manufacturer",
    "ManufacturerOUI",
    "ProductClass",
    "SerialNumber",
];

pub(crate) fn compile(src: &str, origin: &str) -> Result<Template, ModelError> {
    let syntax = |e: serde_yaml::Error| {
        let (mut line, mut column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        let message = e.to_string();
        // serde_yaml places a duplicate key at its mapping's first key; point at the second
        // occurrence, the one to delete.
        if let Some(dup) = duplicate_key(&message) {
            if let Some(at) = Locator::new(src).second_key(dup, line, column) {
                (line, column) = at;
            }
        }
        ModelError::Syntax {
            origin: origin.to_string(),
            line,
            column,
            message,
        }
    };
    // A typed parse into BTreeMaps silently keeps the last of duplicate keys; the untyped
    // parse refuses them, so run it first.
    serde_yaml::from_str::<serde_yaml::Value>(src).map_err(syntax)?;
    let file: TemplateFile = serde_yaml::from_str(src).map_err(syntax)?;
    Compiler {
        file: &file,
        loc: Locator::new(src),
        origin,
    }
    .run()
}

/// A problem and the keys leading to where it is in the file.
struct Fail {
    problem: Problem,
    at: Vec<String>,
    message: String,
}

fn fail(problem: Problem, at: &[&str], message: impl Into<String>) -> Fail {
    Fail {
        problem,
        at: at.iter().map(|s| s.to_string()).collect(),
        message: message.into(),
    }
}

/// How an object key of the file reads.
enum Key {
    /// `X.` or `X.{i}.`.
    Schema,
    /// `X.3.` or `X.3.Y.`: the schema path and the instance numbers.
    Concrete(String, Inst),
}

struct Compiler<'a> {
    file: &'a TemplateFile,
    loc: Locator<'a>,
    origin: &'a str,
}

impl Compiler<'_> {
    fn run(&self) -> Result<Template, ModelError> {
        self.compile().map_err(|f| {
            let at: Vec<&str> = f.at.iter().map(String::as_str).collect();
            let (line, column) = self.loc.find(&at);
            ModelError::Invalid {
                origin: self.origin.to_string(),
                line,
                column,
                problem: f.problem,
                message: f.message,
            }
        })
    }

    fn compile(&self) -> Result<Template, Fail> {
        let file = self.file;
        let root = file.root.as_str();
        if root != "Device." && root != "InternetGatewayDevice." {
            return Err(fail(
                Problem::Root,
                &["root"],
                format!("root {root:?} must be \"Device.\" or \"InternetGatewayDevice.\""),
            ));
        }
        let version = match &file.cwmp_version {
            None => CwmpVersion::default(),
            Some(v) => CwmpVersion::parse(v).ok_or_else(|| {
                fail(
                    Problem::Version,
                    &["cwmp_version"],
                    format!("cwmp_version {v:?} is not one of 1.0, 1.1, 1.2, 1.3, 1.4"),
                )
            })?,
        };

        // 1. Classify keys; collect schema objects (declared and implied).
        let mut schema_objs: BTreeMap<String, Option<&ObjectSpec>> = BTreeMap::new();
        let mut concrete: Vec<(&str, String, Inst, &ObjectSpec)> = Vec::new();
        for (key, spec) in &file.objects {
            match classify(key, root).map_err(|(p, m)| fail(p, &["objects", key], m))? {
                Key::Schema => {
                    schema_objs.insert(key.clone(), Some(spec));
                }
                Key::Concrete(schema, inst) => concrete.push((key, schema, inst, spec)),
            }
        }
        schema_objs.entry(root.to_string()).or_insert(None);
        let declared: Vec<String> = schema_objs.keys().cloned().collect();
        for key in &declared {
            let mut p = object_parent(key);
            while let Some(parent) = p {
                if parent.ends_with("{i}.") {
                    if !schema_objs.contains_key(parent) {
                        return Err(fail(
                            Problem::UndeclaredTable,
                            &["objects", key],
                            format!("{key} is inside table {parent} which is not declared"),
                        ));
                    }
                } else {
                    schema_objs.entry(parent.to_string()).or_insert(None);
                }
                p = object_parent(parent);
            }
        }
        for key in schema_objs.keys() {
            if !key.ends_with("{i}.") && schema_objs.contains_key(&format!("{key}{{i}}.")) {
                let at = if file.objects.contains_key(key) {
                    key.clone()
                } else {
                    format!("{key}{{i}}.")
                };
                return Err(fail(
                    Problem::DuplicatePath,
                    &["objects", &at],
                    format!("{key} is declared both as a table and as a single object"),
                ));
            }
        }

        // 2. Objects in tree order, ids assigned; root first.
        let mut order: Vec<&String> = schema_objs.keys().collect();
        order.sort_by(|a, b| path::cmp_paths(a, b));
        let ids: HashMap<&str, ObjId> = order
            .iter()
            .enumerate()
            .map(|(i, p)| (p.as_str(), ObjId(i as u32)))
            .collect();

        // 3. Parameters.
        let mut objects: Vec<ObjectDef> = Vec::with_capacity(order.len());
        let mut params: Vec<ParamDef> = Vec::new();
        for (i, key) in order.iter().enumerate() {
            let spec = schema_objs.get(*key).copied().flatten();
            let is_table = key.ends_with("{i}.");
            let depth = key.matches("{i}").count();
            if depth > MAX_DEPTH {
                return Err(fail(
                    Problem::TooLarge,
                    &["objects", key],
                    format!("{key} nests more than {MAX_DEPTH} tables"),
                ));
            }
            let table = if is_table {
                let spec = spec.cloned().unwrap_or_default();
                if let Some(n) = spec.instances.filter(|n| *n > MAX_INSTANCES) {
                    return Err(fail(
                        Problem::Attribute,
                        &["objects", key, "instances"],
                        format!("instances {n} exceeds {MAX_INSTANCES}"),
                    ));
                }
                if let Some(max) = spec.max_entries {
                    if max == 0 || spec.instances.unwrap_or(0) > max {
                        return Err(fail(
                            Problem::Attribute,
                            &["objects", key, "max_entries"],
                            format!(
                                "max_entries {max} must be >= 1 and >= instances ({})",
                                spec.instances.unwrap_or(0)
                            ),
                        ));
                    }
                }
                Some(TableDef {
                    writable: spec.writable,
                    max_entries: spec.max_entries,
                    initial: Box::new([]),
                })
            } else {
                if let Some(spec) = spec {
                    let field = if spec.writable {
                        Some("writable")
                    } else if spec.instances.is_some() {
                        Some("instances")
                    } else if spec.max_entries.is_some() {
                        Some("max_entries")
                    } else {
                        None
                    };
                    if let Some(field) = field {
                        return Err(fail(
                            Problem::Attribute,
                            &["objects", key, field],
                            format!("{field} applies to tables ({key}{{i}}.), not to {key}"),
                        ));
                    }
                }
                None
            };
            let first = params.len() as u32;
            if let Some(spec) = spec {
                for (name, p) in &spec.parameters {
                    let at = ["objects", key.as_str(), "parameters", name.as_str()];
                    if !path::is_valid_name(name) {
                        return Err(fail(
                            Problem::Path,
                            &at,
                            format!("{name:?} is not a valid parameter name"),
                        ));
                    }
                    let clash = format!("{key}{name}.");
                    if schema_objs.contains_key(&clash)
                        || schema_objs.contains_key(&format!("{clash}{{i}}."))
                    {
                        return Err(fail(
                            Problem::DuplicatePath,
                            &at,
                            format!("{key}{name} is both a parameter and an object"),
                        ));
                    }
                    params.push(compile_param(key, name, p, ObjId(i as u32), depth, root)?);
                }
            }
            let parent = object_parent(key).and_then(|p| ids.get(p).copied());
            objects.push(ObjectDef {
                path: key.as_str().into(),
                parent,
                depth,
                table,
                params: first..params.len() as u32,
                children: Box::new([]),
            });
        }
        let mut children: Vec<Vec<ObjId>> = vec![Vec::new(); objects.len()];
        for (i, o) in objects.iter().enumerate() {
            if let Some(p) = o.parent {
                if let Some(c) = children.get_mut(p.0 as usize) {
                    c.push(ObjId(i as u32));
                }
            }
        }
        for (o, mut c) in objects.iter_mut().zip(children) {
            c.sort_by(|a, b| {
                let na = order.get(a.0 as usize).map_or("", |p| obj_name(p));
                let nb = order.get(b.0 as usize).map_or("", |p| obj_name(p));
                na.cmp(nb)
            });
            o.children = c.into_boxed_slice();
        }

        // 4. <Table>NumberOfEntries counts instances.
        for (i, o) in objects.iter().enumerate() {
            if o.table.is_none() {
                continue;
            }
            let Some(parent) = o.parent.and_then(|p| objects.get(p.0 as usize)) else {
                continue;
            };
            let want = format!("{}NumberOfEntries", obj_name(&o.path));
            for pid in parent.params.clone() {
                if let Some(p) = params.get_mut(pid as usize) {
                    if p.name() == want {
                        p.source = Source::Count(ObjId(i as u32));
                        p.flags &= !flag::WRITABLE;
                    }
                }
            }
        }

        let schema: HashMap<Box<str>, Node> = objects
            .iter()
            .enumerate()
            .flat_map(|(i, o)| {
                let id = ObjId(i as u32);
                if o.table.is_some() {
                    let table_path = o.path.strip_suffix("{i}.").unwrap_or(&o.path);
                    vec![
                        (table_path.into(), Node::Table(id)),
                        (o.path.clone(), Node::Instance(id)),
                    ]
                } else {
                    vec![(o.path.clone(), Node::Object(id))]
                }
            })
            .chain(
                params
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p.path.clone(), Node::Param(ParamId(i as u32)))),
            )
            .collect();

        // 5. Concrete keys: declared instances and per-instance value overrides.
        let mut declared_inst: BTreeMap<ObjId, BTreeSet<Inst>> = BTreeMap::new();
        let mut overrides: Vec<((ParamId, Inst), Source)> = Vec::new();
        for (key, schema_path, inst, spec) in &concrete {
            let Some(&node) = schema.get(schema_path.as_str()) else {
                return Err(fail(
                    Problem::UndeclaredTable,
                    &["objects", key],
                    format!("{key}: {schema_path} is not declared"),
                ));
            };
            let obj = match node {
                Node::Instance(o) | Node::Object(o) => o,
                _ => {
                    return Err(fail(
                        Problem::Path,
                        &["objects", key],
                        format!("{key} does not name an object instance"),
                    ))
                }
            };
            for field in ["writable", "instances", "max_entries"] {
                let set = match field {
                    "writable" => spec.writable,
                    "instances" => spec.instances.is_some(),
                    _ => spec.max_entries.is_some(),
                };
                if set {
                    return Err(fail(
                        Problem::Attribute,
                        &["objects", key, field],
                        format!(
                            "{field} belongs on the table {schema_path}, not on instance {key}"
                        ),
                    ));
                }
            }
            // Declare every instance along the path.
            let mut t = Some(obj);
            while let Some(o) = t {
                let Some(def) = objects.get(o.0 as usize) else {
                    break;
                };
                if def.table.is_some() {
                    declared_inst
                        .entry(o)
                        .or_default()
                        .insert(inst.truncate(def.depth));
                }
                t = def.parent;
            }
            let Some(def) = objects.get(obj.0 as usize) else {
                continue;
            };
            for (name, p) in &spec.parameters {
                let at = ["objects", key, "parameters", name.as_str()];
                let pid = def
                    .params
                    .clone()
                    .find(|&pid| params.get(pid as usize).is_some_and(|d| d.name() == name))
                    .ok_or_else(|| {
                        fail(
                            Problem::UnknownParameter,
                            &at,
                            format!("{name} is not a parameter of {schema_path}"),
                        )
                    })?;
                let Some(pdef) = params.get(pid as usize) else {
                    continue;
                };
                let only = ParamSpec {
                    kind: None,
                    value: None,
                    gen: None,
                    ..p.clone()
                };
                if only != ParamSpec::default()
                    || p.kind
                        .as_deref()
                        .is_some_and(|k| XsdType::from_tr106(k) != Some(pdef.kind))
                {
                    return Err(fail(
                        Problem::Attribute,
                        &at,
                        format!(
                            "an instance override may only give value or gen; {name}'s other \
                             attributes come from {schema_path}"
                        ),
                    ));
                }
                let source = value_source(p, pdef.kind, def.depth, &at)?;
                if let Source::Literal(v) = &source {
                    if !pdef.admits(v) {
                        return Err(fail(
                            Problem::Value,
                            &[&at[..], &["value"]].concat(),
                            format!("{v:?} is outside {name}'s enum/range/max_length"),
                        ));
                    }
                }
                if let Some(source) = source.into_override() {
                    overrides.push(((ParamId(pid), *inst), source));
                }
            }
        }
        overrides.sort_by_key(|a| a.0);
        overrides.dedup_by(|a, b| a.0 == b.0);

        // 6. Initial instances, outer tables first (objects are in tree order).
        let mut total = 0usize;
        for i in 0..objects.len() {
            let Some(o) = objects.get(i) else { continue };
            let Some(t) = &o.table else { continue };
            let count = file
                .objects
                .get(o.path.as_ref())
                .and_then(|s| s.instances)
                .unwrap_or(0);
            let parents: Vec<Inst> = match enclosing_table(&objects, o.parent) {
                None => vec![Inst::EMPTY],
                Some(e) => objects
                    .get(e.0 as usize)
                    .and_then(|d| d.table.as_ref())
                    .map(|t| t.initial.to_vec())
                    .unwrap_or_default(),
            };
            let parent_set: BTreeSet<Inst> = parents.iter().copied().collect();
            let mut initial: BTreeSet<Inst> = BTreeSet::new();
            for p in &parents {
                for n in 1..=count {
                    if let Some(x) = p.push(n) {
                        initial.insert(x);
                    }
                }
            }
            for x in declared_inst.get(&ObjId(i as u32)).into_iter().flatten() {
                if parent_set.contains(&x.truncate(o.depth - 1)) {
                    initial.insert(*x);
                }
            }
            if let Some(max) = t.max_entries {
                for p in &parents {
                    let n = initial.iter().filter(|x| x.truncate(p.len()) == *p).count();
                    if n > max as usize {
                        return Err(fail(
                            Problem::Attribute,
                            &["objects", &o.path, "max_entries"],
                            format!(
                                "{} starts with {n} instances, more than max_entries {max}",
                                o.path
                            ),
                        ));
                    }
                }
            }
            total += initial.len();
            if total > MAX_TOTAL_INSTANCES {
                return Err(fail(
                    Problem::TooLarge,
                    &["objects", &o.path],
                    format!("more than {MAX_TOTAL_INSTANCES} initial instances in all"),
                ));
            }
            if let Some(t) = objects.get_mut(i).and_then(|o| o.table.as_mut()) {
                t.initial = initial.into_iter().collect();
            }
        }

        // 7. Identity.
        let info = format!("{root}DeviceInfo.");
        let mut identity = [ParamId(0); 4];
        for (slot, name) in identity.iter_mut().zip(IDENTITY) {
            let want = format!("{info}{name}");
            match schema.get(want.as_str()) {
                Some(Node::Param(pid)) => *slot = *pid,
                _ => {
                    let at: Vec<&str> = if file.objects.contains_key(&info) {
                        vec!["objects", &info]
                    } else {
                        vec!["objects"]
                    };
                    return Err(fail(
                        Problem::Identity,
                        &at,
                        format!("{want} is required (it is the Inform's DeviceId)"),
                    ));
                }
            }
        }
        for (pid, id) in
            identity
                .iter()
                .skip(1)
                .zip([Ident::Oui, Ident::ProductClass, Ident::Serial])
        {
            if let Some(Source::Gen(g)) = params.get(pid.0 as usize).map(|p| &p.source) {
                if g.quotes(id) {
                    let name = params.get(pid.0 as usize).map_or("", |p| p.name());
                    return Err(fail(
                        Problem::Generator,
                        &["objects", &info, "parameters", name, "gen"],
                        format!("{name}'s pattern quotes its own value"),
                    ));
                }
            }
        }

        let forced = params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.has(flag::FORCED_INFORM))
            .map(|(i, _)| ParamId(i as u32))
            .collect();
        let mut t = Template {
            name: file.name.as_str().into(),
            root: root.into(),
            version,
            objects: objects.into_boxed_slice(),
            params: params.into_boxed_slice(),
            schema,
            arena: "".into(),
            entries: Box::new([]),
            exact: HashMap::new(),
            overrides: overrides.into_boxed_slice(),
            forced,
            identity,
            param_count: 0,
        };
        t.build_entries();
        Ok(t)
    }
}

impl Source {
    fn into_override(self) -> Option<Source> {
        match self {
            Source::Null => None,
            s => Some(s),
        }
    }
}

fn compile_param(
    obj_path: &str,
    name: &str,
    p: &ParamSpec,
    obj: ObjId,
    depth: usize,
    root: &str,
) -> Result<ParamDef, Fail> {
    let at = ["objects", obj_path, "parameters", name];
    let kind_name = p
        .kind
        .as_deref()
        .ok_or_else(|| fail(Problem::Type, &at, format!("{name} has no type")))?;
    let kind = XsdType::from_tr106(kind_name).ok_or_else(|| {
        fail(
            Problem::Type,
            &join(&at, "type"),
            format!(
                "unknown type {kind_name:?} (string, int, unsignedInt, long, unsignedLong, \
                 boolean, dateTime, base64, hexBinary, decimal)"
            ),
        )
    })?;
    let mut flags = 0u8;
    if p.writable {
        flags |= flag::WRITABLE;
    }
    if p.forced_inform {
        flags |= flag::FORCED_INFORM;
    }
    if p.hidden {
        flags |= flag::HIDDEN;
    }
    let mut notification = p.notification.unwrap_or(0);
    if notification > 2 {
        return Err(fail(
            Problem::Attribute,
            &join(&at, "notification"),
            format!("notification {notification} must be 0 (off), 1 (passive) or 2 (active)"),
        ));
    }
    match p.active_notify.as_deref() {
        None | Some("normal") => {}
        Some("canDeny") => flags |= flag::CAN_DENY,
        Some("forceEnabled") => {
            flags |= flag::FORCE_ENABLED;
            notification = 2;
        }
        Some("forceDefaultEnabled") => {
            if p.notification.is_none() {
                notification = 2;
            }
        }
        Some(other) => {
            return Err(fail(
                Problem::Attribute,
                &join(&at, "active_notify"),
                format!(
                    "active_notify {other:?} is not normal, forceEnabled, forceDefaultEnabled \
                     or canDeny"
                ),
            ))
        }
    }
    if flags & flag::CAN_DENY != 0 && notification == 2 {
        return Err(fail(
            Problem::Attribute,
            &join(&at, "notification"),
            "a canDeny parameter cannot default to active notification",
        ));
    }
    for a in &p.access_list {
        if a != "Subscriber" {
            return Err(fail(
                Problem::Attribute,
                &join(&at, "access_list"),
                format!("access list entry {a:?}: only \"Subscriber\" is defined"),
            ));
        }
    }
    let mut allowed = Vec::with_capacity(p.allowed.len());
    for v in &p.allowed {
        let c = kind.canonical(v).ok_or_else(|| {
            fail(
                Problem::Value,
                &join(&at, "enum"),
                format!("enum value {v:?} is not a valid {kind_name}"),
            )
        })?;
        allowed.push(c.into_boxed_str());
    }
    if let Some((lo, hi)) = p.range {
        let numeric = matches!(
            kind,
            XsdType::Int | XsdType::UnsignedInt | XsdType::Long | XsdType::UnsignedLong
        );
        if !numeric || lo > hi || !kind.is_valid(&lo.to_string()) || !kind.is_valid(&hi.to_string())
        {
            return Err(fail(
                Problem::Value,
                &join(&at, "range"),
                format!("range [{lo}, {hi}] is not a valid range of {kind_name}"),
            ));
        }
    }
    if p.max_length.is_some()
        && !matches!(kind, XsdType::String | XsdType::Base64 | XsdType::HexBinary)
    {
        return Err(fail(
            Problem::Attribute,
            &join(&at, "max_length"),
            format!("max_length does not apply to {kind_name}"),
        ));
    }
    let path = format!("{obj_path}{name}");
    let rel = path.strip_prefix(root).unwrap_or(&path);
    let role = match rel {
        "ManagementServer.ParameterKey" => Role::ParameterKey,
        "ManagementServer.PeriodicInformEnable"
        | "ManagementServer.PeriodicInformInterval"
        | "ManagementServer.PeriodicInformTime" => Role::PeriodicInform,
        "ManagementServer.URL" => Role::AcsUrl,
        "ManagementServer.ConnectionRequestUsername"
        | "ManagementServer.ConnectionRequestPassword" => Role::CrCredentials,
        _ if name == "DiagnosticsState" => Role::DiagnosticsState,
        _ => Role::None,
    };
    let mut def = ParamDef {
        salt: salt(&path),
        path: path.into_boxed_str(),
        obj,
        kind,
        flags,
        notification,
        access_list: p.access_list.iter().map(|s| s.as_str().into()).collect(),
        source: Source::Null,
        allowed: allowed.into_boxed_slice(),
        range: p.range,
        max_length: p.max_length,
        role,
    };
    def.source = value_source(p, kind, depth, &at)?;
    if let Source::Literal(v) = &def.source {
        if !def.admits(v) {
            return Err(fail(
                Problem::Value,
                &join(&at, "value"),
                format!("default {v:?} is outside {name}'s enum/range/max_length"),
            ));
        }
    }
    Ok(def)
}

fn join<'a>(at: &[&'a str], field: &'a str) -> Vec<&'a str> {
    let mut v = at.to_vec();
    v.push(field);
    v
}

/// The literal or generator of a parameter spec, checked against the type.
fn value_source(p: &ParamSpec, kind: XsdType, depth: usize, at: &[&str]) -> Result<Source, Fail> {
    match (&p.value, &p.gen) {
        (Some(_), Some(_)) => Err(fail(
            Problem::Generator,
            &join(at, "gen"),
            "value and gen are exclusive",
        )),
        (None, None) => Ok(Source::Null),
        (None, Some(g)) => Gen::compile(g, kind, depth)
            .map(Source::Gen)
            .map_err(|m| fail(Problem::Generator, &join(at, "gen"), m)),
        (Some(v), None) => {
            let text = match v {
                serde_yaml::Value::Null => String::new(),
                serde_yaml::Value::Bool(b) => b.to_string(),
                serde_yaml::Value::Number(n) => n.to_string(),
                serde_yaml::Value::String(s) => s.clone(),
                _ => {
                    return Err(fail(
                        Problem::Value,
                        &join(at, "value"),
                        "value must be a scalar",
                    ))
                }
            };
            kind.canonical(&text)
                .map(|c| Source::Literal(c.into_boxed_str()))
                .ok_or_else(|| {
                    fail(
                        Problem::Value,
                        &join(at, "value"),
                        format!("{text:?} is not a valid {}", kind.tr106()),
                    )
                })
        }
    }
}

fn classify(key: &str, root: &str) -> Result<Key, (Problem, String)> {
    if !key.ends_with('.') {
        return Err((
            Problem::Path,
            format!("object path {key:?} must end with '.'"),
        ));
    }
    if !key.starts_with(root) {
        return Err((
            Problem::OutsideRoot,
            format!("object {key} is outside the root {root}"),
        ));
    }
    let body = key.strip_suffix('.').unwrap_or(key);
    let mut prev_name = false;
    let mut placeholders = 0usize;
    let mut numbers = 0usize;
    for (i, seg) in body.split('.').enumerate() {
        let ok = if seg == "{i}" {
            placeholders += 1;
            i > 0 && std::mem::replace(&mut prev_name, false)
        } else if seg.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            numbers += 1;
            path::parse_instance(seg).is_some() && i > 0 && std::mem::replace(&mut prev_name, false)
        } else {
            prev_name = true;
            path::is_valid_name(seg)
        };
        if !ok {
            return Err((
                Problem::Path,
                format!("object path {key:?}: bad segment {seg:?}"),
            ));
        }
    }
    if placeholders + numbers > MAX_DEPTH {
        return Err((
            Problem::TooLarge,
            format!("{key} nests more than {MAX_DEPTH} tables"),
        ));
    }
    if numbers == 0 {
        return Ok(Key::Schema);
    }
    if placeholders > 0 {
        return Err((
            Problem::Path,
            format!("{key} mixes {{i}} and instance numbers; give all numbers or none"),
        ));
    }
    let (schema, inst) = path::to_schema(key)
        .ok_or_else(|| (Problem::Path, format!("object path {key:?} is malformed")))?;
    Ok(Key::Concrete(schema, inst))
}

/// The schema path of the object holding `key` (`A.{i}.B.{i}.` -> `A.{i}.`, `A.B.` -> `A.`).
fn object_parent(key: &str) -> Option<&str> {
    let table = key.strip_suffix("{i}.").unwrap_or(key);
    path::parent(table)
}

fn obj_name(p: &str) -> &str {
    path::leaf(p.strip_suffix("{i}.").unwrap_or(p))
}

fn enclosing_table(objects: &[ObjectDef], mut o: Option<ObjId>) -> Option<ObjId> {
    while let Some(id) = o {
        let def = objects.get(id.0 as usize)?;
        if def.table.is_some() {
            return Some(id);
        }
        o = def.parent;
    }
    None
}
