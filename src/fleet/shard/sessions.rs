//! Sessions: admission under the cap, checking a device out into its session task, and
//! carrying out what the ACS asked for when the device comes back.

use super::*;

impl Shard {
    // === sessions ===

    pub(super) fn admit(&mut self) {
        while self.sessions < self.cap {
            let Some(slot) = self.ready.pop_front() else {
                return;
            };
            if self.slots[slot as usize].state != State::Queued {
                continue;
            }
            self.start_session(slot);
        }
        // Devices still waiting are behind the cap: late (and a live gauge).
        self.stats.record_queued(self.ready.len(), &self.ctx.live);
    }

    pub(super) fn session_config(&mut self, slot: u32) -> SessionConfig {
        let g = &self.ctx.groups[self.slots[slot as usize].group as usize];
        let version = g.version;
        let (g_reset, g_slow, g_wan) = (g.reset_rate, g.slow_body_rate, g.wan);
        let (user_pat, pass_pat) = (g.username.clone(), g.password.clone());
        let [user_path, pass_path] = g.credential_paths.clone();
        let index = self.index_of(slot);
        // ManagementServer.Username/Password: a value the ACS wrote wins (as on a real CPE);
        // then the one configured precedence, flag > group > scenario acs.* > template (the
        // flags were folded into the group and acs.* values when the scenario was loaded).
        let (written, template, serial) = self.with_view(slot, |v| {
            let tpl = |p: &str| v.get(p).map(|x| x.value).filter(|x| !x.is_empty());
            (
                (v.written(&user_path), v.written(&pass_path)),
                (tpl(&user_path), tpl(&pass_path)),
                v.serial_number(),
            )
        });
        // The whole DeviceId only when a pattern asks for more than the serial number.
        let needs_id = [&user_pat, &pass_pat]
            .into_iter()
            .flatten()
            .any(|p| p.contains("{oui}") || p.contains("{product_class}"))
            || self.ctx.client_cert_pattern.is_some();
        let id = needs_id.then(|| self.with_view(slot, |v| v.device_id()));
        let expand = |pat: &str| {
            pat.replace("{index}", &index.to_string())
                .replace("{serial}", &serial)
                .replace("{oui}", id.as_ref().map_or("", |i| &i.oui))
                .replace(
                    "{product_class}",
                    id.as_ref().map_or("", |i| &i.product_class),
                )
        };
        let username = written
            .0
            .or_else(|| user_pat.as_deref().map(expand))
            .or_else(|| self.ctx.acs_username.clone())
            .or(template.0);
        let password = written
            .1
            .or_else(|| pass_pat.as_deref().map(expand))
            .or_else(|| self.ctx.acs_password.clone())
            .or(template.1);
        let mut cfg = self.ctx.session.clone();
        cfg.version = version;
        cfg.impairments = crate::session::Impairments {
            reset_rate: g_reset,
            slow_body_rate: g_slow,
            // A slow link: 128 bytes every 100 ms (an Inform takes a few seconds to arrive).
            slow_chunk: 128,
            slow_delay: Duration::from_millis(100),
            wan: g_wan,
            acs_outages: self.ctx.session.impairments.acs_outages.clone(),
            // The device's own session ordinal, not the shard's: which other devices ran
            // first must not change this device's dice.
            seed: seed::event(
                self.ctx.seed,
                seed::Stream::Impairments,
                u64::from(index),
                u64::from(self.slots[slot as usize].life.ordinal),
            ),
        };
        cfg.credentials = username.map(|u| (u, password.unwrap_or_default()));
        cfg.id_prefix = format!("{serial}-{}", self.session_seq);
        if let Some((cp, kp)) = &self.ctx.client_cert_pattern {
            let (cert, key) = (expand(cp), expand(kp));
            self.device_tls(&mut cfg, cert, key);
        }
        if !self.ctx.source_addresses.is_empty() {
            let n = self.ctx.source_addresses.len();
            cfg.local_addr = Some(self.ctx.source_addresses[index as usize % n]);
        }
        cfg
    }

