//! Decoding of CWMP envelopes into typed messages: `decode_acs` (what a CPE reads) and
//! `decode_cpe` (what an ACS reads).
//!
//! Elements are matched by namespace URI + local name, never by prefix. Strict where a value
//! matters (numbers, booleans, dateTimes, required elements: each error names its element path),
//! lenient where real agents differ: any prefixes and whitespace, no Header or no cwmp:ID,
//! booleans 1/0/true/false, GenieACS's empty `<Notification>` and its `soap-env:Body:Fault`,
//! unknown extra elements, unqualified or qualified argument elements, wrong arrayType counts.
//! Parameter values are not checked against their `xsi:type`: rejecting a bad value is the
//! receiver's job (fault 9007), not the codec's.

use super::envelope::{Envelope, Header};
use super::error::DecodeError;
use super::fault::{Fault, SetParameterValuesFault};
use super::message::{AcsMessage, AcsRequest, AcsResponse, CpeMessage, CpeRequest, CpeResponse};
use super::rpc::*;
use super::time::DateTime;
use super::tree::{NodeId, Ns, Tree};
use super::value::{parse_bool, parse_integer, XsdType};
use super::version::CwmpVersion;

/// Most items accepted in one SOAP array (or repeated element such as ChangeDUState
/// `Operations`); more is refused as hostile rather than allocated.
pub const MAX_ARRAY_ITEMS: usize = 100_000;

/// Decodes a message an ACS sent to a CPE: a request, a response to a CPE request, or a SOAP
/// Fault carrying a cwmp Fault (8000-8899).
pub fn decode_acs(xml: &[u8]) -> Result<Envelope<AcsMessage>, DecodeError> {
    let tree = Tree::parse(xml)?;
    let d = Dec { t: &tree };
    let (header, header_version, el) = d.envelope()?;
    let (ns_version, body) = match d.body_kind(el, header_version)? {
        Body::Fault(v) => (v, AcsMessage::Fault(d.fault(el)?)),
        Body::Rpc(v) => (v, d.acs_rpc(el)?),
    };
    Ok(Envelope {
        version: refine_version(ns_version, &header),
        header,
        body,
    })
}

/// Decodes a message a CPE sent to an ACS: a request (Inform, TransferComplete, ...), a response
/// to an ACS request, or a SOAP Fault carrying a cwmp Fault (9000-9899, with
/// SetParameterValuesFault entries).
pub fn decode_cpe(xml: &[u8]) -> Result<Envelope<CpeMessage>, DecodeError> {
    let tree = Tree::parse(xml)?;
    let d = Dec { t: &tree };
    let (header, header_version, el) = d.envelope()?;
    let (ns_version, body) = match d.body_kind(el, header_version)? {
        Body::Fault(v) => (v, CpeMessage::Fault(d.fault(el)?)),
        Body::Rpc(v) => (v, d.cpe_rpc(el)?),
    };
    Ok(Envelope {
        version: refine_version(ns_version, &header),
        header,
        body,
    })
}

/// 1.3 and 1.4 share the cwmp-1-2 namespace; the headers tell them apart.
fn refine_version(ns_version: CwmpVersion, h: &Header) -> CwmpVersion {
    if ns_version != CwmpVersion::V1_2 {
        return ns_version;
    }
    if let Some(v) = h.use_cwmp_version.as_deref().and_then(CwmpVersion::parse) {
        if v >= CwmpVersion::V1_2 {
            return v;
        }
    }
    if h.supported_cwmp_versions.is_some() {
        CwmpVersion::V1_4
    } else if h.session_timeout.is_some() {
        CwmpVersion::V1_3
    } else {
        CwmpVersion::V1_2
    }
}

enum Body {
    Fault(CwmpVersion),
    Rpc(CwmpVersion),
}

/// Element names that exist only in the other direction: a clear error rather than `Unknown`.
const CPE_ONLY: &[&[u8]] = &[
    b"Inform",
    b"TransferComplete",
    b"AutonomousTransferComplete",
    b"RequestDownload",
    b"DUStateChangeComplete",
    b"AutonomousDUStateChangeComplete",
    b"Kicked",
    b"GetParameterNamesResponse",
    b"GetParameterValuesResponse",
    b"SetParameterValuesResponse",
    b"GetParameterAttributesResponse",
    b"SetParameterAttributesResponse",
    b"AddObjectResponse",
    b"DeleteObjectResponse",
    b"RebootResponse",
    b"FactoryResetResponse",
    b"DownloadResponse",
    b"UploadResponse",
    b"ScheduleInformResponse",
    b"ScheduleDownloadResponse",
    b"CancelTransferResponse",
    b"GetQueuedTransfersResponse",
    b"GetAllQueuedTransfersResponse",
    b"ChangeDUStateResponse",
    b"SetVouchersResponse",
    b"GetOptionsResponse",
];

const ACS_ONLY: &[&[u8]] = &[
    b"GetParameterNames",
    b"GetParameterValues",
    b"SetParameterValues",
    b"GetParameterAttributes",
    b"SetParameterAttributes",
    b"AddObject",
    b"DeleteObject",
    b"Reboot",
    b"FactoryReset",
    b"Download",
    b"Upload",
    b"ScheduleInform",
    b"ScheduleDownload",
    b"CancelTransfer",
    b"GetQueuedTransfers",
    b"GetAllQueuedTransfers",
    b"ChangeDUState",
    b"SetVouchers",
    b"GetOptions",
    b"InformResponse",
    b"TransferCompleteResponse",
    b"AutonomousTransferCompleteResponse",
    b"RequestDownloadResponse",
    b"DUStateChangeCompleteResponse",
    b"AutonomousDUStateChangeCompleteResponse",
    b"KickedResponse",
];

/// Keeps error messages small whatever the input.
fn clip(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(64) {
        Some((i, _)) => format!("{}...", s.get(..i).unwrap_or_default()),
        None => s.to_owned(),
    }
}

struct Dec<'t, 'a> {
    t: &'t Tree<'a>,
}

