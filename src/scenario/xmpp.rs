//! A group's XMPP connection requests (`connection_requests.xmpp:` with `transport: xmpp`),
//! validated on its own: TR-069 Annex K in client or component mode.
//!
//! ```yaml
//! connection_requests:
//!   transport: xmpp
//!   xmpp:
//!     mode: component            # or client: one XMPP login per device
//!     server: 127.0.0.1:5347     # the XMPP server's component (or c2s) port; `embedded`
//!                                # (the default): the embedded ACS accepts the component
//!     domain: cpe.example.com    # the component's domain (client: the accounts' domain)
//!     secret: sesame             # component only
//!     user: "cpe{index}"         # client only: account name; {index} is the device index
//!     password: "pw-{index}"     # client only
//!     resource: cwmp             # client only (default cwmp)
//!     allowed_jids: [acs@example.com]   # ConnReqAllowedJabberIDs (empty: anyone)
//!     # client only, the device's XMPP.Connection.1 (TR-181), in real time:
//!     keep_alive: 60s            # KeepAliveInterval: whitespace pings (default: none)
//!     retry_initial: 60s         # ServerRetryInitialInterval (doubling, TR-181's default
//!     retry_max: 30720s          # multiplier) up to ServerRetryMaxInterval
//!     login_rate: 500/s          # connections opened per second at start (not a TR-181
//!                                # parameter: spares the XMPP server a login storm)
//! ```

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use super::file::GroupSpec;
use super::validate::Validator;
use super::ScenarioError;
use crate::units::{Dur, Rate};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XmppSpec {
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub server: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub allowed_jids: Vec<String>,
    #[serde(default)]
    pub keep_alive: Option<Dur>,
    #[serde(default)]
    pub retry_initial: Option<Dur>,
    #[serde(default)]
    pub retry_max: Option<Dur>,
    #[serde(default)]
    pub login_rate: Option<Rate>,
}

/// How a group's devices are reached over XMPP, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmppPlan {
    /// `None` (`server: embedded`, component mode only): the embedded ACS accepts the
    /// component connection itself, and the run fills in its address.
    pub server: Option<SocketAddr>,
    pub domain: String,
    /// ConnReqAllowedJabberIDs as the data model holds it: comma-separated.
    pub allowed: String,
    pub mode: XmppMode,
    pub timing: XmppTiming,
}

/// A client connection's timing, as its XMPP.Connection parameters hold it (TR-181).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct XmppTiming {
    /// KeepAliveInterval; `None` is TR-181's -1 (no keep-alives).
    pub keep_alive: Option<Duration>,
    /// ServerRetryInitialInterval and ServerRetryMaxInterval.
    pub retry_initial: Duration,
    pub retry_max: Duration,
    /// Logins started per second (a group's devices do not all connect in the same instant).
    pub login_rate: f64,
}

impl Default for XmppTiming {
    /// TR-181's defaults (60 s, 30720 s, no keep-alive); 500 logins/s.
    fn default() -> Self {
        XmppTiming {
            keep_alive: None,
            retry_initial: Duration::from_secs(60),
            retry_max: Duration::from_secs(30720),
            login_rate: 500.0,
        }
    }
}

