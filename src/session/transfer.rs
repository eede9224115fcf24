//! File transfers a Download or Upload RPC asked for (TR-069 A.3.2.8 / A.4.1.5):
//! a real HTTP(S) GET of the file, or a real PUT of a generated one, with the RPC's
//! Username/Password answered to a 401 (Basic or Digest). The outcome is a TransferComplete
//! FaultStruct: 0 on success, else the spec's code for what went wrong. Runs outside the CWMP
//! session, as on a real CPE.

use std::time::Duration;

use crate::net::body::Body;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::{Method, Request, StatusCode};

use crate::auth::{basic, Challenge};
use crate::cwmp::{CwmpVersion, TransferCompleteFaultStruct};

use crate::net::client::{Connector, Endpoint, TransportError};

/// A transfer's failure, as a fault code and text for TransferComplete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferFault {
    pub code: u32,
    pub reason: String,
}

impl TransferFault {
    fn new(code: u32, reason: impl Into<String>) -> Self {
        TransferFault {
            code,
            reason: reason.into(),
        }
    }

    /// The FaultStruct for TransferComplete. CWMP 1.0 only defines 9010–9013, so the finer
    /// 1.1+ codes (9014–9019) collapse to 9010 (download) / 9011 (upload) there.
    pub fn to_struct(&self, version: CwmpVersion, upload: bool) -> TransferCompleteFaultStruct {
        let code = if version == CwmpVersion::V1_0 && self.code >= 9014 {
            if upload {
                9011
            } else {
                9010
            }
        } else {
            self.code
        };
        TransferCompleteFaultStruct {
            fault_code: code,
            fault_string: self.reason.chars().take(256).collect(),
        }
    }

    pub fn label(&self) -> &'static str {
        match self.code {
            9012 => "transfer_auth",
            9013 => "transfer_protocol",
            9015 => "transfer_unreachable",
            9016 => "transfer_not_found",
            9017 => "transfer_incomplete",
            9018 => "transfer_corrupted",
            9011 => "upload_failed",
            _ => "transfer_failed",
        }
    }
}

/// Limits of one transfer.
#[derive(Debug, Clone)]
pub struct TransferLimits {
    pub timeout: Duration,
    /// Largest file accepted (the simulator counts bytes, it does not keep them).
    pub max_bytes: u64,
}

/// Downloads `url`; `expected_size` is the Download's FileSize (0 = unknown, allowed: GenieACS
/// sends 0 for files it has not cached). Returns the number of bytes received.
pub async fn download(
    connector: &Connector,
    url: &str,
    credentials: (&str, &str),
    expected_size: u32,
    limits: &TransferLimits,
) -> Result<u64, TransferFault> {
    download_over(connector, url, credentials, expected_size, limits, None).await
}

/// [`download`] over a link of `bandwidth` bytes per second (None: as fast as the file server
/// sends): the body is read at that pace, so the file server sees the device's link.
pub async fn download_over(
    connector: &Connector,
    url: &str,
    credentials: (&str, &str),
    expected_size: u32,
    limits: &TransferLimits,
    bandwidth: Option<u64>,
) -> Result<u64, TransferFault> {
    let ep = endpoint(url)?;
    let (status, n) = authorised(
        connector,
        &ep,
        Method::GET,
        credentials,
        (Bytes::new(), bandwidth),
        limits,
    )
    .await?;
    match status.as_u16() {
        200 => {
            if expected_size != 0 && n != u64::from(expected_size) {
                return Err(TransferFault::new(
                    9018,
                    format!("received {n} bytes, FileSize says {expected_size}"),
                ));
            }
            Ok(n)
        }
        401 | 403 => Err(TransferFault::new(9012, "file server refused credentials")),
        404 | 410 => Err(TransferFault::new(9016, format!("HTTP {status}"))),
        _ => Err(TransferFault::new(9010, format!("HTTP {status}"))),
    }
}

/// Uploads `body` to `url` with PUT (TR-069 allows PUT or POST for HTTP uploads; PUT is what
/// ACS file servers expect).
pub async fn upload(
    connector: &Connector,
    url: &str,
    credentials: (&str, &str),
    body: Bytes,
    limits: &TransferLimits,
) -> Result<u64, TransferFault> {
    let ep = endpoint(url)?;
    let len = body.len() as u64;
    let (status, _) = authorised(
        connector,
        &ep,
        Method::PUT,
        credentials,
        (body, None),
        limits,
    )
    .await?;
    match status.as_u16() {
        200..=299 => Ok(len),
        401 | 403 => Err(TransferFault::new(9012, "file server refused credentials")),
        s => Err(TransferFault::new(9011, format!("HTTP {s}"))),
    }
}

