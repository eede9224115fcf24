//! Where the shards run: each on its own thread with a single-threaded tokio runtime
//! ([`ShardRuntime::Threads`], what `cpefleet run` uses), or all as tasks of the caller's runtime
//! ([`ShardRuntime::Shared`]).
//!
//! Why threads (issue #17, light load): at a few hundred sessions/s most of the simulator's CPU
//! is not the sessions but waking an idle process for each one. On one multi-threaded runtime a
//! shard's timer fires on one worker, the session it spawns may be stolen by another, and the
//! connection's readiness wakes whichever worker is parked: each hop is a futex wake and a
//! context switch. A shard on its own current-thread runtime keeps its timer, its sessions and
//! their connections on one thread; what crosses threads is only what must (connection requests
//! from the shared listener into the shard's inbox, the shutdown token, atomics for live figures).
//!
//! This module owns the choice and the threads; it must not touch a shard's state (the shard
//! runs the same loop either way).

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::shard::Shard;
use crate::metrics::stats::ShardStats;

/// Where a fleet's shards run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShardRuntime {
    /// Each shard on a thread of its own, driven by a current-thread runtime: a session and
    /// its connection stay on the thread of their shard (no work-stealing hops).
    Threads,
    /// All shards as tasks of the caller's runtime. The library's default: a test's paused
    /// clock (`tokio::time::pause`) only drives timers of its own runtime.
    #[default]
    Shared,
}

impl ShardRuntime {
    pub fn as_str(self) -> &'static str {
        match self {
            ShardRuntime::Threads => "threads",
            ShardRuntime::Shared => "shared",
        }
    }
}

impl std::str::FromStr for ShardRuntime {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "threads" => Ok(ShardRuntime::Threads),
            "shared" => Ok(ShardRuntime::Shared),
            other => Err(format!("{other:?}: expected threads or shared")),
        }
    }
}

/// A running shard, wherever it runs: its figures come back when it ends.
pub(super) enum Running {
    Task(JoinHandle<ShardStats>),
    Thread(oneshot::Receiver<ShardStats>),
}

impl Running {
    /// The shard's figures; `None` when it panicked.
    pub(super) async fn join(self) -> Option<ShardStats> {
        match self {
            Running::Task(h) => h.await.ok(),
            // The thread drops the sender without sending only by unwinding.
            Running::Thread(rx) => rx.await.ok(),
        }
    }
}

/// Starts `shard` where `layout` puts it. A thread or runtime that cannot be made (a
/// thread limit) falls back to a task of the caller's runtime, with a warning: the run goes
/// on, only its layout differs.
pub(super) fn start(layout: ShardRuntime, shard: Shard, cancel: CancellationToken) -> Running {
    match layout {
        ShardRuntime::Shared => Running::Task(tokio::spawn(shard.run(cancel))),
        ShardRuntime::Threads => on_thread(shard, cancel),
    }
}

fn on_thread(shard: Shard, cancel: CancellationToken) -> Running {
    let id = shard.id();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fall_back(id, &e, shard, cancel),
    };
    let (done, rx) = oneshot::channel();
    // The shard is handed over once the thread exists, so a failed spawn still has it.
    let (hand, take) = std::sync::mpsc::sync_channel::<(Shard, CancellationToken)>(1);
    let spawned = std::thread::Builder::new()
        .name(format!("cpefleet-shard-{id}"))
        .spawn(move || {
            let Ok((shard, cancel)) = take.recv() else {
                return;
            };
            let stats = rt.block_on(shard.run(cancel));
            let _ = done.send(stats);
            // Dropping `rt` here ends what the shard left behind (a connection task of a
            // session cut off by the grace period) after its figures are on their way.
        });
    match spawned {
        Ok(_) => match hand.send((shard, cancel)) {
            Ok(()) => Running::Thread(rx),
            Err(std::sync::mpsc::SendError((shard, cancel))) => {
                let e = std::io::Error::other("the shard thread ended before it started");
                fall_back(id, &e, shard, cancel)
            }
        },
        Err(e) => fall_back(id, &e, shard, cancel),
    }
}

fn fall_back(id: u32, e: &std::io::Error, shard: Shard, cancel: CancellationToken) -> Running {
    tracing::warn!(shard = id, error = %e, "no thread for the shard: it runs as a task");
    Running::Task(tokio::spawn(shard.run(cancel)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for l in [ShardRuntime::Threads, ShardRuntime::Shared] {
            assert_eq!(l.as_str().parse::<ShardRuntime>(), Ok(l));
        }
        assert!("thread".parse::<ShardRuntime>().is_err());
    }
}
