//! The HTTP side of a session: one POST at a time over the session's connection, with what
//! lies below the protocol logic — reconnects (GenieACS resumes a session by its cookie),
//! cookies, Basic and Digest authentication answered on the same socket (TR-069 §3.4.4),
//! redirects (the same POST to the new URL for the rest of the session, §3.4.5) and the WAN's
//! waits on every leg.

use crate::net::body::Body;
use bytes::Bytes;
use http::header::{
    HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HOST, USER_AGENT,
};
use http::{Request, Uri};
use tokio::time::Instant;

use crate::auth::{basic, Challenge, DigestChallenge};
use crate::net::client::{Connection, Endpoint, Response, TransportError};
use crate::net::wan::Direction;

use super::cookie::CookieJar;
use super::error::SessionError;
use super::report::Timings;
use super::run::SessionConfig;
use super::trace::Trace;

/// Redirects one session follows at most.
const MAX_REDIRECTS: u8 = 5;

/// Authentication state of the session.
enum AuthState {
    None,
    Digest { challenge: DigestChallenge, nc: u32 },
    Basic,
}

/// The HTTP side: connection, cookies, auth, redirects.
pub(super) struct Http<'a> {
    pub(super) cfg: &'a SessionConfig,
    endpoint: Endpoint,
    pub(super) conn: Option<Connection>,
    jar: CookieJar,
    auth: AuthState,
    redirects: u8,
    /// Connections opened (1 unless the ACS closed one or redirected).
    pub(super) connections: u32,
    deadline: Instant,
    trace: Option<&'a mut Trace>,
    /// POSTs made (numbers the impairment draws).
    posts: u32,
    /// [`Http::target`]'s cache for the current endpoint.
    target: Option<(Uri, HeaderValue, HeaderValue)>,
    /// The WAN's waits, leg by leg.
    pub(super) link: super::wan::Link,
}

/// The SOAPAction header of TR-069 §3.4.1, named once rather than parsed from a string per POST.
const SOAP_ACTION: http::HeaderName = http::HeaderName::from_static("soapaction");

impl<'a> Http<'a> {
    pub(super) fn new(
        cfg: &'a SessionConfig,
        deadline: Instant,
        trace: Option<&'a mut Trace>,
    ) -> Self {
        Http {
            cfg,
            endpoint: cfg.acs.clone(),
            conn: None,
            jar: CookieJar::default(),
            auth: AuthState::None,
            redirects: 0,
            connections: 0,
            deadline,
            trace,
            posts: 0,
            target: None,
            link: super::wan::Link::new(cfg.impairments.wan, cfg.impairments.seed),
        }
    }

