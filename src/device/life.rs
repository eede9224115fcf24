//! A device's life between sessions, pure: which events are pending, what survives a failed
//! session or a reboot, the retry count, and the transfers owed a TransferComplete
//! (TR-069 §3.7.1.5 events, §3.2.1.1 retries, A.3.3.2 TransferComplete).
//!
//! Single events are bits (no heap); the rare multiple events with CommandKeys (`M Reboot`,
//! `M Download`, …) and pending TransferCompletes live in a boxed side record that exists only
//! while there is something in it, so an idle device stays small.

use crate::cwmp::{
    AutonomousDUStateChangeComplete, CpeRequest, DUStateChangeComplete, DateTime, EventCode,
    EventStruct, TransferComplete, TransferCompleteFaultStruct,
};

/// Bitset of pending single events, indexed by [`EventCode::STANDARD`] position.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventSet(u16);

/// The single (non-`M`) events, in bit order: the first 15 of [`EventCode::STANDARD`], whose
/// rest are the `M` codes (a unit test holds that).
fn singles() -> &'static [EventCode] {
    EventCode::STANDARD.get(..15).unwrap_or(&[])
}

fn bit(code: &EventCode) -> Option<u16> {
    singles().iter().position(|c| c == code).map(|i| 1 << i)
}

impl EventSet {
    pub fn insert(&mut self, code: &EventCode) {
        if let Some(b) = bit(code) {
            self.0 |= b;
        }
    }
    pub fn remove(&mut self, code: &EventCode) {
        if let Some(b) = bit(code) {
            self.0 &= !b;
        }
    }
    pub fn contains(&self, code: &EventCode) -> bool {
        bit(code).is_some_and(|b| self.0 & b != 0)
    }
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
    pub fn iter(&self) -> impl Iterator<Item = &'static EventCode> + '_ {
        singles()
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, c)| c)
    }
}

/// What rarely exists: multiple events with keys and undelivered TransferCompletes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Keyed {
    /// `M …` events with their CommandKeys, in order of occurrence.
    events: Vec<(EventCode, String)>,
    /// Completion reports owed to the ACS (TransferComplete, DUStateChangeComplete,
    /// AutonomousDUStateChangeComplete), oldest first; each leaves only when the ACS answers it.
    transfers: Vec<CpeRequest>,
}

/// The per-device life record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Life {
    pub events: EventSet,
    keyed: Option<Box<Keyed>>,
    /// Consecutive failed sessions (the Inform's RetryCount).
    pub retry: u8,
    /// Sessions this device has started in the run: the event ordinal its seeded choices
    /// (impairments, retry waits) are drawn with, so they repeat with the seed whatever the
    /// clock or the order of other devices (fits in the record's padding).
    pub ordinal: u32,
    /// The TransferComplete sent in the current session, waiting for its response.
    in_flight: Option<Box<CpeRequest>>,
}

impl Life {
    /// A brand-new device on its first power-up: `0 BOOTSTRAP` and `1 BOOT`.
    pub fn first_boot() -> Life {
        let mut l = Life::default();
        l.events.insert(&EventCode::Bootstrap);
        l.events.insert(&EventCode::Boot);
        l
    }

    /// A device that already bootstrapped with this ACS, powering up (BOOT only).
    pub fn known_boot() -> Life {
        let mut l = Life::default();
        l.events.insert(&EventCode::Boot);
        l
    }

    pub fn has_events(&self) -> bool {
        !self.events.is_empty() || self.keyed.as_ref().is_some_and(|k| !k.events.is_empty())
    }

    pub fn add(&mut self, code: EventCode) {
        self.events.insert(&code);
    }

    fn keyed(&mut self) -> &mut Keyed {
        self.keyed.get_or_insert_with(Default::default)
    }

    /// Records a multiple event (`M Reboot`, `M ScheduleInform`, …) with its CommandKey.
    pub fn add_keyed(&mut self, code: EventCode, command_key: &str) {
        self.keyed().events.push((code, command_key.to_string()));
    }

    /// The events for this session's Inform: every pending single event then every keyed one.
    pub fn inform_events(&self) -> Vec<EventStruct> {
        let mut v: Vec<EventStruct> = self
            .events
            .iter()
            .map(|c| EventStruct {
                code: c.clone(),
                command_key: String::new(),
            })
            .collect();
        if let Some(k) = &self.keyed {
            v.extend(k.events.iter().map(|(c, key)| EventStruct {
                code: c.clone(),
                command_key: key.clone(),
            }));
        }
        // The schema allows at most 64 EventStructs.
        v.truncate(64);
        v
    }

