//! The shared connection-request listener over a real loopback socket: the GenieACS way
//! (401 Digest challenge, retry on the same connection), bad credentials, unknown paths and a
//! full inbox.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use cpefleet::auth::Challenge;
use cpefleet::cr::{
    self, CrAuth, CrAuthenticator, CrConfig, CrDevice, CrResult, CrRouter, CrStats,
};
use cpefleet::net::body::Body;
use cpefleet::net::client::{Connector, Endpoint};
use http::Request;
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

struct Router {
    devices: HashMap<String, CrDevice>,
    woken: Mutex<Vec<u32>>,
    busy: bool,
    /// The WAN's legs of every request (down, up), and when each delivery happened.
    legs: (Duration, Duration),
    delivered: Mutex<Vec<Instant>>,
}

impl CrRouter for Router {
    fn resolve(&self, path: &str) -> Option<CrDevice> {
        self.devices.get(path).cloned()
    }
    fn deliver(&self, index: u32, _at: Instant) -> CrResult {
        if self.busy {
            return CrResult::Busy;
        }
        self.woken.lock().unwrap().push(index);
        self.delivered.lock().unwrap().push(Instant::now());
        CrResult::Accepted
    }
    fn wan_legs(&self, _index: u32) -> (Duration, Duration) {
        self.legs
    }
}

async fn start(busy: bool) -> (String, Arc<Router>, Arc<CrStats>, CancellationToken) {
    start_over(busy, (Duration::ZERO, Duration::ZERO)).await
}

