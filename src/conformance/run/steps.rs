//! A case's steps: Informs, sessions, and what the device does after them.

use super::*;

impl Run<'_> {
    /// The device's id as GenieACS (and the embedded ACS) forms it.
    pub(super) fn device_id(&self) -> String {
        self.dev
            .cpe
            .with_view_ref(|v| crate::acs::policy::device_id(&v.device_id()))
    }

    pub(super) fn nbi(&self) -> String {
        self.opts
            .nbi_url
            .clone()
            .unwrap_or_else(|| self.opts.acs_url.clone())
    }

    pub(super) fn expand(&self, s: &str) -> String {
        let mut out = s.to_string();
        let id = self.device_id();
        let nbi = self.nbi();
        out = out
            .replace("{serial}", &self.dev.serial)
            .replace("{device_id}", &id.replace('%', "%25"))
            .replace("{acs}", &self.opts.acs_url)
            .replace("{nbi}", &nbi);
        for (k, v) in &self.captured {
            out = out.replace(&format!("{{captured.{k}}}"), v);
        }
        out
    }

    /// Long (over 80 lines): one arm per case step kind.
    pub(super) async fn step(&mut self, step: &Step) -> Result<(), String> {
        // An NBI call in flight is answered once the connection request's session has run;
        // any other step than that session waits for its answer first.
        if !matches!(step, Step::ExpectConnectionRequest(_)) {
            self.join_pending().await?;
        }
        match step {
            Step::Inform(i) => self.inform(i).await,
            Step::Expect(e) => self.expect(e).await,
            Step::Answer(a) => {
                self.dev.rules.push(Rule {
                    step: a.clone(),
                    left: a.times,
                });
                Ok(())
            }
            Step::SetLocal(s) => {
                let value = self.expand(&s.value);
                let path = self.expand(&s.path);
                self.dev
                    .cpe
                    .with_view(|v| v.set_local(&path, &value))
                    .map(|_| ())
                    .map_err(|f| format!("set_local {path}: fault {}", f.code))
            }
            Step::Http(h) => self.http(h).await,
            Step::ExpectConnectionRequest(w) => {
                self.wait_connection_request(w).await?;
                self.dev.cpe.life.add(EventCode::ConnectionRequest);
                self.session(None, None, "ok", None).await?;
                self.join_pending().await
            }
            Step::ExpectAcsValue(a) => {
                let (path, want) = (self.expand(&a.path), self.expand(&a.value));
                let (acs, nbi, id) = (self.opts.acs_url.clone(), self.nbi(), self.device_id());
                // The record may lag the session that changed it (RECORD_WAIT says why):
                // read again for a bounded while before the step fails.
                let profile = &self.opts.profile;
                let record = until_recorded(
                    || profile.device_record(&acs, &nbi, &id, &path),
                    |r| r.as_ref().map_or(true, |r| r.contains(&want)),
                )
                .await?;
                if record.contains(&want) {
                    Ok(())
                } else {
                    Err(format!(
                        "the ACS's record of {id} does not show {path} = {want:?} \
                         (read again for {} s)",
                        RECORD_WAIT.as_secs()
                    ))
                }
            }
            Step::PutFile(f) => {
                let nbi = self.nbi();
                let name = self.expand(&f.name);
                self.opts
                    .profile
                    .put_file(&nbi, &name, &f.file_type, f.size)
                    .await?;
                self.files.push(name);
                Ok(())
            }
            Step::DuChange(c) => self.du_change(&c.url).await,
            Step::StunBinding => self.stun_binding().await,
            Step::Reboot => {
                self.dev.cpe.life = Life::known_boot();
                self.dev.cpe.device.set_boot_time(now());
                self.session(None, None, "ok", None).await
            }
            Step::FactoryReset => {
                self.dev.cpe.with_view(|v| v.factory_reset());
                self.dev.cpe.life = Life::first_boot();
                self.session(None, None, "ok", None).await
            }
            Step::CpeRequest(_) => {
                self.dev.queued.push(CpeRequest::GetRPCMethods);
                Ok(())
            }
            Step::ExpectAuth(scheme) => match self.last_auth {
                Some(s) if s.eq_ignore_ascii_case(scheme) => Ok(()),
                Some(s) => Err(format!("the ACS challenged with {s}, expected {scheme}")),
                None => Err(format!(
                    "the ACS did not challenge the device (expected {scheme})"
                )),
            },
            Step::Overload(o) => {
                let n = o
                    .sessions
                    .or(self.opts.profile.session_cap)
                    .ok_or("overload: no session count and no known session cap of the ACS")?;
                self.overload(n).await
            }
            Step::Release => {
                self.release().await;
                Ok(())
            }
            Step::Sleep(d) => {
                tokio::time::sleep(d.0).await;
                Ok(())
            }
        }
    }

    /// Waits for a connection request over the step's transport.
    async fn wait_connection_request(&mut self, w: &WaitStep) -> Result<(), String> {
        let within = w.within.0;
        let (wake, what) = match w.transport.unwrap_or_default() {
            CrTransport::Http => (self.cr.clone(), "connection request"),
            CrTransport::Udp => match &self.udp {
                Some(u) => (u.wake.clone(), "valid UDP connection request"),
                None => return Err("transport: udp needs a stun_binding step first".into()),
            },
            CrTransport::Xmpp => match &self.xmpp {
                Some(x) => (x.wake.clone(), "XMPP connection request"),
                None => return Err("transport: xmpp needs a case that requires xmpp".into()),
            },
        };
        if tokio::time::timeout(within, wake.notified()).await.is_ok() {
            return Ok(());
        }
        let mut got = self
            .udp
            .as_ref()
            .map_or(String::new(), |u| format!(" (UDP socket: {})", u.summary()));
        if let Some(x) = &self.xmpp {
            if let Some(why) = x.refusals().await {
                got = format!(": its XMPP {why}");
            }
        }
        Err(format!("no {what} from the ACS within {within:?}{got}"))
    }

    pub(super) async fn inform(&mut self, i: &InformStep) -> Result<(), String> {
        let events = i.events.as_ref().map(|e| {
            e.iter()
                .map(|s| EventCode::parse(&self.expand(s)))
                .collect::<Vec<_>>()
        });
        self.session(
            events,
            i.cwmp_version,
            i.outcome.as_deref().unwrap_or("ok"),
            i.retry_after,
        )
        .await
    }

    /// One session; `events` replace the pending single events.
    pub(super) async fn session(
        &mut self,
        events: Option<Vec<EventCode>>,
        version: Option<CwmpVersion>,
        outcome: &str,
        retry_after: Option<bool>,
    ) -> Result<(), String> {
        if let Some(ev) = events {
            let life = &mut self.dev.cpe.life;
            life.events = Default::default();
            for e in ev {
                if e.as_str().starts_with("M ") {
                    life.add_keyed(e, "");
                } else {
                    life.add(e);
                }
            }
        } else if !self.dev.cpe.life.has_events() {
            self.dev.cpe.life.add(EventCode::Periodic);
        }
        if let Some(end) = self.last_end {
            tokio::time::sleep_until(end + self.opts.session_gap).await;
        }
        // A ScheduleDownload whose window opened meanwhile is done before the device informs.
        self.scheduled_due().await;
        if !self.window_open {
            self.window = self.dev.session + 1;
            self.window_open = true;
        }
        self.dev.session += 1;
        self.dev.cpe.now = now();
        let cfg = SessionConfig {
            acs: Endpoint::parse(&self.opts.acs_url).map_err(|e| format!("ACS URL: {e}"))?,
            connector: self.connector.clone(),
            local_addr: None,
            credentials: self.credentials.clone(),
            version: version.unwrap_or(self.version),
            exchange_timeout: self.opts.exchange_timeout,
            session_timeout: Duration::from_secs(120),
            max_body: 4 * 1024 * 1024,
            max_exchanges: 5_000,
            user_agent: concat!("cpefleet-conformance/", env!("CARGO_PKG_VERSION")).to_string(),
            id_prefix: format!("{}-{}", self.dev.serial, self.dev.session),
            impairments: Default::default(),
        };
        let report = session::run(&cfg, &mut self.dev, None).await;
        self.last_end = Some(Instant::now());
        if let Some(x) = &self.xmpp {
            // An XMPP connection request must carry what the session may have set (Annex K).
            let (u, p) = cr_credentials(&mut self.dev.cpe);
            x.set_credentials(u, p);
        }
        self.checks.add(&report.checks);
        self.last_auth = report.auth;
        self.dev.cpe.life.session_ended(report.is_ok());
        let label = report.label();
        if label != outcome {
            return Err(format!(
                "session {} ended {}{}, expected {outcome}",
                self.dev.session,
                label,
                report
                    .outcome
                    .as_ref()
                    .err()
                    .map_or(String::new(), |e| format!(" ({e})"))
            ));
        }
        if let (Some(want), Err(e)) = (retry_after, &report.outcome) {
            if e.retry_after().is_some() != want {
                return Err(format!(
                    "the ACS's {label} came {} Retry-After",
                    if want { "without" } else { "with" }
                ));
            }
        }
        self.effects().await;
        self.sync_udp_credentials();
        Ok(())
    }
}

/// The device's ConnectionRequestUsername/Password now.
pub(super) fn cr_credentials(cpe: &mut Cpe) -> (String, String) {
    let root = cpe.template.root().to_string();
    cpe.with_view(|v| {
        let get = |p: &str| {
            v.get(&format!("{root}ManagementServer.{p}"))
                .map(|x| x.value)
                .unwrap_or_default()
        };
        (
            get("ConnectionRequestUsername"),
            get("ConnectionRequestPassword"),
        )
    })
}
