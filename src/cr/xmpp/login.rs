//! Logging in as a state machine, pure: stream events in, text to send out. The client path is
//! RFC 6120's: stream, features, SASL, a restarted stream, resource binding, presence. The
//! component path is XEP-0114's: stream, handshake. Sockets live in the I/O edge
//! (`client.rs`, `component.rs`), which only shuttles bytes.

use super::element::Element;
use super::error::XmppError;
use super::handshake::{
    bind, client_open, component_open, handshake, NS_BIND, NS_STREAMS, PRESENCE,
};
use super::sasl::{plain_auth, Mechanism, Scram, NS_SASL};
use super::stream::StreamEvent;

/// What the caller must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this and keep reading.
    Send(String),
    /// SASL succeeded: reset the stream reader (RFC 6120 §6.4.6), then send this.
    Restart(String),
    /// Logged in as this full JID (client) or domain (component); send this last.
    Done(String, String),
    /// Nothing to send yet.
    Wait,
}

#[derive(Debug, Clone)]
enum State {
    Open,
    Features,
    Sasl(Option<Box<Scram>>),
    Open2,
    Features2,
    Bind,
    Finished,
}

/// A client login (one device's own connection).
#[derive(Debug, Clone)]
pub struct ClientLogin {
    user: String,
    password: String,
    domain: String,
    resource: String,
    nonce: String,
    state: State,
}

fn stream_error(el: &Element) -> Option<XmppError> {
    (el.local() == "error" && el.name.starts_with("stream:") || el.is("error", NS_STREAMS)).then(
        || {
            let cond = el.children.first().map_or("unknown", Element::local);
            XmppError::StreamError(cond.to_owned())
        },
    )
}

fn unexpected(el: &Element) -> XmppError {
    stream_error(el).unwrap_or_else(|| XmppError::Unexpected(el.name.clone()))
}

impl ClientLogin {
    /// `nonce` is the SCRAM client nonce (printable, no comma), chosen by the caller.
    pub fn new(user: &str, password: &str, domain: &str, resource: &str, nonce: &str) -> Self {
        ClientLogin {
            user: user.to_owned(),
            password: password.to_owned(),
            domain: domain.to_owned(),
            resource: resource.to_owned(),
            nonce: nonce.to_owned(),
            state: State::Open,
        }
    }

    /// The first bytes to send.
    pub fn start(&self) -> String {
        client_open(&self.domain)
    }

    pub fn on_event(&mut self, ev: StreamEvent) -> Result<Step, XmppError> {
        let el = match (ev, &self.state) {
            (StreamEvent::Open(_), State::Open) => {
                self.state = State::Features;
                return Ok(Step::Wait);
            }
            (StreamEvent::Open(_), State::Open2) => {
                self.state = State::Features2;
                return Ok(Step::Wait);
            }
            (StreamEvent::Stanza(el), _) => el,
            (StreamEvent::Close, _) => return Err(XmppError::StreamError("closed".into())),
            (StreamEvent::Open(_), _) => return Err(XmppError::Unexpected("stream".into())),
        };
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Features => self.features(&el),
            State::Sasl(scram) => self.sasl(&el, scram),
            State::Features2 => {
                if el.local() != "features" || el.child("bind", Some(NS_BIND)).is_none() {
                    return Err(unexpected(&el));
                }
                self.state = State::Bind;
                Ok(Step::Send(bind("bind", &self.resource)))
            }
            State::Bind => self.bound(&el),
            State::Open | State::Open2 | State::Finished => Err(unexpected(&el)),
        }
    }

    fn features(&mut self, el: &Element) -> Result<Step, XmppError> {
        if el.local() != "features" {
            return Err(unexpected(el));
        }
        let tls_required = el
            .child("starttls", None)
            .is_some_and(|s| s.child("required", None).is_some());
        let offered = el
            .child("mechanisms", Some(NS_SASL))
            .map(|m| {
                m.children
                    .iter()
                    .map(|c| c.text.as_str())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        match Mechanism::choose(offered) {
            _ if tls_required => Err(XmppError::TlsRequired),
            Some(Mechanism::Plain) => {
                self.state = State::Sasl(None);
                Ok(Step::Send(plain_auth(&self.user, &self.password)))
            }
            Some(Mechanism::ScramSha1) => {
                let (scram, auth) = Scram::start(&self.user, &self.password, &self.nonce);
                self.state = State::Sasl(Some(Box::new(scram)));
                Ok(Step::Send(auth))
            }
            None => Err(XmppError::NoMechanism),
        }
    }

    fn sasl(&mut self, el: &Element, mut scram: Option<Box<Scram>>) -> Result<Step, XmppError> {
        match (el.local(), scram.as_mut()) {
            ("challenge", Some(s)) => {
                let resp = s.respond(&el.text)?;
                self.state = State::Sasl(scram);
                Ok(Step::Send(resp))
            }
            ("success", s) => {
                if let Some(s) = s {
                    s.verify(&el.text)?;
                }
                self.state = State::Open2;
                Ok(Step::Restart(client_open(&self.domain)))
            }
            ("failure", _) => {
                let cond = el.children.first().map_or("unknown", Element::local);
                Err(XmppError::AuthFailed(cond.to_owned()))
            }
            _ => Err(unexpected(el)),
        }
    }

    fn bound(&mut self, el: &Element) -> Result<Step, XmppError> {
        if el.local() != "iq" || el.attr("id") != Some("bind") {
            return Err(unexpected(el));
        }
        if el.attr("type") != Some("result") {
            let cond = el
                .child("error", None)
                .and_then(|e| e.children.first())
                .map_or("unknown", Element::local);
            return Err(XmppError::AuthFailed(format!("bind: {cond}")));
        }
        let jid = el
            .child("bind", Some(NS_BIND))
            .and_then(|b| b.child("jid", None))
            .map(|j| j.text.trim().to_owned())
            .ok_or_else(|| XmppError::Unexpected("bind result without jid".into()))?;
        self.state = State::Finished;
        Ok(Step::Done(jid, PRESENCE.to_owned()))
    }
}

/// An external component's login (XEP-0114 §3).
#[derive(Debug, Clone)]
pub struct ComponentLogin {
    domain: String,
    secret: String,
    sent: bool,
}

impl ComponentLogin {
    pub fn new(domain: &str, secret: &str) -> Self {
        ComponentLogin {
            domain: domain.to_owned(),
            secret: secret.to_owned(),
            sent: false,
        }
    }

    pub fn start(&self) -> String {
        component_open(&self.domain)
    }

    pub fn on_event(&mut self, ev: StreamEvent) -> Result<Step, XmppError> {
        match ev {
            StreamEvent::Open(attrs) if !self.sent => {
                let id = attrs
                    .iter()
                    .find(|(k, _)| k == "id")
                    .map(|(_, v)| v.as_str())
                    .ok_or_else(|| XmppError::Unexpected("stream without id".into()))?;
                self.sent = true;
                Ok(Step::Send(handshake(id, &self.secret)))
            }
            StreamEvent::Stanza(el) if self.sent && el.local() == "handshake" => {
                Ok(Step::Done(self.domain.clone(), String::new()))
            }
            StreamEvent::Stanza(el) => match stream_error(&el) {
                Some(XmppError::StreamError(c)) if c == "not-authorized" => {
                    Err(XmppError::HandshakeRefused)
                }
                Some(e) => Err(e),
                None => Err(XmppError::Unexpected(el.name)),
            },
            StreamEvent::Close => Err(XmppError::StreamError("closed".into())),
            StreamEvent::Open(_) => Err(XmppError::Unexpected("stream".into())),
        }
    }
}
