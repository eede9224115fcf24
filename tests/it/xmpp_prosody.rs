//! XMPP connection requests through a real Prosody: devices in component mode (one XEP-0114
//! connection for the domain) and in client mode (their own c2s login, SCRAM-SHA-1 on plain
//! TCP) receive Annex K IQs sent by another XMPP client (the ACS side), answer them, and wake
//! through the fleet's real CR router.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cpefleet::cr::xmpp::client::{self, Account, ClientConfig};
use cpefleet::cr::xmpp::component::{run_component, ComponentConfig};
use cpefleet::cr::xmpp::sender::CrSender;
use cpefleet::cr::xmpp::{Limits, XmppCrResult, XmppStats};
use cpefleet::fleet::router::Router;
use cpefleet::fleet::shard::ShardMsg;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::support::prosody::Prosody;
use crate::support::skip::skip;

const WAIT: Duration = Duration::from_secs(10);

fn router() -> (Arc<Router>, mpsc::Receiver<ShardMsg>) {
    let (tx, rx) = mpsc::channel(64);
    let defaults = Arc::new(|i: u32| Some((format!("user{i}"), format!("pass{i}"))));
    let r = Router::new(0, 100, vec![tx], defaults, Duration::ZERO);
    (Arc::new(r), rx)
}

fn client_cfg(p: &Prosody, resource: &str, allowed: &str) -> ClientConfig {
    ClientConfig {
        server: p.c2s,
        domain: p.domain.clone(),
        resource: resource.into(),
        allowed: allowed.into(),
        login_timeout: WAIT,
        min_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(1),
        keep_alive: None,
        seed: 1,
        limits: Limits::default(),
    }
}

async fn acs_sender(p: &Prosody) -> CrSender {
    let account = Account {
        index: 0,
        user: "acs".into(),
        password: "acs-secret".into(),
    };
    let (conn, jid) = client::login(&client_cfg(p, "acs", ""), &account)
        .await
        .expect("acs logs in");
    CrSender::new(conn, &jid)
}

async fn woken(rx: &mut mpsc::Receiver<ShardMsg>) -> u32 {
    match tokio::time::timeout(WAIT, rx.recv()).await {
        Ok(Some(ShardMsg::ConnectionRequest { index, .. })) => index,
        other => panic!("no wake-up: {other:?}"),
    }
}

