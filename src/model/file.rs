//! The raw, hand-writable YAML shape of a device template (`data-models/*.yaml`).
//!
//! This module only describes the file: serde types with `deny_unknown_fields`, so a typo is an
//! error with its line and column rather than a silently ignored key. Validation (types of
//! defaults, generator arguments, table structure) and compilation into the shared, immutable
//! [`crate::model::Template`] happen in `loader.rs`. The importers write this same shape, so a
//! template made from a device dump can be edited by hand afterwards.
//!
//! ```yaml
//! name: tr181-gateway
//! description: TR-181 Device:2 home gateway
//! root: Device.
//! cwmp_version: "1.4"
//! objects:
//!   Device.DeviceInfo.:
//!     parameters:
//!       Manufacturer: { type: string, value: cpefleet }
//!       SerialNumber: { type: string, gen: { pattern: "CPF{index:08}" } }
//!       UpTime:       { type: unsignedInt, gen: uptime }
//!   Device.WiFi.SSID.{i}.:
//!     writable: true          # the ACS may AddObject / DeleteObject here
//!     instances: 2            # initial instances (per instance of the parent)
//!     max_entries: 8
//!     parameters:
//!       Enable: { type: boolean, value: true, writable: true }
//!       SSID:   { type: string, gen: { pattern: "cpefleet-{index}-{i}" }, writable: true, notification: 2 }
//!   Device.WiFi.SSID.1.:      # a concrete instance: value overrides for instance 1
//!     parameters:
//!       SSID: { value: "main" }
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A whole template file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateFile {
    /// Short name used by scenarios to refer to the template.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `Device.` or `InternetGatewayDevice.` (with the trailing dot).
    pub root: String,
    /// CWMP version the device speaks by default: "1.0", "1.1", "1.2", "1.3" or "1.4".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwmp_version: Option<String>,
    /// Objects by full path (kept sorted, so imported files diff cleanly). Single objects end in `.`; tables end in `{i}.`;
    /// a concrete instance (`X.3.`) declares that instance and overrides values in it.
    pub objects: BTreeMap<String, ObjectSpec>,
}

/// One object (single, table schema `X.{i}.`, or concrete instance `X.N.`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectSpec {
    /// For a table: the ACS may add and delete instances.
    #[serde(default, skip_serializing_if = "is_false")]
    pub writable: bool,
    /// For a table: how many instances (numbered 1..=n) exist initially, per parent instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instances: Option<u32>,
    /// For a table: the most instances AddObject may create (fault 9004 beyond it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_entries: Option<u32>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, ParamSpec>,
}

/// One parameter. In a concrete-instance object only `value`/`gen` may be given (the rest comes
/// from the table schema).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    /// TR-106 type: string, int, unsignedInt, long, unsignedLong, boolean, dateTime, base64,
    /// hexBinary, decimal.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Literal default value (YAML scalar; booleans may be true/false/1/0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_yaml::Value>,
    /// Generated per-device value, computed on read (exclusive with `value`).
    /// `singleton_map`: serde_yaml 0.9 otherwise reads and writes enums only as YAML tags
    /// (`!pattern "…"`), not the `{ pattern: "…" }` / `uptime` form documented above.
    #[serde(
        default,
        with = "serde_yaml::with::singleton_map",
        skip_serializing_if = "Option::is_none"
    )]
    pub gen: Option<GenSpec>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub writable: bool,
    /// Default notification attribute: 0 off, 1 passive, 2 active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<u8>,
    /// Default access list (only "Subscriber" is defined by TR-069).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_list: Vec<String>,
    /// Sent in every Inform's ParameterList.
    #[serde(default, skip_serializing_if = "is_false")]
    pub forced_inform: bool,
    /// TR-106 activeNotify: normal (default), forceEnabled, forceDefaultEnabled, canDeny.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_notify: Option<String>,
    /// Reads back as the type's null value (passwords).
    #[serde(default, skip_serializing_if = "is_false")]
    pub hidden: bool,
    /// Allowed values (SPV outside them is fault 9007).
    #[serde(default, rename = "enum", skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
    /// Inclusive numeric range [min, max] (SPV outside it is fault 9007).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<(i64, i64)>,
    /// Maximum string length (SPV longer is fault 9007).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
}

/// A value generator: the value is computed from (run seed, device index, instance numbers,
/// clock) each time it is read, so devices the ACS never wrote to store nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum GenSpec {
    /// Seconds since the device (re)booted.
    Uptime,
    /// The current time (dateTime).
    Now,
    /// The device's connection-request URL on the fleet's shared listener.
    ConnectionRequestUrl,
    /// Text with placeholders: `{index}` (device index, `{index:08}` zero-padded),
    /// `{index:x}`/`{index:X6}` hex, `{seed}`, `{i}` (innermost instance number), `{i1}`, `{i2}`…
    /// (outer to inner), `{serial}`, `{oui}`, `{product_class}` (the identity parameters' values),
    /// `{rand:N}` (N seeded hex digits).
    Pattern(String),
    /// MAC address: the OUI (6 hex digits) then the low 24 bits of index·stride + offset.
    Mac {
        oui: String,
        #[serde(default)]
        offset: u32,
        #[serde(default = "one")]
        stride: u32,
    },
    /// IPv4 address inside a prefix: network + 1 + index·stride + offset (wrapping in the prefix).
    Ipv4 {
        prefix: String,
        #[serde(default)]
        offset: u32,
        #[serde(default = "one")]
        stride: u32,
    },
    /// IPv6 address inside a prefix: network + 1 + index·stride + offset.
    Ipv6 {
        prefix: String,
        #[serde(default)]
        offset: u64,
        #[serde(default = "one64")]
        stride: u64,
    },
    /// A counter growing with uptime: start + rate_per_s · uptime (+ seeded per-device jitter).
    Counter {
        #[serde(default)]
        start: u64,
        rate_per_s: f64,
    },
    /// A seeded choice among values, stable per device and parameter.
    Choice(Vec<String>),
    /// A seeded integer in [min, max], stable per device and parameter.
    Random { min: i64, max: i64 },
}

fn is_false(b: &bool) -> bool {
    !*b
}
fn one() -> u32 {
    1
}
fn one64() -> u64 {
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generators_read_and_write_in_the_documented_map_form() {
        let src = "gen: { pattern: \"CPF{index:08}\" }\n";
        let p: ParamSpec = serde_yaml::from_str(src).unwrap();
        assert_eq!(p.gen, Some(GenSpec::Pattern("CPF{index:08}".into())));
        let p: ParamSpec = serde_yaml::from_str("gen: uptime").unwrap();
        assert_eq!(p.gen, Some(GenSpec::Uptime));
        let p: ParamSpec = serde_yaml::from_str("gen: { mac: { oui: 0A1B2C } }").unwrap();
        assert_eq!(
            p.gen,
            Some(GenSpec::Mac {
                oui: "0A1B2C".into(),
                offset: 0,
                stride: 1
            })
        );
        let out = serde_yaml::to_string(&p).unwrap();
        assert!(out.contains("mac:") && !out.contains('!'), "{out}");
        let back: ParamSpec = serde_yaml::from_str(&out).unwrap();
        assert_eq!(back, p);
    }
}
