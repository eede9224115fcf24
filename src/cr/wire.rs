//! The connection-request listener's HTTP/1.1, and only what TR-069 §3.2.2 asks of it: a
//! request head in (an ACS sends `GET <ConnectionRequestURL path>`, perhaps with
//! `Authorization`, no body), a bodiless response out, written whole.
//!
//! Pure: bytes in, bytes out, no sockets. The head is read in place by `httparse` (no header
//! map, no owned strings), bounded in size by [`MAX_HEAD`] and in header count by
//! [`MAX_HEADERS`] — hyper's limits for this listener before it had its own server.

use std::io::Write;

/// A request head longer than this is refused (431) without being parsed further.
pub const MAX_HEAD: usize = 16 * 1024;
/// Headers per request; more is refused (431), as hyper does past its default of 100.
pub const MAX_HEADERS: usize = 100;

/// How the request's body (a connection request has none) is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    None,
    /// `Content-Length: n`, n > 0.
    Length(usize),
    /// `Transfer-Encoding`: not skipped; the connection is closed after the answer.
    Chunked,
}

/// A parsed request head, borrowing the read buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head<'a> {
    pub method: &'a str,
    /// The request-target as sent: origin form (`/cr/7?x`) or absolute form (`http://h/cr/7`).
    pub target: &'a str,
    pub authorization: Option<&'a str>,
    /// Whether the client lets the connection stay open (HTTP/1.1 unless `Connection: close`;
    /// HTTP/1.0 only with `Connection: keep-alive`).
    pub keep_alive: bool,
    pub body: Body,
    /// Bytes of the head, its blank line included.
    pub len: usize,
}

impl Head<'_> {
    /// The request-target's path and query, whatever its form (RFC 9112 §3.2): what a Digest
    /// `uri` must name.
    pub fn path_and_query(&self) -> &str {
        match self.target.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
            None => self.target,
        }
    }

    /// The path alone: what names the device.
    pub fn path(&self) -> &str {
        let pq = self.path_and_query();
        pq.split_once('?').map_or(pq, |(p, _)| p)
    }
}

/// Why a head was refused before reaching the handler (counted as `bad_request`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not HTTP/1.x, or a framing header that cannot be trusted: 400.
    Malformed,
    /// Over [`MAX_HEAD`] bytes or [`MAX_HEADERS`] headers: 431.
    TooLarge,
}

impl Refusal {
    pub fn status(self) -> u16 {
        match self {
            Refusal::Malformed => 400,
            Refusal::TooLarge => 431,
        }
    }
}

/// The head at the start of `buf`: `Ok(None)` while incomplete.
pub fn parse(buf: &[u8]) -> Result<Option<Head<'_>>, Refusal> {
    // Uninitialised: 3.2 KB of empty headers zeroed per request would cost more than parsing.
    let mut headers =
        [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(buf, &mut headers) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD => return Err(Refusal::TooLarge),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(Refusal::TooLarge),
        Err(_) => return Err(Refusal::Malformed),
    };
    if len > MAX_HEAD {
        return Err(Refusal::TooLarge);
    }
    let (Some(method), Some(target), Some(version)) = (req.method, req.path, req.version) else {
        return Err(Refusal::Malformed);
    };
    let mut head = Head {
        method,
        target,
        authorization: None,
        keep_alive: version == 1,
        body: Body::None,
        len,
    };
    for h in req.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case("authorization") {
            head.authorization = std::str::from_utf8(h.value).ok();
        } else if name.eq_ignore_ascii_case("connection") {
            connection(h.value, &mut head.keep_alive);
        } else if name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .ok_or(Refusal::Malformed)?;
            match head.body {
                // Two different lengths: the framing cannot be trusted (RFC 9112 §6.3).
                Body::Length(m) if m != n => return Err(Refusal::Malformed),
                Body::None if n > 0 => head.body = Body::Length(n),
                _ => {}
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            head.body = Body::Chunked;
        }
    }
    Ok(Some(head))
}

