//! From the parsed objects of a BBF model to a template: which objects to keep (root, include,
//! exclude, ancestors), how many instances each table starts with, the NumberOfEntries
//! counters, and the values the model leaves open but a working CPE needs.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml::Value;

use super::bbf_xml::{BbfImportOptions, Obj};
use super::error::ImportError;
use super::identity::{self, Identity};
use crate::model::file::{GenSpec, ObjectSpec, ParamSpec, TemplateFile};

fn matches_prefix(path: &str, prefixes: &[String]) -> bool {
    prefixes.iter().any(|p| path.starts_with(p.as_str()))
}

fn is_table(path: &str) -> bool {
    path.ends_with(".{i}.")
}

/// The object containing `path` (`A.B.{i}.` → `A.`, `A.B.` → `A.`); None for the root.
fn parent_object(path: &str) -> Option<&str> {
    let trimmed = path.strip_suffix('.')?;
    let trimmed = trimmed.strip_suffix(".{i}").unwrap_or(trimmed);
    let dot = trimmed.rfind('.')?;
    trimmed.get(..=dot)
}

/// A NumberOfEntries counter to set: (its object, its name, the table's initial instances).
type Counter = (String, String, u32);

/// The template for the parsed `objects` of `model`, selected and instantiated per `opts`.
pub(super) fn build(
    objects: Vec<Obj>,
    model: &str,
    opts: &BbfImportOptions,
) -> Result<TemplateFile, ImportError> {
    let all = drop_skipped(objects);
    let selected = select(&all, model, opts)?;
    let template_root = selected
        .iter()
        .next()
        .and_then(|k| k.split('.').next())
        .map(|r| format!("{r}."))
        .unwrap_or_default();

    let (mut objects, counters) = object_specs(&selected, &all, opts)?;
    for key in opts.table_instances.keys() {
        if !objects.contains_key(key) {
            return Err(ImportError::options(format!(
                "table_instances names {key}, which is not an imported table"
            )));
        }
    }
    set_counters(&mut objects, counters);

    let mut t = TemplateFile {
        name: opts.name.clone(),
        description: opts
            .description
            .clone()
            .or_else(|| Some(format!("Imported from the BBF data model {model}"))),
        root: template_root,
        cwmp_version: opts.cwmp_version.clone(),
        objects,
    };
    apply_defaults(&mut t, model, &opts.identity);
    identity::mark_inform_flags(&mut t);
    Ok(t)
}

/// The objects by path, without the skipped ones and their descendants.
fn drop_skipped(objects: Vec<Obj>) -> BTreeMap<String, Obj> {
    let mut dropped: Vec<String> = Vec::new();
    let mut all: BTreeMap<String, Obj> = BTreeMap::new();
    for obj in objects {
        // Children of a dropped object go with it, whatever their own status says.
        if obj.skipped || dropped.iter().any(|d| obj.name.starts_with(d.as_str())) {
            dropped.push(obj.name);
            continue;
        }
        all.insert(obj.name.clone(), obj);
    }
    all
}

