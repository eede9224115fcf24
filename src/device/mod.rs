//! One virtual CPE: its tiny per-device record ([`Device`]) and its RPC semantics, seen through
//! its shared template ([`DeviceView`]). Pure: no I/O, no clock (time comes in through
//! [`Env`]), no scheduling — state transitions the session layer must carry out come back as
//! [`Effect`]s.
//!
//! Memory: a device the ACS never wrote to is this struct only (no heap). Everything the
//! ACS or a local change writes goes into a lazily allocated [`Delta`].

pub mod autonomous_du;
pub mod binding;
mod delta;
pub mod diagnostics;
pub mod life;
mod limit;
mod rpc;
pub mod software;
mod view;
pub mod window;

pub use delta::{Attr, Delta, QueuedTransfer, MAX_QUEUED_TRANSFERS};
pub use limit::{AnswerLimit, Budget, ENTRY_OVERHEAD};
pub use view::DeviceView;

use crate::cwmp::{CpeMessage, DateTime};

/// Device flag: an active (notification 2 or forced) value change awaits an Inform.
const ACTIVE_CHANGE: u8 = 1;

/// The per-device record. Size is asserted in a test (target <= 64 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// None until the first write: idle devices own no heap.
    delta: Option<Box<Delta>>,
    /// When the device last (re)booted, unix ms; UpTime and counters grow from it.
    boot_ms: i64,
    index: u32,
    /// Which template of the fleet (the fleet's own numbering).
    template: u16,
    flags: u8,
    /// The STUN binding (TR-069 Annex G) in one byte, see [`binding`]: 0 = none.
    udp: u8,
}

impl Device {
    pub fn new(index: u32) -> Device {
        Device::with_template(index, 0)
    }

    pub fn with_template(index: u32, template: u16) -> Device {
        Device {
            delta: None,
            boot_ms: 0,
            index,
            template,
            flags: 0,
            udp: 0,
        }
    }

    pub fn index(&self) -> u32 {
        self.index
    }

    pub fn template(&self) -> u16 {
        self.template
    }

    pub fn boot_time(&self) -> DateTime {
        DateTime::from_unix_ms(self.boot_ms)
    }

    /// Record a (re)boot: UpTime and counters start again from here.
    pub fn set_boot_time(&mut self, at: DateTime) {
        self.boot_ms = at.unix_ms();
    }

    /// Whether an active value change awaits an Inform (a `4 VALUE CHANGE` session is due).
    pub fn active_change_pending(&self) -> bool {
        self.flags & ACTIVE_CHANGE != 0
    }

    /// Whether any value change (passive or active) awaits an Inform.
    pub fn change_pending(&self) -> bool {
        self.delta.as_ref().is_some_and(|d| !d.changed.is_empty())
    }

    /// What the ACS or local changes wrote, if anything.
    pub fn delta(&self) -> Option<&Delta> {
        self.delta.as_deref()
    }

    /// Heap bytes this device holds beyond its inline size.
    pub fn heap_bytes(&self) -> usize {
        self.delta.as_ref().map_or(0, |d| d.heap_bytes())
    }

    /// The queued transfers (Download/Upload/ScheduleDownload accepted, not yet finished).
    pub fn transfers(&self) -> &[QueuedTransfer] {
        self.delta.as_ref().map_or(&[], |d| &d.transfers)
    }

    /// The session layer started the first not-yet-started transfer with this CommandKey.
    pub fn transfer_started(&mut self, command_key: &str) -> bool {
        let Some(d) = self.delta.as_mut() else {
            return false;
        };
        match d
            .transfers
            .iter_mut()
            .find(|t| t.command_key == command_key && t.state == 1)
        {
            Some(t) => {
                t.state = 2;
                true
            }
            None => false,
        }
    }

    /// The session layer finished (TransferComplete acknowledged) the first transfer with
    /// this CommandKey: it leaves the queue.
    /// A ScheduleDownload's attempt failed and it waits for its next window: not started
    /// again (state 1), so CancelTransfer may withdraw it (TR-069 A.4.1.9).
    pub fn transfer_waiting(&mut self, command_key: &str) {
        if let Some(t) = self.delta.as_mut().and_then(|d| {
            d.transfers
                .iter_mut()
                .find(|t| t.command_key == command_key && t.state == 2)
        }) {
            t.state = 1;
        }
    }

