//! Import a genieacs-sim device dump (CSV `Parameter,Object,Writable,Value,Value type`) as a
//! template.
//!
//! A dump holds concrete instances (`...Hosts.Host.3.IPAddress`). Each table seen that way gets
//! a `{i}` schema object with the union of the parameters seen in its instances (their types,
//! writability and, when all instances agree, their value as the default for AddObject) and
//! `instances: 0`; every instance in the dump becomes a concrete `X.N.` object carrying the
//! values that differ from the schema default, so instance numbers match the dump. Rows under
//! `DeviceID.` are genieacs-sim's own identity record, not parameters; its serial number seeds
//! the per-device serial pattern.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml::Value;

use super::csv;
use super::error::ImportError;
use super::identity::{self, is_instance_number};
use super::value;
use crate::model::file::{GenSpec, ObjectSpec, ParamSpec, TemplateFile};

mod rows;

use rows::{check_header, check_no_param_is_object, DeviceId, ParamRow, Rows};

/// Import a genieacs-sim CSV dump `src` as a template called `name`.
pub fn import_genieacs_csv(src: &str, name: &str) -> Result<TemplateFile, ImportError> {
    let records = csv::parse(src)?;
    let mut records = records.into_iter();
    let header = records.next().ok_or(ImportError::CsvSyntax {
        line: 1,
        message: "empty file (expected the header Parameter,Object,Writable,Value,Value type)"
            .into(),
    })?;
    check_header(&header)?;

    let mut rows = Rows::default();
    for rec in records {
        rows.add(rec)?;
    }

    let root = rows.root.ok_or(ImportError::CsvSyntax {
        line: 1,
        message: "no data-model rows".into(),
    })?;
    check_no_param_is_object(&rows.params, &rows.object_rows)?;

    let mut t = build(&root, name, &rows.object_rows, &rows.params)?;
    identity::mark_inform_flags(&mut t);
    apply_identity(&mut t, &rows.device_id);
    Ok(t)
}

/// The schema form of a concrete path: every instance number becomes `{i}`.
fn schema_of(path: &str) -> String {
    path.split('.')
        .map(|s| if is_instance_number(s) { "{i}" } else { s })
        .collect::<Vec<_>>()
        .join(".")
}

/// The concrete object paths of all ancestors of `object` (both with trailing dot), root first,
/// excluding `object` itself.
fn ancestors(object: &str) -> impl Iterator<Item = &str> {
    object
        .match_indices('.')
        .map(move |(i, _)| &object[..=i])
        .filter(move |a| a.len() < object.len())
}

/// A schema parameter being accumulated from its instances.
struct Acc {
    kind: &'static str,
    writable: bool,
    first_line: usize,
    values: Vec<Value>,
}

/// Concrete table path (`...Host.`) -> its concrete instance paths.
type Tables = BTreeMap<String, Vec<String>>;
/// Schema object path -> parameter name -> what its instances said.
type Schema = BTreeMap<String, BTreeMap<String, Acc>>;
/// (schema object path, parameter name) -> the default its schema object carries.
type Defaults = BTreeMap<(String, String), Value>;

fn build(
    root: &str,
    name: &str,
    object_rows: &BTreeMap<String, (bool, usize)>,
    params: &[ParamRow],
) -> Result<TemplateFile, ImportError> {
    let objects = concrete_objects(object_rows, params);
    let tables = find_tables(&objects, object_rows, params);
    let schema = accumulate_schema(&objects, &tables, params)?;
    let (mut out, defaults) = schema_objects(schema);
    add_tables(&mut out, &tables, object_rows);
    add_instance_values(&mut out, &defaults, params);

    Ok(TemplateFile {
        name: name.to_string(),
        description: Some(format!(
            "Imported from a genieacs-sim CSV dump ({} parameters)",
            params.len()
        )),
        root: root.to_string(),
        cwmp_version: None,
        objects: out,
    })
}

/// Every concrete object: the listed ones, their ancestors and the parents of parameters.
fn concrete_objects(
    object_rows: &BTreeMap<String, (bool, usize)>,
    params: &[ParamRow],
) -> BTreeSet<String> {
    let mut objects: BTreeSet<String> = BTreeSet::new();
    for obj in object_rows
        .keys()
        .map(String::as_str)
        .chain(params.iter().map(|p| p.object.as_str()))
    {
        objects.insert(obj.to_string());
        for a in ancestors(obj) {
            objects.insert(a.to_string());
        }
    }
    objects
}

