//! A file's [`GenSpec`] -> [`Gen`], checked at load against the parameter's type so that a
//! generator that can never give a valid value is an error here, not at every read.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::pattern::parse_pattern;
use super::Gen;
use crate::cwmp::XsdType;
use crate::model::file::GenSpec;

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
            GenSpec::Pattern(p) => pattern(p, kind, depth)?,
            GenSpec::Mac {
                oui,
                offset,
                stride,
            } => {
                need(stringy, "mac")?;
                Gen::Mac {
                    oui: mac_oui(oui)?,
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
                let (net, host_bits) = ipv4_prefix(prefix)?;
                Gen::Ipv4 {
                    net,
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
                let (net, host_bits) = ipv6_prefix(prefix)?;
                Gen::Ipv6 {
                    net,
                    host_bits,
                    offset: *offset,
                    stride: *stride,
                }
            }
            GenSpec::Counter { start, rate_per_s } => {
                need(unsigned, "counter")?;
                counter(*start, *rate_per_s, kind)?
            }
            GenSpec::Choice(values) => choice(values, kind)?,
            GenSpec::Random { min, max } => random(*min, *max, kind)?,
        })
    }
}

fn pattern(p: &str, kind: XsdType, depth: usize) -> Result<Gen, String> {
    let pieces = parse_pattern(p, depth)?;
    let gen = Gen::Pattern(pieces.into_boxed_slice());
    if kind != XsdType::String {
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
    Ok(gen)
}

/// The OUI of a MAC generator: 6 hex digits.
fn mac_oui(oui: &str) -> Result<u32, String> {
    if oui.len() != 6 || !oui.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("mac oui {oui:?} is not 6 hex digits"));
    }
    u32::from_str_radix(oui, 16).map_err(|e| e.to_string())
}

/// `a.b.c.d/len` -> the masked network and the number of host bits.
fn ipv4_prefix(prefix: &str) -> Result<(u32, u8), String> {
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
    Ok((u32::from(addr) & mask, host_bits))
}

/// `addr/len` -> the masked network and the number of host bits.
fn ipv6_prefix(prefix: &str) -> Result<(u128, u8), String> {
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
    Ok((u128::from(addr) & mask, host_bits))
}

/// A counter wraps at 2^32 on an unsignedInt, so its start must fit one.
fn counter(start: u64, rate_per_s: f64, kind: XsdType) -> Result<Gen, String> {
    if !rate_per_s.is_finite() || rate_per_s < 0.0 {
        return Err(format!(
            "counter rate_per_s {rate_per_s} must be finite and >= 0"
        ));
    }
    let wrap32 = kind == XsdType::UnsignedInt;
    if wrap32 && start > u64::from(u32::MAX) {
        return Err(format!("counter start {start} exceeds unsignedInt"));
    }
    Ok(Gen::Counter {
        start,
        rate: rate_per_s,
        wrap32,
    })
}

/// At least one value, each valid for the type, kept canonical.
fn choice(values: &[String], kind: XsdType) -> Result<Gen, String> {
    if values.is_empty() {
        return Err("choice needs at least one value".into());
    }
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        let c = kind
            .canonical(v)
            .ok_or_else(|| format!("choice value {v:?} is not a valid {}", kind.tr106()))?;
        out.push(c.into_boxed_str());
    }
    Ok(Gen::Choice(out.into_boxed_slice()))
}

/// Numeric bounds, `min <= max`, both valid for the (numeric) type.
fn random(min: i64, max: i64, kind: XsdType) -> Result<Gen, String> {
    if min > max {
        return Err(format!("random min {min} > max {max}"));
    }
    for v in [min, max] {
        if !kind.is_valid(&v.to_string()) || matches!(kind, XsdType::String | XsdType::Boolean) {
            return Err(format!("random bound {v} is not a valid {}", kind.tr106()));
        }
    }
    Ok(Gen::Random { min, max })
}
