//! The scenario's `fleet.groups:` section: which devices, how many, and how they behave.

use std::path::PathBuf;
use std::time::Duration;

use super::file::GroupSpec;
use super::validate::{flag_err, Validator};
use super::{Overrides, ScenarioError};
use crate::cwmp::CwmpVersion;
use crate::device::AnswerLimit;

/// A device group.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub template: PathBuf,
    pub count: u32,
    pub version: Option<CwmpVersion>,
    pub bootstrapped: bool,
    pub username: Option<String>,
    pub password: Option<String>,
    pub reboot_time: Duration,
    pub periodic_interval: Option<Duration>,
    pub jitter: f64,
    pub apply_delay: Duration,
    pub download_failure_rate: f64,
    /// The WAN between these devices and the ACS.
    pub wan: crate::net::wan::WanModel,
    pub reset_rate: f64,
    pub slow_body_rate: f64,
    /// What one device builds in answer to one ACS request (9004 beyond).
    pub answer_limit: AnswerLimit,
    /// The network the group's diagnostic tests see.
    pub diagnostics: crate::device::diagnostics::DiagnosticsModel,
    /// How the ACS reaches the group's devices (HTTP, UDP with STUN, XMPP).
    pub cr: super::cr_transport::GroupCr,
    /// The XMPP side of a `transport: xmpp` group (TR-069 Annex K).
    pub xmpp: Option<super::xmpp::XmppPlan>,
}

impl Validator<'_> {
    /// Validates every group, then applies `--devices` and checks the fleet is not empty.
    pub(super) fn groups(
        &self,
        specs: &[GroupSpec],
        ov: &Overrides,
    ) -> Result<Vec<Group>, ScenarioError> {
        let mut groups = Vec::new();
        let mut names = std::collections::HashSet::new();
        for g in specs {
            if !names.insert(g.name.clone()) {
                return Err(self.err(&g.name, format!("group name {:?} is used twice", g.name)));
            }
            groups.push(self.group(g, ov)?);
        }
        if let Some(total) = ov.devices {
            if total == 0 || total > u64::from(u32::MAX) {
                return Err(flag_err(
                    "--devices",
                    format!("{total} devices: use 1 to {}", u32::MAX),
                ));
            }
            rescale(&mut groups, total);
        }
        let devices: u64 = groups.iter().map(|g| u64::from(g.count)).sum();
        if devices == 0 {
            return Err(self.err("count", "the fleet has no devices"));
        }
        Ok(groups)
    }

    /// One group, its defaults filled in.
    fn group(&self, g: &GroupSpec, ov: &Overrides) -> Result<Group, ScenarioError> {
        let template = self.resolve(&g.template);
        if !template.exists() {
            return Err(self.err(
                &g.template,
                format!("template {} not found", template.display()),
            ));
        }
        if g.count.0 > u64::from(u32::MAX) {
            return Err(self.err(&g.name, "a group holds at most 4294967295 devices"));
        }
        self.periodic_interval(g)?;
        let version = match g.cwmp_version.as_deref() {
            None => None,
            Some(v) => Some(CwmpVersion::parse(v).ok_or_else(|| {
                self.err(
                    v,
                    format!("cwmp_version {v:?}: use 1.0, 1.1, 1.2, 1.3 or 1.4"),
                )
            })?),
        };
        Ok(Group {
            name: g.name.clone(),
            template,
            count: g.count.0 as u32,
            version,
            bootstrapped: g.bootstrapped,
            // A flag beats the group's pattern.
            username: g.username.clone().filter(|_| ov.username.is_none()),
            password: g.password.clone().filter(|_| ov.password.is_none()),
            reboot_time: g.reboot_time.map_or(Duration::from_secs(30), |d| d.0),
            periodic_interval: g.periodic_interval.map(|d| d.0),
            jitter: g.jitter.map_or(0.0, |s| s.0),
            apply_delay: g
                .downloads
                .apply_delay
                .map_or(Duration::from_secs(5), |d| d.0),
            download_failure_rate: g.downloads.failure_rate.map_or(0.0, |s| s.0),
            wan: self.wan(g)?,
            reset_rate: g.impairments.reset_rate.map_or(0.0, |s| s.0),
            slow_body_rate: g.impairments.slow_body_rate.map_or(0.0, |s| s.0),
            answer_limit: self.answer_limit(g)?,
            diagnostics: g
                .diagnostics
                .model()
                .map_err(|m| self.err("diagnostics", m))?,
            cr: super::cr_transport::validate(
                self.src,
                self.origin,
                &g.name,
                g.connection_requests.as_ref(),
            )?,
            xmpp: self.group_xmpp(g)?,
        })
    }

    /// TR-069 PeriodicInformInterval is unsignedInt[1:] seconds: 0 made every device inform
    /// back to back (20 devices, 1,651 sessions/s). Located within the group.
    fn periodic_interval(&self, g: &GroupSpec) -> Result<(), ScenarioError> {
        let Some(d) = g.periodic_interval else {
            return Ok(());
        };
        if d.0 >= Duration::from_secs(1) && d.0.as_secs() <= u64::from(u32::MAX) {
            return Ok(());
        }
        Err(self.err_in(
            &g.name,
            "periodic_interval",
            format!(
                "periodic_interval {}: must be at least 1s (at most {}s)",
                crate::units::fmt_duration(d.0),
                u32::MAX
            ),
        ))
    }

    /// A group's `answer_limit:` over the defaults; a zero would fault every request.
    fn answer_limit(&self, g: &GroupSpec) -> Result<AnswerLimit, ScenarioError> {
        let mut limit = AnswerLimit::default();
        if let Some(n) = g.answer_limit.parameters {
            if n.0 == 0 || n.0 > u64::from(u32::MAX) {
                return Err(self.err(
                    "parameters",
                    format!("answer_limit.parameters {}: use 1 to 4294967295", n.0),
                ));
            }
            limit.parameters = n.0 as u32;
        }
        if let Some(b) = g.answer_limit.bytes {
            if b.0 < crate::device::ENTRY_OVERHEAD {
                return Err(self.err(
                    "bytes",
                    format!(
                        "answer_limit.bytes {}: at least {} (one list entry)",
                        b.0,
                        crate::device::ENTRY_OVERHEAD
                    ),
                ));
            }
            limit.bytes = b.0;
        }
        Ok(limit)
    }
}

/// Rescales group counts to `total`, proportionally, exactly (largest remainders).
fn rescale(groups: &mut [Group], total: u64) {
    let old: u64 = groups
        .iter()
        .map(|g| u64::from(g.count))
        .sum::<u64>()
        .max(1);
    let mut assigned = 0u64;
    let mut rema: Vec<(u64, usize)> = Vec::new();
    for (i, g) in groups.iter_mut().enumerate() {
        let exact = u128::from(g.count) * u128::from(total);
        let q = (exact / u128::from(old)) as u64;
        rema.push(((exact % u128::from(old)) as u64, i));
        g.count = q.min(u64::from(u32::MAX)) as u32;
        assigned += q;
    }
    rema.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in rema
        .into_iter()
        .take(total.saturating_sub(assigned) as usize)
    {
        groups[i].count = groups[i].count.saturating_add(1);
    }
}
