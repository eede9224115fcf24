//! The XMPP connection request (TR-069 Annex K), pure: the ACS's IQ, the CPE's decision
//! against its ConnectionRequestUsername/Password and ConnReqAllowedJabberIDs, and the answer.

use crate::cwmp::encode::escape;

use super::element::Element;
use super::jid::Jid;

pub const NS_CONNREQ: &str = "urn:broadband-forum-org:cwmp:xmppConnReq-1-0";
pub const NS_STANZAS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";

/// What the CPE decided about one IQ, also its metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum XmppCrResult {
    /// Valid: a result IQ, then a `6 CONNECTION REQUEST` session.
    Accepted,
    /// Username or password wrong: `not-authorized`.
    NotAuthorized,
    /// The sender is not in ConnReqAllowedJabberIDs: `service-unavailable`.
    NotAllowed,
    /// No such device behind this JID (component mode): `service-unavailable`.
    NotFound,
    /// An IQ that is not a connection request (or one without credentials):
    /// `service-unavailable`.
    Malformed,
    /// Valid, but the device refuses for now (its inbox is full): `service-unavailable`.
    Busy,
    /// Valid, but within the device's minimum interval: `service-unavailable`.
    RateLimited,
}

impl XmppCrResult {
    pub const ALL: [XmppCrResult; 7] = [
        XmppCrResult::Accepted,
        XmppCrResult::NotAuthorized,
        XmppCrResult::NotAllowed,
        XmppCrResult::NotFound,
        XmppCrResult::Malformed,
        XmppCrResult::Busy,
        XmppCrResult::RateLimited,
    ];

    pub fn label(self) -> &'static str {
        match self {
            XmppCrResult::Accepted => "accepted",
            XmppCrResult::NotAuthorized => "not_authorized",
            XmppCrResult::NotAllowed => "not_allowed",
            XmppCrResult::NotFound => "not_found",
            XmppCrResult::Malformed => "malformed",
            XmppCrResult::Busy => "busy",
            XmppCrResult::RateLimited => "rate_limited",
        }
    }

    /// The stanza error condition Annex K gives for a refusal (None when accepted).
    pub fn condition(self) -> Option<&'static str> {
        match self {
            XmppCrResult::Accepted => None,
            XmppCrResult::NotAuthorized => Some("not-authorized"),
            _ => Some("service-unavailable"),
        }
    }
}

/// A connection-request IQ as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnReq {
    pub id: String,
    pub from: String,
    pub to: String,
    pub username: String,
    pub password: String,
}

/// `Some` for an `<iq type="get|set">` stanza; `Ok` when it carries a well-formed connection
/// request, `Err(Malformed)` for any other request IQ (which still needs an error answer).
pub fn parse(iq: &Element) -> Option<Result<ConnReq, XmppCrResult>> {
    if iq.local() != "iq" || !matches!(iq.attr("type"), Some("get" | "set")) {
        return None;
    }
    let cr = iq.child("connectionRequest", Some(NS_CONNREQ));
    let creds = cr.and_then(|c| {
        let u = c.child("username", Some(NS_CONNREQ))?;
        let p = c.child("password", Some(NS_CONNREQ))?;
        Some((u.text.clone(), p.text.clone()))
    });
    let Some((username, password)) = creds else {
        return Some(Err(XmppCrResult::Malformed));
    };
    Some(Ok(ConnReq {
        id: iq.attr("id").unwrap_or_default().to_owned(),
        from: iq.attr("from").unwrap_or_default().to_owned(),
        to: iq.attr("to").unwrap_or_default().to_owned(),
        username,
        password,
    }))
}

/// The CPE's check (TR-069 Annex K): the sender first, then the credentials.
/// `allowed` is ConnReqAllowedJabberIDs, a comma-separated list: empty allows anyone, a bare
/// JID allows any of its resources, a full JID only itself.
pub fn decide(req: &ConnReq, username: &str, password: &str, allowed: &str) -> XmppCrResult {
    if !sender_allowed(&req.from, allowed) {
        return XmppCrResult::NotAllowed;
    }
    // Both compared in full, so the time taken does not tell which one was wrong.
    let ok_user = ct_eq(req.username.as_bytes(), username.as_bytes());
    let ok_pass = ct_eq(req.password.as_bytes(), password.as_bytes());
    if ok_user & ok_pass {
        XmppCrResult::Accepted
    } else {
        XmppCrResult::NotAuthorized
    }
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i).copied().unwrap_or(!x));
    }
    diff == 0
}

pub fn sender_allowed(from: &str, allowed: &str) -> bool {
    let list: Vec<&str> = allowed
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if list.is_empty() {
        return true;
    }
    let Some(from) = Jid::parse(from) else {
        return false;
    };
    list.iter().any(|a| match Jid::parse(a) {
        Some(a) if a.resource.is_some() => a == from,
        Some(a) => a.bare_eq(&from),
        None => false,
    })
}

/// The CPE's answer to request `id` from `from`, sent as `to` (its own JID).
pub fn answer(id: &str, own: &str, from: &str, result: XmppCrResult) -> String {
    let (id, own, from) = (escape(id), escape(own), escape(from));
    match result.condition() {
        None => format!("<iq type='result' id='{id}' from='{own}' to='{from}'/>"),
        Some(cond) => format!(
            "<iq type='error' id='{id}' from='{own}' to='{from}'>\
             <connectionRequest xmlns='{NS_CONNREQ}'/>\
             <error type='cancel'><{cond} xmlns='{NS_STANZAS}'/></error></iq>"
        ),
    }
}

/// The ACS's request (what GenieACS sends: an IQ of type `get`).
pub fn request(id: &str, from: &str, to: &str, username: &str, password: &str) -> String {
    format!(
        "<iq type='get' id='{}' from='{}' to='{}'><connectionRequest xmlns='{NS_CONNREQ}'>\
         <username>{}</username><password>{}</password></connectionRequest></iq>",
        escape(id),
        escape(from),
        escape(to),
        escape(username),
        escape(password)
    )
}

/// How the ACS reads the CPE's answer, as GenieACS does: a result is success,
/// `not-authorized` means wrong credentials, `service-unavailable` "device is offline".
pub fn outcome(iq: &Element) -> &'static str {
    match iq.attr("type") {
        Some("result") => "ok",
        Some("error") => {
            let err = iq.child("error", None);
            match err.and_then(|e| e.children.first()).map(Element::local) {
                Some("not-authorized") => "auth_failed",
                Some("service-unavailable") => "unreachable",
                _ => "xmpp_error",
            }
        }
        _ => "xmpp_error",
    }
}