/// The tables among `objects`: those with numbered instances, plus the empty ones.
fn find_tables(
    objects: &BTreeSet<String>,
    object_rows: &BTreeMap<String, (bool, usize)>,
    params: &[ParamRow],
) -> Tables {
    let mut tables = Tables::new();
    for obj in objects {
        let trimmed = obj.strip_suffix('.').unwrap_or(obj);
        if let Some(dot) = trimmed.rfind('.') {
            if is_instance_number(&trimmed[dot + 1..]) {
                tables
                    .entry(trimmed[..=dot].to_string())
                    .or_default()
                    .push(obj.clone());
            }
        }
    }
    // A listed object with no content whose parent counts it (`XNumberOfEntries`) is an empty
    // table (TR-106: tables have a NumberOfEntries parameter in their parent).
    let counters: BTreeSet<String> = params
        .iter()
        .filter_map(|p| {
            p.name
                .strip_suffix("NumberOfEntries")
                .map(|t| format!("{}{t}.", p.object))
        })
        .collect();
    for obj in object_rows.keys() {
        let has_content = objects
            .iter()
            .any(|o| o.len() > obj.len() && o.starts_with(obj.as_str()))
            || params.iter().any(|p| p.object == *obj);
        if !has_content && counters.contains(obj) {
            tables.entry(obj.clone()).or_default();
        }
    }

    // The same table can be empty under one parent instance and populated under another
    // (`FilterMode.1.ACL` vs `FilterMode.2.ACL.1`): it is a table everywhere.
    let table_schemas: BTreeSet<String> = tables.keys().map(|t| schema_of(t)).collect();
    for obj in objects {
        if !tables.contains_key(obj) && table_schemas.contains(&schema_of(obj)) {
            tables.entry(obj.clone()).or_default();
        }
    }
    tables
}

/// Schema parameters, accumulated over all instances; a parameter whose type differs between
/// instances is an error.
fn accumulate_schema(
    objects: &BTreeSet<String>,
    tables: &Tables,
    params: &[ParamRow],
) -> Result<Schema, ImportError> {
    let mut schema = Schema::new();
    for obj in objects {
        if !tables.contains_key(obj) {
            schema.entry(schema_of(obj)).or_default();
        }
    }
    for p in params {
        let entry = schema.entry(schema_of(&p.object)).or_default();
        match entry.get_mut(&p.name) {
            None => {
                entry.insert(
                    p.name.clone(),
                    Acc {
                        kind: p.kind,
                        writable: p.writable,
                        first_line: p.line,
                        values: vec![p.value.clone()],
                    },
                );
            }
            Some(acc) => {
                if acc.kind != p.kind {
                    return Err(ImportError::CsvRecord {
                        line: p.line,
                        message: format!(
                            "{}{} is {} here but {} on line {}",
                            p.object, p.name, p.kind, acc.kind, acc.first_line
                        ),
                    });
                }
                acc.writable |= p.writable;
                acc.values.push(p.value.clone());
            }
        }
    }
    Ok(schema)
}

/// The schema objects, each parameter defaulting to the value all its instances agree on (else
/// the type's neutral value), and those defaults by (object, parameter).
fn schema_objects(schema: Schema) -> (BTreeMap<String, ObjectSpec>, Defaults) {
    let mut out: BTreeMap<String, ObjectSpec> = BTreeMap::new();
    let mut defaults = Defaults::new();
    for (path, accs) in schema {
        let mut spec = ObjectSpec::default();
        for (pname, acc) in accs {
            let default = match acc.values.split_first() {
                Some((first, rest)) if rest.iter().all(|v| v == first) => first.clone(),
                _ => value::neutral(acc.kind, &[], None),
            };
            defaults.insert((path.clone(), pname.clone()), default.clone());
            spec.parameters.insert(
                pname,
                ParamSpec {
                    kind: Some(acc.kind.to_string()),
                    value: Some(default),
                    writable: acc.writable,
                    ..ParamSpec::default()
                },
            );
        }
        out.insert(path, spec);
    }
    (out, defaults)
}

/// Table schemas get the table's writability; instances come from the concrete objects.
fn add_tables(
    out: &mut BTreeMap<String, ObjectSpec>,
    tables: &Tables,
    object_rows: &BTreeMap<String, (bool, usize)>,
) {
    for (table, instances) in tables {
        let schema_path = format!("{}{{i}}.", schema_of(table));
        let writable = match object_rows.get(table) {
            Some((w, _)) => *w,
            None => instances
                .iter()
                .any(|i| object_rows.get(i).is_some_and(|(w, _)| *w)),
        };
        let spec = out.entry(schema_path).or_default();
        spec.writable |= writable;
        spec.instances = Some(0);
        for inst in instances {
            out.entry(inst.clone()).or_default();
        }
    }
}

