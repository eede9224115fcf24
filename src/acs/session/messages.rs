//! Envelopes the ACS answers with outside a session's queue: InformResponse, faults, version negotiation.

use super::*;

/// CWMP 1.4 negotiation: the highest version both sides support, for `UseCWMPVersion`.
/// `Ok(None)` when the CPE did not announce SupportedCWMPVersions; fault 8006 when nothing in
/// its list is a version this ACS knows.
pub fn negotiate(header: &Header) -> Result<Option<CwmpVersion>, Fault> {
    let Some(list) = header.supported_cwmp_versions.as_deref() else {
        return Ok(None);
    };
    list.split(',')
        .filter_map(CwmpVersion::parse)
        .max()
        .map(Some)
        .ok_or_else(|| Fault::new(8006))
}

/// The InformResponse (GenieACS: MaxEnvelopes 1, the Inform's cwmp:ID echoed).
pub fn inform_response(
    version: CwmpVersion,
    inform_header: &Header,
    use_version: Option<CwmpVersion>,
) -> Envelope<AcsMessage> {
    Envelope::new(
        version,
        Header {
            id: inform_header.id.clone(),
            use_cwmp_version: use_version.map(|v| v.as_str().to_string()),
            ..Header::default()
        },
        AcsMessage::Response(AcsResponse::InformResponse(InformResponse {
            max_envelopes: 1,
        })),
    )
}

/// A fault answering a CPE request (8000 for an unsupported method).
pub fn fault_reply(version: CwmpVersion, id: Option<String>, code: u32) -> Envelope<AcsMessage> {
    Envelope::new(
        version,
        Header {
            id,
            ..Header::default()
        },
        AcsMessage::Fault(Fault::new(code)),
    )
}
