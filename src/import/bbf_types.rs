//! Syntax of BBF data-model parameters: the facets a `syntax` or named `dataType` carries, and
//! resolution of `dataType ref` chains (`IPv4Address` → `IPAddress` → `string`) to a primitive.
//!
//! The `-full` XML files define the named types they use; TR-106's common ones are also built
//! in, so a trimmed or hand-written document that refers to them still imports.

use std::collections::HashMap;

use super::value;

/// The primitive element names of the cwmp-datamodel schema.
pub const PRIMITIVES: [&str; 10] = value::TYPES;

/// Restrictions on a value, as far as the template format can express them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facets {
    pub max_length: Option<u32>,
    /// Each `range` element: (minInclusive, maxInclusive), either side optional.
    pub ranges: Vec<(Option<i64>, Option<i64>)>,
    pub enums: Vec<String>,
}

impl Facets {
    /// `self` restricted by `more`: each kind of facet `more` gives replaces ours (the -full
    /// files repeat the complete enumeration where a parameter narrows or extends a type).
    pub fn overlay(mut self, more: &Facets) -> Facets {
        if more.max_length.is_some() {
            self.max_length = more.max_length;
        }
        if !more.ranges.is_empty() {
            self.ranges = more.ranges.clone();
        }
        if !more.enums.is_empty() {
            self.enums = more.enums.clone();
        }
        self
    }

    /// The smallest single range covering all `range` elements, within the bounds of `kind`;
    /// None when it does not restrict the type.
    pub fn range_for(&self, kind: &str) -> Option<(i64, i64)> {
        let (tlo, thi) = value::bounds(kind)?;
        if self.ranges.is_empty() {
            return None;
        }
        let lo = self
            .ranges
            .iter()
            .map(|(lo, _)| lo.unwrap_or(tlo))
            .min()?
            .clamp(tlo, thi);
        let hi = self
            .ranges
            .iter()
            .map(|(_, hi)| hi.unwrap_or(thi))
            .max()?
            .clamp(tlo, thi);
        if lo > hi || (lo, hi) == (tlo, thi) {
            None
        } else {
            Some((lo, hi))
        }
    }
}

/// A named type (`<dataType name=.. base=..>`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypeDef {
    pub base: Option<String>,
    pub primitive: Option<&'static str>,
    pub list: bool,
    pub facets: Facets,
}

/// A type resolved to its primitive.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub primitive: &'static str,
    pub list: bool,
    pub facets: Facets,
    /// The chain of named types walked, most derived first (`["Alias", "_AliasCommon"]`).
    pub chain: Vec<String>,
}

/// Named types of one document, with TR-106's common types as a fallback.
#[derive(Debug, Default)]
pub struct Types {
    defs: HashMap<String, TypeDef>,
}

/// Longest `base` chain followed before assuming a cycle (real chains are 2-3 long).
const MAX_CHAIN: usize = 16;

impl Types {
    pub fn insert(&mut self, name: String, def: TypeDef) {
        self.defs.insert(name, def);
    }

    /// Resolve the named type `name` to its primitive, merging facets along the chain.
    pub fn resolve(&self, name: &str) -> Result<Resolved, String> {
        let mut chain: Vec<(String, TypeDef)> = Vec::new();
        let mut next = Some(name.to_string());
        while let Some(n) = next {
            if chain.len() >= MAX_CHAIN || chain.iter().any(|(seen, _)| *seen == n) {
                return Err(format!("dataType {name:?}: base chain loops through {n:?}"));
            }
            let def = self
                .defs
                .get(&n)
                .cloned()
                .or_else(|| builtin(&n))
                .ok_or_else(|| format!("unknown dataType {n:?}"))?;
            next = def.base.clone();
            chain.push((n, def));
        }
        // Apply from the most basic type up to the most derived.
        let mut primitive = None;
        let mut list = false;
        let mut facets = Facets::default();
        for (_, def) in chain.iter().rev() {
            primitive = def.primitive.or(primitive);
            list |= def.list;
            facets = facets.overlay(&def.facets);
        }
        let primitive =
            primitive.ok_or_else(|| format!("dataType {name:?} has no primitive base type"))?;
        Ok(Resolved {
            primitive,
            list,
            facets,
            chain: chain.into_iter().map(|(n, _)| n).collect(),
        })
    }
}

