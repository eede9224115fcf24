//! The messages an ACS sends a CPE (what `decode_acs` reads): its requests, its responses to
//! the CPE's requests, and the names that travel only the other way.

use super::{Dec, MAX_ARRAY_ITEMS};
use crate::cwmp::error::DecodeError;
use crate::cwmp::message::{AcsMessage, AcsRequest, AcsResponse};
use crate::cwmp::methods::{sent_only_by, Caller};
use crate::cwmp::rpc::*;
use crate::cwmp::tree::NodeId;

impl Dec<'_, '_> {
    /// An ACS request, else an ACS response; a CPE-only name is a direction error, any other
    /// name an `Unknown` request (the CPE answers it with fault 9000).
    pub(super) fn acs_rpc(&self, el: NodeId) -> Result<AcsMessage, DecodeError> {
        let name = self.t.local(el);
        match self.acs_request(el, name) {
            Ok(Some(q)) => return Ok(AcsMessage::Request(q)),
            Ok(None) => {}
            // The envelope parsed and names a known RPC: its arguments are the CPE's to fault,
            // not a reason to drop the session (TR-069 A.5).
            Err(error) => {
                let method = AcsRequest::NAMES
                    .iter()
                    .find(|n| n.as_bytes() == name)
                    .copied()
                    .unwrap_or("Unknown");
                return Ok(AcsMessage::Request(AcsRequest::Invalid(InvalidRequest {
                    method,
                    error,
                })));
            }
        }
        if let Some(r) = self.acs_response(el, name)? {
            return Ok(AcsMessage::Response(r));
        }
        if sent_only_by(name) == Some(Caller::Cpe) {
            return Err(DecodeError::Direction {
                path: self.t.path(el),
                name: String::from_utf8_lossy(name).into_owned(),
            });
        }
        Ok(AcsMessage::Request(AcsRequest::Unknown(
            String::from_utf8_lossy(name).into_owned(),
        )))
    }

    /// The ACS's requests (TR-069 §A.3.1, §A.3.2, §A.4.1); `None` when `name` is not one.
    /// Long because it has one arm per RPC, kept together so the table reads as the spec's list.
    fn acs_request(&self, el: NodeId, name: &[u8]) -> Result<Option<AcsRequest>, DecodeError> {
        Ok(Some(match name {
            b"GetRPCMethods" => AcsRequest::GetRPCMethods,
            b"GetParameterNames" => AcsRequest::GetParameterNames(GetParameterNames {
                parameter_path: self.string(el, "ParameterPath")?,
                next_level: self.boolean(el, "NextLevel")?,
            }),
            b"GetParameterValues" => AcsRequest::GetParameterValues(GetParameterValues {
                parameter_names: self.strings(self.req(el, "ParameterNames")?)?,
            }),
            b"SetParameterValues" => AcsRequest::SetParameterValues(SetParameterValues {
                parameter_list: self.param_values(self.req(el, "ParameterList")?)?,
                parameter_key: self.string_or_empty(el, "ParameterKey"),
            }),
            b"GetParameterAttributes" => {
                AcsRequest::GetParameterAttributes(GetParameterAttributes {
                    parameter_names: self.strings(self.req(el, "ParameterNames")?)?,
                })
            }
            b"SetParameterAttributes" => {
                AcsRequest::SetParameterAttributes(SetParameterAttributes {
                    parameter_list: self
                        .map_items(self.req(el, "ParameterList")?, |s| self.spa_struct(s))?,
                })
            }
            b"AddObject" => AcsRequest::AddObject(AddObject {
                object_name: self.string(el, "ObjectName")?,
                parameter_key: self.string_or_empty(el, "ParameterKey"),
            }),
            b"DeleteObject" => AcsRequest::DeleteObject(DeleteObject {
                object_name: self.string(el, "ObjectName")?,
                parameter_key: self.string_or_empty(el, "ParameterKey"),
            }),
            b"Reboot" => AcsRequest::Reboot(Reboot {
                command_key: self.string_or_empty(el, "CommandKey"),
            }),
            b"FactoryReset" => AcsRequest::FactoryReset,
            b"Download" => AcsRequest::Download(Download {
                command_key: self.string_or_empty(el, "CommandKey"),
                file_type: self.string(el, "FileType")?,
                url: self.string(el, "URL")?,
                username: self.string_or_empty(el, "Username"),
                password: self.string_or_empty(el, "Password"),
                file_size: self.u32_or(el, "FileSize", 0)?,
                target_file_name: self.string_or_empty(el, "TargetFileName"),
                delay_seconds: self.u32_or(el, "DelaySeconds", 0)?,
                success_url: self.string_or_empty(el, "SuccessURL"),
                failure_url: self.string_or_empty(el, "FailureURL"),
            }),
            b"Upload" => AcsRequest::Upload(Upload {
                command_key: self.string_or_empty(el, "CommandKey"),
                file_type: self.string(el, "FileType")?,
                url: self.string(el, "URL")?,
                username: self.string_or_empty(el, "Username"),
                password: self.string_or_empty(el, "Password"),
                delay_seconds: self.u32_or(el, "DelaySeconds", 0)?,
            }),
            b"ScheduleInform" => AcsRequest::ScheduleInform(ScheduleInform {
                delay_seconds: self.u32(el, "DelaySeconds")?,
                command_key: self.string_or_empty(el, "CommandKey"),
            }),
            b"ScheduleDownload" => AcsRequest::ScheduleDownload(ScheduleDownload {
                command_key: self.string_or_empty(el, "CommandKey"),
                file_type: self.string(el, "FileType")?,
                url: self.string(el, "URL")?,
                username: self.string_or_empty(el, "Username"),
                password: self.string_or_empty(el, "Password"),
                file_size: self.u32_or(el, "FileSize", 0)?,
                target_file_name: self.string_or_empty(el, "TargetFileName"),
                time_window_list: self.map_items(self.req(el, "TimeWindowList")?, |w| {
                    Ok(TimeWindowStruct {
                        window_start: self.u32(w, "WindowStart")?,
                        window_end: self.u32(w, "WindowEnd")?,
                        window_mode: self.string(w, "WindowMode")?,
                        user_message: self.string_or_empty(w, "UserMessage"),
                        max_retries: self.i32_or(w, "MaxRetries", 0)?,
                    })
                })?,
            }),
            b"CancelTransfer" => AcsRequest::CancelTransfer(CancelTransfer {
                command_key: self.string_or_empty(el, "CommandKey"),
            }),
            b"GetQueuedTransfers" => AcsRequest::GetQueuedTransfers,
            b"GetAllQueuedTransfers" => AcsRequest::GetAllQueuedTransfers,
            b"ChangeDUState" => AcsRequest::ChangeDUState(self.change_du_state(el)?),
            _ => return Ok(None),
        }))
    }