    /// The ACS acknowledged the Inform: its events are delivered, except those bound to a
    /// TransferComplete (`7 TRANSFER COMPLETE`, `M Download`, `M Upload`, `M ScheduleDownload`),
    /// which stay until the ACS answers the TransferComplete itself (TR-069 §3.7.1.5).
    pub fn inform_acknowledged(&mut self) {
        let kept: Vec<EventCode> = [
            EventCode::TransferComplete,
            EventCode::DuStateChangeComplete,
            EventCode::AutonomousDuStateChangeComplete,
        ]
        .into_iter()
        .filter(|c| self.events.contains(c) && self.owes(c))
        .collect();
        self.events = EventSet::default();
        for c in &kept {
            self.events.insert(c);
        }
        let owed = self.keyed.as_ref().is_some_and(|k| !k.transfers.is_empty());
        if let Some(k) = &mut self.keyed {
            k.events.retain(|(c, _)| owed && completion_bound(c));
        }
        self.tidy();
    }

    /// Whether a report of the kind this single event announces is still owed.
    fn owes(&self, event: &EventCode) -> bool {
        let in_queue = self.keyed.iter().flat_map(|k| k.transfers.iter());
        in_queue
            .chain(self.in_flight.as_deref())
            .any(|r| completion_event(r) == *event)
    }

    /// A session ended. Success resets the retry count; failure counts it and drops the events
    /// that must not be retried (`6 CONNECTION REQUEST`).
    pub fn session_ended(&mut self, ok: bool) {
        if ok {
            self.retry = 0;
        } else {
            self.retry = self.retry.saturating_add(1);
            self.events.remove(&EventCode::ConnectionRequest);
        }
        // A TransferComplete sent but not answered goes back to the front of the queue.
        if let Some(tc) = self.in_flight.take() {
            self.keyed().transfers.insert(0, *tc);
        }
        self.tidy();
    }

    /// A transfer finished: queue its TransferComplete and events (TR-069 A.3.2.8, A.3.3.2).
    pub fn transfer_done(
        &mut self,
        method: EventCode,
        command_key: &str,
        fault: TransferCompleteFaultStruct,
        start_time: DateTime,
        complete_time: DateTime,
    ) {
        self.events.insert(&EventCode::TransferComplete);
        let k = self.keyed();
        k.events.push((method, command_key.to_string()));
        k.transfers
            .push(CpeRequest::TransferComplete(TransferComplete {
                command_key: command_key.to_string(),
                fault,
                start_time,
                complete_time,
            }));
    }

    /// The next TransferComplete to send in this session (taken; see `transfer_answered`).
    pub fn next_transfer_complete(&mut self) -> Option<CpeRequest> {
        if self.in_flight.is_some() {
            return None;
        }
        let tc = self.keyed.as_mut().and_then(|k| {
            if k.transfers.is_empty() {
                None
            } else {
                Some(k.transfers.remove(0))
            }
        })?;
        self.in_flight = Some(Box::new(tc.clone()));
        Some(tc)
    }

    pub fn has_transfer_complete(&self) -> bool {
        self.in_flight.is_none() && self.keyed.as_ref().is_some_and(|k| !k.transfers.is_empty())
    }

    /// The ACS answered the in-flight report: it is delivered, and once none of its kind is
    /// owed its events go too.
    pub fn transfer_answered(&mut self) {
        if let Some(r) = self.in_flight.take() {
            let key = command_key(&r).to_string();
            let single = completion_event(&r);
            if let Some(k) = &mut self.keyed {
                k.events.retain(|(c, k2)| {
                    !(k2 == &key && completion_bound(c) && completion_event_of_m(c) == single)
                });
            }
            if !self.owes(&single) {
                self.events.remove(&single);
            }
        }
        self.tidy();
    }

    /// A ChangeDUState finished: `11 DU STATE CHANGE COMPLETE` + `M ChangeDUState` and its
    /// DUStateChangeComplete (TR-069 A.4.2.6).
    pub fn du_done(&mut self, report: DUStateChangeComplete) {
        self.events.insert(&EventCode::DuStateChangeComplete);
        let k = self.keyed();
        k.events
            .push((EventCode::MChangeDuState, report.command_key.clone()));
        k.transfers.push(CpeRequest::DUStateChangeComplete(report));
    }

