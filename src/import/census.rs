//! How many concrete parameters a template gives an untouched device: what an importer reports
//! and what tests hold shipped templates to.

use std::collections::BTreeSet;

use super::identity::is_instance_number;
use crate::model::file::TemplateFile;

/// The number of parameters a device made from `t` has before the ACS adds or deletes
/// anything: each schema or single object's parameters times the number of concrete objects it
/// expands to. A table `X.{i}.` has instances `1..=instances` under each instance of its parent
/// plus every concrete `X.N.` the file declares there (an absent `instances` counts as 0).
pub fn concrete_parameter_count(t: &TemplateFile) -> usize {
    // Every instance path a concrete object declares, itself or through a descendant.
    let mut declared: BTreeSet<String> = BTreeSet::new();
    for key in t.objects.keys() {
        let mut prefix = String::new();
        for seg in key.split('.').filter(|s| !s.is_empty()) {
            prefix.push_str(seg);
            prefix.push('.');
            if is_instance_number(seg) {
                declared.insert(prefix.clone());
            }
        }
    }
    t.objects
        .iter()
        .filter(|(path, _)| !path.split('.').any(is_instance_number))
        .map(|(path, spec)| spec.parameters.len() * expansions(t, &declared, path).len())
        .sum()
}

/// The concrete paths a schema path stands for.
fn expansions(t: &TemplateFile, declared: &BTreeSet<String>, path: &str) -> Vec<String> {
    let mut concrete = vec![String::new()];
    let mut schema = String::new();
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        schema.push_str(seg);
        schema.push('.');
        if seg != "{i}" {
            for c in &mut concrete {
                c.push_str(seg);
                c.push('.');
            }
            continue;
        }
        let initial = t
            .objects
            .get(&schema)
            .and_then(|o| o.instances)
            .unwrap_or(0);
        let mut next = Vec::new();
        for c in &concrete {
            let mut numbers: BTreeSet<u64> = (1..=u64::from(initial)).collect();
            numbers.extend(
                declared
                    .iter()
                    .filter_map(|d| d.strip_prefix(c.as_str()))
                    .filter_map(|rest| rest.strip_suffix('.'))
                    .filter(|n| is_instance_number(n))
                    .filter_map(|n| n.parse::<u64>().ok()),
            );
            next.extend(numbers.into_iter().map(|n| format!("{c}{n}.")));
        }
        concrete = next;
    }
    concrete
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::file::{ObjectSpec, ParamSpec};

    fn obj(params: &[&str], instances: Option<u32>) -> ObjectSpec {
        ObjectSpec {
            instances,
            parameters: params
                .iter()
                .map(|p| (p.to_string(), ParamSpec::default()))
                .collect(),
            ..ObjectSpec::default()
        }
    }

    #[test]
    fn counts_nested_tables_and_declared_instances() {
        let mut t = TemplateFile {
            name: "t".into(),
            description: None,
            root: "D.".into(),
            cwmp_version: None,
            objects: Default::default(),
        };
        t.objects.insert("D.".into(), obj(&["A", "B"], None));
        t.objects
            .insert("D.T.{i}.".into(), obj(&["X", "Y", "Z"], Some(2)));
        t.objects.insert("D.T.{i}.S.".into(), obj(&["W"], None));
        t.objects
            .insert("D.T.{i}.U.{i}.".into(), obj(&["V"], Some(1)));
        // Instance 5 of T, beyond the initial 2, with an extra U instance 3 under it.
        t.objects.insert("D.T.5.U.3.".into(), obj(&["V"], None));
        // 2 + 3 T-instances * (3 + 1) + U: (1 per T instance) * 3 + 1 extra.
        assert_eq!(concrete_parameter_count(&t), 2 + 3 * 4 + 3 + 1);
    }
}