impl Dec<'_, '_> {
    // ---- envelope -------------------------------------------------------------------------

    /// Checks the root, reads the Header, and returns the single Body element.
    fn envelope(&self) -> Result<(Header, Option<CwmpVersion>, NodeId), DecodeError> {
        let t = self.t;
        let root = t.root();
        if t.ns(root) != Ns::SoapEnv || t.local(root) != b"Envelope" {
            return Err(DecodeError::Envelope {
                path: t.path(root),
                reason: "the root element is not a SOAP 1.1 Envelope",
            });
        }
        let mut header = Header::default();
        let mut header_version = None;
        let soap_child = |name: &[u8]| {
            t.children(root)
                .find(|&c| t.ns(c) == Ns::SoapEnv && t.local(c) == name)
        };
        if let Some(h) = soap_child(b"Header") {
            for c in t.children(h) {
                match t.ns(c) {
                    Ns::Cwmp(v) => {
                        header_version.get_or_insert(v);
                    }
                    Ns::CwmpUnknown | Ns::None => {}
                    Ns::SoapEnv | Ns::Other => continue,
                }
                match t.local(c) {
                    b"ID" => header.id = Some(t.text(c).to_owned()),
                    b"HoldRequests" => header.hold_requests = Some(self.bool_of(c)?),
                    b"NoMoreRequests" => header.no_more_requests = Some(self.bool_of(c)?),
                    // GenieACS only knows the lower-case spelling; accept both.
                    b"SessionTimeout" | b"sessionTimeout" => {
                        header.session_timeout = Some(self.u32_of(c)?)
                    }
                    b"SupportedCWMPVersions" => {
                        header.supported_cwmp_versions = Some(t.text(c).trim().to_owned())
                    }
                    b"UseCWMPVersion" => {
                        header.use_cwmp_version = Some(t.text(c).trim().to_owned())
                    }
                    _ => {}
                }
            }
        }
        let body = soap_child(b"Body").ok_or_else(|| DecodeError::Missing {
            path: t.child_path(root, "Body"),
        })?;
        let mut els = t.children(body);
        let el = els.next().ok_or_else(|| DecodeError::Envelope {
            path: t.path(body),
            reason: "the Body holds no element",
        })?;
        if els.next().is_some() {
            return Err(DecodeError::Envelope {
                path: t.path(body),
                reason: "the Body holds more than one element",
            });
        }
        Ok((header, header_version, el))
    }

    fn body_kind(
        &self,
        el: NodeId,
        header_version: Option<CwmpVersion>,
    ) -> Result<Body, DecodeError> {
        let t = self.t;
        match t.ns(el) {
            // GenieACS emits `soap-env:Body:Fault` for unsupported CPE methods; the local name
            // after the first colon is then "Body:Fault". Treat it as the Fault it means.
            Ns::SoapEnv if t.local(el) == b"Fault" || t.local(el).ends_with(b":Fault") => {
                let detail_version = t
                    .child(el, "detail")
                    .and_then(|d| t.children(d).find(|&c| t.local(c) == b"Fault"))
                    .and_then(|f| match t.ns(f) {
                        Ns::Cwmp(v) => Some(v),
                        _ => None,
                    });
                Ok(Body::Fault(
                    detail_version.or(header_version).unwrap_or_default(),
                ))
            }
            Ns::Cwmp(v) => Ok(Body::Rpc(v)),
            Ns::CwmpUnknown => Err(DecodeError::Version {
                path: t.path(el),
                namespace: t.unknown_cwmp_ns.clone().unwrap_or_default(),
            }),
            _ => Err(DecodeError::Envelope {
                path: t.path(el),
                reason: "the Body element is neither a cwmp RPC nor a SOAP Fault",
            }),
        }
    }

    fn fault(&self, el: NodeId) -> Result<Fault, DecodeError> {
        let result = self.cwmp_fault(el);
        // GenieACS's malformed `soap-env:Body:Fault` only ever means 8000 (method not
        // supported): keep that meaning even if its detail were unreadable.
        if result.is_err() && self.t.local(el) != b"Fault" {
            return Ok(Fault::new(8000));
        }
        result
    }

    fn cwmp_fault(&self, el: NodeId) -> Result<Fault, DecodeError> {
        let t = self.t;
        let detail = self.req(el, "detail")?;
        let f = t
            .children(detail)
            .find(|&c| t.local(c) == b"Fault")
            .ok_or_else(|| DecodeError::Missing {
                path: t.child_path(detail, "Fault"),
            })?;
        let mut spv = Vec::new();
        let entries = t
            .children(f)
            .filter(|&c| t.local(c) == b"SetParameterValuesFault");
        for (i, e) in entries.enumerate() {
            if i >= MAX_ARRAY_ITEMS {
                return Err(DecodeError::Limit {
                    path: t.path(f),
                    what: "too many SetParameterValuesFault entries",
                });
            }
            spv.push(SetParameterValuesFault {
                parameter_name: self.string(e, "ParameterName")?,
                code: self.u32(e, "FaultCode")?,
                string: self.string_or_empty(e, "FaultString"),
            });
        }
        Ok(Fault {
            code: self.u32(f, "FaultCode")?,
            string: self.string_or_empty(f, "FaultString"),
            set_parameter_values_faults: spv,
        })
    }

    // ---- dispatch -------------------------------------------------------------------------

