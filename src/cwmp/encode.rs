//! Encoding of CWMP envelopes into a caller-owned, reused buffer. Infallible: every input gives
//! well-formed XML (text is escaped, characters XML 1.0 cannot carry become U+FFFD).
//!
//! Shape (both directions): `<?xml version="1.0" encoding="UTF-8"?>` and one newline, an
//! Envelope declaring the five namespaces with the conventional prefixes, no other whitespace.
//! ACS messages follow GenieACS's dialect (namespace order, `NextLevel` as 1/0, empty elements
//! as open/close pairs). Headers are filtered by role and version so a CPE never emits
//! HoldRequests/UseCWMPVersion/NoMoreRequests, and SessionTimeout (1.3+) and
//! SupportedCWMPVersions (1.4) only on an Inform.
//!
//! The codec encodes whatever message it is given in the envelope's namespace: RPCs that a
//! version's schema lacks (e.g. AutonomousTransferComplete in 1.0, see `min_version`) are the
//! caller's to avoid.

use super::envelope::{Envelope, Header};
use super::fault::Fault;
use super::message::{AcsMessage, AcsRequest, AcsResponse, CpeMessage, CpeRequest, CpeResponse};
use super::rpc::*;
use super::time::DateTime;
use super::tree::{NS_SOAP_ENC, NS_SOAP_ENV, NS_XSD, NS_XSI};
use super::value::XsdType;
use super::version::CwmpVersion;

const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// Appends a CPE -> ACS envelope to `out`.
pub fn encode_cpe(env: &Envelope<CpeMessage>, out: &mut Vec<u8>) {
    encode_cpe_parts(env.version, &env.header, &env.body, out);
}

/// [`encode_cpe`] from borrowed parts: the session encodes its messages (the Inform above all,
/// re-sent after a challenge or an 8005) without copying them into an envelope first.
pub fn encode_cpe_parts(v: CwmpVersion, header: &Header, body: &CpeMessage, out: &mut Vec<u8>) {
    let mut w = W { out };
    w.envelope_open(v, false);
    let inform = matches!(body, CpeMessage::Request(CpeRequest::Inform(_)));
    let session_timeout = header
        .session_timeout
        .filter(|_| inform && v >= CwmpVersion::V1_3);
    let supported = header
        .supported_cwmp_versions
        .as_deref()
        .filter(|_| inform && v >= CwmpVersion::V1_4);
    if header.id.is_some() || session_timeout.is_some() || supported.is_some() {
        w.raw("<soap-env:Header>");
        w.header_id(header);
        if let Some(t) = session_timeout {
            w.raw("<cwmp:SessionTimeout soap-env:mustUnderstand=\"0\">");
            w.u32(t);
            w.raw("</cwmp:SessionTimeout>");
        }
        if let Some(s) = supported {
            w.raw("<cwmp:SupportedCWMPVersions soap-env:mustUnderstand=\"0\">");
            w.text(s);
            w.raw("</cwmp:SupportedCWMPVersions>");
        }
        w.raw("</soap-env:Header>");
    }
    w.raw("<soap-env:Body>");
    match body {
        CpeMessage::Request(r) => w.cpe_request(r),
        CpeMessage::Response(r) => w.cpe_response(r),
        CpeMessage::Fault(f) => w.fault(f),
    }
    w.raw("</soap-env:Body></soap-env:Envelope>");
}

/// Appends an ACS -> CPE envelope to `out`, in GenieACS's style.
pub fn encode_acs(env: &Envelope<AcsMessage>, out: &mut Vec<u8>) {
    let mut w = W { out };
    let v = env.version;
    w.envelope_open(v, true);
    let inform_response = matches!(
        env.body,
        AcsMessage::Response(AcsResponse::InformResponse(_))
    );
    let hold = env.header.hold_requests;
    let use_version = env
        .header
        .use_cwmp_version
        .as_deref()
        .filter(|_| inform_response && v >= CwmpVersion::V1_2);
    if env.header.id.is_some() || hold.is_some() || use_version.is_some() {
        w.raw("<soap-env:Header>");
        w.header_id(&env.header);
        if let Some(h) = hold {
            w.raw("<cwmp:HoldRequests soap-env:mustUnderstand=\"1\">");
            w.raw(if h { "1" } else { "0" });
            w.raw("</cwmp:HoldRequests>");
        }
        if let Some(u) = use_version {
            w.raw("<cwmp:UseCWMPVersion soap-env:mustUnderstand=\"1\">");
            w.text(u);
            w.raw("</cwmp:UseCWMPVersion>");
        }
        w.raw("</soap-env:Header>");
    }
    w.raw("<soap-env:Body>");
    match &env.body {
        AcsMessage::Request(r) => w.acs_request(r),
        AcsMessage::Response(r) => w.acs_response(r),
        AcsMessage::Fault(f) => w.fault(f),
    }
    w.raw("</soap-env:Body></soap-env:Envelope>");
}

