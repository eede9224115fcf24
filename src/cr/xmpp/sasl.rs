//! SASL for an XMPP client (RFC 6120 §6): PLAIN (RFC 4616) and SCRAM-SHA-1 (RFC 5802).
//!
//! Both, because a server on plain TCP decides: Prosody offers PLAIN on an unencrypted stream
//! only with `allow_unencrypted_plain_auth`, and always offers SCRAM-SHA-1 (its password is
//! never sent). GenieACS's client prefers PLAIN and falls back to SCRAM-SHA-1; so do we.
//! Pure: the nonce comes from the caller.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sha1::{Digest, Sha1};

use super::error::XmppError;

pub const NS_SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";

/// The mechanisms we speak, in order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    Plain,
    ScramSha1,
}

impl Mechanism {
    /// Picks from what `<mechanisms>` offered.
    pub fn choose<'a>(offered: impl IntoIterator<Item = &'a str>) -> Option<Mechanism> {
        let offered: Vec<&str> = offered.into_iter().map(str::trim).collect();
        if offered.contains(&"PLAIN") {
            Some(Mechanism::Plain)
        } else if offered.contains(&"SCRAM-SHA-1") {
            Some(Mechanism::ScramSha1)
        } else {
            None
        }
    }
}

/// `<auth mechanism="PLAIN">` with `\0user\0password`.
pub fn plain_auth(user: &str, password: &str) -> String {
    let msg = B64.encode(format!("\0{user}\0{password}"));
    format!("<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{msg}</auth>")
}

pub fn hmac_sha1(key: &[u8], msg: &[u8]) -> [u8; 20] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..20].copy_from_slice(&Sha1::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha1::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha1::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// PBKDF2-HMAC-SHA1 with one output block (SCRAM's Hi(), RFC 5802 §2.2).
fn hi(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 20] {
    let mut msg = salt.to_vec();
    msg.extend_from_slice(&1u32.to_be_bytes());
    let mut u = hmac_sha1(password, &msg);
    let mut out = u;
    for _ in 1..iterations {
        u = hmac_sha1(password, &u);
        for (o, x) in out.iter_mut().zip(u) {
            *o ^= x;
        }
    }
    out
}

/// SCRAM's name escaping (RFC 5802 §5.1).
fn saslname(s: &str) -> String {
    s.replace('=', "=3D").replace(',', "=2C")
}

/// Iterations a server may ask for; more is a way to burn our CPU.
const MAX_ITERATIONS: u32 = 100_000;

/// A SCRAM-SHA-1 exchange in progress.
#[derive(Debug, Clone)]
pub struct Scram {
    password: String,
    client_first_bare: String,
    nonce: String,
    server_signature: Option<[u8; 20]>,
}

impl Scram {
    /// The client's first message, as the `<auth>` element.
    pub fn start(user: &str, password: &str, nonce: &str) -> (Scram, String) {
        let bare = format!("n={},r={nonce}", saslname(user));
        let msg = B64.encode(format!("n,,{bare}"));
        let s = Scram {
            password: password.to_owned(),
            client_first_bare: bare,
            nonce: nonce.to_owned(),
            server_signature: None,
        };
        let auth = format!("<auth xmlns='{NS_SASL}' mechanism='SCRAM-SHA-1'>{msg}</auth>");
        (s, auth)
    }

    /// Answers the server's `<challenge>` (base64 text) with the `<response>` element.
    pub fn respond(&mut self, challenge_b64: &str) -> Result<String, XmppError> {
        let server_first = decode(challenge_b64)?;
        let (mut r, mut s, mut i) = (None, None, None);
        for part in server_first.split(',') {
            match part.split_at_checked(2) {
                Some(("r=", v)) => r = Some(v),
                Some(("s=", v)) => s = Some(v),
                Some(("i=", v)) => i = v.parse::<u32>().ok(),
                _ => {}
            }
        }
        let (Some(r), Some(s), Some(i)) = (r, s, i) else {
            return Err(XmppError::Scram);
        };
        if !r.starts_with(&self.nonce) || i == 0 || i > MAX_ITERATIONS {
            return Err(XmppError::Scram);
        }
        let salt = B64.decode(s).map_err(|_| XmppError::Scram)?;
        let salted = hi(self.password.as_bytes(), &salt, i);
        let client_key = hmac_sha1(&salted, b"Client Key");
        let stored_key: [u8; 20] = Sha1::digest(client_key).into();
        let without_proof = format!("c=biws,r={r}");
        let auth_message = format!("{},{server_first},{without_proof}", self.client_first_bare);
        let signature = hmac_sha1(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(signature)
            .map(|(k, s)| k ^ s)
            .collect();
        let server_key = hmac_sha1(&salted, b"Server Key");
        self.server_signature = Some(hmac_sha1(&server_key, auth_message.as_bytes()));
        let msg = B64.encode(format!("{without_proof},p={}", B64.encode(proof)));
        Ok(format!("<response xmlns='{NS_SASL}'>{msg}</response>"))
    }

    /// Checks the server's proof in `<success>` (mutual authentication).
    pub fn verify(&self, success_b64: &str) -> Result<(), XmppError> {
        let msg = decode(success_b64)?;
        let v = msg.strip_prefix("v=").ok_or(XmppError::Scram)?;
        let v = B64.decode(v.trim()).map_err(|_| XmppError::Scram)?;
        match self.server_signature {
            Some(sig) if sig.as_slice() == v.as_slice() => Ok(()),
            _ => Err(XmppError::Scram),
        }
    }
}

fn decode(b64: &str) -> Result<String, XmppError> {
    let bytes = B64.decode(b64.trim()).map_err(|_| XmppError::Scram)?;
    String::from_utf8(bytes).map_err(|_| XmppError::Scram)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha1_matches_rfc_2202_case_2() {
        let mac = hmac_sha1(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex::encode(mac), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }

    /// The worked example of RFC 5802 §5 (user "user", password "pencil").
    #[test]
    fn scram_follows_the_rfc_5802_example() {
        let (mut s, auth) = Scram::start("user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");
        assert!(auth.contains(&B64.encode("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL")));
        let server_first = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
        let resp = s.respond(&B64.encode(server_first)).unwrap();
        let expected =
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
        assert!(resp.contains(&B64.encode(expected)), "{resp}");
        assert!(s
            .verify(&B64.encode("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="))
            .is_ok());
        assert_eq!(s.verify(&B64.encode("v=AAAA")), Err(XmppError::Scram));
    }

    #[test]
    fn scram_refuses_a_nonce_that_does_not_extend_ours_and_absurd_iterations() {
        let (mut s, _) = Scram::start("u", "p", "abc");
        assert!(s.respond(&B64.encode("r=xyz,s=QSXC,i=4096")).is_err());
        assert!(s.respond(&B64.encode("r=abcd,s=QSXC,i=99999999")).is_err());
        assert!(s.respond("!!!not base64").is_err());
    }

    #[test]
    fn plain_is_preferred_then_scram() {
        assert_eq!(
            Mechanism::choose(["SCRAM-SHA-1", "PLAIN"]),
            Some(Mechanism::Plain)
        );
        assert_eq!(
            Mechanism::choose(["SCRAM-SHA-1"]),
            Some(Mechanism::ScramSha1)
        );
        assert_eq!(Mechanism::choose(["DIGEST-MD5"]), None);
        assert!(plain_auth("a", "b").contains(&B64.encode("\0a\0b")));
    }
}
