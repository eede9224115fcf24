//! Import a BBF cwmp-datamodel XML definition (`tr-181-2-17-0-cwmp-full.xml` and friends) as a
//! template.
//!
//! The document is streamed once (the TR-181 file is 4 MB): top-level `dataType` definitions
//! are collected, then the `model`'s flat `object` list with each object's `parameter`s.
//! Profiles, components and descriptions are skipped. Deleted and obsoleted objects and
//! parameters are dropped; deprecated ones are kept (devices still have them).
//!
//! The model says what a device *supports*, not what it holds, so the importer chooses: which
//! sub-trees to keep ([`BbfImportOptions`]), how many instances each table starts with, and
//! values — the model's object/factory default, else a neutral value of the type that fits its
//! enumeration and range, with a few CWMP-sensible exceptions (see `identity`).

use std::collections::BTreeMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::bbf_build;
use super::bbf_types::{self, Facets, TypeDef, Types};
use super::error::ImportError;
use super::identity::Identity;
use super::value;
use crate::model::file::{GenSpec, ParamSpec, TemplateFile};
use crate::units::line_column;

/// What to take from the model and how to instantiate it.
#[derive(Debug, Clone, PartialEq)]
pub struct BbfImportOptions {
    /// The template's name.
    pub name: String,
    pub description: Option<String>,
    /// Only this sub-tree (`Device.WiFi.`); None = the whole model.
    pub root: Option<String>,
    /// Object path prefixes to keep (`Device.IP.Interface.`); empty = all under `root`.
    /// Ancestors of kept objects are kept too, with their own parameters, so the tree is whole.
    pub include: Vec<String>,
    /// Object path prefixes to drop even when `include`d.
    pub exclude: Vec<String>,
    /// Initial instances of every table (clamped to the table's min/max entries).
    pub instances: u32,
    /// Initial instances of particular tables, by schema path (`Device.WiFi.SSID.{i}.`).
    pub table_instances: BTreeMap<String, u32>,
    /// Where a service model's objects (named relative, `VoiceService.{i}.`) are mounted.
    pub mount: String,
    pub cwmp_version: Option<String>,
    /// Values for the identity parameters the model cannot give.
    pub identity: Identity,
}

impl Default for BbfImportOptions {
    fn default() -> Self {
        BbfImportOptions {
            name: "imported".into(),
            description: None,
            root: None,
            include: Vec::new(),
            exclude: Vec::new(),
            instances: 1,
            table_instances: BTreeMap::new(),
            mount: "Device.Services.".into(),
            cwmp_version: None,
            identity: Identity::default(),
        }
    }
}

/// One `object` of the model as parsed.
#[derive(Debug)]
pub(super) struct Obj {
    /// Full path (mounted for service models).
    pub(super) name: String,
    pub(super) writable: bool,
    pub(super) min_entries: u32,
    /// None = unbounded.
    pub(super) max_entries: Option<u32>,
    pub(super) num_entries_param: Option<String>,
    /// Deleted or obsoleted.
    pub(super) skipped: bool,
    pub(super) params: Vec<(String, ParamSpec)>,
}

/// The `syntax` of the parameter being read.
#[derive(Debug, Default)]
struct Syntax {
    hidden: bool,
    primitive: Option<&'static str>,
    type_ref: Option<String>,
    list: bool,
    list_max_length: Option<u32>,
    facets: Facets,
    default: Option<String>,
}

#[derive(Debug)]
struct Param {
    name: String,
    writable: bool,
    forced_inform: bool,
    active_notify: Option<String>,
    skipped: bool,
    /// Byte offset of the element, for errors found when it ends.
    at: u64,
    syntax: Syntax,
}

/// Where in the document the reader is, as far as the importer cares.
#[derive(Debug, Default)]
struct State {
    stack: Vec<String>,
    types: Types,
    type_def: Option<(String, TypeDef)>,
    model: Option<String>,
    is_service: bool,
    objects: Vec<Obj>,
    param: Option<Param>,
}

/// Import the BBF data-model XML `src` with `opts`.
pub fn import_bbf_xml(src: &str, opts: &BbfImportOptions) -> Result<TemplateFile, ImportError> {
    let state = parse(src, opts)?;
    let model = state.model.clone().ok_or_else(|| {
        ImportError::options("the document has no <model> (is it a cwmp-datamodel file?)")
    })?;
    bbf_build::build(state.objects, &model, opts)
}

