//! Steps 5 and 6 of compiling: the concrete keys of the file (`X.3.`: instances it declares
//! and per-instance value overrides), then each table's initial instances.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::keys::ConcreteKey;
use super::param::value_source;
use super::{fail, Fail};
use crate::cwmp::XsdType;
use crate::model::error::Problem;
use crate::model::file::{ObjectSpec, ParamSpec, TemplateFile};
use crate::model::path::Inst;
use crate::model::template::{Node, ObjId, ObjectDef, ParamDef, ParamId, Source};

/// Most initial instances in all: a typo should be an error, not an out-of-memory.
const MAX_TOTAL_INSTANCES: usize = 1_000_000;

/// Instances the concrete keys declare, per table.
pub(super) type DeclaredInstances = BTreeMap<ObjId, BTreeSet<Inst>>;

/// A per-instance value override.
type Override = ((ParamId, Inst), Source);

/// The instances the concrete keys declare and their value overrides (sorted, first kept).
pub(super) fn concrete_keys(
    concrete: &[ConcreteKey<'_>],
    schema: &HashMap<Box<str>, Node>,
    objects: &[ObjectDef],
    params: &[ParamDef],
) -> Result<(DeclaredInstances, Vec<Override>), Fail> {
    let mut declared_inst = DeclaredInstances::new();
    let mut overrides: Vec<Override> = Vec::new();
    for (key, schema_path, inst, spec) in concrete {
        let obj = instance_object(key, schema_path, schema)?;
        refuse_table_attributes(key, schema_path, spec)?;
        declare_along_path(&mut declared_inst, objects, obj, inst);
        let Some(def) = objects.get(obj.0 as usize) else {
            continue;
        };
        for (name, p) in &spec.parameters {
            let at = ["objects", key, "parameters", name.as_str()];
            if let Some(o) = instance_override(def, params, schema_path, name, p, inst, &at)? {
                overrides.push(o);
            }
        }
    }
    overrides.sort_by_key(|a| a.0);
    overrides.dedup_by(|a, b| a.0 == b.0);
    Ok((declared_inst, overrides))
}

/// The object (a table's instance or a single object) a concrete key names.
fn instance_object(
    key: &str,
    schema_path: &str,
    schema: &HashMap<Box<str>, Node>,
) -> Result<ObjId, Fail> {
    let Some(&node) = schema.get(schema_path) else {
        return Err(fail(
            Problem::UndeclaredTable,
            &["objects", key],
            format!("{key}: {schema_path} is not declared"),
        ));
    };
    match node {
        Node::Instance(o) | Node::Object(o) => Ok(o),
        _ => Err(fail(
            Problem::Path,
            &["objects", key],
            format!("{key} does not name an object instance"),
        )),
    }
}

/// A table's attributes belong on its schema key, not on one instance.
fn refuse_table_attributes(key: &str, schema_path: &str, spec: &ObjectSpec) -> Result<(), Fail> {
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
                format!("{field} belongs on the table {schema_path}, not on instance {key}"),
            ));
        }
    }
    Ok(())
}

/// Declares every instance along the path: `A.2.B.3.` declares `A.2.` and `A.2.B.3.`.
fn declare_along_path(
    declared_inst: &mut DeclaredInstances,
    objects: &[ObjectDef],
    obj: ObjId,
    inst: &Inst,
) {
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
}

/// The override one concrete key gives a parameter: only `value` or `gen` (the rest comes from
/// the schema key), checked against the parameter's type and limits.
fn instance_override(
    def: &ObjectDef,
    params: &[ParamDef],
    schema_path: &str,
    name: &str,
    p: &ParamSpec,
    inst: &Inst,
    at: &[&str],
) -> Result<Option<Override>, Fail> {
    let pid = def
        .params
        .clone()
        .find(|&pid| params.get(pid as usize).is_some_and(|d| d.name() == name))
        .ok_or_else(|| {
            fail(
                Problem::UnknownParameter,
                at,
                format!("{name} is not a parameter of {schema_path}"),
            )
        })?;
    let Some(pdef) = params.get(pid as usize) else {
        return Ok(None);
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
            at,
            format!(
                "an instance override may only give value or gen; {name}'s other \
                 attributes come from {schema_path}"
            ),
        ));
    }
    let source = value_source(p, pdef.kind, def.depth, at)?;
    if let Source::Literal(v) = &source {
        if !pdef.admits(v) {
            return Err(fail(
                Problem::Value,
                &[at, &["value"]].concat(),
                format!("{v:?} is outside {name}'s enum/range/max_length"),
            ));
        }
    }
    Ok(source.into_override().map(|s| ((ParamId(pid), *inst), s)))
}

impl Source {
    fn into_override(self) -> Option<Source> {
        match self {
            Source::Null => None,
            s => Some(s),
        }
    }
}

/// Each table's initial instances, outer tables first (objects are in tree order): `instances`
/// per parent instance plus those the concrete keys declare under an existing parent, within
/// `max_entries` and [`MAX_TOTAL_INSTANCES`].
pub(super) fn initial_instances(
    file: &TemplateFile,
    objects: &mut [ObjectDef],
    declared_inst: &DeclaredInstances,
) -> Result<(), Fail> {
    let mut total = 0usize;
    for i in 0..objects.len() {
        let Some(o) = objects.get(i) else { continue };
        let Some(t) = &o.table else { continue };
        let count = file
            .objects
            .get(o.path.as_ref())
            .and_then(|s| s.instances)
            .unwrap_or(0);
        let parents = parent_instances(objects, o.parent);
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
    Ok(())
}

/// The initial instances of the table enclosing `parent` (one empty instance at top level).
fn parent_instances(objects: &[ObjectDef], parent: Option<ObjId>) -> Vec<Inst> {
    match enclosing_table(objects, parent) {
        None => vec![Inst::EMPTY],
        Some(e) => objects
            .get(e.0 as usize)
            .and_then(|d| d.table.as_ref())
            .map(|t| t.initial.to_vec())
            .unwrap_or_default(),
    }
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
