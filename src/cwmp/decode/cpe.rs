//! The messages a CPE sends an ACS (what `decode_cpe` reads): its requests (Inform first),
//! its responses to the ACS's requests, and the names that travel only the other way.

use super::{Dec, MAX_ARRAY_ITEMS};
use crate::cwmp::error::DecodeError;
use crate::cwmp::message::{CpeMessage, CpeRequest, CpeResponse};
use crate::cwmp::methods::{sent_only_by, Caller};
use crate::cwmp::rpc::*;
use crate::cwmp::tree::NodeId;

impl Dec<'_, '_> {
    /// A CPE request, else a CPE response; any other name is an error (an ACS-only name a
    /// direction error).
    pub(super) fn cpe_rpc(&self, el: NodeId) -> Result<CpeMessage, DecodeError> {
        let name = self.t.local(el);
        if let Some(q) = self.cpe_request(el, name)? {
            return Ok(CpeMessage::Request(q));
        }
        if let Some(r) = self.cpe_response(el, name)? {
            return Ok(CpeMessage::Response(r));
        }
        let path = self.t.path(el);
        let other = name;
        let name = String::from_utf8_lossy(other).into_owned();
        Err(if sent_only_by(other) == Some(Caller::Acs) {
            DecodeError::Direction { path, name }
        } else {
            DecodeError::UnknownRpc { path, name }
        })
    }

    /// The CPE's requests (TR-069 §A.3.1, §A.3.3, §A.4.2), one arm per RPC; `None` when
    /// `name` is not one.
    fn cpe_request(&self, el: NodeId, name: &[u8]) -> Result<Option<CpeRequest>, DecodeError> {
        Ok(Some(match name {
            b"Inform" => CpeRequest::Inform(self.inform(el)?),
            b"TransferComplete" => CpeRequest::TransferComplete(TransferComplete {
                command_key: self.string_or_empty(el, "CommandKey"),
                fault: self.transfer_fault(self.req(el, "FaultStruct")?)?,
                start_time: self.datetime(el, "StartTime")?,
                complete_time: self.datetime(el, "CompleteTime")?,
            }),
            b"AutonomousTransferComplete" => {
                CpeRequest::AutonomousTransferComplete(AutonomousTransferComplete {
                    announce_url: self.string_or_empty(el, "AnnounceURL"),
                    transfer_url: self.string_or_empty(el, "TransferURL"),
                    is_download: self.boolean(el, "IsDownload")?,
                    file_type: self.string(el, "FileType")?,
                    file_size: self.u32_or(el, "FileSize", 0)?,
                    target_file_name: self.string_or_empty(el, "TargetFileName"),
                    fault: self.transfer_fault(self.req(el, "FaultStruct")?)?,
                    start_time: self.datetime(el, "StartTime")?,
                    complete_time: self.datetime(el, "CompleteTime")?,
                })
            }
            b"GetRPCMethods" => CpeRequest::GetRPCMethods,
            b"RequestDownload" => CpeRequest::RequestDownload(RequestDownload {
                file_type: self.string(el, "FileType")?,
                file_type_arg: match self.t.child(el, "FileTypeArg") {
                    Some(a) => self.map_items(a, |s| {
                        Ok(ArgStruct {
                            name: self.string(s, "Name")?,
                            value: self.string_or_empty(s, "Value"),
                        })
                    })?,
                    None => Vec::new(),
                },
            }),
            b"DUStateChangeComplete" => CpeRequest::DUStateChangeComplete(DUStateChangeComplete {
                results: self.op_results(el, false)?,
                command_key: self.string_or_empty(el, "CommandKey"),
            }),
            b"AutonomousDUStateChangeComplete" => {
                CpeRequest::AutonomousDUStateChangeComplete(AutonomousDUStateChangeComplete {
                    results: self.op_results(el, true)?,
                })
            }
            b"Kicked" => CpeRequest::Kicked(Kicked {
                command: self.string_or_empty(el, "Command"),
                referer: self.string_or_empty(el, "Referer"),
                arg: self.string_or_empty(el, "Arg"),
                next: self.string_or_empty(el, "Next"),
            }),
            _ => return Ok(None),
        }))
    }