    /// The device's own client certificate (mTLS from a path pattern), cached.
    pub(super) fn device_tls(&self, cfg: &mut SessionConfig, cert: String, key: String) {
        let Ok(mut cache) = self.ctx.cert_cache.lock() else {
            return;
        };
        if let Some(c) = cache.get(&cert) {
            cfg.connector.tls = Some(c.clone());
            return;
        }
        match crate::net::tls::client_config(
            &self.ctx.tls_options,
            Some((std::path::Path::new(&cert), std::path::Path::new(&key))),
        ) {
            Ok(c) => {
                if cache.len() >= crate::fleet::CERT_CACHE {
                    cache.clear();
                }
                cache.insert(cert, c.clone());
                cfg.connector.tls = Some(c);
            }
            // The session fails with this (label tls_client_cert) instead of connecting
            // without the device's certificate.
            Err(e) => cfg.connector.tls_error = Some(e.to_string().into()),
        }
    }

    pub(super) fn start_session(&mut self, slot: u32) {
        self.session_seq += 1;
        let life = &mut self.slots[slot as usize].life;
        life.ordinal = life.ordinal.wrapping_add(1);
        let now = self.now_ms();
        let side = self.side.entry(slot).or_default();
        let due_ms = side.due_ms.take().unwrap_or(now);
        let cr_at = side.cr_at.take().map(|at| (at, side.cr_via));
        if let Some((_, via)) = cr_at {
            self.stats.cr_fate.count(via, CrFate::Session);
        }
        let queued_at = side.queued_at.take();
        self.tidy_side(slot);
        // µs precision: the due time is whole ms, the start is not.
        let lag = Instant::now().saturating_duration_since(self.at(due_ms));
        let sim_lag = queued_at.map_or(lag, |q| q.saturating_duration_since(self.at(due_ms)));
        let cfg = self.session_config(slot);
        let index = self.index_of(slot);
        let s = &mut self.slots[slot as usize];
        s.state = State::InSession;
        let g = &self.ctx.groups[s.group as usize];
        let mut cpe = Box::new(Cpe {
            template: g.template.clone(),
            device: std::mem::replace(&mut s.device, Device::with_template(index, g.template_id)),
            life: std::mem::take(&mut s.life),
            seed: self.ctx.seed,
            now: self.ctx.sim_now(),
            cr_url_base: self.ctx.cr_url_base.clone(),
            answer_limit: g.answer_limit,
            effects: Vec::new(),
            faults: Vec::new(),
            cr_router: Some(self.ctx.router.clone()),
            udp_addrs: Some(self.ctx.udp_addrs.clone()),
            events: None,
        });
        // Events count once per session attempt, here where it starts, and they are exactly
        // the Inform's: `session_events` decides them (with `4 VALUE CHANGE` for a pending
        // notified change) and the session's Inform takes that same list. An 8005 re-send is
        // the same Inform in the same attempt (not counted again, as the Inform RPC is not);
        // a retry after a failed session is a new attempt whose Inform carries the undelivered
        // events again (TR-069 §3.2.1.1, §3.7.1.5), and counts again. So with no failed
        // session the fleet's counts equal an ACS's count of the Informs it acknowledged.
        let events = cpe.session_events();
        self.stats.record_start(
            now,
            lag,
            sim_lag,
            events.iter().map(|e| e.code.as_str()),
            &self.ctx.live,
        );
        self.sessions += 1;
        let trace = self.ctx.trace_path(index, self.session_seq);
        let runner = self.ctx.runner.clone();
        self.tasks.spawn(async move {
            let mut cpe = cpe;
            let mut trace = trace.and_then(|p| Trace::create(&p).ok());
            let began = Instant::now();
            let report = Box::new(runner.run(&cfg, cpe.as_mut(), trace.as_mut()).await);
            let ended = Instant::now();
            if let Some(t) = trace {
                t.finish();
            }
            TaskResult::Session {
                slot,
                cpe,
                report,
                due_ms,
                cr_at,
                began,
                ended,
            }
        });
    }

