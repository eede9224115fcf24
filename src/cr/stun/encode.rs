//! [`Builder`]: a Binding message, attribute by attribute, integrity last.

use std::net::{IpAddr, SocketAddr};

use super::TR111_BINDING_VALUE;
use super::{attr, integrity_input, xor_mask, Kind, TxId, HEADER_LEN, MAGIC_COOKIE};

/// Builds one message; [`Builder::finish`] returns the datagram.
#[derive(Debug, Clone)]
pub struct Builder {
    buf: Vec<u8>,
    txid: TxId,
}

impl Builder {
    pub fn new(kind: Kind, txid: &TxId) -> Self {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&kind.code().to_be_bytes());
        buf.extend_from_slice(&[0, 0]);
        buf.extend_from_slice(txid);
        Builder { buf, txid: *txid }
    }

    /// An RFC 5389 id: the cookie and 96 bits from `rest`.
    pub fn rfc5389_id(rest: u128) -> TxId {
        let mut id = [0u8; 16];
        id[..4].copy_from_slice(&MAGIC_COOKIE);
        id[4..].copy_from_slice(&rest.to_be_bytes()[4..]);
        id
    }

    fn attribute(mut self, ty: u16, value: &[u8]) -> Self {
        let len = value.len().min(usize::from(u16::MAX)) as u16;
        self.buf.extend_from_slice(&ty.to_be_bytes());
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(&value[..usize::from(len)]);
        let pad = self.buf.len().next_multiple_of(4) - self.buf.len();
        self.buf.extend(std::iter::repeat_n(0, pad));
        self.set_length(self.buf.len() - HEADER_LEN);
        self
    }

    fn set_length(&mut self, len: usize) {
        self.buf[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    }

    fn address_value(addr: SocketAddr, mask: &[u8; 16]) -> Vec<u8> {
        let port = addr.port().to_be_bytes();
        let mut v = vec![0, 0, port[0] ^ mask[0], port[1] ^ mask[1]];
        match addr.ip() {
            IpAddr::V4(ip) => {
                v[1] = 0x01;
                v.extend(ip.octets().iter().zip(mask).map(|(b, m)| b ^ m));
            }
            IpAddr::V6(ip) => {
                v[1] = 0x02;
                v.extend(ip.octets().iter().zip(mask).map(|(b, m)| b ^ m));
            }
        }
        v
    }

    pub fn mapped(self, addr: SocketAddr) -> Self {
        let v = Self::address_value(addr, &[0; 16]);
        self.attribute(attr::MAPPED_ADDRESS, &v)
    }

    pub fn xor_mapped(self, addr: SocketAddr) -> Self {
        let v = Self::address_value(addr, &xor_mask(&self.txid));
        self.attribute(attr::XOR_MAPPED_ADDRESS, &v)
    }

    pub fn username(self, name: &str) -> Self {
        self.attribute(attr::USERNAME, name.as_bytes())
    }

    /// TR-111 Part 2: this request keeps a UDP connection-request binding.
    pub fn connection_request_binding(self) -> Self {
        self.attribute(attr::CONNECTION_REQUEST_BINDING, TR111_BINDING_VALUE)
    }

    /// TR-111 Part 2: the mapped address changed since the previous request.
    pub fn binding_change(self) -> Self {
        self.attribute(attr::BINDING_CHANGE, &[])
    }

    /// ERROR-CODE (RFC 5389 §15.6): class and number, then the reason phrase.
    pub fn error(self, code: u16, reason: &str) -> Self {
        let mut v = vec![0, 0, (code / 100) as u8 & 0x07, (code % 100) as u8];
        v.extend_from_slice(reason.as_bytes());
        self.attribute(attr::ERROR_CODE, &v)
    }

    /// MESSAGE-INTEGRITY under `key` (the short-term password); the last attribute.
    pub fn integrity(mut self, key: &[u8]) -> Self {
        let rfc5389 = self.txid[..4] == MAGIC_COOKIE;
        if !rfc5389 {
            // RFC 3489 §11.2.8: the header's length already counts the integrity attribute.
            self.set_length(self.buf.len() - HEADER_LEN + 24);
        }
        let mac = crate::auth::hmac::hmac_sha1(key, &[&integrity_input(&self.buf, rfc5389)]);
        self.attribute(attr::MESSAGE_INTEGRITY, &mac)
    }

    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}
