//! Generated parameter values: compiled from a file's [`GenSpec`] at load, evaluated on every
//! read from (run seed, device index, instance numbers, clock, boot time). A device that the ACS
//! never wrote to therefore stores nothing per parameter, yet every device reads differently
//! and the same seed always gives the same fleet.

use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::cwmp::{DateTime, XsdType};
use crate::model::file::GenSpec;
use crate::seed::mix;

/// A compiled generator.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Gen {
    Uptime,
    Now,
    ConnectionRequestUrl,
    Pattern(Box<[Piece]>),
    Mac {
        oui: u32,
        offset: u32,
        stride: u32,
    },
    Ipv4 {
        net: u32,
        host_bits: u8,
        offset: u32,
        stride: u32,
    },
    Ipv6 {
        net: u128,
        host_bits: u8,
        offset: u64,
        stride: u64,
    },
    Counter {
        start: u64,
        rate: f64,
        wrap32: bool,
    },
    Choice(Box<[Box<str>]>),
    Random {
        min: i64,
        max: i64,
    },
}

/// A piece of a compiled pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Piece {
    Lit(Box<str>),
    Index {
        hex: Option<bool>,
        width: u8,
    },
    Seed,
    /// Instance number: `None` innermost, `Some(k)` the k-th table level (0 = outermost).
    Inst(Option<usize>),
    Ident(Ident),
    Rand(u8),
}

/// Identity values a pattern may quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ident {
    Serial,
    Oui,
    ProductClass,
}

/// What a generated value depends on.
pub(crate) struct GenCtx<'a> {
    pub seed: u64,
    pub index: u32,
    pub inst: &'a [u32],
    pub now: DateTime,
    pub boot: DateTime,
    /// Per-parameter salt (hash of the schema path) so two parameters of one device differ.
    pub salt: u64,
    pub cr_url_base: &'a str,
    /// The device's current identity values, for `{serial}`, `{oui}`, `{product_class}`.
    pub ident: &'a dyn Fn(Ident) -> String,
}

impl GenCtx<'_> {
    fn uptime_s(&self) -> u64 {
        u64::try_from(self.now.unix_ms().saturating_sub(self.boot.unix_ms()) / 1000).unwrap_or(0)
    }

    fn random(&self, k: u64) -> u64 {
        let mut h = mix(self.seed ^ 0x5eed_0000_0000_0000);
        h = mix(h ^ u64::from(self.index));
        h = mix(h ^ self.salt);
        for &n in self.inst {
            h = mix(h ^ u64::from(n));
        }
        mix(h ^ k)
    }
}

/// FNV-1a of a string: the per-parameter salt.
pub(crate) fn salt(s: &str) -> u64 {
    crate::seed::fnv1a(s.as_bytes())
}

/// The connection-request path of device `index` on the fleet's shared listener (no leading
/// slash). [`device_from_cr_path`] is its inverse.
pub fn cr_path(index: u32) -> String {
    format!("cr/{index}")
}

