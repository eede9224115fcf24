//! Checks of a parsed policy beyond what serde checks.

use super::*;

fn bad<T>(m: String) -> Result<T, PolicyError> {
    Err(PolicyError::Invalid(m))
}

fn share_ok(s: f64) -> bool {
    (0.0..=100.0).contains(&s)
}

impl PolicySpec {
    pub(super) fn validate(&self) -> Result<(), PolicyError> {
        let files = self.validate_files()?;
        if let Some(b) = &self.bootstrap {
            validate_bootstrap(b)?;
        }
        let mut names = HashSet::new();
        for t in &self.tasks {
            self.validate_task(t, &files, &mut names)?;
        }
        if let Some(w) = &self.firmware_wave {
            validate_wave(w, &files)?;
        }
        if let Some(c) = &self.connection_requests {
            validate_crs(c)?;
        }
        if self.max_concurrent_sessions == Some(0) {
            return bad("max_concurrent_sessions must be > 0".into());
        }
        Ok(())
    }

    /// The declared files' names, each checked and declared once.
    fn validate_files(&self) -> Result<HashSet<&str>, PolicyError> {
        let mut files: HashSet<&str> = HashSet::new();
        for f in &self.files {
            check_file(&f.name, &f.size)?;
            if !files.insert(f.name.as_str()) {
                return bad(format!("file {:?} is declared twice", f.name));
            }
        }
        Ok(files)
    }

