//! File transfers a Download or Upload RPC asked for (TR-069 A.3.2.8 / A.4.1.5):
//! a real HTTP(S) GET of the file, or a real PUT of a generated one, with the RPC's
//! Username/Password answered to a 401 (Basic or Digest). The outcome is a TransferComplete
//! FaultStruct: 0 on success, else the spec's code for what went wrong. Runs outside the CWMP
//! session, as on a real CPE.

use std::time::Duration;

use crate::net::body::Body;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::{Method, Request};

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
    let ep = endpoint(url)?;
    let mut conn = connector
        .connect(&ep, None)
        .await
        .map_err(|e| unreachable_fault(&e))?;
    let mut authz: Option<String> = None;
    for attempt in 0..2 {
        let req = request(Method::GET, &ep, authz.as_deref(), Bytes::new());
        if conn.is_closed() {
            conn = connector
                .connect(&ep, None)
                .await
                .map_err(|e| unreachable_fault(&e))?;
        }
        let (status, headers, n) = conn
            .send_counting(req, limits.timeout, limits.max_bytes)
            .await
            .map_err(|e| match e {
                TransportError::BodyTooLarge(_) => TransferFault::new(9010, "file too large"),
                TransportError::Timeout(_) => TransferFault::new(9017, "download timed out"),
                other => TransferFault::new(9017, other.to_string()),
            })?;
        match status.as_u16() {
            200 => {
                if expected_size != 0 && n != u64::from(expected_size) {
                    return Err(TransferFault::new(
                        9018,
                        format!("received {n} bytes, FileSize says {expected_size}"),
                    ));
                }
                return Ok(n);
            }
            401 if attempt == 0 => {
                authz = Some(answer_challenge(&headers, credentials, "GET", &ep.path)?);
            }
            401 | 403 => return Err(TransferFault::new(9012, "file server refused credentials")),
            404 | 410 => return Err(TransferFault::new(9016, format!("HTTP {status}"))),
            _ => return Err(TransferFault::new(9010, format!("HTTP {status}"))),
        }
    }
    Err(TransferFault::new(9012, "file server refused credentials"))
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
    let upload_fault = |e: TransportError| TransferFault::new(9011, e.to_string());
    let mut conn = connector
        .connect(&ep, None)
        .await
        .map_err(|e| unreachable_fault(&e))?;
    let mut authz: Option<String> = None;
    for attempt in 0..2 {
        if conn.is_closed() {
            conn = connector
                .connect(&ep, None)
                .await
                .map_err(|e| unreachable_fault(&e))?;
        }
        let req = request(Method::PUT, &ep, authz.as_deref(), body.clone());
        let resp = conn
            .send(req, limits.timeout, 64 * 1024)
            .await
            .map_err(upload_fault)?;
        match resp.status.as_u16() {
            200..=299 => return Ok(body.len() as u64),
            401 if attempt == 0 => {
                authz = Some(answer_challenge(
                    &resp.headers,
                    credentials,
                    "PUT",
                    &ep.path,
                )?);
            }
            401 | 403 => return Err(TransferFault::new(9012, "file server refused credentials")),
            s => return Err(TransferFault::new(9011, format!("HTTP {s}"))),
        }
    }
    Err(TransferFault::new(9012, "file server refused credentials"))
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
