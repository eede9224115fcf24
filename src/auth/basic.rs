//! HTTP Basic authentication (allowed by TR-069 only over TLS to the ACS, and for connection
//! requests where the operator configures it).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// The `Authorization` header value for Basic.
pub fn authorization(username: &str, password: &str) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{username}:{password}"))
    )
}

/// Decodes `Basic <b64>` into (username, password); `None` on anything malformed.
pub fn parse(header: &str) -> Option<(String, String)> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip_and_rfc7617_example() {
        assert_eq!(
            super::authorization("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(
            super::parse("basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
            Some(("Aladdin".into(), "open sesame".into()))
        );
        assert_eq!(super::parse("Basic !!!"), None);
        assert_eq!(super::parse("Digest x"), None);
    }
}
