//! HMAC-SHA1 (RFC 2104): the signature of a UDP connection request (TR-069 Annex G) and the
//! MESSAGE-INTEGRITY of a STUN message (RFC 5389 §15.4). SHA-1 is what both specs fix; ring
//! names it "for legacy use only" for that reason.

use ring::hmac;

/// HMAC-SHA1 of the concatenated `parts` under `key`.
pub fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> [u8; 20] {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key);
    let mut ctx = hmac::Context::with_key(&key);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 20];
    out.copy_from_slice(ctx.sign().as_ref());
    out
}

/// Lower-case hex HMAC-SHA1, as a UDP connection request's `sig` carries it.
pub fn hmac_sha1_hex(key: &[u8], parts: &[&[u8]]) -> String {
    hex::encode(hmac_sha1(key, parts))
}

/// Whether `mac` equals the HMAC-SHA1 of `parts`, without an early exit.
pub fn hmac_sha1_verify(key: &[u8], parts: &[&[u8]], mac: &[u8]) -> bool {
    super::digest::constant_time_eq(&hmac_sha1(key, parts), mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_2202_vectors() {
        // RFC 2202 test cases 1 and 2 for HMAC-SHA1.
        assert_eq!(
            hmac_sha1_hex(&[0x0b; 20], &[b"Hi There"]),
            "b617318655057264e28bc0b6fb378c8ef146be00"
        );
        assert_eq!(
            hmac_sha1_hex(b"Jefe", &[b"what do ya want ", b"for nothing?"]),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        let mac = hmac_sha1(b"Jefe", &[b"what do ya want for nothing?"]);
        assert!(hmac_sha1_verify(
            b"Jefe",
            &[b"what do ya want for nothing?"],
            &mac
        ));
        assert!(!hmac_sha1_verify(
            b"Jefe",
            &[b"what do ya want for nothing!"],
            &mac
        ));
        assert!(!hmac_sha1_verify(b"Jefe", &[b""], &mac[..19]));
    }
}
