//! The one list of CWMP methods (TR-069 A.3.1 and A.3.2): who calls each, the version that
//! introduced it, and whether the codec models its arguments. Every other list of RPC names
//! (the codec's request names and direction errors, the CPE's GetRPCMethods answer, the
//! threshold metric names, the ACS's counters) is a view of this one.

use super::version::CwmpVersion;

/// Which side calls a method: the ACS on the CPE (TR-069 A.3.2), the CPE on the ACS (A.3.1),
/// or both (GetRPCMethods).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Acs,
    Cpe,
    Both,
}

/// One CWMP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Method {
    pub name: &'static str,
    pub caller: Caller,
    /// The CWMP version that introduced it.
    pub since: CwmpVersion,
    /// Whether the codec reads and writes its arguments (an `AcsRequest` variant for the ACS's
    /// methods); SetVouchers and GetOptions are known by name only.
    pub modelled: bool,
}

const fn m(name: &'static str, caller: Caller, since: CwmpVersion, modelled: bool) -> Method {
    Method {
        name,
        caller,
        since,
        modelled,
    }
}

use CwmpVersion::{V1_0, V1_1, V1_2};

/// Every method, the ACS's first in the order a CPE lists them in its GetRPCMethods answer.
pub const METHODS: [Method; 27] = [
    m("GetRPCMethods", Caller::Both, V1_0, true),
    m("SetParameterValues", Caller::Acs, V1_0, true),
    m("GetParameterValues", Caller::Acs, V1_0, true),
    m("GetParameterNames", Caller::Acs, V1_0, true),
    m("SetParameterAttributes", Caller::Acs, V1_0, true),
    m("GetParameterAttributes", Caller::Acs, V1_0, true),
    m("AddObject", Caller::Acs, V1_0, true),
    m("DeleteObject", Caller::Acs, V1_0, true),
    m("Download", Caller::Acs, V1_0, true),
    m("Reboot", Caller::Acs, V1_0, true),
    m("GetQueuedTransfers", Caller::Acs, V1_0, true),
    m("ScheduleInform", Caller::Acs, V1_0, true),
    m("Upload", Caller::Acs, V1_0, true),
    m("FactoryReset", Caller::Acs, V1_0, true),
    m("GetAllQueuedTransfers", Caller::Acs, V1_1, true),
    m("ScheduleDownload", Caller::Acs, V1_2, true),
    m("CancelTransfer", Caller::Acs, V1_2, true),
    m("ChangeDUState", Caller::Acs, V1_2, true),
    m("SetVouchers", Caller::Acs, V1_0, false),
    m("GetOptions", Caller::Acs, V1_0, false),
    m("Inform", Caller::Cpe, V1_0, true),
    m("TransferComplete", Caller::Cpe, V1_0, true),
    m("AutonomousTransferComplete", Caller::Cpe, V1_1, true),
    m("RequestDownload", Caller::Cpe, V1_0, true),
    m("DUStateChangeComplete", Caller::Cpe, V1_2, true),
    m("AutonomousDUStateChangeComplete", Caller::Cpe, V1_2, true),
    m("Kicked", Caller::Cpe, V1_0, true),
];

/// Whether `caller` may call `m` (GetRPCMethods goes both ways).
const fn called_by(m: &Method, caller: Caller) -> bool {
    matches!(
        (m.caller, caller),
        (Caller::Both, _) | (Caller::Acs, Caller::Acs) | (Caller::Cpe, Caller::Cpe)
    )
}

/// How many modelled methods `caller` may call (the length of [`requests_of`]).
pub const fn request_count(caller: Caller) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < METHODS.len() {
        if METHODS[i].modelled && called_by(&METHODS[i], caller) {
            n += 1;
        }
        i += 1;
    }
    n
}

/// The names of the modelled methods `caller` may call, in [`METHODS`] order; `N` must be
/// [`request_count`]`(caller)` (checked when the constant is evaluated).
pub const fn requests_of<const N: usize>(caller: Caller) -> [&'static str; N] {
    assert!(N == request_count(caller));
    let mut out = [""; N];
    let mut n = 0;
    let mut i = 0;
    while i < METHODS.len() {
        if METHODS[i].modelled && called_by(&METHODS[i], caller) {
            out[n] = METHODS[i].name;
            n += 1;
        }
        i += 1;
    }
    out
}

/// The method called `name`.
pub fn method(name: &str) -> Option<&'static Method> {
    METHODS.iter().find(|m| m.name == name)
}

/// The side that alone sends the element `name` (a request of a one-way method, or the
/// response to one), or `None` for an element both sides send or no method has: what lets the
/// decoder tell a message sent the wrong way from an unknown one.
pub fn sent_only_by(name: &[u8]) -> Option<Caller> {
    METHODS.iter().find_map(|m| {
        let request = name == m.name.as_bytes();
        let response = name
            .strip_prefix(m.name.as_bytes())
            .is_some_and(|rest| rest == b"Response");
        match (m.caller, request, response) {
            (Caller::Acs, true, _) | (Caller::Cpe, _, true) => Some(Caller::Acs),
            (Caller::Cpe, true, _) | (Caller::Acs, _, true) => Some(Caller::Cpe),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cwmp::message::AcsRequest;
    use crate::cwmp::sample::acs_requests;

    #[test]
    fn names_are_unique() {
        for (i, a) in METHODS.iter().enumerate() {
            assert!(
                METHODS[i + 1..].iter().all(|b| b.name != a.name),
                "{}",
                a.name
            );
        }
    }

    #[test]
    fn acs_request_names_are_the_codecs_variants() {
        // Every variant the codec builds has its name in the list, and every listed name has a
        // variant.
        let mut seen: Vec<&str> = CwmpVersion::ALL
            .iter()
            .flat_map(|v| acs_requests(*v))
            .map(|r| r.name())
            .collect();
        seen.sort_unstable();
        seen.dedup();
        let mut names = AcsRequest::NAMES.to_vec();
        names.sort_unstable();
        assert_eq!(seen, names);
    }

    #[test]
    fn one_way_elements_follow_the_caller() {
        assert_eq!(sent_only_by(b"GetParameterNames"), Some(Caller::Acs));
        assert_eq!(
            sent_only_by(b"GetParameterNamesResponse"),
            Some(Caller::Cpe)
        );
        assert_eq!(sent_only_by(b"SetVouchersResponse"), Some(Caller::Cpe));
        assert_eq!(sent_only_by(b"Inform"), Some(Caller::Cpe));
        assert_eq!(sent_only_by(b"InformResponse"), Some(Caller::Acs));
        assert_eq!(sent_only_by(b"GetRPCMethods"), None);
        assert_eq!(sent_only_by(b"GetRPCMethodsResponse"), None);
        assert_eq!(sent_only_by(b"Frobnicate"), None);
        // A one-way element in the list is never also an element of the other side.
        for m in METHODS.iter().filter(|m| m.caller != Caller::Both) {
            let response = format!("{}Response", m.name);
            assert_ne!(
                sent_only_by(m.name.as_bytes()),
                sent_only_by(response.as_bytes()),
                "{}",
                m.name
            );
        }
    }

    #[test]
    fn cpe_requests_are_every_cpe_method() {
        let cpe: [&str; request_count(Caller::Cpe)] = requests_of(Caller::Cpe);
        assert_eq!(
            cpe.len(),
            METHODS.iter().filter(|m| m.caller != Caller::Acs).count()
        );
        assert!(cpe.contains(&"GetRPCMethods") && cpe.contains(&"Inform"));
    }
}
