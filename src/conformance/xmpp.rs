//! The scripted device's XMPP side (TR-069 Annex K), for cases that need `xmpp`: the device
//! joins the XMPP server the ACS sends through as an external component (XEP-0114) serving its
//! own JID `cpe<index>@<domain>/cwmp`, reports that JID as its ConnReqJabberID, and checks each
//! connection-request IQ as a CPE must — the credentials against its current
//! ConnectionRequestUsername/Password — before the script is woken.
//!
//! Why a component and not a client login: the runner then needs no account per device on
//! the ACS's XMPP server, only the component's domain and secret (Prosody: a `Component`
//! line), and against the embedded ACS the component port is the ACS's own.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::cr::xmpp::component::{device_jid, run_component, ComponentConfig};
use crate::cr::xmpp::{Limits, XmppCrResult, XmppStats};
use crate::cr::{CrDevice, CrResult, CrRouter};

/// How the runner's devices join the ACS's XMPP server: as a component of `domain`.
#[derive(Debug, Clone)]
pub struct XmppJoin {
    pub server: SocketAddr,
    pub domain: String,
    pub secret: String,
}

const PREFIX: &str = "cpe";

/// One case's device on XMPP; the connection ends when this is dropped.
pub(super) struct XmppDevice {
    pub jid: String,
    /// Woken by each IQ the device accepted.
    pub wake: Arc<Notify>,
    stats: Arc<XmppStats>,
    creds: Arc<Mutex<(String, String)>>,
    stop: CancellationToken,
    /// Woken by an HTTP connection request to the device's URL (the wrong transport here).
    http: Arc<Notify>,
}

/// The component's router: any index of the domain is the case's device.
struct ScriptRouter {
    wake: Arc<Notify>,
    creds: Arc<Mutex<(String, String)>>,
}

impl CrRouter for ScriptRouter {
    fn resolve(&self, _path: &str) -> Option<CrDevice> {
        None
    }
    fn device(&self, index: u32) -> Option<CrDevice> {
        let (username, password) = self.creds.lock().ok()?.clone();
        Some(CrDevice {
            index,
            username,
            password,
        })
    }
    fn deliver(&self, _index: u32, _at: Instant) -> CrResult {
        self.wake.notify_one();
        CrResult::Accepted
    }
}

impl XmppDevice {
    /// Connects device `index`'s component; waits (at most 10 s) for the server's handshake.
    pub(super) async fn start(
        join: &XmppJoin,
        index: u32,
        http: Arc<Notify>,
    ) -> Result<XmppDevice, String> {
        let wake = Arc::new(Notify::new());
        let cfg = Arc::new(ComponentConfig {
            server: join.server,
            domain: join.domain.clone(),
            secret: join.secret.clone(),
            prefix: PREFIX.into(),
            allowed: String::new(),
            login_timeout: Duration::from_secs(10),
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
            limits: Limits::default(),
        });
        let stats = Arc::new(XmppStats::default());
        let creds: Arc<Mutex<(String, String)>> = Arc::default();
        let router = Arc::new(ScriptRouter {
            wake: wake.clone(),
            creds: creds.clone(),
        });
        let stop = CancellationToken::new();
        tokio::spawn(run_component(
            cfg.clone(),
            router,
            stats.clone(),
            stop.clone(),
        ));
        let dev = XmppDevice {
            jid: device_jid(PREFIX, index, &join.domain),
            wake,
            stats,
            creds,
            stop,
            http,
        };
        // Bounded: 100 × 100 ms.
        for _ in 0..100 {
            if dev
                .stats
                .connected
                .load(std::sync::atomic::Ordering::Relaxed)
                > 0
            {
                return Ok(dev);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!(
            "XMPP: no component session for {} at {} (domain and secret as the server has them?)",
            join.domain, join.server
        ))
    }

    /// The device's ConnectionRequestUsername/Password now (what an IQ must carry).
    pub(super) fn set_credentials(&self, username: String, password: String) {
        if let Ok(mut c) = self.creds.lock() {
            *c = (username, password);
        }
    }

    /// Why the ACS's XMPP connection request woke nothing: it came over HTTP instead, or its
    /// IQs were refused (TR-069 Annex K).
    pub(super) async fn refusals(&self) -> Option<String> {
        let http = tokio::time::timeout(Duration::ZERO, self.http.notified()).await;
        if http.is_ok() {
            return Some(
                "request came over HTTP to the ConnectionRequestURL, though the device reported a ConnReqJabberID".into(),
            );
        }
        let n = |r| self.stats.get(r);
        let why = [
            (
                XmppCrResult::NotAuthorized,
                "carried another username/password than the device's ConnectionRequestUsername/Password (answered not-authorized)",
            ),
            (
                XmppCrResult::Malformed,
                "were not <connectionRequest xmlns=\"urn:broadband-forum-org:cwmp:xmppConnReq-1-0\"> with username and password",
            ),
        ];
        let parts: Vec<String> = why
            .iter()
            .filter(|(r, _)| n(*r) > 0)
            .map(|(r, w)| format!("{} IQ(s) {w}", n(*r)))
            .collect();
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

impl Drop for XmppDevice {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
