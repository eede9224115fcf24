//! Generated parameter values: compiled from a file's
//! [`GenSpec`](crate::model::file::GenSpec) at load (`compile.rs`), evaluated on every read from
//! (run seed, device index, instance numbers, clock, boot time). A device that the ACS never
//! wrote to therefore stores nothing per parameter, yet every device reads differently and the
//! same seed always gives the same fleet. Patterns are in `pattern.rs`.

mod compile;
mod pattern;

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::cwmp::DateTime;
use crate::seed::mix;
use pattern::eval_pattern;

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

#[cfg(test)]
mod tests;
