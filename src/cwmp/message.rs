//! The message sets of each direction: what an ACS sends a CPE (`AcsMessage`) and what a CPE
//! sends an ACS (`CpeMessage`), each a request, a response or a fault.

use super::fault::Fault;
use super::methods::{request_count, requests_of, Caller};
use super::rpc::*;
use super::version::CwmpVersion;

/// ACS -> CPE (carried in HTTP responses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcsMessage {
    Request(AcsRequest),
    Response(AcsResponse),
    Fault(Fault),
}

/// CPE -> ACS (carried in HTTP POSTs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpeMessage {
    Request(CpeRequest),
    Response(CpeResponse),
    Fault(Fault),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcsRequest {
    GetRPCMethods,
    GetParameterNames(GetParameterNames),
    GetParameterValues(GetParameterValues),
    SetParameterValues(SetParameterValues),
    GetParameterAttributes(GetParameterAttributes),
    SetParameterAttributes(SetParameterAttributes),
    AddObject(AddObject),
    DeleteObject(DeleteObject),
    Reboot(Reboot),
    FactoryReset,
    Download(Download),
    Upload(Upload),
    ScheduleInform(ScheduleInform),
    ScheduleDownload(ScheduleDownload),
    CancelTransfer(CancelTransfer),
    GetQueuedTransfers,
    GetAllQueuedTransfers,
    ChangeDUState(ChangeDUState),
    /// An RPC element in the cwmp namespace the codec does not know (its local name): the CPE
    /// answers fault 9000.
    Unknown(String),
    /// A known RPC whose arguments could not be read: the CPE answers its fault.
    Invalid(InvalidRequest),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcsResponse {
    InformResponse(InformResponse),
    TransferCompleteResponse,
    AutonomousTransferCompleteResponse,
    GetRPCMethodsResponse(GetRPCMethodsResponse),
    RequestDownloadResponse,
    DUStateChangeCompleteResponse,
    AutonomousDUStateChangeCompleteResponse,
    KickedResponse(KickedResponse),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpeRequest {
    Inform(Inform),
    TransferComplete(TransferComplete),
    AutonomousTransferComplete(AutonomousTransferComplete),
    GetRPCMethods,
    RequestDownload(RequestDownload),
    DUStateChangeComplete(DUStateChangeComplete),
    AutonomousDUStateChangeComplete(AutonomousDUStateChangeComplete),
    Kicked(Kicked),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpeResponse {
    GetRPCMethodsResponse(GetRPCMethodsResponse),
    GetParameterNamesResponse(GetParameterNamesResponse),
    GetParameterValuesResponse(GetParameterValuesResponse),
    SetParameterValuesResponse(SetParameterValuesResponse),
    GetParameterAttributesResponse(GetParameterAttributesResponse),
    SetParameterAttributesResponse,
    AddObjectResponse(AddObjectResponse),
    DeleteObjectResponse(DeleteObjectResponse),
    RebootResponse,
    FactoryResetResponse,
    DownloadResponse(DownloadResponse),
    UploadResponse(UploadResponse),
    ScheduleInformResponse,
    ScheduleDownloadResponse,
    CancelTransferResponse,
    GetQueuedTransfersResponse(GetQueuedTransfersResponse),
    GetAllQueuedTransfersResponse(GetAllQueuedTransfersResponse),
    ChangeDUStateResponse,
}

impl AcsRequest {
    /// Every ACS -> CPE request the codec knows, by its spec name: the ACS's modelled methods of
    /// [`super::methods::METHODS`] (for every counter, validator and policy that names them).
    pub const NAMES: [&'static str; request_count(Caller::Acs)] = requests_of(Caller::Acs);

    /// The RPC element name ("Unknown" for an unknown RPC, whose name is in the variant).
    pub fn name(&self) -> &'static str {
        match self {
            Self::GetRPCMethods => "GetRPCMethods",
            Self::GetParameterNames(_) => "GetParameterNames",
            Self::GetParameterValues(_) => "GetParameterValues",
            Self::SetParameterValues(_) => "SetParameterValues",
            Self::GetParameterAttributes(_) => "GetParameterAttributes",
            Self::SetParameterAttributes(_) => "SetParameterAttributes",
            Self::AddObject(_) => "AddObject",
            Self::DeleteObject(_) => "DeleteObject",
            Self::Reboot(_) => "Reboot",
            Self::FactoryReset => "FactoryReset",
            Self::Download(_) => "Download",
            Self::Upload(_) => "Upload",
            Self::ScheduleInform(_) => "ScheduleInform",
            Self::ScheduleDownload(_) => "ScheduleDownload",
            Self::CancelTransfer(_) => "CancelTransfer",
            Self::GetQueuedTransfers => "GetQueuedTransfers",
            Self::GetAllQueuedTransfers => "GetAllQueuedTransfers",
            Self::ChangeDUState(_) => "ChangeDUState",
            Self::Unknown(_) => "Unknown",
            Self::Invalid(r) => r.method,
        }
    }

    /// The name of the response element a CPE answers this request with.
    pub fn response_name(&self) -> &'static str {
        match self {
            Self::GetRPCMethods => "GetRPCMethodsResponse",
            Self::GetParameterNames(_) => "GetParameterNamesResponse",
            Self::GetParameterValues(_) => "GetParameterValuesResponse",
            Self::SetParameterValues(_) => "SetParameterValuesResponse",
            Self::GetParameterAttributes(_) => "GetParameterAttributesResponse",
            Self::SetParameterAttributes(_) => "SetParameterAttributesResponse",
            Self::AddObject(_) => "AddObjectResponse",
            Self::DeleteObject(_) => "DeleteObjectResponse",
            Self::Reboot(_) => "RebootResponse",
            Self::FactoryReset => "FactoryResetResponse",
            Self::Download(_) => "DownloadResponse",
            Self::Upload(_) => "UploadResponse",
            Self::ScheduleInform(_) => "ScheduleInformResponse",
            Self::ScheduleDownload(_) => "ScheduleDownloadResponse",
            Self::CancelTransfer(_) => "CancelTransferResponse",
            Self::GetQueuedTransfers => "GetQueuedTransfersResponse",
            Self::GetAllQueuedTransfers => "GetAllQueuedTransfersResponse",
            Self::ChangeDUState(_) => "ChangeDUStateResponse",
            Self::Unknown(_) => "Unknown",
            // Arguments that could not be read are answered with a fault.
            Self::Invalid(_) => "Fault",
        }
    }
}

impl AcsResponse {
    pub fn name(&self) -> &'static str {
        match self {
            Self::InformResponse(_) => "InformResponse",
            Self::TransferCompleteResponse => "TransferCompleteResponse",
            Self::AutonomousTransferCompleteResponse => "AutonomousTransferCompleteResponse",
            Self::GetRPCMethodsResponse(_) => "GetRPCMethodsResponse",
            Self::RequestDownloadResponse => "RequestDownloadResponse",
            Self::DUStateChangeCompleteResponse => "DUStateChangeCompleteResponse",
            Self::AutonomousDUStateChangeCompleteResponse => {
                "AutonomousDUStateChangeCompleteResponse"
            }
            Self::KickedResponse(_) => "KickedResponse",
        }
    }
}

impl CpeRequest {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Inform(_) => "Inform",
            Self::TransferComplete(_) => "TransferComplete",
            Self::AutonomousTransferComplete(_) => "AutonomousTransferComplete",
            Self::GetRPCMethods => "GetRPCMethods",
            Self::RequestDownload(_) => "RequestDownload",
            Self::DUStateChangeComplete(_) => "DUStateChangeComplete",
            Self::AutonomousDUStateChangeComplete(_) => "AutonomousDUStateChangeComplete",
            Self::Kicked(_) => "Kicked",
        }
    }

    /// The name of the response element an ACS answers this request with.
    pub fn response_name(&self) -> &'static str {
        match self {
            Self::Inform(_) => "InformResponse",
            Self::TransferComplete(_) => "TransferCompleteResponse",
            Self::AutonomousTransferComplete(_) => "AutonomousTransferCompleteResponse",
            Self::GetRPCMethods => "GetRPCMethodsResponse",
            Self::RequestDownload(_) => "RequestDownloadResponse",
            Self::DUStateChangeComplete(_) => "DUStateChangeCompleteResponse",
            Self::AutonomousDUStateChangeComplete(_) => "AutonomousDUStateChangeCompleteResponse",
            Self::Kicked(_) => "KickedResponse",
        }
    }
}