/// The device index a connection-request path names, if it is one of ours.
pub fn device_from_cr_path(path: &str) -> Option<u32> {
    let digits = path.trim_start_matches('/').strip_prefix("cr/")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl Gen {
    /// Validate a file's generator for a parameter of `kind` inside `depth` nested tables.
    pub(crate) fn compile(spec: &GenSpec, kind: XsdType, depth: usize) -> Result<Gen, String> {
        let need = |ok: bool, what: &str| -> Result<(), String> {
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "generator {what} does not fit a parameter of type {}",
                    kind.tr106()
                ))
            }
        };
        let unsigned = matches!(kind, XsdType::UnsignedInt | XsdType::UnsignedLong);
        let stringy = matches!(kind, XsdType::String);
        Ok(match spec {
            GenSpec::Uptime => {
                need(unsigned, "uptime")?;
                Gen::Uptime
            }
            GenSpec::Now => {
                need(kind == XsdType::DateTime, "now")?;
                Gen::Now
            }
            GenSpec::ConnectionRequestUrl => {
                need(stringy, "connection_request_url")?;
                Gen::ConnectionRequestUrl
            }
            GenSpec::Pattern(p) => {
                let pieces = parse_pattern(p, depth)?;
                let gen = Gen::Pattern(pieces.into_boxed_slice());
                if !stringy {
                    // A numeric pattern ("{index}") is fine; check one sample so that a
                    // pattern that can never be valid is caught here, not at every read.
                    let sample = gen.sample();
                    if !kind.is_valid(&sample) {
                        return Err(format!(
                            "pattern gives {sample:?}, not a valid {}",
                            kind.tr106()
                        ));
                    }
                }
                gen
            }
            GenSpec::Mac {
                oui,
                offset,
                stride,
            } => {
                need(stringy, "mac")?;
                if oui.len() != 6 || !oui.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(format!("mac oui {oui:?} is not 6 hex digits"));
                }
                let oui = u32::from_str_radix(oui, 16).map_err(|e| e.to_string())?;
                Gen::Mac {
                    oui,
                    offset: *offset,
                    stride: *stride,
                }
            }
            GenSpec::Ipv4 {
                prefix,
                offset,
                stride,
            } => {
                need(stringy, "ipv4")?;
                let (addr, len) = prefix
                    .split_once('/')
                    .ok_or_else(|| format!("ipv4 prefix {prefix:?} lacks /length"))?;
                let addr: Ipv4Addr = addr
                    .parse()
                    .map_err(|_| format!("ipv4 prefix {prefix:?}: bad address"))?;
                let len: u8 = len
                    .parse()
                    .ok()
                    .filter(|l| *l <= 32)
                    .ok_or_else(|| format!("ipv4 prefix {prefix:?}: bad length"))?;
                let host_bits = 32 - len;
                let mask = u32::MAX.checked_shl(u32::from(host_bits)).unwrap_or(0);
                Gen::Ipv4 {
                    net: u32::from(addr) & mask,
                    host_bits,
                    offset: *offset,
                    stride: *stride,
                }
            }
            GenSpec::Ipv6 {
                prefix,
                offset,
                stride,
            } => {
                need(stringy, "ipv6")?;
                let (addr, len) = prefix
                    .split_once('/')
                    .ok_or_else(|| format!("ipv6 prefix {prefix:?} lacks /length"))?;
                let addr: Ipv6Addr = addr
                    .parse()
                    .map_err(|_| format!("ipv6 prefix {prefix:?}: bad address"))?;
                let len: u8 = len
                    .parse()
                    .ok()
                    .filter(|l| *l <= 128)
                    .ok_or_else(|| format!("ipv6 prefix {prefix:?}: bad length"))?;
                let host_bits = 128 - len;
                let mask = u128::MAX.checked_shl(u32::from(host_bits)).unwrap_or(0);
                Gen::Ipv6 {
                    net: u128::from(addr) & mask,
                    host_bits,
                    offset: *offset,
                    stride: *stride,
                }
            }
            GenSpec::Counter { start, rate_per_s } => {
                need(unsigned, "counter")?;
                if !rate_per_s.is_finite() || *rate_per_s < 0.0 {
                    return Err(format!(
                        "counter rate_per_s {rate_per_s} must be finite and >= 0"
                    ));
                }
                let wrap32 = kind == XsdType::UnsignedInt;
                if wrap32 && *start > u64::from(u32::MAX) {
                    return Err(format!("counter start {start} exceeds unsignedInt"));
                }
                Gen::Counter {
                    start: *start,
                    rate: *rate_per_s,
                    wrap32,
                }
            }
            GenSpec::Choice(values) => {
                if values.is_empty() {
                    return Err("choice needs at least one value".into());
                }
                let mut out = Vec::with_capacity(values.len());
                for v in values {
                    let c = kind.canonical(v).ok_or_else(|| {
                        format!("choice value {v:?} is not a valid {}", kind.tr106())
                    })?;
                    out.push(c.into_boxed_str());
                }
                Gen::Choice(out.into_boxed_slice())
            }
            GenSpec::Random { min, max } => {
                if min > max {
                    return Err(format!("random min {min} > max {max}"));
                }
                for v in [min, max] {
                    if !kind.is_valid(&v.to_string())
                        || matches!(kind, XsdType::String | XsdType::Boolean)
                    {
                        return Err(format!("random bound {v} is not a valid {}", kind.tr106()));
                    }
                }
                Gen::Random {
                    min: *min,
                    max: *max,
                }
            }
        })
    }

    /// A value for index 1, seed 0, every instance 1: used to check patterns at load.
    fn sample(&self) -> String {
        let ident = |_: Ident| String::new();
        let ctx = GenCtx {
            seed: 0,
            index: 1,
            inst: &[1; crate::model::path::MAX_DEPTH],
            now: DateTime::from_unix_ms(0),
            boot: DateTime::from_unix_ms(0),
            salt: 0,
            cr_url_base: "",
            ident: &ident,
        };
        self.eval(&ctx)
    }

    /// Whether the pattern quotes an identity value (to refuse cycles at load).
    pub(crate) fn quotes(&self, id: Ident) -> bool {
        match self {
            Gen::Pattern(pieces) => pieces.contains(&Piece::Ident(id)),
            _ => false,
        }
    }

    pub(crate) fn eval(&self, ctx: &GenCtx<'_>) -> String {
        match self {
            Gen::Uptime => ctx.uptime_s().min(u64::from(u32::MAX)).to_string(),
            Gen::Now => ctx.now.format(),
            Gen::ConnectionRequestUrl => {
                let base = ctx.cr_url_base.trim_end_matches('/');
                format!("{base}/{}", cr_path(ctx.index))
            }
            Gen::Pattern(pieces) => eval_pattern(pieces, ctx),
            Gen::Mac {
                oui,
                offset,
                stride,
            } => {
                let low =
                    (u64::from(ctx.index) * u64::from(*stride) + u64::from(*offset)) & 0x00ff_ffff;
                let v = (u64::from(*oui) << 24) | low;
                let b = v.to_be_bytes();
                format!(
                    "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
                    b[2], b[3], b[4], b[5], b[6], b[7]
                )
            }
            Gen::Ipv4 {
                net,
                host_bits,
                offset,
                stride,
            } => {
                let host = 1 + u64::from(ctx.index) * u64::from(*stride) + u64::from(*offset);
                let size = 1u64 << host_bits;
                let host = u32::try_from(host % size).unwrap_or(0);
                Ipv4Addr::from(net | host).to_string()
            }
            Gen::Ipv6 {
                net,
                host_bits,
                offset,
                stride,
            } => {
                let host =
                    1u128 + u128::from(ctx.index) * u128::from(*stride) + u128::from(*offset);
                let host = match 1u128.checked_shl(u32::from(*host_bits)) {
                    Some(size) if *host_bits < 128 => host % size,
                    _ => host,
                };
                Ipv6Addr::from(net | host).to_string()
            }
            Gen::Counter {
                start,
                rate,
                wrap32,
            } => {
                // Jitter of up to a minute's worth, so that a fleet's counters are not in
                // lockstep yet stay reproducible.
                let span = (rate * 60.0) as u64;
                let jitter = if span == 0 { 0 } else { ctx.random(1) % span };
                let grown = (rate * ctx.uptime_s() as f64) as u64;
                let v = start.wrapping_add(grown).wrapping_add(jitter);
                if *wrap32 {
                    (v & u64::from(u32::MAX)).to_string()
                } else {
                    v.to_string()
                }
            }
            Gen::Choice(values) => {
                let len = values.len() as u64;
                let i = usize::try_from(ctx.random(2) % len.max(1)).unwrap_or(0);
                values.get(i).map(|v| v.to_string()).unwrap_or_default()
            }
            Gen::Random { min, max } => {
                let span = (*max as i128 - *min as i128 + 1) as u128;
                let v = *min as i128 + (u128::from(ctx.random(3)) % span) as i128;
                v.to_string()
            }
        }
    }
}