async fn until(what: &str, f: impl Fn() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn component_mode_serves_every_device_of_the_domain_through_one_connection() {
    let Some(p) = Prosody::start(None, false) else {
        return skip("prosody is not installed (apt-get install prosody)");
    };
    p.register("acs", "acs-secret");
    let (router, mut rx) = router();
    let stats = Arc::new(XmppStats::default());
    let cancel = CancellationToken::new();
    let cfg = ComponentConfig {
        server: p.component,
        domain: p.component_domain.clone(),
        secret: p.secret.clone(),
        prefix: "cpe".into(),
        allowed: String::new(),
        login_timeout: WAIT,
        min_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(1),
        limits: Limits::default(),
    };
    let cfg = Arc::new(cfg);
    tokio::spawn(run_component(
        cfg.clone(),
        router.clone(),
        stats.clone(),
        cancel.clone(),
    ));
    until("the component login", || {
        stats.connected.load(std::sync::atomic::Ordering::Relaxed) == 1
    })
    .await;

    let mut acs = acs_sender(&p).await;
    for i in [42u32, 7, 99] {
        let r = acs
            .connection_request(&cfg.jid(i), &format!("user{i}"), &format!("pass{i}"), WAIT)
            .await;
        assert_eq!(r.unwrap(), "ok", "device {i}\n{}", p.log());
        assert_eq!(woken(&mut rx).await, i);
    }
    let r = acs
        .connection_request(&cfg.jid(42), "user42", "wrong", WAIT)
        .await;
    assert_eq!(r.unwrap(), "auth_failed");
    let nobody = format!("nobody@{}", cfg.domain);
    assert_eq!(
        acs.connection_request(&nobody, "u", "p", WAIT)
            .await
            .unwrap(),
        "unreachable"
    );
    assert_eq!(stats.get(XmppCrResult::Accepted), 3);
    assert_eq!(stats.get(XmppCrResult::NotAuthorized), 1);
    assert_eq!(stats.get(XmppCrResult::NotFound), 1);
    assert!(rx.try_recv().is_err(), "refused requests wake nobody");
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_mode_devices_log_in_with_scram_and_check_allowed_jabber_ids() {
    let Some(p) = Prosody::start(None, false) else {
        return skip("prosody is not installed (apt-get install prosody)");
    };
    p.register("acs", "acs-secret");
    p.register("cpe7", "xmpp-pw7");
    p.register("cpe8", "xmpp-pw8");
    let (router, mut rx) = router();
    let stats = Arc::new(XmppStats::default());
    let cancel = CancellationToken::new();
    let jids: Arc<Mutex<Vec<(u32, String)>>> = Arc::default();
    let seen = jids.clone();
    let on_jid = Arc::new(move |i: u32, link: client::Link<'_>| {
        if let client::Link::Up(j) = link {
            seen.lock().unwrap().push((i, j.to_owned()));
        }
    });
    // Device 7 takes requests from anyone; device 8 only from another ACS.
    for (i, allowed) in [(7u32, ""), (8, "other-acs@localhost")] {
        let cfg = Arc::new(client_cfg(&p, "cwmp", allowed));
        let account = Account {
            index: i,
            user: format!("cpe{i}"),
            password: format!("xmpp-pw{i}"),
        };
        tokio::spawn(client::run_client(
            cfg,
            account,
            router.clone(),
            stats.clone(),
            on_jid.clone(),
            cancel.clone(),
        ));
    }
    until("both devices online", || jids.lock().unwrap().len() == 2).await;
    let jid_of = |i: u32| {
        jids.lock()
            .unwrap()
            .iter()
            .find(|(x, _)| *x == i)
            .unwrap()
            .1
            .clone()
    };
    assert_eq!(jid_of(7), "cpe7@localhost/cwmp");

    let mut acs = acs_sender(&p).await;
    assert_eq!(
        acs.connection_request(&jid_of(7), "user7", "pass7", WAIT)
            .await
            .unwrap(),
        "ok"
    );
    assert_eq!(woken(&mut rx).await, 7);
    assert_eq!(
        acs.connection_request(&jid_of(8), "user8", "pass8", WAIT)
            .await
            .unwrap(),
        "unreachable"
    );
    assert_eq!(stats.get(XmppCrResult::NotAllowed), 1);
    assert_eq!(
        stats.connected.load(std::sync::atomic::Ordering::Relaxed),
        2
    );
    assert!(rx.try_recv().is_err());
    cancel.cancel();
}

/// The whole path: a fleet group in component mode behind Prosody, the embedded ACS setting
/// each device's CR credentials and learning its ConnReqJabberID from the boot Inform, an
/// XMPP client sending the connection requests, and every device opening a
/// `6 CONNECTION REQUEST` session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_in_component_mode_opens_connection_request_sessions() {
    use cpefleet::acs::{self, AcsConfig, Policy};
    use cpefleet::fleet::{self, RunOptions};
    use cpefleet::metrics::stats::Live;
    use cpefleet::scenario::{Overrides, Scenario};

    let Some(p) = Prosody::start(None, false) else {
        return skip("prosody is not installed (apt-get install prosody)");
    };
    p.register("acs", "acs-secret");
    const DEVICES: u32 = 4;
    let dir = tempfile::tempdir().unwrap();
    let template =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml");
    let scenario = format!(
        "name: xmpp\nseed: 3\ntime_scale: 1\nduration: 8s\nfleet:\n  groups:\n    - name: gw\n      template: {}\n      count: {DEVICES}\n      connection_requests:\n        transport: xmpp\n        xmpp: {{ server: '{}', domain: {}, secret: {}, allowed_jids: [acs@localhost] }}\nphases:\n  - boot: {{ over: 1s }}\n  - steady: {{ for: 7s }}\n",
        template.display(),
        p.component,
        p.component_domain,
        p.secret
    );
    let path = dir.path().join("s.yaml");
    let s = Scenario::parse(&scenario, &path, &Overrides::default()).unwrap();
    let cancel = CancellationToken::new();
    let policy = Policy::parse("seed: x\nbootstrap:\n  events: [\"0 BOOTSTRAP\"]\n  connection_request_credentials: true\n").unwrap();
    let acs = acs::start(
        AcsConfig::new(([127, 0, 0, 1], 0).into(), policy),
        cancel.clone(),
    )
    .await
    .unwrap();
    let live = Arc::new(Live::default());
    let opts = RunOptions {
        grace: Duration::from_secs(3),
        live: Some(live.clone()),
        ..RunOptions::default()
    };
    let url = acs.url();
    let run = tokio::spawn(async move { fleet::run(&s, &url, &opts, cancel.child_token()).await });

    let xmpp = live.xmpp.clone();
    until("the fleet's component login", || {
        xmpp.connected.load(std::sync::atomic::Ordering::Relaxed) == 1
    })
    .await;
    let ids: Vec<String> = (0..DEVICES)
        .map(|i| format!("00D09E-HGW181-CPF{i:08}"))
        .collect();
    let learnt = |id: &str| {
        let d = acs.device(id)?;
        let jid = d
            .parameters
            .get("Device.ManagementServer.ConnReqJabberID")?
            .value
            .clone();
        Some((jid, d.cr_username.clone()?, d.cr_password.clone()?)).filter(|_| !d.in_session)
    };
    until("every device provisioned", || {
        ids.iter().all(|id| learnt(id).is_some())
    })
    .await;
    let mut sender = acs_sender(&p).await;
    for id in &ids {
        let (jid, user, pass) = learnt(id).unwrap();
        assert!(
            jid.ends_with(&format!("@{}/cwmp", p.component_domain)),
            "{jid}"
        );
        assert_eq!(
            sender
                .connection_request(&jid, &user, "wrong", WAIT)
                .await
                .unwrap(),
            "auth_failed"
        );
        assert_eq!(
            sender
                .connection_request(&jid, &user, &pass, WAIT)
                .await
                .unwrap(),
            "ok",
            "{id}"
        );
    }
    let result = run.await.unwrap().unwrap();
    assert_eq!(xmpp.get(XmppCrResult::NotAuthorized), u64::from(DEVICES));
    assert_eq!(xmpp.get(XmppCrResult::Accepted), u64::from(DEVICES));
    let crs = result
        .stats
        .events
        .get("6 CONNECTION REQUEST")
        .copied()
        .unwrap_or(0);
    assert_eq!(crs, u64::from(DEVICES), "{:?}", result.stats.events);
    assert_eq!(result.stats.sessions.failed, 0, "{:?}", result.stats.errors);
}

