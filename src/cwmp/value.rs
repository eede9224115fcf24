//! The xsd types of parameter values: naming on the wire (`xsi:type`) and in data models (TR-106),
//! lexical validation, canonical forms and TR-106 null values.

use super::time::DateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum XsdType {
    #[default]
    String,
    Int,
    UnsignedInt,
    Long,
    UnsignedLong,
    Boolean,
    DateTime,
    Base64,
    HexBinary,
    Decimal,
    /// An `xsi:type` the codec does not know; treated as a string.
    Other,
}

impl XsdType {
    /// From a TR-106 primitive type name as data models spell it ("unsignedInt").
    pub fn from_tr106(name: &str) -> Option<Self> {
        Some(match name {
            "string" => Self::String,
            "int" => Self::Int,
            "unsignedInt" => Self::UnsignedInt,
            "long" => Self::Long,
            "unsignedLong" => Self::UnsignedLong,
            "boolean" => Self::Boolean,
            "dateTime" => Self::DateTime,
            "base64" | "base64Binary" => Self::Base64,
            "hexBinary" => Self::HexBinary,
            "decimal" => Self::Decimal,
            _ => return None,
        })
    }

    /// From an `xsi:type` value. The prefix is ignored (any prefix bound to the XML Schema
    /// namespace works, and agents vary), unknown local names give `Other`.
    pub fn from_xsi(s: &str) -> XsdType {
        let s = s.trim();
        let local = s.rsplit_once(':').map_or(s, |(_, l)| l);
        Self::from_tr106(local).unwrap_or(Self::Other)
    }

    /// The `xsi:type` to emit. Always with the literal `xsd:` prefix because GenieACS compares
    /// the whole string. Base64 is `xsd:base64Binary`, the XML Schema type: the `xsd:base64`
    /// some agents (and GenieACS's type list) use names no type, so the official schema rejects
    /// it; GenieACS keeps an unknown type verbatim, so nothing breaks there. Both decode.
    pub fn xsi(self) -> &'static str {
        match self {
            Self::String | Self::Other => "xsd:string",
            Self::Int => "xsd:int",
            Self::UnsignedInt => "xsd:unsignedInt",
            Self::Long => "xsd:long",
            Self::UnsignedLong => "xsd:unsignedLong",
            Self::Boolean => "xsd:boolean",
            Self::DateTime => "xsd:dateTime",
            Self::Base64 => "xsd:base64Binary",
            Self::HexBinary => "xsd:hexBinary",
            Self::Decimal => "xsd:decimal",
        }
    }

    /// The TR-106 name ("unsignedInt"); `Other` reads as "string".
    pub fn tr106(self) -> &'static str {
        match self {
            Self::String | Self::Other => "string",
            Self::Int => "int",
            Self::UnsignedInt => "unsignedInt",
            Self::Long => "long",
            Self::UnsignedLong => "unsignedLong",
            Self::Boolean => "boolean",
            Self::DateTime => "dateTime",
            Self::Base64 => "base64",
            Self::HexBinary => "hexBinary",
            Self::Decimal => "decimal",
        }
    }

    /// Whether `lexical` is a valid value of this type (xsd lexical space, surrounding whitespace
    /// allowed as xsd's whitespace collapse does).
    pub fn is_valid(self, lexical: &str) -> bool {
        let s = lexical.trim();
        match self {
            Self::String | Self::Other => true,
            Self::Int => parse_integer(s).is_some_and(|v| i32::try_from(v).is_ok()),
            Self::UnsignedInt => parse_integer(s).is_some_and(|v| u32::try_from(v).is_ok()),
            Self::Long => parse_integer(s).is_some_and(|v| i64::try_from(v).is_ok()),
            Self::UnsignedLong => parse_integer(s).is_some_and(|v| u64::try_from(v).is_ok()),
            Self::Boolean => parse_bool(s).is_some(),
            Self::DateTime => DateTime::parse(s).is_some(),
            Self::Base64 => is_base64(s),
            Self::HexBinary => s.len() % 2 == 0 && s.bytes().all(|c| c.is_ascii_hexdigit()),
            Self::Decimal => is_decimal(s),
        }
    }

    /// The canonical spelling of a valid value: integers without sign/leading zeros, booleans
    /// `true`/`false`, dateTimes in UTC with `Z`; other types trimmed. None if invalid.
    pub fn canonical(self, lexical: &str) -> Option<String> {
        if !self.is_valid(lexical) {
            return None;
        }
        let s = lexical.trim();
        Some(match self {
            Self::String | Self::Other => lexical.to_owned(),
            Self::Int | Self::UnsignedInt | Self::Long | Self::UnsignedLong => {
                parse_integer(s)?.to_string()
            }
            Self::Boolean => (if parse_bool(s)? { "true" } else { "false" }).to_owned(),
            Self::DateTime => DateTime::parse(s)?.format(),
            Self::Base64 | Self::HexBinary | Self::Decimal => s.to_owned(),
        })
    }

    /// TR-106 null value: what a hidden parameter reads back as.
    pub fn null_value(self) -> &'static str {
        match self {
            Self::String | Self::Other | Self::Base64 | Self::HexBinary => "",
            Self::UnsignedInt | Self::UnsignedLong => "0",
            Self::Int | Self::Long | Self::Decimal => "-1",
            Self::Boolean => "false",
            Self::DateTime => "0001-01-01T00:00:00Z",
        }
    }
}