    fn acs_rpc(&self, el: NodeId) -> Result<AcsMessage, DecodeError> {
        use AcsMessage::{Request as Q, Response as R};
        let name = self.t.local(el);
        Ok(match name {
            b"GetRPCMethods" => Q(AcsRequest::GetRPCMethods),
            b"GetParameterNames" => Q(AcsRequest::GetParameterNames(GetParameterNames {
                parameter_path: self.string(el, "ParameterPath")?,
                next_level: self.boolean(el, "NextLevel")?,
            })),
            b"GetParameterValues" => Q(AcsRequest::GetParameterValues(GetParameterValues {
                parameter_names: self.strings(self.req(el, "ParameterNames")?)?,
            })),
            b"SetParameterValues" => Q(AcsRequest::SetParameterValues(SetParameterValues {
                parameter_list: self.param_values(self.req(el, "ParameterList")?)?,
                parameter_key: self.string_or_empty(el, "ParameterKey"),
            })),
            b"GetParameterAttributes" => {
                Q(AcsRequest::GetParameterAttributes(GetParameterAttributes {
                    parameter_names: self.strings(self.req(el, "ParameterNames")?)?,
                }))
            }
            b"SetParameterAttributes" => {
                Q(AcsRequest::SetParameterAttributes(SetParameterAttributes {
                    parameter_list: self
                        .map_items(self.req(el, "ParameterList")?, |s| self.spa_struct(s))?,
                }))
            }
            b"AddObject" => Q(AcsRequest::AddObject(AddObject {
                object_name: self.string(el, "ObjectName")?,
                parameter_key: self.string_or_empty(el, "ParameterKey"),
            })),
            b"DeleteObject" => Q(AcsRequest::DeleteObject(DeleteObject {
                object_name: self.string(el, "ObjectName")?,
                parameter_key: self.string_or_empty(el, "ParameterKey"),
            })),
            b"Reboot" => Q(AcsRequest::Reboot(Reboot {
                command_key: self.string_or_empty(el, "CommandKey"),
            })),
            b"FactoryReset" => Q(AcsRequest::FactoryReset),
            b"Download" => Q(AcsRequest::Download(Download {
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
            })),
            b"Upload" => Q(AcsRequest::Upload(Upload {
                command_key: self.string_or_empty(el, "CommandKey"),
                file_type: self.string(el, "FileType")?,
                url: self.string(el, "URL")?,
                username: self.string_or_empty(el, "Username"),
                password: self.string_or_empty(el, "Password"),
                delay_seconds: self.u32_or(el, "DelaySeconds", 0)?,
            })),
            b"ScheduleInform" => Q(AcsRequest::ScheduleInform(ScheduleInform {
                delay_seconds: self.u32(el, "DelaySeconds")?,
                command_key: self.string_or_empty(el, "CommandKey"),
            })),
            b"ScheduleDownload" => Q(AcsRequest::ScheduleDownload(ScheduleDownload {
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
            })),
            b"CancelTransfer" => Q(AcsRequest::CancelTransfer(CancelTransfer {
                command_key: self.string_or_empty(el, "CommandKey"),
            })),
            b"GetQueuedTransfers" => Q(AcsRequest::GetQueuedTransfers),
            b"GetAllQueuedTransfers" => Q(AcsRequest::GetAllQueuedTransfers),
            b"ChangeDUState" => Q(AcsRequest::ChangeDUState(self.change_du_state(el)?)),
            b"InformResponse" => R(AcsResponse::InformResponse(InformResponse {
                max_envelopes: self.u32_or(el, "MaxEnvelopes", 1)?,
            })),
            b"TransferCompleteResponse" => R(AcsResponse::TransferCompleteResponse),
            b"AutonomousTransferCompleteResponse" => {
                R(AcsResponse::AutonomousTransferCompleteResponse)
            }
            b"GetRPCMethodsResponse" => {
                R(AcsResponse::GetRPCMethodsResponse(GetRPCMethodsResponse {
                    method_list: self.strings(self.req(el, "MethodList")?)?,
                }))
            }
            b"RequestDownloadResponse" => R(AcsResponse::RequestDownloadResponse),
            b"DUStateChangeCompleteResponse" => R(AcsResponse::DUStateChangeCompleteResponse),
            b"AutonomousDUStateChangeCompleteResponse" => {
                R(AcsResponse::AutonomousDUStateChangeCompleteResponse)
            }
            b"KickedResponse" => R(AcsResponse::KickedResponse(KickedResponse {
                next_url: self.string_or_empty(el, "NextURL"),
            })),
            other if CPE_ONLY.contains(&other) => {
                return Err(DecodeError::Direction {
                    path: self.t.path(el),
                    name: String::from_utf8_lossy(other).into_owned(),
                })
            }
            other => Q(AcsRequest::Unknown(
                String::from_utf8_lossy(other).into_owned(),
            )),
        })
    }