/// Client mode in a fleet: each device logs in with its own account, and its data model says
/// so (TR-181 XMPP.Connection.1, TR-069 Annex K's ManagementServer parameters). The embedded ACS
/// reads them in every session. A device whose password the server refuses shows
/// `Error_AuthenticationFailure` and is counted; the others are `Enabled` with the JID they
/// bound, which reached the ACS in an Inform (as a value change, or in the boot Inform when the
/// login came first); keep-alives go out at KeepAliveInterval.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_mode_devices_show_their_connection_in_the_data_model() {
    use cpefleet::acs::{self, AcsConfig, Policy};
    use cpefleet::fleet::{self, RunOptions};
    use cpefleet::metrics::stats::Live;
    use cpefleet::scenario::{Overrides, Scenario};
    use std::sync::atomic::Ordering::Relaxed;

    let Some(p) = Prosody::start(None, false) else {
        return skip("prosody is not installed (apt-get install prosody)");
    };
    p.register("cpe0", "xmpp-0");
    p.register("cpe1", "xmpp-1");
    p.register("cpe2", "not-what-the-device-has");
    let template =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml");
    let scenario = format!(
        "name: xmpp\nseed: 3\ntime_scale: 1\nduration: 6s\nfleet:\n  groups:\n    - name: gw\n      template: {}\n      count: 3\n      periodic_interval: 2s\n      connection_requests:\n        transport: xmpp\n        xmpp: {{ mode: client, server: '{}', domain: {}, password: 'xmpp-{{index}}', keep_alive: 1s, retry_initial: 1s, retry_max: 2s, allowed_jids: [acs@localhost] }}\nphases:\n  - boot: {{ over: 1s }}\n  - steady: {{ for: 5s }}\n",
        template.display(),
        p.c2s,
        p.domain,
    );
    let s = Scenario::parse(&scenario, &template, &Overrides::default()).unwrap();
    let policy = Policy::parse(
        "seed: x\nbootstrap:\n  discover: false\ntasks:\n  - name: xmpp\n    repeat: true\n    rpcs:\n      - GetParameterValues: [\"{root}XMPP.Connection.1.\", \"{root}ManagementServer.ConnReqXMPPConnection\", \"{root}ManagementServer.ConnReqAllowedJabberIDs\"]\n",
    )
    .unwrap();
    let cancel = CancellationToken::new();
    let acs = acs::start(
        AcsConfig::new(([127, 0, 0, 1], 0).into(), policy),
        cancel.clone(),
    )
    .await
    .unwrap();
    let live = Arc::new(Live::default());
    let opts = RunOptions {
        grace: Duration::from_secs(3),
        live: Some(live.clone()),
        ..RunOptions::default()
    };
    let url = acs.url();
    let result = fleet::run(&s, &url, &opts, cancel.child_token())
        .await
        .unwrap();
    let param = |i: u32, name: &str| {
        let id = format!("00D09E-HGW181-CPF{i:08}");
        acs.device(&id)
            .and_then(|d| d.parameters.get(&format!("Device.{name}")).cloned())
            .map(|v| v.value)
            .unwrap_or_default()
    };
    for i in 0..2 {
        let jid = format!("cpe{i}@localhost/cwmp");
        assert_eq!(
            param(i, "XMPP.Connection.1.Status"),
            "Enabled",
            "device {i}"
        );
        assert_eq!(param(i, "XMPP.Connection.1.JabberID"), jid);
        assert_eq!(param(i, "ManagementServer.ConnReqJabberID"), jid);
    }
    assert_eq!(param(0, "XMPP.Connection.1.Username"), "cpe0");
    assert_eq!(param(0, "XMPP.Connection.1.Domain"), "localhost");
    assert_eq!(param(0, "XMPP.Connection.1.KeepAliveInterval"), "1");
    assert_eq!(
        param(0, "XMPP.Connection.1.ServerRetryInitialInterval"),
        "1"
    );
    assert_eq!(
        param(0, "XMPP.Connection.1.Server.1.Port"),
        p.c2s.port().to_string()
    );
    assert_eq!(
        param(0, "ManagementServer.ConnReqXMPPConnection"),
        "Device.XMPP.Connection.1"
    );
    assert_eq!(
        param(0, "ManagementServer.ConnReqAllowedJabberIDs"),
        "acs@localhost"
    );
    assert_eq!(param(0, "XMPP.Connection.1.Password"), "", "hidden");
    assert_eq!(
        param(2, "XMPP.Connection.1.Status"),
        "Error_AuthenticationFailure"
    );
    assert_eq!(param(2, "ManagementServer.ConnReqJabberID"), "");
    let x = &live.xmpp;
    assert_eq!(x.logins.load(Relaxed), 2, "{}", p.log());
    assert!(x.auth_failures.load(Relaxed) >= 2, "retried after 1 s");
    assert!(x.keep_alives.load(Relaxed) >= 2, "keep-alives every second");
    assert_eq!(result.stats.sessions.failed, 0, "{:?}", result.stats.errors);
}
