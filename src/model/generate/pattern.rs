//! Patterns (`"SN{index:X8}-{rand:4}"`): parsed into [`Piece`]s at load, evaluated on read.

use std::fmt::Write;

use super::{GenCtx, Ident, Piece};

pub(super) fn parse_pattern(p: &str, depth: usize) -> Result<Vec<Piece>, String> {
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

pub(super) fn eval_pattern(pieces: &[Piece], ctx: &GenCtx<'_>) -> String {
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