fn parse_pattern(p: &str, depth: usize) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut chars = p.char_indices().peekable();
    while let Some((pos, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|(_, c)| *c) == Some('{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek().map(|(_, c)| *c) == Some('}') => {
                chars.next();
                lit.push('}');
            }
            '}' => return Err(format!("pattern {p:?}: unmatched '}}' (write '}}}}')")),
            '{' => {
                let rest = p.get(pos + 1..).unwrap_or("");
                let end = rest
                    .find('}')
                    .ok_or_else(|| format!("pattern {p:?}: unclosed '{{'"))?;
                let name = rest.get(..end).unwrap_or("");
                for _ in 0..=end {
                    chars.next();
                }
                if !lit.is_empty() {
                    out.push(Piece::Lit(std::mem::take(&mut lit).into_boxed_str()));
                }
                out.push(placeholder(name, depth).map_err(|e| format!("pattern {p:?}: {e}"))?);
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(Piece::Lit(lit.into_boxed_str()));
    }
    Ok(out)
}

fn placeholder(name: &str, depth: usize) -> Result<Piece, String> {
    let (head, spec) = match name.split_once(':') {
        Some((h, s)) => (h, Some(s)),
        None => (name, None),
    };
    Ok(match (head, spec) {
        ("index", None) => Piece::Index {
            hex: None,
            width: 0,
        },
        ("index", Some(spec)) => {
            let (hex, digits) = match spec.as_bytes().first() {
                Some(b'x') => (Some(false), spec.get(1..).unwrap_or("")),
                Some(b'X') => (Some(true), spec.get(1..).unwrap_or("")),
                _ => (None, spec),
            };
            let width = if digits.is_empty() {
                0
            } else {
                digits
                    .parse::<u8>()
                    .ok()
                    .filter(|w| *w <= 20)
                    .ok_or_else(|| format!("bad width in {{{name}}}"))?
            };
            Piece::Index { hex, width }
        }
        ("seed", None) => Piece::Seed,
        ("serial", None) => Piece::Ident(Ident::Serial),
        ("oui", None) => Piece::Ident(Ident::Oui),
        ("product_class", None) => Piece::Ident(Ident::ProductClass),
        ("rand", Some(n)) => {
            let n = n
                .parse::<u8>()
                .ok()
                .filter(|n| (1..=32).contains(n))
                .ok_or_else(|| format!("{{{name}}}: N must be 1..=32"))?;
            Piece::Rand(n)
        }
        ("i", None) => {
            if depth == 0 {
                return Err("{i} used outside any table".into());
            }
            Piece::Inst(None)
        }
        (h, None) if h.len() > 1 && h.starts_with('i') => {
            let k: usize = h
                .get(1..)
                .and_then(|d| d.parse().ok())
                .filter(|k| *k >= 1)
                .ok_or_else(|| format!("unknown placeholder {{{name}}}"))?;
            if k > depth {
                return Err(format!(
                    "{{{name}}} but the parameter is inside {depth} table(s)"
                ));
            }
            Piece::Inst(Some(k - 1))
        }
        _ => return Err(format!("unknown placeholder {{{name}}}")),
    })
}