/// TR-106 named types (tr-106-types.xml), reduced to what the template can use.
fn builtin(name: &str) -> Option<TypeDef> {
    let string = |max: Option<u32>| TypeDef {
        primitive: Some("string"),
        facets: Facets {
            max_length: max,
            ..Facets::default()
        },
        ..TypeDef::default()
    };
    let prim = |p: &'static str| TypeDef {
        primitive: Some(p),
        ..TypeDef::default()
    };
    Some(match name {
        "_AliasCommon" | "_AliasCWMP" | "_AliasUSP" | "Alias" => string(Some(64)),
        "IPAddress" | "IPv6Address" => string(Some(45)),
        "IPv4Address" => string(Some(15)),
        "IPPrefix" | "IPv6Prefix" => string(Some(49)),
        "IPv4Prefix" => string(Some(18)),
        "MACAddress" => string(Some(17)),
        "IEEE_EUI64" => string(Some(23)),
        "UUID" => string(Some(36)),
        "URI" | "URL" | "URN" => string(Some(2048)),
        "JSONObject" | "ZigBeeNetworkAddress" | "PLMNId" => string(None),
        "StatsCounter32" => prim("unsignedInt"),
        "StatsCounter64" => prim("unsignedLong"),
        "Dbm1000" => prim("int"),
        "Order" => TypeDef {
            primitive: Some("unsignedInt"),
            facets: Facets {
                ranges: vec![(Some(1), None)],
                ..Facets::default()
            },
            ..TypeDef::default()
        },
        "DiagnosticsState" => TypeDef {
            primitive: Some("string"),
            facets: Facets {
                enums: ["None", "Requested", "Canceled", "Complete", "Error"]
                    .map(String::from)
                    .to_vec(),
                ..Facets::default()
            },
            ..TypeDef::default()
        },
        _ => return None,
    })
}

/// The primitive element name as the static type name, if it is one.
pub fn primitive(name: &str) -> Option<&'static str> {
    PRIMITIVES.iter().copied().find(|p| *p == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_resolve_and_derived_facets_win() {
        let mut types = Types::default();
        types.insert(
            "IPAddress".into(),
            TypeDef {
                primitive: Some("string"),
                facets: Facets {
                    max_length: Some(45),
                    ..Facets::default()
                },
                ..TypeDef::default()
            },
        );
        types.insert(
            "IPv4Address".into(),
            TypeDef {
                base: Some("IPAddress".into()),
                facets: Facets {
                    max_length: Some(15),
                    ..Facets::default()
                },
                ..TypeDef::default()
            },
        );
        let r = types.resolve("IPv4Address").unwrap();
        assert_eq!(r.primitive, "string");
        assert_eq!(r.facets.max_length, Some(15));
        assert_eq!(r.chain, vec!["IPv4Address", "IPAddress"]);
    }

    #[test]
    fn builtins_fill_in_and_unknowns_fail() {
        let types = Types::default();
        assert_eq!(
            types.resolve("StatsCounter64").unwrap().primitive,
            "unsignedLong"
        );
        assert!(types
            .resolve("NoSuchType")
            .unwrap_err()
            .contains("NoSuchType"));
    }

    #[test]
    fn cycles_are_errors() {
        let mut types = Types::default();
        for (n, b) in [("A", "B"), ("B", "A")] {
            types.insert(
                n.into(),
                TypeDef {
                    base: Some(b.into()),
                    ..TypeDef::default()
                },
            );
        }
        assert!(types.resolve("A").unwrap_err().contains("loops"));
    }

    #[test]
    fn range_hull_within_type_bounds() {
        let f = Facets {
            ranges: vec![(Some(-1), Some(-1)), (Some(1), None)],
            ..Facets::default()
        };
        assert_eq!(f.range_for("int"), Some((-1, i64::from(i32::MAX))));
        let full = Facets {
            ranges: vec![(Some(0), None)],
            ..Facets::default()
        };
        assert_eq!(full.range_for("unsignedInt"), None);
        assert_eq!(full.range_for("string"), None);
    }
}
