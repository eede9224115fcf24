//! Open CWMP sessions by cookie, sharded, bounded, expired when idle.

use super::*;

/// Per TCP connection: authentication holds for the rest of the connection, like GenieACS.
#[derive(Debug, Default)]
pub(super) struct ConnState {
    pub(super) authenticated: AtomicBool,
    pub(super) challenges: AtomicU32,
}

#[derive(Debug)]
pub(super) struct Entry {
    pub(super) session: AcsSession,
    pub(super) last_seen: Instant,
    /// The Inform used the non-standard `cwmp-1-3` namespace: echo it, like GenieACS.
    pub(super) ns13: bool,
    /// Idle time after which the session is dropped: the ACS's default, or the 1.3+ CPE's
    /// SessionTimeout header (bounded).
    pub(super) timeout: Duration,
}

/// Sessions by cookie, sharded so parallel sessions rarely share a lock.
#[derive(Debug)]
pub(super) struct Sessions {
    pub(super) shards: Vec<Mutex<HashMap<u64, Entry>>>,
    /// Open sessions plus reservations of Informs being processed.
    pub(super) count: AtomicUsize,
}

impl Sessions {
    pub(super) fn new() -> Self {
        Sessions {
            shards: (0..SESSION_SHARDS)
                .map(|_| Mutex::new(HashMap::new()))
                .collect(),
            count: AtomicUsize::new(0),
        }
    }

    pub(super) fn shard(&self, cookie: u64) -> Option<&Mutex<HashMap<u64, Entry>>> {
        self.shards.get((cookie % SESSION_SHARDS as u64) as usize)
    }

    pub(super) fn is_live(&self, cookie: u64, now: Instant) -> bool {
        self.shard(cookie)
            .and_then(|s| s.lock().ok())
            .is_some_and(|m| {
                m.get(&cookie)
                    .is_some_and(|e| now.duration_since(e.last_seen) < e.timeout)
            })
    }

    /// Takes a slot for a new session; false when `max` are open.
    pub(super) fn reserve(&self, max: Option<usize>) -> bool {
        match max {
            None => {
                self.count.fetch_add(1, Relaxed);
                true
            }
            Some(max) => self
                .count
                .fetch_update(Relaxed, Relaxed, |n| (n < max).then_some(n + 1))
                .is_ok(),
        }
    }

    pub(super) fn release(&self) {
        let _ = self
            .count
            .fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1));
    }

    /// Inserts under a fresh cookie (the reservation becomes the session).
    pub(super) fn insert(&self, entry: Entry) -> u64 {
        let mut entry = Some(entry);
        loop {
            let cookie: u64 = rand::random();
            let Some(shard) = self.shard(cookie) else {
                continue;
            };
            let Ok(mut m) = shard.lock() else {
                return cookie;
            };
            if let std::collections::hash_map::Entry::Vacant(v) = m.entry(cookie) {
                if let Some(e) = entry.take() {
                    v.insert(e);
                }
                return cookie;
            }
        }
    }

    /// Runs `f` on a live session; when it is over afterwards, removes and returns it.
    pub(super) fn step<T>(
        &self,
        cookie: u64,
        now: Instant,
        f: impl FnOnce(&mut Entry) -> T,
    ) -> Option<(T, Option<Entry>)> {
        let mut m = self.shard(cookie)?.lock().ok()?;
        let e = m.get_mut(&cookie)?;
        if now.duration_since(e.last_seen) >= e.timeout {
            return None;
        }
        e.last_seen = now;
        let out = f(e);
        let over = e.session.is_over();
        let removed = if over { m.remove(&cookie) } else { None };
        drop(m);
        if removed.is_some() {
            self.release();
        }
        Some((out, removed))
    }

    /// Removes sessions idle past their timeout (all of them when `all`).
    pub(super) fn expire(&self, now: Instant, all: bool) -> Vec<Entry> {
        let mut out = Vec::new();
        for s in &self.shards {
            if let Ok(mut m) = s.lock() {
                let dead: Vec<u64> = m
                    .iter()
                    .filter(|(_, e)| all || now.duration_since(e.last_seen) >= e.timeout)
                    .map(|(k, _)| *k)
                    .collect();
                for k in dead {
                    if let Some(e) = m.remove(&k) {
                        out.push(e);
                    }
                }
            }
        }
        for _ in &out {
            self.release();
        }
        out
    }
}
