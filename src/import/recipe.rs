//! A recipe: how a shipped template is made. It names its sources (a genieacs-sim dump, BBF
//! data models) with the import options of each, merged in order over the first, then the
//! template's name, description and CWMP version, then the hand edits as an [`Overlay`]. So
//! `cpefleet template import --recipe data-models/recipes/X.yaml` writes `data-models/X.yaml`
//! byte for byte, and a test can tell when the shipped file and its recipe disagree.
//!
//! ```yaml
//! header: |              # the comment lines at the top of the output
//!   tr135-stb: a TR-135 IPTV set-top box ...
//! name: tr135-stb
//! description: "TR-135 IPTV set-top box (Device:2.17 with STBService:1.4)"
//! cwmp_version: "1.4"
//! sources:               # paths relative to the recipe
//!   - bbf_xml: { file: ../../tests/data/bbf/data-models/tr-181-2-17-0-cwmp-full.xml,
//!                include: [Device.DeviceInfo.], identity: { product_class: STB135 } }
//!   - bbf_xml: { file: ../../tests/data/bbf/data-models/tr-135-1-4-0-full.xml, instances: 0 }
//! overlay:               # see overlay.rs
//!   Device.DeviceInfo.:
//!     parameters:
//!       HardwareVersion: { value: STB135-HW1 }
//! ```
//!
//! Pure like the importers: the caller reads the source files ([`Recipe::files`]) and passes
//! their text in.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::bbf_xml::{import_bbf_xml, BbfImportOptions};
use super::error::ImportError;
use super::genieacs_csv::import_genieacs_csv;
use super::identity::Identity;
use super::merge::merge;
use super::overlay::{self, Overlay};
use super::yaml::write_yaml_with_header;
use crate::model::file::TemplateFile;

/// A whole recipe file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// Written as `#` comment lines at the top of the template.
    pub header: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub cwmp_version: Option<String>,
    /// The first source is the base; each further one is merged over it.
    #[serde(with = "serde_yaml::with::singleton_map_recursive")]
    pub sources: Vec<Source>,
    #[serde(default)]
    pub overlay: Overlay,
}

/// One source and how to import it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Source {
    /// A genieacs-sim CSV dump.
    GenieacsCsv { file: String },
    /// A BBF cwmp-datamodel XML file.
    BbfXml(Box<BbfSource>),
}

/// [`BbfImportOptions`] as a recipe writes them (name, description and version are the
/// recipe's own).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BbfSource {
    pub file: String,
    #[serde(default)]
    pub root: Option<String>,
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default = "one")]
    pub instances: u32,
    #[serde(default)]
    pub table_instances: BTreeMap<String, u32>,
    #[serde(default)]
    pub mount: Option<String>,
    #[serde(default)]
    pub identity: IdentitySpec,
}

/// The identity values to change from [`Identity::default`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySpec {
    pub manufacturer: Option<String>,
    pub oui: Option<String>,
    pub product_class: Option<String>,
    pub serial_pattern: Option<String>,
}

fn one() -> u32 {
    1
}

impl Source {
    fn file(&self) -> &str {
        match self {
            Source::GenieacsCsv { file } => file,
            Source::BbfXml(b) => &b.file,
        }
    }
}

impl BbfSource {
    fn options(&self, name: &str) -> BbfImportOptions {
        let d = BbfImportOptions::default();
        let id = Identity::default();
        let or = |v: &Option<String>, d: String| v.clone().unwrap_or(d);
        BbfImportOptions {
            name: name.to_string(),
            root: self.root.clone(),
            include: self.include.clone(),
            exclude: self.exclude.clone(),
            instances: self.instances,
            table_instances: self.table_instances.clone(),
            mount: or(&self.mount, d.mount),
            identity: Identity {
                manufacturer: or(&self.identity.manufacturer, id.manufacturer),
                oui: or(&self.identity.oui, id.oui),
                product_class: or(&self.identity.product_class, id.product_class),
                serial_pattern: or(&self.identity.serial_pattern, id.serial_pattern),
            },
            ..d
        }
    }
}

impl Recipe {
    /// Parses a recipe; errors carry the line and column.
    pub fn parse(text: &str) -> Result<Recipe, ImportError> {
        let r: Recipe = serde_yaml::from_str(text).map_err(|e| ImportError::Recipe {
            message: e.to_string(),
        })?;
        if r.sources.is_empty() {
            return Err(ImportError::options("a recipe needs at least one source"));
        }
        Ok(r)
    }

