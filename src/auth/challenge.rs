//! Reading `WWW-Authenticate` / `Authorization` headers: scheme token plus `k=v` parameters.
//!
//! Real servers differ in spacing (GenieACS writes `realm="GenieACS",qop="auth,auth-int"` with no
//! spaces), quote commas inside values (`qop="auth,auth-int"`) and capitalise schemes freely, so
//! this is a small hand-written tokenizer rather than a split on commas.

use super::digest::{DigestChallenge, DigestError};

/// One challenge offered by a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic { realm: String },
    Digest(DigestChallenge),
}

impl Challenge {
    /// Parses one `WWW-Authenticate` header value. Unknown schemes give `Ok(None)`.
    pub fn parse(header: &str) -> Result<Option<Challenge>, DigestError> {
        let header = header.trim();
        let (scheme, rest) = header
            .split_once(|c: char| c.is_ascii_whitespace())
            .unwrap_or((header, ""));
        if scheme.eq_ignore_ascii_case("digest") {
            return DigestChallenge::parse(rest).map(|d| Some(Challenge::Digest(d)));
        }
        if scheme.eq_ignore_ascii_case("basic") {
            let realm = split_params(rest)
                .into_iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("realm"))
                .map(|(_, v)| unquote(v))
                .unwrap_or_default();
            return Ok(Some(Challenge::Basic { realm }));
        }
        Ok(None)
    }
}

/// Splits `a=1, b="x,y", c=z` into pairs, honouring quotes and backslash escapes.
pub(crate) fn split_params(s: &str) -> Vec<(&str, &str)> {
    Params { s, i: 0 }.collect()
}

/// The pairs of [`split_params`] one at a time, borrowed from the header (no allocation: the
/// connection-request listener reads every `Authorization` this way, issue #17).
pub(crate) struct Params<'a> {
    pub(crate) s: &'a str,
    pub(crate) i: usize,
}

impl<'a> Iterator for Params<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        let (s, bytes) = (self.s, self.s.as_bytes());
        let mut i = self.i;
        loop {
            while i < bytes.len() && (bytes[i] == b',' || bytes[i].is_ascii_whitespace()) {
                i += 1;
            }
            if i >= bytes.len() {
                self.i = i;
                return None;
            }
            let key_start = i;
            while i < bytes.len() && bytes[i] != b'=' && bytes[i] != b',' {
                i += 1;
            }
            let key = s[key_start..i].trim();
            if i >= bytes.len() || bytes[i] == b',' {
                if key.is_empty() {
                    continue;
                }
                self.i = i;
                return Some((key, ""));
            }
            i += 1; // '='
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let val_start = i;
            if i < bytes.len() && bytes[i] == b'"' {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i = (i + 1).min(bytes.len());
            } else {
                while i < bytes.len() && bytes[i] != b',' {
                    i += 1;
                }
            }
            self.i = i;
            return Some((key, s[val_start..i].trim()));
        }
    }
}

/// Removes surrounding quotes and backslash escapes.
pub(crate) fn unquote(v: &str) -> String {
    let inner = v
        .strip_prefix('"')
        .map(|x| x.strip_suffix('"').unwrap_or(x))
        .unwrap_or(v);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_schemes_case_insensitively() {
        let c = Challenge::parse(r#"basic realm="ACS""#).unwrap();
        assert_eq!(
            c,
            Some(Challenge::Basic {
                realm: "ACS".into()
            })
        );
        let c = Challenge::parse(r#"DIGEST realm="GenieACS",qop="auth,auth-int",nonce="ab""#)
            .unwrap()
            .unwrap();
        match c {
            Challenge::Digest(d) => {
                assert_eq!(d.nonce, "ab");
                assert!(d.qop_auth);
            }
            other => panic!("expected digest, got {other:?}"),
        }
        assert_eq!(Challenge::parse("Bearer x").unwrap(), None);
    }

    #[test]
    fn split_honours_quotes() {
        let p = split_params(r#"a=1, b="x,y",c = "q\"d" , flag"#);
        assert_eq!(
            p,
            vec![
                ("a", "1"),
                ("b", "\"x,y\""),
                ("c", "\"q\\\"d\""),
                ("flag", "")
            ]
        );
        assert_eq!(unquote("\"q\\\"d\""), "q\"d");
        // Truncated input never panics.
        assert_eq!(split_params(r#"a="unterminated"#).len(), 1);
        assert!(split_params("").is_empty());
    }
}
