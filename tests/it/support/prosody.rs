//! A real Prosody (Debian `prosody`) on 127.0.0.1 for the XMPP tests: a generated config in a
//! temp dir, c2s and component ports picked free, accounts made with `prosodyctl` against that
//! config, one external component enabled, no TLS on loopback (so clients use SCRAM-SHA-1, as
//! Prosody offers PLAIN on plain TCP only when told to). Stopped (killed) on drop.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Prosody {
    pub dir: tempfile::TempDir,
    pub c2s: SocketAddr,
    pub component: SocketAddr,
    pub domain: String,
    pub component_domain: String,
    pub secret: String,
    config: PathBuf,
    child: Child,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

fn config_text(
    dir: &Path,
    c2s: u16,
    component: u16,
    plain: bool,
    domain: &str,
    secret: &str,
) -> String {
    let d = dir.display();
    format!(
        r#"run_as_root = true
pidfile = "{d}/prosody.pid"
data_path = "{d}/data"
certificates = "{d}"
log = {{ info = "{d}/prosody.log" }}
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {c2s} }}
c2s_direct_tls_ports = {{ }}
legacy_ssl_ports = {{ }}
s2s_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
component_ports = {{ {component} }}
component_interfaces = {{ "127.0.0.1" }}
c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = {plain}
authentication = "internal_hashed"
storage = "internal"
modules_enabled = {{ "roster", "saslauth", "disco", "ping" }}
modules_disabled = {{ "s2s", "tls", "offline" }}
VirtualHost "{domain}"
Component "cpe.{domain}"
  component_secret = "{secret}"
"#
    )
}

impl Prosody {
    /// Starts one, or `None` (the caller skips loudly) when `prosody` is not installed.
    /// `plain` lets clients use SASL PLAIN on plain TCP (GenieACS prefers it).
    pub fn start(c2s_port: Option<u16>, plain: bool) -> Option<Prosody> {
        let found = Command::new("prosodyctl")
            .arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        if !found {
            return None;
        }
        let dir = tempfile::tempdir().ok()?;
        let (c2s, component) = (c2s_port.unwrap_or_else(free_port), free_port());
        let domain = "localhost".to_owned();
        let secret = format!("s{:x}", std::process::id());
        let config = dir.path().join("prosody.cfg.lua");
        let text = config_text(dir.path(), c2s, component, plain, &domain, &secret);
        std::fs::write(&config, text).ok()?;
        std::fs::create_dir_all(dir.path().join("data")).ok()?;
        let child = Command::new("prosody")
            .arg("--config")
            .arg(&config)
            .arg("-F")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let p = Prosody {
            c2s: SocketAddr::from(([127, 0, 0, 1], c2s)),
            component: SocketAddr::from(([127, 0, 0, 1], component)),
            component_domain: format!("cpe.{domain}"),
            domain,
            secret,
            config,
            dir,
            child,
        };
        p.wait_listening();
        Some(p)
    }

    fn wait_listening(&self) {
        // Bounded by count: 150 tries of at most 2×200 ms + 100 ms.
        for _ in 0..150 {
            let up = |a| TcpStream::connect_timeout(a, Duration::from_millis(200)).is_ok();
            if up(&self.c2s) && up(&self.component) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("prosody did not listen; log: {}", self.log());
    }

    /// Creates an account with prosodyctl against this config.
    pub fn register(&self, user: &str, password: &str) {
        let out = Command::new("prosodyctl")
            .arg("--config")
            .arg(&self.config)
            .args(["register", user, &self.domain, password])
            .output()
            .expect("prosodyctl runs");
        assert!(
            out.status.success(),
            "prosodyctl register {user}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prosody.log")).unwrap_or_default()
    }
}

impl Drop for Prosody {
    /// SIGTERM first: Prosody then closes every stream with `</stream:stream>`, so a client
    /// that outlives it (GenieACS keeps its XMPP login between tests) sees the end and logs in
    /// afresh next time, instead of writing into a dead socket. SIGKILL after 5 s.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        // Bounded: 50 × 100 ms.
        for _ in 0..50 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
