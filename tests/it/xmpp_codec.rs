//! The XMPP core without sockets: the incremental stream reader (split anywhere, bounded,
//! hostile input), the login state machines, the XEP-0114 digest and the Annex K decision.

use cpefleet::cr::xmpp::connreq::{self, XmppCrResult};
use cpefleet::cr::xmpp::handshake::handshake_digest;
use cpefleet::cr::xmpp::{
    ClientLogin, ComponentLogin, Limits, Step, StreamEvent, StreamReader, XmppError,
};

const HEADER: &str = "<?xml version='1.0'?><stream:stream from='example.com' id='abc123' \
    version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
const CR: &str = "<iq type='get' id='cr1' from='acs@example.com/x' to='dev1@example.com/cwmp'>\
    <connectionRequest xmlns='urn:broadband-forum-org:cwmp:xmppConnReq-1-0'>\
    <username>u&amp;1</username><password>p&lt;w</password></connectionRequest></iq>";

fn events(r: &mut StreamReader) -> Result<Vec<StreamEvent>, XmppError> {
    let mut out = Vec::new();
    while let Some(ev) = r.next_event()? {
        out.push(ev);
    }
    Ok(out)
}

fn read_all(input: &str) -> Result<Vec<StreamEvent>, XmppError> {
    let mut r = StreamReader::new(Limits::default());
    r.feed(input.as_bytes())?;
    events(&mut r)
}

#[test]
fn a_stream_split_at_every_byte_gives_the_same_events() {
    let input = format!("{HEADER} \n{CR}<presence/></stream:stream>");
    let whole = read_all(&input).unwrap();
    assert_eq!(whole.len(), 4, "{whole:?}");
    assert!(
        matches!(&whole[0], StreamEvent::Open(a) if a.iter().any(|(k, v)| k == "id" && v == "abc123"))
    );
    assert_eq!(whole[3], StreamEvent::Close);
    for split in 1..input.len() {
        let mut r = StreamReader::new(Limits::default());
        let mut got = Vec::new();
        for chunk in [&input.as_bytes()[..split], &input.as_bytes()[split..]] {
            r.feed(chunk).unwrap();
            got.extend(events(&mut r).unwrap());
        }
        assert_eq!(got, whole, "split at {split}");
    }
}

#[test]
fn the_connection_request_is_parsed_unescaped_and_decided() {
    let evs = read_all(&format!("{HEADER}{CR}")).unwrap();
    let StreamEvent::Stanza(iq) = &evs[1] else {
        panic!("{evs:?}")
    };
    let req = connreq::parse(iq).unwrap().unwrap();
    assert_eq!(
        (req.username.as_str(), req.password.as_str()),
        ("u&1", "p<w")
    );
    assert_eq!(
        connreq::decide(&req, "u&1", "p<w", ""),
        XmppCrResult::Accepted
    );
    assert_eq!(
        connreq::decide(&req, "u&1", "other", ""),
        XmppCrResult::NotAuthorized
    );
    assert_eq!(
        connreq::decide(&req, "x", "p<w", ""),
        XmppCrResult::NotAuthorized
    );
    // ConnReqAllowedJabberIDs: a bare JID allows every resource, a full JID only itself.
    let allow = |list| connreq::decide(&req, "u&1", "p<w", list);
    assert_eq!(allow("acs@example.com"), XmppCrResult::Accepted);
    assert_eq!(
        allow("other@example.com, acs@EXAMPLE.com/x"),
        XmppCrResult::Accepted
    );
    assert_eq!(allow("acs@example.com/y"), XmppCrResult::NotAllowed);
    assert_eq!(allow("other@example.com"), XmppCrResult::NotAllowed);
}

