//! UDP connection requests from the embedded ACS (TR-069 Annex G), the way GenieACS sends them:
//! one datagram `GET http://host:port?ts=…&id=…&un=…&cn=…&sig=… HTTP/1.1` to the device's
//! UDPConnectionRequestAddress, sent three times with the same `id` (UDP may lose one; the CPE
//! ignores the copies). Nothing comes back: the device's `6 CONNECTION REQUEST` session is the
//! answer. GenieACS sends one only when the device reported the address and STUNEnable is true.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use tokio::net::UdpSocket;

use super::store::ParamValue;
use crate::cr::udp::message::build;

/// Copies of each request, as GenieACS sends.
pub const COPIES: usize = 3;

/// How the ACS reaches a device (a policy's `connection_requests.transport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CrTransportChoice {
    /// XMPP when a component connection serves the device's ConnReqJabberID, else UDP when
    /// it reported a UDPConnectionRequestAddress with STUN on, else HTTP (`cr_target.rs`).
    #[default]
    Auto,
    Http,
    Udp,
    Xmpp,
}

impl CrTransportChoice {
    /// `auto`, `http`, `udp`, `xmpp` (the NBI's `transport=` parameter).
    pub fn parse(s: &str) -> Option<CrTransportChoice> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(CrTransportChoice::Auto),
            "http" => Some(CrTransportChoice::Http),
            "udp" => Some(CrTransportChoice::Udp),
            "xmpp" => Some(CrTransportChoice::Xmpp),
            _ => None,
        }
    }
}

/// The device's UDP connection-request address, when it reported one with STUNEnable true.
pub fn udp_address(parameters: &BTreeMap<String, ParamValue>) -> Option<String> {
    let find = |suffix: &str| {
        parameters
            .iter()
            .find(|(k, _)| k.ends_with(suffix))
            .map(|(_, v)| v.value.as_str())
    };
    let stun = matches!(find("ManagementServer.STUNEnable"), Some("true" | "1"));
    let addr = find("ManagementServer.UDPConnectionRequestAddress")?;
    (stun && !addr.is_empty()).then(|| addr.to_string())
}

/// Sends one UDP connection request to `host_port`; the result is one of the store's CR
/// labels: `udp_sent` or `unreachable`.
pub async fn udp_connection_request(
    socket: &UdpSocket,
    host_port: &str,
    creds: Option<(&str, &str)>,
) -> &'static str {
    let (user, pass) = creds.unwrap_or(("", ""));
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let id = rand::random::<u32>().to_string();
    let cn = format!("{:016x}", rand::random::<u64>());
    let datagram = build(host_port, ts, &id, user, &cn, pass);
    let Ok(Some(to)) = tokio::net::lookup_host(host_port)
        .await
        .map(|mut a| a.next())
    else {
        return "unreachable";
    };
    for _ in 0..COPIES {
        if socket.send_to(datagram.as_bytes(), to).await.is_err() {
            return "unreachable";
        }
    }
    "udp_sent"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_counts_only_with_stun_enabled() {
        let mut p = BTreeMap::new();
        let v = |s: &str| ParamValue {
            value: s.into(),
            kind: None,
        };
        p.insert(
            "Device.ManagementServer.UDPConnectionRequestAddress".into(),
            v("127.0.0.1:9"),
        );
        assert_eq!(udp_address(&p), None);
        p.insert("Device.ManagementServer.STUNEnable".into(), v("true"));
        assert_eq!(udp_address(&p).as_deref(), Some("127.0.0.1:9"));
        p.insert(
            "Device.ManagementServer.UDPConnectionRequestAddress".into(),
            v(""),
        );
        assert_eq!(udp_address(&p), None);
    }
}