    /// A deployment unit changed on the device's own initiative, and the policy asks for a
    /// report: `12 AUTONOMOUS DU STATE CHANGE COMPLETE` (TR-069 A.4.2.7).
    pub fn autonomous_du_done(&mut self, report: AutonomousDUStateChangeComplete) {
        self.events
            .insert(&EventCode::AutonomousDuStateChangeComplete);
        self.keyed()
            .transfers
            .push(CpeRequest::AutonomousDUStateChangeComplete(report));
    }

    /// The device restarts (Reboot RPC, firmware activation, power cycle): `1 BOOT`, plus
    /// `M Reboot` with its key when the ACS asked for it. Events that do not survive a reboot
    /// are dropped (value changes, diagnostics, connection requests); the retry count restarts
    /// ("post-reboot session retry count", TR-069 §3.2.1.1).
    pub fn rebooted(&mut self, reboot_key: Option<&str>) {
        for c in [
            EventCode::ValueChange,
            EventCode::ConnectionRequest,
            EventCode::DiagnosticsComplete,
            EventCode::Periodic,
        ] {
            self.events.remove(&c);
        }
        self.events.insert(&EventCode::Boot);
        if let Some(key) = reboot_key {
            self.add_keyed(EventCode::MReboot, key);
        }
        self.retry = 0;
        if let Some(tc) = self.in_flight.take() {
            self.keyed().transfers.insert(0, *tc);
        }
    }

    /// Factory reset: back to a new device's state, `0 BOOTSTRAP` and `1 BOOT` (pending
    /// transfers and keys are gone with the rest of the state).
    pub fn factory_reset(&mut self) {
        *self = Life::first_boot();
    }

    fn tidy(&mut self) {
        if self
            .keyed
            .as_ref()
            .is_some_and(|k| k.events.is_empty() && k.transfers.is_empty())
        {
            self.keyed = None;
        }
    }
}

/// The single event a completion report is announced by.
fn completion_event(r: &CpeRequest) -> EventCode {
    match r {
        CpeRequest::DUStateChangeComplete(_) => EventCode::DuStateChangeComplete,
        CpeRequest::AutonomousDUStateChangeComplete(_) => {
            EventCode::AutonomousDuStateChangeComplete
        }
        _ => EventCode::TransferComplete,
    }
}

/// `M …` events that stay until their report is answered (TR-069 §3.7.1.5).
fn completion_bound(c: &EventCode) -> bool {
    matches!(
        c,
        EventCode::MDownload
            | EventCode::MUpload
            | EventCode::MScheduleDownload
            | EventCode::MChangeDuState
    )
}

/// The single event an `M …` event goes with.
fn completion_event_of_m(c: &EventCode) -> EventCode {
    match c {
        EventCode::MChangeDuState => EventCode::DuStateChangeComplete,
        _ => EventCode::TransferComplete,
    }
}

fn command_key(r: &CpeRequest) -> &str {
    match r {
        CpeRequest::TransferComplete(t) => &t.command_key,
        CpeRequest::DUStateChangeComplete(d) => &d.command_key,
        _ => "",
    }
}

