//! Combine two imported templates, e.g. a TR-181 base (DeviceInfo, ManagementServer) with a
//! service model mounted under `Device.Services.`.

use super::error::ImportError;
use crate::model::file::TemplateFile;

/// Lay `other` over `base`: objects missing from `base` are added; for objects in both, table
/// attributes `other` sets and `other`'s parameters replace `base`'s. Name, description and
/// CWMP version stay `base`'s. Both must have the same root.
pub fn merge(base: &mut TemplateFile, other: TemplateFile) -> Result<(), ImportError> {
    if base.root != other.root {
        return Err(ImportError::options(format!(
            "cannot merge a template with root {} into one with root {}",
            other.root, base.root
        )));
    }
    for (path, spec) in other.objects {
        let target = base.objects.entry(path).or_default();
        target.writable |= spec.writable;
        if spec.instances.is_some() {
            target.instances = spec.instances;
        }
        if spec.max_entries.is_some() {
            target.max_entries = spec.max_entries;
        }
        target.parameters.extend(spec.parameters);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::file::{ObjectSpec, ParamSpec};

    fn template(root: &str, objects: &[(&str, &[&str])]) -> TemplateFile {
        TemplateFile {
            name: "t".into(),
            description: None,
            root: root.into(),
            cwmp_version: None,
            objects: objects
                .iter()
                .map(|(o, ps)| {
                    (
                        o.to_string(),
                        ObjectSpec {
                            parameters: ps
                                .iter()
                                .map(|p| (p.to_string(), ParamSpec::default()))
                                .collect(),
                            ..ObjectSpec::default()
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn unions_objects_and_parameters() {
        let mut a = template("Device.", &[("Device.", &["A"]), ("Device.Services.", &[])]);
        let b = template(
            "Device.",
            &[
                ("Device.Services.", &["VoiceServiceNumberOfEntries"]),
                ("Device.X.", &["B"]),
            ],
        );
        merge(&mut a, b).unwrap();
        assert_eq!(a.objects.len(), 3);
        assert!(a.objects["Device.Services."]
            .parameters
            .contains_key("VoiceServiceNumberOfEntries"));
    }

    #[test]
    fn roots_must_match() {
        let mut a = template("Device.", &[]);
        let b = template("InternetGatewayDevice.", &[]);
        assert_eq!(merge(&mut a, b).unwrap_err().label(), "options");
    }
}