/// Values that differ from the schema default go into the concrete objects.
fn add_instance_values(
    out: &mut BTreeMap<String, ObjectSpec>,
    defaults: &Defaults,
    params: &[ParamRow],
) {
    for p in params {
        if !identity::is_concrete(&p.object) {
            continue;
        }
        let key = (schema_of(&p.object), p.name.clone());
        if defaults.get(&key) == Some(&p.value) {
            continue;
        }
        out.entry(p.object.clone()).or_default().parameters.insert(
            p.name.clone(),
            ParamSpec {
                value: Some(p.value.clone()),
                ..ParamSpec::default()
            },
        );
    }
}

/// Per-device identity: the serial number and management usernames become patterns, and the
/// clock, uptime and connection-request URL generators.
fn apply_identity(t: &mut TemplateFile, id: &DeviceId) {
    identity::apply_time_generators(t);
    let root = t.root.clone();
    let literal = |t: &mut TemplateFile, rel: &str| -> Option<String> {
        match identity::param_mut(t, &format!("{root}{rel}"))?
            .value
            .as_ref()?
        {
            Value::String(s) => Some(s.clone()),
            _ => None,
        }
    };
    let info_serial = literal(t, "DeviceInfo.SerialNumber");
    let oui = literal(t, "DeviceInfo.ManufacturerOUI").or_else(|| id.oui.clone());
    let class = literal(t, "DeviceInfo.ProductClass").or_else(|| id.product_class.clone());
    // genieacs-sim reports DeviceId.SerialNumber from its own record, which is the one the ACS
    // knows the device by; the data-model value may be a placeholder ("0" in the Huawei dump).
    let serial = id
        .serial
        .clone()
        .filter(|s| !s.is_empty())
        .or(info_serial.clone());

    if let (Some(serial), Some(p)) = (
        serial.as_deref(),
        identity::param_mut(t, &format!("{root}DeviceInfo.SerialNumber")),
    ) {
        identity::set_gen(p, GenSpec::Pattern(identity::serial_pattern(serial)));
    }
    for rel in [
        "ManagementServer.Username",
        "ManagementServer.ConnectionRequestUsername",
    ] {
        let Some(current) = literal(t, rel) else {
            continue;
        };
        let Some(serial) = serial.as_deref().filter(|s| !s.is_empty()) else {
            continue;
        };
        let pattern = if current == serial || info_serial.as_deref() == Some(current.as_str()) {
            "{serial}"
        } else if oui
            .as_deref()
            .zip(class.as_deref())
            .map(|(o, c)| format!("{o}-{c}-{serial}"))
            == Some(current.clone())
        {
            "{oui}-{product_class}-{serial}"
        } else {
            continue;
        };
        if let Some(p) = identity::param_mut(t, &format!("{root}{rel}")) {
            identity::set_gen(p, GenSpec::Pattern(pattern.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "Parameter,Object,Writable,Value,Value type\n";

    fn import(body: &str) -> Result<TemplateFile, ImportError> {
        import_genieacs_csv(&format!("{HEAD}{body}"), "t")
    }

    #[test]
    fn schema_paths() {
        assert_eq!(schema_of("A.1.B.22.C."), "A.{i}.B.{i}.C.");
        assert_eq!(schema_of("A.B."), "A.B.");
    }

    #[test]
    fn tables_get_a_schema_and_concrete_instances() {
        let t = import(
            "IGD,true,false,,\n\
             IGD.L,true,true,,\n\
             IGD.L.1,true,true,,\n\
             IGD.L.1.Name,false,true,a,xsd:string\n\
             IGD.L.1.On,false,true,true,xsd:boolean\n\
             IGD.L.3,true,true,,\n\
             IGD.L.3.Name,false,true,b,xsd:string\n\
             IGD.L.3.On,false,true,true,xsd:boolean\n\
             IGD.LNumberOfEntries,false,false,2,xsd:unsignedInt\n",
        )
        .unwrap();
        assert_eq!(t.root, "IGD.");
        let schema = &t.objects["IGD.L.{i}."];
        assert!(schema.writable);
        assert_eq!(schema.instances, Some(0));
        assert_eq!(schema.parameters["Name"].kind.as_deref(), Some("string"));
        assert_eq!(
            schema.parameters["Name"].value,
            Some(Value::String(String::new()))
        );
        // Both instances agree on On, so it is the default and not repeated.
        assert_eq!(schema.parameters["On"].value, Some(Value::Bool(true)));
        assert_eq!(
            t.objects["IGD.L.3."].parameters["Name"].value,
            Some(Value::String("b".into()))
        );
        assert!(!t.objects["IGD.L.3."].parameters.contains_key("On"));
        assert!(!t.objects.contains_key("IGD.L."));
        assert!(!t.objects.contains_key("IGD.L.2."));
    }

    #[test]
    fn empty_table_is_recognised_by_its_counter() {
        let t = import(
            "IGD.M,true,true,,\n\
             IGD.MNumberOfEntries,false,false,0,xsd:unsignedInt\n\
             IGD.Plain,true,false,,\n",
        )
        .unwrap();
        assert_eq!(t.objects["IGD.M.{i}."].instances, Some(0));
        assert!(t.objects["IGD.M.{i}."].writable);
        assert!(t.objects.contains_key("IGD.Plain."));
    }

    #[test]
    fn errors_point_at_the_line() {
        let err = import("IGD.A,false,false,x,xsd:unsignedInt\n").unwrap_err();
        assert!(
            matches!(err, ImportError::CsvRecord { line: 2, .. }),
            "{err}"
        );
        let err = import("IGD.A,false,false,1,xsd:unsignedInt\nIGD.B,maybe,false,,\n").unwrap_err();
        assert!(
            matches!(err, ImportError::CsvRecord { line: 3, .. }),
            "{err}"
        );
        let err = import("IGD.A,false,false,1\n").unwrap_err();
        assert!(
            matches!(err, ImportError::CsvSyntax { line: 2, .. }),
            "{err}"
        );
        let err = import("IGD.A,false,false,1,xsd:float\n").unwrap_err();
        assert!(err.to_string().contains("unknown value type"), "{err}");
        let err =
            import("IGD.A,false,false,1,xsd:int\nOther.B,false,false,1,xsd:int\n").unwrap_err();
        assert!(
            matches!(err, ImportError::CsvRecord { line: 3, .. }),
            "{err}"
        );
        let err = import("IGD.A,false,false,1,xsd:int\nIGD.A,false,false,2,xsd:int\n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        let err = import_genieacs_csv("Name,Value\n", "t").unwrap_err();
        assert!(
            matches!(err, ImportError::CsvSyntax { line: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_table_empty_under_one_parent_is_still_a_table() {
        let t = import(
            "IGD.F.1,true,true,,\n\
             IGD.F.1.ACL,true,true,,\n\
             IGD.F.2,true,true,,\n\
             IGD.F.2.ACL,true,true,,\n\
             IGD.F.2.ACL.1,true,true,,\n\
             IGD.F.2.ACL.1.Rule,false,true,x,xsd:string\n",
        )
        .unwrap();
        assert!(t.objects.contains_key("IGD.F.{i}.ACL.{i}."));
        assert!(!t.objects.contains_key("IGD.F.{i}.ACL."));
        assert!(t.objects.contains_key("IGD.F.2.ACL.1."));
    }

    #[test]
    fn conflicting_types_across_instances_are_errors() {
        let err = import(
            "IGD.L.1.X,false,false,1,xsd:int\n\
             IGD.L.2.X,false,false,1,xsd:string\n",
        )
        .unwrap_err();
        assert!(
            matches!(err, ImportError::CsvRecord { line: 3, .. }),
            "{err}"
        );
    }

    #[test]
    fn identity_generators() {
        let t = import(
            "DeviceID.SerialNumber,false,false,ABC000123,xsd:string\n\
             DeviceID.OUI,false,false,A1B2C3,xsd:string\n\
             IGD.DeviceInfo.SerialNumber,false,false,ABC000123,xsd:string\n\
             IGD.DeviceInfo.ManufacturerOUI,false,false,A1B2C3,xsd:string\n\
             IGD.DeviceInfo.ProductClass,false,false,Box,xsd:string\n\
             IGD.DeviceInfo.UpTime,false,false,99,xsd:unsignedInt\n\
             IGD.ManagementServer.Username,false,true,A1B2C3-Box-ABC000123,xsd:string\n\
             IGD.ManagementServer.ConnectionRequestURL,false,false,http://x/,xsd:string\n",
        )
        .unwrap();
        let di = &t.objects["IGD.DeviceInfo."].parameters;
        assert_eq!(
            di["SerialNumber"].gen,
            Some(GenSpec::Pattern("ABC{index:06}".into()))
        );
        assert_eq!(di["SerialNumber"].value, None);
        assert_eq!(di["UpTime"].gen, Some(GenSpec::Uptime));
        let ms = &t.objects["IGD.ManagementServer."].parameters;
        assert_eq!(
            ms["Username"].gen,
            Some(GenSpec::Pattern("{oui}-{product_class}-{serial}".into()))
        );
        assert_eq!(
            ms["ConnectionRequestURL"].gen,
            Some(GenSpec::ConnectionRequestUrl)
        );
        assert!(!t.objects.keys().any(|k| k.starts_with("DeviceID")));
    }
}