    fn validate_task<'a>(
        &self,
        t: &'a TaskSpec,
        files: &HashSet<&str>,
        names: &mut HashSet<&'a str>,
    ) -> Result<(), PolicyError> {
        if t.name.is_empty() || !names.insert(t.name.as_str()) {
            return bad(format!("task name {:?} is empty or used twice", t.name));
        }
        if matches!(
            t.name.as_str(),
            "discovery" | "provisioning" | "firmware_wave"
        ) {
            return bad(format!("task name {:?} is reserved", t.name));
        }
        if !share_ok(t.share) {
            return bad(format!(
                "task {:?}: share {} is not in 0..=100",
                t.name, t.share
            ));
        }
        if t.rpcs.is_empty() {
            return bad(format!("task {:?} has no rpcs", t.name));
        }
        for r in &t.rpcs {
            self.validate_rpc(t, r, files)?;
        }
        Ok(())
    }

    fn validate_rpc(
        &self,
        t: &TaskSpec,
        r: &RpcSpec,
        files: &HashSet<&str>,
    ) -> Result<(), PolicyError> {
        match r {
            RpcSpec::Download(d) => match (&d.file, &d.url) {
                (Some(f), _) => {
                    let wave = self.firmware_wave.as_ref().is_some_and(|w| w.file == *f);
                    if !files.contains(f.as_str()) && !wave {
                        return bad(format!(
                            "task {:?}: Download file {f:?} is not in files:",
                            t.name
                        ));
                    }
                }
                (None, Some(_)) => {}
                (None, None) => {
                    return bad(format!("task {:?}: Download needs file or url", t.name))
                }
            },
            RpcSpec::SetParameterValues(m) => {
                for (n, v) in m {
                    if let ValueSpec::Typed(TypedValue { kind: Some(k), .. }) = v {
                        if kind_of_name(k) == XsdType::Other {
                            return bad(format!("task {:?}: {n}: unknown type {k:?}", t.name));
                        }
                    }
                }
            }
            RpcSpec::SetParameterAttributes(l)
                if l.iter().any(|a| a.notification.is_some_and(|n| n > 6)) =>
            {
                return bad(format!("task {:?}: notification is 0..=6", t.name));
            }
            RpcSpec::ScheduleDownload(d) => self.validate_schedule_download(t, d, files)?,
            RpcSpec::ChangeDUState(ops) => self.validate_change_du_state(t, ops, files)?,
            RpcSpec::ScheduleInform(s) if s.delay_seconds == 0 => {
                return bad(format!(
                    "task {:?}: ScheduleInform delay_seconds must be > 0",
                    t.name
                ))
            }
            _ => {}
        }
        Ok(())
    }

    /// What the CPE would answer 9003 is refused here: one or two ordered windows with known
    /// modes (TR-069 A.4.1.8); the file served or a URL.
    fn validate_schedule_download(
        &self,
        t: &TaskSpec,
        d: &ScheduleDownloadSpec,
        files: &HashSet<&str>,
    ) -> Result<(), PolicyError> {
        self.served(t, "ScheduleDownload", &d.file, &d.url, files)?;
        let windows: Vec<crate::cwmp::TimeWindowStruct> = d
            .windows
            .iter()
            .map(|w| crate::cwmp::TimeWindowStruct {
                window_start: w.start,
                window_end: w.end,
                window_mode: w.mode.clone(),
                user_message: String::new(),
                max_retries: w.max_retries,
            })
            .collect();
        if crate::device::window::validate(&windows).is_err() {
            return bad(format!(
                "task {:?}: ScheduleDownload windows: one or two, start <= end, not \
                 overlapping, mode 1 At Any Time / 2 Immediately / 3 When Idle / 4 \
                 Confirmation Needed, max_retries >= -1",
                t.name
            ));
        }
        Ok(())
    }

    /// At least one operation; an Install's (or an Update's) file served or a URL.
    fn validate_change_du_state(
        &self,
        t: &TaskSpec,
        ops: &[DuOpSpec],
        files: &HashSet<&str>,
    ) -> Result<(), PolicyError> {
        if ops.is_empty() {
            return bad(format!(
                "task {:?}: ChangeDUState has no operations",
                t.name
            ));
        }
        for op in ops {
            match op {
                DuOpSpec::Install(o) => {
                    self.served(t, "ChangeDUState install", &o.file, &o.url, files)?
                }
                DuOpSpec::Update(o) if o.file.is_some() => {
                    self.served(t, "ChangeDUState update", &o.file, &o.url, files)?
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// A transfer's source: a file of `files:` or a URL.
    fn served(
        &self,
        t: &TaskSpec,
        what: &str,
        file: &Option<String>,
        url: &Option<String>,
        files: &HashSet<&str>,
    ) -> Result<(), PolicyError> {
        match (file, url) {
            (Some(f), _) if !files.contains(f.as_str()) => bad(format!(
                "task {:?}: {what} file {f:?} is not in files:",
                t.name
            )),
            (None, None) => bad(format!("task {:?}: {what} needs file or url", t.name)),
            _ => Ok(()),
        }
    }
}

fn validate_bootstrap(b: &BootstrapSpec) -> Result<(), PolicyError> {
    if b.gpv_batch == 0 || b.gpv_batch > 1024 {
        return bad(format!(
            "bootstrap.gpv_batch {} is not in 1..=1024",
            b.gpv_batch
        ));
    }
    if b.next_level_depth > 16 {
        return bad("bootstrap.next_level_depth is at most 16".into());
    }
    Ok(())
}

fn validate_wave(w: &WaveSpec, files: &HashSet<&str>) -> Result<(), PolicyError> {
    check_file(&w.file, &w.size)?;
    if files.contains(w.file.as_str()) {
        return bad(format!("firmware_wave.file {:?} is also in files:", w.file));
    }
    if !share_ok(w.share) || !positive(w.rate) || w.start_after < 0.0 {
        return bad("firmware_wave: share 0..=100, rate > 0, start_after >= 0".into());
    }
    Ok(())
}

fn validate_crs(c: &CrSpec) -> Result<(), PolicyError> {
    if !share_ok(c.share)
        || !positive(c.rate)
        || c.start_after < 0.0
        || c.interval < 0.0
        || !(positive(c.timeout) && c.timeout <= 60.0)
        || c.max_in_flight == 0
    {
        return bad("connection_requests: share 0..=100, rate > 0, start_after >= 0, interval >= 0, timeout in (0, 60], max_in_flight > 0".into());
    }
    Ok(())
}

pub(super) fn positive(x: f64) -> bool {
    x > 0.0 && x.is_finite()
}

pub(super) fn check_file(name: &str, size: &Size) -> Result<(), PolicyError> {
    let n = size.bytes()?;
    if n > MAX_FILE_SIZE {
        return Err(PolicyError::Invalid(format!(
            "file {name:?}: {n} bytes is over the {MAX_FILE_SIZE}-byte limit"
        )));
    }
    if name.is_empty()
        || name.starts_with('/')
        || name.contains("..")
        || !name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_./".contains(&c))
    {
        return Err(PolicyError::Invalid(format!(
            "file name {name:?}: use letters, digits, '-', '_', '.', '/'"
        )));
    }
    Ok(())
}
