//! Which transport one connection request from the embedded ACS takes, and sending it: HTTP to
//! the ConnectionRequestURL (TR-069 §3.2.2), a UDP datagram to the UDPConnectionRequestAddress
//! (Annex G), or an XMPP IQ to the ConnReqJabberID (Annex K). Shared by the paced CR sender and
//! the NBI's `?connection_request`, so both choose alike.
//!
//! `auto` prefers XMPP when the device reported a JID that a component connection to this ACS
//! serves, then UDP when it reported a STUN binding, then HTTP: the order of reachability
//! behind NAT (an XMPP connection is the device's own, a UDP binding may have gone stale).
//! GenieACS differs only in sending the UDP datagram as well as the XMPP or HTTP request.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;

use super::store::DeviceRecord;
use super::udp_cr::{udp_address, udp_connection_request, CrTransportChoice};
use super::xmpp::XmppGateway;
use crate::cr::CrTransport;

/// Where one connection request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Http(String),
    /// A UDPConnectionRequestAddress (`host:port`).
    Udp(String),
    /// A ConnReqJabberID.
    Xmpp(String),
}

impl Target {
    pub fn transport(&self) -> CrTransport {
        match self {
            Target::Http(_) => CrTransport::Http,
            Target::Udp(_) => CrTransport::Udp,
            Target::Xmpp(_) => CrTransport::Xmpp,
        }
    }
}

/// The device's ConnReqJabberID as its Informs (or a GetParameterValues) reported it, if set.
pub fn jabber_id(d: &DeviceRecord) -> Option<String> {
    let name = format!("{}ManagementServer.ConnReqJabberID", d.root);
    d.parameters
        .get(&name)
        .map(|v| v.value.clone())
        .filter(|v| !v.is_empty())
}

/// The target for `d` under `choice`; `None` when the chosen transport cannot reach it.
pub fn choose(
    choice: CrTransportChoice,
    d: &DeviceRecord,
    xmpp: Option<&XmppGateway>,
) -> Option<Target> {
    let jid = || jabber_id(d).filter(|j| xmpp.is_some_and(|x| x.reaches(j)));
    let http = || d.connection_request_url.clone().map(Target::Http);
    match choice {
        CrTransportChoice::Http => http(),
        CrTransportChoice::Udp => udp_address(&d.parameters).map(Target::Udp),
        CrTransportChoice::Xmpp => jid().map(Target::Xmpp),
        CrTransportChoice::Auto => jid()
            .map(Target::Xmpp)
            .or_else(|| udp_address(&d.parameters).map(Target::Udp))
            .or_else(http),
    }
}

/// What sending needs besides the target: the one UDP socket, the XMPP gateway.
#[derive(Debug, Clone, Default)]
pub struct Senders {
    pub udp: Option<Arc<UdpSocket>>,
    pub xmpp: Option<XmppGateway>,
}

impl Senders {
    /// Sends one request; the result is one of the store's CR labels.
    pub async fn send(
        &self,
        target: &Target,
        creds: Option<(&str, &str)>,
        timeout: Duration,
    ) -> &'static str {
        match target {
            Target::Http(url) => super::cr_sender::connection_request(url, creds, timeout).await,
            Target::Udp(a) => match &self.udp {
                Some(s) => udp_connection_request(s, a, creds).await,
                None => "unreachable",
            },
            Target::Xmpp(jid) => match &self.xmpp {
                Some(gw) => {
                    let (u, p) = creds.unwrap_or(("", ""));
                    gw.connection_request(jid, u, p, timeout).await
                }
                None => "unreachable",
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acs::store::ParamValue;

    fn device(params: &[(&str, &str)]) -> DeviceRecord {
        let mut d = DeviceRecord {
            root: "Device.".into(),
            connection_request_url: Some("http://127.0.0.1:9/cr".into()),
            ..DeviceRecord::default()
        };
        for (k, v) in params {
            d.parameters.insert(
                (*k).into(),
                ParamValue {
                    value: (*v).into(),
                    kind: None,
                },
            );
        }
        d
    }

    #[test]
    fn auto_prefers_a_reachable_jid_then_a_stun_binding_then_http() {
        use CrTransportChoice as C;
        let gw = XmppGateway::with_domain("cpe.example");
        let jid = (
            "Device.ManagementServer.ConnReqJabberID",
            "cpe1@cpe.example/cwmp",
        );
        let udp = [
            ("Device.ManagementServer.STUNEnable", "true"),
            (
                "Device.ManagementServer.UDPConnectionRequestAddress",
                "10.0.0.1:7547",
            ),
        ];
        let both = device(&[jid, udp[0], udp[1]]);
        let http = Target::Http("http://127.0.0.1:9/cr".into());
        assert_eq!(
            choose(C::Auto, &both, Some(&gw)),
            Some(Target::Xmpp(jid.1.into()))
        );
        assert_eq!(
            choose(C::Auto, &both, None),
            Some(Target::Udp("10.0.0.1:7547".into())),
            "no gateway: the JID is unreachable"
        );
        assert_eq!(choose(C::Auto, &device(&[]), Some(&gw)), Some(http.clone()));
        assert_eq!(choose(C::Http, &both, Some(&gw)), Some(http));
        assert_eq!(choose(C::Xmpp, &device(&udp), Some(&gw)), None);
        let other = device(&[("Device.ManagementServer.ConnReqJabberID", "x@elsewhere/r")]);
        assert_eq!(choose(C::Xmpp, &other, Some(&gw)), None, "another domain");
        assert_eq!(Target::Xmpp(String::new()).transport().label(), "xmpp");
    }
}