#[test]
fn answers_carry_annex_k_conditions_and_the_acs_reads_them_like_genieacs() {
    let parse = |s: &str| match &read_all(&format!("{HEADER}{s}")).unwrap()[1] {
        StreamEvent::Stanza(el) => el.clone(),
        other => panic!("{other:?}"),
    };
    let ok = parse(&connreq::answer(
        "1",
        "d@x/r",
        "a@x",
        XmppCrResult::Accepted,
    ));
    assert_eq!(connreq::outcome(&ok), "ok");
    let bad = parse(&connreq::answer(
        "1",
        "d@x/r",
        "a@x",
        XmppCrResult::NotAuthorized,
    ));
    assert!(bad
        .child("error", None)
        .unwrap()
        .child("not-authorized", Some(connreq::NS_STANZAS))
        .is_some());
    assert_eq!(connreq::outcome(&bad), "auth_failed");
    for r in [
        XmppCrResult::NotAllowed,
        XmppCrResult::Busy,
        XmppCrResult::Malformed,
    ] {
        let el = parse(&connreq::answer("1", "d@x/r", "a@x", r));
        assert_eq!(connreq::outcome(&el), "unreachable", "{r:?}");
    }
    // The ACS's request round-trips through the reader into the same credentials.
    let req = parse(&connreq::request(
        "7", "a@x/r", "d@x/cwmp", "us'er", "pa\"ss",
    ));
    let req = connreq::parse(&req).unwrap().unwrap();
    assert_eq!(
        (
            req.id.as_str(),
            req.username.as_str(),
            req.password.as_str()
        ),
        ("7", "us'er", "pa\"ss")
    );
    // Another request IQ is not a connection request, but still needs an answer.
    let ping = parse("<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert_eq!(connreq::parse(&ping), Some(Err(XmppCrResult::Malformed)));
    assert_eq!(connreq::parse(&ok), None, "a result is not a request");
}

#[test]
fn hostile_input_is_an_error_never_a_panic_or_unbounded() {
    let limits = Limits {
        max_stanza: 1024,
        max_depth: 8,
        max_attrs: 4,
    };
    let cases: Vec<(String, &str)> = vec![
        (format!("{HEADER}<iq>{}</iq>", "<a>".repeat(20)), "too_deep"),
        (format!("{HEADER}<iq>{}", "x".repeat(5000)), "too_large"),
        (
            format!("{HEADER}<iq a='1' b='2' c='3' d='4' e='5'/>"),
            "too_large",
        ),
        (format!("{HEADER}<!-- hi --><iq/>"), "restricted_xml"),
        (format!("{HEADER}<?pi x?>"), "restricted_xml"),
        (
            "<!DOCTYPE lol [<!ENTITY a 'aaaa'>]><stream:stream>".to_owned(),
            "restricted_xml",
        ),
        (format!("{HEADER}<iq>&lol;</iq>"), "malformed"),
        (format!("{HEADER}<iq></presence>"), "malformed"),
        (format!("{HEADER}garbage"), "malformed"),
        ("<notstream/>".to_owned(), "malformed"),
        (format!("{HEADER}</other>"), "malformed"),
    ];
    for (input, label) in cases {
        let mut r = StreamReader::new(limits);
        let res = r.feed(input.as_bytes()).and_then(|()| events(&mut r));
        let err = res.expect_err(&input);
        assert_eq!(err.label(), label, "{input}: {err}");
    }
    // Fed in small pieces, an endless stanza stops at the limit instead of growing.
    let mut r = StreamReader::new(limits);
    r.feed(HEADER.as_bytes()).unwrap();
    events(&mut r).unwrap();
    r.feed(b"<iq>").unwrap();
    let mut failed = false;
    for _ in 0..100 {
        if r.feed(&[b'x'; 100])
            .and_then(|()| events(&mut r).map(drop))
            .is_err()
        {
            failed = true;
            break;
        }
        assert!(r.buffered() <= 1024 + 4096);
    }
    assert!(failed, "an endless stanza must be refused");
    // Arbitrary bytes never panic.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..2000 {
        let mut r = StreamReader::new(limits);
        let mut bytes = HEADER.as_bytes().to_vec();
        for _ in 0..64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let alphabet = b"<>/='\"&;a:x! \x00\xff";
            bytes.push(alphabet[(x % alphabet.len() as u64) as usize]);
        }
        let _ = r.feed(&bytes).and_then(|()| events(&mut r).map(drop));
    }
}

fn stanza(s: &str) -> StreamEvent {
    match read_all(&format!("{HEADER}{s}")).unwrap().remove(1) {
        ev @ StreamEvent::Stanza(_) => ev,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_client_logs_in_with_plain_then_binds() {
    let mut l = ClientLogin::new("dev1", "pw", "example.com", "cwmp", "nonce");
    assert!(l.start().contains("to='example.com'"));
    assert_eq!(l.on_event(StreamEvent::Open(vec![])).unwrap(), Step::Wait);
    let feats = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
        <mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms></stream:features>";
    let Step::Send(auth) = l.on_event(stanza(feats)).unwrap() else {
        panic!()
    };
    assert!(auth.contains("mechanism='PLAIN'"), "{auth}");
    let success = stanza("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    assert!(matches!(l.on_event(success).unwrap(), Step::Restart(_)));
    l.on_event(StreamEvent::Open(vec![])).unwrap();
    let feats2 =
        "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";
    let Step::Send(bind) = l.on_event(stanza(feats2)).unwrap() else {
        panic!()
    };
    assert!(bind.contains("<resource>cwmp</resource>"));
    let bound = "<iq type='result' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
        <jid>dev1@example.com/cwmp</jid></bind></iq>";
    assert_eq!(
        l.on_event(stanza(bound)).unwrap(),
        Step::Done("dev1@example.com/cwmp".into(), "<presence/>".into())
    );
}

#[test]
fn a_client_refuses_required_tls_and_reports_sasl_failure() {
    let mut l = ClientLogin::new("d", "p", "x", "r", "n");
    l.on_event(StreamEvent::Open(vec![])).unwrap();
    let tls = "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>\
        <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>";
    assert_eq!(l.on_event(stanza(tls)).unwrap_err().label(), "tls_required");
    let mut l = ClientLogin::new("d", "p", "x", "r", "n");
    l.on_event(StreamEvent::Open(vec![])).unwrap();
    let plain = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
        <mechanism>PLAIN</mechanism></mechanisms></stream:features>";
    l.on_event(stanza(plain)).unwrap();
    let fail = "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>";
    assert_eq!(
        l.on_event(stanza(fail)).unwrap_err(),
        XmppError::AuthFailed("not-authorized".into())
    );
}

#[test]
fn a_component_handshake_is_sha1_of_stream_id_and_secret() {
    // The reference value from an independent SHA-1 (Python's hashlib) of "3BF96D32sesame".
    assert_eq!(
        handshake_digest("3BF96D32", "sesame"),
        "7a98dc4c9e92493d7fd66a25364c862637789c45"
    );
    let mut c = ComponentLogin::new("cpe.example.com", "sesame");
    assert!(c.start().contains("jabber:component:accept"));
    let open = StreamEvent::Open(vec![("id".into(), "3BF96D32".into())]);
    let Step::Send(h) = c.on_event(open).unwrap() else {
        panic!()
    };
    assert!(h.contains(&handshake_digest("3BF96D32", "sesame")));
    assert!(matches!(
        c.on_event(stanza("<handshake/>")).unwrap(),
        Step::Done(..)
    ));
    let mut c = ComponentLogin::new("cpe.example.com", "wrong");
    c.on_event(StreamEvent::Open(vec![("id".into(), "1".into())]))
        .unwrap();
    let refused = "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>";
    assert_eq!(
        c.on_event(stanza(refused)).unwrap_err().label(),
        "handshake_refused"
    );
}
