//! Provisioning: the values to set, resolved against what the session knows.

use super::*;

/// Values to set, relative to the device's root object ("ManagementServer.PeriodicInformEnable"
/// under "Device." or "InternetGatewayDevice.").
#[derive(Debug, Clone, PartialEq)]
pub struct Provision {
    pub task: String,
    pub entries: Vec<Desired>,
    /// The ConnectionRequestUsername/Password among the entries: remembered for connection
    /// requests once the CPE accepts the SetParameterValues.
    pub cr_credentials: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub suffix: String,
    pub value: String,
    pub kind: XsdType,
}

impl Provision {
    /// The SetParameterValues list: only values that differ, only parameters the discovery
    /// saw as writable (when it ran), typed as the CPE reported them, sorted by name.
    pub(super) fn resolve(
        &self,
        root: &str,
        known: &HashMap<String, Known>,
        writable: &HashMap<String, bool>,
    ) -> Vec<ParameterValueStruct> {
        let mut out: Vec<ParameterValueStruct> = Vec::new();
        for d in &self.entries {
            let name = format!("{root}{}", d.suffix);
            if !writable.is_empty() && writable.get(&name) != Some(&true) {
                continue;
            }
            let current = known.get(&name);
            let kind = current.and_then(|k| k.kind).unwrap_or(d.kind);
            if current.is_some_and(|k| same_value(kind, &k.value, &d.value)) {
                continue;
            }
            let value = kind.canonical(&d.value).unwrap_or_else(|| d.value.clone());
            out.push(ParameterValueStruct {
                name,
                value,
                kind: Some(kind),
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

pub(super) fn same_value(kind: XsdType, a: &str, b: &str) -> bool {
    match (kind.canonical(a), kind.canonical(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}
