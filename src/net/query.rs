//! URL query strings: `%XX` decoding (RFC 3986 §2.1) and `key=value` pairs, shared by the
//! embedded ACS's NBI and the UDP connection-request check.

/// Decodes `%XX` escapes; a malformed escape is kept as it is, invalid UTF-8 is replaced.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (c, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The raw (still encoded) value of `key` in `query` (`a=1&b=2`), the first one if repeated.
pub fn raw_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_finds() {
        assert_eq!(percent_decode("a%2Db%zz%4"), "a-b%zz%4");
        assert_eq!(raw_param("ts=1&un=a%2Db&x", "un"), Some("a%2Db"));
        assert_eq!(raw_param("ts=1&un=a&x", "x"), Some(""));
        assert_eq!(raw_param("ts=1", "id"), None);
    }
}
