//! TR-106 primitive types as the importers see them: names, the `xsd:` spelling of dumps,
//! typed YAML literals from source text, and neutral defaults when a source gives none.

use serde_yaml::Value;

/// The TR-106 primitive type names the template format accepts.
pub const TYPES: [&str; 10] = [
    "string",
    "int",
    "unsignedInt",
    "long",
    "unsignedLong",
    "boolean",
    "dateTime",
    "base64",
    "hexBinary",
    "decimal",
];

/// TR-106 "Unknown Time", the neutral dateTime.
pub const UNKNOWN_TIME: &str = "0001-01-01T00:00:00Z";

/// The TR-106 name of an `xsd:` (or bare) type as dumps write it; None if it is not one.
pub fn from_xsd(name: &str) -> Option<&'static str> {
    let bare = name.strip_prefix("xsd:").unwrap_or(name);
    // Dumps made by tools that follow XML Schema rather than CWMP spell base64 in full.
    let bare = if bare == "base64Binary" {
        "base64"
    } else {
        bare
    };
    TYPES.iter().copied().find(|t| *t == bare)
}

/// Inclusive bounds of an integer type, as i64 (unsignedLong is cut at i64::MAX because the
/// template's ranges are i64).
pub fn bounds(kind: &str) -> Option<(i64, i64)> {
    match kind {
        "int" => Some((i64::from(i32::MIN), i64::from(i32::MAX))),
        "unsignedInt" => Some((0, i64::from(u32::MAX))),
        "long" => Some((i64::MIN, i64::MAX)),
        "unsignedLong" => Some((0, i64::MAX)),
        _ => None,
    }
}

/// The literal `text` as a YAML value of `kind`: numbers for the integer types, booleans for
/// boolean, strings for the rest. None if the text is not a valid literal of the type.
pub fn literal(kind: &str, text: &str) -> Option<Value> {
    let t = text.trim();
    match kind {
        "int" => t
            .parse::<i32>()
            .ok()
            .map(|v| Value::Number(i64::from(v).into())),
        "long" => t.parse::<i64>().ok().map(|v| Value::Number(v.into())),
        "unsignedInt" => t
            .parse::<u32>()
            .ok()
            .map(|v| Value::Number(u64::from(v).into())),
        "unsignedLong" => t.parse::<u64>().ok().map(|v| Value::Number(v.into())),
        "boolean" => match t {
            "true" | "1" => Some(Value::Bool(true)),
            "false" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        "decimal" => {
            // A YAML number when that keeps the source's digits ("1.5"), else the text ("1.50").
            if let Ok(v) = t.parse::<i64>() {
                return Some(Value::Number(v.into()));
            }
            let v = t.parse::<f64>().ok().filter(|v| v.is_finite())?;
            Some(if v.to_string() == t {
                Value::Number(v.into())
            } else {
                Value::String(t.to_string())
            })
        }
        "dateTime" | "string" | "base64" | "hexBinary" => Some(Value::String(text.to_string())),
        _ => None,
    }
}

/// A neutral default for a parameter of `kind` with the given restrictions: the first allowed
/// value of an enumeration, zero moved into the range, false, "" or Unknown Time.
pub fn neutral(kind: &str, allowed: &[String], range: Option<(i64, i64)>) -> Value {
    if let Some(first) = allowed.first() {
        return literal(kind, first).unwrap_or_else(|| Value::String(first.clone()));
    }
    match kind {
        "int" | "long" | "unsignedInt" | "unsignedLong" | "decimal" => {
            let v = range.map_or(0, |(lo, hi)| 0i64.clamp(lo, hi.max(lo)));
            Value::Number(v.into())
        }
        "boolean" => Value::Bool(false),
        "dateTime" => Value::String(UNKNOWN_TIME.to_string()),
        _ => Value::String(String::new()),
    }
}

/// Whether `value` satisfies the enumeration and range restrictions.
pub fn fits(value: &Value, allowed: &[String], range: Option<(i64, i64)>) -> bool {
    let in_enum = allowed.is_empty()
        || match value {
            Value::String(s) => allowed.iter().any(|a| a == s),
            Value::Number(n) => allowed.iter().any(|a| *a == n.to_string()),
            Value::Bool(b) => allowed.iter().any(|a| *a == b.to_string()),
            _ => false,
        };
    let in_range = match (range, value) {
        (Some((lo, hi)), Value::Number(n)) => match n.as_i64() {
            Some(v) => (lo..=hi).contains(&v),
            None => n
                .as_u64()
                .is_some_and(|v| v > i64::MAX as u64 && hi == i64::MAX),
        },
        _ => true,
    };
    in_enum && in_range
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xsd_names_map_to_tr106() {
        assert_eq!(from_xsd("xsd:unsignedInt"), Some("unsignedInt"));
        assert_eq!(from_xsd("xsd:base64Binary"), Some("base64"));
        assert_eq!(from_xsd("boolean"), Some("boolean"));
        assert_eq!(from_xsd("xsd:anyURI"), None);
    }

    #[test]
    fn literals_are_typed() {
        assert_eq!(
            literal("unsignedInt", "300"),
            Some(Value::Number(300u64.into()))
        );
        assert_eq!(literal("unsignedInt", "-1"), None);
        assert_eq!(literal("int", "-1"), Some(Value::Number((-1i64).into())));
        assert_eq!(literal("int", "4294967295"), None);
        assert_eq!(literal("boolean", "1"), Some(Value::Bool(true)));
        assert_eq!(literal("boolean", "yes"), None);
        assert_eq!(literal("string", "007"), Some(Value::String("007".into())));
        assert_eq!(
            literal("decimal", "1.50"),
            Some(Value::String("1.50".into()))
        );
        assert_eq!(literal("decimal", "1.5"), Some(Value::Number(1.5.into())));
        assert_eq!(
            literal("decimal", "-2"),
            Some(Value::Number((-2i64).into()))
        );
        assert_eq!(literal("decimal", "abc"), None);
        assert_eq!(
            literal("unsignedLong", "18446744073709551615"),
            Some(Value::Number(u64::MAX.into()))
        );
    }

    #[test]
    fn neutral_values_respect_restrictions() {
        assert_eq!(
            neutral("unsignedInt", &[], Some((1, 10))),
            Value::Number(1.into())
        );
        assert_eq!(
            neutral("int", &[], Some((-10, -1))),
            Value::Number((-1i64).into())
        );
        assert_eq!(neutral("int", &[], None), Value::Number(0.into()));
        assert_eq!(
            neutral("string", &["Up".into(), "Down".into()], None),
            Value::String("Up".into())
        );
        assert_eq!(
            neutral("dateTime", &[], None),
            Value::String(UNKNOWN_TIME.into())
        );
        assert_eq!(neutral("boolean", &[], None), Value::Bool(false));
    }

    #[test]
    fn fits_checks_enum_and_range() {
        let allowed = vec!["None".to_string(), "Requested".to_string()];
        assert!(fits(&Value::String("None".into()), &allowed, None));
        assert!(!fits(&Value::String("".into()), &allowed, None));
        assert!(fits(&Value::Number(5.into()), &[], Some((1, 10))));
        assert!(!fits(&Value::Number(0.into()), &[], Some((1, 10))));
    }
}