    /// The source files, as written (relative to the recipe), in order.
    pub fn files(&self) -> Vec<&str> {
        self.sources.iter().map(Source::file).collect()
    }

    /// The template before the overlay: every source imported and merged, name, description
    /// and version set. `texts` are the sources' contents in [`Recipe::files`] order.
    pub fn import(&self, texts: &[String]) -> Result<TemplateFile, ImportError> {
        if texts.len() != self.sources.len() {
            return Err(ImportError::options(format!(
                "{} source texts for {} sources",
                texts.len(),
                self.sources.len()
            )));
        }
        let mut out: Option<TemplateFile> = None;
        for (source, text) in self.sources.iter().zip(texts) {
            let t = match source {
                Source::GenieacsCsv { .. } => import_genieacs_csv(text, &self.name),
                Source::BbfXml(b) => import_bbf_xml(text, &b.options(&self.name)),
            }
            .map_err(|e| ImportError::options(format!("{}: {e}", source.file())))?;
            match &mut out {
                None => out = Some(t),
                Some(base) => merge(base, t)?,
            }
        }
        let mut t = out.ok_or_else(|| ImportError::options("a recipe needs a source"))?;
        t.name = self.name.clone();
        t.description = self.description.clone().or(t.description);
        t.cwmp_version = self.cwmp_version.clone().or(t.cwmp_version);
        Ok(t)
    }

    /// The finished template's YAML: the import with the overlay laid over it, under the
    /// header.
    pub fn build(&self, texts: &[String]) -> Result<String, ImportError> {
        let mut t = self.import(texts)?;
        overlay::apply(&mut t, &self.overlay);
        write_yaml_with_header(&t, self.header.trim_end())
    }

    /// The overlay that turns this recipe's import into `edited` (a template edited by hand),
    /// as the `overlay:` section to put in the recipe.
    pub fn record_edits(
        &self,
        texts: &[String],
        edited: &TemplateFile,
    ) -> Result<String, ImportError> {
        let t = self.import(texts)?;
        overlay::overlay_yaml(&overlay::diff(&t, edited)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "Parameter,Object,Writable,Value,Value type\n\
        InternetGatewayDevice.,true,false,,\n\
        InternetGatewayDevice.DeviceInfo.,true,false,,\n\
        InternetGatewayDevice.DeviceInfo.Manufacturer,false,false,ACME,xsd:string\n";

    fn recipe(overlay: &str) -> Recipe {
        Recipe::parse(&format!(
            "header: |\n  made by a test\nname: r\ncwmp_version: \"1.0\"\n\
             sources: [{{ genieacs_csv: {{ file: dump.csv }} }}]\n{overlay}"
        ))
        .unwrap()
    }

    #[test]
    fn builds_import_then_overlay_under_the_header() {
        let r = recipe(
            "overlay:\n  InternetGatewayDevice.DeviceInfo.:\n    parameters:\n      \
             Manufacturer: { value: Example }\n",
        );
        assert_eq!(r.files(), ["dump.csv"]);
        let text = r.build(&[CSV.to_string()]).unwrap();
        assert!(text.starts_with("# made by a test\nname: r\n"), "{text}");
        assert!(text.contains("cwmp_version: \"1.0\""), "{text}");
        assert!(
            text.contains("Manufacturer: { type: string, value: Example }"),
            "{text}"
        );
        // Recording the edits of that output gives the overlay back.
        let edited: TemplateFile = serde_yaml::from_str(&text).unwrap();
        let recorded = recipe("")
            .record_edits(&[CSV.to_string()], &edited)
            .unwrap();
        assert_eq!(recipe(&recorded).overlay, r.overlay, "{recorded}");
    }

    #[test]
    fn bad_recipes_are_errors() {
        assert_eq!(
            Recipe::parse("header: x\nname: r\nsources: []\n")
                .unwrap_err()
                .label(),
            "options"
        );
        let e = Recipe::parse("header: x\nname: r\nsources: []\nbogus: 1\n").unwrap_err();
        assert_eq!(e.label(), "recipe");
        assert!(e.to_string().contains("line 4"), "{e}");
        let r = recipe("");
        assert_eq!(r.build(&[]).unwrap_err().label(), "options");
        let e = r.build(&["Parameter\n".to_string()]).unwrap_err();
        assert!(e.to_string().starts_with("dump.csv: "), "{e}");
    }
}
