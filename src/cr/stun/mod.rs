//! STUN Binding messages (RFC 3489 and RFC 5389) with TR-111 Part 2's two attributes, as TR-069
//! Annex G uses them to keep a NAT binding for UDP connection requests open. Pure: bytes in,
//! typed messages out, and back; the decoder is bounded and never panics on hostile input.
//!
//! TR-069 Annex G asks for classic STUN (RFC 3489). RFC 5389 is wire-compatible with it: the
//! first four bytes of a classic 128-bit transaction id are, in RFC 5389, the magic cookie. So
//! one codec speaks both: a message whose id starts with the cookie gets XOR-MAPPED-ADDRESS and
//! RFC 5389 integrity, any other gets MAPPED-ADDRESS and RFC 3489 integrity (HMAC over the
//! message padded to 64 bytes).

use std::net::SocketAddr;

mod decode;
mod encode;

pub use decode::decode;
pub use encode::Builder;

/// RFC 5389 §6.
pub const MAGIC_COOKIE: [u8; 4] = [0x21, 0x12, 0xA4, 0x42];
pub const HEADER_LEN: usize = 20;
/// Largest message accepted or built. A Binding message with TR-111's attributes, a username
/// and integrity is under 200 bytes; RFC 3489 §9 keeps messages under 576-byte datagrams.
pub const MAX_MESSAGE: usize = 576;
/// Most attributes read from one message; more is hostile, not a Binding message.
pub const MAX_ATTRIBUTES: usize = 24;
/// TR-111 Part 2: the value of CONNECTION-REQUEST-BINDING, 20 bytes with the trailing space.
pub const TR111_BINDING_VALUE: &[u8; 20] = b"dslforum.org/TR-111 ";

/// Attribute types (RFC 3489 §11.2, RFC 5389 §18.2, TR-111 Part 2).
pub mod attr {
    pub const MAPPED_ADDRESS: u16 = 0x0001;
    pub const USERNAME: u16 = 0x0006;
    pub const MESSAGE_INTEGRITY: u16 = 0x0008;
    pub const ERROR_CODE: u16 = 0x0009;
    pub const XOR_MAPPED_ADDRESS: u16 = 0x0020;
    /// TR-111 Part 2: marks a Binding Request as keeping a UDP connection-request binding.
    pub const CONNECTION_REQUEST_BINDING: u16 = 0xC001;
    /// TR-111 Part 2: the binding (mapped address) changed since the last request.
    pub const BINDING_CHANGE: u16 = 0xC002;
}

/// The 128-bit transaction id: magic cookie + 96 bits (RFC 5389) or 128 bits (RFC 3489).
pub type TxId = [u8; 16];

/// The message types cpefleet speaks: the Binding method, its three classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    BindingRequest,
    BindingSuccess,
    BindingError,
}

impl Kind {
    pub fn code(self) -> u16 {
        match self {
            Kind::BindingRequest => 0x0001,
            Kind::BindingSuccess => 0x0101,
            Kind::BindingError => 0x0111,
        }
    }
    fn from_code(c: u16) -> Option<Kind> {
        match c {
            0x0001 => Some(Kind::BindingRequest),
            0x0101 => Some(Kind::BindingSuccess),
            0x0111 => Some(Kind::BindingError),
            _ => None,
        }
    }
}

/// A decoded Binding message: the attributes TR-111 needs, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: Kind,
    pub txid: TxId,
    pub mapped: Option<SocketAddr>,
    pub xor_mapped: Option<SocketAddr>,
    pub username: Option<String>,
    /// Byte offset of the MESSAGE-INTEGRITY attribute and its MAC.
    pub integrity: Option<(usize, [u8; 20])>,
    pub connection_request_binding: bool,
    pub binding_change: bool,
    pub error: Option<(u16, String)>,
    /// Comprehension-required attributes (type < 0x8000) this codec does not know: a server
    /// answers 420 for them (RFC 5389 §7.3.1).
    pub unknown_required: Vec<u16>,
}

impl Message {
    /// RFC 5389 framing (the id starts with the magic cookie), else classic RFC 3489.
    pub fn is_rfc5389(&self) -> bool {
        self.txid[..4] == MAGIC_COOKIE
    }

    /// The reflexive address the server saw: XOR-MAPPED-ADDRESS when present (NATs that rewrite
    /// addresses inside payloads cannot touch it), else MAPPED-ADDRESS.
    pub fn address(&self) -> Option<SocketAddr> {
        self.xor_mapped.or(self.mapped)
    }

    /// Whether `raw` (the bytes this message was decoded from) carries a MESSAGE-INTEGRITY made
    /// with `key` (the short-term password, RFC 5389 §15.4).
    pub fn verify_integrity(&self, raw: &[u8], key: &[u8]) -> bool {
        let Some((offset, mac)) = self.integrity else {
            return false;
        };
        match raw.get(..offset) {
            Some(head) => {
                let input = integrity_input(head, self.is_rfc5389());
                crate::auth::hmac::hmac_sha1_verify(key, &[&input], &mac)
            }
            None => false,
        }
    }
}

/// What the HMAC of MESSAGE-INTEGRITY covers, given the message bytes before the attribute.
/// RFC 5389 §15.4: the header's length counts up to and including MESSAGE-INTEGRITY. RFC 3489
/// §11.2.8: the text before the attribute, zero-padded to a multiple of 64 bytes.
pub(crate) fn integrity_input(head: &[u8], rfc5389: bool) -> Vec<u8> {
    let mut input = head.to_vec();
    if rfc5389 {
        let len = (head.len().saturating_sub(HEADER_LEN) + 24) as u16;
        if let Some(l) = input.get_mut(2..4) {
            l.copy_from_slice(&len.to_be_bytes());
        }
    } else {
        input.resize(head.len().div_ceil(64) * 64, 0);
    }
    input
}

/// Why a datagram is not a STUN Binding message; also its metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StunError {
    #[error("shorter than a STUN header")]
    TooShort,
    #[error("longer than {MAX_MESSAGE} bytes")]
    TooLong,
    #[error("not a STUN Binding message")]
    NotBinding,
    #[error("header length disagrees with the datagram")]
    LengthMismatch,
    #[error("attribute runs past the message")]
    Truncated,
    #[error("malformed address attribute")]
    BadAddress,
    #[error("more than {MAX_ATTRIBUTES} attributes")]
    TooManyAttributes,
}

impl StunError {
    pub fn label(&self) -> &'static str {
        match self {
            StunError::TooShort => "too_short",
            StunError::TooLong => "too_long",
            StunError::NotBinding => "not_binding",
            StunError::LengthMismatch => "length_mismatch",
            StunError::Truncated => "truncated",
            StunError::BadAddress => "bad_address",
            StunError::TooManyAttributes => "too_many_attributes",
        }
    }
}

/// XOR mask of an address (RFC 5389 §15.2): cookie then the rest of the id. For a classic
/// (RFC 3489) id this is the id itself, which is what its first four bytes are anyway.
fn xor_mask(txid: &TxId) -> [u8; 16] {
    let mut m = *txid;
    m[..4].copy_from_slice(&MAGIC_COOKIE);
    m
}

#[cfg(test)]
mod tests;
