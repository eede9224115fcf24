use super::*;

/// RFC 5769 §2.1: sample request (SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME,
/// MESSAGE-INTEGRITY, FINGERPRINT), short-term password below.
const RFC5769_REQUEST: [u8; 108] = [
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
];

/// RFC 5769 §2.2: sample IPv4 response, XOR-MAPPED-ADDRESS 192.0.2.1:32853.
const RFC5769_RESPONSE: [u8; 80] = [
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
];

const RFC5769_PASSWORD: &[u8] = b"VOkJxbRl1RmTxUk/WvJxBt";

#[test]
fn rfc5769_request_integrity_verifies() {
    let m = decode(&RFC5769_REQUEST).unwrap();
    assert_eq!(m.kind, Kind::BindingRequest);
    assert!(m.is_rfc5389());
    assert_eq!(m.username.as_deref(), Some("evtj:h6vY"));
    assert!(m.verify_integrity(&RFC5769_REQUEST, RFC5769_PASSWORD));
    assert!(!m.verify_integrity(&RFC5769_REQUEST, b"wrong"));
    // PRIORITY (0x0024) is comprehension-required and unknown here; ICE-CONTROLLED is not.
    assert_eq!(m.unknown_required, vec![0x0024]);
}

#[test]
fn rfc5769_response_address_and_integrity() {
    let m = decode(&RFC5769_RESPONSE).unwrap();
    assert_eq!(m.kind, Kind::BindingSuccess);
    assert_eq!(m.address(), Some("192.0.2.1:32853".parse().unwrap()));
    assert!(m.verify_integrity(&RFC5769_RESPONSE, RFC5769_PASSWORD));
    // Our builder produces the same XOR-MAPPED-ADDRESS bytes and the same MAC over them.
    let b = Builder::new(Kind::BindingSuccess, &m.txid)
        .xor_mapped("192.0.2.1:32853".parse().unwrap())
        .finish();
    assert_eq!(&b[24..32], &RFC5769_RESPONSE[40..48]);
}

#[test]
fn tr111_request_round_trips_in_both_framings() {
    for id in [Builder::rfc5389_id(0xfeed_beef), [7u8; 16]] {
        let raw = Builder::new(Kind::BindingRequest, &id)
            .connection_request_binding()
            .binding_change()
            .username("cpe-42")
            .integrity(b"stunpass")
            .finish();
        let m = decode(&raw).unwrap();
        assert!(m.connection_request_binding && m.binding_change);
        assert_eq!(m.username.as_deref(), Some("cpe-42"));
        assert!(
            m.verify_integrity(&raw, b"stunpass"),
            "{:?}",
            m.is_rfc5389()
        );
        assert!(!m.verify_integrity(&raw, b"other"));
        assert_eq!(&raw[24..44], TR111_BINDING_VALUE);
    }
}

#[test]
fn addresses_round_trip_v4_and_v6_plain_and_xor() {
    let id = Builder::rfc5389_id(42);
    for a in ["10.1.2.3:7547", "[2001:db8::7]:30005"] {
        let addr: SocketAddr = a.parse().unwrap();
        let raw = Builder::new(Kind::BindingSuccess, &id)
            .mapped(addr)
            .xor_mapped(addr)
            .finish();
        let m = decode(&raw).unwrap();
        assert_eq!((m.mapped, m.xor_mapped), (Some(addr), Some(addr)));
    }
    let raw = Builder::new(Kind::BindingError, &id)
        .error(401, "Unauthorized")
        .finish();
    assert_eq!(
        decode(&raw).unwrap().error,
        Some((401, "Unauthorized".into()))
    );
}

#[test]
fn hostile_input_is_an_error_never_a_panic() {
    assert_eq!(decode(&[]), Err(StunError::TooShort));
    assert_eq!(decode(&[0u8; 600]), Err(StunError::TooLong));
    assert_eq!(decode(b"GET http://x HTTP/1.1"), Err(StunError::NotBinding));
    let mut bad = RFC5769_RESPONSE;
    bad[3] = 0x40;
    assert_eq!(decode(&bad), Err(StunError::LengthMismatch));
    let mut trunc = RFC5769_RESPONSE;
    trunc[22..24].copy_from_slice(&[0x00, 0xff]);
    assert_eq!(decode(&trunc), Err(StunError::Truncated));
    // Every prefix and every single-byte corruption of a valid message: no panic.
    for n in 0..RFC5769_REQUEST.len() {
        let _ = decode(&RFC5769_REQUEST[..n]);
    }
    for i in 0..RFC5769_REQUEST.len() {
        for v in [0x00, 0x01, 0x7f, 0xff] {
            let mut m = RFC5769_REQUEST;
            m[i] = v;
            if let Ok(msg) = decode(&m) {
                let _ = msg.verify_integrity(&m, RFC5769_PASSWORD);
            }
        }
    }
    // Many empty attributes: bounded.
    let mut many = Builder::new(Kind::BindingRequest, &[1; 16]);
    for _ in 0..30 {
        many = many.binding_change();
    }
    assert_eq!(decode(&many.finish()), Err(StunError::TooManyAttributes));
    for e in [StunError::TooShort, StunError::BadAddress] {
        assert!(!e.label().is_empty());
    }
}