async fn start_over(
    busy: bool,
    legs: (Duration, Duration),
) -> (String, Arc<Router>, Arc<CrStats>, CancellationToken) {
    let mut devices = HashMap::new();
    devices.insert(
        "/cr/42".to_string(),
        CrDevice {
            index: 42,
            username: "00D09E-HGW181-CPF00000042".into(),
            password: "pw42".into(),
        },
    );
    let router = Arc::new(Router {
        devices,
        woken: Mutex::new(vec![]),
        busy,
        legs,
        delivered: Mutex::new(vec![]),
    });
    let stats = Arc::new(CrStats::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let cancel = CancellationToken::new();
    let cfg = Arc::new(CrConfig {
        auth: CrAuthenticator::new(CrAuth::Digest, "cpefleet", "test-secret"),
        max_connections: 8,
        header_timeout: Duration::from_secs(2),
    });
    tokio::spawn(cr::serve(
        listener,
        router.clone(),
        cfg,
        stats.clone(),
        cancel.clone(),
    ));
    (base, router, stats, cancel)
}

fn get(path: &str, authz: Option<&str>) -> Request<Body> {
    let mut b = Request::get(path).header("Host", "127.0.0.1");
    if let Some(a) = authz {
        b = b.header("Authorization", a);
    }
    b.body(Body::full(Bytes::new())).unwrap()
}

fn connector() -> Connector {
    Connector {
        connect_timeout: Duration::from_secs(2),
        tls: None,
        tls_error: None,
    }
}

#[tokio::test]
async fn digest_challenge_then_retry_on_the_same_connection() {
    let (base, router, stats, cancel) = start(false).await;
    let ep = Endpoint::parse(&format!("{base}/cr/42")).unwrap();
    let mut conn = connector().connect(&ep, None).await.unwrap();
    let t = Duration::from_secs(2);
    let r = conn.send(get("/cr/42", None), t, 1024).await.unwrap();
    assert_eq!(r.status, 401);
    let ch = r.headers["www-authenticate"].to_str().unwrap().to_string();
    let Ok(Some(Challenge::Digest(c))) = Challenge::parse(&ch) else {
        panic!("{ch}")
    };
    assert!(!conn.is_closed(), "401 challenge keeps the connection open");
    let authz = c.authorization(
        "00D09E-HGW181-CPF00000042",
        "pw42",
        "GET",
        "/cr/42",
        1,
        "ab12",
    );
    let r = conn
        .send(get("/cr/42", Some(&authz)), t, 1024)
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(*router.woken.lock().unwrap(), vec![42]);
    assert_eq!(stats.get(CrResult::Challenged), 1);
    assert_eq!(stats.get(CrResult::Accepted), 1);
    cancel.cancel();
}

#[tokio::test]
async fn wrong_password_unknown_path_and_busy() {
    let (base, router, stats, cancel) = start(false).await;
    let ep = Endpoint::parse(&base).unwrap();
    let t = Duration::from_secs(2);
    let mut conn = connector().connect(&ep, None).await.unwrap();
    let r = conn.send(get("/cr/42", None), t, 1024).await.unwrap();
    let ch = r.headers["www-authenticate"].to_str().unwrap().to_string();
    let Ok(Some(Challenge::Digest(c))) = Challenge::parse(&ch) else {
        panic!("{ch}")
    };
    let bad = c.authorization(
        "00D09E-HGW181-CPF00000042",
        "guess",
        "GET",
        "/cr/42",
        1,
        "ab",
    );
    let r = conn.send(get("/cr/42", Some(&bad)), t, 1024).await.unwrap();
    assert_eq!(r.status, 401);
    assert!(r.headers.get("www-authenticate").is_none());
    assert!(
        router.woken.lock().unwrap().is_empty(),
        "never wakes on bad credentials"
    );

    let mut conn = connector().connect(&ep, None).await.unwrap();
    let r = conn.send(get("/cr/nobody", None), t, 1024).await.unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(stats.get(CrResult::AuthFailed), 1);
    assert_eq!(stats.get(CrResult::NotFound), 1);
    cancel.cancel();

    let (base, _router, stats, cancel) = start(true).await;
    let ep = Endpoint::parse(&base).unwrap();
    let mut conn = connector().connect(&ep, None).await.unwrap();
    let r = conn.send(get("/cr/42", None), t, 1024).await.unwrap();
    let ch = r.headers["www-authenticate"].to_str().unwrap().to_string();
    let Ok(Some(Challenge::Digest(c))) = Challenge::parse(&ch) else {
        panic!("{ch}")
    };
    let ok = c.authorization(
        "00D09E-HGW181-CPF00000042",
        "pw42",
        "GET",
        "/cr/42",
        1,
        "ab",
    );
    let r = conn.send(get("/cr/42", Some(&ok)), t, 1024).await.unwrap();
    assert_eq!(r.status, 503);
    assert_eq!(stats.get(CrResult::Busy), 1);
    cancel.cancel();
}

/// A captured Authorization sent again (same nonce, nc, cnonce; within the nonce's life) wakes
/// nothing, and one computed for another device's path is refused at this one.
#[tokio::test]
async fn replayed_or_misdirected_digest_is_refused() {
    let (base, router, stats, cancel) = start(false).await;
    let ep = Endpoint::parse(&base).unwrap();
    let t = Duration::from_secs(2);
    let mut conn = connector().connect(&ep, None).await.unwrap();
    let r = conn.send(get("/cr/42", None), t, 1024).await.unwrap();
    let ch = r.headers["www-authenticate"].to_str().unwrap().to_string();
    let Ok(Some(Challenge::Digest(c))) = Challenge::parse(&ch) else {
        panic!("{ch}")
    };
    let user = "00D09E-HGW181-CPF00000042";
    let misdirected = c.authorization(user, "pw42", "GET", "/cr/other", 1, "ab");
    let r = conn
        .send(get("/cr/42", Some(&misdirected)), t, 1024)
        .await
        .unwrap();
    assert_eq!(r.status, 401, "a uri other than the request path");
    let authz = c.authorization(user, "pw42", "GET", "/cr/42", 1, "ab");
    for attempt in 0..3 {
        let mut conn = connector().connect(&ep, None).await.unwrap();
        let r = conn
            .send(get("/cr/42", Some(&authz)), t, 1024)
            .await
            .unwrap();
        let want = if attempt == 0 { 200 } else { 401 };
        assert_eq!(r.status, want, "attempt {attempt}");
    }
    assert_eq!(*router.woken.lock().unwrap(), vec![42], "woken once only");
    assert_eq!(stats.get(CrResult::Accepted), 1);
    assert_eq!(stats.get(CrResult::AuthFailed), 1);
    cancel.cancel();
}

#[tokio::test(start_paused = true)]
async fn each_exchange_crosses_the_wan_both_ways() {
    // The request reaches the device after the down leg; the answer is back after the up leg.
    let legs = (Duration::from_millis(300), Duration::from_millis(200));
    let (base, router, _stats, cancel) = start_over(false, legs).await;
    let ep = Endpoint::parse(&format!("{base}/cr/42")).unwrap();
    let mut conn = connector().connect(&ep, None).await.unwrap();
    let t = Duration::from_secs(5);
    let t0 = Instant::now();
    let r = conn.send(get("/cr/42", None), t, 1024).await.unwrap();
    assert_eq!(r.status, 401);
    // Loopback costs nothing on the paused clock; timers round up to the millisecond.
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(500) && took <= Duration::from_millis(502),
        "the challenge: {took:?}"
    );
    let ch = r.headers["www-authenticate"].to_str().unwrap().to_string();
    let Ok(Some(Challenge::Digest(c))) = Challenge::parse(&ch) else {
        panic!("{ch}")
    };
    let authz = c.authorization(
        "00D09E-HGW181-CPF00000042",
        "pw42",
        "GET",
        "/cr/42",
        1,
        "ab12",
    );
    let t1 = Instant::now();
    let r = conn
        .send(get("/cr/42", Some(&authz)), t, 1024)
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let took = t1.elapsed();
    assert!(took >= Duration::from_millis(500), "{took:?}");
    let at = router.delivered.lock().unwrap()[0] - t1;
    assert!(
        at >= Duration::from_millis(300) && at < Duration::from_millis(500),
        "delivered after the down leg only: {at:?}"
    );
    cancel.cancel();
}

