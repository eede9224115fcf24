//! The UDP connection request (TR-069 Annex G, from TR-111 Part 2), checked: one datagram
//! holding an HTTP/1.1 request line `GET http://host:port?ts=…&id=…&un=…&cn=…&sig=… HTTP/1.1`
//! and a `Host` header, no body. Pure: no socket, no clock (the caller passes the time).

use crate::auth::hmac::hmac_sha1_hex;
use crate::net::query::{percent_decode, raw_param};

/// Longest datagram read as a request: the request line with a 256-character username (the
/// data model's limit) and its `Host` line fit well inside.
pub const MAX_DATAGRAM: usize = 1500;

/// Why a UDP connection request was ignored; also its metric label. TR-069 Annex G: the CPE
/// never answers a UDP connection request, so the reason is only counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum UdpCrReject {
    #[error("not an HTTP GET request line with a query")]
    Malformed,
    #[error("a required field (ts, id, un, cn, sig) is missing")]
    MissingField,
    #[error("no device has this username")]
    UnknownUser,
    #[error("signature does not match")]
    BadSignature,
    #[error("timestamp outside the accepted window")]
    StaleTimestamp,
    #[error("same or older message than the last one accepted")]
    Replayed,
    #[error("the device's inbox is full")]
    Busy,
    #[error("rate-limited by the device")]
    RateLimited,
}

impl UdpCrReject {
    pub const ALL: [UdpCrReject; 8] = [
        UdpCrReject::Malformed,
        UdpCrReject::MissingField,
        UdpCrReject::UnknownUser,
        UdpCrReject::BadSignature,
        UdpCrReject::StaleTimestamp,
        UdpCrReject::Replayed,
        UdpCrReject::Busy,
        UdpCrReject::RateLimited,
    ];

    pub fn label(&self) -> &'static str {
        match self {
            UdpCrReject::Malformed => "malformed",
            UdpCrReject::MissingField => "missing_field",
            UdpCrReject::UnknownUser => "unknown_user",
            UdpCrReject::BadSignature => "bad_signature",
            UdpCrReject::StaleTimestamp => "stale_timestamp",
            UdpCrReject::Replayed => "replayed",
            UdpCrReject::Busy => "busy",
            UdpCrReject::RateLimited => "rate_limited",
        }
    }

    /// Position in [`UdpCrReject::ALL`], for fixed-size counters.
    pub fn slot(self) -> usize {
        self as usize
    }
}

/// The five fields, as sent (still URL-encoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpCr<'a> {
    pub ts: u64,
    pub id: &'a str,
    pub un: &'a str,
    pub cn: &'a str,
    pub sig: &'a str,
}

impl<'a> UdpCr<'a> {
    /// Reads the request line of `datagram`. The `Host` header is not needed to decide.
    pub fn parse(datagram: &'a [u8]) -> Result<UdpCr<'a>, UdpCrReject> {
        let bytes = datagram
            .get(..datagram.len().min(MAX_DATAGRAM))
            .unwrap_or(&[]);
        let line_end = bytes.iter().position(|b| *b == b'\r' || *b == b'\n');
        let line = std::str::from_utf8(&bytes[..line_end.unwrap_or(bytes.len())])
            .map_err(|_| UdpCrReject::Malformed)?;
        let mut parts = line.split(' ');
        let (Some("GET"), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(UdpCrReject::Malformed);
        };
        if !version.starts_with("HTTP/1.") || parts.next().is_some() {
            return Err(UdpCrReject::Malformed);
        }
        let (_, query) = target.split_once('?').ok_or(UdpCrReject::Malformed)?;
        let field = |k| raw_param(query, k).ok_or(UdpCrReject::MissingField);
        let ts = field("ts")?;
        Ok(UdpCr {
            ts: ts.parse().map_err(|_| UdpCrReject::Malformed)?,
            id: field("id")?,
            un: field("un")?,
            cn: field("cn")?,
            sig: field("sig")?,
        })
    }

    /// The username as the ACS meant it. GenieACS puts it in the query unencoded (its device
    /// ids contain `%2D`-style escapes of their own), others encode it; both forms are tried.
    pub fn usernames(&self) -> [String; 2] {
        [self.un.to_string(), percent_decode(self.un)]
    }

    /// Checks `un` and `sig` against the device's credentials: `sig` = hex HMAC-SHA1 with the
    /// ConnectionRequestPassword as key over ts‖id‖un‖cn (TR-069 Annex G), compared without
    /// regard to case. Each field is tried as sent and decoded, the way the ACS signed it.
    pub fn verify(&self, username: &str, password: &str) -> Result<(), UdpCrReject> {
        let ts = self.ts.to_string();
        let raw = [self.id, self.un, self.cn];
        let decoded = raw.map(percent_decode);
        let mut user_seen = false;
        for [id, un, cn] in [raw.map(str::to_string), decoded] {
            if un != username {
                continue;
            }
            user_seen = true;
            let parts: [&[u8]; 4] = [ts.as_bytes(), id.as_bytes(), un.as_bytes(), cn.as_bytes()];
            let mac = hmac_sha1_hex(password.as_bytes(), &parts);
            let sig = self.sig.as_bytes();
            if sig.len() == mac.len()
                && crate::auth::digest::constant_time_eq(&sig.to_ascii_lowercase(), mac.as_bytes())
            {
                return Ok(());
            }
        }
        Err(if user_seen {
            UdpCrReject::BadSignature
        } else {
            UdpCrReject::UnknownUser
        })
    }

    /// Whether `ts` is within `window_s` of `now_s` (TR-069 Annex G lets a CPE with a clock
    /// ignore messages whose timestamp is too far from its own time).
    pub fn fresh(&self, now_s: u64, window_s: u64) -> Result<(), UdpCrReject> {
        if self.ts.abs_diff(now_s) > window_s {
            return Err(UdpCrReject::StaleTimestamp);
        }
        Ok(())
    }

    /// A 32-bit digest of `id`, what the replay window keeps per device.
    pub fn id_digest(&self) -> u32 {
        crate::seed::fnv1a(self.id.as_bytes()) as u32
    }
}

/// Builds a UDP connection request the way GenieACS does (the embedded ACS sends these, and
/// tests use them): `id` and `cn` given, `sig` computed.
pub fn build(host_port: &str, ts: u64, id: &str, un: &str, cn: &str, password: &str) -> String {
    let ts_s = ts.to_string();
    let parts: [&[u8]; 4] = [ts_s.as_bytes(), id.as_bytes(), un.as_bytes(), cn.as_bytes()];
    let sig = hmac_sha1_hex(password.as_bytes(), &parts);
    format!(
        "GET http://{host_port}?ts={ts}&id={id}&un={un}&cn={cn}&sig={sig} HTTP/1.1\r\nHost: {host_port}\r\n\r\n"
    )
}
