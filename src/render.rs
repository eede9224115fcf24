//! What device N of a template would send: its Inform for given events, or its response to an
//! ACS request read from a file (`cpefleet render`). The interop debugging tool, and the codec
//! and device semantics seen from outside, with no network.

use crate::cwmp::{
    decode_acs, encode_cpe, AcsMessage, CpeMessage, CpeRequest, CwmpVersion, DateTime, Envelope,
    EventCode, EventStruct, Header,
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
}

impl RenderError {
    pub fn label(&self) -> &'static str {
        match self {
            RenderError::Events(_) => "render_events",
            RenderError::Request(e) => e.label(),
            RenderError::NotARequest(_) => "render_not_request",
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
pub fn render_inform(input: &RenderInput<'_>, events: Vec<EventStruct>) -> Vec<u8> {
    let mut dev = Device::new(input.index);
    let env = Env {
        seed: input.seed,
        now: input.now,
        cr_url_base: input.cr_url_base,
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
pub fn render_response(input: &RenderInput<'_>, request: &[u8]) -> Result<Vec<u8>, RenderError> {
    let req = decode_acs(request)?;
    let rpc = match req.body {
        AcsMessage::Request(r) => r,
        AcsMessage::Response(r) => return Err(RenderError::NotARequest(r.name())),
        AcsMessage::Fault(_) => return Err(RenderError::NotARequest("Fault")),
    };
    let mut dev = Device::new(input.index);
    let env = Env {
        seed: input.seed,
        now: input.now,
        cr_url_base: input.cr_url_base,
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