    /// The CPE's responses to ACS requests (TR-069 §A.3.1, §A.3.2, §A.4.1); `None` when `name`
    /// is not one. Long because it has one arm per RPC, kept together so the table reads as the
    /// spec's list.
    fn cpe_response(&self, el: NodeId, name: &[u8]) -> Result<Option<CpeResponse>, DecodeError> {
        Ok(Some(match name {
            b"GetRPCMethodsResponse" => CpeResponse::GetRPCMethodsResponse(GetRPCMethodsResponse {
                method_list: self.strings(self.req(el, "MethodList")?)?,
            }),
            b"GetParameterNamesResponse" => {
                CpeResponse::GetParameterNamesResponse(GetParameterNamesResponse {
                    parameter_list: self.map_items(self.req(el, "ParameterList")?, |s| {
                        Ok(ParameterInfoStruct {
                            name: self.string(s, "Name")?,
                            writable: self.boolean(s, "Writable")?,
                        })
                    })?,
                })
            }
            b"GetParameterValuesResponse" => {
                CpeResponse::GetParameterValuesResponse(GetParameterValuesResponse {
                    parameter_list: self.param_values(self.req(el, "ParameterList")?)?,
                })
            }
            b"SetParameterValuesResponse" => {
                CpeResponse::SetParameterValuesResponse(SetParameterValuesResponse {
                    status: self.u32(el, "Status")?,
                })
            }
            b"GetParameterAttributesResponse" => {
                CpeResponse::GetParameterAttributesResponse(GetParameterAttributesResponse {
                    parameter_list: self.map_items(self.req(el, "ParameterList")?, |s| {
                        Ok(ParameterAttributeStruct {
                            name: self.string(s, "Name")?,
                            notification: self.notification_of(self.req(s, "Notification")?)?,
                            access_list: match self.t.child(s, "AccessList") {
                                Some(a) => self.strings(a)?,
                                None => Vec::new(),
                            },
                        })
                    })?,
                })
            }
            b"SetParameterAttributesResponse" => CpeResponse::SetParameterAttributesResponse,
            b"AddObjectResponse" => CpeResponse::AddObjectResponse(AddObjectResponse {
                instance_number: self.u32(el, "InstanceNumber")?,
                status: self.u32(el, "Status")?,
            }),
            b"DeleteObjectResponse" => CpeResponse::DeleteObjectResponse(DeleteObjectResponse {
                status: self.u32(el, "Status")?,
            }),
            b"RebootResponse" => CpeResponse::RebootResponse,
            b"FactoryResetResponse" => CpeResponse::FactoryResetResponse,
            b"DownloadResponse" => CpeResponse::DownloadResponse(DownloadResponse {
                status: self.u32(el, "Status")?,
                start_time: self.datetime(el, "StartTime")?,
                complete_time: self.datetime(el, "CompleteTime")?,
            }),
            b"UploadResponse" => CpeResponse::UploadResponse(UploadResponse {
                status: self.u32(el, "Status")?,
                start_time: self.datetime(el, "StartTime")?,
                complete_time: self.datetime(el, "CompleteTime")?,
            }),
            b"ScheduleInformResponse" => CpeResponse::ScheduleInformResponse,
            b"ScheduleDownloadResponse" => CpeResponse::ScheduleDownloadResponse,
            b"CancelTransferResponse" => CpeResponse::CancelTransferResponse,
            b"GetQueuedTransfersResponse" => {
                CpeResponse::GetQueuedTransfersResponse(GetQueuedTransfersResponse {
                    transfer_list: self.map_items(self.req(el, "TransferList")?, |s| {
                        Ok(QueuedTransferStruct {
                            command_key: self.string_or_empty(s, "CommandKey"),
                            state: self.u32(s, "State")?,
                        })
                    })?,
                })
            }
            b"GetAllQueuedTransfersResponse" => {
                CpeResponse::GetAllQueuedTransfersResponse(GetAllQueuedTransfersResponse {
                    transfer_list: self.map_items(self.req(el, "TransferList")?, |s| {
                        Ok(AllQueuedTransferStruct {
                            command_key: self.string_or_empty(s, "CommandKey"),
                            state: self.u32(s, "State")?,
                            is_download: self.boolean(s, "IsDownload")?,
                            file_type: self.string(s, "FileType")?,
                            file_size: self.u32_or(s, "FileSize", 0)?,
                            target_file_name: self.string_or_empty(s, "TargetFileName"),
                        })
                    })?,
                })
            }
            b"ChangeDUStateResponse" => CpeResponse::ChangeDUStateResponse,
            _ => return Ok(None),
        }))
    }