// XmppPlan holds an f64 rate, so Eq is by hand: no NaN passes validation.
impl Eq for XmppTiming {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmppMode {
    /// One XEP-0114 connection for every device of the domain; JIDs `cpe<index>@<domain>`.
    Component { secret: String },
    /// One client login per device.
    Client {
        user: String,
        password: String,
        resource: String,
    },
}

/// Expands `{index}` in an account pattern.
pub fn account(pattern: &str, index: u32) -> String {
    pattern.replace("{index}", &index.to_string())
}

impl Validator<'_> {
    /// The group's XMPP plan, `None` for HTTP.
    pub(super) fn group_xmpp(&self, g: &GroupSpec) -> Result<Option<XmppPlan>, ScenarioError> {
        let Some(cr) = &g.connection_requests else {
            return Ok(None);
        };
        // The transport itself is validated in `cr_transport`; here only what XMPP adds.
        let xmpp = cr
            .transport
            .as_deref()
            .and_then(crate::cr::CrTransport::parse)
            == Some(crate::cr::CrTransport::Xmpp);
        if !xmpp {
            return match cr.xmpp {
                None => Ok(None),
                Some(_) => Err(self.err(
                    "xmpp",
                    format!("group {}: xmpp settings need transport: xmpp", g.name),
                )),
            };
        }
        let x = cr.xmpp.as_ref().ok_or_else(|| {
            self.err(
                "transport",
                format!(
                    "group {}: transport xmpp needs an xmpp: section (server, domain, mode)",
                    g.name
                ),
            )
        })?;
        let need = |v: &Option<String>, key: &str| {
            v.clone().filter(|s| !s.is_empty()).ok_or_else(|| {
                self.err("xmpp:", format!("group {}: xmpp.{key} is required", g.name))
            })
        };
        let server = match x.server.as_deref().unwrap_or("embedded") {
            "embedded" => None,
            a => Some(a.parse::<SocketAddr>().map_err(|_| {
                self.err(
                    a,
                    format!("xmpp.server {a:?}: use address:port or embedded"),
                )
            })?),
        };
        let domain = need(&x.domain, "domain")?;
        for jid in &x.allowed_jids {
            if crate::cr::xmpp::Jid::parse(jid).is_none() || jid.contains(',') {
                return Err(self.err(jid, format!("xmpp.allowed_jids: {jid:?} is not a JID")));
            }
        }
        let mode = match x.mode.as_deref().unwrap_or("component") {
            "component" => XmppMode::Component {
                secret: need(&x.secret, "secret")?,
            },
            "client" if server.is_none() => {
                return Err(self.err(
                    "client",
                    "xmpp.mode client needs an XMPP server (server: address:port); the embedded ACS serves component mode only",
                ))
            }
            "client" => XmppMode::Client {
                user: x.user.clone().unwrap_or_else(|| "cpe{index}".into()),
                password: need(&x.password, "password")?,
                resource: x.resource.clone().unwrap_or_else(|| "cwmp".into()),
            },
            other => {
                return Err(self.err(
                    other,
                    format!("xmpp.mode {other:?}: use client or component"),
                ))
            }
        };
        let timing = self.xmpp_timing(x)?;
        Ok(Some(XmppPlan {
            server,
            domain,
            allowed: x.allowed_jids.join(","),
            mode,
            timing,
        }))
    }
}

impl Validator<'_> {
    fn xmpp_timing(&self, x: &XmppSpec) -> Result<XmppTiming, ScenarioError> {
        let d = XmppTiming::default();
        let secs = |v: &Option<Dur>,
                    key: &str,
                    lo: u64,
                    hi: u64|
         -> Result<Option<Duration>, ScenarioError> {
            match v {
                None => Ok(None),
                Some(Dur(t)) if t.as_secs() >= lo && t.as_secs() <= hi && t.subsec_nanos() == 0 => {
                    Ok(Some(*t))
                }
                Some(_) => Err(self.err(
                    key,
                    format!("xmpp.{key}: whole seconds from {lo}s to {hi}s (TR-181's range)"),
                )),
            }
        };
        let retry_initial =
            secs(&x.retry_initial, "retry_initial", 1, 65535)?.unwrap_or(d.retry_initial);
        let retry_max =
            secs(&x.retry_max, "retry_max", 1, u64::from(u32::MAX))?.unwrap_or(d.retry_max);
        if retry_max < retry_initial {
            return Err(self.err(
                "retry_max",
                "xmpp.retry_max is below retry_initial".to_string(),
            ));
        }
        let login_rate = x.login_rate.map_or(d.login_rate, |r| r.0);
        if !(login_rate.is_finite() && login_rate > 0.0) {
            return Err(self.err("login_rate", "xmpp.login_rate must be above 0".to_string()));
        }
        Ok(XmppTiming {
            keep_alive: secs(&x.keep_alive, "keep_alive", 1, 86_400)?,
            retry_initial,
            retry_max,
            login_rate,
        })
    }
}
