//! The fleet's XMPP connection requests (TR-069 Annex K): for each group whose scenario says
//! `transport: xmpp`, either one component connection for the group's domain or one client
//! connection per device, all waking devices through the same CR router as the HTTP listener.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::router::Router;
use super::GroupRt;
use crate::cr::xmpp::client::{run_client, Account, ClientConfig, OnLink};
use crate::cr::xmpp::component::{device_jid, run_component, ComponentConfig};
use crate::cr::xmpp::{Limits, XmppStats};
use crate::model::Template;
use crate::scenario::xmpp::{account, XmppMode, XmppPlan};

/// Component-mode device JIDs are `cpe<index>@<domain>`.
pub const PREFIX: &str = "cpe";
const LOGIN_TIMEOUT: Duration = Duration::from_secs(10);
/// A component is one connection for a whole domain: it retries quickly.
const COMPONENT_MIN_BACKOFF: Duration = Duration::from_secs(1);
const COMPONENT_MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The ConnReqJabberID device `index` will have once connected.
pub fn expected_jid(plan: &XmppPlan, index: u32) -> String {
    match &plan.mode {
        XmppMode::Component { .. } => device_jid(PREFIX, index, &plan.domain),
        XmppMode::Client { user, resource, .. } => {
            format!("{}@{}/{resource}", account(user, index), plan.domain)
        }
    }
}

/// A value as a model pattern: literal braces doubled, `{index}` kept as the placeholder.
fn pattern(s: &str) -> String {
    s.split("{index}")
        .map(|p| p.replace('{', "{{").replace('}', "}}"))
        .collect::<Vec<_>>()
        .join("{index}")
}

/// The group's XMPP settings as values of its data model (TR-069 Annex K's ManagementServer
/// parameters, TR-181's XMPP.Connection.1 and its Server.1), each a pattern of the device
/// index: the same for every device of the group, so stored once (see `model/overlay.rs`).
/// Component mode: the connection reads as up with the device's JID from the start; client
/// mode: the connection starts `Connecting`, its JIDs empty until the login binds one.
pub fn group_values(plan: &XmppPlan, root: &str) -> Vec<(String, String)> {
    let ms = format!("{root}ManagementServer.");
    let c = format!("{root}XMPP.Connection.1.");
    let (user, password, resource, jid, status) = match &plan.mode {
        XmppMode::Component { .. } => {
            let jid = pattern(&device_jid(PREFIX, u32::MAX, &plan.domain))
                .replace(&u32::MAX.to_string(), "{index}");
            (
                format!("{PREFIX}{{index}}"),
                String::new(),
                "cwmp".into(),
                jid,
                "Enabled",
            )
        }
        XmppMode::Client {
            user,
            password,
            resource,
        } => (
            pattern(user),
            pattern(password),
            pattern(resource),
            String::new(),
            "Connecting",
        ),
    };
    let t = &plan.timing;
    let (host, port) = plan
        .server
        .map_or((String::new(), 5222), |a| (a.ip().to_string(), a.port()));
    let keep_alive = t.keep_alive.map_or(-1, |d| d.as_secs() as i64);
    [
        (format!("{ms}ConnReqJabberID"), jid.clone()),
        (
            format!("{ms}ConnReqAllowedJabberIDs"),
            pattern(&plan.allowed),
        ),
        (
            format!("{ms}ConnReqXMPPConnection"),
            format!("{root}XMPP.Connection.1"),
        ),
        (format!("{c}Enable"), "true".into()),
        (format!("{c}Username"), user),
        (format!("{c}Password"), password),
        (format!("{c}Domain"), pattern(&plan.domain)),
        (format!("{c}Resource"), resource),
        (format!("{c}JabberID"), jid),
        (format!("{c}Status"), status.into()),
        (format!("{c}KeepAliveInterval"), keep_alive.to_string()),
        (
            format!("{c}ServerRetryInitialInterval"),
            t.retry_initial.as_secs().to_string(),
        ),
        (
            format!("{c}ServerRetryMaxInterval"),
            t.retry_max.as_secs().to_string(),
        ),
        (format!("{c}Server.1.Enable"), "true".into()),
        (format!("{c}Server.1.ServerAddress"), host),
        (format!("{c}Server.1.Port"), port.to_string()),
    ]
    .into_iter()
    .collect()
}

