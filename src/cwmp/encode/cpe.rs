//! The messages a CPE sends: its requests (Inform first) and its responses to ACS requests.

use super::W;
use crate::cwmp::message::{CpeRequest, CpeResponse};
use crate::cwmp::rpc::*;

impl W<'_> {
    pub(super) fn cpe_request(&mut self, r: &CpeRequest) {
        let name = r.name();
        match r {
            CpeRequest::GetRPCMethods => return self.rpc_empty(name),
            _ => self.rpc_open(name),
        }
        match r {
            CpeRequest::Inform(i) => self.inform(i),
            CpeRequest::TransferComplete(t) => {
                self.s("CommandKey", &t.command_key);
                self.transfer_fault(&t.fault);
                self.t("StartTime", t.start_time);
                self.t("CompleteTime", t.complete_time);
            }
            CpeRequest::AutonomousTransferComplete(t) => {
                self.s("AnnounceURL", &t.announce_url);
                self.s("TransferURL", &t.transfer_url);
                self.b("IsDownload", t.is_download);
                self.s("FileType", &t.file_type);
                self.u("FileSize", t.file_size);
                self.s("TargetFileName", &t.target_file_name);
                self.transfer_fault(&t.fault);
                self.t("StartTime", t.start_time);
                self.t("CompleteTime", t.complete_time);
            }
            CpeRequest::RequestDownload(d) => {
                self.s("FileType", &d.file_type);
                self.array_open("FileTypeArg", "cwmp:ArgStruct", d.file_type_arg.len());
                for a in &d.file_type_arg {
                    self.open("ArgStruct");
                    self.s("Name", &a.name);
                    self.s("Value", &a.value);
                    self.close("ArgStruct");
                }
                self.close("FileTypeArg");
            }
            CpeRequest::DUStateChangeComplete(d) => {
                for r in &d.results {
                    self.op_result(r, false);
                }
                self.s("CommandKey", &d.command_key);
            }
            CpeRequest::AutonomousDUStateChangeComplete(d) => {
                for r in &d.results {
                    self.op_result(r, true);
                }
            }
            CpeRequest::Kicked(k) => {
                self.s("Command", &k.command);
                self.s("Referer", &k.referer);
                self.s("Arg", &k.arg);
                self.s("Next", &k.next);
            }
            CpeRequest::GetRPCMethods => {}
        }
        self.rpc_close(name);
    }

    fn op_result(&mut self, r: &OpResultStruct, autonomous: bool) {
        self.open("Results");
        self.s("UUID", &r.uuid);
        self.s("DeploymentUnitRef", &r.deployment_unit_ref);
        self.s("Version", &r.version);
        self.s("CurrentState", &r.current_state);
        self.b("Resolved", r.resolved);
        self.s("ExecutionUnitRefList", &r.execution_unit_ref_list);
        self.t("StartTime", r.start_time);
        self.t("CompleteTime", r.complete_time);
        self.open("Fault");
        self.u("FaultCode", r.fault.fault_code);
        self.s("FaultString", &r.fault.fault_string);
        self.close("Fault");
        if autonomous {
            self.s(
                "OperationPerformed",
                r.operation_performed.as_deref().unwrap_or_default(),
            );
        }
        self.close("Results");
    }

    pub(super) fn cpe_response(&mut self, r: &CpeResponse) {
        let name = r.name();
        self.rpc_open(name);
        match r {
            CpeResponse::GetRPCMethodsResponse(m) => self.strings("MethodList", &m.method_list),
            CpeResponse::GetParameterNamesResponse(g) => {
                self.parameter_info_list(&g.parameter_list)
            }
            CpeResponse::GetParameterValuesResponse(g) => {
                self.param_values("ParameterList", &g.parameter_list)
            }
            CpeResponse::SetParameterValuesResponse(s) => self.u("Status", s.status),
            CpeResponse::GetParameterAttributesResponse(g) => {
                self.parameter_attribute_list(&g.parameter_list)
            }
            CpeResponse::AddObjectResponse(a) => {
                self.u("InstanceNumber", a.instance_number);
                self.u("Status", a.status);
            }
            CpeResponse::DeleteObjectResponse(d) => self.u("Status", d.status),
            CpeResponse::DownloadResponse(d) => {
                self.u("Status", d.status);
                self.t("StartTime", d.start_time);
                self.t("CompleteTime", d.complete_time);
            }
            CpeResponse::UploadResponse(u) => {
                self.u("Status", u.status);
                self.t("StartTime", u.start_time);
                self.t("CompleteTime", u.complete_time);
            }
            CpeResponse::GetQueuedTransfersResponse(q) => self.queued_transfers(&q.transfer_list),
            CpeResponse::GetAllQueuedTransfersResponse(q) => {
                self.all_queued_transfers(&q.transfer_list)
            }
            CpeResponse::SetParameterAttributesResponse
            | CpeResponse::RebootResponse
            | CpeResponse::FactoryResetResponse
            | CpeResponse::ScheduleInformResponse
            | CpeResponse::ScheduleDownloadResponse
            | CpeResponse::CancelTransferResponse
            | CpeResponse::ChangeDUStateResponse => {}
        }
        self.rpc_close(name);
    }

    /// The Inform's arguments (TR-069 §A.3.3.1), DeviceId and Event first.
    fn inform(&mut self, i: &Inform) {
        self.open("DeviceId");
        self.s("Manufacturer", &i.device_id.manufacturer);
        self.s("OUI", &i.device_id.oui);
        self.s("ProductClass", &i.device_id.product_class);
        self.s("SerialNumber", &i.device_id.serial_number);
        self.close("DeviceId");
        self.array_open("Event", "cwmp:EventStruct", i.events.len());
        for e in &i.events {
            self.open("EventStruct");
            self.s("EventCode", e.code.as_str());
            self.s("CommandKey", &e.command_key);
            self.close("EventStruct");
        }
        self.close("Event");
        self.u("MaxEnvelopes", i.max_envelopes);
        self.t("CurrentTime", i.current_time);
        self.u("RetryCount", i.retry_count);
        self.param_values("ParameterList", &i.parameter_list);
    }

    /// GetParameterNamesResponse's `ParameterList` (TR-069 §A.3.2.3).
    fn parameter_info_list(&mut self, list: &[ParameterInfoStruct]) {
        self.array_open("ParameterList", "cwmp:ParameterInfoStruct", list.len());
        for p in list {
            self.open("ParameterInfoStruct");
            self.s("Name", &p.name);
            self.b("Writable", p.writable);
            self.close("ParameterInfoStruct");
        }
        self.close("ParameterList");
    }

    /// GetParameterAttributesResponse's `ParameterList` (TR-069 §A.3.2.5).
    fn parameter_attribute_list(&mut self, list: &[ParameterAttributeStruct]) {
        self.array_open("ParameterList", "cwmp:ParameterAttributeStruct", list.len());
        for p in list {
            self.open("ParameterAttributeStruct");
            self.s("Name", &p.name);
            self.u("Notification", u32::from(p.notification));
            self.strings("AccessList", &p.access_list);
            self.close("ParameterAttributeStruct");
        }
        self.close("ParameterList");
    }

    /// GetQueuedTransfersResponse's `TransferList`.
    fn queued_transfers(&mut self, list: &[QueuedTransferStruct]) {
        self.array_open("TransferList", "cwmp:QueuedTransferStruct", list.len());
        for t in list {
            self.open("QueuedTransferStruct");
            self.s("CommandKey", &t.command_key);
            self.u("State", t.state);
            self.close("QueuedTransferStruct");
        }
        self.close("TransferList");
    }

    /// GetAllQueuedTransfersResponse's `TransferList`.
    fn all_queued_transfers(&mut self, list: &[AllQueuedTransferStruct]) {
        self.array_open("TransferList", "cwmp:AllQueuedTransferStruct", list.len());
        for t in list {
            self.open("AllQueuedTransferStruct");
            self.s("CommandKey", &t.command_key);
            self.u("State", t.state);
            self.b("IsDownload", t.is_download);
            self.s("FileType", &t.file_type);
            self.u("FileSize", t.file_size);
            self.s("TargetFileName", &t.target_file_name);
            self.close("AllQueuedTransferStruct");
        }
        self.close("TransferList");
    }
}
