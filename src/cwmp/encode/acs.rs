//! The messages an ACS sends: its requests and its responses to CPE requests.

use super::W;
use crate::cwmp::message::{AcsRequest, AcsResponse};
use crate::cwmp::rpc::*;

impl W<'_> {
    pub(super) fn acs_request(&mut self, r: &AcsRequest) {
        let name = match r {
            AcsRequest::Unknown(n) => sanitize_name(n),
            _ => r.name(),
        };
        self.rpc_open(name);
        match r {
            AcsRequest::GetParameterNames(g) => {
                self.s("ParameterPath", &g.parameter_path);
                self.b("NextLevel", g.next_level);
            }
            AcsRequest::GetParameterValues(g) => self.strings("ParameterNames", &g.parameter_names),
            AcsRequest::SetParameterValues(s) => {
                self.param_values("ParameterList", &s.parameter_list);
                self.s("ParameterKey", &s.parameter_key);
            }
            AcsRequest::GetParameterAttributes(g) => {
                self.strings("ParameterNames", &g.parameter_names)
            }
            AcsRequest::SetParameterAttributes(s) => self.spa_list(&s.parameter_list),
            AcsRequest::AddObject(a) => {
                self.s("ObjectName", &a.object_name);
                self.s("ParameterKey", &a.parameter_key);
            }
            AcsRequest::DeleteObject(d) => {
                self.s("ObjectName", &d.object_name);
                self.s("ParameterKey", &d.parameter_key);
            }
            AcsRequest::Reboot(r) => self.s("CommandKey", &r.command_key),
            AcsRequest::Download(d) => {
                self.s("CommandKey", &d.command_key);
                self.s("FileType", &d.file_type);
                self.s("URL", &d.url);
                self.s("Username", &d.username);
                self.s("Password", &d.password);
                self.u("FileSize", d.file_size);
                self.s("TargetFileName", &d.target_file_name);
                self.u("DelaySeconds", d.delay_seconds);
                self.s("SuccessURL", &d.success_url);
                self.s("FailureURL", &d.failure_url);
            }
            AcsRequest::Upload(u) => {
                self.s("CommandKey", &u.command_key);
                self.s("FileType", &u.file_type);
                self.s("URL", &u.url);
                self.s("Username", &u.username);
                self.s("Password", &u.password);
                self.u("DelaySeconds", u.delay_seconds);
            }
            AcsRequest::ScheduleInform(s) => {
                self.u("DelaySeconds", s.delay_seconds);
                self.s("CommandKey", &s.command_key);
            }
            AcsRequest::ScheduleDownload(s) => self.schedule_download(s),
            AcsRequest::CancelTransfer(c) => self.s("CommandKey", &c.command_key),
            AcsRequest::ChangeDUState(c) => {
                for op in &c.operations {
                    self.du_operation(op);
                }
                self.s("CommandKey", &c.command_key);
            }
            AcsRequest::GetRPCMethods
            | AcsRequest::FactoryReset
            | AcsRequest::GetQueuedTransfers
            | AcsRequest::GetAllQueuedTransfers
            | AcsRequest::Unknown(_)
            // Its arguments were unreadable: the bare element (which decodes as invalid again).
            | AcsRequest::Invalid(_) => {}
        }
        self.rpc_close(name);
    }

    /// SetParameterAttributes' `ParameterList` (TR-069 §A.3.2.4).
    fn spa_list(&mut self, list: &[SetParameterAttributesStruct]) {
        self.array_open(
            "ParameterList",
            "cwmp:SetParameterAttributesStruct",
            list.len(),
        );
        for p in list {
            self.open("SetParameterAttributesStruct");
            self.s("Name", &p.name);
            self.b("NotificationChange", p.notification_change);
            // None is GenieACS's empty element (not schema-valid, but what CPEs meet).
            match p.notification {
                Some(n) => self.u("Notification", u32::from(n)),
                None => self.empty("Notification"),
            }
            self.b("AccessListChange", p.access_list_change);
            self.strings("AccessList", &p.access_list);
            self.close("SetParameterAttributesStruct");
        }
        self.close("ParameterList");
    }

    /// ScheduleDownload's arguments, its `TimeWindowList` last.
    fn schedule_download(&mut self, s: &ScheduleDownload) {
        self.s("CommandKey", &s.command_key);
        self.s("FileType", &s.file_type);
        self.s("URL", &s.url);
        self.s("Username", &s.username);
        self.s("Password", &s.password);
        self.u("FileSize", s.file_size);
        self.s("TargetFileName", &s.target_file_name);
        self.array_open(
            "TimeWindowList",
            "cwmp:TimeWindowStruct",
            s.time_window_list.len(),
        );
        for t in &s.time_window_list {
            self.open("TimeWindowStruct");
            self.u("WindowStart", t.window_start);
            self.u("WindowEnd", t.window_end);
            self.s("WindowMode", &t.window_mode);
            self.s("UserMessage", &t.user_message);
            self.i("MaxRetries", t.max_retries);
            self.close("TimeWindowStruct");
        }
        self.close("TimeWindowList");
    }

    /// Optional elements of the operation structs are left out when empty (an empty UUID would
    /// not match the schema's UUID pattern).
    fn du_operation(&mut self, op: &DuOperation) {
        let opt = |w: &mut Self, tag: &str, v: &str| {
            if !v.is_empty() {
                w.s(tag, v);
            }
        };
        match op {
            DuOperation::Install {
                url,
                uuid,
                username,
                password,
                execution_env_ref,
            } => {
                self.raw("<Operations xsi:type=\"cwmp:InstallOpStruct\">");
                self.s("URL", url);
                opt(self, "UUID", uuid);
                opt(self, "Username", username);
                opt(self, "Password", password);
                opt(self, "ExecutionEnvRef", execution_env_ref);
            }
            DuOperation::Update {
                uuid,
                version,
                url,
                username,
                password,
            } => {
                self.raw("<Operations xsi:type=\"cwmp:UpdateOpStruct\">");
                opt(self, "UUID", uuid);
                opt(self, "Version", version);
                opt(self, "URL", url);
                opt(self, "Username", username);
                opt(self, "Password", password);
            }
            DuOperation::Uninstall {
                uuid,
                version,
                execution_env_ref,
            } => {
                self.raw("<Operations xsi:type=\"cwmp:UninstallOpStruct\">");
                self.s("UUID", uuid);
                opt(self, "Version", version);
                opt(self, "ExecutionEnvRef", execution_env_ref);
            }
        }
        self.close("Operations");
    }

    pub(super) fn acs_response(&mut self, r: &AcsResponse) {
        let name = r.name();
        self.rpc_open(name);
        match r {
            AcsResponse::InformResponse(i) => self.u("MaxEnvelopes", i.max_envelopes),
            AcsResponse::GetRPCMethodsResponse(m) => self.strings("MethodList", &m.method_list),
            AcsResponse::KickedResponse(k) => self.s("NextURL", &k.next_url),
            AcsResponse::TransferCompleteResponse
            | AcsResponse::AutonomousTransferCompleteResponse
            | AcsResponse::RequestDownloadResponse
            | AcsResponse::DUStateChangeCompleteResponse
            | AcsResponse::AutonomousDUStateChangeCompleteResponse => {}
        }
        self.rpc_close(name);
    }
}

/// An unknown RPC's name goes out as an element name: keep it a valid XML name.
fn sanitize_name(n: &str) -> &str {
    let valid_start = n
        .bytes()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_');
    if valid_start
        && n.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
    {
        n
    } else {
        "Unknown"
    }
}
