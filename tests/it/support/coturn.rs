//! Coturn's `turnserver` in STUN-only mode on 127.0.0.1, a real STUN server for the UDP
//! connection-request tests (Debian `coturn`; `scripts/test.sh` installs it).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::UdpSocket;

/// A free UDP port on 127.0.0.1 (bound, then released; the caller retries on a clash).
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// coturn's `turnserver` in STUN-only mode on 127.0.0.1, stopped on drop.
pub struct Coturn {
    child: std::process::Child,
    _dir: tempfile::TempDir,
    pub addr: SocketAddr,
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts coturn; `None` when it is not installed.
pub async fn coturn() -> Option<Coturn> {
    let bin = which("turnserver")?;
    for _attempt in 0..5 {
        let dir = tempfile::tempdir().ok()?;
        let port = free_udp_port();
        let conf = dir.path().join("turnserver.conf");
        std::fs::write(
            &conf,
            format!(
                "listening-ip=127.0.0.1\nlistening-port={port}\nstun-only\nno-tls\nno-dtls\nno-cli\nno-rfc5780\nsimple-log\nlog-file={}\npidfile={}\n",
                dir.path().join("turn.log").display(),
                dir.path().join("turn.pid").display()
            ),
        )
        .ok()?;
        let child = std::process::Command::new(&bin)
            .arg("-c")
            .arg(&conf)
            .arg("--no-stdout-log")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let mut c = Coturn {
            child,
            _dir: dir,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        if answers(c.addr).await {
            return Some(c);
        }
        // Port clash or slow start: stop this one and try another port.
        let _ = c.child.kill();
    }
    None
}

/// Whether a STUN server answers a Binding Request at `addr` within about 5 s.
async fn answers(addr: SocketAddr) -> bool {
    use cpefleet::cr::stun::{decode, Builder, Kind};
    let Ok(s) = UdpSocket::bind("127.0.0.1:0").await else {
        return false;
    };
    let req = Builder::new(Kind::BindingRequest, &Builder::rfc5389_id(1)).finish();
    let mut buf = [0u8; 600];
    for _ in 0..25 {
        let _ = s.send_to(&req, addr).await;
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(200), s.recv(&mut buf)).await
        {
            return decode(&buf[..n]).is_ok();
        }
    }
    false
}

pub fn which(bin: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .chain(["/usr/bin", "/usr/sbin"])
        .map(|d| std::path::Path::new(d).join(bin))
        .find(|p| p.is_file())
}
