//! Deliberately wrong ACS behaviour, one switch per conformance check or case, so a test can
//! show each conformance case failing against the ACS bug it is meant to catch (no case passes
//! vacuously). Off unless a policy lists them under `misbehave:`.

use serde::Deserialize;

/// One deliberate bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Misbehave {
    /// InformResponse with another cwmp:ID than the Inform's.
    WrongId,
    /// InformResponse MaxEnvelopes = 2.
    MaxEnvelopes2,
    /// Every message in the cwmp-1-0 namespace whatever the session's version.
    WrongNamespace,
    /// SetParameterValues without its ParameterKey element.
    NoParameterKey,
    /// SetParameterValues values typed xsd:string whatever the device reported.
    WrongXsiType,
    /// The session ends with "200 OK" and a text body instead of 204.
    EndWith200Body,
    /// A fresh session cookie on every answer.
    ChangeCookie,
    /// TransferComplete answered with fault 8000.
    RejectTransferComplete,
    /// 503 without Retry-After.
    NoRetryAfter,
    /// No authentication asked although credentials are configured.
    NoAuth,
    /// Sessions with `0 BOOTSTRAP` are not provisioned.
    IgnoreBootstrap,
    /// A device already known is not provisioned again on `0 BOOTSTRAP` (after a reset).
    IgnoreRebootstrap,
    /// Values an Inform reports with `4 VALUE CHANGE` are not recorded.
    IgnoreValueChange,
    /// The NBI's `?connection_request` queues the task but sends no connection request.
    NoConnectionRequest,
    /// The NBI's connection request goes over HTTP although the device reported a
    /// ConnReqJabberID the ACS can reach (TR-069 Annex K).
    HttpInsteadOfXmpp,
    /// XMPP connection requests carry a wrong password (Annex K: the device must refuse them).
    XmppWrongPassword,
    /// NBI tasks stay queued after they were sent (sent again in every session).
    RepeatTasks,
    /// A request the CPE faulted is sent again (three times).
    RetryFaulted,
    /// AddObject/DeleteObject ObjectName without its trailing dot.
    ObjectNameWithoutDot,
    /// ScheduleInform with DelaySeconds 0.
    ScheduleInformZeroDelay,
    /// GetRPCMethodsResponse listing only Inform.
    RpcMethodsIncomplete,
    /// A CPE request answered with an ACS request (GetRPCMethods) instead of its response, before
    /// the CPE's empty POST (TR-069 §3.7.1.4 forbids it unless the ACS set HoldRequests).
    RpcBeforeEmptyPost,
    /// DUStateChangeComplete and AutonomousDUStateChangeComplete answered with fault 8000.
    RejectDuStateChangeComplete,
    /// ScheduleDownload's second time window starts before the first ends (TR-069 A.4.1.8
    /// forbids overlapping windows).
    OverlappingWindows,
    /// SetParameterValues from the NBI sent one parameter per request, in name order, so a
    /// diagnostic's `DiagnosticsState` goes before the inputs it must come with (TR-181).
    OneParameterPerSpv,
    /// UDP connection requests signed with a wrong key (TR-069 Annex G: the CPE ignores them).
    UdpBadSignature,
}

impl Misbehave {
    pub const ALL: [Misbehave; 26] = [
        Misbehave::WrongId,
        Misbehave::MaxEnvelopes2,
        Misbehave::WrongNamespace,
        Misbehave::NoParameterKey,
        Misbehave::WrongXsiType,
        Misbehave::EndWith200Body,
        Misbehave::ChangeCookie,
        Misbehave::RejectTransferComplete,
        Misbehave::NoRetryAfter,
        Misbehave::NoAuth,
        Misbehave::IgnoreBootstrap,
        Misbehave::IgnoreRebootstrap,
        Misbehave::IgnoreValueChange,
        Misbehave::NoConnectionRequest,
        Misbehave::RepeatTasks,
        Misbehave::RetryFaulted,
        Misbehave::ObjectNameWithoutDot,
        Misbehave::ScheduleInformZeroDelay,
        Misbehave::RpcMethodsIncomplete,
        Misbehave::RpcBeforeEmptyPost,
        Misbehave::RejectDuStateChangeComplete,
        Misbehave::OverlappingWindows,
        Misbehave::OneParameterPerSpv,
        Misbehave::UdpBadSignature,
        Misbehave::HttpInsteadOfXmpp,
        Misbehave::XmppWrongPassword,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Misbehave::WrongId => "wrong_id",
            Misbehave::MaxEnvelopes2 => "max_envelopes2",
            Misbehave::WrongNamespace => "wrong_namespace",
            Misbehave::NoParameterKey => "no_parameter_key",
            Misbehave::WrongXsiType => "wrong_xsi_type",
            Misbehave::EndWith200Body => "end_with200_body",
            Misbehave::ChangeCookie => "change_cookie",
            Misbehave::RejectTransferComplete => "reject_transfer_complete",
            Misbehave::NoRetryAfter => "no_retry_after",
            Misbehave::NoAuth => "no_auth",
            Misbehave::IgnoreBootstrap => "ignore_bootstrap",
            Misbehave::IgnoreRebootstrap => "ignore_rebootstrap",
            Misbehave::IgnoreValueChange => "ignore_value_change",
            Misbehave::NoConnectionRequest => "no_connection_request",
            Misbehave::RepeatTasks => "repeat_tasks",
            Misbehave::RetryFaulted => "retry_faulted",
            Misbehave::ObjectNameWithoutDot => "object_name_without_dot",
            Misbehave::ScheduleInformZeroDelay => "schedule_inform_zero_delay",
            Misbehave::RpcMethodsIncomplete => "rpc_methods_incomplete",
            Misbehave::RpcBeforeEmptyPost => "rpc_before_empty_post",
            Misbehave::RejectDuStateChangeComplete => "reject_du_state_change_complete",
            Misbehave::OverlappingWindows => "overlapping_windows",
            Misbehave::OneParameterPerSpv => "one_parameter_per_spv",
            Misbehave::UdpBadSignature => "udp_bad_signature",
            Misbehave::HttpInsteadOfXmpp => "http_instead_of_xmpp",
            Misbehave::XmppWrongPassword => "xmpp_wrong_password",
        }
    }
}

/// The set of switches on (a bitset: copied into every session for free).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Misbehaviour(u32);

impl Misbehaviour {
    pub fn of(list: &[Misbehave]) -> Self {
        Misbehaviour(list.iter().fold(0, |a, m| a | 1 << (*m as u32)))
    }
    pub fn has(self, m: Misbehave) -> bool {
        self.0 & (1 << (m as u32)) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_through_yaml() {
        for m in Misbehave::ALL {
            let parsed: Misbehave = serde_yaml::from_str(m.label()).unwrap();
            assert_eq!(parsed, m);
            let set = Misbehaviour::of(&[m]);
            assert!(set.has(m));
            assert_eq!(Misbehave::ALL.iter().filter(|x| set.has(**x)).count(), 1);
        }
    }
}