    /// The authentication scheme the ACS asked for, if any (for the session's report).
    pub(super) fn auth_scheme(&self) -> Option<&'static str> {
        match self.auth {
            AuthState::None => None,
            AuthState::Digest { .. } => Some("Digest"),
            AuthState::Basic => Some("Basic"),
        }
    }

    async fn connect(&mut self, timings: &mut Timings) -> Result<(), SessionError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        let cfg = self.cfg;
        cfg.impairments
            .acs_outages
            .gate(cfg.connector.connect_timeout.min(left))
            .await?;
        self.link.handshake().await;
        let conn = self
            .cfg
            .connector
            .connect(&self.endpoint, self.cfg.local_addr)
            .await?;
        if self.connections == 0 {
            timings.connect = Some(conn.timings.tcp);
            timings.tls = conn.timings.tls;
        }
        self.connections += 1;
        if let Some(t) = self.trace.as_deref_mut() {
            t.note(&format!(
                "connect {} (connection {})",
                self.endpoint.authority(),
                self.connections
            ));
        }
        self.conn = Some(conn);
        Ok(())
    }

    fn authorization(&mut self, uri: &str) -> Option<String> {
        let (user, pass) = self.cfg.credentials.as_ref()?;
        match &mut self.auth {
            AuthState::None => None,
            AuthState::Basic => Some(basic::authorization(user, pass)),
            AuthState::Digest { challenge, nc } => {
                *nc += 1;
                let cnonce = format!("{:016x}", rand::random::<u64>());
                Some(challenge.authorization(user, pass, "POST", uri, *nc, &cnonce))
            }
        }
    }

    /// The request line's target and the Host and User-Agent values, parsed once per endpoint
    /// (a session posts several times to the same one; parsing them per POST was measurable).
    fn target(&mut self) -> (Uri, HeaderValue, HeaderValue) {
        if let Some(t) = &self.target {
            return t.clone();
        }
        let uri = Uri::try_from(self.endpoint.path.as_str()).unwrap_or_default();
        let host = HeaderValue::try_from(self.endpoint.authority())
            .unwrap_or(HeaderValue::from_static(""));
        let agent = HeaderValue::try_from(self.cfg.user_agent.as_str())
            .unwrap_or(HeaderValue::from_static("cpefleet"));
        let t = (uri, host, agent);
        self.target = Some(t.clone());
        t
    }

    fn request(&mut self, body: &Bytes, is_request: bool, slow: bool) -> Request<Body> {
        let (uri, host, agent) = self.target();
        let mut b = Request::post(uri)
            .header(HOST, host)
            .header(USER_AGENT, agent);
        if !body.is_empty() {
            b = b.header(
                CONTENT_TYPE,
                HeaderValue::from_static("text/xml; charset=\"utf-8\""),
            );
        }
        if is_request {
            // Deployed CPEs send an empty SOAPAction on POSTs that carry a request (TR-069 §3.4.1).
            b = b.header(SOAP_ACTION, HeaderValue::from_static("\"\""));
        }
        b = b.header(CONTENT_LENGTH, HeaderValue::from(body.len()));
        if self.cfg.credentials.is_some() {
            let path = self.endpoint.path.clone();
            if let Some(a) = self.authorization(&path) {
                b = b.header(AUTHORIZATION, a);
            }
        }
        if let Some(c) = self.jar.header() {
            if let Ok(v) = HeaderValue::from_str(&c) {
                b = b.header(COOKIE, v);
            }
        }
        let imp = &self.cfg.impairments;
        let payload = if slow {
            Body::trickle(body.clone(), imp.slow_chunk.max(1), imp.slow_delay)
        } else {
            Body::full(body.clone())
        };
        b.body(payload)
            .unwrap_or_else(|_| Request::new(Body::full(body.clone())))
    }

    /// POSTs `body`, handling reconnects, auth challenges and redirects; returns the final
    /// response (any status other than 401/3xx).
    pub(super) async fn post(
        &mut self,
        body: Bytes,
        is_request: bool,
        timings: &mut Timings,
    ) -> Result<Response, SessionError> {
        let mut challenged_on_this_conn = false;
        let mut reconnects = 0;
        loop {
            let now = Instant::now();
            if now >= self.deadline {
                return Err(SessionError::SessionTimeout(self.cfg.session_timeout));
            }
            if self.conn.as_mut().is_none_or(Connection::is_closed) {
                self.conn = None;
                self.connect(timings).await?;
                challenged_on_this_conn = false;
            }
            let limit = self.cfg.exchange_timeout.min(self.deadline - now);
            self.posts += 1;
            let cfg = self.cfg;
            let imp = &cfg.impairments;
            let slow = imp.slow_body_rate > 0.0
                && !body.is_empty()
                && crate::seed::unit(imp.seed, 0x5104, u64::from(self.posts)) < imp.slow_body_rate;
            let req = self.request(&body, is_request, slow);
            if let Some(t) = self.trace.as_deref_mut() {
                t.request(&req, &body);
            }
            // The request's way up the WAN (the answer's way down follows its arrival).
            let t0 = Instant::now();
            self.link.leg(Direction::Up, body.len()).await;
            let Some(conn) = self.conn.as_mut() else {
                continue;
            };
            let resp = match conn.send(req, limit, self.cfg.max_body).await {
                Ok(r) => r,
                // The ACS closed between exchanges (keep-alive expired, 204 with close): a CPE
                // reconnects and carries on with its cookies (GenieACS resumes the session).
                Err(TransportError::Closed) if reconnects < 2 => {
                    reconnects += 1;
                    self.conn = None;
                    continue;
                }
                Err(TransportError::Timeout(_)) if Instant::now() >= self.deadline => {
                    return Err(SessionError::SessionTimeout(self.cfg.session_timeout))
                }
                Err(e) => return Err(e.into()),
            };
            self.link.leg(Direction::Down, resp.body.len()).await;
            self.received(&resp);
            let status = resp.status.as_u16();
            match status {
                401 => {
                    self.challenged(&resp, challenged_on_this_conn)?;
                    challenged_on_this_conn = true;
                    timings.auth_challenge.get_or_insert(t0.elapsed());
                    // The retry goes on the same socket (GenieACS binds its nonce to it); if the
                    // ACS closed it, the loop reconnects and the new socket is challenged anew.
                }
                301 | 302 | 303 | 307 | 308 => self.redirect(&resp, status)?,
                _ => return Ok(resp),
            }
        }
    }

    /// A response arrived: traced, and its cookies kept for the rest of the session.
    fn received(&mut self, resp: &Response) {
        if let Some(t) = self.trace.as_deref_mut() {
            t.response(resp);
        }
        for v in resp.headers.get_all(http::header::SET_COOKIE) {
            if let Ok(s) = v.to_str() {
                self.jar.store(s);
            }
        }
    }

    /// A 401: answer the challenge once per connection, with the configured credentials.
    fn challenged(&mut self, resp: &Response, again: bool) -> Result<(), SessionError> {
        if again || self.cfg.credentials.is_none() {
            return Err(SessionError::Auth(if self.cfg.credentials.is_none() {
                "challenged but no credentials configured"
            } else {
                "credentials rejected"
            }));
        }
        self.auth = parse_challenge(resp)?;
        Ok(())
    }

    /// A 3xx: the same POST to the new URL, for the rest of this session only (TR-069 §3.4.5).
    fn redirect(&mut self, resp: &Response, status: u16) -> Result<(), SessionError> {
        self.redirects += 1;
        if self.redirects > MAX_REDIRECTS {
            return Err(SessionError::TooManyRedirects(MAX_REDIRECTS));
        }
        let loc = resp
            .headers
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(SessionError::Status(status))?;
        self.endpoint = self.endpoint.join(loc)?;
        self.target = None;
        self.conn = None;
        self.auth = AuthState::None;
        Ok(())
    }
}

fn parse_challenge(resp: &Response) -> Result<AuthState, SessionError> {
    let mut basic = false;
    for v in resp.headers.get_all(http::header::WWW_AUTHENTICATE) {
        let Ok(s) = v.to_str() else { continue };
        match Challenge::parse(s) {
            Ok(Some(Challenge::Digest(d))) => {
                return Ok(AuthState::Digest {
                    challenge: d,
                    nc: 0,
                })
            }
            Ok(Some(Challenge::Basic { .. })) => basic = true,
            Ok(None) => {}
            Err(e) => return Err(SessionError::Auth(e.label())),
        }
    }
    if basic {
        Ok(AuthState::Basic)
    } else {
        Err(SessionError::Auth("401 without a usable challenge"))
    }
}
