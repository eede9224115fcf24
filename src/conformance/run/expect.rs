//! Expectations on what the ACS sent, HTTP steps against the ACS, and overload.

use super::*;

impl Run<'_> {
    pub(super) async fn expect(&mut self, e: &ExpectStep) -> Result<(), String> {
        let matches = |run: &Run<'_>| -> Vec<Seen> {
            run.dev
                .seen
                .iter()
                .filter(|s| s.session >= run.window && s.name == e.rpc.0)
                .filter(|s| run.satisfies(s, e))
                .cloned()
                .collect()
        };
        let mut found = matches(self);
        loop {
            let sessions_in_window = (self.dev.session + 1).saturating_sub(self.window);
            // Found ends the wait (for `absent` too: it has already failed).
            let enough = !found.is_empty() && found.len() >= e.min_count as usize;
            if enough || sessions_in_window >= e.within_sessions {
                break;
            }
            // The ACS has more sessions to do it in: the device informs again (what is
            // pending, else a periodic inform).
            self.session(None, None, "ok", None).await?;
            found = matches(self);
        }
        self.window_open = false;
        let what = || {
            let mut s = e.rpc.0.to_string();
            for (k, c) in e.params.iter().chain(e.fields.iter()) {
                s.push_str(&format!(" {k} {}", c.describe()));
            }
            s
        };
        if e.absent {
            return match found.first() {
                Some(s) => Err(format!(
                    "the ACS sent {} in session {} (it must not)",
                    what(),
                    s.session
                )),
                None => Ok(()),
            };
        }
        if found.len() < e.min_count as usize || (e.min_count > 0 && found.is_empty()) {
            let got: Vec<&str> = self
                .dev
                .seen
                .iter()
                .filter(|s| s.session >= self.window)
                .map(|s| s.name)
                .collect();
            return Err(format!(
                "expected {} within {} session(s); the ACS sent {:?}",
                what(),
                e.within_sessions,
                got
            ));
        }
        if let Some(max) = e.max_count {
            let n = self
                .dev
                .seen
                .iter()
                .filter(|s| s.session >= self.window && s.name == e.rpc.0)
                .filter(|s| self.satisfies(s, e))
                .count();
            if n > max as usize {
                return Err(format!(
                    "the ACS sent {} {n} times (at most {max})",
                    e.rpc.0
                ));
            }
        }
        for (var, from) in &e.capture {
            let v = found
                .first()
                .and_then(|first| lookup(first, from))
                .ok_or_else(|| format!("capture {var}: {from} is not in the {}", e.rpc.0))?;
            self.captured.insert(var.clone(), v.to_string());
        }
        Ok(())
    }

    pub(super) fn satisfies(&self, s: &Seen, e: &ExpectStep) -> bool {
        let x = |v: &str| self.expand(v);
        let check = |map: &BTreeMap<String, Cond>, list: &[(String, String)]| {
            map.iter().all(|(k, c)| {
                let k = self.expand(k);
                let v = list.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
                c.holds(v, &x)
            })
        };
        check(&e.params, &s.params) && check(&e.fields, &s.fields)
    }

    pub(super) async fn http(&mut self, h: &HttpStep) -> Result<(), String> {
        let url = self.expand(&h.url);
        let body = h
            .body
            .as_deref()
            .map(|b| self.expand(b))
            .unwrap_or_default();
        let method = h.method.clone();
        // A device the ACS has not recorded yet (RECORD_WAIT says why) answers 404 for a
        // moment after its session: asked again until the wait is over, unless 404 is expected.
        let retry_404 = url.contains("/devices/") && !h.expect_status.contains(&404);
        let call = {
            let url = url.clone();
            let creds = self.credentials.clone();
            tokio::spawn(async move {
                until_recorded(
                    || http_call(&method, &url, &body, creds.as_ref()),
                    |a| !(retry_404 && matches!(a, Ok((404, _)))),
                )
                .await
            })
        };
        // A connection request makes the ACS wait for the session it triggers before it
        // answers (GenieACS: 200 with the task done in it): the device must not wait for it.
        if url.contains("connection_request") {
            self.pending = Some((url, h.clone(), call));
            return Ok(());
        }
        let answer = call.await.map_err(|e| e.to_string())?;
        self.http_answer(&url, h, answer)
    }

    /// Waits for the NBI call in flight (if any) and checks its answer.
    pub(super) async fn join_pending(&mut self) -> Result<(), String> {
        let Some((url, h, call)) = self.pending.take() else {
            return Ok(());
        };
        let answer = call.await.map_err(|e| e.to_string())?;
        self.http_answer(&url, &h, answer)
    }

    pub(super) fn http_answer(
        &self,
        url: &str,
        h: &HttpStep,
        answer: Result<(u16, String), String>,
    ) -> Result<(), String> {
        let (status, text) = answer.map_err(|e| format!("{} {url}: {e}", h.method))?;
        let ok = if h.expect_status.is_empty() {
            (200..300).contains(&status)
        } else {
            h.expect_status.contains(&status)
        };
        if !ok {
            return Err(format!(
                "{} {url} answered {status}, expected {:?}",
                h.method,
                if h.expect_status.is_empty() {
                    vec![200]
                } else {
                    h.expect_status.clone()
                }
            ));
        }
        if let Some(want) = &h.body_contains {
            let want = self.expand(want);
            if !text.contains(&want) {
                return Err(format!(
                    "{} {url}: the answer does not contain {want:?}",
                    h.method
                ));
            }
        }
        Ok(())
    }

    /// Opens sessions of other devices (Inform answered, then left open).
    pub(super) async fn overload(&mut self, n: u32) -> Result<(), String> {
        let ep = Endpoint::parse(&self.opts.acs_url).map_err(|e| e.to_string())?;
        for k in 0..n {
            let index = self.dev.cpe.device.index().wrapping_add(7_000_000 + k);
            let mut dev = Device::new(index);
            let inform = {
                let env = crate::device::Env {
                    seed: 1,
                    now: now(),
                    cr_url_base: "",
                    udp: None,
                };
                let v = crate::device::DeviceView::new(&self.dev.cpe.template, &mut dev, &env);
                v.inform(
                    vec![EventStruct {
                        code: EventCode::Periodic,
                        command_key: String::new(),
                    }],
                    0,
                )
            };
            let mut body = Vec::new();
            encode_cpe(
                &Envelope::new(
                    CwmpVersion::V1_0,
                    Header::with_id(format!("load-{k}")),
                    CpeMessage::Request(CpeRequest::Inform(inform)),
                ),
                &mut body,
            );
            let mut conn = plain_connector()
                .connect(&ep, None)
                .await
                .map_err(|e| e.to_string())?;
            let creds = self.credentials.clone();
            let resp = post(&mut conn, &ep, &body, None, creds.as_ref()).await?;
            let cookie = resp
                .headers
                .get(SET_COOKIE)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(';').next().unwrap_or("").to_string());
            match (resp.status.as_u16(), cookie) {
                (200, Some(c)) => self.overload.push((conn, c)),
                (st, _) => return Err(format!("overload session {k}: the ACS answered {st}")),
            }
        }
        Ok(())
    }

    /// Ends the sessions `overload` opened (empty POST, whatever the answer).
    pub(super) async fn release(&mut self) {
        let Ok(ep) = Endpoint::parse(&self.opts.acs_url) else {
            return;
        };
        for (mut conn, cookie) in std::mem::take(&mut self.overload) {
            let _ = post(&mut conn, &ep, b"", Some(&cookie), None).await;
        }
    }
}

impl Cpe {
    /// Reads the device without changing it (a copy of the record; device records are small).
    pub(super) fn with_view_ref<R>(
        &self,
        f: impl FnOnce(&crate::device::DeviceView<'_>) -> R,
    ) -> R {
        let mut d = self.device.clone();
        let env = crate::device::Env {
            seed: self.seed,
            now: self.now,
            cr_url_base: &self.cr_url_base,
            udp: None,
        };
        let v = crate::device::DeviceView::new(&self.template, &mut d, &env);
        f(&v)
    }
}

pub(super) fn lookup<'a>(s: &'a Seen, name: &str) -> Option<&'a str> {
    s.fields
        .iter()
        .chain(s.params.iter())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