    fn cpe_rpc(&self, el: NodeId) -> Result<CpeMessage, DecodeError> {
        use CpeMessage::{Request as Q, Response as R};
        let name = self.t.local(el);
        Ok(match name {
            b"Inform" => Q(CpeRequest::Inform(self.inform(el)?)),
            b"TransferComplete" => Q(CpeRequest::TransferComplete(TransferComplete {
                command_key: self.string_or_empty(el, "CommandKey"),
                fault: self.transfer_fault(self.req(el, "FaultStruct")?)?,
                start_time: self.datetime(el, "StartTime")?,
                complete_time: self.datetime(el, "CompleteTime")?,
            })),
            b"AutonomousTransferComplete" => Q(CpeRequest::AutonomousTransferComplete(
                AutonomousTransferComplete {
                    announce_url: self.string_or_empty(el, "AnnounceURL"),
                    transfer_url: self.string_or_empty(el, "TransferURL"),
                    is_download: self.boolean(el, "IsDownload")?,
                    file_type: self.string(el, "FileType")?,
                    file_size: self.u32_or(el, "FileSize", 0)?,
                    target_file_name: self.string_or_empty(el, "TargetFileName"),
                    fault: self.transfer_fault(self.req(el, "FaultStruct")?)?,
                    start_time: self.datetime(el, "StartTime")?,
                    complete_time: self.datetime(el, "CompleteTime")?,
                },
            )),
            b"GetRPCMethods" => Q(CpeRequest::GetRPCMethods),
            b"RequestDownload" => Q(CpeRequest::RequestDownload(RequestDownload {
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
            })),
            b"DUStateChangeComplete" => {
                Q(CpeRequest::DUStateChangeComplete(DUStateChangeComplete {
                    results: self.op_results(el, false)?,
                    command_key: self.string_or_empty(el, "CommandKey"),
                }))
            }
            b"AutonomousDUStateChangeComplete" => Q(CpeRequest::AutonomousDUStateChangeComplete(
                AutonomousDUStateChangeComplete {
                    results: self.op_results(el, true)?,
                },
            )),
            b"Kicked" => Q(CpeRequest::Kicked(Kicked {
                command: self.string_or_empty(el, "Command"),
                referer: self.string_or_empty(el, "Referer"),
                arg: self.string_or_empty(el, "Arg"),
                next: self.string_or_empty(el, "Next"),
            })),
            b"GetRPCMethodsResponse" => {
                R(CpeResponse::GetRPCMethodsResponse(GetRPCMethodsResponse {
                    method_list: self.strings(self.req(el, "MethodList")?)?,
                }))
            }
            b"GetParameterNamesResponse" => R(CpeResponse::GetParameterNamesResponse(
                GetParameterNamesResponse {
                    parameter_list: self.map_items(self.req(el, "ParameterList")?, |s| {
                        Ok(ParameterInfoStruct {
                            name: self.string(s, "Name")?,
                            writable: self.boolean(s, "Writable")?,
                        })
                    })?,
                },
            )),
            b"GetParameterValuesResponse" => R(CpeResponse::GetParameterValuesResponse(
                GetParameterValuesResponse {
                    parameter_list: self.param_values(self.req(el, "ParameterList")?)?,
                },
            )),
            b"SetParameterValuesResponse" => R(CpeResponse::SetParameterValuesResponse(
                SetParameterValuesResponse {
                    status: self.u32(el, "Status")?,
                },
            )),
            b"GetParameterAttributesResponse" => R(CpeResponse::GetParameterAttributesResponse(
                GetParameterAttributesResponse {
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
                },
            )),
            b"SetParameterAttributesResponse" => R(CpeResponse::SetParameterAttributesResponse),
            b"AddObjectResponse" => R(CpeResponse::AddObjectResponse(AddObjectResponse {
                instance_number: self.u32(el, "InstanceNumber")?,
                status: self.u32(el, "Status")?,
            })),
            b"DeleteObjectResponse" => R(CpeResponse::DeleteObjectResponse(DeleteObjectResponse {
                status: self.u32(el, "Status")?,
            })),
            b"RebootResponse" => R(CpeResponse::RebootResponse),
            b"FactoryResetResponse" => R(CpeResponse::FactoryResetResponse),
            b"DownloadResponse" => R(CpeResponse::DownloadResponse(DownloadResponse {
                status: self.u32(el, "Status")?,
                start_time: self.datetime(el, "StartTime")?,
                complete_time: self.datetime(el, "CompleteTime")?,
            })),
            b"UploadResponse" => R(CpeResponse::UploadResponse(UploadResponse {
                status: self.u32(el, "Status")?,
                start_time: self.datetime(el, "StartTime")?,
                complete_time: self.datetime(el, "CompleteTime")?,
            })),
            b"ScheduleInformResponse" => R(CpeResponse::ScheduleInformResponse),
            b"ScheduleDownloadResponse" => R(CpeResponse::ScheduleDownloadResponse),
            b"CancelTransferResponse" => R(CpeResponse::CancelTransferResponse),
            b"GetQueuedTransfersResponse" => R(CpeResponse::GetQueuedTransfersResponse(
                GetQueuedTransfersResponse {
                    transfer_list: self.map_items(self.req(el, "TransferList")?, |s| {
                        Ok(QueuedTransferStruct {
                            command_key: self.string_or_empty(s, "CommandKey"),
                            state: self.u32(s, "State")?,
                        })
                    })?,
                },
            )),
            b"GetAllQueuedTransfersResponse" => R(CpeResponse::GetAllQueuedTransfersResponse(
                GetAllQueuedTransfersResponse {
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
                },
            )),
            b"ChangeDUStateResponse" => R(CpeResponse::ChangeDUStateResponse),
            other => {
                let name = String::from_utf8_lossy(other).into_owned();
                let path = self.t.path(el);
                return Err(if ACS_ONLY.contains(&other) {
                    DecodeError::Direction { path, name }
                } else {
                    DecodeError::UnknownRpc { path, name }
                });
            }
        })
    }

    // ---- RPC parts ------------------------------------------------------------------------

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

