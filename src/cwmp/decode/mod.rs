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

mod acs;
mod cpe;

use super::envelope::{Envelope, Header};
use super::error::DecodeError;
use super::fault::{Fault, SetParameterValuesFault};
use super::message::{AcsMessage, CpeMessage};
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

    // ---- parts both directions share --------------------------------------------------

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

    /// Any small number: whether it is 0-6 (and allowed by the version) is the receiver's call.
    fn notification_of(&self, n: NodeId) -> Result<u8, DecodeError> {
        let text = self.t.text(n);
        parse_integer(text)
            .and_then(|v| u8::try_from(v).ok())
            .ok_or_else(|| self.bad(n, "notification value (int)"))
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
mod tests;