fn eval_pattern(pieces: &[Piece], ctx: &GenCtx<'_>) -> String {
    let mut out = String::new();
    for (k, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Lit(s) => out.push_str(s),
            Piece::Index { hex, width } => {
                let w = usize::from(*width);
                let _ = match hex {
                    None => write!(out, "{:0w$}", ctx.index),
                    Some(false) => write!(out, "{:0w$x}", ctx.index),
                    Some(true) => write!(out, "{:0w$X}", ctx.index),
                };
            }
            Piece::Seed => {
                let _ = write!(out, "{}", ctx.seed);
            }
            Piece::Inst(level) => {
                let n = match level {
                    None => ctx.inst.last(),
                    Some(k) => ctx.inst.get(*k),
                };
                let _ = write!(out, "{}", n.copied().unwrap_or(0));
            }
            Piece::Ident(id) => out.push_str(&(ctx.ident)(*id)),
            Piece::Rand(n) => {
                let mut left = usize::from(*n);
                let mut round = 0u64;
                while left > 0 {
                    let take = left.min(16);
                    let r = ctx.random(0x100 + (k as u64) * 8 + round);
                    let s = format!("{r:016X}");
                    out.push_str(s.get(..take).unwrap_or(""));
                    left -= take;
                    round += 1;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx_for<'a>(index: u32, inst: &'a [u32], ident: &'a dyn Fn(Ident) -> String) -> GenCtx<'a> {
        GenCtx {
            seed: 42,
            index,
            inst,
            now: DateTime::from_unix_ms(1_700_000_100_000),
            boot: DateTime::from_unix_ms(1_700_000_000_000),
            salt: salt("Device.X.Y"),
            cr_url_base: "http://127.0.0.1:7548/",
            ident,
        }
    }

    fn no_ident(_: Ident) -> String {
        String::new()
    }

    fn gen(spec: GenSpec, kind: XsdType) -> Gen {
        Gen::compile(&spec, kind, 2).unwrap()
    }

    #[test]
    fn pattern_placeholders() {
        let g = gen(
            GenSpec::Pattern("S{index:08}-{index:x}-{index:X6}-{i}-{i1}-{{x}}".into()),
            XsdType::String,
        );
        let ident = no_ident;
        assert_eq!(
            g.eval(&ctx_for(255, &[3, 7], &ident)),
            "S00000255-ff-0000FF-7-3-{x}"
        );
        let g = gen(
            GenSpec::Pattern("{serial}/{oui}/{product_class}".into()),
            XsdType::String,
        );
        let ident = |id: Ident| format!("{id:?}");
        assert_eq!(g.eval(&ctx_for(1, &[], &ident)), "Serial/Oui/ProductClass");
    }

    #[test]
    fn pattern_errors() {
        for bad in [
            "{nope}",
            "{index:q}",
            "{i3}",
            "{rand:0}",
            "{rand:x}",
            "a{b",
            "a}b",
        ] {
            assert!(
                Gen::compile(&GenSpec::Pattern(bad.into()), XsdType::String, 2).is_err(),
                "{bad}"
            );
        }
        assert!(Gen::compile(&GenSpec::Pattern("{i}".into()), XsdType::String, 0).is_err());
        // numeric pattern on a numeric type is fine, a non-numeric one is not
        assert!(Gen::compile(&GenSpec::Pattern("{index}".into()), XsdType::UnsignedInt, 0).is_ok());
        assert!(Gen::compile(
            &GenSpec::Pattern("x{index}".into()),
            XsdType::UnsignedInt,
            0
        )
        .is_err());
    }

    #[test]
    fn rand_is_deterministic_per_seed_and_index() {
        let g = gen(GenSpec::Pattern("{rand:20}".into()), XsdType::String);
        let ident = no_ident;
        let a = g.eval(&ctx_for(7, &[], &ident));
        assert_eq!(a.len(), 20);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(a, g.eval(&ctx_for(7, &[], &ident)));
        assert_ne!(a, g.eval(&ctx_for(8, &[], &ident)));
        let mut other_seed = ctx_for(7, &[], &ident);
        other_seed.seed = 43;
        assert_ne!(a, g.eval(&other_seed));
    }

    #[test]
    fn mac_shape() {
        let g = gen(
            GenSpec::Mac {
                oui: "0a1b2c".into(),
                offset: 1,
                stride: 2,
            },
            XsdType::String,
        );
        let ident = no_ident;
        let m = g.eval(&ctx_for(0x10, &[], &ident));
        assert_eq!(m, "0A:1B:2C:00:00:21");
        // wraps in the low 24 bits
        let m = g.eval(&ctx_for(0x0080_0000, &[], &ident));
        assert_eq!(m, "0A:1B:2C:00:00:01");
        assert!(Gen::compile(
            &GenSpec::Mac {
                oui: "0A1B2".into(),
                offset: 0,
                stride: 1
            },
            XsdType::String,
            0
        )
        .is_err());
    }

    #[test]
    fn ipv4_shape_and_wrap() {
        let g = gen(
            GenSpec::Ipv4 {
                prefix: "10.20.0.0/16".into(),
                offset: 0,
                stride: 1,
            },
            XsdType::String,
        );
        let ident = no_ident;
        assert_eq!(g.eval(&ctx_for(0, &[], &ident)), "10.20.0.1");
        assert_eq!(g.eval(&ctx_for(300, &[], &ident)), "10.20.1.45");
        assert_eq!(g.eval(&ctx_for(65535, &[], &ident)), "10.20.0.0");
        let ip: Ipv4Addr = g.eval(&ctx_for(123_456, &[], &ident)).parse().unwrap();
        assert_eq!(
            u32::from(ip) >> 16,
            u32::from(Ipv4Addr::new(10, 20, 0, 0)) >> 16
        );
        for bad in ["10.0.0.0", "10.0.0.0/33", "x/8"] {
            assert!(Gen::compile(
                &GenSpec::Ipv4 {
                    prefix: bad.into(),
                    offset: 0,
                    stride: 1
                },
                XsdType::String,
                0
            )
            .is_err());
        }
    }

    #[test]
    fn ipv6_shape() {
        let g = gen(
            GenSpec::Ipv6 {
                prefix: "2001:db8:1::/48".into(),
                offset: 0,
                stride: 0x1_0000,
            },
            XsdType::String,
        );
        let ident = no_ident;
        assert_eq!(g.eval(&ctx_for(2, &[], &ident)), "2001:db8:1::2:1");
        let ip: Ipv6Addr = g.eval(&ctx_for(99, &[], &ident)).parse().unwrap();
        assert_eq!(ip.segments()[..3], [0x2001, 0xdb8, 1]);
    }

    #[test]
    fn uptime_counter_now_cr_url() {
        let ident = no_ident;
        let c = ctx_for(5, &[], &ident);
        assert_eq!(gen(GenSpec::Uptime, XsdType::UnsignedInt).eval(&c), "100");
        assert_eq!(
            gen(GenSpec::Now, XsdType::DateTime).eval(&c),
            c.now.format()
        );
        assert_eq!(
            gen(GenSpec::ConnectionRequestUrl, XsdType::String).eval(&c),
            "http://127.0.0.1:7548/cr/5"
        );
        let counter = gen(
            GenSpec::Counter {
                start: 1000,
                rate_per_s: 10.0,
            },
            XsdType::UnsignedLong,
        );
        let v: u64 = counter.eval(&c).parse().unwrap();
        // start + 10/s * 100 s + jitter below a minute's worth
        assert!((2000..2600).contains(&v), "{v}");
        let later = GenCtx {
            now: DateTime::from_unix_ms(1_700_000_200_000),
            ..ctx_for(5, &[], &ident)
        };
        let w: u64 = counter.eval(&later).parse().unwrap();
        assert_eq!(w - v, 1000);
        // unsignedInt counters wrap like StatsCounter32
        let c32 = gen(
            GenSpec::Counter {
                start: u64::from(u32::MAX),
                rate_per_s: 0.0,
            },
            XsdType::UnsignedInt,
        );
        assert_eq!(c32.eval(&c), u32::MAX.to_string());
        assert!(Gen::compile(&GenSpec::Uptime, XsdType::String, 0).is_err());
        assert!(Gen::compile(&GenSpec::Now, XsdType::String, 0).is_err());
        assert!(Gen::compile(
            &GenSpec::Counter {
                start: 0,
                rate_per_s: f64::NAN
            },
            XsdType::UnsignedInt,
            0
        )
        .is_err());
    }

    #[test]
    fn choice_and_random_are_stable_and_in_range() {
        let ident = no_ident;
        let choice = gen(
            GenSpec::Choice(vec!["a".into(), "b".into(), "c".into()]),
            XsdType::String,
        );
        let random = gen(GenSpec::Random { min: -5, max: 5 }, XsdType::Int);
        let mut seen = std::collections::HashSet::new();
        for i in 0..200 {
            let c = ctx_for(i, &[], &ident);
            let v = choice.eval(&c);
            assert_eq!(v, choice.eval(&c));
            seen.insert(v);
            let r: i64 = random.eval(&c).parse().unwrap();
            assert!((-5..=5).contains(&r));
        }
        assert_eq!(seen.len(), 3);
        assert!(Gen::compile(
            &GenSpec::Random {
                min: 0,
                max: 1 << 40
            },
            XsdType::UnsignedInt,
            0
        )
        .is_err());
        assert!(Gen::compile(&GenSpec::Random { min: 2, max: 1 }, XsdType::Int, 0).is_err());
        assert!(Gen::compile(&GenSpec::Choice(vec!["x".into()]), XsdType::Boolean, 0).is_err());
        assert!(Gen::compile(&GenSpec::Choice(vec![]), XsdType::String, 0).is_err());
    }

    #[test]
    fn cr_path_round_trip() {
        assert_eq!(device_from_cr_path(&cr_path(123)), Some(123));
        assert_eq!(device_from_cr_path("/cr/7"), Some(7));
        assert_eq!(device_from_cr_path("cr/x"), None);
        assert_eq!(device_from_cr_path("cr/"), None);
    }
}
