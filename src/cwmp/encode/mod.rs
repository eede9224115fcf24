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

mod acs;
mod cpe;

use super::envelope::{Envelope, Header};
use super::fault::Fault;
use super::message::{AcsMessage, AcsResponse, CpeMessage, CpeRequest};
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
}

fn concat_ns(prefix: &'static str, uri: &'static str) -> [&'static str; 5] {
    [" xmlns:", prefix, "=\"", uri, "\""]
}

#[cfg(test)]
mod tests;
