//! HTTP Digest authentication of CPEs (stateless nonces), held per TCP connection like GenieACS.

use super::*;

#[derive(Debug)]
pub(super) struct Auth {
    pub(super) user: String,
    pub(super) pass: String,
    /// Keys the stateless nonces; random per ACS.
    pub(super) secret: String,
}

impl Auth {
    /// 32 hex digits: the issue time and a MAC over it, so any connection can present it and
    /// nothing is stored per challenge.
    pub(super) fn nonce(&self, now_s: u64) -> String {
        let ts = format!("{:08x}", now_s & 0xffff_ffff);
        let mac = md5_hex(&[&self.secret, ":", &ts]);
        format!("{ts}{}", mac.get(..24).unwrap_or_default())
    }

    pub(super) fn nonce_fresh(&self, nonce: &str, now_s: u64) -> bool {
        let (Some(ts), Some(_)) = (nonce.get(..8), nonce.get(8..)) else {
            return false;
        };
        let Ok(issued) = u64::from_str_radix(ts, 16) else {
            return false;
        };
        let now = now_s & 0xffff_ffff;
        nonce.len() == 32
            && self.nonce(issued) == nonce
            && issued <= now
            && now - issued <= NONCE_TTL_S
    }

    pub(super) fn challenge(&self, now_s: u64, stale: bool) -> String {
        format!(
            "Digest realm=\"{REALM}\",qop=\"auth\",nonce=\"{}\"{}",
            self.nonce(now_s),
            if stale { ",stale=true" } else { "" }
        )
    }
}

/// `Ok` when the connection is (now) authenticated; else the 401 to send.
pub(super) fn authenticate(
    shared: &Shared,
    conn: &ConnState,
    authorization: Option<&str>,
) -> Option<Resp> {
    let auth = shared.auth.as_ref()?;
    if conn.authenticated.load(Relaxed) || shared.bad.has(Misbehave::NoAuth) {
        return None;
    }
    let now_s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let challenge = |stale: bool| {
        if conn.challenges.fetch_add(1, Relaxed) >= MAX_CHALLENGES {
            shared.store.rejected("auth_failed");
            return Some(unauthorized(None));
        }
        shared.store.rejected("auth_challenge");
        Some(unauthorized(Some(auth.challenge(now_s, stale))))
    };
    let Some(h) = authorization else {
        return challenge(false);
    };
    let h = h.trim();
    let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
    let parsed = scheme
        .eq_ignore_ascii_case("digest")
        .then(|| DigestResponse::parse(rest))
        .flatten();
    let ok = parsed.as_ref().is_some_and(|r| {
        r.username == auth.user && r.realm == REALM && r.verify(&auth.pass, "POST")
    });
    match parsed {
        Some(r) if ok && auth.nonce_fresh(&r.nonce, now_s) => {
            conn.authenticated.store(true, Relaxed);
            None
        }
        // Right credentials on an old or foreign nonce: ask again.
        Some(_) if ok => challenge(true),
        _ => {
            shared.store.rejected("auth_failed");
            Some(unauthorized(None))
        }
    }
}
