//! The rows of a genieacs-sim dump: the header check, and each data row sorted into objects,
//! parameters or the `DeviceID.` record, with its fields checked.

use std::collections::BTreeMap;

use serde_yaml::Value;

use crate::import::csv;
use crate::import::error::ImportError;
use crate::import::identity::is_instance_number;
use crate::import::value;

const HEADER: [&str; 5] = ["Parameter", "Object", "Writable", "Value", "Value type"];

/// A parameter row of the dump.
pub(super) struct ParamRow {
    pub(super) line: usize,
    /// Concrete object path, with trailing dot.
    pub(super) object: String,
    pub(super) name: String,
    pub(super) kind: &'static str,
    pub(super) value: Value,
    pub(super) writable: bool,
}

/// The genieacs-sim `DeviceID.*` record.
#[derive(Default)]
pub(super) struct DeviceId {
    pub(super) oui: Option<String>,
    pub(super) product_class: Option<String>,
    pub(super) serial: Option<String>,
}

/// The first record must be exactly the genieacs-sim header (case and spaces aside).
pub(super) fn check_header(header: &csv::Record) -> Result<(), ImportError> {
    let header_ok = header.fields.len() == HEADER.len()
        && header
            .fields
            .iter()
            .zip(HEADER)
            .all(|(f, h)| f.trim().eq_ignore_ascii_case(h));
    if header_ok {
        return Ok(());
    }
    Err(ImportError::CsvSyntax {
        line: header.line,
        message: format!(
            "expected the header {:?}, found {:?}",
            HEADER.join(","),
            header.fields.join(",")
        ),
    })
}

/// The data rows of a dump, sorted into objects, parameters and the `DeviceID.` record.
#[derive(Default)]
pub(super) struct Rows {
    pub(super) root: Option<String>,
    pub(super) device_id: DeviceId,
    /// Concrete object path (trailing dot) -> (writable flag, line).
    pub(super) object_rows: BTreeMap<String, (bool, usize)>,
    pub(super) params: Vec<ParamRow>,
    /// Parameter path -> the line it first appeared on.
    pub(super) seen_params: BTreeMap<String, usize>,
}

impl Rows {
    /// Sort one data record into its place, checking its fields.
    pub(super) fn add(&mut self, rec: csv::Record) -> Result<(), ImportError> {
        let line = rec.line;
        let bad = |message: String| ImportError::CsvRecord { line, message };
        let [path, is_object, writable, text, kind] =
            <[String; 5]>::try_from(rec.fields).map_err(|f| ImportError::CsvSyntax {
                line,
                message: format!("expected 5 fields, found {}", f.len()),
            })?;
        let is_object = flag(&is_object)
            .ok_or_else(|| bad(format!("Object must be true or false, found {is_object:?}")))?;
        let writable = flag(&writable).ok_or_else(|| {
            bad(format!(
                "Writable must be true or false, found {writable:?}"
            ))
        })?;
        let path = path.trim();
        let path = path.strip_suffix('.').unwrap_or(path);
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(bad(format!("invalid path {path:?}")));
        }

        if let Some(field) = path.strip_prefix("DeviceID.") {
            match field {
                "OUI" => self.device_id.oui = Some(text),
                "ProductClass" => self.device_id.product_class = Some(text),
                "SerialNumber" => self.device_id.serial = Some(text),
                _ => {}
            }
            return Ok(());
        }
        if path == "DeviceID" {
            return Ok(());
        }

        let first = path.split('.').next().unwrap_or(path);
        match &self.root {
            None => self.root = Some(format!("{first}.")),
            Some(r) if r.strip_suffix('.') == Some(first) => {}
            Some(r) => {
                return Err(bad(format!(
                    "path {path:?} is outside the root {r:?} of the earlier rows"
                )))
            }
        }

        if is_object {
            if is_instance_number(first) {
                return Err(bad(format!("invalid object path {path:?}")));
            }
            self.object_rows
                .insert(format!("{path}."), (writable, line));
            return Ok(());
        }
        self.add_param(line, path, &text, &kind, writable)
    }

    /// A parameter row: `path` split into object and name, `text` parsed as the `kind` it names.
    fn add_param(
        &mut self,
        line: usize,
        path: &str,
        text: &str,
        kind: &str,
        writable: bool,
    ) -> Result<(), ImportError> {
        let bad = |message: String| ImportError::CsvRecord { line, message };
        let Some(dot) = path.rfind('.') else {
            return Err(bad(format!(
                "parameter {path:?} has no object (expected Root.Name)"
            )));
        };
        let (object, pname) = (&path[..=dot], &path[dot + 1..]);
        if is_instance_number(pname) {
            return Err(bad(format!(
                "{path:?} ends in an instance number but is not marked as an object"
            )));
        }
        let kind = value::from_xsd(kind.trim()).ok_or_else(|| {
            bad(format!(
                "unknown value type {kind:?} for {path:?} (expected xsd:string, xsd:int, ...)"
            ))
        })?;
        let value = value::literal(kind, text)
            .ok_or_else(|| bad(format!("{text:?} is not a valid {kind} for {path:?}")))?;
        if let Some(first_line) = self.seen_params.insert(path.to_string(), line) {
            return Err(bad(format!(
                "parameter {path:?} already appeared on line {first_line}"
            )));
        }
        self.params.push(ParamRow {
            line,
            object: object.to_string(),
            name: pname.to_string(),
            kind,
            value,
            writable,
        });
        Ok(())
    }
}

/// No path may be listed both as a parameter and as an object.
pub(super) fn check_no_param_is_object(
    params: &[ParamRow],
    object_rows: &BTreeMap<String, (bool, usize)>,
) -> Result<(), ImportError> {
    for p in params {
        let full = format!("{}{}", p.object, p.name);
        if let Some((_, line)) = object_rows.get(&format!("{full}.")) {
            return Err(ImportError::CsvRecord {
                line: *line,
                message: format!(
                    "{full:?} is both a parameter (line {}) and an object",
                    p.line
                ),
            });
        }
    }
    Ok(())
}

fn flag(s: &str) -> Option<bool> {
    match s.trim() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}
