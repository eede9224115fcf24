//! A group's `connection_requests:` section: how the ACS reaches its devices (TR-069 §3.2.2
//! HTTP, Annex G UDP through STUN, Annex K XMPP), the STUN keep-alives of a UDP group and the
//! NAT in front of it. Parsed and validated here, so `validate` calls one function.
//!
//! ```yaml
//! connection_requests:
//!   transport: udp            # http (default), udp, xmpp
//!   stun:                     # ManagementServer.STUN* (TR-069 Annex G)
//!     server: 127.0.0.1       # default: the embedded ACS's STUN server
//!     port: 3478
//!     username: cpe           # USERNAME + MESSAGE-INTEGRITY when set
//!     password: secret
//!     min_keep_alive: 30s     # STUNMinimumKeepAlivePeriod
//!     max_keep_alive: 60s     # STUNMaximumKeepAlivePeriod
//!   nat:
//!     mapping_lifetime: 120s  # an idle mapping is dropped after this
//!     changes_per_hour: 0.5   # seeded address/port changes per device
//!     ports: 4                # public ports (shared UDP sockets) the NAT hands out
//! ```

use std::time::Duration;

use serde::Deserialize;

use super::ScenarioError;
use crate::cr::udp::NatSpec;
use crate::cr::CrTransport;
use crate::units::{line_column, Dur};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupCrSpec {
    #[serde(default)]
    pub transport: Option<String>,
    #[serde(default)]
    pub stun: Option<StunSpec>,
    #[serde(default)]
    pub nat: Option<NatFileSpec>,
    /// XMPP groups only (validated in `scenario::xmpp`).
    #[serde(default)]
    pub xmpp: Option<super::xmpp::XmppSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StunSpec {
    #[serde(default)]
    pub server: Option<String>,
    #[serde(default)]
    pub port: Option<u32>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub min_keep_alive: Option<Dur>,
    #[serde(default)]
    pub max_keep_alive: Option<Dur>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatFileSpec {
    #[serde(default)]
    pub mapping_lifetime: Option<Dur>,
    #[serde(default)]
    pub changes_per_hour: Option<f64>,
    #[serde(default)]
    pub ports: Option<u32>,
}

/// A validated group section.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupCr {
    pub transport: CrTransport,
    /// UDP groups only.
    pub stun: Option<Stun>,
    pub nat: NatSpec,
}

impl Default for GroupCr {
    fn default() -> Self {
        GroupCr {
            transport: CrTransport::Http,
            stun: None,
            nat: NatSpec::default(),
        }
    }
}

/// The STUN settings a UDP group's devices start with (their ManagementServer.STUN* values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stun {
    /// `None`: the embedded ACS's STUN server (TR-069 Annex G: empty means the ACS's host).
    pub server: Option<String>,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    pub min_keep_alive: Duration,
    pub max_keep_alive: Duration,
}

/// Where `needle` is written inside group `group` (the first occurrence after its name).
fn locate_in_group(src: &str, group: &str, needle: &str) -> (usize, usize) {
    let start = src.find(&format!("name: {group}")).unwrap_or(0);
    let off = src[start..].find(needle).map_or(start, |o| start + o);
    line_column(src, off)
}

/// Validates group `group`'s section; `origin` names the file in errors.
pub fn validate(
    src: &str,
    origin: &str,
    group: &str,
    spec: Option<&GroupCrSpec>,
) -> Result<GroupCr, ScenarioError> {
    let err = |needle: &str, message: String| {
        let (line, column) = locate_in_group(src, group, needle);
        ScenarioError::Invalid {
            path: origin.to_string(),
            line,
            column,
            message,
        }
    };
    let Some(spec) = spec else {
        return Ok(GroupCr::default());
    };
    let transport = match spec.transport.as_deref() {
        None => CrTransport::Http,
        Some(t) => CrTransport::parse(t).ok_or_else(|| {
            err(
                "transport",
                format!("connection_requests.transport {t:?}: use http, udp or xmpp"),
            )
        })?,
    };
    if transport != CrTransport::Udp {
        if spec.stun.is_some() || spec.nat.is_some() {
            let key = if spec.stun.is_some() { "stun" } else { "nat" };
            return Err(err(key, format!("{key}: only for transport: udp")));
        }
        return Ok(GroupCr {
            transport,
            ..GroupCr::default()
        });
    }
    let stun = stun(spec.stun.clone().unwrap_or_default(), &err)?;
    let nat = nat(spec.nat.clone().unwrap_or_default(), &err)?;
    Ok(GroupCr {
        transport,
        stun: Some(stun),
        nat,
    })
}

fn stun(s: StunSpec, err: &impl Fn(&str, String) -> ScenarioError) -> Result<Stun, ScenarioError> {
    let port = s.port.unwrap_or(3478);
    if port == 0 || port > u32::from(u16::MAX) {
        return Err(err("port", format!("stun.port {port}: use 1 to 65535")));
    }
    let min = s.min_keep_alive.map_or(Duration::from_secs(30), |d| d.0);
    let max = s
        .max_keep_alive
        .map_or(min.max(Duration::from_secs(60)), |d| d.0);
    if min < Duration::from_secs(1) {
        return Err(err(
            "min_keep_alive",
            "stun.min_keep_alive: at least 1s".into(),
        ));
    }
    if max < min {
        return Err(err(
            "max_keep_alive",
            format!(
                "stun.max_keep_alive {} is below min_keep_alive {}",
                crate::units::fmt_duration(max),
                crate::units::fmt_duration(min)
            ),
        ));
    }
    if s.password.is_some() && s.username.is_none() {
        // TR-069 Annex G: an empty STUNUsername means no integrity, so a lone password is
        // a mistake, not a setting.
        return Err(err("password", "stun.password needs stun.username".into()));
    }
    Ok(Stun {
        server: s.server.filter(|h| !h.is_empty()),
        port: port as u16,
        username: s.username,
        password: s.password,
        min_keep_alive: min,
        max_keep_alive: max,
    })
}

