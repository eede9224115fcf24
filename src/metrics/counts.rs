//! How sessions ended, counted: one type for a shard's account and the report's (`sessions`
//! in its JSON), so a new counter is added, merged and written in one place.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sessions {
    pub started: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Most devices waiting for a session slot at once: a shard's peak; summed over shards
    /// and runs.
    pub late: u64,
    /// Open-model arrivals dropped (the device was busy or off).
    pub dropped: u64,
}

impl Sessions {
    /// Adds another shard's or run's counts (the peaks of `late` add: the shards and runs
    /// are taken to have waited at the same time).
    pub fn add(&mut self, o: &Sessions) {
        self.started += o.started;
        self.succeeded += o.succeeded;
        self.failed += o.failed;
        self.cancelled += o.cancelled;
        self.late += o.late;
        self.dropped += o.dropped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_adds() {
        let one = Sessions {
            started: 1,
            succeeded: 2,
            failed: 3,
            cancelled: 4,
            late: 5,
            dropped: 6,
        };
        let mut sum = one;
        sum.add(&one);
        assert_eq!(
            sum,
            Sessions {
                started: 2,
                succeeded: 4,
                failed: 6,
                cancelled: 8,
                late: 10,
                dropped: 12,
            }
        );
    }
}