    /// Records a session's end where it ends (no message per session): `due` is its intended
    /// start, `None` when drained.
    pub(super) fn count_outcome(
        &mut self,
        slot: u32,
        cpe: &Cpe,
        report: &SessionReport,
        from_due: Option<Duration>,
        cr_at: Option<(Instant, CrTransport)>,
        began: Instant,
    ) {
        let t = &report.timings;
        // The Inform went out once the connection (and TLS) was up.
        let inform_sent = t.connect.is_some() || report.inform_acknowledged;
        let cr_to_inform = cr_at.filter(|_| inform_sent).map(|(cr, via)| {
            let d = began.saturating_duration_since(cr)
                + t.connect.unwrap_or_default()
                + t.tls.unwrap_or_default();
            (d, via)
        });
        let group = self.slots[slot as usize].group;
        let ctx = self.ctx.clone();
        let end = SessionEnd {
            report,
            group,
            group_name: &ctx.groups[group as usize].name,
            at_ms: self.now_ms(),
            from_due,
            cr_to_inform,
            faults: &cpe.faults,
        };
        self.stats.record_end(&end, &ctx.live);
        // The protocol checks scored on this session's ACS messages (conformance).
        self.stats.checks.add(&report.checks);
    }

    pub(super) fn finished(&mut self, r: TaskResult) {
        match r {
            TaskResult::Session {
                slot,
                cpe,
                report,
                due_ms,
                cr_at,
                began,
                ended,
            } => {
                self.sessions -= 1;
                // From the intended start, or from the start itself when timer slack began
                // the session early: never shorter than the session.
                let from_due = ended.saturating_duration_since(self.at(due_ms).min(began));
                self.count_outcome(slot, &cpe, &report, Some(from_due), cr_at, began);
                self.session_ended(slot, *cpe, &report);
            }
            TaskResult::Transfer { slot, done } => self.transfer_ended(slot, done),
            TaskResult::Du { slot, done } => self.du_fetched(slot, done),
            TaskResult::Measured { slot, done } => self.measured(slot, done),
        }
    }

    /// The device is back from its session: what the session left, then what arrived for it
    /// meanwhile (held messages, handled now that the device is there to take them).
    pub(super) fn session_ended(&mut self, slot: u32, cpe: Cpe, report: &SessionReport) {
        let held = self
            .side
            .get_mut(&slot)
            .map(|side| std::mem::take(&mut side.held_msgs))
            .unwrap_or_default();
        self.device_back(slot, cpe, report);
        for m in held {
            self.message(m);
        }
    }

    fn device_back(&mut self, slot: u32, cpe: Cpe, report: &SessionReport) {
        let ok = report.is_ok();
        let Cpe {
            device,
            mut life,
            effects,
            ..
        } = cpe;
        life.session_ended(ok);
        if let Some(side) = self.side.get_mut(&slot) {
            for e in side.held.drain(..) {
                life.add(e);
            }
        }
        let s = &mut self.slots[slot as usize];
        s.device = device;
        s.life = life;
        s.state = State::Idle;
        if report.inform_acknowledged {
            s.flags |= BOOTSTRAPPED;
        }
        // A STUN binding learnt while the device was out in its session (TR-069 Annex G).
        if let Some((addr, nat)) = self.side.get_mut(&slot).and_then(|x| x.binding.take()) {
            self.with_view(slot, |v| v.stun_binding(addr, nat));
            self.tidy_side(slot);
        }
        let s = &mut self.slots[slot as usize];
        if s.flags & POWER_LOST != 0 {
            s.flags &= !POWER_LOST;
            s.state = State::Off;
            self.ctx.live.online.fetch_sub(1, Ordering::Relaxed);
            return; // the outage's power-on timer brings it back
        }
        let mut rebooting = false;
        for e in effects {
            rebooting |= self.apply_effect(slot, e);
        }
        if rebooting {
            return;
        }
        if !ok {
            self.schedule_retry(slot, report);
            return;
        }
        let s = &self.slots[slot as usize];
        if s.life.has_events() || s.life.has_transfer_complete() || s.device.active_change_pending()
        {
            let now = self.now_ms();
            self.make_due(slot, now);
        } else {
            self.schedule_next(slot);
        }
    }

