//! A small HTTP/1.1 client for an ACS's northbound API (listings, file uploads with their own
//! headers, deletions), chunked answers included. Bounded: every exchange has a timeout and a body cap.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::net::client::Endpoint;

/// The largest answer body read (an NBI listing of one device's record or tasks).
const MAX_BODY: usize = 4 << 20;

pub(super) type Headers = Vec<(String, String)>;

/// One HTTP/1.1 exchange on an open connection (Content-Length bodies or read to close).
async fn exchange(
    s: &mut TcpStream,
    head: String,
    body: &[u8],
) -> Result<(u16, Headers, Vec<u8>), String> {
    let io = async {
        s.write_all(head.as_bytes()).await?;
        s.write_all(body).await?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        let header_end = loop {
            let k = s.read(&mut chunk).await?;
            if k == 0 {
                break buf.windows(4).position(|w| w == b"\r\n\r\n");
            }
            buf.extend_from_slice(chunk.get(..k).unwrap_or(&[]));
            if buf.len() > MAX_BODY {
                return Err(std::io::Error::other("HTTP head over 4 MiB"));
            }
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break Some(p);
            }
        };
        let Some(p) = header_end else {
            return Err(std::io::Error::other("no HTTP answer"));
        };
        let head = String::from_utf8_lossy(buf.get(..p).unwrap_or(&[])).to_string();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|c| c.parse::<u16>().ok())
            .unwrap_or(0);
        let headers: Headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let mut rest = buf.get(p + 4..).unwrap_or(&[]).to_vec();
        let len = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok());
        let chunked = headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
        });
        loop {
            if len.is_some_and(|n| rest.len() >= n) || (chunked && rest.ends_with(b"0\r\n\r\n")) {
                break;
            }
            let k = s.read(&mut chunk).await?;
            if k == 0 {
                break;
            }
            rest.extend_from_slice(chunk.get(..k).unwrap_or(&[]));
            if rest.len() > MAX_BODY {
                return Err(std::io::Error::other("answer body over 4 MiB"));
            }
        }
        if chunked {
            rest = dechunk(&rest).ok_or_else(|| std::io::Error::other("bad chunked body"))?;
        }
        Ok::<_, std::io::Error>((status, headers, rest))
    };
    tokio::time::timeout(Duration::from_secs(10), io)
        .await
        .map_err(|_| "timed out".to_string())?
        .map_err(|e| e.to_string())
}

/// The body of a `Transfer-Encoding: chunked` answer (RFC 9112 §7.1; GenieACS's NBI sends
/// its listings so). None when malformed.
fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let line = std::str::from_utf8(b.get(..eol)?).ok()?;
        let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
        b = b.get(eol + 2..)?;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}

/// A plain HTTP call (the external trigger step); returns the status and the body as text.
pub(crate) async fn http_call(
    method: &str,
    url: &str,
    body: &str,
) -> Result<(u16, String), String> {
    http_call_with(method, url, body.as_bytes(), &[]).await
}

/// A plain HTTP call with extra headers (a JSON content type is assumed for a body without one).
pub(super) async fn http_call_with(
    method: &str,
    url: &str,
    body: &[u8],
    extra: &[(&str, &str)],
) -> Result<(u16, String), String> {
    let ep = Endpoint::parse(url).map_err(|e| e.to_string())?;
    if ep.tls {
        return Err("https is not supported by the http step".into());
    }
    let mut s = TcpStream::connect((ep.host.as_str(), ep.port))
        .await
        .map_err(|e| e.to_string())?;
    let mut head = format!(
        "{method} {} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        ep.path,
        ep.authority(),
        body.len()
    );
    if !body.is_empty()
        && !extra
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let (status, _, rest) = exchange(&mut s, head, body).await?;
    Ok((status, String::from_utf8_lossy(&rest).into_owned()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn dechunks() {
        assert_eq!(
            super::dechunk(b"3\r\n[1,\r\n2;x=y\r\n2]\r\n0\r\n\r\n").as_deref(),
            Some(&b"[1,2]"[..])
        );
        assert_eq!(super::dechunk(b"zz\r\n"), None);
        assert_eq!(super::dechunk(b"5\r\nab"), None);
    }
}
