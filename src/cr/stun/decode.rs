//! Bytes to [`Message`]: every read is bounds-checked, every length bounded.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::{attr, xor_mask, Kind, Message, StunError, TxId, HEADER_LEN, MAX_ATTRIBUTES};
use super::{MAX_MESSAGE, TR111_BINDING_VALUE};

/// Decodes one datagram. Attributes after MESSAGE-INTEGRITY are ignored except FINGERPRINT,
/// as RFC 5389 §15.4 requires of a receiver.
pub fn decode(buf: &[u8]) -> Result<Message, StunError> {
    if buf.len() < HEADER_LEN {
        return Err(StunError::TooShort);
    }
    if buf.len() > MAX_MESSAGE {
        return Err(StunError::TooLong);
    }
    let code = u16::from_be_bytes([buf[0], buf[1]]);
    let kind = Kind::from_code(code).ok_or(StunError::NotBinding)?;
    let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
    if len % 4 != 0 || HEADER_LEN + len != buf.len() {
        return Err(StunError::LengthMismatch);
    }
    let mut txid: TxId = [0; 16];
    txid.copy_from_slice(&buf[4..HEADER_LEN]);
    let mut msg = Message {
        kind,
        txid,
        mapped: None,
        xor_mapped: None,
        username: None,
        integrity: None,
        connection_request_binding: false,
        binding_change: false,
        error: None,
        unknown_required: Vec::new(),
    };
    let mut at = HEADER_LEN;
    let mut count = 0;
    while at < buf.len() {
        count += 1;
        if count > MAX_ATTRIBUTES {
            return Err(StunError::TooManyAttributes);
        }
        let head = buf.get(at..at + 4).ok_or(StunError::Truncated)?;
        let ty = u16::from_be_bytes([head[0], head[1]]);
        let vlen = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let value = buf.get(at + 4..at + 4 + vlen).ok_or(StunError::Truncated)?;
        if msg.integrity.is_none() {
            read_attribute(&mut msg, at, ty, value)?;
        }
        at += 4 + vlen.div_ceil(4) * 4;
    }
    Ok(msg)
}

fn read_attribute(msg: &mut Message, at: usize, ty: u16, v: &[u8]) -> Result<(), StunError> {
    match ty {
        attr::MAPPED_ADDRESS => msg.mapped = Some(address(v, None)?),
        attr::XOR_MAPPED_ADDRESS => msg.xor_mapped = Some(address(v, Some(&msg.txid))?),
        attr::USERNAME => msg.username = Some(String::from_utf8_lossy(v).into_owned()),
        attr::MESSAGE_INTEGRITY => {
            let mac: [u8; 20] = v.try_into().map_err(|_| StunError::Truncated)?;
            msg.integrity = Some((at, mac));
        }
        attr::ERROR_CODE => msg.error = Some(error_code(v)?),
        // TR-111 Part 2 fixes the value; anything else is not its attribute.
        attr::CONNECTION_REQUEST_BINDING => {
            msg.connection_request_binding = v == TR111_BINDING_VALUE
        }
        attr::BINDING_CHANGE => msg.binding_change = true,
        t if t < 0x8000 && msg.unknown_required.len() < MAX_ATTRIBUTES => {
            msg.unknown_required.push(t)
        }
        _ => {}
    }
    Ok(())
}

fn error_code(v: &[u8]) -> Result<(u16, String), StunError> {
    let h = v.get(..4).ok_or(StunError::Truncated)?;
    let code = u16::from(h[2] & 0x07) * 100 + u16::from(h[3]);
    Ok((code, String::from_utf8_lossy(&v[4..]).into_owned()))
}

/// (XOR-)MAPPED-ADDRESS: reserved, family, port, address (RFC 5389 §15.1/§15.2).
fn address(v: &[u8], xor: Option<&TxId>) -> Result<SocketAddr, StunError> {
    let h = v.get(..4).ok_or(StunError::BadAddress)?;
    let mask = xor.map(xor_mask).unwrap_or([0; 16]);
    let port = u16::from_be_bytes([h[2] ^ mask[0], h[3] ^ mask[1]]);
    let ip = match (h[1], v.len()) {
        (0x01, 8) => {
            let mut o = [0u8; 4];
            for (i, b) in o.iter_mut().enumerate() {
                *b = v[4 + i] ^ mask[i];
            }
            IpAddr::V4(Ipv4Addr::from(o))
        }
        (0x02, 20) => {
            let mut o = [0u8; 16];
            for (i, b) in o.iter_mut().enumerate() {
                *b = v[4 + i] ^ mask[i];
            }
            IpAddr::V6(Ipv6Addr::from(o))
        }
        _ => return Err(StunError::BadAddress),
    };
    Ok(SocketAddr::new(ip, port))
}