/// The next periodic inform strictly after `now` (TR-181 ManagementServer.PeriodicInformTime sets the phase only): `time + n·interval`; an unknown time
/// (or none) lets the CPE pick the phase, which is `phase_ms` (per device, so a fleet does not
/// fire in lock-step).
pub fn next_periodic(now: DateTime, interval_s: u32, time: DateTime, phase_ms: i64) -> DateTime {
    let interval = i64::from(interval_s.max(1)) * 1000;
    let anchor = if time.is_unknown() {
        phase_ms.rem_euclid(interval)
    } else {
        time.unix_ms()
    };
    let now = now.unix_ms();
    let k = (now - anchor).div_euclid(interval) + 1;
    DateTime::from_unix_ms(anchor + k * interval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_single_events_are_the_standard_non_m_ones() {
        let want: Vec<&EventCode> = EventCode::STANDARD
            .iter()
            .filter(|c| !c.is_multiple())
            .collect();
        assert_eq!(singles().iter().collect::<Vec<_>>(), want);
        assert!(singles().len() <= 16, "the set is a u16");
    }

    fn codes(l: &Life) -> Vec<String> {
        l.inform_events()
            .iter()
            .map(|e| {
                if e.command_key.is_empty() {
                    e.code.as_str().to_string()
                } else {
                    format!("{}({})", e.code.as_str(), e.command_key)
                }
            })
            .collect()
    }

    fn ok() -> TransferCompleteFaultStruct {
        TransferCompleteFaultStruct {
            fault_code: 0,
            fault_string: String::new(),
        }
    }

    #[test]
    fn first_boot_then_delivery() {
        let mut l = Life::first_boot();
        assert_eq!(codes(&l), vec!["0 BOOTSTRAP", "1 BOOT"]);
        l.inform_acknowledged();
        l.session_ended(true);
        assert!(!l.has_events());
        assert_eq!(l, Life::default(), "nothing left, no heap");
    }

    #[test]
    fn failed_sessions_keep_events_count_retries_and_drop_connection_request() {
        let mut l = Life::known_boot();
        l.add(EventCode::ConnectionRequest);
        l.session_ended(false);
        l.session_ended(false);
        assert_eq!(l.retry, 2);
        assert_eq!(codes(&l), vec!["1 BOOT"]);
        l.inform_acknowledged();
        l.session_ended(true);
        assert_eq!(l.retry, 0);
    }

    #[test]
    fn reboot_with_command_key() {
        let mut l = Life::default();
        l.add(EventCode::ValueChange);
        l.retry = 3;
        l.rebooted(Some("rb-17"));
        assert_eq!(codes(&l), vec!["1 BOOT", "M Reboot(rb-17)"]);
        assert_eq!(l.retry, 0);
    }

    #[test]
    fn transfer_complete_stays_until_answered() {
        let mut l = Life::default();
        l.transfer_done(
            EventCode::MDownload,
            "dl-1",
            ok(),
            DateTime::from_unix_ms(1),
            DateTime::from_unix_ms(2),
        );
        assert_eq!(codes(&l), vec!["7 TRANSFER COMPLETE", "M Download(dl-1)"]);
        // Inform acknowledged: the transfer-bound events stay.
        l.inform_acknowledged();
        assert_eq!(codes(&l), vec!["7 TRANSFER COMPLETE", "M Download(dl-1)"]);
        let Some(CpeRequest::TransferComplete(tc)) = l.next_transfer_complete() else {
            panic!("a TransferComplete is owed")
        };
        assert_eq!(tc.command_key, "dl-1");
        assert!(
            l.next_transfer_complete().is_none(),
            "one in flight at a time"
        );
        // The session fails before the ACS answers: it is owed again.
        l.session_ended(false);
        assert!(l.has_transfer_complete());
        let _ = l.next_transfer_complete().unwrap();
        l.transfer_answered();
        l.session_ended(true);
        assert!(!l.has_events());
        assert_eq!(l, Life::default());
    }

    #[test]
    fn factory_reset_is_a_new_device() {
        let mut l = Life::default();
        l.add_keyed(EventCode::MScheduleInform, "k");
        l.factory_reset();
        assert_eq!(codes(&l), vec!["0 BOOTSTRAP", "1 BOOT"]);
    }

    #[test]
    fn periodic_follows_the_anchor() {
        let t = |s: i64| DateTime::from_unix_ms(s * 1000);
        // Anchor 100 s, interval 300 s: from now=1000 s the next is 1000 < 100+4·300=1300.
        assert_eq!(next_periodic(t(1000), 300, t(100), 0), t(1300));
        // Exactly on a boundary: strictly after.
        assert_eq!(next_periodic(t(1300), 300, t(100), 0), t(1600));
        // Anchor in the future still sets the phase.
        assert_eq!(next_periodic(t(1000), 300, t(100_000), 0), t(1300));
        // Unknown time: the device's own phase.
        assert_eq!(
            next_periodic(t(1000), 300, DateTime::UNKNOWN, 42_000),
            t(1242)
        );
    }

    #[test]
    fn event_set_is_two_bytes() {
        assert_eq!(std::mem::size_of::<EventSet>(), 2);
        assert!(
            std::mem::size_of::<Life>() <= 24,
            "{}",
            std::mem::size_of::<Life>()
        );
    }
}
