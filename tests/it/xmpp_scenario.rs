//! A group's `connection_requests:` section: XMPP in client or component mode validated into
//! a plan, and every mistake an error at its line and column.

use cpefleet::scenario::xmpp::{XmppMode, XmppPlan};
use cpefleet::scenario::{Overrides, Scenario, ScenarioError};

fn parse(cr: &str) -> Result<Scenario, ScenarioError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.yaml"), "name: t\n").unwrap();
    let src = format!(
        "name: x\nfleet:\n  groups:\n    - name: gw\n      template: t.yaml\n      count: 10\n{cr}"
    );
    let path = dir.path().join("s.yaml");
    Scenario::parse(&src, &path, &Overrides::default())
}

fn plan(cr: &str) -> Option<XmppPlan> {
    parse(cr).unwrap().groups[0].xmpp.clone()
}

#[test]
fn component_and_client_modes_become_plans() {
    assert_eq!(plan(""), None, "HTTP by default");
    assert_eq!(
        plan("      connection_requests: { transport: http }\n"),
        None
    );
    let p = plan(
        "      connection_requests:
        transport: xmpp
        xmpp: { server: 127.0.0.1:5347, domain: cpe.example.com, secret: s3, allowed_jids: [acs@example.com, acs2@example.com/r] }
",
    )
    .unwrap();
    assert_eq!(
        p.mode,
        XmppMode::Component {
            secret: "s3".into()
        }
    );
    assert_eq!(p.allowed, "acs@example.com,acs2@example.com/r");
    assert_eq!(p.server.map(|a| a.port()), Some(5347));
    let p = plan(
        "      connection_requests:
        transport: xmpp
        xmpp: { mode: client, server: 127.0.0.1:5222, domain: example.com, password: 'pw{index}' }
",
    )
    .unwrap();
    assert_eq!(
        p.mode,
        XmppMode::Client {
            user: "cpe{index}".into(),
            password: "pw{index}".into(),
            resource: "cwmp".into()
        }
    );
}

#[test]
fn mistakes_are_located_errors_with_a_fixed_label() {
    let cases = [
        ("      connection_requests: { transport: pigeon }\n", 7, "pigeon"),
        ("      connection_requests: { transport: xmpp }\n", 7, "needs an xmpp: section"),
        ("      connection_requests:\n        transport: xmpp\n        xmpp: { server: nowhere, domain: d, secret: s }\n", 9, "use address:port or embedded"),
        ("      connection_requests:\n        transport: xmpp\n        xmpp: { server: 127.0.0.1:1, domain: d, mode: carrier }\n", 9, "use client or component"),
        ("      connection_requests:\n        transport: xmpp\n        xmpp: { server: 127.0.0.1:1, domain: d }\n", 9, "xmpp.secret is required"),
        ("      connection_requests:\n        transport: xmpp\n        xmpp: { server: 127.0.0.1:1, domain: d, mode: client }\n", 9, "xmpp.password is required"),
        ("      connection_requests:\n        transport: xmpp\n        xmpp: { server: 127.0.0.1:1, domain: d, secret: s, allowed_jids: ['@bad'] }\n", 9, "is not a JID"),
        ("      connection_requests:\n        xmpp: { server: 127.0.0.1:1 }\n", 8, "need transport: xmpp"),
    ];
    for (cr, line, text) in cases {
        let e = parse(cr).expect_err(cr);
        let msg = e.to_string();
        assert!(msg.contains(text), "{cr}: {msg}");
        assert!(msg.contains(&format!("s.yaml:{line}:")), "{cr}: {msg}");
        assert_eq!(e.label(), "scenario_invalid");
    }
}