    /// Carries out what the session left for after it; true when the device reboots.
    fn apply_effect(&mut self, slot: u32, e: Effect) -> bool {
        let index = self.index_of(slot);
        match e {
            Effect::Reboot { command_key } => {
                self.reboot(slot, Some(command_key));
                return true;
            }
            Effect::FactoryReset => {
                self.with_view(slot, |v| v.factory_reset());
                self.ctx.router.reset_credentials(index);
                let s = &mut self.slots[slot as usize];
                s.life.factory_reset();
                s.flags &= !(BOOTSTRAPPED | ACS_SET_PERIODIC);
                self.drop_side(slot);
                self.reboot(slot, None);
                return true;
            }
            Effect::Download(d) => {
                self.hold_timer(slot, u64::from(d.delay_seconds), Pending::Download(d));
            }
            Effect::Upload(u) => {
                self.hold_timer(slot, u64::from(u.delay_seconds), Pending::Upload(u));
            }
            Effect::ScheduleDownload(sd) => self.schedule_download(slot, sd),
            Effect::ScheduleInform {
                delay_seconds,
                command_key,
            } => {
                self.hold_timer(
                    slot,
                    u64::from(delay_seconds),
                    Pending::ScheduleInform(command_key),
                );
            }
            Effect::CancelTransfer { command_key } => self.cancel_transfer(slot, &command_key),
            Effect::PeriodicInformChanged => {
                let s = &mut self.slots[slot as usize];
                s.flags |= ACS_SET_PERIODIC;
                s.periodic_due = u64::MAX;
            }
            Effect::ManagementServerUrlChanged => {
                let s = &mut self.slots[slot as usize];
                s.life.add(EventCode::Bootstrap);
                s.flags &= !BOOTSTRAPPED;
            }
            Effect::ConnectionRequestCredentialsChanged => self.cr_credentials_changed(slot),
            Effect::DiagnosticsRequested { object } => self.diagnostics_requested(slot, object),
            Effect::DiagnosticsCanceled { object } => self.diagnostics_canceled(slot, &object),
            Effect::ChangeDuState(r) => self.start_change_du_state(slot, r),
        }
        false
    }

    /// Drops the held transfers with this command key (CancelTransfer, TR-069 A.4.1.13).
    fn cancel_transfer(&mut self, slot: u32, command_key: &str) {
        if let Some(side) = self.side.get_mut(&slot) {
            side.timers.retain(|(_, p)| match p {
                Pending::Download(d) => d.command_key != command_key,
                Pending::Upload(u) => u.command_key != command_key,
                Pending::Scheduled(s) => s.sd.command_key != command_key,
                _ => true,
            });
        }
    }

    /// Tells the router the connection-request credentials the ACS just set (already told
    /// during the session, see [`Cpe::cr_router`]; again here, where the scheduler has the
    /// device back).
    fn cr_credentials_changed(&mut self, slot: u32) {
        let index = self.index_of(slot);
        let root = self.template(slot).root().to_string();
        let (u, p) = self.with_view(slot, |v| crate::fleet::cpe::cr_credentials(v, &root));
        self.ctx.router.set_credentials(index, u, p);
    }

    /// TR-069 retry (§3.2.1.1): a randomised wait growing with the consecutive failures
    /// (simulated time, scaled), at least what a 503's Retry-After asked for.
    fn schedule_retry(&mut self, slot: u32, report: &SessionReport) {
        let root = self.template(slot).root().to_string();
        let (m, k) = self.with_view(slot, |v| {
            let get = |p: &str| {
                v.get(&format!("{root}ManagementServer.{p}"))
                    .and_then(|x| x.value.parse::<u32>().ok())
            };
            (
                get("CWMPRetryMinimumWaitInterval").unwrap_or(5),
                get("CWMPRetryIntervalMultiplier").unwrap_or(2000),
            )
        });
        let policy = RetryPolicy::new(m, k);
        let retries = u32::from(self.slots[slot as usize].life.retry);
        let index = u64::from(self.index_of(slot));
        let ordinal = u64::from(self.slots[slot as usize].life.ordinal);
        let mut rng = <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(seed::event(
            self.ctx.seed,
            seed::Stream::Retry,
            index,
            ordinal,
        ));
        let sim_wait = Duration::from_millis(policy.wait_ms(retries, &mut rng));
        let mut wait = self.ctx.real(sim_wait);
        // Retry-After is the ACS's wall-clock instruction (RFC 9110 §10.2.3), not a device
        // timer: it is never divided by the time scale.
        if let Some(ra) = report.outcome.as_ref().err().and_then(|e| e.retry_after()) {
            wait = wait.max(ra);
        }
        let at = self.now_ms() + wait.as_millis() as u64;
        self.add_timer(slot, at, Pending::Retry);
    }
}
