//! The connection-request decision, pure: (path, Authorization, clock) → status and, when
//! valid, the device to wake (TR-069 §3.2.2).
//!
//! Kept free of sockets so every branch is a plain unit test. A nonce is an issue time and a
//! challenge sequence number under a keyed MD5, so any connection — GenieACS retries on the
//! same one, other ACSs open a new one — can present it, and nothing is stored per challenge
//! or per device; the only state is the fixed-size used-nonce ring ([`NonceWindow`]) that
//! makes each nonce single-use.

use std::sync::Arc;

use super::nonce::NonceWindow;
use crate::auth::digest::{hex_str, md5_hex, md5_hex32};
use crate::auth::{basic, DigestAuthorization};

/// Which schemes the listener accepts. TR-069 requires Digest; Basic only when configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CrAuth {
    #[default]
    Digest,
    Basic,
    DigestOrBasic,
    /// No authentication (lab use; never what a real CPE does).
    None,
}

/// A device as the listener needs it: who it is and its current CR credentials (which the ACS
/// may have changed by SetParameterValues).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrDevice {
    pub index: u32,
    pub username: String,
    pub password: String,
}

/// The outcome of one request, also its metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CrResult {
    /// Valid: 200, the device starts a `6 CONNECTION REQUEST` session.
    Accepted,
    /// No or stale credentials: 401 with a fresh challenge.
    Challenged,
    /// Credentials presented and wrong: 401 (and the CPE must not contact the ACS).
    AuthFailed,
    /// No device at this path: 404.
    NotFound,
    /// The device's inbox is full or it refuses for now (rate limit): 503.
    Busy,
    RateLimited,
    /// Not a GET, or unparsable: 405/400.
    BadRequest,
}

impl CrResult {
    pub const ALL: [CrResult; 7] = [
        CrResult::Accepted,
        CrResult::Challenged,
        CrResult::AuthFailed,
        CrResult::NotFound,
        CrResult::Busy,
        CrResult::RateLimited,
        CrResult::BadRequest,
    ];

    pub fn label(self) -> &'static str {
        match self {
            CrResult::Accepted => "accepted",
            CrResult::Challenged => "challenged",
            CrResult::AuthFailed => "auth_failed",
            CrResult::NotFound => "not_found",
            CrResult::Busy => "busy",
            CrResult::RateLimited => "rate_limited",
            CrResult::BadRequest => "bad_request",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            CrResult::Accepted => 200,
            CrResult::Challenged | CrResult::AuthFailed => 401,
            CrResult::NotFound => 404,
            CrResult::Busy | CrResult::RateLimited => 503,
            CrResult::BadRequest => 400,
        }
    }
}

/// Issues and checks nonces and credentials.
#[derive(Debug, Clone)]
pub struct CrAuthenticator {
    pub mode: CrAuth,
    pub realm: String,
    /// Keys the nonce MAC; random per process.
    secret: String,
    /// How long a nonce stays valid.
    pub nonce_ttl_s: u64,
    /// Which nonces were already accepted (shared by clones: one per listener).
    window: Arc<NonceWindow>,
    /// The challenge's `opaque`, derived from the realm once rather than per challenge.
    opaque: String,
}

/// What a check decided, before any header is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Answer 401 with a fresh challenge ([`CrAuthenticator::write_challenge`]).
    Challenge {
        stale: bool,
    },
    Failed,
}

/// Result of checking credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthCheck {
    Ok,
    /// Ask again with this `WWW-Authenticate` value.
    Challenge(String),
    Failed,
}

impl CrAuthenticator {
    pub fn new(mode: CrAuth, realm: &str, secret: &str) -> Self {
        CrAuthenticator {
            mode,
            realm: realm.to_string(),
            secret: secret.to_string(),
            nonce_ttl_s: 60,
            window: Arc::new(NonceWindow::default()),
            opaque: md5_hex(&[realm])[..16].to_string(),
        }
    }

