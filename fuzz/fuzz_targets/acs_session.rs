//! The embedded ACS's request path, in process: NUL-separated CPE message bodies go through
//! what the server does with a POST body — the first must be an Inform (recorded in the
//! store, planned by a shipped policy, answered with an InformResponse), the rest drive the
//! session (an empty body is the empty POST, an undecodable one is a malformed message) until
//! it ends and its log is applied to the store. Every envelope the ACS sends must encode to a
//! message a CPE decodes, and any fault it sends must carry a valid ACS FaultCode.
#![no_main]
use cpefleet::acs::policy::PlanContext;
use cpefleet::acs::session::{self, AcsSession, Reply, SessionPlan};
use cpefleet::acs::store::{InformRecord, SessionOutcome};
use cpefleet::acs::{Store, StoreLimits};
use cpefleet::cwmp::{decode_cpe, AcsMessage, CpeMessage, CpeRequest, DecodeError, Envelope};
use libfuzzer_sys::fuzz_target;

const NOW_MS: i64 = 1_764_000_000_000;

fn sent(r: &Reply) {
    if let Reply::Send(env) = r {
        if let AcsMessage::Fault(f) = &env.body {
            cpefleet_fuzz::assert_acs_fault(f);
        }
        cpefleet_fuzz::acs_round_trip(env);
    }
}

fn start(store: &Store, policy: &cpefleet::acs::Policy, first: &[u8]) -> Option<AcsSession> {
    let env: Envelope<CpeMessage> = decode_cpe(first).ok()?;
    let CpeMessage::Request(CpeRequest::Inform(inform)) = env.body else {
        return None;
    };
    if inform.device_id.oui.trim().is_empty() || inform.device_id.serial_number.trim().is_empty() {
        return None;
    }
    let use_version = match session::negotiate(&env.header) {
        Ok(v) => v,
        Err(f) => {
            sent(&Reply::Send(Box::new(session::fault_reply(
                env.version,
                env.header.id.clone(),
                f.code,
            ))));
            return None;
        }
    };
    let version = use_version.unwrap_or(env.version);
    let record = InformRecord::of(&inform, version, NOW_MS, true);
    let (device_id, root) = (record.device_id.clone(), record.root.clone());
    store.record_inform(record);
    let ctx = PlanContext {
        device_id: &device_id,
        device: &inform.device_id,
        events: &inform.events,
        params: &inform.parameter_list,
        root: &root,
        elapsed_s: 30.0,
        file_base_url: "http://127.0.0.1:7557",
    };
    let steps = store.with_device(&device_id, |rec| {
        policy.plan(&ctx, rec, &mut |allowance| {
            store.try_claim_wave_slot(allowance)
        })
    });
    let plan = SessionPlan {
        device_id,
        root,
        steps,
        known: inform.parameter_list.clone(),
    };
    sent(&Reply::Send(Box::new(session::inform_response(
        env.version,
        &env.header,
        use_version,
    ))));
    Some(AcsSession::new(env.version, NOW_MS, plan))
}

fuzz_target!(|data: &[u8]| {
    let policies = cpefleet_fuzz::policies();
    let policy = &policies[cpefleet_fuzz::pick(data, policies.len())];
    let store = Store::new(StoreLimits::default());
    let mut msgs = cpefleet_fuzz::messages(data).take(64);
    let Some(first) = msgs.next() else { return };
    let Some(mut s) = start(&store, policy, first) else {
        return;
    };
    let mut now = NOW_MS;
    for body in msgs {
        now += 10;
        let reply = if body.iter().all(u8::is_ascii_whitespace) {
            s.on_empty(now)
        } else {
            match decode_cpe(body) {
                Ok(env) => s.on_message(env, now),
                Err(DecodeError::UnknownRpc { .. } | DecodeError::Direction { .. }) => {
                    s.on_unknown_request(Some("fuzz".into()), now)
                }
                Err(_) => {
                    s.on_malformed(now);
                    Reply::End(SessionOutcome::Malformed)
                }
            }
        };
        sent(&reply);
        match reply {
            Reply::Send(_) => {}
            Reply::End(outcome) | Reply::Reject { outcome, .. } => {
                let id = s.device_id().to_string();
                store.finish_session(&id, outcome, s.take_log());
                let _ = store.snapshot();
                return;
            }
        }
    }
    s.abandon(now);
    let id = s.device_id().to_string();
    store.finish_session(&id, SessionOutcome::Timeout, s.take_log());
    let _ = store.snapshot();
});
