//! YAML text -> [`TemplateFile`] (serde, shape errors with serde_yaml's location) -> validated,
//! compiled [`Template`]. Semantic errors found after deserialising are placed by finding the
//! offending key in the source text ([`Locator`]), so every error reads `file:line:col: …`.
//!
//! The compilation runs in steps, one file each: the object keys are classified and the implied
//! objects added ([`keys`]), the schema objects and their parameters compiled in tree order
//! ([`objects`], each parameter by [`param`]), then the concrete keys and initial instances
//! settled ([`instances`]); the identity check and the assembly are here.

mod instances;
mod keys;
mod objects;
mod param;

use std::collections::HashMap;

use crate::cwmp::CwmpVersion;
use crate::model::error::{ModelError, Problem};
use crate::model::file::TemplateFile;
use crate::model::generate::Ident;
use crate::model::locate::{duplicate_key, Locator};
use crate::model::path;
use crate::model::template::{flag, Node, ParamDef, ParamId, Source, Template};

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

fn join<'a>(at: &[&'a str], field: &'a str) -> Vec<&'a str> {
    let mut v = at.to_vec();
    v.push(field);
    v
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
        let version = root_and_version(file)?;

        // 1. Classify keys; collect schema objects (declared and implied).
        let (schema_objs, concrete) = keys::classify_keys(file, root)?;

        // 2. Objects in tree order, ids assigned; root first.
        let mut order: Vec<&String> = schema_objs.keys().collect();
        order.sort_by(|a, b| path::cmp_paths(a, b));

        // 3. Parameters.
        let (mut objects, mut params) = objects::compile_objects(&schema_objs, &order, root)?;
        objects::link_children(&mut objects, &order);

        // 4. <Table>NumberOfEntries counts instances.
        objects::count_entries(&objects, &mut params);
        let schema = objects::schema_index(&objects, &params);

        // 5. Concrete keys: declared instances and per-instance value overrides.
        let (declared_inst, overrides) =
            instances::concrete_keys(&concrete, &schema, &objects, &params)?;

        // 6. Initial instances, outer tables first (objects are in tree order).
        instances::initial_instances(file, &mut objects, &declared_inst)?;

        // 7. Identity.
        let identity = identity(file, root, &schema, &params)?;

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

/// Checks the root (one of the two TR-069 data-model roots) and reads the CWMP version.
fn root_and_version(file: &TemplateFile) -> Result<CwmpVersion, Fail> {
    let root = file.root.as_str();
    if root != "Device." && root != "InternetGatewayDevice." {
        return Err(fail(
            Problem::Root,
            &["root"],
            format!("root {root:?} must be \"Device.\" or \"InternetGatewayDevice.\""),
        ));
    }
    match &file.cwmp_version {
        None => Ok(CwmpVersion::default()),
        Some(v) => CwmpVersion::parse(v).ok_or_else(|| {
            fail(
                Problem::Version,
                &["cwmp_version"],
                format!("cwmp_version {v:?} is not one of 1.0, 1.1, 1.2, 1.3, 1.4"),
            )
        }),
    }
}

/// The DeviceInfo parameters the Inform's DeviceId is made of, in [`IDENTITY`] order; the
/// OUI, product class and serial may not be generated from a pattern quoting themselves.
fn identity(
    file: &TemplateFile,
    root: &str,
    schema: &HashMap<Box<str>, Node>,
    params: &[ParamDef],
) -> Result<[ParamId; 4], Fail> {
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
    for (pid, id) in identity
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
    Ok(identity)
}
