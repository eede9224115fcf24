//! What the fuzz targets share: the properties every decoded or answered message must keep,
//! the shipped templates and policies (compiled once per process), and the input framing of
//! the multi-message targets.
#![forbid(unsafe_code)]

use std::sync::OnceLock;

use cpefleet::acs::Policy;
use cpefleet::cwmp::{
    decode_acs, decode_cpe, encode_acs, encode_cpe, AcsMessage, CpeMessage, Envelope, Fault,
};
use cpefleet::model::Template;

/// Messages of one multi-message input are separated by NUL: XML 1.0 text can never contain
/// it (§2.2 Char), so a separator never hides inside a well-formed message.
pub fn messages(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split(|b| *b == 0)
}

/// An envelope the ACS side built must encode to something a CPE decodes, and encoding what
/// was decoded must be stable (decode ∘ encode is the identity on encoded bytes).
pub fn acs_round_trip(env: &Envelope<AcsMessage>) {
    let mut first = Vec::new();
    encode_acs(env, &mut first);
    let again = decode_acs(&first).unwrap_or_else(|e| {
        panic!(
            "encoded ACS message does not decode: {e}\n{}",
            String::from_utf8_lossy(&first)
        )
    });
    let mut second = Vec::new();
    encode_acs(&again, &mut second);
    assert!(
        first == second,
        "ACS encoding not stable:\n{}\n---\n{}",
        String::from_utf8_lossy(&first),
        String::from_utf8_lossy(&second)
    );
}

/// The CPE-side twin of [`acs_round_trip`].
pub fn cpe_round_trip(env: &Envelope<CpeMessage>) {
    let mut first = Vec::new();
    encode_cpe(env, &mut first);
    let again = decode_cpe(&first).unwrap_or_else(|e| {
        panic!(
            "encoded CPE message does not decode: {e}\n{}",
            String::from_utf8_lossy(&first)
        )
    });
    let mut second = Vec::new();
    encode_cpe(&again, &mut second);
    assert!(
        first == second,
        "CPE encoding not stable:\n{}\n---\n{}",
        String::from_utf8_lossy(&first),
        String::from_utf8_lossy(&second)
    );
}

/// A FaultCode a CPE may send: TR-069 Table 59 (A.5.1) defines 9000-9032, and 9800-9899 are
/// vendor-specific. Every SetParameterValuesFault entry must also carry such a code.
pub fn assert_cpe_fault(f: &Fault) {
    let ok = |c: u32| matches!(c, 9000..=9032 | 9800..=9899);
    assert!(ok(f.code), "invalid CPE fault code {}", f.code);
    for e in &f.set_parameter_values_faults {
        assert!(
            ok(e.code),
            "invalid SPV fault code {} ({})",
            e.code,
            e.parameter_name
        );
    }
}

/// A FaultCode an ACS may send: 8000-8006 (TR-069 A.5.1) and the vendor range 8800-8899.
pub fn assert_acs_fault(f: &Fault) {
    assert!(
        matches!(f.code, 8000..=8006 | 8800..=8899),
        "invalid ACS fault code {}",
        f.code
    );
}

/// The shipped data-model templates, compiled once.
pub fn templates() -> &'static [Template] {
    static T: OnceLock<Vec<Template>> = OnceLock::new();
    T.get_or_init(|| {
        [
            (
                "tr181-gateway.yaml",
                include_str!("../../data-models/tr181-gateway.yaml"),
            ),
            (
                "tr098-igd.yaml",
                include_str!("../../data-models/tr098-igd.yaml"),
            ),
            (
                "tr104-voip.yaml",
                include_str!("../../data-models/tr104-voip.yaml"),
            ),
            (
                "tr135-stb.yaml",
                include_str!("../../data-models/tr135-stb.yaml"),
            ),
        ]
        .iter()
        .map(|(name, src)| Template::from_yaml_str(src, name).expect("shipped template loads"))
        .collect()
    })
}

/// The embedded ACS's shipped policies (plus the null policy), parsed once.
pub fn policies() -> &'static [Policy] {
    static P: OnceLock<Vec<Policy>> = OnceLock::new();
    P.get_or_init(|| {
        let mut v = vec![Policy::Null];
        for src in [
            include_str!("../../scenarios/policies/provisioning.yaml"),
            include_str!("../../scenarios/policies/firmware-wave.yaml"),
        ] {
            v.push(Policy::parse(src).expect("shipped policy parses"));
        }
        v
    })
}

/// A cheap selector from the input (so the fuzzer can steer which template/policy is used).
pub fn pick(data: &[u8], n: usize) -> usize {
    data.iter()
        .fold(0usize, |a, b| a.wrapping_add(usize::from(*b)))
        % n
}
