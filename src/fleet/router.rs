//! Routes connection requests from the shared listener to the device's shard, in O(1): the path
//! names the device index, the index names the shard (`index % shards`). CR credentials are
//! computed from the template for untouched devices and kept here only for devices whose
//! credentials the ACS changed (GenieACS does that on first contact), so the listener answers
//! without asking the shard — which may be busy — and answers within GenieACS's 2 s.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, RwLock};

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::cr::{CrDevice, CrResult, CrRouter};
use crate::model::device_from_cr_path;

use super::shard::ShardMsg;

/// Computes a device's default CR credentials (from its template's values).
pub type DefaultCredentials = dyn Fn(u32) -> Option<(String, String)> + Send + Sync;

pub struct Router {
    /// First device index of this process (sharded runs) and the count.
    pub first: u32,
    pub count: u32,
    inboxes: Vec<mpsc::Sender<ShardMsg>>,
    /// Credentials the ACS set, by device index; sharded to keep lock contention low.
    overrides: Vec<RwLock<HashMap<u32, (String, String)>>>,
    defaults: Arc<DefaultCredentials>,
    /// Per device: when the last request was accepted (deciseconds since start), for the
    /// per-device rate limit.
    last_accept: Vec<AtomicU32>,
    started: Instant,
    min_interval_ds: u32,
}

const CRED_SHARDS: usize = 64;

impl Router {
    pub fn new(
        first: u32,
        count: u32,
        inboxes: Vec<mpsc::Sender<ShardMsg>>,
        defaults: Arc<DefaultCredentials>,
        min_interval: std::time::Duration,
    ) -> Self {
        Router {
            first,
            count,
            inboxes,
            overrides: (0..CRED_SHARDS)
                .map(|_| RwLock::new(HashMap::new()))
                .collect(),
            defaults,
            last_accept: (0..count).map(|_| AtomicU32::new(0)).collect(),
            started: Instant::now(),
            min_interval_ds: (min_interval.as_millis() / 100) as u32,
        }
    }

    /// The ACS changed a device's CR credentials.
    pub fn set_credentials(&self, index: u32, username: String, password: String) {
        if let Ok(mut m) = self.overrides[index as usize % CRED_SHARDS].write() {
            m.insert(index, (username, password));
        }
    }

    /// A factory reset brings the template's credentials back.
    pub fn reset_credentials(&self, index: u32) {
        if let Ok(mut m) = self.overrides[index as usize % CRED_SHARDS].write() {
            m.remove(&index);
        }
    }

    fn credentials(&self, index: u32) -> Option<(String, String)> {
        if let Ok(m) = self.overrides[index as usize % CRED_SHARDS].read() {
            if let Some(c) = m.get(&index) {
                return Some(c.clone());
            }
        }
        (self.defaults)(index)
    }

    fn local(&self, index: u32) -> Option<usize> {
        index
            .checked_sub(self.first)
            .filter(|i| *i < self.count)
            .map(|i| i as usize)
    }
}

impl CrRouter for Router {
    fn resolve(&self, path: &str) -> Option<CrDevice> {
        let index = device_from_cr_path(path)?;
        self.local(index)?;
        let (username, password) = self.credentials(index).unwrap_or_default();
        Some(CrDevice {
            index,
            username,
            password,
        })
    }

    fn deliver(&self, index: u32, at: Instant) -> CrResult {
        let Some(local) = self.local(index) else {
            return CrResult::NotFound;
        };
        // deciseconds since start, +1 so 0 means "never".
        let now_ds = (self.started.elapsed().as_millis() / 100) as u32 + 1;
        let last = self.last_accept[local].load(Ordering::Relaxed);
        if last != 0 && now_ds.saturating_sub(last) < self.min_interval_ds {
            return CrResult::RateLimited;
        }
        let shard = index as usize % self.inboxes.len().max(1);
        match self.inboxes[shard].try_send(ShardMsg::ConnectionRequest { index, at }) {
            Ok(()) => {
                self.last_accept[local].store(now_ds, Ordering::Relaxed);
                CrResult::Accepted
            }
            Err(_) => CrResult::Busy,
        }
    }
}
