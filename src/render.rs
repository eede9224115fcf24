//! What device N of a template would send: its Inform for given events, or its response to an
//! ACS request read from a file (`cpefleet render`). The interop debugging tool, and the codec
//! and device semantics seen from outside, with no network.

use crate::cwmp::{
    decode_acs, encode_cpe, AcsMessage, CpeMessage, CpeRequest, CwmpVersion, DateTime, DecodeError,
    Envelope, EventCode, EventStruct, Header,
};
use crate::device::{Device, DeviceView, Env};
use crate::model::Template;

/// What to render for a device.
#[derive(Debug, Clone)]
pub struct RenderInput<'a> {
    pub template: &'a Template,
    pub index: u32,
    pub seed: u64,
    /// CWMP version; the template's when `None`.
    pub version: Option<CwmpVersion>,
    /// The clock the device sees (CurrentTime, UpTime).
    pub now: DateTime,
    /// Base of ConnectionRequestURL.
    pub cr_url_base: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("event list: {0}")]
    Events(String),
    #[error("request: {0}")]
    Request(#[from] crate::cwmp::DecodeError),
    #[error("the request file holds a {0}, not an ACS request")]
    NotARequest(&'static str),
    /// An error at a place in the request file (1-based line and column).
    #[error("{line}:{column}: {message}")]
    At {
        line: usize,
        column: usize,
        message: String,
        label: &'static str,
    },
}

impl RenderError {
    pub fn label(&self) -> &'static str {
        match self {
            RenderError::Events(_) => "render_events",
            RenderError::Request(e) => e.label(),
            RenderError::NotARequest(_) => "render_not_request",
            RenderError::At { label, .. } => label,
        }
    }
}

/// Parses "0 BOOTSTRAP,1 BOOT,M Reboot:key" (a CommandKey after a colon).
pub fn parse_events(list: &str) -> Result<Vec<EventStruct>, RenderError> {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (code, key) = item.split_once(':').unwrap_or((item, ""));
        let code = EventCode::parse(code.trim());
        if let EventCode::Other(s) = &code {
            let vendor = s.starts_with("X ") || s.starts_with("M X_");
            if !vendor {
                return Err(RenderError::Events(format!(
                    "{s:?} is not a TR-069 event code (e.g. \"0 BOOTSTRAP\", \"1 BOOT\", \"M Reboot\")"
                )));
            }
        }
        out.push(EventStruct {
            code,
            command_key: key.trim().to_string(),
        });
    }
    if out.len() > 64 {
        return Err(RenderError::Events(
            "at most 64 events fit an Inform".into(),
        ));
    }
    Ok(out)
}

fn version(input: &RenderInput<'_>) -> CwmpVersion {
    input
        .version
        .unwrap_or_else(|| input.template.cwmp_version())
}

fn header_for_inform(v: CwmpVersion, id: &str) -> Header {
    let mut h = Header::with_id(id);
    if v >= CwmpVersion::V1_3 {
        h.session_timeout = Some(30);
    }
    if v == CwmpVersion::V1_4 {
        h.supported_cwmp_versions = Some(v.supported_list().to_string());
    }
    h
}

/// The device's Inform envelope for `events`.
/// Device N as it boots now: UpTime and counters count from the render time (a device left at
/// boot time 0 reported the Unix time as its UpTime).
fn booted(input: &RenderInput<'_>) -> Device {
    let mut dev = Device::new(input.index);
    dev.set_boot_time(input.now);
    dev
}

pub fn render_inform(input: &RenderInput<'_>, events: Vec<EventStruct>) -> Vec<u8> {
    let mut dev = booted(input);
    let env = Env {
        seed: input.seed,
        now: input.now,
        cr_url_base: input.cr_url_base,
        udp: None,
    };
    let view = DeviceView::new(input.template, &mut dev, &env);
    let inform = view.inform(events, 0);
    let v = version(input);
    let envelope = Envelope::new(
        v,
        header_for_inform(v, "cpefleet-1"),
        CpeMessage::Request(CpeRequest::Inform(inform)),
    );
    let mut out = Vec::with_capacity(4096);
    encode_cpe(&envelope, &mut out);
    out
}

