//! Wire trace: the full HTTP exchanges of chosen devices, written as text for interop debugging
//! (`--trace SELECTOR DIR`). One file per device session, request and response in order, with
//! times relative to the session start — the same shape as the GenieACS transcripts in
//! tests/data/genieacs, so the two can be read side by side.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::net::body::Body;
use bytes::Bytes;
use http::Request;
use tokio::time::Instant;

use crate::net::client::Response;

/// Trace output of one session. Write errors are remembered, not propagated: tracing must never
/// fail a session.
pub struct Trace {
    out: BufWriter<File>,
    started: Instant,
    pub failed: bool,
}

impl Trace {
    pub fn create(path: &Path) -> std::io::Result<Trace> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        Ok(Trace {
            out: BufWriter::new(File::create(path)?),
            started: Instant::now(),
            failed: false,
        })
    }

    fn stamp(&mut self) -> String {
        format!("{:>9.1} ms", self.started.elapsed().as_secs_f64() * 1000.0)
    }

    fn write(&mut self, text: &str) {
        if self.out.write_all(text.as_bytes()).is_err() {
            self.failed = true;
        }
    }

    pub fn note(&mut self, what: &str) {
        let s = format!("# {} {what}\n", self.stamp());
        self.write(&s);
    }

    pub fn request(&mut self, req: &Request<Body>, body: &Bytes) {
        let mut s = format!("# {} CPE -> ACS\n", self.stamp());
        s.push_str(&format!("{} {} HTTP/1.1\r\n", req.method(), req.uri()));
        for (k, v) in req.headers() {
            s.push_str(&format!(
                "{}: {}\r\n",
                k,
                String::from_utf8_lossy(v.as_bytes())
            ));
        }
        s.push_str("\r\n");
        s.push_str(&String::from_utf8_lossy(body));
        s.push_str("\n\n");
        self.write(&s);
    }

    pub fn response(&mut self, resp: &Response) {
        let mut s = format!("# {} ACS -> CPE\n", self.stamp());
        s.push_str(&format!("HTTP/1.1 {}\r\n", resp.status));
        for (k, v) in &resp.headers {
            s.push_str(&format!(
                "{}: {}\r\n",
                k,
                String::from_utf8_lossy(v.as_bytes())
            ));
        }
        s.push_str("\r\n");
        s.push_str(&String::from_utf8_lossy(&resp.body));
        s.push_str("\n\n");
        self.write(&s);
    }

    pub fn finish(mut self) -> bool {
        if self.out.flush().is_err() {
            self.failed = true;
        }
        !self.failed
    }
}
