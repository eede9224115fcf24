//! The CPE's own requests before its empty POST (state 1): the completion reports TR-069
//! Amendment 3+ requires every ACS to answer (Table 5: TransferComplete,
//! AutonomousTransferComplete, DUStateChangeComplete, AutonomousDUStateChangeComplete) and
//! GetRPCMethods; anything else is fault 8000 (method not supported, A.5).

use super::*;
use crate::acs::store::DuResult;
use crate::cwmp::OpResultStruct;

impl AcsSession {
    pub(super) fn cpe_request(&mut self, id: Option<String>, req: CpeRequest) -> Reply {
        let reject_tc = self.misbehaviour.has(Misbehave::RejectTransferComplete);
        let reject_du = self
            .misbehaviour
            .has(Misbehave::RejectDuStateChangeComplete);
        match req {
            CpeRequest::Inform(_) => self.bad_state(),
            CpeRequest::TransferComplete(_) | CpeRequest::AutonomousTransferComplete(_)
                if reject_tc =>
            {
                Reply::Send(Box::new(fault_reply(self.version, id, 8000)))
            }
            CpeRequest::DUStateChangeComplete(_)
            | CpeRequest::AutonomousDUStateChangeComplete(_)
                if reject_du =>
            {
                Reply::Send(Box::new(fault_reply(self.version, id, 8000)))
            }
            CpeRequest::TransferComplete(tc) => {
                self.log.transfers.push(TransferResult {
                    command_key: tc.command_key,
                    fault_code: tc.fault.fault_code,
                    fault_string: tc.fault.fault_string,
                    start_time: tc.start_time.format(),
                    complete_time: tc.complete_time.format(),
                    at_ms: self.now_ms,
                });
                self.reply(id, AcsResponse::TransferCompleteResponse)
            }
            CpeRequest::AutonomousTransferComplete(tc) => {
                // No CommandKey: the ACS did not ask for it (A.3.3.3); kept under the URL.
                self.log.transfers.push(TransferResult {
                    command_key: format!("autonomous {}", tc.transfer_url),
                    fault_code: tc.fault.fault_code,
                    fault_string: tc.fault.fault_string,
                    start_time: tc.start_time.format(),
                    complete_time: tc.complete_time.format(),
                    at_ms: self.now_ms,
                });
                self.reply(id, AcsResponse::AutonomousTransferCompleteResponse)
            }
            CpeRequest::DUStateChangeComplete(d) => {
                self.log_du(&d.command_key, &d.results, false);
                self.reply(id, AcsResponse::DUStateChangeCompleteResponse)
            }
            CpeRequest::AutonomousDUStateChangeComplete(d) => {
                self.log_du("", &d.results, true);
                self.reply(id, AcsResponse::AutonomousDUStateChangeCompleteResponse)
            }
            CpeRequest::GetRPCMethods => {
                let n = if self.misbehaviour.has(Misbehave::RpcMethodsIncomplete) {
                    1
                } else {
                    ACS_METHODS.len()
                };
                let method_list = ACS_METHODS
                    .iter()
                    .filter(|(_, v)| *v <= self.version)
                    .take(n)
                    .map(|(m, _)| m.to_string())
                    .collect();
                self.reply(
                    id,
                    AcsResponse::GetRPCMethodsResponse(GetRPCMethodsResponse { method_list }),
                )
            }
            _ => Reply::Send(Box::new(fault_reply(self.version, id, 8000))),
        }
    }

    /// Each operation's outcome, for the device's record.
    fn log_du(&mut self, command_key: &str, results: &[OpResultStruct], autonomous: bool) {
        for r in results {
            self.log.du_changes.push(DuResult {
                command_key: command_key.to_string(),
                autonomous,
                operation: r.operation_performed.clone(),
                uuid: r.uuid.clone(),
                version: r.version.clone(),
                state: r.current_state.clone(),
                fault_code: r.fault.fault_code,
                at_ms: self.now_ms,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpe(id: &str, body: CpeMessage) -> Envelope<CpeMessage> {
        Envelope::new(CwmpVersion::V1_2, Header::with_id(id), body)
    }

    fn sent(r: &Reply) -> (&str, &AcsMessage) {
        match r {
            Reply::Send(env) => (env.header.id.as_deref().unwrap_or(""), &env.body),
            other => panic!("expected a message, got {other:?}"),
        }
    }

    #[test]
    fn du_completion_reports_are_answered_and_kept() {
        use crate::cwmp::{
            AutonomousDUStateChangeComplete, DUStateChangeComplete, TransferCompleteFaultStruct,
        };
        let op = |state: &str, code: u32, performed: Option<&str>| OpResultStruct {
            uuid: "6ba7b810-9dad-51d1-80b4-00c04fd430c8".into(),
            version: "1.0".into(),
            current_state: state.into(),
            fault: TransferCompleteFaultStruct {
                fault_code: code,
                fault_string: String::new(),
            },
            operation_performed: performed.map(str::to_string),
            ..OpResultStruct::default()
        };
        let mut s = AcsSession::new(CwmpVersion::V1_2, 5, SessionPlan::default());
        let d = DUStateChangeComplete {
            results: vec![op("Installed", 0, None), op("Failed", 9016, None)],
            command_key: "cdu".into(),
        };
        let r = s.on_message(
            cpe(
                "c1",
                CpeMessage::Request(CpeRequest::DUStateChangeComplete(d)),
            ),
            6,
        );
        assert!(matches!(
            sent(&r),
            (
                "c1",
                AcsMessage::Response(AcsResponse::DUStateChangeCompleteResponse)
            )
        ));
        let a = AutonomousDUStateChangeComplete {
            results: vec![op("Uninstalled", 0, Some("Uninstall"))],
        };
        let r = s.on_message(
            cpe(
                "c2",
                CpeMessage::Request(CpeRequest::AutonomousDUStateChangeComplete(a.clone())),
            ),
            7,
        );
        assert!(matches!(
            sent(&r),
            (
                "c2",
                AcsMessage::Response(AcsResponse::AutonomousDUStateChangeCompleteResponse)
            )
        ));
        assert_eq!(s.on_empty(8), Reply::End(SessionOutcome::Completed));
        let log = s.take_log();
        let kept: Vec<(&str, bool, u32, Option<&str>)> = log
            .du_changes
            .iter()
            .map(|d| {
                (
                    d.command_key.as_str(),
                    d.autonomous,
                    d.fault_code,
                    d.operation.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            kept,
            vec![
                ("cdu", false, 0, None),
                ("cdu", false, 9016, None),
                ("", true, 0, Some("Uninstall"))
            ]
        );
        // The deliberate bug faults both.
        let mut s = AcsSession::new(CwmpVersion::V1_2, 5, SessionPlan::default());
        s.set_misbehaviour(Misbehaviour::of(&[Misbehave::RejectDuStateChangeComplete]));
        let r = s.on_message(
            cpe(
                "c3",
                CpeMessage::Request(CpeRequest::AutonomousDUStateChangeComplete(a)),
            ),
            6,
        );
        assert!(matches!(sent(&r), ("c3", AcsMessage::Fault(f)) if f.code == 8000));
    }
}
