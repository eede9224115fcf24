//! Ctrl-C and SIGTERM: the first stops admitting new sessions and lets running ones finish
//! within the grace period (the final report is still written); the second exits at once.

use tokio_util::sync::CancellationToken;

/// Spawns the signal watcher; returns the token the first signal cancels.
pub fn install() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        wait_signal().await;
        eprintln!("cpefleet: stopping: no new sessions, finishing running ones (Ctrl-C again to quit now)");
        t.cancel();
        wait_signal().await;
        eprintln!("cpefleet: quitting now");
        std::process::exit(130);
    });
    token
}

#[cfg(unix)]
async fn wait_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[cfg(not(unix))]
async fn wait_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
