//! Sessions over HTTPS: a test CA generated at run time (no key is committed), the custom CA
//! file, the explicit insecure switch, and mutual TLS with a client certificate.

use std::sync::Arc;
use std::time::Duration;

use crate::support::device::TestDevice;
use crate::support::{inform_response, Reply, ScriptedAcs, NS10};
use cpefleet::net::client::{Connector, Endpoint};
use cpefleet::net::tls::{client_config, TlsOptions};
use cpefleet::session::{run, SessionConfig};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

struct Pki {
    dir: tempfile::TempDir,
    ca_der: CertificateDer<'static>,
    server: (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA;
/// the CA and the client's files are written as PEM.
fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();

    let server_key = KeyPair::generate().unwrap();
    let mut sp = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    sp.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let server = sp.signed_by(&server_key, &ca, &ca_key).unwrap();

    let client_key = KeyPair::generate().unwrap();
    let cp = CertificateParams::new(vec!["cpe-00000001".to_string()]).unwrap();
    let client = cp.signed_by(&client_key, &ca, &ca_key).unwrap();

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.path().join("client.pem"), client.pem()).unwrap();
    std::fs::write(dir.path().join("client.key"), client_key.serialize_pem()).unwrap();
    Pki {
        dir,
        ca_der: ca.der().clone(),
        server: (
            vec![server.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
        ),
    }
}

fn acceptor(p: &Pki, require_client_cert: bool) -> tokio_rustls::TlsAcceptor {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if require_client_cert {
        let mut roots = RootCertStore::empty();
        roots.add(p.ca_der.clone()).unwrap();
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let cfg = builder
        .with_single_cert(p.server.0.clone(), p.server.1.clone_key())
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(cfg))
}

fn config(url: &str, tls: Arc<rustls::ClientConfig>) -> SessionConfig {
    SessionConfig {
        acs: Endpoint::parse(url).unwrap(),
        connector: Connector {
            connect_timeout: Duration::from_secs(2),
            tls: Some(tls),
            tls_error: None,
        },
        local_addr: None,
        credentials: None,
        version: cpefleet::cwmp::CwmpVersion::V1_0,
        exchange_timeout: Duration::from_secs(5),
        session_timeout: Duration::from_secs(10),
        max_body: 1 << 16,
        max_exchanges: 20,
        user_agent: "cpefleet-test".into(),
        id_prefix: "cpe".into(),
        impairments: Default::default(),
    }
}

fn script() -> Vec<Reply> {
    vec![inform_response(NS10), Reply::end()]
}

#[tokio::test]
async fn https_with_the_test_ca() {
    let p = pki();
    let acs = ScriptedAcs::start_with(script(), Some(acceptor(&p, false))).await;
    assert!(acs.url.starts_with("https://127.0.0.1:"));
    let opts = TlsOptions {
        ca_file: Some(p.dir.path().join("ca.pem")),
        insecure: false,
    };
    let report = run(
        &config(&acs.url, client_config(&opts, None).unwrap()),
        &mut TestDevice::default(),
        None,
    )
    .await;
    assert!(report.is_ok(), "{:?}", report.outcome);
    assert!(report.timings.tls.is_some(), "TLS handshake timed");
    assert_eq!(acs.recorded().len(), 2);
}

#[tokio::test]
async fn unknown_ca_is_refused_unless_insecure() {
    let p = pki();
    let acs = ScriptedAcs::start_with(script(), Some(acceptor(&p, false))).await;
    let report = run(
        &config(
            &acs.url,
            client_config(&TlsOptions::default(), None).unwrap(),
        ),
        &mut TestDevice::default(),
        None,
    )
    .await;
    assert_eq!(report.label(), "tls");
    assert!(
        acs.recorded().is_empty(),
        "nothing sent to an unverified ACS"
    );

    let acs = ScriptedAcs::start_with(script(), Some(acceptor(&p, false))).await;
    let insecure = TlsOptions {
        ca_file: None,
        insecure: true,
    };
    let report = run(
        &config(&acs.url, client_config(&insecure, None).unwrap()),
        &mut TestDevice::default(),
        None,
    )
    .await;
    assert!(report.is_ok(), "{:?}", report.outcome);
}

#[tokio::test]
async fn mutual_tls_with_a_client_certificate() {
    let p = pki();
    let opts = TlsOptions {
        ca_file: Some(p.dir.path().join("ca.pem")),
        insecure: false,
    };
    let cert = p.dir.path().join("client.pem");
    let key = p.dir.path().join("client.key");
    let acs = ScriptedAcs::start_with(script(), Some(acceptor(&p, true))).await;
    let with_cert = client_config(&opts, Some((&cert, &key))).unwrap();
    let report = run(
        &config(&acs.url, with_cert),
        &mut TestDevice::default(),
        None,
    )
    .await;
    assert!(report.is_ok(), "{:?}", report.outcome);

    // Without a certificate the ACS refuses the handshake (TLS 1.3 may report it on the first
    // exchange rather than in the handshake itself).
    let acs = ScriptedAcs::start_with(script(), Some(acceptor(&p, true))).await;
    let report = run(
        &config(&acs.url, client_config(&opts, None).unwrap()),
        &mut TestDevice::default(),
        None,
    )
    .await;
    assert!(!report.is_ok());
    assert!(acs.recorded().is_empty());
}

/// A client certificate per device from a path pattern: the device with a certificate gets
/// its session, the one without fails with its own label instead of connecting without one.
#[tokio::test]
async fn per_device_client_certificates_from_a_pattern() {
    use cpefleet::fleet::{self, RunOptions};
    use cpefleet::scenario::{Overrides, Scenario};

    let p = pki();
    std::fs::copy(
        p.dir.path().join("client.pem"),
        p.dir.path().join("CPF00000000.pem"),
    )
    .unwrap();
    std::fs::copy(
        p.dir.path().join("client.key"),
        p.dir.path().join("CPF00000000.key"),
    )
    .unwrap();
    let acs = ScriptedAcs::start_with(
        vec![inform_response(NS10), Reply::end()],
        Some(acceptor(&p, true)),
    )
    .await;
    let template =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml");
    let dir = p.dir.path().display().to_string();
    let src = format!(
        "name: mtls
duration: 2s
acs:
  url: {}
  tls: {{ ca_file: {dir}/ca.pem, client_cert: \"{dir}/{{serial}}.pem\", client_key: \"{dir}/{{serial}}.key\" }}
fleet:
  groups: [{{ name: gw, template: {}, count: 2, bootstrapped: true }}]
",
        acs.url,
        template.display()
    );
    let path = p.dir.path().join("s.yaml");
    std::fs::write(&path, &src).unwrap();
    let s = Scenario::parse(&src, &path, &Overrides::default()).unwrap();
    let r = fleet::run(
        &s,
        &acs.url,
        &RunOptions {
            shards: Some(1),
            ..RunOptions::default()
        },
        tokio_util::sync::CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(r.stats.sessions.succeeded, 1, "{:?}", r.stats.errors);
    assert_eq!(r.stats.errors.get("tls_client_cert").copied(), Some(1));
    assert_eq!(acs.recorded().len(), 2, "only device 0 reached the ACS");
}
