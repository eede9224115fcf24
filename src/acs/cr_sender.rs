//! Connection requests from the embedded ACS to devices (TR-069 §3.2.2): an HTTP GET to the
//! ConnectionRequestURL learnt from the Inform, the CPE's 401 Digest challenge answered on the
//! same connection with the credentials the ACS set during provisioning (or the policy's
//! fallback), like GenieACS; or a UDP datagram, or an XMPP IQ, as `cr_target.rs` chooses.
//! Paced at the policy's rate, bounded in flight; each result is counted in the store.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use crate::net::body::Body;
use bytes::Bytes;
use http::{header, Method, Request, StatusCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::auth::Challenge;
use crate::net::client::{Connection, Connector, Endpoint, TransportError};

use super::cr_target::{choose, Senders, Target};
use super::policy::{in_share, CrSpec};
use super::store::Store;
use super::xmpp::XmppGateway;
use tokio::net::UdpSocket;

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
    xmpp: Option<XmppGateway>,
    cancel: CancellationToken,
) {
    let mut sender = Sender::new(spec, seed, store, xmpp).await;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(TICK) => {}
        }
        if let Some(budget) = sender.pace.budget(started.elapsed().as_secs_f64()) {
            sender.scan(budget, unix_ms());
        }
    }
}

/// The policy's rate: how many requests may go out by now.
struct Pace {
    rate: f64,
    start_after: f64,
    /// At most this many at once after a quiet spell.
    burst: u64,
    sent: u64,
}

impl Pace {
    /// The requests that may go out now, `elapsed` seconds after the ACS started (`None`
    /// before `start_after`).
    fn budget(&mut self, elapsed: f64) -> Option<u64> {
        if elapsed < self.start_after {
            return None;
        }
        let allowance = ((elapsed - self.start_after) * self.rate).floor() as u64 + 1;
        // Time with nothing to send does not turn into a burst later.
        self.sent = self.sent.max(allowance.saturating_sub(self.burst));
        Some(allowance.saturating_sub(self.sent))
    }
}

/// The sender's state between ticks: where its pass over the devices stands and what is in
/// flight.
struct Sender {
    spec: CrSpec,
    seed: String,
    store: Arc<Store>,
    pace: Pace,
    permits: Arc<Semaphore>,
    in_flight: Arc<Mutex<HashSet<String>>>,
    timeout: Duration,
    cursor: usize,
    /// A device due its one request (interval 0) was in a session when the scan passed it: the
    /// scan comes round again for it instead of leaving it without one.
    revisit: bool,
    /// What sends: one UDP socket for every UDP connection request (GenieACS binds one per
    /// request), the XMPP gateway.
    senders: Senders,
}

impl Sender {
    async fn new(
        spec: CrSpec,
        seed: String,
        store: Arc<Store>,
        xmpp: Option<XmppGateway>,
    ) -> Sender {
        Sender {
            pace: Pace {
                rate: spec.rate,
                start_after: spec.start_after,
                burst: spec.rate.ceil().max(1.0) as u64,
                sent: 0,
            },
            permits: Arc::new(Semaphore::new(spec.max_in_flight)),
            in_flight: Arc::default(),
            timeout: Duration::from_secs_f64(spec.timeout),
            cursor: 0,
            revisit: false,
            senders: Senders {
                udp: UdpSocket::bind("0.0.0.0:0").await.ok().map(Arc::new),
                xmpp,
            },
            spec,
            seed,
            store,
        }
    }

    /// One tick's pass over the devices from the cursor: up to `budget` requests sent, at most
    /// [`SCAN_PER_TICK`] devices looked at.
    fn scan(&mut self, mut budget: u64, now_ms: i64) {
        let mut scanned = 0;
        while budget > 0 && scanned < SCAN_PER_TICK {
            let total = self.store.device_count();
            if self.cursor >= total {
                if total > 0
                    && scanned < total
                    && (self.spec.interval > 0.0 || std::mem::take(&mut self.revisit))
                {
                    self.cursor = 0;
                } else {
                    return;
                }
            }
            let ids = self.store.device_ids(self.cursor, 256);
            if ids.is_empty() {
                return;
            }
            for id in ids {
                self.cursor += 1;
                scanned += 1;
                if !in_share(&self.seed, "connection_requests", &id, self.spec.share)
                    || self.in_flight.lock().is_ok_and(|s| s.contains(&id))
                {
                    continue;
                }
                let Some((target, creds)) = self.due(&id, now_ms) else {
                    continue;
                };
                let Ok(permit) = self.permits.clone().try_acquire_owned() else {
                    // Full: look at this device again next tick.
                    self.cursor -= 1;
                    return;
                };
                self.send(id, target, creds, permit);
                budget -= 1;
                if budget == 0 {
                    return;
                }
            }
        }
    }

    /// Where and with which credentials device `id` gets a request now, if it is due one and
    /// not in a session.
    fn due(&mut self, id: &str, now_ms: i64) -> Option<(Target, Option<(String, String)>)> {
        let (spec, revisit, xmpp) = (&self.spec, &mut self.revisit, &self.senders.xmpp);
        self.store.with_device(id, |d| {
            let d = d?;
            if d.in_session {
                // None during the device's session (TR-069 §3.2.2); one due then goes out
                // once the session ends.
                *revisit |= spec.interval <= 0.0 && d.connection_requests.sent == 0;
                return None;
            }
            let target = choose(spec.transport, d, xmpp.as_ref())?;
            let due = if spec.interval <= 0.0 {
                d.connection_requests.sent == 0
            } else {
                d.connection_requests
                    .last_ms
                    .is_none_or(|l| (now_ms - l) as f64 >= spec.interval * 1000.0)
            };
            let user = d.cr_username.clone().or_else(|| spec.username.clone());
            let pass = d.cr_password.clone().or_else(|| spec.password.clone());
            due.then_some((target, user.zip(pass)))
        })
    }

    /// Sends one request in its own task, which records the result and frees `permit`.
    fn send(
        &mut self,
        id: String,
        target: Target,
        creds: Option<(String, String)>,
        permit: OwnedSemaphorePermit,
    ) {
        if let Ok(mut s) = self.in_flight.lock() {
            s.insert(id.clone());
        }
        self.pace.sent += 1;
        let store = self.store.clone();
        let in_flight = self.in_flight.clone();
        let senders = self.senders.clone();
        let timeout = self.timeout;
        tokio::spawn(async move {
            let creds_ref = creds.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
            let result = senders.send(&target, creds_ref, timeout).await;
            store.cr_result(&id, target.transport(), result, unix_ms());
            if let Ok(mut s) = in_flight.lock() {
                s.remove(&id);
            }
            drop(permit);
        });
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