/// Appends `s` to `out` as XML character data: `&`, `<`, `>` escaped, CR kept as `&#13;` (a
/// parser would otherwise normalise it away), and characters XML 1.0 forbids replaced by U+FFFD.
/// Quotes stay as they are (the envelopes' bytes do not change).
pub fn escape_text(out: &mut Vec<u8>, s: &str) {
    escape_into(out, s, false);
}

/// `s` as XML text or as an attribute value: [`escape_text`]'s rules, and `"` and `'` escaped
/// too. The one escaper of every XML the crate writes besides envelopes (JUnit, HTML, SVG).
pub fn escape(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    escape_into(&mut out, s, true);
    // Only ASCII bytes and whole characters are replaced, so this is still UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn escape_into(out: &mut Vec<u8>, s: &str, quotes: bool) {
    let b = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let (rep, len): (&[u8], usize) = match c {
            b'&' => (b"&amp;", 1),
            b'<' => (b"&lt;", 1),
            b'>' => (b"&gt;", 1),
            b'\r' => (b"&#13;", 1),
            b'"' if quotes => (b"&quot;", 1),
            b'\'' if quotes => (b"&apos;", 1),
            0..=8 | 11 | 12 | 14..=31 => ("\u{FFFD}".as_bytes(), 1),
            // U+FFFE and U+FFFF are not XML characters either.
            0xEF if b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE | 0xBF)) => {
                ("\u{FFFD}".as_bytes(), 3)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(b.get(start..i).unwrap_or_default());
        out.extend_from_slice(rep);
        i += len;
        start = i;
    }
    out.extend_from_slice(b.get(start..).unwrap_or_default());
}

struct W<'o> {
    out: &'o mut Vec<u8>,
}