/// `Connection` tokens: `close` ends the exchange after this answer, `keep-alive` keeps an
/// HTTP/1.0 connection.
fn connection(value: &[u8], keep_alive: &mut bool) {
    for token in value.split(|b| *b == b',') {
        let t = token.trim_ascii();
        if t.eq_ignore_ascii_case(b"close") {
            *keep_alive = false;
            return;
        }
        if t.eq_ignore_ascii_case(b"keep-alive") {
            *keep_alive = true;
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Bad Request",
    }
}

/// Writes a header value into the response being built (the challenge, nonce issued then).
pub type WriteValue<'a> = &'a dyn Fn(&mut Vec<u8>);

/// Appends a bodiless response to `out`: status line, `Content-Length: 0`, the
/// `WWW-Authenticate` value `challenge` writes (if any), `Connection: close` when `close`, and
/// `Date` (RFC 9110 §6.6.1: an origin server with a clock sends it).
pub fn response(
    out: &mut Vec<u8>,
    status: u16,
    challenge: Option<WriteValue<'_>>,
    close: bool,
    date: &[u8],
) {
    let _ = write!(out, "HTTP/1.1 {status} {}\r\n", reason(status));
    out.extend_from_slice(b"Content-Length: 0\r\n");
    if let Some(c) = challenge {
        out.extend_from_slice(b"WWW-Authenticate: ");
        c(out);
        out.extend_from_slice(b"\r\n");
    }
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"Date: ");
    out.extend_from_slice(date);
    out.extend_from_slice(b"\r\n\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_genieacs_request_head() {
        let raw = b"GET /cr/42 HTTP/1.1\r\nAuthorization: Digest username=\"u\"\r\nHost: 127.0.0.1:7547\r\nConnection: keep-alive\r\n\r\nGET";
        let h = parse(raw).unwrap().unwrap();
        assert_eq!(h.method, "GET");
        assert_eq!(h.path(), "/cr/42");
        assert_eq!(h.authorization, Some("Digest username=\"u\""));
        assert!(h.keep_alive);
        assert_eq!(h.body, Body::None);
        assert_eq!(
            &raw[h.len..],
            b"GET",
            "the next request is left in the buffer"
        );
    }

    #[test]
    fn partial_oversize_and_malformed_heads() {
        assert_eq!(parse(b"GET /cr/42 HTTP/1.1\r\nHost: x\r\n"), Ok(None));
        let mut big = b"GET /cr/42 HTTP/1.1\r\nX: ".to_vec();
        big.resize(MAX_HEAD, b'a');
        assert_eq!(parse(&big), Err(Refusal::TooLarge));
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for _ in 0..=MAX_HEADERS {
            many.extend_from_slice(b"A: b\r\n");
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(parse(&many), Err(Refusal::TooLarge));
        assert_eq!(
            parse(b"\x16\x03\x01\x02\x00"),
            Err(Refusal::Malformed),
            "TLS"
        );
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            Err(Refusal::Malformed)
        );
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
            Err(Refusal::Malformed)
        );
    }

    #[test]
    fn keep_alive_framing_and_targets() {
        let h = parse(b"GET http://10.0.0.1:7547/cr/7?a=1 HTTP/1.0\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(!h.keep_alive, "HTTP/1.0 closes by default");
        assert_eq!(h.path_and_query(), "/cr/7?a=1");
        assert_eq!(h.path(), "/cr/7");
        let h = parse(b"POST /cr/7 HTTP/1.1\r\nConnection: TE, Close\r\nContent-Length: 3\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(!h.keep_alive);
        assert_eq!(h.body, Body::Length(3));
        let h = parse(
            b"GET / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert!(h.keep_alive);
        assert_eq!(h.body, Body::Chunked);
        let h = parse(b"GET http://h HTTP/1.1\r\n\r\n").unwrap().unwrap();
        assert_eq!(h.path(), "/");
    }

    #[test]
    fn responses_are_one_buffer() {
        let mut out = Vec::new();
        let c = |o: &mut Vec<u8>| o.extend_from_slice(b"Digest realm=\"r\"");
        response(
            &mut out,
            401,
            Some(&c),
            false,
            b"Thu, 03 Dec 2026 22:00:00 GMT",
        );
        assert_eq!(
            out,
            b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nWWW-Authenticate: Digest realm=\"r\"\r\nDate: Thu, 03 Dec 2026 22:00:00 GMT\r\n\r\n"
        );
        out.clear();
        response(&mut out, 200, None, true, b"D");
        assert_eq!(
            out,
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\nDate: D\r\n\r\n"
        );
    }
}
