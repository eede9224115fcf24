//! A device's side of one connection-request IQ (TR-069 Annex K): find the device, check the
//! sender and the credentials, wake the device, answer. Shared by the client mode (the device
//! is the connection's own) and the component mode (the device is named by the IQ's `to`).

use tokio::time::Instant;

use super::connreq::{self, XmppCrResult};
use super::element::Element;
use super::stats::XmppStats;
use crate::cr::{CrResult, CrRouter};

/// The answer to send for stanza `el` addressed to device `index` (None: no such device), or
/// `None` when the stanza needs no answer (results, messages, presence).
pub fn serve_iq<R: CrRouter + ?Sized>(
    el: &Element,
    index: Option<u32>,
    router: &R,
    allowed: &str,
    stats: &XmppStats,
) -> Option<String> {
    let req = connreq::parse(el)?;
    let id = el.attr("id").unwrap_or_default();
    let own = el.attr("to").unwrap_or_default();
    let from = el.attr("from").unwrap_or_default();
    let result = match (req, index.and_then(|i| router.device(i).map(|d| (i, d)))) {
        (Err(r), _) => r,
        (Ok(_), None) => XmppCrResult::NotFound,
        (Ok(req), Some((i, dev))) => {
            match connreq::decide(&req, &dev.username, &dev.password, allowed) {
                XmppCrResult::Accepted => {
                    match router.deliver_via(i, Instant::now(), crate::cr::CrTransport::Xmpp) {
                        CrResult::Accepted => XmppCrResult::Accepted,
                        CrResult::RateLimited => XmppCrResult::RateLimited,
                        CrResult::NotFound => XmppCrResult::NotFound,
                        _ => XmppCrResult::Busy,
                    }
                }
                other => other,
            }
        }
    };
    stats.count(result);
    Some(connreq::answer(id, own, from, result))
}