    pub fn transfer_finished(&mut self, command_key: &str) -> Option<QueuedTransfer> {
        let d = self.delta.as_mut()?;
        let i = d
            .transfers
            .iter()
            .position(|t| t.command_key == command_key)?;
        let t = d.transfers.remove(i);
        self.shrink();
        Some(t)
    }

    fn delta_mut(&mut self) -> &mut Delta {
        self.delta.get_or_insert_with(Box::default)
    }

    /// Give the heap back when nothing is left in the delta, and what its emptied vectors hold.
    fn shrink(&mut self) {
        if self.delta.as_ref().is_some_and(|d| d.is_empty()) {
            self.delta = None;
        } else if let Some(d) = self.delta.as_mut() {
            d.release_empty();
        }
    }
}

/// What a device's values depend on besides its own state.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    /// The run's seed: generated values are a function of it and the device index.
    pub seed: u64,
    pub now: DateTime,
    /// e.g. "http://127.0.0.1:7548"; ConnectionRequestURL = base + "/" + [`DeviceView::cr_path`].
    pub cr_url_base: &'a str,
    /// The fleet's table of STUN-mapped public addresses (UDP groups); None: bindings are
    /// written as plain values.
    pub udp: Option<&'a binding::PublicAddrs>,
}

/// The answer to one ACS request and what the session layer must do about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub message: CpeMessage,
    pub effects: Vec<Effect>,
}

/// State transitions the session layer acts on (never executed inside the pure core).
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Reboot after the session; next Inform `1 BOOT` + `M Reboot`(command_key).
    Reboot {
        command_key: String,
    },
    /// Reset after the session ([`DeviceView::factory_reset`], which keeps the installed
    /// firmware); then `0 BOOTSTRAP` + `1 BOOT`.
    FactoryReset,
    /// Queued with its CommandKey (state 1); TransferComplete follows later.
    Download(crate::cwmp::Download),
    Upload(crate::cwmp::Upload),
    ScheduleInform {
        delay_seconds: u32,
        command_key: String,
    },
    ScheduleDownload(crate::cwmp::ScheduleDownload),
    /// Queued transfers with this CommandKey were removed from the queue.
    CancelTransfer {
        command_key: String,
    },
    /// PeriodicInformEnable/Interval/Time changed by SPV: reschedule at once.
    PeriodicInformChanged,
    /// ManagementServer.URL changed: the next session carries `0 BOOTSTRAP`.
    ManagementServerUrlChanged,
    ConnectionRequestCredentialsChanged,
    /// `<object>DiagnosticsState` was set to "Requested" (e.g. "Device.IP.Diagnostics.IPPing.").
    DiagnosticsRequested {
        object: String,
    },
    /// ChangeDUState accepted: fetch the files, apply, report DUStateChangeComplete.
    ChangeDuState(crate::cwmp::ChangeDUState),
    /// `<object>DiagnosticsState` was set to "Canceled": the test in progress stops.
    DiagnosticsCanceled {
        object: String,
    },
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn idle_device_is_small_and_heap_free() {
        assert!(
            std::mem::size_of::<Device>() <= 64,
            "Device is {} bytes",
            std::mem::size_of::<Device>()
        );
        // Currently 24 bytes: delta pointer, boot time, index, template, flags, binding.
        assert_eq!(std::mem::size_of::<Device>(), 24);
        let d = Device::new(7);
        assert_eq!(d.index(), 7);
        assert!(d.delta().is_none());
        assert_eq!(d.heap_bytes(), 0);
        assert!(!d.active_change_pending());
    }

    #[test]
    fn boot_time_round_trips() {
        let mut d = Device::with_template(1, 3);
        d.set_boot_time(DateTime::from_unix_ms(1_700_000_000_000));
        assert_eq!(d.boot_time().unix_ms(), 1_700_000_000_000);
        assert_eq!(d.template(), 3);
    }
}
