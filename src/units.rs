//! Human quantities shared by the CLI and the YAML files: durations (`250ms`, `30s`, `5m`,
//! `1h30m`), rates (`100/s`, `6000/min`, `2/h`), shares (`25%`, `0.25`), counts (`10k`,
//! `1M`) and sizes (`4MiB`). One parser each, so the command line and the files accept exactly
//! the same spellings.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// Parses a duration: one or more `<number><unit>` terms, unit one of ms, s, m, h, d; a bare
/// number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = t.parse::<f64>() {
        return secs_to_duration(secs, s);
    }
    let mut total = 0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("duration {s:?} lacks a unit (ms, s, m, h, d)"))?;
        if num_end == 0 {
            return Err(format!("invalid duration {s:?}"));
        }
        let n: f64 = rest[..num_end]
            .parse()
            .map_err(|_| format!("invalid duration {s:?}"))?;
        let after = &rest[num_end..];
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let factor = match after[..unit_end].trim() {
            "ms" => 0.001,
            "s" | "sec" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            u => {
                return Err(format!(
                    "unknown duration unit {u:?} in {s:?} (ms, s, m, h, d)"
                ))
            }
        };
        total += n * factor;
        rest = &after[unit_end..];
    }
    secs_to_duration(total, s)
}

fn secs_to_duration(secs: f64, src: &str) -> Result<Duration, String> {
    if !secs.is_finite() || !(0.0..=1e9).contains(&secs) {
        return Err(format!("duration {src:?} out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses a rate into events per second: `100/s`, `6000/min`, `2/h`, or a bare number (per s).
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (n, per) = match t.split_once('/') {
        Some((n, per)) => (n.trim(), per.trim()),
        None => (t, "s"),
    };
    let n: f64 = n.parse().map_err(|_| format!("invalid rate {s:?}"))?;
    let div = match per {
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" | "hour" => 3600.0,
        "d" | "day" => 86400.0,
        u => return Err(format!("unknown rate unit {u:?} in {s:?} (s, min, h, d)")),
    };
    if !n.is_finite() || n < 0.0 {
        return Err(format!("rate {s:?} must be a non-negative number"));
    }
    Ok(n / div)
}

/// Parses a share: `25%` or a fraction `0.25`; must lie in [0, 1].
pub fn parse_share(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| format!("invalid share {s:?} (use 25% or 0.25)"))?;
    if !t.ends_with('%') && v > 1.0 && v <= 100.0 {
        return Err(format!(
            "share {s:?}: a bare number is a fraction of 1 ({}); write {t}% for a percentage",
            v / 100.0
        ));
    }
    if !(0.0..=1.0).contains(&v) {
        return Err(format!("share {s:?} must be between 0% and 100%"));
    }
    Ok(v)
}

/// Parses a byte size: `4096`, `512KiB`, `4MiB`, `1MB` (k/M/G are decimal, Ki/Mi/Gi binary).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let bad = || format!("invalid size {text:?} (use e.g. 4096, 512KiB or 4MiB)");
    let s = text.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1024,
        "m" | "mb" => 1_000_000,
        "mib" => 1024 * 1024,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1024 * 1024 * 1024,
        _ => return Err(bad()),
    };
    n.checked_mul(mult).ok_or_else(bad)
}

/// Parses a bandwidth into bytes per second: bits (`10Mbit/s`, `512kbit/s`, `1Gbit/s`, also
/// `Mbps`; k/M/G decimal, as line rates are sold) or bytes (`2MB/s`, `512KiB/s`, [`parse_size`]'s
/// units); must be above zero.
pub fn parse_bandwidth(text: &str) -> Result<u64, String> {
    let bad = || format!("invalid bandwidth {text:?} (use e.g. 10Mbit/s, 512kbit/s or 2MB/s)");
    let s = text.trim();
    let bits = [
        ("gbit/s", 1_000_000_000u64),
        ("gbps", 1_000_000_000),
        ("mbit/s", 1_000_000),
        ("mbps", 1_000_000),
        ("kbit/s", 1000),
        ("kbps", 1000),
        ("bit/s", 1),
        ("bps", 1),
    ];
    let lower = s.to_ascii_lowercase();
    let bytes = match bits.iter().find(|(u, _)| lower.ends_with(u)) {
        Some((unit, mult)) => {
            let n: f64 = s[..s.len() - unit.len()]
                .trim()
                .parse()
                .map_err(|_| bad())?;
            if !n.is_finite() || n < 0.0 {
                return Err(bad());
            }
            (n * *mult as f64 / 8.0) as u64
        }
        None => parse_size(s.strip_suffix("/s").ok_or_else(bad)?).map_err(|_| bad())?,
    };
    if bytes == 0 {
        return Err(format!("bandwidth {text:?} must be above zero"));
    }
    Ok(bytes)
}

/// Parses a count: `1000`, `10k`, `1M`, `1_000_000`.
pub fn parse_count(s: &str) -> Result<u64, String> {
    let t: String = s.trim().chars().filter(|c| *c != '_').collect();
    let (num, mul) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1_000u64),
        Some('M') => (&t[..t.len() - 1], 1_000_000),
        _ => (t.as_str(), 1),
    };
    let n: f64 = num.parse().map_err(|_| format!("invalid count {s:?}"))?;
    if !n.is_finite() || n < 0.0 || n.fract() != 0.0 && mul == 1 {
        return Err(format!("invalid count {s:?}"));
    }
    Ok((n * mul as f64).round() as u64)
}

/// Formats a duration compactly for reports and `check` output.
pub fn fmt_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", d.as_secs_f64())
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, (ms % 3_600_000) / 60_000)
    }
}