    fn param_values(&self, list: NodeId) -> Result<Vec<ParameterValueStruct>, DecodeError> {
        self.map_items(list, |s| {
            let v = self.req(s, "Value")?;
            let kind = self.t.xsi_local(v).map(|l| {
                std::str::from_utf8(l)
                    .ok()
                    .and_then(XsdType::from_tr106)
                    .unwrap_or(XsdType::Other)
            });
            Ok(ParameterValueStruct {
                name: self.string(s, "Name")?,
                value: self.t.text(v).to_owned(),
                kind,
            })
        })
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

    /// Any small number: whether it is 0-6 (and allowed by the version) is the receiver's call.
    fn notification_of(&self, n: NodeId) -> Result<u8, DecodeError> {
        let text = self.t.text(n);
        parse_integer(text)
            .and_then(|v| u8::try_from(v).ok())
            .ok_or_else(|| self.bad(n, "notification value (int)"))
    }

    fn transfer_fault(&self, f: NodeId) -> Result<TransferCompleteFaultStruct, DecodeError> {
        Ok(TransferCompleteFaultStruct {
            fault_code: self.u32(f, "FaultCode")?,
            fault_string: self.string_or_empty(f, "FaultString"),
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

    // ---- primitives -----------------------------------------------------------------------

    fn missing(&self, parent: NodeId, name: &str) -> DecodeError {
        DecodeError::Missing {
            path: self.t.child_path(parent, name),
        }
    }

    fn bad(&self, n: NodeId, expected: &'static str) -> DecodeError {
        DecodeError::Value {
            path: self.t.path(n),
            value: clip(self.t.text(n)),
            expected,
        }
    }

    fn req(&self, parent: NodeId, name: &str) -> Result<NodeId, DecodeError> {
        self.t
            .child(parent, name)
            .ok_or_else(|| self.missing(parent, name))
    }

    fn string(&self, parent: NodeId, name: &str) -> Result<String, DecodeError> {
        Ok(self.t.text(self.req(parent, name)?).to_owned())
    }

    fn string_or_empty(&self, parent: NodeId, name: &str) -> String {
        self.t
            .child(parent, name)
            .map(|n| self.t.text(n).to_owned())
            .unwrap_or_default()
    }

    fn u32_of(&self, n: NodeId) -> Result<u32, DecodeError> {
        parse_integer(self.t.text(n))
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| self.bad(n, "unsignedInt"))
    }

    fn u32(&self, parent: NodeId, name: &str) -> Result<u32, DecodeError> {
        self.u32_of(self.req(parent, name)?)
    }

    /// Optional, but when present it must be valid.
    fn u32_or(&self, parent: NodeId, name: &str, default: u32) -> Result<u32, DecodeError> {
        self.t
            .child(parent, name)
            .map_or(Ok(default), |n| self.u32_of(n))
    }

    fn i32_or(&self, parent: NodeId, name: &str, default: i32) -> Result<i32, DecodeError> {
        self.t.child(parent, name).map_or(Ok(default), |n| {
            parse_integer(self.t.text(n))
                .and_then(|v| i32::try_from(v).ok())
                .ok_or_else(|| self.bad(n, "int"))
        })
    }

    fn bool_of(&self, n: NodeId) -> Result<bool, DecodeError> {
        parse_bool(self.t.text(n)).ok_or_else(|| self.bad(n, "boolean"))
    }

    fn boolean(&self, parent: NodeId, name: &str) -> Result<bool, DecodeError> {
        self.bool_of(self.req(parent, name)?)
    }

    fn datetime(&self, parent: NodeId, name: &str) -> Result<DateTime, DecodeError> {
        let n = self.req(parent, name)?;
        DateTime::parse(self.t.text(n)).ok_or_else(|| self.bad(n, "dateTime"))
    }

    /// The items of a SOAP array: every child element, whatever its name (the arrayType count
    /// is not trusted; some agents get it wrong).
    fn map_items<T>(
        &self,
        array: NodeId,
        mut f: impl FnMut(NodeId) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let n = self.t.children(array).take(MAX_ARRAY_ITEMS + 1).count();
        if n > MAX_ARRAY_ITEMS {
            return Err(DecodeError::Limit {
                path: self.t.path(array),
                what: "too many array items",
            });
        }
        let mut out = Vec::with_capacity(n);
        for c in self.t.children(array) {
            out.push(f(c)?);
        }
        Ok(out)
    }

    fn strings(&self, array: NodeId) -> Result<Vec<String>, DecodeError> {
        self.map_items(array, |c| Ok(self.t.text(c).to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cwmp::encode::{encode_acs, encode_cpe};
    use crate::cwmp::sample;

    const ENV_OPEN: &str = r#"<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:cwmp="urn:dslforum-org:cwmp-1-0">"#;

    /// A cwmp-1-0 envelope with cwmp:ID "1" around `body`.
    fn env(body: &str) -> Vec<u8> {
        format!(
            "{ENV_OPEN}<soap-env:Header><cwmp:ID soap-env:mustUnderstand=\"1\">1</cwmp:ID></soap-env:Header><soap-env:Body>{body}</soap-env:Body></soap-env:Envelope>"
        )
        .into_bytes()
    }

    fn acs_request(xml: &[u8]) -> AcsRequest {
        match decode_acs(xml) {
            Ok(Envelope {
                body: AcsMessage::Request(r),
                ..
            }) => r,
            other => panic!("not a request: {other:?}"),
        }
    }

    fn gpn(next_level: &str) -> Vec<u8> {
        env(&format!(
            "<cwmp:GetParameterNames><ParameterPath>Device.</ParameterPath><NextLevel>{next_level}</NextLevel></cwmp:GetParameterNames>"
        ))
    }

    #[test]
    fn booleans_in_all_four_spellings() {
        for (text, want) in [
            ("1", true),
            ("0", false),
            ("true", true),
            ("false", false),
            (" true\n", true),
        ] {
            let r = acs_request(&gpn(text));
            assert_eq!(
                r,
                AcsRequest::GetParameterNames(GetParameterNames {
                    parameter_path: "Device.".into(),
                    next_level: want
                })
            );
        }
    }

    #[test]
    fn non_numeric_or_non_boolean_values_name_their_element() {
        let err = decode_acs(&gpn("maybe")).expect_err("maybe is no boolean");
        assert_eq!(err.label(), "decode_value");
        assert_eq!(err.path(), "Envelope/Body/GetParameterNames/NextLevel");

        let download = |size: &str| {
            env(&format!(
                "<cwmp:Download><CommandKey>k</CommandKey><FileType>1 Firmware Upgrade Image</FileType><URL>http://x/f</URL><Username></Username><Password></Password><FileSize>{size}</FileSize><TargetFileName></TargetFileName><DelaySeconds>0</DelaySeconds><SuccessURL></SuccessURL><FailureURL></FailureURL></cwmp:Download>"
            ))
        };
        for bad in ["x", "-1", "4294967296", "", "1.5"] {
            let err = decode_acs(&download(bad)).expect_err(bad);
            assert_eq!(err.path(), "Envelope/Body/Download/FileSize", "{bad}");
            assert_eq!(err.label(), "decode_value");
        }
        let AcsRequest::Download(d) = acs_request(&download(" 4294967295 ")) else {
            panic!("kind")
        };
        assert_eq!(d.file_size, u32::MAX);

        let resp = |t: &str| {
            format!("{ENV_OPEN}<soap-env:Body><cwmp:DownloadResponse><Status>1</Status><StartTime>{t}</StartTime><CompleteTime>0001-01-01T00:00:00Z</CompleteTime></cwmp:DownloadResponse></soap-env:Body></soap-env:Envelope>")
        };
        let err = decode_cpe(resp("yesterday").as_bytes()).expect_err("bad dateTime");
        assert_eq!(err.path(), "Envelope/Body/DownloadResponse/StartTime");
        for (t, ms) in [
            ("1970-01-01T00:00:01.5Z", 1_500),
            ("1970-01-01T02:00:00+02:00", 0),
            ("1970-01-01T00:00:00", 0),
        ] {
            let Ok(Envelope {
                body: CpeMessage::Response(CpeResponse::DownloadResponse(d)),
                ..
            }) = decode_cpe(resp(t).as_bytes())
            else {
                panic!("{t}")
            };
            assert_eq!(d.start_time, DateTime::from_unix_ms(ms));
            assert_eq!(d.complete_time, DateTime::UNKNOWN);
        }
    }

    #[test]
    fn missing_required_elements_error() {
        let err = decode_acs(&env(
            "<cwmp:GetParameterNames><NextLevel>1</NextLevel></cwmp:GetParameterNames>",
        ))
        .expect_err("no ParameterPath");
        assert_eq!(
            err,
            DecodeError::Missing {
                path: "Envelope/Body/GetParameterNames/ParameterPath".into()
            }
        );
        let err = decode_acs(&env("<cwmp:GetParameterValues/>")).expect_err("no names");
        assert_eq!(
            err.path(),
            "Envelope/Body/GetParameterValues/ParameterNames"
        );
        let no_body = format!("{ENV_OPEN}<soap-env:Header/></soap-env:Envelope>");
        assert_eq!(
            decode_acs(no_body.as_bytes()).map_err(|e| e.label()).err(),
            Some("decode_missing")
        );
        let err = decode_cpe(&env(
            "<cwmp:AddObjectResponse><Status>0</Status></cwmp:AddObjectResponse>",
        ))
        .expect_err("no InstanceNumber");
        assert_eq!(err.path(), "Envelope/Body/AddObjectResponse/InstanceNumber");
        let inform = "<cwmp:Inform><DeviceId><OUI>00D09E</OUI></DeviceId></cwmp:Inform>";
        assert_eq!(
            decode_cpe(&env(inform))
                .err()
                .map(|e| e.path().to_owned())
                .as_deref(),
            Some("Envelope/Body/Inform/DeviceId/SerialNumber")
        );
    }

    #[test]
    fn lenient_about_prefixes_whitespace_and_headers() {
        // Other prefixes, a default namespace for SOAP, pretty-printing, no Header at all.
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:dslforum-org:cwmp-1-1">
  <Body>
    <c:GetParameterValues>
      <ParameterNames xmlns:enc="http://schemas.xmlsoap.org/soap/encoding/" enc:arrayType="xsd:string[5]">
        <string>Device.DeviceInfo.UpTime</string>
        <string>Device.WiFi.</string>
      </ParameterNames>
    </c:GetParameterValues>
  </Body>
</Envelope>
"#;
        let e = decode_acs(xml).expect("decodes");
        assert_eq!(e.version, CwmpVersion::V1_1);
        assert_eq!(e.header, Header::default());
        // The wrong arrayType count is ignored: the items are what counts.
        assert_eq!(
            e.body,
            AcsMessage::Request(AcsRequest::GetParameterValues(GetParameterValues {
                parameter_names: vec!["Device.DeviceInfo.UpTime".into(), "Device.WiFi.".into()]
            }))
        );

        // SOAP-ENV prefix, Header without cwmp:ID, unknown extra elements and header entries.
        let xml = br#"<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="urn:dslforum-org:cwmp-1-2" xmlns:x="urn:example"><SOAP-ENV:Header><x:Trace>abc</x:Trace><cwmp:HoldRequests SOAP-ENV:mustUnderstand="1">true</cwmp:HoldRequests></SOAP-ENV:Header><SOAP-ENV:Body><cwmp:AddObject><ObjectName>Device.NAT.PortMapping.</ObjectName><X_Extra><deep>1</deep></X_Extra></cwmp:AddObject></SOAP-ENV:Body></SOAP-ENV:Envelope>"#;
        let e = decode_acs(xml).expect("decodes");
        assert_eq!(e.header.id, None);
        assert_eq!(e.header.hold_requests, Some(true));
        assert_eq!(
            e.body,
            AcsMessage::Request(AcsRequest::AddObject(AddObject {
                object_name: "Device.NAT.PortMapping.".into(),
                parameter_key: String::new()
            }))
        );

        // Qualified argument elements (some ACSs put them in the cwmp namespace).
        let r = acs_request(&env(
            "<cwmp:Reboot><cwmp:CommandKey>rb-1</cwmp:CommandKey></cwmp:Reboot>",
        ));
        assert_eq!(
            r,
            AcsRequest::Reboot(Reboot {
                command_key: "rb-1".into()
            })
        );
    }

    #[test]
    fn spa_empty_notification_means_unchanged() {
        let spa = |change: &str, notif: &str| {
            env(&format!("<cwmp:SetParameterAttributes><ParameterList soap-enc:arrayType=\"cwmp:SetParameterAttributesStruct[1]\"><SetParameterAttributesStruct><Name>Device.X.</Name><NotificationChange>{change}</NotificationChange><Notification>{notif}</Notification><AccessListChange>0</AccessListChange><AccessList soap-enc:arrayType=\"xsd:string[0]\"></AccessList></SetParameterAttributesStruct></ParameterList></cwmp:SetParameterAttributes>"))
        };
        let AcsRequest::SetParameterAttributes(s) = acs_request(&spa("false", "")) else {
            panic!("kind")
        };
        assert_eq!(s.parameter_list[0].notification, None);
        assert!(!s.parameter_list[0].notification_change);
        assert!(s.parameter_list[0].access_list.is_empty());
        let AcsRequest::SetParameterAttributes(s) = acs_request(&spa("1", "2")) else {
            panic!("kind")
        };
        assert_eq!(s.parameter_list[0].notification, Some(2));
        let err = decode_acs(&spa("true", "")).expect_err("a change needs a value");
        assert_eq!(err.path(), "Envelope/Body/SetParameterAttributes/ParameterList/SetParameterAttributesStruct/Notification");
        assert_eq!(
            decode_acs(&spa("true", "often"))
                .map_err(|e| e.label())
                .err(),
            Some("decode_value")
        );
    }

    #[test]
    fn genieacs_body_fault_is_fault_8000() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<soap-env:Envelope xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">cpe-16</cwmp:ID></soap-env:Header><soap-env:Body><soap-env:Body:Fault><faultcode>Server</faultcode><faultstring>CWMP fault</faultstring><detail><cwmp:Fault><FaultCode>8000</FaultCode><FaultString>Method not supported</FaultString></cwmp:Fault></detail></soap-env:Body:Fault></soap-env:Body></soap-env:Envelope>"#;
        let e = decode_acs(xml).expect("tolerated");
        assert_eq!(e.body, AcsMessage::Fault(Fault::new(8000)));
        assert_eq!(e.header.id.as_deref(), Some("cpe-16"));
        // Even without a readable detail it stays the 8000 it stands for.
        let bare = env("<soap-env:Body:Fault><faultcode>Server</faultcode></soap-env:Body:Fault>");
        assert_eq!(
            decode_acs(&bare).map(|e| e.body),
            Ok(AcsMessage::Fault(Fault::new(8000)))
        );
    }

    #[test]
    fn faults_with_parameter_entries_and_prefixed_faultcode() {
        let xml = env("<soap-env:Fault><faultcode>soap-env:Client</faultcode><faultstring>CWMP fault</faultstring><detail><cwmp:Fault><FaultCode>9003</FaultCode><FaultString>Invalid arguments</FaultString><SetParameterValuesFault><ParameterName>A.b</ParameterName><FaultCode>9007</FaultCode></SetParameterValuesFault></cwmp:Fault></detail></soap-env:Fault>");
        let e = decode_cpe(&xml).expect("decodes");
        let CpeMessage::Fault(f) = e.body else {
            panic!("kind")
        };
        assert_eq!((f.code, f.string.as_str()), (9003, "Invalid arguments"));
        assert_eq!(
            f.set_parameter_values_faults,
            vec![SetParameterValuesFault {
                parameter_name: "A.b".into(),
                code: 9007,
                string: String::new()
            }]
        );
        let no_detail = env("<soap-env:Fault><faultcode>Server</faultcode><faultstring>oops</faultstring></soap-env:Fault>");
        assert_eq!(
            decode_acs(&no_detail)
                .err()
                .map(|e| e.path().to_owned())
                .as_deref(),
            Some("Envelope/Body/Fault/detail")
        );
    }

    #[test]
    fn empty_whitespace_and_not_xml_bodies() {
        assert_eq!(decode_acs(b"").err(), Some(DecodeError::Empty));
        assert_eq!(decode_cpe(b" \r\n\t").err(), Some(DecodeError::Empty));
        assert_eq!(
            decode_acs(b"Bad session state")
                .map_err(|e| e.label())
                .err(),
            Some("decode_envelope")
        );
        assert_eq!(
            decode_acs(b"<html><body>502</body></html>")
                .map_err(|e| e.label())
                .err(),
            Some("decode_envelope")
        );
        let truncated = &env("<cwmp:FactoryReset></cwmp:FactoryReset>")[..100];
        assert_eq!(
            decode_acs(truncated).map_err(|e| e.label()).err(),
            Some("decode_xml")
        );
    }

    #[test]
    fn body_must_hold_exactly_one_element() {
        let err = decode_acs(&env("")).expect_err("empty body");
        assert_eq!(
            err,
            DecodeError::Envelope {
                path: "Envelope/Body".into(),
                reason: "the Body holds no element"
            }
        );
        let err = decode_acs(&env("<cwmp:FactoryReset/><cwmp:FactoryReset/>")).expect_err("two");
        assert_eq!(err.label(), "decode_envelope");
        let err = decode_acs(&env("<FactoryReset/>")).expect_err("not in cwmp namespace");
        assert_eq!(err.path(), "Envelope/Body/FactoryReset");
        assert_eq!(
            acs_request(&env(" <cwmp:FactoryReset/> ")),
            AcsRequest::FactoryReset
        );
    }

    #[test]
    fn unknown_rpcs_and_directions() {
        assert_eq!(
            acs_request(&env("<cwmp:SetVouchers/>")),
            AcsRequest::Unknown("SetVouchers".into())
        );
        assert_eq!(
            acs_request(&env(
                "<cwmp:X_ACME_Frobnicate><a>1</a></cwmp:X_ACME_Frobnicate>"
            )),
            AcsRequest::Unknown("X_ACME_Frobnicate".into())
        );
        let err = decode_acs(&env("<cwmp:RebootResponse/>")).expect_err("a CPE message");
        assert_eq!(err.label(), "decode_direction");
        let err = decode_cpe(&env("<cwmp:Reboot/>")).expect_err("an ACS message");
        assert_eq!(err.label(), "decode_direction");
        let err = decode_cpe(&env("<cwmp:X_ACME_Hello/>")).expect_err("unknown");
        assert_eq!(
            err,
            DecodeError::UnknownRpc {
                path: "Envelope/Body/X_ACME_Hello".into(),
                name: "X_ACME_Hello".into()
            }
        );
    }

    #[test]
    fn versions_from_namespace_and_headers() {
        let inform = |ns: &str, header: &str| {
            let mut buf = Vec::new();
            encode_cpe(&sample::inform(CwmpVersion::V1_2, vec![], 1), &mut buf);
            let s = String::from_utf8(buf).unwrap_or_default();
            s.replace("urn:dslforum-org:cwmp-1-2", ns)
                .replace("</soap-env:Header>", &format!("{header}</soap-env:Header>"))
        };
        let v = |s: String| decode_cpe(s.as_bytes()).map(|e| e.version);
        assert_eq!(
            v(inform("urn:dslforum-org:cwmp-1-2", "")),
            Ok(CwmpVersion::V1_2)
        );
        assert_eq!(
            v(inform(
                "urn:dslforum-org:cwmp-1-2",
                "<cwmp:SessionTimeout>60</cwmp:SessionTimeout>"
            )),
            Ok(CwmpVersion::V1_3)
        );
        // GenieACS's lower-case spelling.
        assert_eq!(
            v(inform(
                "urn:dslforum-org:cwmp-1-2",
                "<cwmp:sessionTimeout>60</cwmp:sessionTimeout>"
            )),
            Ok(CwmpVersion::V1_3)
        );
        assert_eq!(
            v(inform(
                "urn:dslforum-org:cwmp-1-2",
                "<cwmp:SupportedCWMPVersions>1.0,1.4</cwmp:SupportedCWMPVersions>"
            )),
            Ok(CwmpVersion::V1_4)
        );
        assert_eq!(
            v(inform("urn:dslforum-org:cwmp-1-3", "")),
            Ok(CwmpVersion::V1_3)
        );
        assert_eq!(
            v(inform("urn:dslforum-org:cwmp-1-4", "")),
            Ok(CwmpVersion::V1_4)
        );
        assert_eq!(
            v(inform("urn:dslforum-org:cwmp-1-0", "")),
            Ok(CwmpVersion::V1_0)
        );
        let err =
            decode_cpe(inform("urn:dslforum-org:cwmp-2-0", "").as_bytes()).expect_err("unknown ns");
        assert_eq!(
            err,
            DecodeError::Version {
                path: "Envelope/Body/Inform".into(),
                namespace: "urn:dslforum-org:cwmp-2-0".into()
            }
        );
        let err = decode_cpe(
            inform(
                "urn:dslforum-org:cwmp-1-2",
                "<cwmp:SessionTimeout>soon</cwmp:SessionTimeout>",
            )
            .as_bytes(),
        );
        assert_eq!(
            err.err().map(|e| e.path().to_owned()).as_deref(),
            Some("Envelope/Header/SessionTimeout")
        );

        let resp = format!("{}<soap-env:Header><cwmp:UseCWMPVersion soap-env:mustUnderstand=\"1\">1.3</cwmp:UseCWMPVersion></soap-env:Header><soap-env:Body><cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse></soap-env:Body></soap-env:Envelope>", ENV_OPEN.replace("cwmp-1-0", "cwmp-1-2"));
        let e = decode_acs(resp.as_bytes()).expect("decodes");
        assert_eq!(
            (e.version, e.header.use_cwmp_version.as_deref()),
            (CwmpVersion::V1_3, Some("1.3"))
        );
    }

    #[test]
    fn change_du_state_dispatches_on_xsi_type() {
        let xml = env(
            r#"<cwmp:ChangeDUState><Operations xsi:type="cwmp:UninstallOpStruct"><UUID>u-1</UUID></Operations><Operations xsi:type="cwmp:InstallOpStruct"><URL>http://x/a</URL></Operations></cwmp:ChangeDUState>"#,
        );
        let AcsRequest::ChangeDUState(c) = acs_request(&xml) else {
            panic!("kind")
        };
        assert_eq!(c.operations.len(), 2);
        assert!(matches!(&c.operations[0], DuOperation::Uninstall { uuid, .. } if uuid == "u-1"));
        assert!(
            matches!(&c.operations[1], DuOperation::Install { url, .. } if url == "http://x/a")
        );
        let bad = env(
            r#"<cwmp:ChangeDUState><Operations xsi:type="cwmp:RebootOpStruct"/></cwmp:ChangeDUState>"#,
        );
        assert_eq!(
            decode_acs(&bad)
                .err()
                .map(|e| e.path().to_owned())
                .as_deref(),
            Some("Envelope/Body/ChangeDUState/Operations")
        );
    }

    #[test]
    fn hostile_input_is_bounded() {
        let items = "<string>a</string>".repeat(MAX_ARRAY_ITEMS + 1);
        let xml = env(&format!("<cwmp:GetParameterValues><ParameterNames>{items}</ParameterNames></cwmp:GetParameterValues>"));
        let err = decode_acs(&xml).expect_err("too many items");
        assert_eq!(err.label(), "decode_limit");
        assert_eq!(
            err.path(),
            "Envelope/Body/GetParameterValues/ParameterNames"
        );
        let deep = env(&format!("<cwmp:Reboot>{}</cwmp:Reboot>", "<a>".repeat(100)));
        assert_eq!(
            decode_acs(&deep).map_err(|e| e.label()).err(),
            Some("decode_limit")
        );
        // Entity definitions are not expanded (no billion laughs).
        let dtd = br#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaa">]><x>&a;</x>"#;
        assert_eq!(
            decode_acs(dtd).map_err(|e| e.label()).err(),
            Some("decode_xml")
        );
    }

    /// Every prefix of every sample (and single-byte corruptions) decodes to Ok or Err, never a panic.
    #[test]
    fn never_panics_on_truncated_or_corrupted_input() {
        let mut buf = Vec::new();
        encode_acs(
            &sample::all_acs(CwmpVersion::V1_2).swap_remove(4).1,
            &mut buf,
        );
        encode_cpe(&sample::inform(CwmpVersion::V1_4, vec![], 4), &mut buf);
        let mut errors = 0;
        for cut in 0..buf.len() {
            let part = buf.get(..cut).unwrap_or_default();
            errors += usize::from(decode_acs(part).is_err());
            errors += usize::from(decode_cpe(part).is_err());
        }
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..2000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut bad = buf.clone();
            let at = (seed % bad.len() as u64) as usize;
            if let Some(b) = bad.get_mut(at) {
                *b = (seed >> 32) as u8;
            }
            let _ = decode_acs(&bad);
            let _ = decode_cpe(&bad);
        }
        assert!(errors >= buf.len(), "truncated inputs must fail: {errors}");
    }
}