impl CpeResponse {
    pub fn name(&self) -> &'static str {
        match self {
            Self::GetRPCMethodsResponse(_) => "GetRPCMethodsResponse",
            Self::GetParameterNamesResponse(_) => "GetParameterNamesResponse",
            Self::GetParameterValuesResponse(_) => "GetParameterValuesResponse",
            Self::SetParameterValuesResponse(_) => "SetParameterValuesResponse",
            Self::GetParameterAttributesResponse(_) => "GetParameterAttributesResponse",
            Self::SetParameterAttributesResponse => "SetParameterAttributesResponse",
            Self::AddObjectResponse(_) => "AddObjectResponse",
            Self::DeleteObjectResponse(_) => "DeleteObjectResponse",
            Self::RebootResponse => "RebootResponse",
            Self::FactoryResetResponse => "FactoryResetResponse",
            Self::DownloadResponse(_) => "DownloadResponse",
            Self::UploadResponse(_) => "UploadResponse",
            Self::ScheduleInformResponse => "ScheduleInformResponse",
            Self::ScheduleDownloadResponse => "ScheduleDownloadResponse",
            Self::CancelTransferResponse => "CancelTransferResponse",
            Self::GetQueuedTransfersResponse(_) => "GetQueuedTransfersResponse",
            Self::GetAllQueuedTransfersResponse(_) => "GetAllQueuedTransfersResponse",
            Self::ChangeDUStateResponse => "ChangeDUStateResponse",
        }
    }
}