    fn inform(&self, el: NodeId) -> Result<Inform, DecodeError> {
        let dev = self.req(el, "DeviceId")?;
        Ok(Inform {
            device_id: DeviceIdStruct {
                manufacturer: self.string_or_empty(dev, "Manufacturer"),
                oui: self.string(dev, "OUI")?,
                product_class: self.string_or_empty(dev, "ProductClass"),
                serial_number: self.string(dev, "SerialNumber")?,
            },
            events: self.map_items(self.req(el, "Event")?, |e| {
                Ok(EventStruct {
                    code: EventCode::parse(self.t.text(self.req(e, "EventCode")?)),
                    command_key: self.string_or_empty(e, "CommandKey"),
                })
            })?,
            max_envelopes: self.u32(el, "MaxEnvelopes")?,
            current_time: self.datetime(el, "CurrentTime")?,
            retry_count: self.u32(el, "RetryCount")?,
            parameter_list: match self.t.child(el, "ParameterList") {
                Some(l) => self.param_values(l)?,
                None => Vec::new(),
            },
        })
    }

    fn transfer_fault(&self, f: NodeId) -> Result<TransferCompleteFaultStruct, DecodeError> {
        Ok(TransferCompleteFaultStruct {
            fault_code: self.u32(f, "FaultCode")?,
            fault_string: self.string_or_empty(f, "FaultString"),
        })
    }

    fn op_results(&self, el: NodeId, autonomous: bool) -> Result<Vec<OpResultStruct>, DecodeError> {
        let t = self.t;
        let mut results = Vec::new();
        for (i, r) in t
            .children(el)
            .filter(|&c| t.local(c) == b"Results")
            .enumerate()
        {
            if i >= MAX_ARRAY_ITEMS {
                return Err(DecodeError::Limit {
                    path: t.path(el),
                    what: "too many Results",
                });
            }
            let f = self.req(r, "Fault")?;
            results.push(OpResultStruct {
                uuid: self.string_or_empty(r, "UUID"),
                deployment_unit_ref: self.string_or_empty(r, "DeploymentUnitRef"),
                version: self.string_or_empty(r, "Version"),
                current_state: self.string(r, "CurrentState")?,
                resolved: self.boolean(r, "Resolved")?,
                execution_unit_ref_list: self.string_or_empty(r, "ExecutionUnitRefList"),
                start_time: self.datetime(r, "StartTime")?,
                complete_time: self.datetime(r, "CompleteTime")?,
                fault: TransferCompleteFaultStruct {
                    fault_code: self.u32(f, "FaultCode")?,
                    fault_string: self.string_or_empty(f, "FaultString"),
                },
                operation_performed: if autonomous {
                    Some(self.string(r, "OperationPerformed")?)
                } else {
                    None
                },
            });
        }
        if results.is_empty() {
            return Err(self.missing(el, "Results"));
        }
        Ok(results)
    }
}