impl W<'_> {
    fn raw(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
    }

    fn text(&mut self, s: &str) {
        escape_text(self.out, s);
    }

    fn u32(&mut self, v: u32) {
        let mut buf = [0u8; 10];
        let mut i = buf.len();
        let mut v = v;
        loop {
            i -= 1;
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.out.extend_from_slice(&buf[i..]);
    }

    fn i32(&mut self, v: i32) {
        if v < 0 {
            self.out.push(b'-');
        }
        self.u32(v.unsigned_abs());
    }

    fn envelope_open(&mut self, v: CwmpVersion, genieacs_order: bool) {
        self.out.reserve(512);
        self.raw(XML_DECL);
        let env = concat_ns("soap-env", NS_SOAP_ENV);
        let enc = concat_ns("soap-enc", NS_SOAP_ENC);
        self.raw("<soap-env:Envelope");
        // GenieACS declares soap-enc first; the order carries no meaning.
        let (first, second) = if genieacs_order {
            (enc, env)
        } else {
            (env, enc)
        };
        for part in first.iter().chain(second.iter()) {
            self.raw(part);
        }
        self.raw(" xmlns:xsd=\"");
        self.raw(NS_XSD);
        self.raw("\" xmlns:xsi=\"");
        self.raw(NS_XSI);
        self.raw("\" xmlns:cwmp=\"");
        self.raw(v.namespace());
        self.raw("\">");
    }

    fn header_id(&mut self, h: &Header) {
        if let Some(id) = &h.id {
            self.raw("<cwmp:ID soap-env:mustUnderstand=\"1\">");
            self.text(id);
            self.raw("</cwmp:ID>");
        }
    }

    // ---- elements -------------------------------------------------------------------------

    fn open(&mut self, tag: &str) {
        self.out.push(b'<');
        self.raw(tag);
        self.out.push(b'>');
    }

    fn close(&mut self, tag: &str) {
        self.raw("</");
        self.raw(tag);
        self.out.push(b'>');
    }

    fn s(&mut self, tag: &str, v: &str) {
        self.open(tag);
        self.text(v);
        self.close(tag);
    }

    fn u(&mut self, tag: &str, v: u32) {
        self.open(tag);
        self.u32(v);
        self.close(tag);
    }

    fn i(&mut self, tag: &str, v: i32) {
        self.open(tag);
        self.i32(v);
        self.close(tag);
    }

    /// Booleans as 1/0, the spelling GenieACS and the recorded CPEs use.
    fn b(&mut self, tag: &str, v: bool) {
        self.open(tag);
        self.raw(if v { "1" } else { "0" });
        self.close(tag);
    }

    fn t(&mut self, tag: &str, v: DateTime) {
        self.open(tag);
        v.push_to(self.out);
        self.close(tag);
    }

    /// An empty element as an open/close pair, as GenieACS writes them.
    fn empty(&mut self, tag: &str) {
        self.open(tag);
        self.close(tag);
    }

    fn rpc_open(&mut self, name: &str) {
        self.raw("<cwmp:");
        self.raw(name);
        self.out.push(b'>');
    }

    fn rpc_close(&mut self, name: &str) {
        self.raw("</cwmp:");
        self.raw(name);
        self.out.push(b'>');
    }

    fn rpc_empty(&mut self, name: &str) {
        self.rpc_open(name);
        self.rpc_close(name);
    }

    /// `<tag soap-enc:arrayType="item[n]">`.
    fn array_open(&mut self, tag: &str, item_type: &str, n: usize) {
        self.out.push(b'<');
        self.raw(tag);
        self.raw(" soap-enc:arrayType=\"");
        self.raw(item_type);
        self.out.push(b'[');
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
        self.raw("]\">");
    }

    fn strings(&mut self, tag: &str, items: &[String]) {
        self.array_open(tag, "xsd:string", items.len());
        for s in items {
            self.s("string", s);
        }
        self.close(tag);
    }

    fn param_values(&mut self, tag: &str, list: &[ParameterValueStruct]) {
        self.array_open(tag, "cwmp:ParameterValueStruct", list.len());
        for p in list {
            self.raw("<ParameterValueStruct>");
            self.s("Name", &p.name);
            self.raw("<Value xsi:type=\"");
            self.raw(p.kind.unwrap_or(XsdType::String).xsi());
            self.raw("\">");
            self.text(&p.value);
            self.raw("</Value></ParameterValueStruct>");
        }
        self.close(tag);
    }

    fn transfer_fault(&mut self, f: &TransferCompleteFaultStruct) {
        self.open("FaultStruct");
        self.u("FaultCode", f.fault_code);
        self.s("FaultString", &f.fault_string);
        self.close("FaultStruct");
    }

    fn fault(&mut self, f: &Fault) {
        self.raw("<soap-env:Fault><faultcode>");
        self.raw(if f.is_client() { "Client" } else { "Server" });
        self.raw("</faultcode><faultstring>CWMP fault</faultstring><detail><cwmp:Fault>");
        self.u("FaultCode", f.code);
        self.s("FaultString", &f.string);
        for p in &f.set_parameter_values_faults {
            self.open("SetParameterValuesFault");
            self.s("ParameterName", &p.parameter_name);
            self.u("FaultCode", p.code);
            self.s("FaultString", &p.string);
            self.close("SetParameterValuesFault");
        }
        self.raw("</cwmp:Fault></detail></soap-env:Fault>");
    }

    // ---- CPE -> ACS -----------------------------------------------------------------------

    fn cpe_request(&mut self, r: &CpeRequest) {
        let name = r.name();
        match r {
            CpeRequest::GetRPCMethods => return self.rpc_empty(name),
            _ => self.rpc_open(name),
        }
        match r {
            CpeRequest::Inform(i) => {
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

    fn cpe_response(&mut self, r: &CpeResponse) {
        let name = r.name();
        self.rpc_open(name);
        match r {
            CpeResponse::GetRPCMethodsResponse(m) => self.strings("MethodList", &m.method_list),
            CpeResponse::GetParameterNamesResponse(g) => {
                self.array_open(
                    "ParameterList",
                    "cwmp:ParameterInfoStruct",
                    g.parameter_list.len(),
                );
                for p in &g.parameter_list {
                    self.open("ParameterInfoStruct");
                    self.s("Name", &p.name);
                    self.b("Writable", p.writable);
                    self.close("ParameterInfoStruct");
                }
                self.close("ParameterList");
            }
            CpeResponse::GetParameterValuesResponse(g) => {
                self.param_values("ParameterList", &g.parameter_list)
            }
            CpeResponse::SetParameterValuesResponse(s) => self.u("Status", s.status),
            CpeResponse::GetParameterAttributesResponse(g) => {
                self.array_open(
                    "ParameterList",
                    "cwmp:ParameterAttributeStruct",
                    g.parameter_list.len(),
                );
                for p in &g.parameter_list {
                    self.open("ParameterAttributeStruct");
                    self.s("Name", &p.name);
                    self.u("Notification", u32::from(p.notification));
                    self.strings("AccessList", &p.access_list);
                    self.close("ParameterAttributeStruct");
                }
                self.close("ParameterList");
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
            CpeResponse::GetQueuedTransfersResponse(q) => {
                self.array_open(
                    "TransferList",
                    "cwmp:QueuedTransferStruct",
                    q.transfer_list.len(),
                );
                for t in &q.transfer_list {
                    self.open("QueuedTransferStruct");
                    self.s("CommandKey", &t.command_key);
                    self.u("State", t.state);
                    self.close("QueuedTransferStruct");
                }
                self.close("TransferList");
            }
            CpeResponse::GetAllQueuedTransfersResponse(q) => {
                self.array_open(
                    "TransferList",
                    "cwmp:AllQueuedTransferStruct",
                    q.transfer_list.len(),
                );
                for t in &q.transfer_list {
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

    // ---- ACS -> CPE -----------------------------------------------------------------------

    fn acs_request(&mut self, r: &AcsRequest) {
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
            AcsRequest::SetParameterAttributes(s) => {
                self.array_open(
                    "ParameterList",
                    "cwmp:SetParameterAttributesStruct",
                    s.parameter_list.len(),
                );
                for p in &s.parameter_list {
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
            AcsRequest::ScheduleDownload(s) => {
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
            | AcsRequest::Unknown(_) => {}
        }
        self.rpc_close(name);
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

    fn acs_response(&mut self, r: &AcsResponse) {
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

fn concat_ns(prefix: &'static str, uri: &'static str) -> [&'static str; 5] {
    [" xmlns:", prefix, "=\"", uri, "\""]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cwmp::decode::{decode_acs, decode_cpe};
    use crate::cwmp::sample;

    /// What a decoder can see of the version: 1.3/1.4 only show through the Inform headers
    /// (or UseCWMPVersion), every other message of theirs reads as 1.2.
    fn visible_version(v: CwmpVersion, h: &Header) -> CwmpVersion {
        if v >= CwmpVersion::V1_2
            && h.session_timeout.is_none()
            && h.supported_cwmp_versions.is_none()
            && h.use_cwmp_version.is_none()
        {
            CwmpVersion::V1_2
        } else {
            v
        }
    }

    fn text(buf: &[u8]) -> &str {
        std::str::from_utf8(buf).unwrap_or("<not utf-8>")
    }

    #[test]
    fn every_cpe_message_round_trips() {
        let mut buf = Vec::new();
        let mut n = 0;
        for v in CwmpVersion::ALL {
            for (label, env) in sample::all_cpe(v) {
                buf.clear();
                encode_cpe(&env, &mut buf);
                let back =
                    decode_cpe(&buf).unwrap_or_else(|e| panic!("{label}: {e}\n{}", text(&buf)));
                assert_eq!(back.body, env.body, "{label}");
                assert_eq!(back.header, env.header, "{label}");
                assert_eq!(back.version, visible_version(v, &env.header), "{label}");
                n += 1;
            }
        }
        assert!(n > 250, "{n}");
    }

    #[test]
    fn every_acs_message_round_trips() {
        let mut buf = Vec::new();
        for v in CwmpVersion::ALL {
            for (label, env) in sample::all_acs(v) {
                buf.clear();
                encode_acs(&env, &mut buf);
                let back =
                    decode_acs(&buf).unwrap_or_else(|e| panic!("{label}: {e}\n{}", text(&buf)));
                assert_eq!(back.body, env.body, "{label}");
                assert_eq!(back.header, env.header, "{label}");
                assert_eq!(back.version, visible_version(v, &env.header), "{label}");
            }
        }
    }

    #[test]
    fn envelope_shape() {
        let mut buf = Vec::new();
        encode_cpe(&sample::gpv_response(CwmpVersion::V1_0, 3), &mut buf);
        let s = text(&buf);
        assert!(s.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap-env:Envelope "));
        for ns in [
            "xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\"",
            "xmlns:soap-enc=\"http://schemas.xmlsoap.org/soap/encoding/\"",
            "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"",
            "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"",
            "xmlns:cwmp=\"urn:dslforum-org:cwmp-1-0\"",
        ] {
            let envelope_tag = s
                .split("?>\n")
                .nth(1)
                .and_then(|r| r.split('>').next())
                .unwrap_or_default();
            assert!(envelope_tag.contains(ns), "{ns} on Envelope");
        }
        assert!(s.contains("<cwmp:ID soap-env:mustUnderstand=\"1\">1a2137f31190003</cwmp:ID>"));
        assert!(s.contains("<ParameterList soap-enc:arrayType=\"cwmp:ParameterValueStruct[3]\">"));
        assert_eq!(s.matches("<Value xsi:type=\"xsd:string\">").count(), 3);
        assert!(
            s.ends_with("</cwmp:GetParameterValuesResponse></soap-env:Body></soap-env:Envelope>")
        );
    }

    #[test]
    fn array_counts_match_items() {
        let mut buf = Vec::new();
        let mut arrays = 0;
        for v in CwmpVersion::ALL {
            for (label, env) in sample::all_cpe(v) {
                buf.clear();
                encode_cpe(&env, &mut buf);
                let s = text(&buf);
                // Each arrayType="T[n]" is followed by exactly n items before its close tag.
                for (pos, _) in s.match_indices("soap-enc:arrayType=\"") {
                    let rest = s.get(pos..).unwrap_or_default();
                    let decl = rest.split('"').nth(1).unwrap_or_default();
                    let (ty, count) = decl
                        .trim_end_matches(']')
                        .split_once('[')
                        .unwrap_or_default();
                    let count: usize = count.parse().unwrap_or(usize::MAX);
                    let item = ty.rsplit(':').next().unwrap_or_default();
                    let open_tag = s.get(..pos).and_then(|b| b.rfind('<')).unwrap_or(0);
                    let tag = s.get(open_tag + 1..pos - 1).unwrap_or_default();
                    let body = rest.split(&format!("</{tag}>")).next().unwrap_or_default();
                    assert_eq!(
                        body.matches(&format!("<{item}>")).count(),
                        count,
                        "{label}: {decl}"
                    );
                    arrays += 1;
                }
            }
        }
        assert!(arrays > 250, "{arrays} arrays checked");
    }

    #[test]
    fn headers_follow_role_and_version() {
        let mut buf = Vec::new();
        let mut env = sample::inform(CwmpVersion::V1_2, vec![], 0);
        env.header.session_timeout = Some(60);
        env.header.supported_cwmp_versions = Some("1.0,1.1,1.2".into());
        encode_cpe(&env, &mut buf);
        // A 1.2 CPE has neither header in its schema.
        assert!(
            !text(&buf).contains("SessionTimeout") && !text(&buf).contains("SupportedCWMPVersions")
        );

        buf.clear();
        env.version = CwmpVersion::V1_3;
        encode_cpe(&env, &mut buf);
        assert!(text(&buf).contains(
            "<cwmp:SessionTimeout soap-env:mustUnderstand=\"0\">60</cwmp:SessionTimeout>"
        ));
        assert!(!text(&buf).contains("SupportedCWMPVersions"));

        // Inform-only headers never ride on other CPE messages.
        buf.clear();
        let mut resp = sample::gpv_response(CwmpVersion::V1_4, 1);
        resp.header.session_timeout = Some(60);
        resp.header.supported_cwmp_versions = Some("1.4".into());
        encode_cpe(&resp, &mut buf);
        assert!(!text(&buf).contains("SessionTimeout") && !text(&buf).contains("Supported"));

        // No ID and nothing else: no Header at all.
        buf.clear();
        resp.header = Header::default();
        encode_cpe(&resp, &mut buf);
        assert!(!text(&buf).contains("Header"));

        // ACS side: HoldRequests anywhere, UseCWMPVersion only on InformResponse.
        buf.clear();
        let acs = Envelope {
            version: CwmpVersion::V1_4,
            header: Header {
                id: Some("9".into()),
                hold_requests: Some(false),
                use_cwmp_version: Some("1.4".into()),
                no_more_requests: Some(true),
                ..Header::default()
            },
            body: AcsMessage::Request(AcsRequest::GetRPCMethods),
        };
        encode_acs(&acs, &mut buf);
        assert!(text(&buf)
            .contains("<cwmp:HoldRequests soap-env:mustUnderstand=\"1\">0</cwmp:HoldRequests>"));
        assert!(!text(&buf).contains("UseCWMPVersion") && !text(&buf).contains("NoMoreRequests"));
    }

    #[test]
    fn text_is_escaped_and_always_well_formed() {
        let mut out = Vec::new();
        escape_text(&mut out, "a<b>&c\"d'e\r\nf\u{1}g\u{FFFF}h\u{FFFE}é");
        assert_eq!(
            text(&out),
            "a&lt;b&gt;&amp;c\"d'e&#13;\nf\u{FFFD}g\u{FFFD}h\u{FFFD}é"
        );

        let mut env = sample::gpv_response(CwmpVersion::V1_0, 1);
        let hostile = "</Value><x>&amp;\r\n\0 ]]> \u{7}";
        if let CpeMessage::Response(CpeResponse::GetParameterValuesResponse(g)) = &mut env.body {
            g.parameter_list[0].value = hostile.into();
        }
        let mut buf = Vec::new();
        encode_cpe(&env, &mut buf);
        let back = decode_cpe(&buf).expect("still well-formed");
        let CpeMessage::Response(CpeResponse::GetParameterValuesResponse(g)) = back.body else {
            panic!("kind")
        };
        assert_eq!(
            g.parameter_list[0].value,
            "</Value><x>&amp;\r\n\u{FFFD} ]]> \u{FFFD}"
        );
    }

    #[test]
    fn attribute_escaping_is_text_escaping_plus_quotes() {
        let hostile = "p99 <= 5 & \"x\" 'y'\u{1}\r\n\u{FFFF}é";
        assert_eq!(
            escape(hostile),
            "p99 &lt;= 5 &amp; &quot;x&quot; &apos;y&apos;\u{FFFD}&#13;\n\u{FFFD}é"
        );
        let mut text_only = Vec::new();
        escape_text(&mut text_only, hostile);
        assert_eq!(
            escape(hostile),
            String::from_utf8(text_only)
                .unwrap()
                .replace('"', "&quot;")
                .replace('\'', "&apos;")
        );
    }

    #[test]
    fn appends_to_a_reused_buffer() {
        let env = sample::gpv_response(CwmpVersion::V1_0, 2);
        let mut one = Vec::new();
        encode_cpe(&env, &mut one);
        let mut buf = b"prefix".to_vec();
        encode_cpe(&env, &mut buf);
        assert_eq!(buf.get(6..), Some(&one[..]));
    }

    #[test]
    fn untyped_value_goes_out_as_string_and_unknown_rpc_names_stay_valid() {
        let env = Envelope::new(
            CwmpVersion::V1_0,
            Header::with_id("1"),
            AcsMessage::Request(AcsRequest::SetParameterValues(SetParameterValues {
                parameter_list: vec![ParameterValueStruct {
                    name: "A.b".into(),
                    value: "1".into(),
                    kind: None,
                }],
                parameter_key: String::new(),
            })),
        );
        let mut buf = Vec::new();
        encode_acs(&env, &mut buf);
        assert!(text(&buf).contains("<Value xsi:type=\"xsd:string\">1</Value>"));

        for (name, expect) in [
            ("X_Vendor.Thing-2", "X_Vendor.Thing-2"),
            ("bad name<", "Unknown"),
            ("", "Unknown"),
        ] {
            buf.clear();
            let env = Envelope::new(
                CwmpVersion::V1_0,
                Header::default(),
                AcsMessage::Request(AcsRequest::Unknown(name.into())),
            );
            encode_acs(&env, &mut buf);
            let back = decode_acs(&buf).expect("well-formed");
            assert_eq!(
                back.body,
                AcsMessage::Request(AcsRequest::Unknown(expect.into()))
            );
        }
    }

    #[test]
    fn fault_codes_pick_client_or_server() {
        let mut buf = Vec::new();
        for (code, who) in [
            (9005, "Client"),
            (9002, "Server"),
            (8005, "Server"),
            (8003, "Client"),
        ] {
            buf.clear();
            encode_cpe(
                &Envelope::new(
                    CwmpVersion::V1_0,
                    Header::default(),
                    CpeMessage::Fault(Fault::new(code)),
                ),
                &mut buf,
            );
            assert!(text(&buf).contains(&format!(
                "<faultcode>{who}</faultcode><faultstring>CWMP fault</faultstring>"
            )));
        }
    }
}
