//! A device checked out for a session: its template, its record and its life, moved into the
//! session task (ownership by move, no locks) and moved back when the session ends. Implements
//! the session's [`SessionDevice`] by asking the pure [`DeviceView`].

use std::sync::Arc;

use crate::cwmp::{
    AcsRequest, AcsResponse, CpeMessage, CpeRequest, DateTime, EventCode, EventStruct, Fault,
    Inform,
};
use crate::device::{AnswerLimit, Device, DeviceView, Effect, Env};
use crate::model::Template;
use crate::session::SessionDevice;

use super::router::Router;

use crate::device::life::Life;

/// The checked-out device.
pub struct Cpe {
    pub template: Arc<Template>,
    pub device: Device,
    pub life: Life,
    pub seed: u64,
    /// The device's clock at the start of the session (simulated time).
    pub now: DateTime,
    pub cr_url_base: Arc<str>,
    /// The group's bound on what one answer builds.
    pub answer_limit: AnswerLimit,
    /// What the ACS asked for during the session, for the scheduler to carry out afterwards.
    pub effects: Vec<Effect>,
    /// ACS requests the device answered with a fault: (RPC name, fault code), for the metrics.
    pub faults: Vec<(&'static str, u32)>,
    /// The connection-request listener's credentials, told of new ones as soon as the ACS
    /// sets them: a SetParameterValuesResponse with Status 0 means they are in effect
    /// (TR-069 A.3.2.1), and an ACS may send a connection request the moment the session ends,
    /// before the scheduler has taken the device back. `None` where no listener runs.
    pub cr_router: Option<Arc<Router>>,
    /// The fleet's STUN-mapped addresses (reads of a device's binding); None outside a fleet.
    pub udp_addrs: Option<Arc<crate::device::binding::PublicAddrs>>,
    /// The events of this session's Inform once decided ([`Cpe::session_events`]): the fleet
    /// counts exactly these and the Inform carries exactly these. `None` until decided.
    pub events: Option<Vec<EventStruct>>,
}

impl Cpe {
    /// Reads or changes the device through its template.
    pub fn with_view<R>(&mut self, f: impl FnOnce(&mut DeviceView<'_>) -> R) -> R {
        let env = Env {
            seed: self.seed,
            now: self.now,
            cr_url_base: &self.cr_url_base,
            udp: self.udp_addrs.as_deref(),
        };
        let mut view =
            DeviceView::new(&self.template, &mut self.device, &env).with_limit(self.answer_limit);
        f(&mut view)
    }

    /// The events this session's Inform carries, decided once (on the first call) and kept
    /// for [`SessionDevice::inform`]: the pending ones, plus `4 VALUE CHANGE` whenever a
    /// notified change (passive or active) waits, since the changed parameters ride in the
    /// Inform's ParameterList and TR-069 §3.7.1.5 (Table 7) has `4 VALUE CHANGE` announce
    /// them. Deciding once is what lets the fleet count the very events the Inform sends: the
    /// pending change is not known to the device's `Life` (a firmware's new SoftwareVersion,
    /// a passive change), so a second reading of `Life` alone would miss it.
    pub fn session_events(&mut self) -> &[EventStruct] {
        let (life, device) = (&mut self.life, &self.device);
        self.events.get_or_insert_with(|| {
            if device.change_pending() {
                life.add(EventCode::ValueChange);
            }
            life.inform_events()
        })
    }
}

/// The connection-request credentials a device has now (`root` its data model's root object).
pub(super) fn cr_credentials(v: &DeviceView<'_>, root: &str) -> (String, String) {
    let get = |n: &str| {
        v.get(&format!("{root}ManagementServer.{n}"))
            .map(|x| x.value)
            .unwrap_or_default()
    };
    (
        get("ConnectionRequestUsername"),
        get("ConnectionRequestPassword"),
    )
}

impl SessionDevice for Cpe {
    fn inform(&mut self) -> Inform {
        // The events decided for this session (and counted by the fleet when it started it),
        // else decided now (a device outside a fleet). Taken: the next session decides anew.
        self.session_events();
        let events = self.events.take().unwrap_or_default();
        let retry = u32::from(self.life.retry);
        self.with_view(|v| v.inform(events, retry))
    }

    fn inform_acknowledged(&mut self) {
        self.life.inform_acknowledged();
        self.with_view(|v| v.informed());
    }

    fn next_request(&mut self) -> Option<CpeRequest> {
        self.life.next_transfer_complete()
    }

    fn has_request(&self) -> bool {
        self.life.has_transfer_complete()
    }

    fn request_answered(&mut self, req: &CpeRequest, answer: Result<&AcsResponse, &Fault>) {
        match (req, answer) {
            (CpeRequest::TransferComplete(tc), Ok(_)) => {
                self.life.transfer_answered();
                self.device.transfer_finished(&tc.command_key);
            }
            (
                CpeRequest::DUStateChangeComplete(_)
                | CpeRequest::AutonomousDUStateChangeComplete(_),
                Ok(_),
            ) => self.life.transfer_answered(),
            _ => {}
        }
        // A fault leaves the TransferComplete owed: the session's end puts it back in the
        // queue and the next session sends it again, as TR-069 asks.
    }

    fn apply(&mut self, req: &AcsRequest) -> CpeMessage {
        let applied = self.with_view(|v| v.apply(req));
        if let Some(router) = self.cr_router.clone() {
            if applied
                .effects
                .contains(&Effect::ConnectionRequestCredentialsChanged)
            {
                let root = self.template.root().to_string();
                let (u, p) = self.with_view(|v| cr_credentials(v, &root));
                router.set_credentials(self.device.index(), u, p);
            }
        }
        self.effects.extend(applied.effects);
        if let CpeMessage::Fault(f) = &applied.message {
            self.faults.push((req.name(), f.code));
        }
        applied.message
    }
}
