//! CWMP requests: a new session from an Inform, the next message of an open one.

use super::*;

pub(super) fn session_cookie(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([';', ',']))
        .filter_map(|kv| kv.trim().strip_prefix("session="))
        .find_map(|v| {
            let v = v.trim();
            (v.len() == 16)
                .then(|| u64::from_str_radix(v, 16).ok())
                .flatten()
        })
}

pub(super) fn is_empty_body(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

/// Short, single-line error text for a 400 body.
pub(super) fn short(e: &DecodeError) -> String {
    let s = e.to_string().replace(['\r', '\n'], " ");
    match s.char_indices().nth(200) {
        Some((i, _)) => s.get(..i).unwrap_or_default().to_string(),
        None => s,
    }
}

/// Counts what the CPE sent.
pub(super) fn count_cpe(store: &Store, msg: &CpeMessage) {
    match msg {
        CpeMessage::Request(r) => {
            store.cpe_request(r.name());
            if let CpeRequest::TransferComplete(tc) = r {
                store.transfer_complete(tc.fault.fault_code);
            }
        }
        CpeMessage::Response(r) => {
            store.response_ok(r.name().strip_suffix("Response").unwrap_or(r.name()));
        }
        CpeMessage::Fault(f) => store.cpe_fault(f.code),
    }
}

/// Encodes an ACS message (echoing the `cwmp-1-3` namespace when the CPE used it) and counts it.
pub(super) fn encode(
    store: &Store,
    env: &Envelope<AcsMessage>,
    ns13: bool,
    bad: Misbehaviour,
) -> Vec<u8> {
    if bad.has(Misbehave::WrongXsiType) {
        if let AcsMessage::Request(crate::cwmp::AcsRequest::SetParameterValues(spv)) = &env.body {
            let mut spv = spv.clone();
            for p in &mut spv.parameter_list {
                p.kind = Some(crate::cwmp::XsdType::String);
            }
            let env = Envelope::new(
                env.version,
                env.header.clone(),
                AcsMessage::Request(crate::cwmp::AcsRequest::SetParameterValues(spv)),
            );
            return encode(store, &env, ns13, Misbehaviour::default());
        }
    }
    match &env.body {
        AcsMessage::Request(r) => store.rpc_sent(r.name()),
        AcsMessage::Fault(f) => store.acs_fault(f.code),
        AcsMessage::Response(_) => {}
    }
    let mut out = Vec::with_capacity(640);
    encode_acs(env, &mut out);
    if ns13 {
        const FROM: &[u8] = b"urn:dslforum-org:cwmp-1-2\"";
        if let Some(i) = out.windows(FROM.len()).position(|w| w == FROM) {
            if let Some(b) = out.get_mut(i + FROM.len() - 2) {
                *b = b'3';
            }
        }
    }
    if bad.has(Misbehave::WrongNamespace) {
        const NS: &[u8] = b"urn:dslforum-org:cwmp-1-";
        if let Some(i) = out.windows(NS.len()).position(|w| w == NS) {
            if let Some(b) = out.get_mut(i + NS.len()) {
                *b = b'0';
            }
        }
    }
    if bad.has(Misbehave::NoParameterKey) && contains(&out, b"SetParameterValues>") {
        if let (Some(a), Some(z)) = (
            out.windows(13).position(|w| w == b"<ParameterKey"),
            out.windows(15).position(|w| w == b"</ParameterKey>"),
        ) {
            if a < z {
                out.drain(a..z + 15);
            }
        } else if let Some(a) = out.windows(15).position(|w| w == b"<ParameterKey/>") {
            out.drain(a..a + 15);
        }
    }
    out
}

pub(super) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The text of the first `...:ID>` element, for faulting a request the codec cannot decode.
pub(super) fn sniff_id(body: &[u8]) -> Option<String> {
    let start = body.windows(3).position(|w| w == b":ID")? + 3;
    let rest = body.get(start..)?;
    let gt = rest.iter().position(|&c| c == b'>')?;
    let text = rest.get(gt + 1..)?;
    let end = text.iter().position(|&c| c == b'<')?;
    let id = std::str::from_utf8(text.get(..end)?).ok()?;
    (id.len() <= 64).then(|| id.to_string())
}

pub(super) enum Answer {
    Reply(Reply),
    Malformed(String),
    Version,
}

pub(super) fn in_session(shared: &Shared, cookie: u64, now: Instant, body: &[u8]) -> Resp {
    let store = &*shared.store;
    let now_ms = unix_ms();
    let decoded = if is_empty_body(body) {
        None
    } else {
        Some(decode_cpe(body))
    };
    if let Some(Ok(env)) = &decoded {
        count_cpe(store, &env.body);
    }
    let stepped = shared.sessions.step(cookie, now, |e| {
        let answer = match decoded {
            None => Answer::Reply(e.session.on_empty(now_ms)),
            Some(Ok(env)) => Answer::Reply(e.session.on_message(env, now_ms)),
            Some(Err(DecodeError::UnknownRpc { .. } | DecodeError::Direction { .. })) => {
                Answer::Reply(e.session.on_unknown_request(sniff_id(body), now_ms))
            }
            Some(Err(DecodeError::Version { .. })) => {
                e.session.on_malformed(now_ms);
                Answer::Version
            }
            Some(Err(err)) => {
                e.session.on_malformed(now_ms);
                Answer::Malformed(short(&err))
            }
        };
        (answer, e.ns13)
    });
    let Some(((answer, ns13), removed)) = stepped else {
        // Expired between the check and now.
        store.rejected("invalid_session");
        return bad_request("Invalid session");
    };
    let (resp, outcome) = match answer {
        Answer::Reply(Reply::Send(env)) => (
            soap(
                encode(store, &env, ns13, shared.bad),
                shared
                    .bad
                    .has(Misbehave::ChangeCookie)
                    .then_some(cookie ^ 1),
                false,
            ),
            None,
        ),
        Answer::Reply(Reply::End(o)) if shared.bad.has(Misbehave::EndWith200Body) => {
            (plain(StatusCode::OK, "session over"), Some(o))
        }
        Answer::Reply(Reply::End(o)) => (end_of_session(), Some(o)),
        Answer::Reply(Reply::Reject { text, outcome }) => {
            store.rejected("bad_session_state");
            (bad_request(text), Some(outcome))
        }
        Answer::Malformed(text) => {
            store.rejected("malformed");
            (bad_request(&text), Some(SessionOutcome::Malformed))
        }
        Answer::Version => {
            store.rejected("unrecognized_version");
            (
                bad_request("Unrecognized CWMP version"),
                Some(SessionOutcome::Malformed),
            )
        }
    };
    if let Some(e) = removed {
        finish(shared, e, outcome.unwrap_or(SessionOutcome::Completed));
    }
    resp
}

/// A request outside any session: only an Inform opens one. The caller holds a reservation
/// that this either turns into a session or releases.
pub(super) fn new_session(shared: &Shared, now: Instant, host: Option<&str>, body: &[u8]) -> Resp {
    let store = &*shared.store;
    let (version, header, inform) = match accept_inform(store, body) {
        Ok(x) => x,
        Err((reason, r)) => {
            shared.sessions.release();
            store.rejected(reason);
            return *r;
        }
    };
    let ns13 = version == CwmpVersion::V1_3 && contains(body, b"urn:dslforum-org:cwmp-1-3");
    let use_version = match session::negotiate(&header) {
        Ok(v) => v,
        Err(fault) => {
            shared.sessions.release();
            store.session_started();
            store.session_ended(SessionOutcome::VersionMismatch);
            let env = session::fault_reply(version, header.id.clone(), fault.code);
            return soap(encode(store, &env, ns13, shared.bad), None, true);
        }
    };
    // The InformResponse goes out below: the Inform's events are delivered (TR-069 §3.7.1.5).
    store.inform_accepted(inform.events.iter().map(|e| e.code.as_str()));
    let now_ms = unix_ms();
    let plan = match &shared.policy {
        // The null policy plans nothing but still records the device, so that
        // /status/devices/<id> answers under every policy.
        Policy::Null => {
            record_inform(shared, &inform, use_version.unwrap_or(version), now_ms);
            SessionPlan::default()
        }
        p => plan_session(
            shared,
            p,
            host,
            &inform,
            use_version.unwrap_or(version),
            now_ms,
        ),
    };
    let mut session = AcsSession::new(version, now_ms, plan);
    session.set_misbehaviour(shared.bad);
    let mut response = session::inform_response(version, &header, use_version);
    if shared.bad.has(Misbehave::WrongId) {
        response.header.id = Some(format!("{}x", response.header.id.unwrap_or_default()));
    }
    if shared.bad.has(Misbehave::MaxEnvelopes2) {
        response.body = AcsMessage::Response(crate::cwmp::AcsResponse::InformResponse(
            crate::cwmp::InformResponse { max_envelopes: 2 },
        ));
    }
    let out = encode(store, &response, ns13, shared.bad);
    let timeout = header.session_timeout.map_or(shared.session_timeout, |s| {
        Duration::from_secs(u64::from(s).clamp(MIN_CPE_TIMEOUT_S, MAX_CPE_TIMEOUT_S))
    });
    let cookie = shared.sessions.insert(Entry {
        session,
        last_seen: now,
        ns13,
        timeout,
    });
    store.session_started();
    soap(out, Some(cookie), false)
}

/// What a session's first POST must be: a decodable Inform of a known CWMP version with a
/// usable DeviceId. Else the rejection's label and the 400 to send.
fn accept_inform(
    store: &Store,
    body: &[u8],
) -> Result<(CwmpVersion, crate::cwmp::Header, crate::cwmp::Inform), (&'static str, Box<Resp>)> {
    if is_empty_body(body) {
        return refused("invalid_session", bad_request("Invalid session"));
    }
    let env = match decode_cpe(body) {
        Ok(env) => env,
        Err(DecodeError::Version { .. }) => {
            return refused(
                "unrecognized_version",
                bad_request("Unrecognized CWMP version"),
            )
        }
        Err(e @ DecodeError::Xml { .. }) => return refused("malformed", bad_request(&short(&e))),
        Err(e) if e.path().contains("Body/Inform") => {
            // An Inform outside any cwmp namespace is a version GenieACS does not recognise
            // either; anything else wrong inside an Inform is a bad Inform.
            if matches!(e, DecodeError::Envelope { .. }) && e.path().ends_with("Body/Inform") {
                return refused(
                    "unrecognized_version",
                    bad_request("Unrecognized CWMP version"),
                );
            }
            let reason = if e.path().contains("DeviceId") {
                "missing_device_id"
            } else {
                "malformed"
            };
            return refused(reason, bad_request(&short(&e)));
        }
        Err(_) => return refused("invalid_session", bad_request("Invalid session")),
    };
    let Envelope {
        version,
        header,
        body: msg,
    } = env;
    let CpeMessage::Request(CpeRequest::Inform(inform)) = msg else {
        return refused("invalid_session", bad_request("Invalid session"));
    };
    store.cpe_request("Inform");
    // Never published by the BBF; GenieACS rejects it too (1.4 uses cwmp-1-2).
    if contains(body, b"urn:dslforum-org:cwmp-1-4\"")
        || contains(body, b"urn:dslforum-org:cwmp-1-4'")
    {
        return refused(
            "unrecognized_version",
            bad_request("Unrecognized CWMP version"),
        );
    }
    if inform.device_id.oui.trim().is_empty() || inform.device_id.serial_number.trim().is_empty() {
        return refused(
            "missing_device_id",
            bad_request("Invalid DeviceId: OUI and SerialNumber are required"),
        );
    }
    // The DeviceId becomes the device's key and record: bounded as the schema bounds it, or one
    // CPE with a 4 MB SerialNumber per Inform grows the ACS by megabytes each time.
    if let Some(problem) = crate::acs::store::device_id_problem(&inform.device_id) {
        return refused("device_id_too_long", bad_request(problem));
    }
    Ok((version, header, inform))
}

/// A rejected first POST: the rejection's label and the answer.
fn refused<T>(reason: &'static str, r: Resp) -> Result<T, (&'static str, Box<Resp>)> {
    Err((reason, Box::new(r)))
}

/// Records an Inform in the status store (every policy); returns the device id and the data
/// model root.
pub(super) fn record_inform(
    shared: &Shared,
    inform: &crate::cwmp::Inform,
    version: CwmpVersion,
    now_ms: i64,
) -> (String, String) {
    let ignore_values = shared.bad.has(Misbehave::IgnoreValueChange)
        && inform
            .events
            .iter()
            .any(|e| e.code.as_str() == "4 VALUE CHANGE");
    let record = InformRecord::of(inform, version, now_ms, !ignore_values);
    let ids = (record.device_id.clone(), record.root.clone());
    shared.store.record_inform(record);
    ids
}

/// Asks the policy for this session's steps (after recording the Inform).
pub(super) fn plan_session(
    shared: &Shared,
    policy: &Policy,
    host: Option<&str>,
    inform: &crate::cwmp::Inform,
    version: CwmpVersion,
    now_ms: i64,
) -> SessionPlan {
    let store = &*shared.store;
    let (device_id, root) = record_inform(shared, inform, version, now_ms);
    let file_base_url = file_base_url(host, shared.fs_addr);
    let ctx = PlanContext {
        device_id: &device_id,
        device: &inform.device_id,
        events: &inform.events,
        params: &inform.parameter_list,
        root: &root,
        elapsed_s: shared.started.elapsed().as_secs_f64(),
        file_base_url: &file_base_url,
    };
    let mut steps = store.with_device(&device_id, |rec| {
        policy.plan(&ctx, rec, &mut |allowance| {
            store.try_claim_wave_slot(allowance)
        })
    });
    let queued = shared.nbi.lock().ok().and_then(|mut m| {
        if shared.bad.has(Misbehave::RepeatTasks) {
            m.get(&device_id).cloned()
        } else {
            m.remove(&device_id)
        }
    });
    for request in queued.unwrap_or_default() {
        steps.push(super::session::Step::Rpc(super::session::PlannedRpc {
            task: "nbi".into(),
            request,
            firmware: false,
        }));
    }
    SessionPlan {
        device_id,
        root,
        steps,
        known: inform.parameter_list.clone(),
    }
}

/// `http://<the host the CPE used>:<file server port>`, like GenieACS builds Download URLs.
pub(super) fn file_base_url(host: Option<&str>, fs: SocketAddr) -> String {
    let host = host.map(str::trim).filter(|h| !h.is_empty());
    let name = match host {
        Some(h) if h.starts_with('[') => h.split_inclusive(']').next().unwrap_or(h).to_string(),
        Some(h) => h.split(':').next().unwrap_or(h).to_string(),
        None => match reachable(fs).ip() {
            IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        },
    };
    format!("http://{name}:{}", fs.port())
}
