//! The condition language of a case's expectations: a plain scalar means "equals"; otherwise
//! `{ eq, ne, lt, le, gt, ge, present, contains, ends_with, not_empty }`, numbers and booleans
//! compared as such.

use serde::Deserialize;

/// A condition on a value: a plain scalar means "equals".
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Cond {
    Ops(Ops),
    Eq(Scalar),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Bool(bool),
    Num(f64),
    Str(String),
}

impl Scalar {
    pub fn text(&self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Num(n) if n.fract() == 0.0 => format!("{}", *n as i64),
            Scalar::Num(n) => n.to_string(),
            Scalar::Str(s) => s.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ops {
    #[serde(default)]
    pub eq: Option<Scalar>,
    #[serde(default)]
    pub ne: Option<Scalar>,
    #[serde(default)]
    pub lt: Option<f64>,
    #[serde(default)]
    pub le: Option<f64>,
    #[serde(default)]
    pub gt: Option<f64>,
    #[serde(default)]
    pub ge: Option<f64>,
    #[serde(default)]
    pub present: Option<bool>,
    #[serde(default)]
    pub contains: Option<String>,
    #[serde(default)]
    pub ends_with: Option<String>,
    #[serde(default)]
    pub not_empty: Option<bool>,
}

impl Cond {
    /// A short human form ("<= 3600", "present").
    pub fn describe(&self) -> String {
        let o = match self {
            Cond::Eq(s) => return format!("= {:?}", s.text()),
            Cond::Ops(o) => o,
        };
        let mut v: Vec<String> = Vec::new();
        let mut num = |op: &str, b: Option<f64>| {
            if let Some(b) = b {
                v.push(format!("{op} {b}"));
            }
        };
        num("<", o.lt);
        num("<=", o.le);
        num(">", o.gt);
        num(">=", o.ge);
        if let Some(e) = &o.eq {
            v.push(format!("= {:?}", e.text()));
        }
        if let Some(e) = &o.ne {
            v.push(format!("!= {:?}", e.text()));
        }
        if let Some(p) = o.present {
            v.push(if p { "present" } else { "absent" }.into());
        }
        if let Some(c) = &o.contains {
            v.push(format!("contains {c:?}"));
        }
        if let Some(c) = &o.ends_with {
            v.push(format!("ends with {c:?}"));
        }
        if o.not_empty == Some(true) {
            v.push("not empty".into());
        }
        v.join(" and ")
    }

    /// Whether `value` (None: absent) satisfies the condition; `x` expands variables.
    pub fn holds(&self, value: Option<&str>, x: &dyn Fn(&str) -> String) -> bool {
        let o = match self {
            Cond::Eq(s) => return value.is_some_and(|v| same(v, &x(&s.text()))),
            Cond::Ops(o) => o,
        };
        if let Some(p) = o.present {
            if value.is_some() != p {
                return false;
            }
        }
        let Some(v) = value else {
            return o.present == Some(false);
        };
        let num = v.trim().parse::<f64>().ok();
        let cmp = |bound: Option<f64>, f: fn(f64, f64) -> bool| {
            bound.is_none_or(|b| num.is_some_and(|n| f(n, b)))
        };
        o.eq.as_ref().is_none_or(|e| same(v, &x(&e.text())))
            && o.ne.as_ref().is_none_or(|e| !same(v, &x(&e.text())))
            && cmp(o.lt, |n, b| n < b)
            && cmp(o.le, |n, b| n <= b)
            && cmp(o.gt, |n, b| n > b)
            && cmp(o.ge, |n, b| n >= b)
            && o.contains.as_ref().is_none_or(|c| v.contains(&x(c)))
            && o.ends_with.as_ref().is_none_or(|c| v.ends_with(&x(c)))
            && o.not_empty.is_none_or(|ne| ne != v.is_empty())
    }
}

/// Equal as text, or as numbers, or as booleans ("1" = "true").
fn same(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    if let (Ok(x), Ok(y)) = (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        return x == y;
    }
    let bool_of = |s: &str| match s.trim() {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    };
    matches!((bool_of(a), bool_of(b)), (Some(x), Some(y)) if x == y)
}
