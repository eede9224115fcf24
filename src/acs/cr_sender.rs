//! Connection requests from the embedded ACS to devices (TR-069 §3.2.2): an HTTP GET to the
//! ConnectionRequestURL learnt from the Inform, the CPE's 401 Digest challenge answered on the
//! same connection with the credentials the ACS set during provisioning (or the policy's
//! fallback), like GenieACS. Paced at the policy's rate, bounded in flight; each result is
//! counted in the store.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use crate::net::body::Body;
use bytes::Bytes;
use http::{header, Method, Request, StatusCode};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::auth::Challenge;
use crate::net::client::{Connection, Connector, Endpoint, TransportError};

use super::policy::{in_share, CrSpec};
use super::store::Store;

/// Devices looked at per tick at most, so a huge fleet with nothing due costs little.
const SCAN_PER_TICK: usize = 4096;
const TICK: Duration = Duration::from_millis(20);
/// A CPE's answer to a connection request is empty; anything bigger is cut off.
const MAX_ANSWER: usize = 64 * 1024;

fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Sends connection requests until `cancel`.
pub(crate) async fn run(
    spec: CrSpec,
    seed: String,
    store: Arc<Store>,
    started: Instant,
    cancel: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(spec.max_in_flight));
    let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
    let timeout = Duration::from_secs_f64(spec.timeout);
    let burst = spec.rate.ceil().max(1.0) as u64;
    let mut sent: u64 = 0;
    let mut cursor: usize = 0;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(TICK) => {}
        }
        let elapsed = started.elapsed().as_secs_f64();
        if elapsed < spec.start_after {
            continue;
        }
        let allowance = ((elapsed - spec.start_after) * spec.rate).floor() as u64 + 1;
        // Time with nothing to send does not turn into a burst later.
        sent = sent.max(allowance.saturating_sub(burst));
        let mut budget = allowance.saturating_sub(sent);
        let mut scanned = 0;
        let now_ms = unix_ms();
        'scan: while budget > 0 && scanned < SCAN_PER_TICK {
            let total = store.device_count();
            if cursor >= total {
                if spec.interval > 0.0 && total > 0 && scanned < total {
                    cursor = 0;
                } else {
                    break;
                }
            }
            let ids = store.device_ids(cursor, 256);
            if ids.is_empty() {
                break;
            }
            for id in ids {
                cursor += 1;
                scanned += 1;
                if !in_share(&seed, "connection_requests", &id, spec.share)
                    || in_flight.lock().is_ok_and(|s| s.contains(&id))
                {
                    continue;
                }
                let target = store.with_device(&id, |d| {
                    let d = d?;
                    let url = d.connection_request_url.clone()?;
                    let due = if spec.interval <= 0.0 {
                        d.connection_requests.sent == 0
                    } else {
                        d.connection_requests
                            .last_ms
                            .is_none_or(|l| (now_ms - l) as f64 >= spec.interval * 1000.0)
                    };
                    let user = d.cr_username.clone().or_else(|| spec.username.clone());
                    let pass = d.cr_password.clone().or_else(|| spec.password.clone());
                    due.then_some((url, user.zip(pass)))
                });
                let Some((url, creds)) = target else {
                    continue;
                };
                let Ok(permit) = permits.clone().try_acquire_owned() else {
                    // Full: look at this device again next tick.
                    cursor -= 1;
                    break 'scan;
                };
                if let Ok(mut s) = in_flight.lock() {
                    s.insert(id.clone());
                }
                sent += 1;
                budget -= 1;
                let store = store.clone();
                let in_flight = in_flight.clone();
                tokio::spawn(async move {
                    let creds_ref = creds.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
                    let result = connection_request(&url, creds_ref, timeout).await;
                    store.cr_result(&id, result, unix_ms());
                    if let Ok(mut s) = in_flight.lock() {
                        s.remove(&id);
                    }
                    drop(permit);
                });
                if budget == 0 {
                    break 'scan;
                }
            }
        }
    }
}

fn get(ep: &Endpoint, authorization: Option<&str>) -> Option<Request<Body>> {
    let mut b = Request::builder()
        .method(Method::GET)
        .uri(ep.path.as_str())
        .header(header::HOST, ep.authority())
        .header(header::CONNECTION, "keep-alive");
    if let Some(a) = authorization {
        b = b.header(header::AUTHORIZATION, a);
    }
    b.body(Body::full(Bytes::new())).ok()
}

fn classify(e: &TransportError) -> &'static str {
    match e {
        TransportError::ConnectTimeout | TransportError::Timeout(_) => "timeout",
        TransportError::Connect(_) | TransportError::Resolve(_) | TransportError::Url(_) => {
            "unreachable"
        }
        _ => "http_error",
    }
}

fn status_result(s: StatusCode) -> &'static str {
    match s.as_u16() {
        200 | 204 => "ok",
        401 => "auth_failed",
        503 => "busy",
        _ => "http_error",
    }
}

/// One connection request; the result is one of the store's CR labels.
pub async fn connection_request(
    url: &str,
    creds: Option<(&str, &str)>,
    timeout: Duration,
) -> &'static str {
    let Ok(ep) = Endpoint::parse(url) else {
        return "unreachable";
    };
    if ep.tls {
        // TR-069: the ConnectionRequestURL is plain HTTP.
        return "unreachable";
    }
    let connector = Connector {
        connect_timeout: timeout,
        tls: None,
        tls_error: None,
    };
    let mut conn = match connector.connect(&ep, None).await {
        Ok(c) => c,
        Err(e) => return classify(&e),
    };
    let Some(req) = get(&ep, None) else {
        return "unreachable";
    };
    let resp = match conn.send(req, timeout, MAX_ANSWER).await {
        Ok(r) => r,
        Err(e) => return classify(&e),
    };
    if resp.status != StatusCode::UNAUTHORIZED {
        return status_result(resp.status);
    }
    let Some((user, pass)) = creds else {
        return "no_credentials";
    };
    let challenge = resp
        .headers
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| match Challenge::parse(v) {
            Ok(Some(Challenge::Digest(d))) => Some(d),
            _ => None,
        });
    let Some(challenge) = challenge else {
        // Basic only (or garbage): GenieACS refuses Basic for connection requests too.
        return "auth_failed";
    };
    let cnonce = format!("{:016x}", rand::random::<u64>());
    let auth = challenge.authorization(user, pass, "GET", &ep.path, 1, &cnonce);
    let Some(req) = get(&ep, Some(&auth)) else {
        return "unreachable";
    };
    if conn.is_closed() {
        conn = match reconnect(&connector, &ep).await {
            Ok(c) => c,
            Err(e) => return classify(&e),
        };
    }
    match conn.send(req, timeout, MAX_ANSWER).await {
        Ok(r) => status_result(r.status),
        Err(e) => classify(&e),
    }
}

async fn reconnect(connector: &Connector, ep: &Endpoint) -> Result<Connection, TransportError> {
    connector.connect(ep, None).await
}
