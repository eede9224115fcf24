use super::*;

#[test]
fn builds_namespace_resolved_tree() {
    let xml = br#"<?xml version="1.0"?><e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:dslforum-org:cwmp-1-1" xmlns:x="http://www.w3.org/2001/XMLSchema-instance">
          <e:Body><c:X><A x:type="xsd:int">1 &amp; 2</A><B/><A>second<![CDATA[<raw>]]></A></c:X></e:Body></e:Envelope>"#;
    let t = Tree::parse(xml).expect("parses");
    assert_eq!(t.ns(0), Ns::SoapEnv);
    let body = t.child(0, "Body").expect("body");
    let x = t.children(body).next().expect("rpc");
    assert_eq!(t.ns(x), Ns::Cwmp(CwmpVersion::V1_1));
    let kids: Vec<_> = t.children(x).collect();
    assert_eq!(kids.len(), 3);
    assert_eq!(t.text(kids[0]), "1 & 2");
    assert_eq!(t.xsi_local(kids[0]), Some(&b"int"[..]));
    assert_eq!(t.ns(kids[1]), Ns::None);
    assert_eq!(t.text(kids[2]), "second<raw>");
    assert_eq!(t.path(kids[1]), "Envelope/Body/X/B");
}

#[test]
fn namespaces_follow_the_xml_scoping_rules() {
    let xml = br#"<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/">
          <Body>
            <c:Rpc xmlns:c="urn:dslforum-org:cwmp-1-0">
              <Arg xmlns="">plain</Arg>
              <c:Q/>
              <d:Inner xmlns:d="urn:dslforum-org:cwmp-1-2"/>
              <d:After/>
              <V t:type="xsd:string" xmlns:t="http://www.w3.org/2001/XMLSchema-instance">x</V>
              <W type="int">y</W>
              <U nope:type="int">z</U>
            </c:Rpc>
            <c:Gone/>
          </Body>
        </Envelope>"#;
    let t = Tree::parse(xml).expect("parses");
    assert_eq!(t.ns(0), Ns::SoapEnv, "default namespace");
    let body = t.child(0, "Body").unwrap();
    assert_eq!(t.ns(body), Ns::SoapEnv, "inherited default");
    let rpc = t.child(body, "Rpc").unwrap();
    assert_eq!(t.ns(rpc), Ns::Cwmp(CwmpVersion::V1_0), "declared on itself");
    let ns_of = |name: &str| t.ns(t.child(rpc, name).unwrap());
    assert_eq!(ns_of("Arg"), Ns::None, "xmlns=\"\" un-binds the default");
    assert_eq!(ns_of("Q"), Ns::Cwmp(CwmpVersion::V1_0));
    assert_eq!(ns_of("Inner"), Ns::Cwmp(CwmpVersion::V1_2));
    assert_eq!(
        ns_of("After"),
        Ns::Other,
        "an empty element's declaration ends with it"
    );
    assert_eq!(ns_of("V"), Ns::SoapEnv, "unprefixed: the default namespace");
    let xsi = |name: &str| t.xsi_local(t.child(rpc, name).unwrap());
    assert_eq!(
        xsi("V"),
        Some(&b"string"[..]),
        "declared after the attribute"
    );
    assert_eq!(xsi("W"), None, "an unprefixed type is not xsi:type");
    assert_eq!(xsi("U"), None, "an undeclared prefix is not xsi");
    let two = br#"<a xmlns:o="urn:other" o:type="no" i:type="xsd:boolean" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"/>"#;
    let t2 = Tree::parse(two).expect("parses");
    assert_eq!(
        t2.xsi_local(0),
        Some(&b"boolean"[..]),
        "the xsi one of two types"
    );
    let gone = t.child(body, "Gone").unwrap();
    assert_eq!(t.ns(gone), Ns::Other, "c: went out of scope with Rpc");
    assert_eq!(t.unknown_cwmp_ns, None);
}

#[test]
fn an_unknown_cwmp_namespace_is_named_where_it_is_used() {
    let xml = br#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:dslforum-org:cwmp-9-9"><e:Header><c:ID>1</c:ID></e:Header></e:Envelope>"#;
    let t = Tree::parse(xml).expect("parses");
    let id = t.child(t.child(0, "Header").unwrap(), "ID").unwrap();
    assert_eq!(t.ns(id), Ns::CwmpUnknown);
    assert_eq!(
        t.unknown_cwmp_ns.as_deref(),
        Some("urn:dslforum-org:cwmp-9-9")
    );
}

#[test]
fn rejects_hostile_and_broken_input() {
    assert_eq!(Tree::parse(b"  \r\n").err(), Some(DecodeError::Empty));
    assert_eq!(
        Tree::parse(b"Invalid session").err().map(|e| e.label()),
        Some("decode_envelope")
    );
    assert_eq!(
        Tree::parse(b"<a><b></a>").err().map(|e| e.label()),
        Some("decode_xml")
    );
    assert_eq!(
        Tree::parse(b"<a><b>").err().map(|e| e.label()),
        Some("decode_xml")
    );
    assert_eq!(
        Tree::parse(b"<a/><b/>").err().map(|e| e.label()),
        Some("decode_envelope")
    );
    assert_eq!(
        Tree::parse(b"<a>&bogus;</a>").err().map(|e| e.label()),
        Some("decode_xml")
    );
    let decls: String = (0..=MAX_NS_DECLS)
        .map(|i| format!(" xmlns:p{i}=\"urn:x:{i}\""))
        .collect();
    assert_eq!(
        Tree::parse(format!("<a{decls}/>").as_bytes())
            .err()
            .map(|e| e.label()),
        Some("decode_limit")
    );
    let deep = "<a>".repeat(MAX_DEPTH + 1);
    assert_eq!(
        Tree::parse(deep.as_bytes()).err().map(|e| e.label()),
        Some("decode_limit")
    );
}
