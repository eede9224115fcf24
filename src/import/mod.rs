//! Template importers: turn a device dump (genieacs-sim CSV) or an official BBF data-model
//! definition (cwmp-datamodel XML) into the hand-editable [`TemplateFile`] shape of
//! `data-models/*.yaml`, and write it as YAML. A [`Recipe`] records how a shipped template is
//! made (sources, options, hand edits as an overlay) so it can be made again byte for byte.
//!
//! Importers only build files; checking a template against the format's rules and compiling it
//! is the loader's job (`crate::model`). They do no I/O: callers pass text in and get text out.

mod bbf_build;
mod bbf_types;
mod bbf_xml;
mod census;
mod csv;
mod error;
mod genieacs_csv;
mod identity;
mod merge;
mod overlay;
mod recipe;
mod value;
mod yaml;

pub use bbf_xml::{import_bbf_xml, BbfImportOptions};
pub use census::concrete_parameter_count;
pub use error::ImportError;
pub use genieacs_csv::import_genieacs_csv;
pub use identity::Identity;
pub use merge::merge;
pub use overlay::{ObjectEdit, Overlay, ParamEdit};
pub use recipe::{BbfSource, IdentitySpec, Recipe, Source};
pub use yaml::{write_yaml, write_yaml_with_header};
