//! Steps 2 to 4 of compiling: the schema objects in tree order with their parameters, the
//! parent/child links, the `<Table>NumberOfEntries` counters, and the path index.

use std::collections::HashMap;

use super::keys::{obj_name, object_parent, SchemaObjects};
use super::param::compile_param;
use super::{fail, Fail};
use crate::model::error::Problem;
use crate::model::file::ObjectSpec;
use crate::model::path::{self, MAX_DEPTH};
use crate::model::template::{flag, Node, ObjId, ObjectDef, ParamDef, ParamId, Source, TableDef};

/// Most instances one table may start with per parent: a typo like `instances: 100000000`
/// should be an error, not an out-of-memory.
const MAX_INSTANCES: u32 = 65_535;

/// Compiles the objects in `order` (tree order, root first; an object's id is its index) and
/// their parameters, each object's parameters a contiguous range.
pub(super) fn compile_objects(
    schema_objs: &SchemaObjects<'_>,
    order: &[&String],
    root: &str,
) -> Result<(Vec<ObjectDef>, Vec<ParamDef>), Fail> {
    let ids: HashMap<&str, ObjId> = order
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_str(), ObjId(i as u32)))
        .collect();
    let mut objects: Vec<ObjectDef> = Vec::with_capacity(order.len());
    let mut params: Vec<ParamDef> = Vec::new();
    for (i, key) in order.iter().enumerate() {
        let spec = schema_objs.get(*key).copied().flatten();
        let depth = key.matches("{i}").count();
        if depth > MAX_DEPTH {
            return Err(fail(
                Problem::TooLarge,
                &["objects", key],
                format!("{key} nests more than {MAX_DEPTH} tables"),
            ));
        }
        let table = if key.ends_with("{i}.") {
            Some(table_def(key, spec)?)
        } else {
            refuse_table_attributes(key, spec)?;
            None
        };
        let first = params.len() as u32;
        if let Some(spec) = spec {
            for (name, p) in &spec.parameters {
                check_param_name(schema_objs, key, name)?;
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
    Ok((objects, params))
}

/// A table's attributes, checked: bounded `instances`, `max_entries` admitting them.
fn table_def(key: &str, spec: Option<&ObjectSpec>) -> Result<TableDef, Fail> {
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
    Ok(TableDef {
        writable: spec.writable,
        max_entries: spec.max_entries,
        initial: Box::new([]),
    })
}

/// A single object may not carry the attributes of a table.
fn refuse_table_attributes(key: &str, spec: Option<&ObjectSpec>) -> Result<(), Fail> {
    let Some(spec) = spec else { return Ok(()) };
    let field = if spec.writable {
        Some("writable")
    } else if spec.instances.is_some() {
        Some("instances")
    } else if spec.max_entries.is_some() {
        Some("max_entries")
    } else {
        None
    };
    match field {
        Some(field) => Err(fail(
            Problem::Attribute,
            &["objects", key, field],
            format!("{field} applies to tables ({key}{{i}}.), not to {key}"),
        )),
        None => Ok(()),
    }
}

/// A parameter name must be valid and not also name a child object.
fn check_param_name(schema_objs: &SchemaObjects<'_>, key: &str, name: &str) -> Result<(), Fail> {
    let at = ["objects", key, "parameters", name];
    if !path::is_valid_name(name) {
        return Err(fail(
            Problem::Path,
            &at,
            format!("{name:?} is not a valid parameter name"),
        ));
    }
    let clash = format!("{key}{name}.");
    if schema_objs.contains_key(&clash) || schema_objs.contains_key(&format!("{clash}{{i}}.")) {
        return Err(fail(
            Problem::DuplicatePath,
            &at,
            format!("{key}{name} is both a parameter and an object"),
        ));
    }
    Ok(())
}

/// Fills each object's children, sorted by name.
pub(super) fn link_children(objects: &mut [ObjectDef], order: &[&String]) {
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
}

/// A table's `<Table>NumberOfEntries` in its parent object counts its instances and is
/// read-only.
pub(super) fn count_entries(objects: &[ObjectDef], params: &mut [ParamDef]) {
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
}

/// Every schema path to its node; a table is found both as `X.` and as `X.{i}.`.
pub(super) fn schema_index(objects: &[ObjectDef], params: &[ParamDef]) -> HashMap<Box<str>, Node> {
    objects
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
        .collect()
}
