//! Download and Upload against a real local HTTP file server (the embedded ACS's), with success
//! and each failure a TransferComplete must report.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use cpefleet::acs::file_server::{self, FileStore};
use cpefleet::net::client::Connector;
use cpefleet::session::transfer::{download, download_over, upload, TransferLimits};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

async fn start(creds: Option<(&str, &str)>) -> (String, Arc<FileStore>, CancellationToken) {
    let store = Arc::new(FileStore::new(
        creds.map(|(u, p)| (u.to_string(), p.to_string())),
    ));
    store.put("fw-2.0.bin", FileStore::synthetic(4042));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let cancel = CancellationToken::new();
    tokio::spawn(file_server::serve(listener, store.clone(), cancel.clone()));
    (base, store, cancel)
}

fn connector() -> Connector {
    Connector {
        connect_timeout: Duration::from_secs(2),
        tls: None,
        tls_error: None,
    }
}

fn limits() -> TransferLimits {
    TransferLimits {
        timeout: Duration::from_secs(5),
        max_bytes: 1 << 20,
    }
}

#[tokio::test]
async fn download_succeeds_with_and_without_filesize() {
    let (base, store, cancel) = start(None).await;
    let url = format!("{base}/fw-2.0.bin");
    assert_eq!(
        download(&connector(), &url, ("", ""), 4042, &limits()).await,
        Ok(4042)
    );
    // FileSize 0 means unknown (GenieACS sends it for uncached files).
    assert_eq!(
        download(&connector(), &url, ("", ""), 0, &limits()).await,
        Ok(4042)
    );
    assert_eq!(store.download_count(), 2);
    cancel.cancel();
}

#[tokio::test]
async fn download_failures_have_their_fault_codes() {
    let (base, _store, cancel) = start(None).await;
    let c = connector();
    let missing = download(&c, &format!("{base}/nope.bin"), ("", ""), 0, &limits()).await;
    assert_eq!(missing.unwrap_err().code, 9016);
    let mismatch = download(&c, &format!("{base}/fw-2.0.bin"), ("", ""), 5000, &limits()).await;
    assert_eq!(mismatch.unwrap_err().code, 9018);
    let ftp = download(&c, "ftp://127.0.0.1/fw.bin", ("", ""), 0, &limits()).await;
    assert_eq!(ftp.unwrap_err().code, 9013);
    let small = TransferLimits {
        timeout: Duration::from_secs(5),
        max_bytes: 1000,
    };
    let big = download(&c, &format!("{base}/fw-2.0.bin"), ("", ""), 0, &small).await;
    assert_eq!(big.unwrap_err().code, 9010);
    cancel.cancel();
    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/fw.bin", dead.local_addr().unwrap());
    drop(dead);
    assert_eq!(
        download(&c, &url, ("", ""), 0, &limits())
            .await
            .unwrap_err()
            .code,
        9015
    );
}

#[tokio::test]
async fn download_and_upload_with_credentials() {
    let (base, store, cancel) = start(Some(("fs-user", "fs-pass"))).await;
    let c = connector();
    let url = format!("{base}/fw-2.0.bin");
    assert_eq!(
        download(&c, &url, ("fs-user", "fs-pass"), 4042, &limits()).await,
        Ok(4042)
    );
    assert_eq!(
        download(&c, &url, ("fs-user", "nope"), 4042, &limits())
            .await
            .unwrap_err()
            .code,
        9012
    );
    assert_eq!(
        download(&c, &url, ("", ""), 4042, &limits())
            .await
            .unwrap_err()
            .code,
        9012
    );

    let body = Bytes::from_static(b"# vendor config\nkey=value\n");
    let up = upload(
        &c,
        &format!("{base}/upload/cfg-1"),
        ("fs-user", "fs-pass"),
        body.clone(),
        &limits(),
    )
    .await;
    assert_eq!(up, Ok(body.len() as u64));
    assert_eq!(
        store.uploads(),
        vec![("/upload/cfg-1".to_string(), body.clone())]
    );
    let denied = upload(
        &c,
        &format!("{base}/upload/cfg-2"),
        ("x", "y"),
        body,
        &limits(),
    )
    .await;
    assert_eq!(denied.unwrap_err().code, 9012);
    cancel.cancel();
}

#[tokio::test(start_paused = true)]
async fn a_download_over_a_capped_link_reads_at_the_cap() {
    // 400 kB at 100 kB/s: 4 s on the paused clock (loopback itself costs nothing), the body read
    // at that pace so the file server's sending is held back by TCP as over the real link.
    let (base, store, cancel) = start(None).await;
    store.put("big.bin", FileStore::synthetic(400_000));
    let url = format!("{base}/big.bin");
    let limits = TransferLimits {
        timeout: Duration::from_secs(30),
        max_bytes: 1 << 20,
    };
    let t0 = tokio::time::Instant::now();
    let got = download_over(&connector(), &url, ("", ""), 0, &limits, Some(100_000)).await;
    assert_eq!(got, Ok(400_000));
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_secs(4) && took < Duration::from_millis(4100),
        "{took:?}"
    );
    let t0 = tokio::time::Instant::now();
    assert_eq!(
        download_over(&connector(), &url, ("", ""), 0, &limits, None).await,
        Ok(400_000)
    );
    assert!(t0.elapsed() < Duration::from_millis(10), "uncapped");
    cancel.cancel();
}
