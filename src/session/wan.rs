//! The WAN model and ACS outages applied to a session: the waits [`crate::net::wan`] computes,
//! slept on every exchange in both directions, and the simulator's own transport refusing (or
//! swallowing) connections to the ACS while an `acs_outage` phase says it is down. Devices keep
//! running meanwhile; their failed sessions retry per TR-069 §3.2.1.1's back-off like any other.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::error::SessionError;
use crate::net::wan::{Direction, OutageMode, WanModel};

/// The windows (from, to; since `epoch`, the run's start) in which the ACS is unreachable.
#[derive(Debug, Clone, Default)]
pub struct AcsOutages {
    pub epoch: Option<Instant>,
    pub windows: Arc<[(Duration, Duration, OutageMode)]>,
}

impl AcsOutages {
    /// Whether the ACS is unreachable now, and how.
    pub fn now(&self) -> Option<OutageMode> {
        let at = self.epoch?.elapsed();
        self.windows
            .iter()
            .find(|(from, to, _)| (*from..*to).contains(&at))
            .map(|w| w.2)
    }

    /// Stands in for a connection attempt while the ACS is down: refused at once, or (blackhole)
    /// nothing until `wait` (the connect timeout, or what is left of the session) runs out.
    pub async fn gate(&self, wait: Duration) -> Result<(), SessionError> {
        match self.now() {
            None => Ok(()),
            Some(mode) => {
                if mode == OutageMode::Blackhole {
                    tokio::time::sleep(wait).await;
                }
                Err(SessionError::AcsOutage(mode))
            }
        }
    }
}

/// What the WAN did to one session: stalls by direction (up, down) and the time they cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WanTally {
    pub stalls: [u32; 2],
    pub delayed: Duration,
}

/// One session's link: the group's model, the session's seed and the legs so far.
#[derive(Debug, Clone, Copy)]
pub struct Link {
    model: WanModel,
    seed: u64,
    legs: u32,
    pub tally: WanTally,
}

impl Link {
    pub fn new(model: WanModel, seed: u64) -> Link {
        Link {
            model,
            seed,
            legs: 0,
            tally: WanTally::default(),
        }
    }

    /// Waits out one leg carrying `bytes` in direction `dir` (nothing without a WAN).
    pub async fn leg(&mut self, dir: Direction, bytes: usize) {
        if self.model.is_none() {
            return;
        }
        self.legs += 1;
        let leg = self.model.leg(self.seed, self.legs, dir, bytes as u64);
        self.tally.stalls[usize::from(dir == Direction::Down)] += leg.stalls;
        self.tally.delayed += leg.time;
        tokio::time::sleep(leg.time).await;
    }

    /// The TCP handshake: one round trip before the first byte.
    pub async fn handshake(&mut self) {
        self.leg(Direction::Up, 0).await;
        self.leg(Direction::Down, 0).await;
    }
}

/// A file transfer over the WAN (`seed`: the transfer's own, for its legs): it takes no less
/// than a round trip — delay, jitter and stalls drawn as for a session's legs — plus its bytes at
/// the bandwidth cap. A download reads at the cap itself (`transfer::download_over`), so the file
/// server sees the device's link; what is left of the floor is waited out once the transfer is
/// done, and the device's TransferComplete comes when the link allows.
pub async fn paced<E>(
    wan: WanModel,
    seed: u64,
    transfer: impl std::future::Future<Output = Result<u64, E>>,
) -> Result<u64, E> {
    let t0 = Instant::now();
    let result = transfer.await;
    if let Ok(bytes) = &result {
        let rtt =
            wan.leg(seed, 1, Direction::Up, 0).time + wan.leg(seed, 2, Direction::Down, 0).time;
        let floor = rtt + wan.carry(*bytes);
        tokio::time::sleep(floor.saturating_sub(t0.elapsed())).await;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn legs_sleep_what_the_model_says_and_count_stalls() {
        let model = WanModel {
            delay: Duration::from_millis(50),
            loss: 0.3,
            rto: Duration::from_secs(1),
            ..WanModel::default()
        };
        let mut link = Link::new(model, 9);
        let t0 = Instant::now();
        for _ in 0..20 {
            link.leg(Direction::Up, 100).await;
            link.leg(Direction::Down, 100).await;
        }
        let expect: Duration = (1..=40u32)
            .map(|n| {
                let dir = if n % 2 == 1 {
                    Direction::Up
                } else {
                    Direction::Down
                };
                model.leg(9, n, dir, 100).time
            })
            .sum();
        assert_eq!(t0.elapsed(), expect);
        assert_eq!(link.tally.delayed, expect);
        let stalls = link.tally.stalls[0] + link.tally.stalls[1];
        assert!(stalls > 0, "30 % loss over 40 legs stalls");
        assert!(expect >= Duration::from_millis(2000) + Duration::from_secs(u64::from(stalls)));
    }

    #[tokio::test(start_paused = true)]
    async fn the_gate_refuses_or_swallows_only_inside_its_windows() {
        let outages = AcsOutages {
            epoch: Some(Instant::now()),
            windows: Arc::from(vec![
                (
                    Duration::from_secs(10),
                    Duration::from_secs(20),
                    OutageMode::Refused,
                ),
                (
                    Duration::from_secs(30),
                    Duration::from_secs(40),
                    OutageMode::Blackhole,
                ),
            ]),
        };
        let wait = Duration::from_secs(3);
        assert!(outages.gate(wait).await.is_ok());
        tokio::time::sleep(Duration::from_secs(10)).await;
        let t0 = Instant::now();
        let e = outages.gate(wait).await.unwrap_err();
        assert_eq!(e.label(), "acs_outage_refused");
        assert_eq!(t0.elapsed(), Duration::ZERO, "refused at once");
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert!(outages.gate(wait).await.is_ok(), "back at 20 s");
        tokio::time::sleep(Duration::from_secs(10)).await;
        let t0 = Instant::now();
        let e = outages.gate(wait).await.unwrap_err();
        assert_eq!(e.label(), "acs_outage_blackhole");
        assert_eq!(
            t0.elapsed(),
            wait,
            "a blackhole answers nothing until the timeout"
        );
        assert!(AcsOutages::default().now().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn transfers_take_their_bytes_at_the_cap() {
        let wan = WanModel {
            delay: Duration::from_millis(20),
            bandwidth: Some(1_000_000),
            ..WanModel::default()
        };
        let t0 = Instant::now();
        let r: Result<u64, ()> = paced(wan, 1, async { Ok(5_000_000) }).await;
        assert_eq!(r, Ok(5_000_000));
        assert_eq!(
            t0.elapsed(),
            Duration::from_millis(5040),
            "5 MB at 1 MB/s plus a round trip"
        );
        let t0 = Instant::now();
        let r: Result<u64, ()> = paced(wan, 1, async { Err(()) }).await;
        assert_eq!(
            (r, t0.elapsed()),
            (Err(()), Duration::ZERO),
            "a failure is not paced"
        );
    }
}
