//! Step 1 of compiling: what each object key of the file is (a schema path or a concrete
//! instance), and the schema objects it implies.

use std::collections::BTreeMap;

use super::{fail, Fail};
use crate::model::error::Problem;
use crate::model::file::{ObjectSpec, TemplateFile};
use crate::model::path::{self, Inst, MAX_DEPTH};

/// How an object key of the file reads.
enum Key {
    /// `X.` or `X.{i}.`.
    Schema,
    /// `X.3.` or `X.3.Y.`: the schema path and the instance numbers.
    Concrete(String, Inst),
}

/// The schema objects by path (`None` where only implied by a deeper key).
pub(super) type SchemaObjects<'a> = BTreeMap<String, Option<&'a ObjectSpec>>;

/// A concrete key: the key, its schema path, its instance numbers and its spec.
pub(super) type ConcreteKey<'a> = (&'a str, String, Inst, &'a ObjectSpec);

/// Sorts the file's object keys into schema objects (with the objects they imply, the root
/// included) and concrete instance keys.
pub(super) fn classify_keys<'a>(
    file: &'a TemplateFile,
    root: &str,
) -> Result<(SchemaObjects<'a>, Vec<ConcreteKey<'a>>), Fail> {
    let mut schema_objs: SchemaObjects<'a> = BTreeMap::new();
    let mut concrete: Vec<ConcreteKey<'a>> = Vec::new();
    for (key, spec) in &file.objects {
        match classify(key, root).map_err(|(p, m)| fail(p, &["objects", key], m))? {
            Key::Schema => {
                schema_objs.insert(key.clone(), Some(spec));
            }
            Key::Concrete(schema, inst) => concrete.push((key, schema, inst, spec)),
        }
    }
    schema_objs.entry(root.to_string()).or_insert(None);
    add_implied_parents(&mut schema_objs)?;
    refuse_table_and_object(file, &schema_objs)?;
    Ok((schema_objs, concrete))
}

/// Adds every single object above a declared key; a table above it must be declared.
fn add_implied_parents(schema_objs: &mut SchemaObjects<'_>) -> Result<(), Fail> {
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
    Ok(())
}

/// `X.` and `X.{i}.` cannot both be schema objects.
fn refuse_table_and_object(
    file: &TemplateFile,
    schema_objs: &SchemaObjects<'_>,
) -> Result<(), Fail> {
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
    Ok(())
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
pub(super) fn object_parent(key: &str) -> Option<&str> {
    let table = key.strip_suffix("{i}.").unwrap_or(key);
    path::parent(table)
}

/// The name of an object (`A.B.{i}.` -> `B`).
pub(super) fn obj_name(p: &str) -> &str {
    path::leaf(p.strip_suffix("{i}.").unwrap_or(p))
}
