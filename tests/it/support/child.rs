//! The cpefleet binary as a child process, every wait bounded: spawned with its stderr piped,
//! its stderr lines forwarded to wait for one (and to show them on failure), its exit waited
//! for, signalled as a shell would, and killed if a test ends without it. One copy for every
//! test that runs the binary and reads it as it runs.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

// The clock tests may use (clippy.toml): tokio's, which a paused test runtime controls.
use tokio::time::Instant;

/// Every wait here ends by this bound (a hung binary fails, never hangs the suite).
pub const BOUND: Duration = Duration::from_secs(60);

/// The binary, to be given its arguments.
pub fn cpefleet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cpefleet"))
}

/// Runs the binary with `args` to its end and gives what it wrote and its exit status.
pub fn output<S: AsRef<OsStr>>(args: &[S]) -> Output {
    cpefleet().args(args).output().expect("run cpefleet")
}

/// Starts the binary with `args`: stdin and stdout closed, stderr piped (see [`stderr_lines`]).
pub fn spawn<S: AsRef<OsStr>>(args: &[S]) -> Child {
    cpefleet()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cpefleet")
}

/// Forwards the child's stderr lines (to wait for one, and to show them on failure).
pub fn stderr_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let err = child.stderr.take().expect("stderr piped");
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// The first line containing `needle` (every line read is kept in `seen`); fails past the
/// bound or when the stream ends without it.
pub fn wait_for_line(rx: &mpsc::Receiver<String>, seen: &mut Vec<String>, needle: &str) -> String {
    let deadline = Instant::now() + BOUND;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(l) => {
                seen.push(l.clone());
                if l.contains(needle) {
                    return l;
                }
            }
            Err(_) => break,
        }
    }
    panic!("no stderr line with {needle:?}: {seen:?}");
}

/// Every stderr line up to the end of the stream (the child has exited, so it ends). Not
/// `try_iter` after the exit: the reader thread may not have passed the last lines on yet,
/// which made `unwritable_report_paths_are_refused_before_the_run` fail about 1 run in 15.
pub fn rest_of(rx: &mpsc::Receiver<String>) -> Vec<String> {
    let deadline = Instant::now() + BOUND;
    let mut lines = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(l) => lines.push(l),
            Err(_) => break,
        }
    }
    lines
}

/// Waits for the child to exit and gives its code (killed and failed past the bound).
pub fn wait_exit(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + BOUND;
    loop {
        if let Some(st) = child.try_wait().expect("wait for cpefleet") {
            return st.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("cpefleet did not exit within {BOUND:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends `sig` (`-INT`, `-HUP`, `-TERM`) to the child, as `kill` in a shell does.
pub fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill {sig}");
}

/// Kills the child when the test ends, however it ends.
pub struct Guard(pub Child);

impl Guard {
    /// Stops the child as a shell's `kill` does (SIGTERM: graceful, its reports written)
    /// unless it has exited already, and gives its exit code.
    pub fn stop(&mut self) -> Option<i32> {
        if let Ok(None) = self.0.try_wait() {
            signal(&self.0, "-TERM");
        }
        wait_exit(&mut self.0)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
