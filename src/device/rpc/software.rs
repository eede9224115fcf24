//! ChangeDUState (TR-069 A.4.1.10): accepted whole, carried out after the session; each
//! operation's own outcome (and fault) comes back in DUStateChangeComplete.

use crate::cwmp::{ChangeDUState, CpeResponse, DuOperation, Fault};
use crate::device::view::DeviceView;
use crate::device::Effect;

use super::{args, Outcome};

/// Most operations one ChangeDUState may carry here; more is 9004 (resources exceeded).
pub const MAX_DU_OPERATIONS: usize = 16;

impl DeviceView<'_> {
    pub(super) fn change_du_state_rpc(&mut self, r: &ChangeDUState) -> Outcome {
        if r.operations.len() > MAX_DU_OPERATIONS {
            return Err(Fault::new(9004));
        }
        // What an operation cannot do without (A.4.1.10): an Install's URL, an Uninstall's
        // UUID; a URL given must be one. Anything else is the operation's own fault, reported
        // in DUStateChangeComplete.
        for op in &r.operations {
            match op {
                DuOperation::Install { url, .. } => args::url(url, args::MAX_DU_URL_LEN)?,
                DuOperation::Update { url, .. } if !url.is_empty() => {
                    args::url(url, args::MAX_DU_URL_LEN)?
                }
                DuOperation::Uninstall { uuid, .. } if uuid.is_empty() => {
                    return Err(Fault::new(9003))
                }
                _ => {}
            }
        }
        Ok((
            CpeResponse::ChangeDUStateResponse,
            vec![Effect::ChangeDuState(r.clone())],
        ))
    }
}
