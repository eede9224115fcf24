//! The hand edits of an imported template, recorded as data: an overlay says, per object and per
//! parameter, only what differs from the import (a realistic value, a per-device generator, a
//! hidden flag, a parameter the source lacks). Laid over the import it gives the edited file
//! back, so an edit survives the next import instead of being lost in it.
//!
//! [`diff`] computes the overlay between an import and its edited copy (what `template import
//! --record-edits` prints); [`apply`] lays it over an import. Removing an object or parameter
//! cannot be expressed: the import options (`exclude`) are the place for that.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_yaml::Value;

use super::error::ImportError;
use super::yaml::{block, flow};
use crate::model::file::{GenSpec, ObjectSpec, ParamSpec, TemplateFile};

/// The edits of one object: only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectEdit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instances: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_entries: Option<u32>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, ParamEdit>,
}

/// The edits of one parameter: only the fields given change. A `value` replaces a generator
/// and a `gen` replaces a value (they are exclusive in a template).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamEdit {
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(
        default,
        with = "serde_yaml::with::singleton_map",
        skip_serializing_if = "Option::is_none"
    )]
    pub gen: Option<GenSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_list: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced_inform: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_notify: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<bool>,
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<(i64, i64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
}

/// Objects by full path, as in a template.
pub type Overlay = BTreeMap<String, ObjectEdit>;

/// Lays `overlay` over `t`; objects and parameters it names that `t` lacks are added.
pub fn apply(t: &mut TemplateFile, overlay: &Overlay) {
    for (path, edit) in overlay {
        let o = t.objects.entry(path.clone()).or_default();
        set(&mut o.writable, edit.writable);
        o.instances = edit.instances.or(o.instances);
        o.max_entries = edit.max_entries.or(o.max_entries);
        for (name, pe) in &edit.parameters {
            apply_param(o.parameters.entry(name.clone()).or_default(), pe);
        }
    }
}

fn set<T: Clone>(field: &mut T, edit: Option<T>) {
    if let Some(v) = edit {
        *field = v;
    }
}

fn apply_param(p: &mut ParamSpec, e: &ParamEdit) {
    if e.value.is_some() {
        p.gen = None;
        p.value = e.value.clone();
    }
    if e.gen.is_some() {
        p.value = None;
        p.gen = e.gen.clone();
    }
    p.kind = e.kind.clone().or(p.kind.take());
    set(&mut p.writable, e.writable);
    p.notification = e.notification.or(p.notification);
    set(&mut p.access_list, e.access_list.clone());
    set(&mut p.forced_inform, e.forced_inform);
    p.active_notify = e.active_notify.clone().or(p.active_notify.take());
    set(&mut p.hidden, e.hidden);
    set(&mut p.allowed, e.allowed.clone());
    p.range = e.range.or(p.range);
    p.max_length = e.max_length.or(p.max_length);
}

/// The overlay that turns `base` into `edited`, or why none can (something was removed).
pub fn diff(base: &TemplateFile, edited: &TemplateFile) -> Result<Overlay, ImportError> {
    let mut out = Overlay::new();
    for (path, b) in &base.objects {
        let Some(e) = edited.objects.get(path) else {
            return Err(removed(format!("object {path}")));
        };
        if let Some(name) = b.parameters.keys().find(|n| !e.parameters.contains_key(*n)) {
            return Err(removed(format!("parameter {path}{name}")));
        }
    }
    let empty = ObjectSpec::default();
    for (path, e) in &edited.objects {
        let b = base.objects.get(path).unwrap_or(&empty);
        let mut edit = ObjectEdit {
            writable: changed(&b.writable, &e.writable),
            instances: if b.instances != e.instances {
                e.instances
            } else {
                None
            },
            max_entries: if b.max_entries != e.max_entries {
                e.max_entries
            } else {
                None
            },
            parameters: BTreeMap::new(),
        };
        for (name, ep) in &e.parameters {
            let pe = param_diff(b.parameters.get(name).unwrap_or(&ParamSpec::default()), ep);
            if pe != ParamEdit::default() {
                edit.parameters.insert(name.clone(), pe);
            }
        }
        let new_object = !base.objects.contains_key(path);
        if new_object || edit != ObjectEdit::default() {
            out.insert(path.clone(), edit);
        }
    }
    Ok(out)
}