/// The device's answer to an ACS request envelope (the request's cwmp:ID echoed).
/// The envelope of a request file and its byte offset in it: the whole file, or the body of a
/// recorded HTTP message (start line, headers, blank line, body: as `--trace` and the GenieACS
/// transcripts write one message), bounded by its Content-Length.
pub fn message_body(file: &[u8]) -> Result<(&[u8], usize), RenderError> {
    let first = file.split(|&b| b == b'\n').next().unwrap_or_default();
    let first = String::from_utf8_lossy(first);
    // A status line ("HTTP/1.1 200 OK") or a request line ("POST /acs HTTP/1.1").
    let is_http = first.starts_with("HTTP/1.") || first.trim_end().contains(" HTTP/1.");
    if !is_http {
        return Ok((file, 0));
    }
    let at = find(file, b"\r\n\r\n")
        .map(|i| i + 4)
        .into_iter()
        .chain(find(file, b"\n\n").map(|i| i + 2))
        .min()
        .unwrap_or(file.len());
    let headers = String::from_utf8_lossy(&file[..at]);
    let length = headers
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok());
    let rest = &file[at..];
    let body = &rest[..length.unwrap_or(rest.len()).min(rest.len())];
    if body.iter().all(u8::is_ascii_whitespace) {
        let (line, column) = locate(file, at);
        return Err(RenderError::At {
            line,
            column,
            message: "the HTTP message has no body: nothing to answer".into(),
            label: "render_no_body",
        });
    }
    Ok((body, at))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// 1-based line and column of byte `off` of the file.
fn locate(file: &[u8], off: usize) -> (usize, usize) {
    crate::units::line_column(&String::from_utf8_lossy(file), off)
}

pub fn render_response(input: &RenderInput<'_>, request: &[u8]) -> Result<Vec<u8>, RenderError> {
    let (body, at) = message_body(request)?;
    let req = decode_acs(body).map_err(|e| match &e {
        // Malformed XML: the line and column in the file, headers included.
        DecodeError::Xml {
            offset, message, ..
        } => {
            let off = at + (*offset as usize).min(body.len());
            let (line, column) = locate(request, off);
            RenderError::At {
                line,
                column,
                message: format!("malformed XML: {message}"),
                label: e.label(),
            }
        }
        _ => RenderError::Request(e),
    })?;
    let rpc = match req.body {
        AcsMessage::Request(r) => r,
        AcsMessage::Response(r) => return Err(RenderError::NotARequest(r.name())),
        AcsMessage::Fault(_) => return Err(RenderError::NotARequest("Fault")),
    };
    let mut dev = booted(input);
    let env = Env {
        seed: input.seed,
        now: input.now,
        cr_url_base: input.cr_url_base,
        udp: None,
    };
    let mut view = DeviceView::new(input.template, &mut dev, &env);
    let applied = view.apply(&rpc);
    let header = Header {
        id: req.header.id.clone(),
        ..Header::default()
    };
    // Answer in the request's namespace (TR-069 §3.5: the CPE follows the ACS's version), downgraded to what the device speaks.
    let v = req.version.min(version(input));
    let mut out = Vec::with_capacity(4096);
    encode_cpe(&Envelope::new(v, header, applied.message), &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_lists() {
        let e = parse_events("0 BOOTSTRAP, 1 BOOT,M Reboot:rb-1").unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[2].code, EventCode::MReboot);
        assert_eq!(e[2].command_key, "rb-1");
        assert!(parse_events("1 BOOT,99 NONSENSE").is_err());
        assert!(parse_events("X 00D09E Custom").is_ok());
        assert!(parse_events("").unwrap().is_empty());
    }
}