    /// The ACS's responses to CPE requests (TR-069 §A.3.3, §A.4.2); `None` when `name` is not
    /// one.
    fn acs_response(&self, el: NodeId, name: &[u8]) -> Result<Option<AcsResponse>, DecodeError> {
        Ok(Some(match name {
            b"InformResponse" => AcsResponse::InformResponse(InformResponse {
                max_envelopes: self.u32_or(el, "MaxEnvelopes", 1)?,
            }),
            b"TransferCompleteResponse" => AcsResponse::TransferCompleteResponse,
            b"AutonomousTransferCompleteResponse" => {
                AcsResponse::AutonomousTransferCompleteResponse
            }
            b"GetRPCMethodsResponse" => AcsResponse::GetRPCMethodsResponse(GetRPCMethodsResponse {
                method_list: self.strings(self.req(el, "MethodList")?)?,
            }),
            b"RequestDownloadResponse" => AcsResponse::RequestDownloadResponse,
            b"DUStateChangeCompleteResponse" => AcsResponse::DUStateChangeCompleteResponse,
            b"AutonomousDUStateChangeCompleteResponse" => {
                AcsResponse::AutonomousDUStateChangeCompleteResponse
            }
            b"KickedResponse" => AcsResponse::KickedResponse(KickedResponse {
                next_url: self.string_or_empty(el, "NextURL"),
            }),
            _ => return Ok(None),
        }))
    }

    fn spa_struct(&self, s: NodeId) -> Result<SetParameterAttributesStruct, DecodeError> {
        let notification_change = self.boolean(s, "NotificationChange")?;
        // GenieACS sends an empty <Notification></Notification> when not changing it.
        let notification = match self.t.child(s, "Notification") {
            Some(n) if !notification_change && self.t.text(n).trim().is_empty() => None,
            Some(n) => Some(self.notification_of(n)?),
            None if notification_change => return Err(self.missing(s, "Notification")),
            None => None,
        };
        Ok(SetParameterAttributesStruct {
            name: self.string(s, "Name")?,
            notification_change,
            notification,
            access_list_change: self.boolean(s, "AccessListChange")?,
            access_list: match self.t.child(s, "AccessList") {
                Some(a) => self.strings(a)?,
                None => Vec::new(),
            },
        })
    }

    fn change_du_state(&self, el: NodeId) -> Result<ChangeDUState, DecodeError> {
        let t = self.t;
        let mut operations = Vec::new();
        for (i, op) in t
            .children(el)
            .filter(|&c| t.local(c) == b"Operations")
            .enumerate()
        {
            if i >= MAX_ARRAY_ITEMS {
                return Err(DecodeError::Limit {
                    path: t.path(el),
                    what: "too many Operations",
                });
            }
            let s = |name| self.string_or_empty(op, name);
            operations.push(match t.xsi_local(op) {
                Some(b"InstallOpStruct") => DuOperation::Install {
                    url: self.string(op, "URL")?,
                    uuid: s("UUID"),
                    username: s("Username"),
                    password: s("Password"),
                    execution_env_ref: s("ExecutionEnvRef"),
                },
                Some(b"UpdateOpStruct") => DuOperation::Update {
                    uuid: s("UUID"),
                    version: s("Version"),
                    url: s("URL"),
                    username: s("Username"),
                    password: s("Password"),
                },
                Some(b"UninstallOpStruct") => DuOperation::Uninstall {
                    uuid: self.string(op, "UUID")?,
                    version: s("Version"),
                    execution_env_ref: s("ExecutionEnvRef"),
                },
                _ => {
                    return Err(self.bad(
                        op,
                        "xsi:type (InstallOpStruct, UpdateOpStruct or UninstallOpStruct)",
                    ))
                }
            });
        }
        if operations.is_empty() {
            return Err(self.missing(el, "Operations"));
        }
        Ok(ChangeDUState {
            operations,
            command_key: self.string_or_empty(el, "CommandKey"),
        })
    }
}