fn removed(what: String) -> ImportError {
    ImportError::options(format!(
        "{what} was removed by hand: an overlay only adds and changes (exclude it at import)"
    ))
}

fn changed<T: PartialEq + Clone>(base: &T, edited: &T) -> Option<T> {
    (base != edited).then(|| edited.clone())
}

fn param_diff(b: &ParamSpec, e: &ParamSpec) -> ParamEdit {
    let source_changed = b.value != e.value || b.gen != e.gen;
    ParamEdit {
        kind: changed(&b.kind, &e.kind).flatten(),
        value: if source_changed {
            e.value.clone()
        } else {
            None
        },
        gen: if source_changed { e.gen.clone() } else { None },
        writable: changed(&b.writable, &e.writable),
        notification: changed(&b.notification, &e.notification).flatten(),
        access_list: changed(&b.access_list, &e.access_list),
        forced_inform: changed(&b.forced_inform, &e.forced_inform),
        active_notify: changed(&b.active_notify, &e.active_notify).flatten(),
        hidden: changed(&b.hidden, &e.hidden),
        allowed: changed(&b.allowed, &e.allowed),
        range: changed(&b.range, &e.range).flatten(),
        max_length: changed(&b.max_length, &e.max_length).flatten(),
    }
}

/// The overlay as the `overlay:` section of a recipe, one parameter per line like a template.
pub fn overlay_yaml(overlay: &Overlay) -> Result<String, ImportError> {
    let mut out = String::from("overlay:\n");
    for (path, edit) in overlay {
        let header = ObjectEdit {
            parameters: BTreeMap::new(),
            ..edit.clone()
        };
        let Value::Mapping(fields) = serde_yaml::to_value(&header)? else {
            return Err(ImportError::Internal {
                message: format!("overlay object {path} does not serialise as a mapping"),
            });
        };
        if fields.is_empty() && edit.parameters.is_empty() {
            let _ = writeln!(out, "  {}: {{}}", block(path));
            continue;
        }
        let _ = writeln!(out, "  {}:", block(path));
        for (k, v) in &fields {
            let _ = writeln!(out, "    {}: {}", flow(k), flow(v));
        }
        if !edit.parameters.is_empty() {
            out.push_str("    parameters:\n");
            for (name, p) in &edit.parameters {
                let _ = writeln!(
                    out,
                    "      {}: {}",
                    block(name),
                    flow(&serde_yaml::to_value(p)?)
                );
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(yaml: &str) -> TemplateFile {
        serde_yaml::from_str(yaml).unwrap()
    }

    const BASE: &str = "name: x\nroot: Device.\nobjects:\n  Device.A.:\n    parameters:\n      \
        P: { type: string, value: a, writable: true }\n      Q: { type: string, value: q }\n";

    #[test]
    fn diff_then_apply_gives_the_edited_file_back() {
        let base = t(BASE);
        let edited = t("name: x\nroot: Device.\nobjects:\n  Device.A.:\n    parameters:\n      \
            P: { type: string, gen: { pattern: \"{serial}\" }, writable: false, hidden: true }\n      \
            Q: { type: string, value: q }\n      R: { type: boolean, value: true }\n  \
            Device.B.{i}.:\n    instances: 2\n");
        let o = diff(&base, &edited).unwrap();
        assert!(!o["Device.A."].parameters.contains_key("Q"), "{o:?}");
        let p = &o["Device.A."].parameters["P"];
        assert_eq!(
            (p.writable, p.hidden, p.value.is_none()),
            (Some(false), Some(true), true)
        );
        let mut again = base.clone();
        apply(&mut again, &o);
        assert_eq!(again, edited);
        // And the overlay reads back from the YAML it is written as.
        let text = overlay_yaml(&o).unwrap();
        #[derive(Deserialize)]
        struct Doc {
            overlay: Overlay,
        }
        let back: Doc = serde_yaml::from_str(&text).unwrap();
        assert_eq!(back.overlay, o, "{text}");
    }

    #[test]
    fn a_removal_is_refused_by_name() {
        let base = t(BASE);
        let mut edited = base.clone();
        edited
            .objects
            .get_mut("Device.A.")
            .unwrap()
            .parameters
            .remove("Q");
        let e = diff(&base, &edited).unwrap_err();
        assert_eq!(e.label(), "options");
        assert!(e.to_string().contains("Device.A.Q"), "{e}");
    }
}