/// `true`/`false`/`1`/`0`, surrounding whitespace allowed.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// An xsd integer (optional sign, at least one digit) that fits in i128.
pub fn parse_integer(s: &str) -> Option<i128> {
    let s = s.trim();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut v: i128 = 0;
    for c in digits.bytes() {
        v = v.checked_mul(10)?.checked_add(i128::from(c - b'0'))?;
    }
    Some(if neg { -v } else { v })
}

fn is_decimal(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    (!int.is_empty() || !frac.is_empty())
        && int.bytes().all(|c| c.is_ascii_digit())
        && frac.bytes().all(|c| c.is_ascii_digit())
}

fn is_base64(s: &str) -> bool {
    let mut n = 0usize;
    let mut pad = 0usize;
    for c in s.bytes() {
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            b'=' => pad += 1,
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' if pad == 0 => {}
            _ => return false,
        }
        n += 1;
    }
    n % 4 == 0 && pad <= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [XsdType; 11] = [
        XsdType::String,
        XsdType::Int,
        XsdType::UnsignedInt,
        XsdType::Long,
        XsdType::UnsignedLong,
        XsdType::Boolean,
        XsdType::DateTime,
        XsdType::Base64,
        XsdType::HexBinary,
        XsdType::Decimal,
        XsdType::Other,
    ];

    #[test]
    fn names_round_trip() {
        for t in ALL {
            if t != XsdType::Other {
                assert_eq!(XsdType::from_tr106(t.tr106()), Some(t));
                assert_eq!(XsdType::from_xsi(t.xsi()), t);
            }
        }
        assert_eq!(XsdType::from_xsi("xs:int"), XsdType::Int);
        assert_eq!(XsdType::from_xsi("unsignedInt"), XsdType::UnsignedInt);
        assert_eq!(XsdType::from_xsi("xsd:base64Binary"), XsdType::Base64);
        assert_eq!(XsdType::from_xsi("xsd:base64"), XsdType::Base64);
        assert_eq!(XsdType::Base64.xsi(), "xsd:base64Binary");
        assert_eq!(XsdType::from_xsi("cwmp:IPAddress"), XsdType::Other);
        assert_eq!(XsdType::Other.xsi(), "xsd:string");
        assert_eq!(XsdType::from_tr106("IPAddress"), None);
    }

    #[test]
    fn integer_ranges() {
        assert!(XsdType::Int.is_valid("-2147483648"));
        assert!(!XsdType::Int.is_valid("2147483648"));
        assert!(XsdType::UnsignedInt.is_valid("4294967295"));
        assert!(!XsdType::UnsignedInt.is_valid("4294967296"));
        assert!(!XsdType::UnsignedInt.is_valid("-1"));
        assert!(XsdType::UnsignedInt.is_valid("-0"));
        assert!(XsdType::Long.is_valid("-9223372036854775808"));
        assert!(XsdType::UnsignedLong.is_valid("18446744073709551615"));
        assert!(!XsdType::UnsignedLong.is_valid("18446744073709551616"));
        assert!(!XsdType::Int.is_valid("eleven"));
        assert!(!XsdType::Int.is_valid(""));
        assert!(!XsdType::Int.is_valid("+"));
        assert!(!XsdType::Int.is_valid("1.0"));
        assert!(!XsdType::UnsignedLong.is_valid(&"9".repeat(60)));
        assert_eq!(XsdType::Int.canonical(" +007 "), Some("7".to_owned()));
        assert_eq!(XsdType::UnsignedInt.canonical("-0"), Some("0".to_owned()));
    }

    #[test]
    fn booleans_accept_all_four_spellings() {
        for (s, c) in [
            ("1", "true"),
            ("0", "false"),
            ("true", "true"),
            ("false", "false"),
        ] {
            assert_eq!(XsdType::Boolean.canonical(s).as_deref(), Some(c));
        }
        assert!(!XsdType::Boolean.is_valid("maybe"));
        assert!(!XsdType::Boolean.is_valid("TRUE"));
    }

    #[test]
    fn other_lexical_spaces() {
        assert!(XsdType::DateTime.is_valid("0001-01-01T00:00:00Z"));
        assert!(XsdType::DateTime.is_valid("2026-12-01T03:00:00.000Z"));
        assert_eq!(
            XsdType::DateTime
                .canonical("2026-12-01T05:00:00+02:00")
                .as_deref(),
            Some("2026-12-01T03:00:00Z")
        );
        assert!(!XsdType::DateTime.is_valid("yesterday"));
        assert!(XsdType::Base64.is_valid("aGVsbG8="));
        assert!(XsdType::Base64.is_valid(""));
        assert!(!XsdType::Base64.is_valid("aGVsbG8"));
        assert!(!XsdType::Base64.is_valid("aG=sbG8="));
        assert!(XsdType::HexBinary.is_valid("00ff1A"));
        assert!(!XsdType::HexBinary.is_valid("0f1"));
        assert!(XsdType::Decimal.is_valid("-1.50"));
        assert!(XsdType::Decimal.is_valid(".5"));
        assert!(!XsdType::Decimal.is_valid("."));
        assert!(!XsdType::Decimal.is_valid("1e3"));
        assert!(XsdType::String.is_valid("anything <at> all"));
        assert_eq!(
            XsdType::String.canonical(" keep "),
            Some(" keep ".to_owned())
        );
    }

    #[test]
    fn null_values_are_valid_values() {
        for t in ALL {
            assert!(t.is_valid(t.null_value()), "{t:?}");
        }
        assert_eq!(XsdType::Int.null_value(), "-1");
        assert_eq!(XsdType::UnsignedInt.null_value(), "0");
        assert_eq!(XsdType::DateTime.null_value(), "0001-01-01T00:00:00Z");
    }
}
