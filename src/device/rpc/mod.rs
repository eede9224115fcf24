//! [`DeviceView::apply`]: the CPE side of every ACS -> CPE RPC (TR-069 Annex A; each method
//! cites its section), one file per RPC family. Each handler validates everything before it
//! changes anything, so a fault leaves the device as it was.

mod args;
pub(crate) mod objects;
mod params;
mod software;
mod transfer;

use crate::cwmp::methods::{Caller, METHODS};
use crate::cwmp::{AcsRequest, CpeMessage, CpeResponse, CwmpVersion, Fault, GetRPCMethodsResponse};

use crate::device::view::DeviceView;
use crate::device::{Applied, Effect};

/// The methods this CPE implements (TR-069 A.3.1.1: the list is exact; anything else is
/// answered 9000, §3.6 and A.5): every ACS method the codec models, from the one list in
/// `cwmp::methods`, each with the CWMP version that introduced it.
fn methods() -> impl Iterator<Item = (&'static str, CwmpVersion)> {
    METHODS
        .iter()
        .filter(|m| m.caller != Caller::Cpe && m.modelled)
        .map(|m| (m.name, m.since))
}

type Outcome = Result<(CpeResponse, Vec<Effect>), Fault>;

fn ok(r: CpeResponse) -> Outcome {
    Ok((r, Vec::new()))
}

impl DeviceView<'_> {
    /// Apply one ACS request: the response (or a cwmp Fault) and the effects for the session
    /// layer.
    pub fn apply(&mut self, req: &AcsRequest) -> Applied {
        let supported = methods().any(|(m, v)| m == req.name() && self.offers(m, v));
        let outcome = if supported {
            self.dispatch(req)
        } else {
            Err(Fault::new(9000))
        };
        match outcome {
            Ok((response, effects)) => Applied {
                message: CpeMessage::Response(response),
                effects,
            },
            Err(fault) => Applied {
                message: CpeMessage::Fault(fault),
                effects: Vec::new(),
            },
        }
    }

    /// Whether this device offers method `m` (introduced in CWMP `v`): its version has it, and
    /// ChangeDUState only where the data model has SoftwareModules (TR-157).
    fn offers(&self, m: &str, v: CwmpVersion) -> bool {
        v <= self.t.cwmp_version()
            && (m != "ChangeDUState"
                || self
                    .get(&format!(
                        "{}SoftwareModules.DeploymentUnitNumberOfEntries",
                        self.t.root()
                    ))
                    .is_some())
    }

    /// One arm per RPC, to the handler of its family; the keys every request carries are
    /// checked first.
    fn dispatch(&mut self, req: &AcsRequest) -> Outcome {
        args::key(req_key(req))?;
        match req {
            AcsRequest::GetRPCMethods => {
                ok(CpeResponse::GetRPCMethodsResponse(GetRPCMethodsResponse {
                    method_list: methods()
                        .filter(|&(m, v)| self.offers(m, v))
                        .map(|(m, _)| m.to_string())
                        .collect(),
                }))
            }
            AcsRequest::GetParameterNames(r) => self.get_parameter_names(r),
            AcsRequest::GetParameterValues(r) => self.get_parameter_values(r),
            AcsRequest::SetParameterValues(r) => self.set_parameter_values(r),
            AcsRequest::GetParameterAttributes(r) => self.get_parameter_attributes(r),
            AcsRequest::SetParameterAttributes(r) => self.set_parameter_attributes(r),
            AcsRequest::AddObject(r) => self.add_object(r),
            AcsRequest::DeleteObject(r) => self.delete_object(r),
            AcsRequest::Reboot(r) => Ok((
                CpeResponse::RebootResponse,
                vec![Effect::Reboot {
                    command_key: r.command_key.clone(),
                }],
            )),
            AcsRequest::FactoryReset => Ok((
                CpeResponse::FactoryResetResponse,
                vec![Effect::FactoryReset],
            )),
            AcsRequest::Download(r) => self.download(r),
            AcsRequest::Upload(r) => self.upload(r),
            AcsRequest::ScheduleInform(r) => {
                // DelaySeconds must be positive (TR-069 A.4.1.2).
                if r.delay_seconds == 0 {
                    return Err(Fault::new(9003));
                }
                Ok((
                    CpeResponse::ScheduleInformResponse,
                    vec![Effect::ScheduleInform {
                        delay_seconds: r.delay_seconds,
                        command_key: r.command_key.clone(),
                    }],
                ))
            }
            AcsRequest::ScheduleDownload(r) => self.schedule_download(r),
            AcsRequest::CancelTransfer(r) => self.cancel_transfer(r),
            AcsRequest::GetQueuedTransfers => self.queued_transfers(),
            AcsRequest::GetAllQueuedTransfers => self.all_queued_transfers(),
            AcsRequest::Invalid(r) => Err(Fault::new(r.fault_code())),
            AcsRequest::ChangeDUState(r) => self.change_du_state_rpc(r),
            AcsRequest::Unknown(_) => Err(Fault::new(9000)),
        }
    }
}

/// The CommandKey or ParameterKey of a request ("" when it has none).
fn req_key(req: &AcsRequest) -> &str {
    match req {
        AcsRequest::SetParameterValues(r) => &r.parameter_key,
        AcsRequest::AddObject(r) => &r.parameter_key,
        AcsRequest::DeleteObject(r) => &r.parameter_key,
        AcsRequest::Reboot(r) => &r.command_key,
        AcsRequest::Download(r) => &r.command_key,
        AcsRequest::Upload(r) => &r.command_key,
        AcsRequest::ScheduleInform(r) => &r.command_key,
        AcsRequest::ScheduleDownload(r) => &r.command_key,
        AcsRequest::CancelTransfer(r) => &r.command_key,
        AcsRequest::ChangeDUState(r) => &r.command_key,
        _ => "",
    }
}