/// The paths to import: those under the root and the include list, not in the exclude list,
/// and all their ancestors.
fn select(
    all: &BTreeMap<String, Obj>,
    model: &str,
    opts: &BbfImportOptions,
) -> Result<BTreeSet<String>, ImportError> {
    let root_filter = opts.root.clone().unwrap_or_default();
    if !root_filter.is_empty() && !all.keys().any(|k| k.starts_with(root_filter.as_str())) {
        return Err(ImportError::options(format!(
            "no object of {model} is under the root {root_filter:?}"
        )));
    }

    let mut selected: BTreeSet<String> = all
        .keys()
        .filter(|k| k.starts_with(root_filter.as_str()))
        .filter(|k| opts.include.is_empty() || matches_prefix(k, &opts.include))
        .filter(|k| !matches_prefix(k, &opts.exclude))
        .cloned()
        .collect();
    if selected.is_empty() {
        return Err(ImportError::options(format!(
            "the include/exclude lists select no object of {model}"
        )));
    }
    let ancestors: Vec<String> = selected
        .iter()
        .flat_map(|k| {
            k.match_indices('.')
                .map(|(i, _)| k[..=i].to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    selected.extend(ancestors);
    Ok(selected)
}

/// The object specs of the `selected` paths, and the NumberOfEntries counters of their tables.
fn object_specs(
    selected: &BTreeSet<String>,
    all: &BTreeMap<String, Obj>,
    opts: &BbfImportOptions,
) -> Result<(BTreeMap<String, ObjectSpec>, Vec<Counter>), ImportError> {
    let mut objects: BTreeMap<String, ObjectSpec> = BTreeMap::new();
    let mut counters: Vec<Counter> = Vec::new();
    for path in selected {
        let Some(obj) = all.get(path) else {
            // Ancestors outside the document (a service model's mount point) or `{i}`-less
            // intermediate names (`A.{i}.` itself is a table path already).
            if !path.ends_with("{i}.") && !selected.contains(&format!("{path}{{i}}.")) {
                objects.entry(path.clone()).or_default();
            }
            continue;
        };
        let mut spec = ObjectSpec {
            parameters: obj.params.iter().cloned().collect(),
            ..ObjectSpec::default()
        };
        if is_table(path) {
            let n = initial_instances(path, obj, opts)?;
            spec.writable = obj.writable;
            spec.instances = Some(n);
            spec.max_entries = obj.max_entries;
            if let (Some(counter), Some(parent)) = (&obj.num_entries_param, parent_object(path)) {
                counters.push((parent.to_string(), counter.clone(), n));
            }
        }
        objects.insert(path.clone(), spec);
    }
    Ok((objects, counters))
}

/// How many instances the table `path` starts with: as `table_instances` asks (within the
/// model's bounds, else an error), or the default count clamped to those bounds.
fn initial_instances(path: &str, obj: &Obj, opts: &BbfImportOptions) -> Result<u32, ImportError> {
    let wanted = opts.table_instances.get(path).copied();
    let max = obj.max_entries.unwrap_or(u32::MAX);
    if let Some(n) = wanted {
        if n > max || n < obj.min_entries {
            return Err(ImportError::options(format!(
                "{path} may have {}..={} instances, not {n}",
                obj.min_entries,
                obj.max_entries
                    .map_or("unbounded".to_string(), |m| m.to_string())
            )));
        }
    }
    Ok(wanted
        .unwrap_or(opts.instances)
        .clamp(obj.min_entries.min(max), max))
}

/// NumberOfEntries parameters count the initial instances; a service model's counter lives in
/// the mount object, which the service document does not define.
fn set_counters(objects: &mut BTreeMap<String, ObjectSpec>, counters: Vec<Counter>) {
    for (parent, counter, n) in counters {
        let p = objects
            .entry(parent)
            .or_default()
            .parameters
            .entry(counter)
            .or_insert_with(|| ParamSpec {
                kind: Some("unsignedInt".into()),
                ..ParamSpec::default()
            });
        p.value = Some(Value::Number(u64::from(n).into()));
    }
}

/// Values the model leaves open but a working CPE needs: identity, CWMP timers, the data-model
/// version, and generators for uptime/clock/connection-request URL.
fn apply_defaults(t: &mut TemplateFile, model: &str, id: &Identity) {
    let root = t.root.clone();
    let version = model.rsplit(':').next().unwrap_or("").to_string();
    let s = |v: &str| Value::String(v.to_string());
    let n = |v: u64| Value::Number(v.into());
    let values: [(&str, Value); 9] = [
        ("DeviceInfo.Manufacturer", s(&id.manufacturer)),
        ("DeviceInfo.ManufacturerOUI", s(&id.oui)),
        ("DeviceInfo.ProductClass", s(&id.product_class)),
        ("RootDataModelVersion", s(&version)),
        ("ManagementServer.EnableCWMP", Value::Bool(true)),
        ("ManagementServer.PeriodicInformEnable", Value::Bool(true)),
        ("ManagementServer.PeriodicInformInterval", n(3600)),
        // TR-069 §3.2.1.1 defaults for the retry back-off.
        ("ManagementServer.CWMPRetryMinimumWaitInterval", n(5)),
        ("ManagementServer.CWMPRetryIntervalMultiplier", n(2000)),
    ];
    for (rel, v) in values {
        if let Some(p) = identity::param_mut(t, &format!("{root}{rel}")) {
            p.value = Some(v);
        }
    }
    if let Some(p) = identity::param_mut(t, &format!("{root}DeviceInfo.SerialNumber")) {
        identity::set_gen(p, GenSpec::Pattern(id.serial_pattern.clone()));
    }
    identity::apply_time_generators(t);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_objects() {
        assert_eq!(
            parent_object("Device.Hosts.Host.{i}."),
            Some("Device.Hosts.")
        );
        assert_eq!(
            parent_object("Device.IP.Interface.{i}.IPv4Address.{i}."),
            Some("Device.IP.Interface.{i}.")
        );
        assert_eq!(parent_object("Device.IP."), Some("Device."));
        assert_eq!(parent_object("Device."), None);
    }
}