/// Raw bytes to the listener on a fresh connection: everything it answers until it closes (or
/// `limit` passes: then what came so far, and whether it had closed).
async fn raw(base: &str, bytes: &[u8], limit: Duration) -> (String, bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut got = Vec::new();
    // A reset (the listener closed with bytes of ours unread) is a close too.
    let closed = tokio::time::timeout(limit, s.read_to_end(&mut got))
        .await
        .is_ok();
    (String::from_utf8_lossy(&got).into_owned(), closed)
}

/// What hyper refused for this listener is still refused, and now counted: a head that never
/// ends (slowloris) is cut at header_timeout, an oversize head is 431, garbage and an unknown
/// method are 400, each `bad_request`; nothing is woken.
#[tokio::test]
async fn hostile_heads_are_bounded_and_counted() {
    let (base, router, stats, cancel) = start(false).await;
    // Slowloris: a head begun and never finished is dropped after header_timeout (2 s here).
    let t0 = Instant::now();
    let (got, closed) = raw(
        &base,
        b"GET /cr/42 HTTP/1.1\r\nHost: x\r\n",
        Duration::from_secs(10),
    )
    .await;
    assert!(closed && got.is_empty(), "{got:?}");
    assert!(t0.elapsed() >= Duration::from_secs(2), "{:?}", t0.elapsed());
    // An idle connection (no byte at all) too.
    let (got, closed) = raw(&base, b"", Duration::from_secs(10)).await;
    assert!(closed && got.is_empty(), "{got:?}");

    let mut big = b"GET /cr/42 HTTP/1.1\r\nX-Pad: ".to_vec();
    big.resize(20 * 1024, b'a');
    let (got, closed) = raw(&base, &big, Duration::from_secs(10)).await;
    assert!(closed, "an oversize head closes the connection");
    // The 431 may be lost to the reset that closing with our unread bytes causes.
    assert!(
        got.is_empty() || got.starts_with("HTTP/1.1 431 "),
        "{got:?}"
    );

    let (got, closed) = raw(
        &base,
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
        Duration::from_secs(10),
    )
    .await;
    assert!(
        closed && got.starts_with("HTTP/1.1 400 "),
        "TLS hello: {got:?}"
    );

    // An unknown method is a 400 and the connection stays usable (as with hyper): the next
    // request on it, pipelined, is answered too.
    let (got, _) = raw(
        &base,
        b"DELETE /cr/42 HTTP/1.1\r\nHost: x\r\n\r\nGET /cr/nobody HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    )
    .await;
    assert!(got.starts_with("HTTP/1.1 400 "), "{got:?}");
    assert!(got.contains("HTTP/1.1 404 "), "pipelined: {got:?}");
    assert_eq!(stats.get(CrResult::BadRequest), 3);
    assert_eq!(stats.get(CrResult::NotFound), 1);
    assert!(router.woken.lock().unwrap().is_empty());
    cancel.cancel();
}

/// The raw answers a client reads: one challenge per GET without credentials, `Date` on each,
/// HTTP/1.0 closed after its answer.
#[tokio::test]
async fn raw_answers_are_well_formed() {
    let (base, _router, stats, cancel) = start(false).await;
    let (got, closed) = raw(
        &base,
        b"GET /cr/42 HTTP/1.0\r\n\r\n",
        Duration::from_secs(10),
    )
    .await;
    assert!(closed, "HTTP/1.0 without keep-alive closes");
    assert!(got.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{got:?}");
    assert!(got.contains("\r\nContent-Length: 0\r\n"), "{got:?}");
    assert!(got.contains("\r\nDate: "), "{got:?}");
    assert!(got.ends_with("\r\n\r\n"), "{got:?}");
    assert_eq!(
        got.matches("WWW-Authenticate: Digest realm=\"cpefleet\"")
            .count(),
        1
    );
    assert_eq!(stats.get(CrResult::Challenged), 1);
    cancel.cancel();
}