/// Sends `method` to `ep` on a connection of its own (reopened if the server closed it),
/// answering the first 401 with `credentials`: the last answer's status and, for a GET, the
/// bytes counted, read at the `bandwidth` given (a PUT sends `body`). A second 401 is returned
/// for the caller to classify, so there are at most two requests.
async fn authorised(
    connector: &Connector,
    ep: &Endpoint,
    method: Method,
    credentials: (&str, &str),
    (body, bandwidth): (Bytes, Option<u64>),
    limits: &TransferLimits,
) -> Result<(StatusCode, u64), TransferFault> {
    let mut conn = connector
        .connect(ep, None)
        .await
        .map_err(|e| unreachable_fault(&e))?;
    let mut authz: Option<String> = None;
    loop {
        if conn.is_closed() {
            conn = connector
                .connect(ep, None)
                .await
                .map_err(|e| unreachable_fault(&e))?;
        }
        let req = request(method.clone(), ep, authz.as_deref(), body.clone());
        let (status, headers, n) = if method == Method::GET {
            conn.send_counting_paced(req, limits.timeout, limits.max_bytes, bandwidth)
                .await
                .map_err(download_fault)?
        } else {
            let r = conn
                .send(req, limits.timeout, 64 * 1024)
                .await
                .map_err(|e| TransferFault::new(9011, e.to_string()))?;
            (r.status, r.headers, 0)
        };
        if status == StatusCode::UNAUTHORIZED && authz.is_none() {
            authz = Some(answer_challenge(
                &headers,
                credentials,
                method.as_str(),
                &ep.path,
            )?);
        } else {
            return Ok((status, n));
        }
    }
}

fn download_fault(e: TransportError) -> TransferFault {
    match e {
        TransportError::BodyTooLarge(_) => TransferFault::new(9010, "file too large"),
        TransportError::Timeout(_) => TransferFault::new(9017, "download timed out"),
        other => TransferFault::new(9017, other.to_string()),
    }
}

fn endpoint(url: &str) -> Result<Endpoint, TransferFault> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(TransferFault::new(
            9013,
            "only HTTP and HTTPS are supported",
        ));
    }
    Endpoint::parse(url).map_err(|_| TransferFault::new(9013, "unusable URL"))
}

fn unreachable_fault(e: &TransportError) -> TransferFault {
    TransferFault::new(9015, e.to_string())
}

fn request(method: Method, ep: &Endpoint, authz: Option<&str>, body: Bytes) -> Request<Body> {
    let mut b = Request::builder()
        .method(method.clone())
        .uri(ep.path.as_str())
        .header(HOST, ep.authority())
        .header("User-Agent", "cpefleet");
    if method == Method::PUT {
        b = b
            .header(CONTENT_TYPE, "application/octet-stream")
            .header(CONTENT_LENGTH, body.len());
    }
    if let Some(a) = authz {
        b = b.header(AUTHORIZATION, a);
    }
    b.body(Body::full(body.clone()))
        .unwrap_or_else(|_| Request::new(Body::full(body)))
}

fn answer_challenge(
    headers: &http::HeaderMap,
    (user, pass): (&str, &str),
    method: &str,
    uri: &str,
) -> Result<String, TransferFault> {
    if user.is_empty() && pass.is_empty() {
        return Err(TransferFault::new(
            9012,
            "file server wants credentials, none given",
        ));
    }
    for v in headers.get_all(http::header::WWW_AUTHENTICATE) {
        match v.to_str().ok().map(Challenge::parse) {
            Some(Ok(Some(Challenge::Digest(d)))) => {
                let cnonce = format!("{:016x}", rand::random::<u64>());
                return Ok(d.authorization(user, pass, method, uri, 1, &cnonce));
            }
            Some(Ok(Some(Challenge::Basic { .. }))) => return Ok(basic::authorization(user, pass)),
            _ => {}
        }
    }
    Err(TransferFault::new(9012, "401 without a usable challenge"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_0_collapses_fine_codes() {
        let f = TransferFault::new(9016, "HTTP 404");
        assert_eq!(f.to_struct(CwmpVersion::V1_0, false).fault_code, 9010);
        assert_eq!(f.to_struct(CwmpVersion::V1_0, true).fault_code, 9011);
        assert_eq!(f.to_struct(CwmpVersion::V1_2, false).fault_code, 9016);
        assert_eq!(
            TransferFault::new(9012, "x")
                .to_struct(CwmpVersion::V1_0, false)
                .fault_code,
            9012
        );
    }

    #[test]
    fn unsupported_schemes_are_9013() {
        assert_eq!(endpoint("ftp://files/fw.bin").unwrap_err().code, 9013);
        assert_eq!(endpoint("tftp://files/fw.bin").unwrap_err().code, 9013);
        assert!(endpoint("http://127.0.0.1:1/fw.bin").is_ok());
    }
}