fn nat(
    n: NatFileSpec,
    err: &impl Fn(&str, String) -> ScenarioError,
) -> Result<NatSpec, ScenarioError> {
    let d = NatSpec::default();
    let rate = n.changes_per_hour.unwrap_or(d.changes_per_hour);
    if !(rate.is_finite() && (0.0..=3600.0).contains(&rate)) {
        return Err(err(
            "changes_per_hour",
            format!("nat.changes_per_hour {rate}: use 0 to 3600"),
        ));
    }
    let ports = n.ports.unwrap_or(u32::from(d.ports));
    if !(1..=64).contains(&ports) {
        return Err(err("ports", format!("nat.ports {ports}: use 1 to 64")));
    }
    let lifetime = n.mapping_lifetime.map_or(d.mapping_lifetime, |l| l.0);
    if lifetime < Duration::from_secs(1) {
        return Err(err(
            "mapping_lifetime",
            "nat.mapping_lifetime: at least 1s".into(),
        ));
    }
    Ok(NatSpec {
        mapping_lifetime: lifetime,
        changes_per_hour: rate,
        ports: ports as u16,
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::scenario::{Overrides, Scenario};

    fn parse(group_extra: &str) -> Result<Scenario, ScenarioError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.yaml"), "name: t\n").unwrap();
        let src = format!(
            "name: s\nfleet:\n  groups:\n    - name: plain\n      template: t.yaml\n      count: 1\n    - name: natted\n      template: t.yaml\n      count: 2\n{group_extra}"
        );
        let path: PathBuf = dir.path().join("s.yaml");
        Scenario::parse(&src, &path, &Overrides::default())
    }

    fn message(r: Result<Scenario, ScenarioError>) -> String {
        r.map(|_| ()).unwrap_err().to_string()
    }

    #[test]
    fn a_udp_group_gets_stun_and_nat_defaults() {
        let s = parse("      connection_requests:\n        transport: udp\n").unwrap();
        assert_eq!(s.groups[0].cr, GroupCr::default());
        let g = &s.groups[1].cr;
        assert_eq!(g.transport, CrTransport::Udp);
        let stun = g.stun.as_ref().unwrap();
        assert_eq!((stun.port, stun.server.as_deref()), (3478, None));
        assert_eq!(stun.min_keep_alive, Duration::from_secs(30));
        assert_eq!(stun.max_keep_alive, Duration::from_secs(60));
        assert_eq!(g.nat, NatSpec::default());
    }

    #[test]
    fn every_key_is_read() {
        let s = parse(
            "      connection_requests:\n        transport: udp\n        stun: { server: 127.0.0.1, port: 3479, username: u, password: p, min_keep_alive: 5s, max_keep_alive: 10s }\n        nat: { mapping_lifetime: 8s, changes_per_hour: 2.5, ports: 3 }\n",
        )
        .unwrap();
        let g = &s.groups[1].cr;
        let stun = g.stun.as_ref().unwrap();
        assert_eq!(stun.server.as_deref(), Some("127.0.0.1"));
        assert_eq!((stun.port, stun.username.as_deref()), (3479, Some("u")));
        assert_eq!(stun.max_keep_alive, Duration::from_secs(10));
        assert_eq!(
            g.nat,
            NatSpec {
                mapping_lifetime: Duration::from_secs(8),
                changes_per_hour: 2.5,
                ports: 3
            }
        );
    }

    #[test]
    fn errors_are_located_in_the_group() {
        let e = message(parse(
            "      connection_requests:\n        transport: sms\n",
        ));
        assert!(
            e.ends_with(
                "s.yaml:11:9: connection_requests.transport \"sms\": use http, udp or xmpp"
            ),
            "{e}"
        );
        let e = message(parse("      connection_requests:\n        transport: udp\n        stun: { min_keep_alive: 60s, max_keep_alive: 10s }\n"));
        assert!(
            e.contains(":12:") && e.contains("max_keep_alive 10.0s is below min_keep_alive 1m00s"),
            "{e}"
        );
        let e = message(parse(
            "      connection_requests:\n        stun: { port: 3478 }\n",
        ));
        assert!(e.contains("stun: only for transport: udp"), "{e}");
        let e = message(parse(
            "      connection_requests:\n        transport: udp\n        nat: { ports: 0 }\n",
        ));
        assert!(
            e.contains(":12:") && e.contains("nat.ports 0: use 1 to 64"),
            "{e}"
        );
        let e = message(parse(
            "      connection_requests:\n        transport: udp\n        stun: { port: 70000 }\n",
        ));
        assert!(e.contains("stun.port 70000"), "{e}");
        let e = message(parse(
            "      connection_requests:\n        transport: udp\n        stun: { password: p }\n",
        ));
        assert!(e.contains("stun.password needs stun.username"), "{e}");
        let e = message(parse("      connection_requests:\n        transport: udp\n        nat: { changes_per_hour: -1 }\n"));
        assert!(e.contains("changes_per_hour -1"), "{e}");
        let e = message(parse("      connection_requests:\n        transprt: udp\n"));
        assert!(e.contains("unknown field `transprt`"), "{e}");
    }
}