impl AcsMessage {
    /// The body element name ("Fault" for a fault).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Request(r) => r.name(),
            Self::Response(r) => r.name(),
            Self::Fault(_) => "Fault",
        }
    }
}

impl CpeMessage {
    /// The body element name ("Fault" for a fault).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Request(r) => r.name(),
            Self::Response(r) => r.name(),
            Self::Fault(_) => "Fault",
        }
    }
}

impl From<AcsRequest> for AcsMessage {
    fn from(r: AcsRequest) -> Self {
        Self::Request(r)
    }
}

impl From<AcsResponse> for AcsMessage {
    fn from(r: AcsResponse) -> Self {
        Self::Response(r)
    }
}

impl From<CpeRequest> for CpeMessage {
    fn from(r: CpeRequest) -> Self {
        Self::Request(r)
    }
}

impl From<CpeResponse> for CpeMessage {
    fn from(r: CpeResponse) -> Self {
        Self::Response(r)
    }
}

impl From<Fault> for AcsMessage {
    fn from(f: Fault) -> Self {
        Self::Fault(f)
    }
}

impl From<Fault> for CpeMessage {
    fn from(f: Fault) -> Self {
        Self::Fault(f)
    }
}

impl AcsRequest {
    /// The first CWMP version whose schema has this RPC.
    pub fn min_version(&self) -> CwmpVersion {
        match self {
            Self::GetAllQueuedTransfers => CwmpVersion::V1_1,
            Self::ScheduleDownload(_) | Self::CancelTransfer(_) | Self::ChangeDUState(_) => {
                CwmpVersion::V1_2
            }
            _ => CwmpVersion::V1_0,
        }
    }
}

impl AcsResponse {
    /// The first CWMP version whose schema has this message.
    pub fn min_version(&self) -> CwmpVersion {
        match self {
            Self::AutonomousTransferCompleteResponse => CwmpVersion::V1_1,
            Self::DUStateChangeCompleteResponse | Self::AutonomousDUStateChangeCompleteResponse => {
                CwmpVersion::V1_2
            }
            _ => CwmpVersion::V1_0,
        }
    }
}

impl CpeRequest {
    /// The first CWMP version whose schema has this RPC.
    pub fn min_version(&self) -> CwmpVersion {
        match self {
            Self::AutonomousTransferComplete(_) => CwmpVersion::V1_1,
            Self::DUStateChangeComplete(_) | Self::AutonomousDUStateChangeComplete(_) => {
                CwmpVersion::V1_2
            }
            _ => CwmpVersion::V1_0,
        }
    }
}

impl CpeResponse {
    /// The first CWMP version whose schema has this message.
    pub fn min_version(&self) -> CwmpVersion {
        match self {
            Self::GetAllQueuedTransfersResponse(_) => CwmpVersion::V1_1,
            Self::ScheduleDownloadResponse
            | Self::CancelTransferResponse
            | Self::ChangeDUStateResponse => CwmpVersion::V1_2,
            _ => CwmpVersion::V1_0,
        }
    }
}