fn xml_error(src: &str, byte: u64, message: String, syntax: bool) -> ImportError {
    let (line, column) = line_column(src, usize::try_from(byte).unwrap_or(usize::MAX));
    if syntax {
        ImportError::XmlSyntax {
            line,
            column,
            byte,
            message,
        }
    } else {
        ImportError::XmlModel {
            line,
            column,
            byte,
            message,
        }
    }
}

fn parse(src: &str, opts: &BbfImportOptions) -> Result<State, ImportError> {
    if !opts.mount.ends_with('.') || opts.mount.starts_with('.') {
        return Err(ImportError::options(format!(
            "mount {:?} must be an object path like \"Device.Services.\"",
            opts.mount
        )));
    }
    let mut reader = Reader::from_str(src);
    let mut st = State::default();
    loop {
        let at = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| xml_error(src, reader.error_position(), e.to_string(), true))?;
        let model_err = |m: String| xml_error(src, at, m, false);
        match event {
            Event::Start(e) => {
                on_start(&mut st, &e, at, opts).map_err(model_err)?;
                st.stack.push(local(&e));
            }
            Event::Empty(e) => {
                on_start(&mut st, &e, at, opts).map_err(model_err)?;
                st.stack.push(local(&e));
                let done = on_end(&mut st).map_err(|(m, at)| xml_error(src, at, m, false))?;
                if done {
                    break;
                }
            }
            Event::End(_) => {
                let done = on_end(&mut st).map_err(|(m, at)| xml_error(src, at, m, false))?;
                if done {
                    break;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(st)
}

fn local(e: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(e.local_name().as_ref()).into_owned()
}

/// The unescaped value of attribute `key` (matched without prefix-less keys only, so `dmr:`
/// extension attributes never shadow the standard ones).
fn attr(e: &BytesStart<'_>, key: &str) -> Result<Option<String>, String> {
    for a in e.attributes() {
        let a = a.map_err(|err| err.to_string())?;
        if a.key.as_ref() == key.as_bytes() {
            let v = a.unescape_value().map_err(|err| err.to_string())?;
            // A name never holds white space (TR-106 §3.1), yet TR-098 1.8's XML names an
            // object "Queueing " with a trailing space: names are read trimmed.
            if key == "name" {
                return Ok(Some(v.trim().to_string()));
            }
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

fn attr_true(e: &BytesStart<'_>, key: &str) -> Result<bool, String> {
    Ok(matches!(attr(e, key)?.as_deref(), Some("true" | "1")))
}

fn parse_num<T: std::str::FromStr>(e: &BytesStart<'_>, key: &str) -> Result<Option<T>, String> {
    match attr(e, key)? {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<T>()
            .map(Some)
            .map_err(|_| format!("attribute {key}={v:?} is not a number")),
    }
}

fn facet(facets: &mut Facets, name: &str, e: &BytesStart<'_>) -> Result<(), String> {
    match name {
        "size" => {
            if let Some(max) = parse_num::<u32>(e, "maxLength")? {
                facets.max_length = Some(max);
            }
        }
        "range" => {
            // Decimal bounds do not fit the template's integer ranges; they are left out.
            let lo = attr(e, "minInclusive")?.and_then(|v| v.trim().parse::<i64>().ok());
            let hi = attr(e, "maxInclusive")?.and_then(|v| v.trim().parse::<i64>().ok());
            facets.ranges.push((lo, hi));
        }
        "enumeration" => {
            if let Some(v) = attr(e, "value")? {
                facets.enums.push(v);
            }
        }
        _ => {}
    }
    Ok(())
}

fn is_dropped(status: Option<&str>) -> bool {
    matches!(status, Some("deleted" | "obsoleted"))
}

fn on_start(
    st: &mut State,
    e: &BytesStart<'_>,
    at: u64,
    opts: &BbfImportOptions,
) -> Result<(), String> {
    let name = local(e);
    let depth = st.stack.len();
    let parent = st.stack.last().map(String::as_str);

    // Named types: direct children of the document.
    if depth == 1 && name == "dataType" {
        let tname = attr(e, "name")?.ok_or("a top-level dataType has no name")?;
        let def = TypeDef {
            base: attr(e, "base")?,
            ..TypeDef::default()
        };
        st.type_def = Some((tname, def));
        return Ok(());
    }
    if let Some((_, def)) = st.type_def.as_mut() {
        return type_def_child(def, parent, &name, e);
    }

    if depth == 1 && name == "model" {
        st.model = Some(attr(e, "name")?.unwrap_or_default());
        st.is_service = attr_true(e, "isService")?;
        return Ok(());
    }
    if st.model.is_none() {
        return Ok(());
    }

    if depth == 2 && name == "object" {
        return start_object(st, e, opts);
    }
    let in_object = st.stack.get(1).map(String::as_str) == Some("model")
        && st.stack.get(2).map(String::as_str) == Some("object");
    if !in_object {
        return Ok(());
    }
    if depth == 3 && name == "parameter" {
        return start_param(st, e, at);
    }
    let Some(param) = st.param.as_mut() else {
        return Ok(());
    };
    syntax_child(&mut param.syntax, parent, &name, e)
}

/// An element `name` inside a top-level named dataType whose parent element is `parent`.
fn type_def_child(
    def: &mut TypeDef,
    parent: Option<&str>,
    name: &str,
    e: &BytesStart<'_>,
) -> Result<(), String> {
    match (parent, name) {
        (Some("dataType"), "list") => def.list = true,
        (Some("dataType"), "dataType") => def.base = attr(e, "ref")?.or(attr(e, "base")?),
        (Some("dataType"), p) if bbf_types::primitive(p).is_some() => {
            def.primitive = bbf_types::primitive(p);
        }
        (Some(par), f) if par == "dataType" || bbf_types::primitive(par).is_some() => {
            facet(&mut def.facets, f, e)?;
        }
        _ => {}
    }
    Ok(())
}

/// An `object` of the model: a new object definition (under the mount point in a service model).
fn start_object(st: &mut State, e: &BytesStart<'_>, opts: &BbfImportOptions) -> Result<(), String> {
    // Profiles refer to objects with `ref`; only definitions have `name`.
    let Some(oname) = attr(e, "name")? else {
        return Ok(());
    };
    let full = if st.is_service {
        format!("{}{oname}", opts.mount)
    } else {
        oname
    };
    let max_entries = match attr(e, "maxEntries")?.as_deref() {
        None => Some(1),
        Some("unbounded") => None,
        Some(v) => Some(
            v.trim()
                .parse::<u32>()
                .map_err(|_| format!("maxEntries={v:?} is not a number"))?,
        ),
    };
    st.objects.push(Obj {
        name: full,
        writable: attr(e, "access")?.as_deref() == Some("readWrite"),
        min_entries: parse_num(e, "minEntries")?.unwrap_or(0),
        max_entries,
        num_entries_param: attr(e, "numEntriesParameter")?,
        skipped: is_dropped(attr(e, "status")?.as_deref()),
        params: Vec::new(),
    });
    Ok(())
}

/// A `parameter` of an object, defined at byte offset `at`; its syntax follows inside.
fn start_param(st: &mut State, e: &BytesStart<'_>, at: u64) -> Result<(), String> {
    let Some(pname) = attr(e, "name")? else {
        return Ok(());
    };
    let access = attr(e, "access")?;
    st.param = Some(Param {
        name: pname,
        // writeOnceReadOnly exists in <= 2.18 CWMP files; CWMP has no write-once, so the
        // ACS may write it.
        writable: matches!(access.as_deref(), Some("readWrite" | "writeOnceReadOnly")),
        forced_inform: attr_true(e, "forcedInform")?,
        active_notify: attr(e, "activeNotify")?.filter(|a| a != "normal"),
        skipped: is_dropped(attr(e, "status")?.as_deref()),
        at,
        syntax: Syntax::default(),
    });
    Ok(())
}

/// An element `name` inside a parameter whose parent element is `parent`: its syntax.
fn syntax_child(
    syn: &mut Syntax,
    parent: Option<&str>,
    name: &str,
    e: &BytesStart<'_>,
) -> Result<(), String> {
    match (parent, name) {
        (Some("parameter"), "syntax") => {
            syn.hidden =
                attr_true(e, "hidden")? || attr_true(e, "secured")? || attr_true(e, "command")?;
        }
        (Some("syntax"), "list") => syn.list = true,
        // `ref` names a type; `base` derives an anonymous one from it (facets follow inside).
        (Some("syntax"), "dataType") => syn.type_ref = attr(e, "ref")?.or(attr(e, "base")?),
        (Some("syntax"), "default") => {
            if matches!(attr(e, "type")?.as_deref(), Some("object" | "factory")) {
                syn.default = attr(e, "value")?;
            }
        }
        (Some("syntax"), p) if bbf_types::primitive(p).is_some() => {
            syn.primitive = bbf_types::primitive(p);
        }
        (Some("list"), "size") => syn.list_max_length = parse_num(e, "maxLength")?,
        (Some(par), f) if par == "dataType" || bbf_types::primitive(par).is_some() => {
            facet(&mut syn.facets, f, e)?;
        }
        _ => {}
    }
    Ok(())
}

/// Handle the end of the innermost element. Returns true once the model is complete (nothing
/// after it matters). Errors carry the byte offset of the element they concern.
fn on_end(st: &mut State) -> Result<bool, (String, u64)> {
    let Some(name) = st.stack.pop() else {
        return Ok(false);
    };
    let depth = st.stack.len();
    match (depth, name.as_str()) {
        (1, "dataType") => {
            if let Some((tname, def)) = st.type_def.take() {
                st.types.insert(tname, def);
            }
        }
        (1, "model") if st.model.is_some() => return Ok(true),
        (3, "parameter") => {
            if let Some(p) = st.param.take() {
                let at = p.at;
                let spec = finish_param(&st.types, &p).map_err(|m| (m, at))?;
                if let (Some(obj), Some(spec)) = (st.objects.last_mut(), spec) {
                    obj.params.push((p.name, spec));
                }
            }
        }
        _ => {}
    }
    Ok(false)
}

/// The template parameter for a parsed `parameter`; None if it is dropped.
fn finish_param(types: &Types, p: &Param) -> Result<Option<ParamSpec>, String> {
    if p.skipped {
        return Ok(None);
    }
    let syn = &p.syntax;
    let (primitive, list, facets, is_alias) = match (&syn.type_ref, syn.primitive) {
        (Some(r), _) => {
            let resolved = types
                .resolve(r)
                .map_err(|m| format!("parameter {}: {m}", p.name))?;
            let is_alias = resolved.chain.iter().any(|n| n == "Alias");
            (
                resolved.primitive,
                resolved.list || syn.list,
                resolved.facets.overlay(&syn.facets),
                is_alias,
            )
        }
        (None, Some(prim)) => (prim, syn.list, syn.facets.clone(), false),
        (None, None) => {
            return Err(format!("parameter {} has no type in its syntax", p.name));
        }
    };
    // A list is a comma-separated string on the wire; per-item facets do not apply to it.
    let (kind, allowed, range, max_length) = if list {
        ("string", Vec::new(), None, syn.list_max_length)
    } else {
        let max_length = match primitive {
            "string" | "base64" => facets.max_length,
            // TR-106: a hexBinary size counts octets, two hex characters each.
            "hexBinary" => facets.max_length.map(|n| n.saturating_mul(2)),
            _ => None,
        };
        (
            primitive,
            facets.enums.clone(),
            facets.range_for(primitive),
            max_length,
        )
    };
    let default = syn
        .default
        .as_deref()
        // An empty dateTime default (TR-098 1.8 has some) is no dateTime: the neutral value,
        // Unknown Time (TR-106 §3.2.2), stands in.
        .filter(|d| !(kind == "dateTime" && d.trim().is_empty()))
        .and_then(|d| value::literal(kind, d))
        .filter(|v| value::fits(v, &allowed, range));
    let spec = ParamSpec {
        kind: Some(kind.to_string()),
        value: Some(default.unwrap_or_else(|| value::neutral(kind, &allowed, range))),
        gen: None,
        writable: p.writable,
        notification: None,
        access_list: Vec::new(),
        forced_inform: p.forced_inform,
        active_notify: p.active_notify.clone(),
        hidden: syn.hidden,
        allowed,
        range,
        max_length,
    };
    Ok(Some(if is_alias && p.name == "Alias" {
        // Aliases must be unique among siblings and start with "cpe-" when the CPE picks them.
        ParamSpec {
            value: None,
            gen: Some(GenSpec::Pattern("cpe-{i}".into())),
            ..spec
        }
    } else {
        spec
    }))
}
