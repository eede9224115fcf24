//! Connection-request counts grouped by transport, the report's `connection_requests` shape:
//! `{"http": {...}, "udp": {...}, "xmpp": {...}}`, each a map of fixed labels to counts. A
//! transport the run did not use is absent. The labels are fixed by the listeners' enums, never
//! made from input.

use std::collections::BTreeMap;

use super::cr_fate::{CrFate, CrFates};
use crate::cr::udp::{UdpCrReject, UdpStats};
use crate::cr::xmpp::{XmppCrResult, XmppStats};
use crate::cr::{CrResult, CrStats, CrTransport};

/// Counts by transport, then by label.
pub type ByTransport = BTreeMap<String, BTreeMap<String, u64>>;

/// The HTTP listener's results by label.
pub fn http_counts(cr: &CrStats) -> BTreeMap<String, u64> {
    CrResult::ALL
        .iter()
        .map(|x| (x.label().to_string(), cr.get(*x)))
        .collect()
}

/// The UDP side's counts: requests received, accepted (a `6 CONNECTION REQUEST` session is
/// due), rejected by reason, and the STUN keep-alives'.
pub fn udp_counts(u: &UdpStats) -> BTreeMap<String, u64> {
    let g = UdpStats::get;
    let mut m: BTreeMap<String, u64> = [
        ("received", g(&u.received)),
        ("accepted", g(&u.accepted)),
        ("stun_requests", g(&u.stun_requests)),
        ("stun_responses", g(&u.stun_responses)),
        ("stun_errors", g(&u.stun_errors)),
        ("stun_retransmits", g(&u.stun_retransmits)),
        ("stun_timeouts", g(&u.stun_timeouts)),
        ("stun_stray", g(&u.stun_stray)),
        ("bindings", g(&u.bindings)),
        ("binding_changes", g(&u.binding_changes)),
        ("keepalive_late", g(&u.keepalive_late)),
        ("keepalive_lag_ms_max", g(&u.keepalive_lag_ms_max)),
        ("overflow", g(&u.overflow)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for r in UdpCrReject::ALL {
        m.insert(format!("rejected_{}", r.label()), u.rejected(r));
    }
    m
}

/// The XMPP side's counts (TR-069 Annex K): IQs received, accepted (answered with a result,
/// a `6 CONNECTION REQUEST` session due), rejected by reason (answered with the stanza error
/// Annex K gives), and the connections': the most up at once, logins, losses, refused
/// logins, keep-alives.
pub fn xmpp_counts(x: &XmppStats) -> BTreeMap<String, u64> {
    use std::sync::atomic::Ordering::Relaxed;
    let mut m: BTreeMap<String, u64> = [
        ("received", x.received()),
        ("accepted", x.get(XmppCrResult::Accepted)),
        (
            "connections_peak",
            x.connected_max.load(Relaxed).max(0) as u64,
        ),
        ("logins", x.logins.load(Relaxed)),
        ("disconnects", x.disconnects.load(Relaxed)),
        ("login_refused", x.auth_failures.load(Relaxed)),
        ("keep_alives", x.keep_alives.load(Relaxed)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for r in XmppCrResult::ALL {
        if r != XmppCrResult::Accepted {
            m.insert(format!("rejected_{}", r.label()), x.get(r));
        }
    }
    m
}

/// The run's counts: HTTP always (its listener always runs), UDP and XMPP when a group used
/// them; each with what became of the requests its devices accepted (`cr_fate`).
pub fn by_transport(
    cr: &CrStats,
    udp: Option<&UdpStats>,
    xmpp: Option<&XmppStats>,
    fates: &CrFates,
) -> ByTransport {
    let mut out = ByTransport::new();
    out.insert(CrTransport::Http.label().to_string(), http_counts(cr));
    if let Some(u) = udp {
        out.insert(CrTransport::Udp.label().to_string(), udp_counts(u));
    }
    if let Some(x) = xmpp {
        out.insert(CrTransport::Xmpp.label().to_string(), xmpp_counts(x));
    }
    for t in CrTransport::ALL {
        if let Some(m) = out.get_mut(t.label()) {
            for f in CrFate::ALL {
                m.insert(f.label().to_string(), fates.get(t, f));
            }
        }
    }
    out
}

/// Adds `o` into `into` (merged reports: maxima are not sums, but a sum of maxima is an upper
/// bound, and only `keepalive_lag_ms_max` is one).
pub fn add(into: &mut ByTransport, o: &ByTransport) {
    for (t, counts) in o {
        let mine = into.entry(t.clone()).or_default();
        for (k, v) in counts {
            let e = mine.entry(k.clone()).or_default();
            if k.ends_with("_max") {
                *e = (*e).max(*v);
            } else {
                *e += v;
            }
        }
    }
}

/// Reads both shapes: grouped by transport, or the flat HTTP map of reports written before
/// transports were grouped.
pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ByTransport, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Either {
        Grouped(ByTransport),
        Flat(BTreeMap<String, u64>),
    }
    Ok(match serde::Deserialize::deserialize(d)? {
        Either::Grouped(g) => g,
        Either::Flat(f) => [(CrTransport::Http.label().to_string(), f)].into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouped_counts_merge_and_old_reports_still_read() {
        let cr = CrStats::default();
        cr.count(CrResult::Accepted);
        let udp = UdpStats::default();
        udp.reject(UdpCrReject::BadSignature);
        udp.lag(7, false);
        let mut fates = CrFates::default();
        fates.count(CrTransport::Udp, CrFate::Session);
        let xmpp = XmppStats::default();
        xmpp.count(XmppCrResult::NotAllowed);
        xmpp.count(XmppCrResult::Accepted);
        fates.count(CrTransport::Xmpp, CrFate::Session);
        let mut a = by_transport(&cr, Some(&udp), Some(&xmpp), &fates);
        assert_eq!((a["udp"]["sessions"], a["http"]["sessions"]), (1, 0));
        assert_eq!(
            (
                a["xmpp"]["received"],
                a["xmpp"]["rejected_not_allowed"],
                a["xmpp"]["sessions"]
            ),
            (2, 1, 1)
        );
        assert_eq!(a["http"]["accepted"], 1);
        assert_eq!(a["udp"]["rejected_bad_signature"], 1);
        let b = a.clone();
        add(&mut a, &b);
        assert_eq!(
            (a["http"]["accepted"], a["udp"]["keepalive_lag_ms_max"]),
            (2, 7)
        );
        let old: ByTransport =
            deserialize(&mut serde_json::Deserializer::from_str(r#"{"accepted":3}"#)).unwrap();
        assert_eq!(old["http"]["accepted"], 3);
        let http_only = by_transport(&cr, None, None, &fates);
        assert!(!http_only.contains_key("udp") && !http_only.contains_key("xmpp"));
    }
}