/// The group's template with its XMPP values. A template without XMPP.Connection (TR-098,
/// older TR-181) keeps what it has: only the values whose parameter exists are set.
pub fn group_template(t: &Template, plan: &XmppPlan) -> Result<Template, String> {
    let mut out = t.clone();
    for v in group_values(plan, t.root()) {
        match out.with_values(std::slice::from_ref(&v)) {
            Ok(next) => out = next,
            Err(e) if e.contains("no such") => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// What every group's connections share.
struct Shared<'a> {
    seed: u64,
    router: &'a Arc<Router>,
    stats: &'a Arc<XmppStats>,
    cancel: &'a CancellationToken,
}

/// Starts every group's XMPP connections for this process's devices `first..first+count`;
/// returns `stats` when a group uses XMPP (the report's `xmpp` counts).
pub fn spawn(
    groups: &[GroupRt],
    range: (u32, u32),
    seed: u64,
    router: &Arc<Router>,
    stats: &Arc<XmppStats>,
    cancel: &CancellationToken,
) -> Option<Arc<XmppStats>> {
    let sh = Shared {
        seed,
        router,
        stats,
        cancel,
    };
    for g in groups {
        let Some(plan) = &g.xmpp else { continue };
        let Some(server) = plan.server else {
            tracing::warn!(group = %g.name, "xmpp server: embedded, but no embedded ACS: no XMPP connection");
            continue;
        };
        match &plan.mode {
            XmppMode::Component { secret } => {
                let cfg = Arc::new(ComponentConfig {
                    server,
                    domain: plan.domain.clone(),
                    secret: secret.clone(),
                    prefix: PREFIX.into(),
                    allowed: plan.allowed.clone(),
                    login_timeout: LOGIN_TIMEOUT,
                    min_backoff: COMPONENT_MIN_BACKOFF,
                    max_backoff: COMPONENT_MAX_BACKOFF,
                    limits: Limits::default(),
                });
                tokio::spawn(run_component(
                    cfg,
                    router.clone(),
                    stats.clone(),
                    cancel.child_token(),
                ));
            }
            XmppMode::Client { .. } => spawn_clients(g, plan, server, range, &sh),
        }
    }
    groups
        .iter()
        .any(|g| g.xmpp.is_some())
        .then(|| stats.clone())
}

/// One client connection per device of group `g` in this process's `(first, count)`.
fn spawn_clients(
    g: &GroupRt,
    plan: &XmppPlan,
    server: std::net::SocketAddr,
    (first, count): (u32, u32),
    sh: &Shared<'_>,
) {
    let XmppMode::Client {
        user,
        password,
        resource,
    } = &plan.mode
    else {
        return;
    };
    let cfg = Arc::new(ClientConfig {
        server,
        domain: plan.domain.clone(),
        resource: resource.clone(),
        allowed: plan.allowed.clone(),
        login_timeout: LOGIN_TIMEOUT,
        min_backoff: plan.timing.retry_initial,
        max_backoff: plan.timing.retry_max,
        keep_alive: plan.timing.keep_alive,
        seed: sh.seed,
        limits: Limits::default(),
    });
    let r = sh.router.clone();
    let on_link: Arc<OnLink> = Arc::new(move |index, link| r.xmpp_link(index, link));
    let lo = g.first.max(first);
    let hi = (g.first + g.count).min(first + count);
    let rate = plan.timing.login_rate;
    for index in lo..hi {
        let acc = Account {
            index,
            user: account(user, index),
            password: account(password, index),
        };
        // Logins paced at the group's login_rate, in index order.
        let delay = Duration::from_secs_f64(f64::from(index - lo) / rate);
        let task = run_client(
            cfg.clone(),
            acc,
            sh.router.clone(),
            sh.stats.clone(),
            on_link.clone(),
            sh.cancel.child_token(),
        );
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            task.await;
        });
    }
}
