//! Signals. The first Ctrl-C (or SIGTERM) stops admitting new sessions and lets running ones
//! finish within the grace period. A second one, or SIGHUP (the terminal went away: a dropped
//! SSH session), quits now: running sessions are cut off and counted as cancelled, and the
//! report of what was measured so far is still written, marked partial. Should that take
//! longer than [`QUIT_DEADLINE`], the process exits anyway.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How long writing the partial report may take after "quit now" before the process exits.
pub const QUIT_DEADLINE: Duration = Duration::from_secs(15);

/// Exit code after a second Ctrl-C or SIGTERM (128 + SIGINT).
pub const EXIT_INTERRUPTED: i32 = 130;
/// Exit code after SIGHUP (128 + SIGHUP).
pub const EXIT_HANGUP: i32 = 129;

/// What the signals asked for.
#[derive(Debug, Clone)]
pub struct Shutdown {
    /// Cancelled by the first signal: stop admitting, finish within the grace period.
    pub stop: CancellationToken,
    /// Cancelled by a second signal or SIGHUP: stop now (`stop` is cancelled too).
    pub quit: CancellationToken,
    code: Arc<AtomicI32>,
}

impl Shutdown {
    fn new() -> Shutdown {
        Shutdown {
            stop: CancellationToken::new(),
            quit: CancellationToken::new(),
            code: Arc::new(AtomicI32::new(0)),
        }
    }

    /// The exit code "quit now" asks for (`None` when it was not asked).
    pub fn quit_code(&self) -> Option<i32> {
        self.quit
            .is_cancelled()
            .then(|| self.code.load(Ordering::Relaxed))
    }

    fn quit_now(&self, code: i32) {
        self.code.store(code, Ordering::Relaxed);
        self.stop.cancel();
        self.quit.cancel();
        tokio::spawn(async move {
            tokio::time::sleep(QUIT_DEADLINE).await;
            say("cpefleet: the partial report took too long; quitting");
            std::process::exit(code);
        });
    }
}

/// Writes a line to stderr, ignoring errors: after SIGHUP the terminal may be gone, and a
/// failed write must not stop the report from being written.
pub fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Spawns the signal watcher (inside a tokio runtime).
pub fn install() -> Shutdown {
    let s = Shutdown::new();
    let watcher = s.clone();
    tokio::spawn(async move {
        let mut signals = Signals::new();
        let mut stopping = false;
        loop {
            match signals.next().await {
                Sig::HangUp => {
                    say("cpefleet: hang-up: writing what was measured so far, then quitting");
                    watcher.quit_now(EXIT_HANGUP);
                    return;
                }
                Sig::Interrupt if !stopping => {
                    say("cpefleet: stopping: no new sessions, finishing running ones (Ctrl-C again to quit now)");
                    watcher.stop.cancel();
                    stopping = true;
                }
                Sig::Interrupt => {
                    say("cpefleet: quitting now: writing what was measured so far");
                    watcher.quit_now(EXIT_INTERRUPTED);
                    return;
                }
            }
        }
    });
    s
}

enum Sig {
    /// Ctrl-C or SIGTERM.
    Interrupt,
    HangUp,
}

/// The signal streams, registered once: a signal that arrives between two waits is kept, not
/// lost (a stream created after it would not see it).
#[cfg(unix)]
struct Signals {
    int: Option<tokio::signal::unix::Signal>,
    term: Option<tokio::signal::unix::Signal>,
    hup: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
impl Signals {
    fn new() -> Signals {
        use tokio::signal::unix::{signal, SignalKind};
        Signals {
            int: signal(SignalKind::interrupt()).ok(),
            term: signal(SignalKind::terminate()).ok(),
            hup: signal(SignalKind::hangup()).ok(),
        }
    }

    async fn next(&mut self) -> Sig {
        async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
            // A stream that could not be registered, or ended, never fires.
            if let Some(s) = s {
                if s.recv().await.is_some() {
                    return;
                }
            }
            std::future::pending().await
        }
        tokio::select! {
            _ = recv(&mut self.int) => Sig::Interrupt,
            _ = recv(&mut self.term) => Sig::Interrupt,
            _ = recv(&mut self.hup) => Sig::HangUp,
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> Signals {
        Signals
    }

    async fn next(&mut self) -> Sig {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        Sig::Interrupt
    }
}
