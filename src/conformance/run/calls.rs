//! Plain HTTP calls to the ACS (CWMP POSTs with Digest, NBI), and the connection-request router.

use super::*;

/// The conformance device's connection-request router: every path is the device, and a
/// request wakes the script; behind a NAT (the flag), no path is (404, as the fleet's).
pub(super) struct WakeScript(
    pub(super) Arc<Notify>,
    pub(super) Arc<std::sync::atomic::AtomicBool>,
);

impl CrRouter for WakeScript {
    fn resolve(&self, _path: &str) -> Option<CrDevice> {
        if self.1.load(std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        Some(CrDevice {
            index: 0,
            username: String::new(),
            password: String::new(),
        })
    }
    fn deliver(&self, _index: u32, _at: Instant) -> CrResult {
        self.0.notify_one();
        CrResult::Accepted
    }
}

/// Per request the runner makes itself (the `http` step, overload sessions).
pub(super) const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer such a request reads: more is an error, never unbounded memory.
pub(super) const MAX_ANSWER: usize = 4 << 20;

/// The crate's HTTP client, plain HTTP only (the runner's own requests go to lab endpoints).
pub(super) fn plain_connector() -> Connector {
    Connector {
        connect_timeout: CALL_TIMEOUT,
        tls: None,
        tls_error: None,
    }
}

/// A CWMP POST on `conn`, answering a Digest challenge once.
pub(super) async fn post(
    conn: &mut Connection,
    ep: &Endpoint,
    body: &[u8],
    cookie: Option<&str>,
    creds: Option<&(String, String)>,
) -> Result<Response, String> {
    let mut authz: Option<String> = None;
    for _ in 0..2 {
        let mut req = Request::post(ep.path.as_str()).header(HOST, ep.authority());
        if !body.is_empty() {
            req = req
                .header(CONTENT_TYPE, "text/xml; charset=\"utf-8\"")
                .header("SOAPAction", "\"\"");
        }
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        if let Some(a) = &authz {
            req = req.header(AUTHORIZATION, a.as_str());
        }
        let req = req
            .body(Body::full(Bytes::copy_from_slice(body)))
            .map_err(|e| e.to_string())?;
        let resp = conn
            .send(req, CALL_TIMEOUT, MAX_ANSWER)
            .await
            .map_err(|e| e.to_string())?;
        if resp.status != StatusCode::UNAUTHORIZED || authz.is_some() {
            return Ok(resp);
        }
        let Some(a) = digest_answer(&resp.headers, creds, "POST", &ep.path) else {
            return Ok(resp);
        };
        authz = Some(a);
    }
    Err("authentication failed".into())
}

/// The `Authorization` answering a 401's Digest challenge with `creds`, if both are there.
pub(super) fn digest_answer(
    headers: &http::HeaderMap,
    creds: Option<&(String, String)>,
    method: &str,
    uri: &str,
) -> Option<String> {
    let (user, pass) = creds?;
    let ch: DigestChallenge = headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| match Challenge::parse(v) {
            Ok(Some(Challenge::Digest(d))) => Some(d),
            _ => None,
        })?;
    Some(ch.authorization(user, pass, method, uri, 1, "0a4f113b"))
}

/// A plain HTTP call (the external trigger step); returns the status and the body as text. A
/// Digest challenge (the embedded ACS protects its NBI with the CPEs' credentials) is answered
/// once with `creds`.
pub(super) async fn http_call(
    method: &str,
    url: &str,
    body: &str,
    creds: Option<&(String, String)>,
) -> Result<(u16, String), String> {
    let ep = Endpoint::parse(url).map_err(|e| e.to_string())?;
    if ep.tls {
        return Err("https is not supported by the http step".into());
    }
    let method = http::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    let mut authz: Option<String> = None;
    loop {
        let mut conn = plain_connector()
            .connect(&ep, None)
            .await
            .map_err(|e| e.to_string())?;
        let mut req = Request::builder()
            .method(method.clone())
            .uri(ep.path.as_str())
            .header(HOST, ep.authority())
            .header(CONNECTION, "close");
        if !body.is_empty() {
            req = req.header(CONTENT_TYPE, "application/json");
        }
        if let Some(a) = &authz {
            req = req.header(AUTHORIZATION, a.as_str());
        }
        let req = req
            .body(Body::full(Bytes::copy_from_slice(body.as_bytes())))
            .map_err(|e| e.to_string())?;
        let resp = conn
            .send(req, CALL_TIMEOUT, MAX_ANSWER)
            .await
            .map_err(|e| e.to_string())?;
        if resp.status == StatusCode::UNAUTHORIZED && authz.is_none() {
            if let Some(a) = digest_answer(&resp.headers, creds, method.as_str(), &ep.path) {
                authz = Some(a);
                continue;
            }
        }
        return Ok((
            resp.status.as_u16(),
            String::from_utf8_lossy(&resp.body).into_owned(),
        ));
    }
}
