//! Data-model templates: the YAML file shape ([`file`]), its validation and compilation
//! ([`loader`]) into the immutable, shared [`Template`], paths ([`path`]) and per-device
//! generated values ([`generate`]). Nothing here is per device or does I/O besides
//! [`Template::load`] reading the file.

pub mod error;
pub mod file;
pub mod generate;
mod loader;
mod locate;
mod overlay;
pub mod path;
pub(crate) mod template;

use std::path::Path;

pub use error::{ModelError, Problem};
pub use generate::{cr_path, device_from_cr_path};
pub(crate) use template::{flag, Instances, Source};
pub use template::{Node, ObjId, ParamId, Role, Template};

impl Template {
    /// Read and compile a template file; errors name the file, line and column.
    pub fn load(path: &Path) -> Result<Template, ModelError> {
        let origin = path.display().to_string();
        let src = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
            origin: origin.clone(),
            source,
        })?;
        Self::from_yaml_str(&src, &origin)
    }

    /// Compile a template from YAML text; `origin` names it in errors.
    pub fn from_yaml_str(src: &str, origin: &str) -> Result<Template, ModelError> {
        loader::compile(src, origin)
    }
}