    /// A new nonce: `<issued>.<sequence>.<MAC>`, hex.
    pub fn nonce(&self, now_s: u64) -> String {
        let mut out = Vec::with_capacity(64);
        self.write_nonce(now_s, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// [`CrAuthenticator::nonce`] appended to `out`, with no allocation.
    fn write_nonce(&self, now_s: u64, out: &mut Vec<u8>) {
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        let ts = hex_u64(now_s, &mut a);
        let seq = hex_u64(self.window.issue(), &mut b);
        let mac = md5_hex32(&[&self.secret, ":", ts, ":", seq]);
        for part in [ts.as_bytes(), b".", seq.as_bytes(), b".", &mac] {
            out.extend_from_slice(part);
        }
    }

    /// The nonce's sequence number if this process issued it and it has not expired.
    fn nonce_fresh(&self, nonce: &str, now_s: u64) -> Option<u64> {
        let mut parts = nonce.splitn(3, '.');
        let (ts, seq, mac) = (parts.next()?, parts.next()?, parts.next()?);
        let issued = u64::from_str_radix(ts, 16).ok()?;
        let n = u64::from_str_radix(seq, 16).ok()?;
        let fresh = mac == hex_str(&md5_hex32(&[&self.secret, ":", ts, ":", seq]))
            && issued <= now_s
            && now_s - issued <= self.nonce_ttl_s
            && self.window.in_window(n);
        fresh.then_some(n)
    }

    /// The `WWW-Authenticate` header value for a fresh challenge.
    pub fn challenge(&self, now_s: u64, stale: bool) -> String {
        let mut out = Vec::with_capacity(160);
        self.write_challenge(now_s, stale, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// [`CrAuthenticator::challenge`] appended to `out` (the response being written).
    pub fn write_challenge(&self, now_s: u64, stale: bool, out: &mut Vec<u8>) {
        let realm = self.realm.as_bytes();
        if self.mode == CrAuth::Basic {
            for part in [&b"Basic realm=\""[..], realm, b"\""] {
                out.extend_from_slice(part);
            }
            return;
        }
        for part in [
            &b"Digest realm=\""[..],
            realm,
            b"\", qop=\"auth\", nonce=\"",
        ] {
            out.extend_from_slice(part);
        }
        self.write_nonce(now_s, out);
        for part in [&b"\", opaque=\""[..], self.opaque.as_bytes(), b"\""] {
            out.extend_from_slice(part);
        }
        if stale {
            out.extend_from_slice(b", stale=true");
        }
    }

    /// Checks a request's `Authorization` against the device's CR credentials. `target` is the
    /// request-target the request was sent to (path and query): a Digest response computed for
    /// another `uri` authorises nothing here (RFC 7616 §3.4.6).
    pub fn check(
        &self,
        authorization: Option<&str>,
        method: &str,
        target: &str,
        dev: &CrDevice,
        now_s: u64,
    ) -> AuthCheck {
        match self.verdict(authorization, method, target, dev, now_s) {
            Verdict::Ok => AuthCheck::Ok,
            Verdict::Failed => AuthCheck::Failed,
            Verdict::Challenge { stale } => AuthCheck::Challenge(self.challenge(now_s, stale)),
        }
    }

    /// [`CrAuthenticator::check`] without writing the challenge: the listener writes it
    /// straight into its response. The header is read in place (no strings per request).
    pub fn verdict(
        &self,
        authorization: Option<&str>,
        method: &str,
        target: &str,
        dev: &CrDevice,
        now_s: u64,
    ) -> Verdict {
        if self.mode == CrAuth::None {
            return Verdict::Ok;
        }
        let Some(h) = authorization else {
            return Verdict::Challenge { stale: false };
        };
        let h = h.trim();
        let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
        if scheme.eq_ignore_ascii_case("digest")
            && matches!(self.mode, CrAuth::Digest | CrAuth::DigestOrBasic)
        {
            let Some(r) = DigestAuthorization::parse(rest) else {
                return Verdict::Failed;
            };
            if r.username.value() != dev.username
                || r.realm.value() != self.realm
                || !same_target(&r.uri.value(), target)
            {
                return Verdict::Failed;
            }
            let Some(seq) = self.nonce_fresh(&r.nonce.value(), now_s) else {
                return Verdict::Challenge { stale: true };
            };
            if !r.verify(&dev.password, method) {
                return Verdict::Failed;
            }
            // Single use: the same Authorization again (a replay, whatever its nc) is stale.
            return if self.window.consume(seq) {
                Verdict::Ok
            } else {
                Verdict::Challenge { stale: true }
            };
        }
        if scheme.eq_ignore_ascii_case("basic")
            && matches!(self.mode, CrAuth::Basic | CrAuth::DigestOrBasic)
        {
            return match basic::parse(h) {
                Some((u, p)) if u == dev.username && p == dev.password => Verdict::Ok,
                _ => Verdict::Failed,
            };
        }
        Verdict::Challenge { stale: false }
    }
}

/// `v` in lower-case hex in `buf`, without leading zeros.
fn hex_u64(v: u64, buf: &mut [u8; 16]) -> &str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = DIGITS[(v & 0xf) as usize];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

/// Whether a Digest `uri` names the request-target: the same path and query, also when the
/// client wrote the absolute form (`http://host:port/path`, RFC 9112 §3.2.2).
fn same_target(uri: &str, target: &str) -> bool {
    let path = match uri.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => uri,
    };
    path == target
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Challenge, DigestChallenge};

    fn dev() -> CrDevice {
        CrDevice {
            index: 7,
            username: "00D09E-HGW181-CPF00000007".into(),
            password: "s3cret".into(),
        }
    }

    fn answer(challenge: &str, user: &str, pass: &str, uri: &str) -> String {
        let Ok(Some(Challenge::Digest(c))) = Challenge::parse(challenge) else {
            panic!("not a digest challenge: {challenge}");
        };
        c.authorization(user, pass, "GET", uri, 1, "0a4f113b")
    }

    #[test]
    fn digest_flow_like_genieacs() {
        let a = CrAuthenticator::new(CrAuth::Digest, "cpefleet", "k");
        let d = dev();
        let AuthCheck::Challenge(ch) = a.check(None, "GET", "/cr/7", &d, 1000) else {
            panic!("expected a challenge");
        };
        assert!(ch.starts_with("Digest realm=\"cpefleet\", qop=\"auth\", nonce=\""));
        let good = answer(&ch, &d.username, "s3cret", "/cr/7");
        assert_eq!(
            a.check(Some(&good), "GET", "/cr/7", &d, 1005),
            AuthCheck::Ok
        );
        let bad = answer(&ch, &d.username, "guess", "/cr/7");
        assert_eq!(
            a.check(Some(&bad), "GET", "/cr/7", &d, 1005),
            AuthCheck::Failed
        );
        let wrong_user = answer(&ch, "someone", "s3cret", "/cr/7");
        assert_eq!(
            a.check(Some(&wrong_user), "GET", "/cr/7", &d, 1005),
            AuthCheck::Failed
        );
        // An old nonce is answered with a stale challenge, not a failure.
        match a.check(Some(&good), "GET", "/cr/7", &d, 1000 + 61) {
            AuthCheck::Challenge(c) => assert!(c.contains("stale=true")),
            other => panic!("expected stale challenge, got {other:?}"),
        }
    }

    #[test]
    fn a_replayed_authorization_is_refused() {
        let a = CrAuthenticator::new(CrAuth::Digest, "cpefleet", "k");
        let d = dev();
        let AuthCheck::Challenge(ch) = a.check(None, "GET", "/cr/7", &d, 1000) else {
            panic!("expected a challenge");
        };
        let good = answer(&ch, &d.username, "s3cret", "/cr/7");
        assert_eq!(
            a.check(Some(&good), "GET", "/cr/7", &d, 1001),
            AuthCheck::Ok
        );
        // Byte for byte again (same nonce, nc, cnonce), well within the nonce's 60 s.
        match a.check(Some(&good), "GET", "/cr/7", &d, 1002) {
            AuthCheck::Challenge(c) => assert!(c.contains("stale=true")),
            other => panic!("a replay must not be accepted: {other:?}"),
        }
        // A clone (another listener task) shares what was used.
        let b = a.clone();
        assert_ne!(
            b.check(Some(&good), "GET", "/cr/7", &d, 1003),
            AuthCheck::Ok
        );
    }

    #[test]
    fn the_digest_uri_must_be_the_request_target() {
        let a = CrAuthenticator::new(CrAuth::Digest, "cpefleet", "k");
        let d = dev();
        let AuthCheck::Challenge(ch) = a.check(None, "GET", "/cr/7", &d, 1000) else {
            panic!("expected a challenge");
        };
        let elsewhere = answer(&ch, &d.username, "s3cret", "/cr/8");
        assert_eq!(
            a.check(Some(&elsewhere), "GET", "/cr/7", &d, 1001),
            AuthCheck::Failed
        );
        let absolute = answer(&ch, &d.username, "s3cret", "http://10.0.0.1:7547/cr/7");
        assert_eq!(
            a.check(Some(&absolute), "GET", "/cr/7", &d, 1001),
            AuthCheck::Ok
        );
        assert!(same_target("https://h/cr/7?x=1", "/cr/7?x=1"));
        assert!(!same_target("http://h", "/cr/7"));
    }

    #[test]
    fn forged_nonces_are_refused() {
        let a = CrAuthenticator::new(CrAuth::Digest, "cpefleet", "k");
        let other = CrAuthenticator::new(CrAuth::Digest, "cpefleet", "other-key");
        let d = dev();
        let forged = DigestChallenge {
            realm: "cpefleet".into(),
            nonce: other.nonce(1000),
            opaque: None,
            algorithm: crate::auth::digest::Algorithm::Md5,
            qop_auth: true,
            stale: false,
        }
        .authorization(&d.username, &d.password, "GET", "/cr/7", 1, "c");
        assert!(matches!(
            a.check(Some(&forged), "GET", "/cr/7", &d, 1001),
            AuthCheck::Challenge(_)
        ));
        assert!(a.nonce_fresh("zz.abc", 5).is_none());
        assert!(a.nonce_fresh("nodot", 5).is_none());
        assert!(a.nonce_fresh("1.zz.abc", 5).is_none());
    }

    #[test]
    fn basic_only_when_configured() {
        let d = dev();
        let h = basic::authorization(&d.username, &d.password);
        let digest_only = CrAuthenticator::new(CrAuth::Digest, "r", "k");
        assert!(matches!(
            digest_only.check(Some(&h), "GET", "/cr/7", &d, 1),
            AuthCheck::Challenge(_)
        ));
        let both = CrAuthenticator::new(CrAuth::DigestOrBasic, "r", "k");
        assert_eq!(both.check(Some(&h), "GET", "/cr/7", &d, 1), AuthCheck::Ok);
        let wrong = basic::authorization(&d.username, "nope");
        assert_eq!(
            both.check(Some(&wrong), "GET", "/cr/7", &d, 1),
            AuthCheck::Failed
        );
        let none = CrAuthenticator::new(CrAuth::None, "r", "k");
        assert_eq!(none.check(None, "GET", "/cr/7", &d, 1), AuthCheck::Ok);
    }

    #[test]
    fn hex_and_written_challenges() {
        let mut b = [0u8; 16];
        assert_eq!(hex_u64(0, &mut b), "0");
        assert_eq!(hex_u64(0x6931_2a00, &mut b), "69312a00");
        assert_eq!(hex_u64(u64::MAX, &mut b), "ffffffffffffffff");
        let a = CrAuthenticator::new(CrAuth::Digest, "cpefleet", "k");
        let c = a.challenge(0x1000, true);
        assert!(c.starts_with("Digest realm=\"cpefleet\", qop=\"auth\", nonce=\"1000.0."));
        assert!(c.ends_with(&format!(
            "\", opaque=\"{}\", stale=true",
            &md5_hex(&["cpefleet"])[..16]
        )));
        assert!(a
            .nonce_fresh(
                c[c.find("nonce=\"").unwrap() + 7..]
                    .split('"')
                    .next()
                    .unwrap(),
                0x1001
            )
            .is_some());
        let basic = CrAuthenticator::new(CrAuth::Basic, "r", "k");
        assert_eq!(basic.challenge(1, false), "Basic realm=\"r\"");
    }

    #[test]
    fn results_map_to_statuses() {
        let statuses: Vec<u16> = CrResult::ALL.iter().map(|r| r.status()).collect();
        assert_eq!(statuses, vec![200, 401, 401, 404, 503, 503, 400]);
        let labels: std::collections::HashSet<_> =
            CrResult::ALL.iter().map(|r| r.label()).collect();
        assert_eq!(labels.len(), CrResult::ALL.len());
    }
}