/// 1-based line and column of byte offset `byte` in `src`, as people and serde_yaml count them:
/// the column in characters. An offset past the end clamps to the end, one inside a character
/// to that character.
pub fn line_column(src: &str, byte: usize) -> (usize, usize) {
    let mut end = byte.min(src.len());
    while !src.is_char_boundary(end) {
        end -= 1;
    }
    let before = src.get(..end).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

// The YAML quantities: newtypes that parse themselves with the parsers above during
// deserialisation, so a bad value fails inside serde_yaml, which reports its line and column.

macro_rules! quantity {
    ($name:ident, $inner:ty, $parse:path, $what:literal) => {
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct $name(pub $inner);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_str<E: de::Error>(self, s: &str) -> Result<$name, E> {
                        $parse(s).map($name).map_err(E::custom)
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$name, E> {
                        self.visit_str(&v.to_string())
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$name, E> {
                        self.visit_str(&v.to_string())
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$name, E> {
                        self.visit_str(&v.to_string())
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

quantity!(
    Dur,
    Duration,
    parse_duration,
    "a duration such as 250ms, 30s, 5m or 1h30m"
);
quantity!(Rate, f64, parse_rate, "a rate such as 100/s or 2/h");
quantity!(Share, f64, parse_share, "a share such as 25% or 0.25");
quantity!(Count, u64, parse_count, "a count such as 1000 or 10k");
quantity!(Size, u64, parse_size, "a size such as 4096, 512KiB or 4MiB");
quantity!(
    Bandwidth,
    u64,
    parse_bandwidth,
    "a bandwidth such as 10Mbit/s or 2MB/s"
);

/// A share in an ACS policy: [`Share`]'s spellings, except that a bare number other than 0
/// is refused. Policies used to read `share: 25` as 25 %, where scenarios read a bare number
/// as a fraction of 1; the fraction is the documented form, so a bare number in a policy is an
/// error (at its line and column) rather than a silent change of meaning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PolicyShare(pub f64);

impl PolicyShare {
    /// The share in percent, as the policy's hash buckets count it (rounded to 1e-9 so that
    /// `0.5%` is exactly 0.5, as it was when policies held percent).
    pub fn percent(self) -> f64 {
        (self.0 * 100.0 * 1e9).round() / 1e9
    }
}

impl<'de> Deserialize<'de> for PolicyShare {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PolicyShare;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a share such as 25% or \"0.25\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<PolicyShare, E> {
                parse_share(s).map(PolicyShare).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PolicyShare, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PolicyShare, E> {
                self.visit_f64(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<PolicyShare, E> {
                if v == 0.0 {
                    return Ok(PolicyShare(0.0));
                }
                Err(E::custom(format!(
                    "share {v}: write {v}% (a bare number in a policy used to mean percent; it \
                     would now be a fraction of 1 as in scenarios, so it is refused)"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("12"), Ok(Duration::from_secs(12)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("-3s").is_err());
    }

    #[test]
    fn rates_shares_counts() {
        assert_eq!(parse_rate("100/s"), Ok(100.0));
        assert_eq!(parse_rate("6000/min"), Ok(100.0));
        assert_eq!(parse_rate("36/h"), Ok(0.01));
        assert_eq!(parse_rate("5"), Ok(5.0));
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("1/fortnight").is_err());
        assert_eq!(parse_share("25%"), Ok(0.25));
        assert_eq!(parse_share("0.5"), Ok(0.5));
        assert!(parse_share("150%").is_err());
        let e = parse_share("25").unwrap_err();
        assert!(e.contains("write 25%"), "{e}");
        assert_eq!(parse_count("10k"), Ok(10_000));
        assert_eq!(parse_count("1M"), Ok(1_000_000));
        assert_eq!(parse_count("1_000"), Ok(1000));
        assert_eq!(parse_count("2.5k"), Ok(2500));
        assert!(parse_count("1.5").is_err());
        assert!(parse_count("many").is_err());
    }

    #[test]
    fn bandwidths_in_bits_or_bytes() {
        assert_eq!(parse_bandwidth("10Mbit/s"), Ok(1_250_000));
        assert_eq!(parse_bandwidth("512 kbps"), Ok(64_000));
        assert_eq!(parse_bandwidth("1Gbit/s"), Ok(125_000_000));
        assert_eq!(parse_bandwidth("2MB/s"), Ok(2_000_000));
        assert_eq!(parse_bandwidth("512KiB/s"), Ok(524_288));
        assert!(parse_bandwidth("0Mbit/s")
            .unwrap_err()
            .contains("above zero"));
        assert!(parse_bandwidth("10Mbit").is_err(), "a rate needs its /s");
        assert!(parse_bandwidth("fast").is_err());
    }

    #[test]
    fn line_column_counts_from_one_in_characters() {
        let src = "ab\ncde\nf";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 1), (1, 2));
        assert_eq!(line_column(src, 3), (2, 1));
        assert_eq!(line_column(src, 5), (2, 3));
        assert_eq!(line_column(src, 7), (3, 1));
        assert_eq!(line_column(src, 999), (3, 2));
        // "é" is two bytes, one column; an offset inside it is that character.
        assert_eq!(line_column("é: x", 4), (1, 4));
        assert_eq!(line_column("é: x", 1), (1, 1));
    }

    #[test]
    fn formatting() {
        assert_eq!(fmt_duration(Duration::from_millis(42)), "42ms");
        assert_eq!(fmt_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(fmt_duration(Duration::from_secs(125)), "2m05s");
        assert_eq!(fmt_duration(Duration::from_secs(5400)), "1h30m");
    }
}
