//! The session's cookie jar (TR-069 §3.4.x, RFC 6265 subset).
//!
//! A CPE starts every session with an empty jar, stores every cookie the ACS sets, and returns
//! them on every later POST of the same session — also after reconnecting. GenieACS answers
//! `400 Invalid session` to a POST without its `session` cookie even on the same socket
//! (tests/data/genieacs/README.md, dialect point 1), so this is not optional. Attributes (Path,
//! Domain, Expires, HttpOnly) are ignored: the jar lives for one session with one ACS.

/// Bounded so a hostile ACS cannot grow a device's memory without limit.
const MAX_COOKIES: usize = 16;
const MAX_COOKIE_BYTES: usize = 4096;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CookieJar {
    cookies: Vec<(String, String)>,
}

impl CookieJar {
    /// Stores the cookie of one `Set-Cookie` header value. Returns false when it was ignored
    /// (malformed, or over the jar's bounds), so the caller can count it.
    pub fn store(&mut self, set_cookie: &str) -> bool {
        let pair = set_cookie.split(';').next().unwrap_or("").trim();
        let Some((name, value)) = pair.split_once('=') else {
            return false;
        };
        let (name, value) = (name.trim(), value.trim().trim_matches('"'));
        if name.is_empty() || name.len() + value.len() > MAX_COOKIE_BYTES {
            return false;
        }
        if let Some(slot) = self.cookies.iter_mut().find(|(n, _)| n == name) {
            slot.1 = value.to_string();
            return true;
        }
        if self.cookies.len() >= MAX_COOKIES {
            return false;
        }
        self.cookies.push((name.to_string(), value.to_string()));
        true
    }

    /// The `Cookie` header value, `None` while the jar is empty.
    pub fn header(&self) -> Option<String> {
        if self.cookies.is_empty() {
            return None;
        }
        let mut out = String::new();
        for (i, (n, v)) in self.cookies.iter().enumerate() {
            if i > 0 {
                out.push_str("; ");
            }
            out.push_str(n);
            out.push('=');
            out.push_str(v);
        }
        Some(out)
    }

    pub fn is_empty(&self) -> bool {
        self.cookies.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genieacs_session_cookie() {
        let mut jar = CookieJar::default();
        assert_eq!(jar.header(), None);
        assert!(jar.store("session=5e1f8a0c3b2d4e6f"));
        assert_eq!(jar.header().as_deref(), Some("session=5e1f8a0c3b2d4e6f"));
    }

    #[test]
    fn attributes_ignored_and_values_replaced() {
        let mut jar = CookieJar::default();
        assert!(jar.store("a=1; Path=/acs; HttpOnly"));
        assert!(jar.store("b=\"two\"; Max-Age=60"));
        assert!(jar.store("a=3"));
        assert_eq!(jar.header().as_deref(), Some("a=3; b=two"));
        assert_eq!(jar.get("b"), Some("two"));
    }

    #[test]
    fn malformed_and_excess_cookies_are_refused() {
        let mut jar = CookieJar::default();
        assert!(!jar.store("novalue"));
        assert!(!jar.store("=x"));
        assert!(!jar.store(&format!("big={}", "x".repeat(MAX_COOKIE_BYTES))));
        for i in 0..MAX_COOKIES {
            assert!(jar.store(&format!("c{i}=v")));
        }
        assert!(!jar.store("one-too-many=v"));
        assert!(
            jar.store("c0=replaced"),
            "replacing stays possible when full"
        );
    }
}
