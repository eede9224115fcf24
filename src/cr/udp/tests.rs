use std::time::Duration;

use super::message::build;
use super::*;

const NOW: u64 = 1_764_770_000;

fn sample(ts: u64, id: &str) -> String {
    build(
        "10.0.0.1:30005",
        ts,
        id,
        "00D09E-HGW181-SMOKE%2D1",
        "c0ffee",
        "s3cret",
    )
}

#[test]
fn a_genieacs_style_request_verifies() {
    let raw = sample(NOW, "42");
    let cr = UdpCr::parse(raw.as_bytes()).unwrap();
    assert_eq!((cr.ts, cr.id, cr.cn), (NOW, "42", "c0ffee"));
    assert_eq!(cr.verify("00D09E-HGW181-SMOKE%2D1", "s3cret"), Ok(()));
    assert_eq!(
        cr.verify("00D09E-HGW181-SMOKE%2D1", "other"),
        Err(UdpCrReject::BadSignature)
    );
    assert_eq!(
        cr.verify("someone", "s3cret"),
        Err(UdpCrReject::UnknownUser)
    );
    // Upper-case hex is the same signature.
    let upper = raw.replace(
        &raw[raw.find("sig=").unwrap() + 4..][..40],
        &raw[raw.find("sig=").unwrap() + 4..][..40].to_uppercase(),
    );
    assert_eq!(
        UdpCr::parse(upper.as_bytes())
            .unwrap()
            .verify("00D09E-HGW181-SMOKE%2D1", "s3cret"),
        Ok(())
    );
    assert_eq!(cr.fresh(NOW + 30, 60), Ok(()));
    assert_eq!(cr.fresh(NOW + 61, 60), Err(UdpCrReject::StaleTimestamp));
}

#[test]
fn an_encoded_username_is_signed_as_decoded() {
    // An ACS that encodes: the username is "a b", signed as "a b", sent as "a%20b".
    let ts = NOW.to_string();
    let parts: [&[u8]; 4] = [ts.as_bytes(), b"7", b"a b", b"n"];
    let sig = crate::auth::hmac::hmac_sha1_hex(b"pw", &parts);
    let raw = format!(
        "GET http://h:1?ts={NOW}&id=7&un=a%20b&cn=n&sig={sig} HTTP/1.1\r\nHost: h:1\r\n\r\n"
    );
    let cr = UdpCr::parse(raw.as_bytes()).unwrap();
    assert_eq!(cr.usernames()[1], "a b");
    assert_eq!(cr.verify("a b", "pw"), Ok(()));
}

#[test]
fn garbage_is_malformed_or_missing_never_a_panic() {
    for (raw, want) in [
        (&b""[..], UdpCrReject::Malformed),
        (b"\xff\xfe", UdpCrReject::Malformed),
        (b"POST http://h?ts=1 HTTP/1.1", UdpCrReject::Malformed),
        (b"GET http://h HTTP/1.1", UdpCrReject::Malformed),
        (
            b"GET http://h?ts=x&id=1&un=u&cn=c&sig=s HTTP/1.1",
            UdpCrReject::Malformed,
        ),
        (
            b"GET http://h?ts=1&id=1&un=u&cn=c HTTP/1.1",
            UdpCrReject::MissingField,
        ),
        (
            b"GET http://h?ts=1&id=1&un=u&cn=c&sig=s SPDY/3",
            UdpCrReject::Malformed,
        ),
    ] {
        assert_eq!(
            UdpCr::parse(raw),
            Err(want),
            "{:?}",
            String::from_utf8_lossy(raw)
        );
    }
    let long = vec![b'G'; 70_000];
    assert_eq!(UdpCr::parse(&long), Err(UdpCrReject::Malformed));
    let labels: std::collections::HashSet<_> = UdpCrReject::ALL.iter().map(|r| r.label()).collect();
    assert_eq!(labels.len(), UdpCrReject::ALL.len());
    for (i, r) in UdpCrReject::ALL.iter().enumerate() {
        assert_eq!(r.slot(), i);
    }
}

#[test]
fn retransmissions_and_older_messages_are_replays() {
    let w = ReplayWindow::new(2);
    let (a, b, old) = (sample(NOW, "1"), sample(NOW, "2"), sample(NOW - 5, "3"));
    let (a, b, old) = (
        UdpCr::parse(a.as_bytes()).unwrap(),
        UdpCr::parse(b.as_bytes()).unwrap(),
        UdpCr::parse(old.as_bytes()).unwrap(),
    );
    assert_eq!(w.check(0, &a), Ok(()));
    w.record(0, &a);
    assert_eq!(w.check(0, &a), Err(UdpCrReject::Replayed), "a second copy");
    assert_eq!(w.check(0, &b), Ok(()), "a new id in the same second");
    assert_eq!(
        w.check(0, &old),
        Err(UdpCrReject::Replayed),
        "older than the last accepted"
    );
    assert_eq!(w.check(1, &a), Ok(()), "per device");
    assert_eq!(w.check(9, &a), Err(UdpCrReject::UnknownUser));
    w.forget(0);
    assert_eq!(w.check(0, &a), Ok(()));
}

#[test]
fn nat_expires_idle_mappings_and_changes_at_its_rate() {
    let spec = NatSpec {
        mapping_lifetime: Duration::from_secs(60),
        changes_per_hour: 6.0,
        ports: 4,
    };
    let m = NatModel::new(spec, 7);
    assert_eq!(m.step(1, 0, Duration::from_secs(61)), NatEvent::Expired);
    // 6/h with 30 s keep-alives: p = 1 - e^(-0.05) ≈ 4.9 % of keep-alives see a change.
    let n = 20_000u32;
    let changed = (0..n)
        .filter(|i| m.step(*i, 3, Duration::from_secs(30)) == NatEvent::Changed)
        .count() as f64
        / f64::from(n);
    assert!((changed - 0.0488).abs() < 0.006, "{changed}");
    // Reproducible, and zero rate never changes.
    assert_eq!(
        m.step(5, 9, Duration::from_secs(30)),
        m.step(5, 9, Duration::from_secs(30))
    );
    let still = NatModel::new(
        NatSpec {
            changes_per_hour: 0.0,
            ..spec
        },
        7,
    );
    assert!((0..1000).all(|i| still.step(i, 1, Duration::from_secs(59)) == NatEvent::Kept));
    // A new mapping moves to another port; ports stay in range.
    let mut seen = [0u32; 4];
    for i in 0..1000 {
        let mut slot = m.first_slot(i);
        for e in 1..5 {
            let next = m.next_slot(i, e, slot);
            assert!(next != slot && next < 4);
            seen[usize::from(next)] += 1;
            slot = next;
        }
    }
    assert!(seen.iter().all(|n| *n > 800), "{seen:?}");
    let one = NatModel::new(NatSpec { ports: 1, ..spec }, 7);
    assert_eq!((one.first_slot(3), one.next_slot(3, 2, 0)), (0, 0));
}
